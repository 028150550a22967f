// Policy: the tile as its operator declares it (policies/tile-policy.schema.json, docs/policy.md),
// after loading and checking. Everything here is plain data; loader.hpp builds it from a file, checks.hpp
// judges it, plan.hpp compares it with what runs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policy/shadow_spec.hpp"
#include "policy/source_position.hpp"

namespace tilehv::policy {

inline constexpr const char* kApiVersion = "tilehv.io/v1";
// development.unjailed must say exactly this (docs/policy.md): a jail is never dropped by accident.
inline constexpr const char* kUnjailedSentence =
    "I understand that unjailed partitions run with the full rights of tilehvd on this host.";

// A set of host CPUs, from "0-3,6".
using CpuSet = std::set<std::uint32_t>;

enum class SensorSourceKind { kSynthetic, kTrace, kIio };

struct SensorSource {
  SensorSourceKind kind = SensorSourceKind::kSynthetic;
  std::uint64_t seed = 1;          // synthetic
  std::uint64_t day_seconds = 86400;  // synthetic: length of the diurnal cycle
  std::string trace;               // trace: path of a CSV or JSON-lines trace (relative to the policy file)
  std::string iio_device;          // iio: e.g. "iio:device0"
};

struct TileSensor {
  std::string name;           // served to partitions on the console port "sensor.<name>"
  std::string kind;           // thermal | piezo | mmwave | awg | poe
  std::uint32_t poe_ports = 4;  // poe only
  bool shared_read = false;   // may be given to more than one partition
  SensorSource source;
  Located at;
};

struct Tile {
  std::string name;
  CpuSet cpus;                     // the tile's host CPUs, the reserve included
  std::uint64_t memory_bytes = 0;  // the tile's memory, the reserve included
  CpuSet reserved_cpus;            // host reserve: never given to partitions (a subset of cpus)
  std::uint64_t reserved_memory_bytes = 0;
  std::vector<TileSensor> sensors;
  std::optional<std::string> uplink_tap;  // the switch's uplink: a TAP device of the host
  Located at;

  // What partitions may use: cpus without the reserve, memory without the reserve (0 if it does not fit).
  [[nodiscard]] CpuSet usable_cpus() const;
  [[nodiscard]] std::uint64_t usable_memory_bytes() const;
};

struct RateBoundsHz {
  double min = 0;
  double max = 0;
};

struct SensorAssignment {
  std::string sensor;  // a TileSensor name
  std::optional<RateBoundsHz> rate_hz;  // narrows the device's own bounds
  Located at;
};

struct NetworkAttachment {
  std::optional<std::string> mac;  // "02:..." (assigned from the partition's index when absent)
  std::uint32_t mtu = 1500;
  std::optional<std::vector<std::string>> allow_peers;  // partition names or "uplink"; absent = anyone
  std::vector<std::uint16_t> allow_ethertypes;          // empty = any
  Located at;
};

enum class CpuMode { kShared, kPinned };
enum class RestartPolicy { kNever, kOnFailure, kAlways };

struct Restart {
  RestartPolicy policy = RestartPolicy::kOnFailure;
  std::uint32_t max_retries = 5;          // on-failure: consecutive failures before giving up
  std::uint64_t backoff_initial_ms = 100;  // doubled after every failure
  std::uint64_t backoff_max_ms = 30000;
};

struct Partition {
  std::string name;
  std::string image;   // kernel image path as written (relative to the policy file's folder)
  std::string image_resolved;  // absolute path
  std::string sha256;  // lowercase hex, 64 digits
  std::string cmdline;
  std::uint64_t memory_bytes = 0;
  std::uint32_t vcpus = 1;
  CpuMode cpu_mode = CpuMode::kShared;
  CpuSet cpus;  // empty with kShared: all of the tile's CPUs
  std::uint32_t cpu_weight = 100;  // 1..10000, as cgroup v2 cpu.weight
  Restart restart;
  std::vector<SensorAssignment> sensors;
  std::optional<NetworkAttachment> network;
  bool rng = false;
  std::uint64_t console_limit_bytes = 1ULL << 20;  // console log kept by the tile
  Located at;
};

struct ChannelDecl {
  std::string name;
  std::string client;  // partition name, or "host" for the tile's own end
  std::string server;  // partition name, or "host"
  std::uint32_t port = 0;  // the server's vsock port
  Located at;
};

struct Policy {
  std::string api_version;
  std::string source_file;  // absolute path of the file, or "<api>" for a request body
  std::string display_name;  // how diagnostics name the file (as the operator wrote it)
  std::string base_dir;      // absolute folder that relative paths (images, traces) start from
  Tile tile;
  std::vector<Partition> partitions;
  std::vector<ChannelDecl> channels;
  std::vector<Shadow> shadows;
  std::vector<TrustKey> trust_keys;  // trust.keys: who may sign candidate images
  bool allow_unjailed = false;  // development.unjailed said so in so many words
  std::optional<std::string> unjailed_statement;  // development.unjailed as written
  // Sections later issues fill (migration, audit): kept as text, checked only for shape.
  std::map<std::string, std::string> reserved_sections;

  // Where each field was written, by field path ("partitions[1].memory"): checks point at it.
  std::map<std::string, Located> field_positions;
  // Fields the loader already reported as malformed: semantic checks stay quiet about them rather than
  // judge the default left in their place.
  std::set<std::string> malformed_fields;

  [[nodiscard]] const Partition* find(const std::string& name) const;
  [[nodiscard]] const Shadow* find_shadow(const std::string& name) const;
  // The position of `path`, else of its nearest enclosing field that has one, else of the file's start.
  [[nodiscard]] Located locate(const std::string& path) const;
  // The CPUs a partition's vCPUs run on: its own when pinned or given; a shared partition without
  // cpus gets the usable CPUs no pinned partition holds.
  [[nodiscard]] CpuSet effective_cpus(const Partition& partition) const;
  // A partition named as client or server by a channel gets a virtio-vsock device.
  [[nodiscard]] bool needs_vsock(const std::string& partition) const;
};

}  // namespace tilehv::policy
