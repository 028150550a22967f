// Partition view: the list table, the description and operation results.
#include "tilectl/partition_view.hpp"

#include <gtest/gtest.h>

#include "tilectl/event_view.hpp"
#include "tilectl_test_support.hpp"

namespace tilehv::tilectl {
namespace {

using testing::batch_view;
using testing::web_view;

TEST(RenderPartitionTable, HumanUnitsAndDashesForWhatIsNotThere) {
  EXPECT_EQ(render_partition_table(nlohmann::json::array({web_view(), batch_view()})),
            "NAME   STATE    PID   VCPUS  MEMORY   RESTARTS  UPTIME\n"
            "web    running  4242  2      256 MiB  1         1h02m\n"
            "batch  stopped  -     1      96 MiB   0         -\n");
}

TEST(RenderPartitionTable, EmptyListSaysSo) {
  EXPECT_EQ(render_partition_table(nlohmann::json::array()), "no partitions\n");
  EXPECT_EQ(render_partition_table(nlohmann::json::object()), "no partitions\n");
}

TEST(RenderPartitionTable, FieldsOfTheWrongTypeAreDashes) {
  const auto odd = nlohmann::json::array({{{"name", "x"}, {"pid", "12"}, {"memory_bytes", -5}, {"uptime_seconds", "long"}}, 42});
  EXPECT_EQ(render_partition_table(odd),
            "NAME  STATE  PID  VCPUS  MEMORY  RESTARTS  UPTIME\n"
            "x     -      -    -      -       -         -\n"
            "-     -      -    -      -       -         -\n");
}

TEST(DescribeEnd, NamesKindFactsAndDetail) {
  EXPECT_EQ(describe_end(batch_view()["last_end"]), "triple-fault (exit status 103): the guest triple-faulted at rip 0x1000");
  EXPECT_EQ(describe_end({{"kind", "vmm-crash"}, {"signal", 31}}), "vmm-crash (signal 31)");
  EXPECT_EQ(describe_end(nullptr), "-");
}

TEST(RenderDescription, ListsViewVmmLastEndAndDevices) {
  auto d = web_view();
  d["cpu_seconds"] = 12.345;
  d["resident_bytes"] = 50331648;
  d["last_end"] = {{"kind", "guest-exit"}, {"guest_value", 0}, {"exit_status", 0}};
  d["vmm"] = {{"state", "running"}, {"exits", {{"io", 10}, {"mmio", 5}, {"total", 15}}}, {"guest_errors", 0}, {"console_bytes", 2048}};
  d["devices"] = {
      {"network",
       {{"port", "web"}, {"rx_frames", 3}, {"rx_bytes", 1536}, {"tx_frames", 4}, {"tx_bytes", 2048}, {"drops", {{"bad_mac", 2}}}}},
      {"channels", {{"port", "web"}, {"packets_in", 7}, {"packets_out", 8}, {"refused", 1}}},
      {"sensors", {{"lidar0", {{"samples_delivered", 100}, {"samples_dropped", 2}, {"bytes_out", 4096}}}}}};
  EXPECT_EQ(render_description(d),
            "Name:             web\n"
            "State:            running\n"
            "PID:              4242\n"
            "vCPUs:            2\n"
            "Memory:           256 MiB\n"
            "Image:            /srv/images/web.elf\n"
            "Restart policy:   on-failure\n"
            "Restarts:         1\n"
            "UID:              200001\n"
            "Uptime:           1h02m\n"
            "CPU time:         12.35 s\n"
            "Resident memory:  48 MiB\n"
            "Last end:         guest-exit (exit status 0, guest value 0)\n"
            "VMM:\n"
            "  state:           running\n"
            "  exits:           io 10, mmio 5, total 15\n"
            "  guest errors:    0\n"
            "  console output:  2 KiB\n"
            "Devices:\n"
            "  network:        port web: rx 3 frames (1.5 KiB), tx 4 frames (2 KiB), drops: bad_mac 2\n"
            "  channels:       port web: 7 packets in, 8 out, 1 refused\n"
            "  sensor lidar0:  100 samples delivered, 2 dropped, 4 KiB out\n");
}

TEST(RenderDescription, AStoppedPartitionWithoutDevices) {
  auto d = batch_view();
  d["devices"] = nlohmann::json::object();
  const std::string text = render_description(d);
  EXPECT_NE(text.find("PID:             -\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Last end:        triple-fault (exit status 103): the guest triple-faulted at rip 0x1000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Devices:\n  none\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("VMM:"), std::string::npos) << text;
}

TEST(RenderOperationResult, NamesVerbPartitionStateAndPid) {
  EXPECT_EQ(render_operation_result("paused", {{"name", "web"}, {"state", "paused"}, {"pid", 4242}}), "paused web: paused (pid 4242)\n");
  EXPECT_EQ(render_operation_result("stopped", batch_view()), "stopped batch: stopped\n");
}

TEST(RenderEvent, OneLineWithADashForTileWideEvents) {
  EXPECT_EQ(render_event({{"seq", 7}, {"time", "2024-05-01T10:00:00Z"}, {"type", "partition.started"}, {"partition", "web"},
                          {"message", "web started (pid 4242)"}}),
            "7 2024-05-01T10:00:00Z partition.started web web started (pid 4242)");
  EXPECT_EQ(render_event({{"seq", 8}, {"time", "t"}, {"type", "policy.applied"}, {"message", "line1\nline2"}}),
            "8 t policy.applied - line1?line2");
}

}  // namespace
}  // namespace tilehv::tilectl
