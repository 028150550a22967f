// Shadow partitions as a policy declares them (docs/policy.md, "shadows"; docs/design/shadows.md):
// a candidate kernel that runs beside a live partition on its mirrored inputs, how its outputs are
// compared, when it has earned promotion, and what the tile does then. Plain data, like policy.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policy/source_position.hpp"

namespace tilehv::policy {

// The inputs a shadow receives as the live partition does.
enum class MirroredInput { kSensors, kNetwork, kChannels };
// The outputs a comparator aligns: frames out of the network port, packets out of the channel port,
// the guest's commands on its sensor ports.
enum class OutputStream { kNetwork, kChannels, kSensors };

enum class CompareRule {
  kExact,   // the bytes are equal
  kFields,  // text of key=value words (or a JSON object): named numeric fields within tolerance
};

struct FieldTolerance {
  std::string field;
  std::optional<double> abs;  // |live - shadow| <= abs
  std::optional<double> rel;  // |live - shadow| <= rel * |live|
};

struct ByteRange {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

struct CompareSpec {
  OutputStream stream = OutputStream::kNetwork;
  CompareRule rule = CompareRule::kExact;
  std::vector<FieldTolerance> tolerances;
  std::vector<std::string> ignore_fields;
  std::vector<ByteRange> ignore_bytes;
  std::uint32_t reorder_window = 0;  // network only: a record may match within this many places
  std::optional<std::uint64_t> latency_budget_us;
  Located at;
};

struct PromotionCriteria {
  std::uint64_t min_inputs = 1000;
  std::uint64_t min_duration_ms = 30'000;
  double max_divergence_ratio = 0.0;  // divergent records / compared records; faults always disqualify
  // Ceilings on the shadow's resource use: relative to the live partition's, or absolute.
  std::optional<double> max_cpu_ratio;
  std::optional<double> max_exits_ratio;
  std::optional<std::uint64_t> max_memory_bytes;
};

enum class ShadowAction {
  kReport,        // report the verdict; an operator promotes or rejects
  kAutoPromote,   // promote when the criteria are met, reject on a fault or divergence
  kAutoRollback,  // as auto-promote, then roll back if the promoted kernel faults during probation
};

struct Candidate {
  std::string image;           // as written (relative to the policy's folder)
  std::string image_resolved;  // absolute
  std::string sha256;
  std::optional<std::string> signature;  // a file holding the raw 64-byte Ed25519 signature of the image
  std::string signature_resolved;
  std::optional<std::string> key;  // the trust key (trust.keys[].name) that must have signed it
};

struct Shadow {
  std::string name;
  std::string live;  // the partition it shadows
  Candidate candidate;
  std::set<MirroredInput> mirror = {MirroredInput::kSensors, MirroredInput::kNetwork, MirroredInput::kChannels};
  std::vector<CompareSpec> compare;  // streams without a spec are compared exactly
  PromotionCriteria promotion;
  ShadowAction action = ShadowAction::kReport;
  std::uint32_t cpu_weight_percent = 25;  // of the live partition's weight, so it cannot starve it
  std::uint64_t watchdog_ms = 2000;       // inputs delivered and no output nor progress this long: a hang
  std::uint32_t flood_factor = 4;         // more output records than this many times the live's: a flood
  std::uint64_t probation_ms = 60'000;    // auto-rollback: how long a promoted kernel is watched
  Located at;
};

struct TrustKey {
  std::string name;
  std::string public_key;  // a PEM file (as written)
  std::string public_key_resolved;
  Located at;
};

[[nodiscard]] const char* input_name(MirroredInput input);
[[nodiscard]] const char* stream_name(OutputStream stream);
[[nodiscard]] const char* shadow_action_name(ShadowAction action);

}  // namespace tilehv::policy
