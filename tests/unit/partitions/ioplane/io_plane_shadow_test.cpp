// Tests for shadow partitions in the I/O plane: a shadow's ports mirror its live partition's inputs
// in order and with the same bytes; what it sends reaches only its comparator; a shadow that falls
// behind, floods or asks for what it was not given is stopped without touching the live partition;
// and a promotion swaps it into the live partition's place at an input boundary (a rollback back).
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "port/plane_client.hpp"

namespace tilehv::ioplane {
namespace {

using namespace std::chrono_literals;
using vdevices::port::PlaneClient;
using vdevices::port::PortEndpoint;
using vdevices::port::PortSide;
using vdevices::port::PushResult;

const MacAddress kMacA{{0x02, 0x74, 0x68, 0x00, 0x00, 0x0a}};
const MacAddress kMacB{{0x02, 0x74, 0x68, 0x00, 0x00, 0x0b}};

PlaneConfig config_with_sensor() {
  PlaneConfig config;
  config.net_ports = {{"a", kMacA, 1500, {}}, {"b", kMacB, 1500, {}}};
  PlaneSensor sensor;
  sensor.spec = {"wall", vdevices::sensors::SensorKind::thermal, 1};
  config.sensors.push_back(sensor);
  return config;
}

policy::Shadow shadow_of_a() {
  policy::Shadow s;
  s.name = "a-next";
  s.live = "a";
  s.watchdog_ms = 300;
  return s;
}

std::vector<std::uint8_t> frame(const MacAddress& from, const MacAddress& to, std::uint8_t tag) {
  std::vector<std::uint8_t> f(64, tag);
  std::copy(to.bytes.begin(), to.bytes.end(), f.begin());
  std::copy(from.bytes.begin(), from.bytes.end(), f.begin() + 6);
  f[12] = 0x08;
  f[13] = 0x00;
  return f;
}

// One VMM's side of the plane: its link and the device ends of the ports it was granted.
struct Vmm {
  std::unique_ptr<PlaneClient> client;
  std::map<std::string, PortEndpoint> ports;

