// The plan: what applying a policy does to each partition, and why.
#include "policy/plan.hpp"

#include <gtest/gtest.h>

#include "policy/loader.hpp"
#include "unit/partitions/policy/policy_files.hpp"

namespace tilehv::policy {
namespace {

Policy valid_policy() {
  auto loaded = load_policy_file(testing::data_dir() / "valid/base.json");
  if (!loaded) throw std::runtime_error(format(loaded.error()));
  return std::move(*loaded);
}

const std::set<std::string> kAllRunning = {"logger", "controller", "aggregator"};

const PlanStep& step_of(const Plan& plan, const std::string& partition) {
  for (const PlanStep& step : plan.steps) {
    if (step.partition == partition) return step;
  }
  throw std::runtime_error("no step for " + partition);
}

TEST(PolicyPlan, NothingAppliedCreatesEverything) {
  const Policy desired = valid_policy();
  const Plan plan = make_plan(nullptr, desired, {});
  ASSERT_EQ(plan.steps.size(), 3U);
  for (const PlanStep& step : plan.steps) EXPECT_EQ(step.action, Action::kCreate);
  EXPECT_TRUE(plan.tile_changed);
  EXPECT_FALSE(plan.empty());
}

TEST(PolicyPlan, TheSamePolicyRunningIsUnchanged) {
  const Policy policy = valid_policy();
  const Plan plan = make_plan(&policy, policy, kAllRunning);
  for (const PlanStep& step : plan.steps) EXPECT_EQ(step.action, Action::kUnchanged) << step.partition;
  EXPECT_FALSE(plan.tile_changed);
  EXPECT_TRUE(plan.empty());
}

TEST(PolicyPlan, APartitionNotRunningIsRestarted) {
  const Policy policy = valid_policy();
  const Plan plan = make_plan(&policy, policy, {"logger", "aggregator"});
  const PlanStep& step = step_of(plan, "controller");
  EXPECT_EQ(step.action, Action::kRestart);
  EXPECT_EQ(step.reason, "not running");
}

TEST(PolicyPlan, WhatTheVmmIsBuiltFromNeedsARestart) {
  const Policy applied = valid_policy();
  Policy desired = valid_policy();
  desired.partitions[0].memory_bytes *= 2;
  desired.partitions[0].sha256 = std::string(64, 'a');
  desired.partitions[1].rng = false;
  desired.partitions[2].network->mtu = 9000;
  const Plan plan = make_plan(&applied, desired, kAllRunning);
  EXPECT_EQ(step_of(plan, "logger").action, Action::kRestart);
  EXPECT_EQ(step_of(plan, "logger").reason, "changed: sha256, memory");
  EXPECT_EQ(step_of(plan, "logger").changes, (std::vector<std::string>{"sha256", "memory"}));
  EXPECT_EQ(step_of(plan, "controller").reason, "changed: devices.rng");
  EXPECT_EQ(step_of(plan, "aggregator").reason, "changed: devices.network.mtu");
}

TEST(PolicyPlan, SensorRateBoundsAndTheConsoleLimitAreSetWhenTheVmmStarts) {
  const Policy applied = valid_policy();
  Policy desired = valid_policy();
  desired.partitions[0].sensors[0].rate_hz = RateBoundsHz{1, 2};
  desired.partitions[1].console_limit_bytes = 4096;
  const Plan plan = make_plan(&applied, desired, kAllRunning);
  EXPECT_EQ(step_of(plan, "logger").action, Action::kRestart);
  EXPECT_EQ(step_of(plan, "logger").reason, "changed: devices.sensors.rateHz");
  EXPECT_EQ(step_of(plan, "controller").reason, "changed: devices.console.limit");
}

TEST(PolicyPlan, AChannelGainedMeansAVsockDeviceAndARestart) {
  const Policy applied = valid_policy();
  Policy desired = valid_policy();
  desired.channels.erase(desired.channels.begin() + 1);  // the controller's only channel
  const Plan plan = make_plan(&applied, desired, kAllRunning);
  EXPECT_EQ(step_of(plan, "controller").action, Action::kRestart);
  EXPECT_EQ(step_of(plan, "controller").changes, std::vector<std::string>{"devices.vsock"});
  EXPECT_EQ(step_of(plan, "logger").action, Action::kUnchanged);
  EXPECT_EQ(plan.tile_changes, std::vector<std::string>{"channels"});
}

TEST(PolicyPlan, SettingsOfARunningVmmAreUpdatedInPlace) {
  const Policy applied = valid_policy();
  Policy desired = valid_policy();
  desired.partitions[0].cpu_weight = 500;
  desired.partitions[2].network->allow_peers = std::vector<std::string>{"logger"};
  desired.partitions[1].restart.policy = RestartPolicy::kAlways;
  const Plan plan = make_plan(&applied, desired, kAllRunning);
  EXPECT_EQ(step_of(plan, "logger").action, Action::kUpdateInPlace);
  EXPECT_EQ(step_of(plan, "logger").changes, (std::vector<std::string>{"cpu.weight"}));
  EXPECT_EQ(step_of(plan, "controller").reason, "changed in place: restart");
  EXPECT_EQ(step_of(plan, "aggregator").changes, std::vector<std::string>{"devices.network.allowPeers"});
}

TEST(PolicyPlan, PinningAPartitionMovesTheSharedOnesInPlace) {
  const Policy applied = valid_policy();
  Policy desired = valid_policy();
  desired.partitions[1].cpus = {2, 3};  // the shared partitions keep only CPU 1
  const Plan plan = make_plan(&applied, desired, kAllRunning);
  EXPECT_EQ(step_of(plan, "controller").changes, std::vector<std::string>{"cpu.cpus"});
  EXPECT_EQ(step_of(plan, "logger").changes, std::vector<std::string>{"cpu.cpus"});
  EXPECT_EQ(step_of(plan, "logger").action, Action::kUpdateInPlace);
}

TEST(PolicyPlan, StepsFreeBeforeTheyTake) {
  const Policy applied = valid_policy();
  Policy desired = valid_policy();
  desired.partitions[0].name = "logger-2";      // logger destroyed, logger-2 created
  desired.partitions[1].cpu_weight = 7;          // update
  desired.partitions[2].memory_bytes = 8U << 20;  // restart
  const Plan plan = make_plan(&applied, desired, kAllRunning);
  ASSERT_EQ(plan.steps.size(), 4U);
  EXPECT_EQ(plan.steps[0].action, Action::kDestroy);
  EXPECT_EQ(plan.steps[0].partition, "logger");
  EXPECT_EQ(plan.steps[1].action, Action::kUpdateInPlace);
  EXPECT_EQ(plan.steps[2].action, Action::kRestart);
  EXPECT_EQ(plan.steps[3].action, Action::kCreate);
  EXPECT_EQ(plan.steps[3].partition, "logger-2");
}

TEST(PolicyPlan, ActionNames) {
  EXPECT_EQ(action_name(Action::kCreate), "create");
  EXPECT_EQ(action_name(Action::kUpdateInPlace), "update");
  EXPECT_EQ(action_name(Action::kRestart), "restart");
  EXPECT_EQ(action_name(Action::kDestroy), "destroy");
  EXPECT_EQ(action_name(Action::kUnchanged), "unchanged");
}

TEST(PolicyPlan, TileChangesAreListed) {
  const Policy applied = valid_policy();
  Policy desired = valid_policy();
  desired.tile.sensors[0].source.seed = 99;
  desired.tile.uplink_tap = "tap0";
  const Plan plan = make_plan(&applied, desired, kAllRunning);
  EXPECT_EQ(plan.tile_changes, (std::vector<std::string>{"tile.sensors", "tile.uplink"}));
  EXPECT_TRUE(plan.tile_changed);
}

}  // namespace
}  // namespace tilehv::policy
