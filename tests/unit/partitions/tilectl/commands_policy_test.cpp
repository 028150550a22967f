// Policy commands against a real HTTP server with canned answers: what is sent, what is printed,
// and the exit codes of valid, invalid and failed policies.
#include <gtest/gtest.h>

#include "tilectl/commands.hpp"
#include "tilectl/policy_file.hpp"
#include "tilectl_test_support.hpp"

namespace tilehv::tilectl {
namespace {

using testing::CannedDaemon;
using testing::run;

const char* const kPolicy = "partitions:\n  - name: web\n    image: web.elf\n";

nlohmann::json restart_plan() {
  return {{"steps",
           {{{"partition", "web"}, {"action", "restart"}, {"reason", "changed: image"}, {"changes", {"image"}}},
            {{"partition", "db"}, {"action", "unchanged"}, {"reason", ""}, {"changes", nlohmann::json::array()}}}},
          {"tile_changed", false},
          {"tile_changes", nlohmann::json::array()}};
}

nlohmann::json invalid_policy() {
  return {{"code", "invalid_policy"},
          {"message", "the policy has 2 errors; the first: ..."},
          {"errors",
           {{{"file", "tile.yaml"}, {"line", 3}, {"column", 12}, {"path", "partitions[0].memory"}, {"found", "\"64X\""},
             {"expected", "a size such as 64M or 1G"}, {"check", "schema"},
             {"message", "tile.yaml:3:12: partitions[0].memory: found \"64X\", expected a size such as 64M or 1G [schema]"}},
            {{"file", "tile.yaml"}, {"line", 5}, {"column", 3}, {"path", "partitions[1].name"}, {"found", "\"web\""},
             {"expected", "a name no other partition has"}, {"check", "unique-names"}}}}};
}

TEST(ValidateCommand, SendsTheFileWithItsNameFolderAndFormat) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/validate", 200, {{"valid", true}, {"partitions", 2}});
  daemon.start();
  const std::string file = daemon.write_file("a&b tile.yaml", kPolicy);
  const auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return validate_command(s, file); });
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(result.out, file + ": valid (2 partitions)\n");
  const auto seen = daemon.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].query.at("name"), "a&b tile.yaml");
  EXPECT_EQ(seen[0].query.at("base_dir"), daemon.dir().string());
  EXPECT_EQ(seen[0].query.at("format"), "yaml");
  EXPECT_EQ(seen[0].content_type, "application/yaml");
  EXPECT_EQ(seen[0].body, kPolicy);
}

TEST(ValidateCommand, JsonFilesAreSentAsJson) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/validate", 200, {{"valid", true}, {"partitions", 0}});
  daemon.start();
  const std::string file = daemon.write_file("tile.json", "{}");
  const auto result = run(daemon.socket(), OutputFormat::kJson, [&](Session& s) { return validate_command(s, file); });
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_EQ(nlohmann::json::parse(result.out), (nlohmann::json{{"valid", true}, {"partitions", 0}}));
  EXPECT_EQ(daemon.requests().at(0).query.at("format"), "json");
  EXPECT_EQ(daemon.requests().at(0).content_type, "application/json");
}

TEST(ValidateCommand, PrintsEveryDiagnosticAndFails) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/validate", 422, invalid_policy());
  daemon.start();
  const std::string file = daemon.write_file("tile.yaml", kPolicy);
  const auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return validate_command(s, file); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "tile.yaml:3:12: partitions[0].memory: found \"64X\", expected a size such as 64M or 1G [schema]\n"
            // Without a formatted message the line is built from the fields.
            "tile.yaml:5:3: partitions[1].name: found \"web\", expected a name no other partition has [unique-names]\n"
            "tile.yaml: invalid (2 errors)\n");
}

TEST(ValidateCommand, WithJsonOutputTheErrorBodyGoesToStdout) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/validate", 422, invalid_policy());
  daemon.start();
  const std::string file = daemon.write_file("tile.yaml", kPolicy);
  const auto result = run(daemon.socket(), OutputFormat::kJson, [&](Session& s) { return validate_command(s, file); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(nlohmann::json::parse(result.out), invalid_policy());
}

TEST(ValidateCommand, AnInvalidPolicyWithoutDiagnosticsPrintsTheMessage) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/validate", 422, {{"code", "invalid_policy"}, {"message", "port web is granted twice"}});
  daemon.start();
  const std::string file = daemon.write_file("tile.json", "{}");
  const auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return validate_command(s, file); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.err, "tilectl: error: server answered 422 (invalid_policy): port web is granted twice\n");
}

TEST(ValidateCommand, AMissingFileFailsWithoutAsking) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/validate", 200, {{"valid", true}, {"partitions", 0}});
  daemon.start();
  const std::string file = (daemon.dir() / "absent.yaml").string();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return validate_command(s, file); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.err, "tilectl: error: cannot open " + file + ": No such file or directory\n");
  EXPECT_TRUE(daemon.requests().empty());
}

TEST(ValidateCommand, TooLargeAndEmptyFilesAreRefusedHere) {
  CannedDaemon daemon;
  daemon.start();
  const std::string big = daemon.write_file("big.json", std::string(kMaxPolicyBytes + 1, ' '));
  const std::string empty = daemon.write_file("empty.json", "");
  auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return validate_command(s, big); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_NE(result.err.find("is larger than 1048576 bytes"), std::string::npos) << result.err;
  result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return validate_command(s, empty); });
  EXPECT_EQ(result.err, "tilectl: error: " + empty + " is empty\n");
  result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return validate_command(s, daemon.dir().string()); });
  EXPECT_NE(result.err.find("is a directory"), std::string::npos) << result.err;
  EXPECT_TRUE(daemon.requests().empty());
}

