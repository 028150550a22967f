// Plan view: the plan table, "no changes", and the summary of an apply.
#include "tilectl/plan_view.hpp"

#include <gtest/gtest.h>

namespace tilehv::tilectl {
namespace {

nlohmann::json sample_plan() {
  return nlohmann::json::parse(R"({
    "steps": [
      {"partition": "old", "action": "destroy", "reason": "no longer in the policy", "changes": []},
      {"partition": "web", "action": "restart", "reason": "changed: image", "changes": ["image", "cpu_weight"]},
      {"partition": "new", "action": "create", "reason": "new in the policy", "changes": []},
      {"partition": "db", "action": "unchanged", "reason": "", "changes": []}
    ],
    "tile_changed": true, "tile_changes": ["tile.sensors", "channels"]})");
}

TEST(RenderPlan, ShowsEveryStepWithItsReasonAndChangedFields) {
  EXPECT_EQ(render_plan(sample_plan()),
            "PARTITION  ACTION     REASON                   CHANGES\n"
            "old        destroy    no longer in the policy  -\n"
            "web        restart    changed: image           image, cpu_weight\n"
            "new        create     new in the policy        -\n"
            "db         unchanged  -                        -\n"
            "tile: settings change: tile.sensors, channels\n");
}

TEST(RenderPlan, NothingToDoSaysNoChanges) {
  const auto plan = nlohmann::json::parse(
      R"({"steps": [{"partition": "db", "action": "unchanged", "reason": "", "changes": []}],
          "tile_changed": false, "tile_changes": []})");
  EXPECT_TRUE(plan_is_empty(plan));
  EXPECT_EQ(render_plan(plan), "no changes\n");
  EXPECT_FALSE(plan_is_empty(sample_plan()));
}

TEST(RenderPlan, AMalformedAnswerDoesNotThrow) {
  EXPECT_EQ(render_plan(nlohmann::json::array()), "no changes\n");
  const auto odd = nlohmann::json::parse(R"({"steps": [{"partition": 7, "action": null}, 3], "tile_changed": "yes"})");
  EXPECT_NO_THROW((void)render_plan(odd));
  EXPECT_NO_THROW((void)render_applied(odd));
}

TEST(RenderApplied, SaysWhatWasDoneAndCountsIt) {
  auto applied = sample_plan();
  applied["applied"] = true;
  EXPECT_EQ(render_applied(applied),
            "destroyed old: no longer in the policy\n"
            "restarted web: changed: image\n"
            "created new: new in the policy\n"
            "tile: settings changed: tile.sensors, channels\n"
            "applied: 1 created, 1 restarted, 1 destroyed, 1 unchanged\n");
}

}  // namespace
}  // namespace tilehv::tilectl