  tl::expected<void, std::string> take(const std::string& kind, const std::string& name) {
    auto grant = client->request({kind, name}, 5s);
    if (!grant) return tl::unexpected(grant.error());
    auto endpoint = PortEndpoint::attach(std::move(grant->fds), PortSide::kDevice);
    if (!endpoint) return tl::unexpected(endpoint.error());
    ports.emplace(name, std::move(*endpoint));
    return {};
  }
  PortEndpoint& port(const std::string& name) { return ports.at(name); }
};

Vmm live_vmm(IoPlane& plane, std::set<std::string> grants) {
  auto link = plane.open_link(grants);
  EXPECT_TRUE(link);
  return Vmm{std::make_unique<PlaneClient>(std::move(*link)), {}};
}

Vmm shadow_vmm(IoPlane& plane, policy::Shadow spec, std::set<std::string> grants) {
  auto link = plane.open_shadow_link(std::move(spec), std::move(grants));
  EXPECT_TRUE(link) << (link ? "" : link.error());
  return Vmm{std::make_unique<PlaneClient>(std::move(*link)), {}};
}

std::vector<std::vector<std::uint8_t>> drain(PortEndpoint& device, std::chrono::milliseconds wait, std::size_t want = SIZE_MAX) {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::uint8_t> out(device.max_message());
  const auto end = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < end && frames.size() < want) {
    auto got = device.receive(out);
    if (got && got->has_value()) {
      frames.emplace_back(out.begin(), out.begin() + **got);
    } else {
      std::this_thread::sleep_for(1ms);
    }
  }
  return frames;
}

nlohmann::json status_of(IoPlane& plane, const std::string& name) {
  nlohmann::json status;
  EXPECT_TRUE(plane.with_shadow(name, [&](ShadowSession& s) { status = s.status(); }));
  return status;
}

// Waits until the session's status satisfies `done` (or 3 s pass); returns the last status.
template <typename Done>
nlohmann::json wait_status(IoPlane& plane, const std::string& name, Done done) {
  nlohmann::json status;
  const auto end = std::chrono::steady_clock::now() + 3s;
  do {
    status = status_of(plane, name);
    if (done(status)) break;
    std::this_thread::sleep_for(5ms);
  } while (std::chrono::steady_clock::now() < end);
  return status;
}

struct NetPair {
  std::unique_ptr<IoPlane> plane;
  Vmm a, b, shadow;
};

NetPair net_pair_with_shadow(policy::Shadow spec = shadow_of_a()) {
  NetPair p;
  auto plane = IoPlane::create(config_with_sensor());
  EXPECT_TRUE(plane);
  p.plane = std::move(*plane);
  p.a = live_vmm(*p.plane, {"net:a"});
  p.b = live_vmm(*p.plane, {"net:b"});
  EXPECT_TRUE(p.a.take("net", "a"));
  EXPECT_TRUE(p.b.take("net", "b"));
  p.shadow = shadow_vmm(*p.plane, std::move(spec), {"net:a"});
  auto taken = p.shadow.take("net", "a");
  EXPECT_TRUE(taken) << (taken ? "" : taken.error());
  auto mirroring = p.plane->begin_mirroring("a-next", 2s);
  EXPECT_TRUE(mirroring) << (mirroring ? "" : mirroring.error());
  return p;
}

TEST(IoPlaneShadowTest, TheShadowReceivesTheLiveInputsInOrderAndItsOutputsReachOnlyTheComparator) {
  NetPair p = net_pair_with_shadow();
  for (std::uint8_t tag = 1; tag <= 20; ++tag) {
    ASSERT_EQ(*p.b.port("b").send(frame(kMacB, kMacA, tag)), PushResult::kPushed);
  }
  const auto live_in = drain(p.a.port("a"), 2s, 20);
  const auto shadow_in = drain(p.shadow.port("a"), 2s, 20);
  ASSERT_EQ(live_in.size(), 20U);
  EXPECT_EQ(shadow_in, live_in) << "the same records, in the same order";

  // Both answer; only the live partition's answers reach b.
  for (std::uint8_t tag = 1; tag <= 5; ++tag) {
    ASSERT_EQ(*p.a.port("a").send(frame(kMacA, kMacB, tag)), PushResult::kPushed);
    ASSERT_EQ(*p.shadow.port("a").send(frame(kMacA, kMacB, tag)), PushResult::kPushed);
  }
  ASSERT_EQ(*p.shadow.port("a").send(frame(kMacA, kMacB, 99)), PushResult::kPushed);  // a record of its own
  const auto at_b = drain(p.b.port("b"), 300ms);
  ASSERT_EQ(at_b.size(), 5U) << "the shadow's frames never leave the comparator";
  for (const auto& f : at_b) EXPECT_NE(f[20], 99);
  const nlohmann::json status = wait_status(*p.plane, "a-next", [](const nlohmann::json& s) {
    return s["comparison"]["streams"]["network"]["shadow_records"] == 6;
  });
  const nlohmann::json& net = status["comparison"]["streams"]["network"];
  EXPECT_EQ(status["state"], "mirroring");
  EXPECT_EQ(status["comparison"]["inputs"], 20);
  EXPECT_EQ(net["live_records"], 5) << status.dump(1);
  EXPECT_EQ(net["matched"], 5) << status.dump(1);
  EXPECT_EQ(net["waiting"]["shadow"], 1) << status.dump(1);
}

TEST(IoPlaneShadowTest, AShadowThatFallsBehindIsAnInputOverrunAndTheLivePartitionLosesNothing) {
  NetPair p = net_pair_with_shadow();
  // The shadow never reads: its ring fills, then its backlog.
  std::size_t sent = 0;
  const auto end = std::chrono::steady_clock::now() + 10s;
  nlohmann::json status;
  std::size_t live_got = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 64; ++i) {
      if (*p.b.port("b").send(frame(kMacB, kMacA, static_cast<std::uint8_t>(sent))) == PushResult::kPushed) ++sent;
    }
    live_got += drain(p.a.port("a"), 1ms).size();
    status = status_of(*p.plane, "a-next");
    if (status["state"] == "stopped") break;
  }
  ASSERT_EQ(status["state"], "stopped") << status.dump(1);
  ASSERT_FALSE(status["faults"].empty());
  EXPECT_EQ(status["faults"][0]["kind"], "input-overrun") << status.dump(1);
  live_got += drain(p.a.port("a"), 500ms).size();
  EXPECT_EQ(live_got, sent) << "the live partition got every frame b sent";
  EXPECT_EQ(p.plane->counters("a")->tx_frames, sent);
}

TEST(IoPlaneShadowTest, AFloodingShadowIsStoppedAndNoLongerRead) {
  policy::Shadow spec = shadow_of_a();
  spec.flood_factor = 2;
  NetPair p = net_pair_with_shadow(spec);
  ASSERT_EQ(*p.a.port("a").send(frame(kMacA, kMacB, 1)), PushResult::kPushed);
  std::size_t pushed = 0;
  for (int i = 0; i < 4000; ++i) {
    auto r = p.shadow.port("a").send(frame(kMacA, kMacB, 2));
    ASSERT_TRUE(r);
    if (*r == PushResult::kPushed) ++pushed;
    else std::this_thread::sleep_for(1ms);
  }
  const nlohmann::json status = wait_status(*p.plane, "a-next", [](const nlohmann::json& s) { return s["state"] == "stopped"; });
  ASSERT_FALSE(status["faults"].empty()) << status.dump(1);
  EXPECT_EQ(status["faults"][0]["kind"], "output-flood");
  // Muted: its ring fills and stays full.
  std::size_t refused = 0;
  for (int i = 0; i < 20000 && refused == 0; ++i) {
    if (*p.shadow.port("a").send(frame(kMacA, kMacB, 3)) == PushResult::kFull) ++refused;
  }
  EXPECT_GT(refused, 0U);
  EXPECT_EQ(drain(p.b.port("b"), 100ms).size(), 1U) << "only the live partition's frame reached b";
}