TEST(PlanCommand, PrintsTheTable) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/plan", 200, restart_plan());
  daemon.start();
  const std::string file = daemon.write_file("tile.yaml", kPolicy);
  const auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return plan_command(s, file); });
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_EQ(result.out,
            "PARTITION  ACTION     REASON          CHANGES\n"
            "web        restart    changed: image  image\n"
            "db         unchanged  -               -\n");
}

TEST(PlanCommand, JsonOutputIsTheServersPlan) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/plan", 200, restart_plan());
  daemon.start();
  const std::string file = daemon.write_file("tile.yaml", kPolicy);
  const auto result = run(daemon.socket(), OutputFormat::kJson, [&](Session& s) { return plan_command(s, file); });
  EXPECT_EQ(result.out, restart_plan().dump(2) + "\n");
}

class ApplyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_.answer("POST", "/v1/policy/plan", 200, restart_plan());
    auto applied = restart_plan();
    applied["applied"] = true;
    daemon_.answer("POST", "/v1/policy/apply", 200, applied);
    daemon_.start();
    file_ = daemon_.write_file("tile.yaml", kPolicy);
  }
  CannedDaemon daemon_;
  std::string file_;
};

TEST_F(ApplyCommandTest, RefusesWithoutATerminalAndWithoutYes) {
  const auto result = run(daemon_.socket(), OutputFormat::kTable, [&](Session& s) { return apply_command(s, file_, false); },
                          "y\n", /*interactive=*/false);
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_EQ(result.err, "tilectl: error: not applying " + file_ +
                            ": there is no terminal to confirm on; pass --yes to apply without asking\n");
  EXPECT_EQ(daemon_.count("/v1/policy/apply"), 0u);
}

TEST_F(ApplyCommandTest, ShowsThePlanAndAppliesWhenConfirmed) {
  const auto result = run(daemon_.socket(), OutputFormat::kTable, [&](Session& s) { return apply_command(s, file_, false); },
                          "y\n", /*interactive=*/true);
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(result.out,
            "PARTITION  ACTION     REASON          CHANGES\n"
            "web        restart    changed: image  image\n"
            "db         unchanged  -               -\n"
            "Apply these changes? [y/N] "
            "restarted web: changed: image\n"
            "applied: 1 restarted, 1 unchanged\n");
  EXPECT_EQ(daemon_.count("/v1/policy/apply"), 1u);
  EXPECT_EQ(daemon_.requests().back().body, kPolicy);
}

TEST_F(ApplyCommandTest, DeclinedChangesAreNotApplied) {
  const auto result = run(daemon_.socket(), OutputFormat::kTable, [&](Session& s) { return apply_command(s, file_, false); },
                          "n\n", /*interactive=*/true);
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.err, "tilectl: error: not applied: the changes were not confirmed\n");
  EXPECT_EQ(daemon_.count("/v1/policy/apply"), 0u);
}

TEST_F(ApplyCommandTest, YesAppliesWithoutAsking) {
  const auto result = run(daemon_.socket(), OutputFormat::kTable, [&](Session& s) { return apply_command(s, file_, true); });
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(result.out.find("[y/N]"), std::string::npos);
  EXPECT_NE(result.out.find("PARTITION  ACTION"), std::string::npos) << "the plan is shown first";
  EXPECT_NE(result.out.find("applied: 1 restarted"), std::string::npos);
}

TEST_F(ApplyCommandTest, JsonWithYesPrintsOnlyTheApplyAnswer) {
  const auto result = run(daemon_.socket(), OutputFormat::kJson, [&](Session& s) { return apply_command(s, file_, true); });
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_EQ(nlohmann::json::parse(result.out).value("applied", false), true);
  EXPECT_EQ(daemon_.count("/v1/policy/plan"), 0u);
}

TEST(ApplyCommand, NoChangesNeedNoQuestion) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/plan", 200, {{"steps", nlohmann::json::array()}, {"tile_changed", false}});
  daemon.answer("POST", "/v1/policy/apply", 200, {{"applied", true}});
  daemon.start();
  const std::string file = daemon.write_file("tile.yaml", kPolicy);
  const auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return apply_command(s, file, false); }, "",
                          /*interactive=*/true);
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_EQ(result.out, "no changes\n");
  EXPECT_EQ(daemon.count("/v1/policy/apply"), 0u);
}

TEST(ApplyCommand, AFailedApplyPrintsTheRollbackAndFails) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/plan", 200, restart_plan());
  daemon.answer("POST", "/v1/policy/apply", 409,
                {{"code", "apply_failed"},
                 {"message", "partition web did not start: no answer within 10000 ms; everything the apply changed was rolled back"},
                 {"partition", "web"},
                 {"rolled_back", true}});
  daemon.start();
  const std::string file = daemon.write_file("tile.yaml", kPolicy);
  const auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return apply_command(s, file, true); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.err,
            "tilectl: error: server answered 409 (apply_failed): partition web did not start: no answer within 10000 ms; "
            "everything the apply changed was rolled back\n");
}

TEST(ApplyCommand, AnInvalidPolicyStopsAtThePlan) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/plan", 422, invalid_policy());
  daemon.answer("POST", "/v1/policy/apply", 200, {{"applied", true}});
  daemon.start();
  const std::string file = daemon.write_file("tile.yaml", kPolicy);
  const auto result = run(daemon.socket(), OutputFormat::kTable, [&](Session& s) { return apply_command(s, file, true); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_NE(result.err.find("tile.yaml: invalid (2 errors)"), std::string::npos) << result.err;
  EXPECT_EQ(daemon.count("/v1/policy/apply"), 0u);
}

}  // namespace
}  // namespace tilehv::tilectl
