// Loading a partition: its image, memory, vCPUs and CPUs, restart policy and devices; and a channel.
#include <fmt/format.h>

#include "policy/load_sections.hpp"

namespace tilehv::policy::detail {
namespace {

constexpr std::uint32_t kMaxVcpus = 254;  // as the VMM: xAPIC ids are 8 bits and 0xff broadcasts
constexpr std::uint64_t kMaxBackoffMs = 3'600'000;  // an hour
constexpr std::uint64_t kMinConsoleLimit = 4096;
constexpr std::uint64_t kMaxConsoleLimit = 1ULL << 30;
constexpr double kMaxRateHz = 1e6;  // far above any sensor device (piezo vibration: 10 kHz)
constexpr double kMinRateHz = 0.001;  // a millihertz: the device models' unit
constexpr std::uint16_t kMinEthertype = 0x0600;  // below are IEEE 802.3 lengths, not types

bool is_sha256_hex(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

void load_cpu(Reader& reader, const Field& field, Partition& partition) {
  const Fields fields(reader, field, "a partition's CPU placement", {"mode", "cpus", "weight"});
  if (auto f = fields.get("mode")) {
    if (auto mode = read_choice(reader, *f, {"shared", "pinned"})) {
      partition.cpu_mode = *mode == "pinned" ? CpuMode::kPinned : CpuMode::kShared;
    }
  }
  std::optional<Field> cpus = partition.cpu_mode == CpuMode::kPinned
                                  ? fields.require("cpus", "the CPUs a pinned partition holds, such as \"2-3\"")
                                  : fields.get("cpus");
  if (cpus) partition.cpus = read_cpu_set(reader, *cpus).value_or(CpuSet{});
  if (auto f = fields.get("weight")) {
    partition.cpu_weight = static_cast<std::uint32_t>(read_unsigned(reader, *f, 1, 10000).value_or(partition.cpu_weight));
  }
}

void load_restart(Reader& reader, const Field& field, Restart& restart) {
  const Fields fields(reader, field, "a restart policy", {"policy", "maxRetries", "backoffInitialMs", "backoffMaxMs"});
  if (auto f = fields.get("policy")) {
    if (auto policy = read_choice(reader, *f, {"never", "on-failure", "always"})) {
      restart.policy = *policy == "never"        ? RestartPolicy::kNever
                       : *policy == "on-failure" ? RestartPolicy::kOnFailure
                                                 : RestartPolicy::kAlways;
    }
  }
  if (auto f = fields.get("maxRetries")) {
    restart.max_retries = static_cast<std::uint32_t>(read_unsigned(reader, *f, 0, 1000).value_or(restart.max_retries));
  }
  if (auto f = fields.get("backoffInitialMs")) {
    restart.backoff_initial_ms = read_unsigned(reader, *f, 1, kMaxBackoffMs).value_or(restart.backoff_initial_ms);
  }
  if (auto f = fields.get("backoffMaxMs")) {
    restart.backoff_max_ms = read_unsigned(reader, *f, 1, kMaxBackoffMs).value_or(restart.backoff_max_ms);
  }
}

void load_sensor_assignment(Reader& reader, const Field& field, SensorAssignment& assignment) {
  const Fields fields(reader, field, "a sensor assignment", {"sensor", "rateHz"});
  assignment.at = located(field);
  if (auto f = fields.require("sensor", "the name of a sensor of the tile")) {
    assignment.sensor = read_name(reader, *f).value_or("");
  }
  if (auto rate_field = fields.get("rateHz")) {
    const Fields rate(reader, *rate_field, "rate bounds", {"min", "max"});
    const auto min = rate.require("min", "a rate in Hz");
    const auto max = rate.require("max", "a rate in Hz");
    const auto min_hz = min ? read_number(reader, *min, kMinRateHz, kMaxRateHz) : std::nullopt;
    const auto max_hz = max ? read_number(reader, *max, kMinRateHz, kMaxRateHz) : std::nullopt;
    if (min_hz && max_hz) assignment.rate_hz = RateBoundsHz{*min_hz, *max_hz};
  }
}

void load_network(Reader& reader, const Field& field, NetworkAttachment& network) {
  const Fields fields(reader, field, "a network attachment", {"mac", "mtu", "allowPeers", "allowEthertypes"});
  network.at = located(field);
  // The address and MTU are judged by the network check, which knows what the switch accepts.
  if (auto f = fields.get("mac")) network.mac = read_string(reader, *f, "a MAC address such as \"02:00:00:00:00:01\"", 64);
  if (auto f = fields.get("mtu")) {
    network.mtu = static_cast<std::uint32_t>(read_unsigned(reader, *f, 0, UINT32_MAX).value_or(network.mtu));
  }
  if (auto f = fields.get("allowPeers")) {
    if (auto items = read_list(reader, *f, kMaxPeers, "partition names or \"uplink\"")) {
      std::vector<std::string> peers;
      for (const Field& item : *items) {
        if (auto peer = read_string(reader, item, "a partition name or \"uplink\"", 64)) peers.push_back(*peer);
      }
      network.allow_peers = std::move(peers);
    }
  }
  if (auto f = fields.get("allowEthertypes")) {
    for (const Field& item : read_list(reader, *f, kMaxEthertypes, "EtherTypes").value_or(std::vector<Field>{})) {
      if (auto type = read_unsigned(reader, item, kMinEthertype, 0xffff)) {
        network.allow_ethertypes.push_back(static_cast<std::uint16_t>(*type));
      }
    }
  }
}

void load_devices(Reader& reader, const Field& field, Partition& partition) {
  const Fields fields(reader, field, "a partition's devices", {"sensors", "network", "rng", "console"});
  if (auto f = fields.get("sensors")) {
    for (const Field& item : read_list(reader, *f, kMaxSensors, "sensor assignments").value_or(std::vector<Field>{})) {
      SensorAssignment assignment;
      load_sensor_assignment(reader, item, assignment);
      partition.sensors.push_back(std::move(assignment));
    }
  }
  if (auto f = fields.get("network")) {
    NetworkAttachment network;
    load_network(reader, *f, network);
    partition.network = std::move(network);
  }
  if (auto f = fields.get("rng")) partition.rng = read_bool(reader, *f).value_or(false);
  if (auto console_field = fields.get("console")) {
    const Fields console(reader, *console_field, "a console", {"limit"});
    if (auto f = console.get("limit")) {
      if (auto limit = read_size(reader, *f)) {
        if (*limit < kMinConsoleLimit || *limit > kMaxConsoleLimit) {
          reader.error(*f, "a size from 4K to 1G");
        } else {
          partition.console_limit_bytes = *limit;
        }
      }
    }
  }
}

}  // namespace

void load_partition(Reader& reader, const Field& field, const std::filesystem::path& base_dir, Partition& partition) {
  const Fields fields(reader, field, "a partition",
                      {"name", "image", "sha256", "cmdline", "memory", "vcpus", "cpu", "restart", "devices"});
  partition.at = located(field);
  if (!fields.is_mapping()) return;
  if (auto f = fields.require("name", "a name")) partition.name = read_name(reader, *f).value_or("");
  if (auto f = fields.require("image", "the path of a kernel image")) {
    if (auto image = read_string(reader, *f, "the path of a kernel image", kMaxPathBytes)) {
      if (image->empty()) {
        reader.error(*f, "the path of a kernel image");
      } else {
        partition.image = *image;
        partition.image_resolved = (base_dir / *image).lexically_normal().string();
      }
    }
  }
  constexpr std::string_view kSha256 = "64 lowercase hexadecimal digits (the image's sha256sum)";
  if (auto f = fields.require("sha256", kSha256)) {
    auto sha256 = read_string(reader, *f, kSha256, 128);
    if (sha256 && !is_sha256_hex(*sha256)) reader.error(*f, std::string(kSha256));
    if (sha256 && is_sha256_hex(*sha256)) partition.sha256 = *sha256;
  }
  if (auto f = fields.get("cmdline")) {
    partition.cmdline = read_string(reader, *f, "a kernel command line", kMaxCmdlineBytes).value_or("");
  }
  if (auto f = fields.require("memory", "a size such as 64M")) partition.memory_bytes = read_size(reader, *f).value_or(0);
  if (auto f = fields.get("vcpus")) {
    partition.vcpus = static_cast<std::uint32_t>(read_unsigned(reader, *f, 1, kMaxVcpus).value_or(partition.vcpus));
  }
  if (auto f = fields.get("cpu")) load_cpu(reader, *f, partition);
  if (auto f = fields.get("restart")) load_restart(reader, *f, partition.restart);
  if (auto f = fields.get("devices")) load_devices(reader, *f, partition);
}

void load_channel(Reader& reader, const Field& field, ChannelDecl& channel) {
  const Fields fields(reader, field, "a channel", {"name", "client", "server", "port"});
  channel.at = located(field);
  if (!fields.is_mapping()) return;
  constexpr std::string_view kEnd = "a partition name or \"host\"";
  if (auto f = fields.require("name", "a name")) channel.name = read_name(reader, *f).value_or("");
  if (auto f = fields.require("client", kEnd)) channel.client = read_name(reader, *f).value_or("");
  if (auto f = fields.require("server", kEnd)) channel.server = read_name(reader, *f).value_or("");
  // The range the vsock protocol allows is the channels check's to judge.
  if (auto f = fields.require("port", "the server's vsock port")) {
    channel.port = static_cast<std::uint32_t>(read_unsigned(reader, *f, 0, UINT32_MAX).value_or(0));
  }
}

}  // namespace tilehv::policy::detail