TEST(IoPlaneShadowTest, AShadowThatStopsAnsweringIsAHang) {
  NetPair p = net_pair_with_shadow();
  for (std::uint8_t tag = 1; tag <= 3; ++tag) {
    ASSERT_EQ(*p.a.port("a").send(frame(kMacA, kMacB, tag)), PushResult::kPushed);
  }
  const nlohmann::json status = wait_status(*p.plane, "a-next", [](const nlohmann::json& s) { return s["state"] == "stopped"; });
  ASSERT_FALSE(status["faults"].empty()) << status.dump(1);
  EXPECT_EQ(status["faults"][0]["kind"], "hang");
  EXPECT_NE(status["faults"][0]["detail"].get<std::string>().find("sent 3 records"), std::string::npos) << status.dump(1);
}

TEST(IoPlaneShadowTest, AShadowGetsOnlyItsLivePartitionsPortsAndEachOnce) {
  NetPair p = net_pair_with_shadow();
  auto other = p.shadow.take("net", "b");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().find("does not give it this port"), std::string::npos) << other.error();
  auto twice = p.shadow.take("net", "a");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().find("already holds"), std::string::npos) << twice.error();
  auto again = p.plane->open_shadow_link(shadow_of_a(), {"net:a"});
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("already has a shadow named a-next"), std::string::npos);
  // The live partition's traffic is untouched by all of it.
  ASSERT_EQ(*p.b.port("b").send(frame(kMacB, kMacA, 5)), PushResult::kPushed);
  EXPECT_EQ(drain(p.a.port("a"), 1s, 1).size(), 1U);
}

TEST(IoPlaneShadowTest, PromotionSwapsTheShadowInAtAnInputBoundaryAndRollbackSwapsItBack) {
  NetPair p = net_pair_with_shadow();
  for (std::uint8_t tag = 1; tag <= 3; ++tag) {
    ASSERT_EQ(*p.b.port("b").send(frame(kMacB, kMacA, tag)), PushResult::kPushed);
  }
  ASSERT_EQ(drain(p.a.port("a"), 2s, 3).size(), 3U);
  ASSERT_EQ(drain(p.shadow.port("a"), 2s, 3).size(), 3U);
  // The live partition answered two inputs, the shadow three: its third is released at promotion.
  for (std::uint8_t tag = 1; tag <= 3; ++tag) {
    if (tag <= 2) {
      ASSERT_EQ(*p.a.port("a").send(frame(kMacA, kMacB, tag)), PushResult::kPushed);
    }
    ASSERT_EQ(*p.shadow.port("a").send(frame(kMacA, kMacB, tag)), PushResult::kPushed);
  }
  ASSERT_EQ(drain(p.b.port("b"), 1s, 2).size(), 2U);
  auto promoted = p.plane->promote_shadow("a-next", 2s);
  ASSERT_TRUE(promoted) << promoted.error();
  EXPECT_EQ((*promoted)["streams"]["a"]["released"], 1) << promoted->dump();
  EXPECT_EQ((*promoted)["streams"]["a"]["owed"], 0) << promoted->dump();
  const auto released = drain(p.b.port("b"), 1s, 1);
  ASSERT_EQ(released.size(), 1U);
  EXPECT_EQ(released[0][20], 3);
  EXPECT_EQ(status_of(*p.plane, "a-next")["state"], "promoted");

  // Inputs now reach the promoted kernel only, and its outputs reach b.
  ASSERT_EQ(*p.b.port("b").send(frame(kMacB, kMacA, 7)), PushResult::kPushed);
  const auto at_new = drain(p.shadow.port("a"), 1s, 1);
  ASSERT_EQ(at_new.size(), 1U);
  EXPECT_EQ(at_new[0][20], 7);
  EXPECT_TRUE(drain(p.a.port("a"), 100ms).empty()) << "the old kernel waits for a rollback";
  ASSERT_EQ(*p.shadow.port("a").send(frame(kMacA, kMacB, 8)), PushResult::kPushed);
  ASSERT_EQ(drain(p.b.port("b"), 1s, 1).size(), 1U);

  auto rolled = p.plane->roll_back_shadow("a-next", 2s);
  ASSERT_TRUE(rolled) << rolled.error();
  ASSERT_EQ(*p.b.port("b").send(frame(kMacB, kMacA, 9)), PushResult::kPushed);
  const auto at_old = drain(p.a.port("a"), 1s, 1);
  ASSERT_EQ(at_old.size(), 1U);
  EXPECT_EQ(at_old[0][20], 9);
  EXPECT_TRUE(drain(p.shadow.port("a"), 100ms).empty());
  EXPECT_EQ(status_of(*p.plane, "a-next")["state"], "rolled-back");
}

TEST(IoPlaneShadowTest, AShadowJoiningASensorStreamGetsItsHeaderThenTheLiveLinesWhole) {
  auto created = IoPlane::create(config_with_sensor());
  ASSERT_TRUE(created);
  IoPlane& plane = **created;
  Vmm live = live_vmm(plane, {"console:sensor.wall"});
  ASSERT_TRUE(live.take("console", "sensor.wall"));
  std::string live_text;
  for (const auto& chunk : drain(live.port("sensor.wall"), 300ms)) live_text.append(chunk.begin(), chunk.end());
  ASSERT_NE(live_text.find("#channel 0"), std::string::npos) << live_text;

  policy::Shadow spec = shadow_of_a();
  spec.watchdog_ms = 60'000;
  Vmm shadow = shadow_vmm(plane, spec, {"console:sensor.wall"});
  ASSERT_TRUE(shadow.take("console", "sensor.wall"));
  // The live partition keeps reading while the plane looks for a boundary.
  std::thread reader([&] {
    for (int i = 0; i < 100; ++i) {
      for (const auto& chunk : drain(live.port("sensor.wall"), 5ms)) live_text.append(chunk.begin(), chunk.end());
    }
  });
  auto mirroring = plane.begin_mirroring("a-next", 2s);
  reader.join();
  ASSERT_TRUE(mirroring) << mirroring.error();
  const std::size_t joined_at = live_text.size();
  for (const auto& chunk : drain(live.port("sensor.wall"), 500ms)) live_text.append(chunk.begin(), chunk.end());
  std::string shadow_text;
  for (const auto& chunk : drain(shadow.port("sensor.wall"), 500ms)) shadow_text.append(chunk.begin(), chunk.end());

  const std::size_t header_end = shadow_text.find("#channel 0");
  ASSERT_NE(header_end, std::string::npos) << shadow_text.substr(0, 300);
  const std::size_t first_sample = shadow_text.find('\n', header_end) + 1;
  const std::string after_header = shadow_text.substr(first_sample);
  ASSERT_FALSE(after_header.empty());
  // What the shadow got after its header is exactly what the live partition got after the join.
  const std::string live_after = live_text.substr(joined_at);
  EXPECT_EQ(live_after.substr(0, after_header.size()), after_header);
  const nlohmann::json status = status_of(plane, "a-next");
  EXPECT_GT(status["comparison"]["inputs"].get<std::uint64_t>(), 0U) << status.dump(1);
}

TEST(IoPlaneShadowTest, APartitionBornHeldAndItsShadowReadTheSameStreamFromItsFirstByte) {
  auto created = IoPlane::create(config_with_sensor());
  ASSERT_TRUE(created);
  IoPlane& plane = **created;
  auto link = plane.open_link({"console:sensor.wall"}, {}, true);
  ASSERT_TRUE(link);
  Vmm live{std::make_unique<PlaneClient>(std::move(*link)), {}};
  ASSERT_TRUE(live.take("console", "sensor.wall"));
  EXPECT_TRUE(drain(live.port("sensor.wall"), 200ms).empty()) << "held until its shadow joins";
  Vmm shadow = shadow_vmm(plane, shadow_of_a(), {"console:sensor.wall"});
  ASSERT_TRUE(shadow.take("console", "sensor.wall"));
  auto mirroring = plane.begin_mirroring("a-next", 2s);
  ASSERT_TRUE(mirroring) << mirroring.error();
  std::string live_text, shadow_text;
  for (const auto& chunk : drain(live.port("sensor.wall"), 400ms)) live_text.append(chunk.begin(), chunk.end());
  for (const auto& chunk : drain(shadow.port("sensor.wall"), 400ms)) shadow_text.append(chunk.begin(), chunk.end());
  ASSERT_TRUE(live_text.starts_with("#tilehv-sensor")) << live_text.substr(0, 200);
  ASSERT_GT(shadow_text.size(), 100U);
  EXPECT_EQ(live_text.substr(0, shadow_text.size()), shadow_text) << "one header, then the same lines";
  EXPECT_EQ(shadow_text.find("#tilehv-sensor", 1), std::string::npos) << "the header once";
}

}  // namespace
}  // namespace tilehv::ioplane
