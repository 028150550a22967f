// Loading the shadows section and the trust keys that sign candidate images.
#include <cmath>

#include <fmt/format.h>

#include "policy/load_sections.hpp"

namespace tilehv::policy {

const char* input_name(MirroredInput input) {
  switch (input) {
    case MirroredInput::kSensors: return "sensors";
    case MirroredInput::kNetwork: return "network";
    case MirroredInput::kChannels: return "channels";
  }
  return "?";
}

const char* stream_name(OutputStream stream) {
  switch (stream) {
    case OutputStream::kNetwork: return "network";
    case OutputStream::kChannels: return "channels";
    case OutputStream::kSensors: return "sensors";
  }
  return "?";
}

const char* shadow_action_name(ShadowAction action) {
  switch (action) {
    case ShadowAction::kReport: return "report";
    case ShadowAction::kAutoPromote: return "auto-promote";
    case ShadowAction::kAutoRollback: return "auto-rollback";
  }
  return "?";
}

namespace detail {
namespace {

constexpr std::size_t kMaxCompareSpecs = 3;  // one per output stream
constexpr std::size_t kMaxFieldRules = 64;
constexpr std::size_t kMaxByteRanges = 64;
constexpr std::uint32_t kMaxReorderWindow = 1024;
constexpr std::uint64_t kMaxLatencyBudgetMs = 60'000;
constexpr std::uint64_t kMaxWatchdogMs = 600'000;
constexpr std::uint64_t kMaxDurationSeconds = 7 * 24 * 3600;
constexpr std::uint64_t kMaxFrameBytes = 65'536;

std::optional<OutputStream> read_stream(Reader& reader, const Field& field) {
  auto name = read_choice(reader, field, {"network", "channels", "sensors"});
  if (!name) return std::nullopt;
  return *name == "network" ? OutputStream::kNetwork : *name == "channels" ? OutputStream::kChannels : OutputStream::kSensors;
}

void load_candidate(Reader& reader, const Field& field, const std::filesystem::path& base_dir, Candidate& candidate) {
  const Fields fields(reader, field, "a candidate kernel", {"image", "sha256", "signature", "key"});
  if (!fields.is_mapping()) return;
  if (auto f = fields.require("image", "the path of the candidate kernel image")) {
    auto image = read_string(reader, *f, "the path of a kernel image", kMaxPathBytes);
    if (image && image->empty()) reader.error(*f, "the path of a kernel image");
    if (image && !image->empty()) {
      candidate.image = *image;
      candidate.image_resolved = (base_dir / *image).lexically_normal().string();
    }
  }
  constexpr std::string_view kSha256 = "64 lowercase hexadecimal digits (the image's sha256sum)";
  if (auto f = fields.require("sha256", kSha256)) {
    auto sha256 = read_string(reader, *f, kSha256, 128);
    const bool hex = sha256 && sha256->size() == 64 && sha256->find_first_not_of("0123456789abcdef") == std::string::npos;
    if (sha256 && !hex) reader.error(*f, std::string(kSha256));
    if (hex) candidate.sha256 = *sha256;
  }
  const auto signature = fields.get("signature");
  const auto key = fields.get("key");
  // A signature means nothing without the key that must have made it, and the other way round.
  if (signature && !key) (void)fields.require("key", "the trust key that signed the image (trust.keys[].name)");
  if (key && !signature) (void)fields.require("signature", "the path of the image's Ed25519 signature");
  if (signature) {
    if (auto path = read_string(reader, *signature, "the path of a signature file", kMaxPathBytes); path && !path->empty()) {
      candidate.signature = *path;
      candidate.signature_resolved = (base_dir / *path).lexically_normal().string();
    } else if (path) {
      reader.error(*signature, "the path of a signature file");
    }
  }
  if (key) candidate.key = read_name(reader, *key);
}

void load_tolerances(Reader& reader, const Field& field, CompareSpec& spec) {
  const YAML::Node& node = field.value;
  if (!node.IsMap()) {
    reader.error(field, "a mapping of field names to {abs: N} or {rel: N}");
    return;
  }
  if (node.size() > kMaxFieldRules) {
    reader.error(field, fmt::format("at most {} fields", kMaxFieldRules));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string();
    const Field member{it->second, it->first.Mark(), fmt::format("{}.{}", field.path, name)};
    if (name.empty() || name.size() > 64) {
      reader.error(it->first.Mark(), field.path, "a field name that is empty or longer than 64 bytes", "field names");
      continue;
    }
    const Fields bounds(reader, member, "a tolerance", {"abs", "rel"});
    if (!bounds.is_mapping()) continue;
    FieldTolerance tolerance{name, std::nullopt, std::nullopt};
    if (auto f = bounds.get("abs")) tolerance.abs = read_number(reader, *f, 0, 1e18);
    if (auto f = bounds.get("rel")) tolerance.rel = read_number(reader, *f, 0, 1);
    if (!bounds.get("abs") && !bounds.get("rel")) reader.error(member, "{abs: N} or {rel: N}");
    spec.tolerances.push_back(std::move(tolerance));
  }
}

void load_compare(Reader& reader, const Field& field, CompareSpec& spec) {
  const Fields fields(reader, field, "a comparison rule",
                      {"stream", "rule", "tolerance", "ignoreFields", "ignoreBytes", "reorderWindow", "latencyBudgetMs"});
  spec.at = located(field);
  if (!fields.is_mapping()) return;
  if (auto f = fields.require("stream", "network, channels or sensors")) spec.stream = read_stream(reader, *f).value_or(spec.stream);
  if (auto f = fields.get("rule")) {
    if (auto rule = read_choice(reader, *f, {"exact", "fields"})) spec.rule = *rule == "fields" ? CompareRule::kFields : CompareRule::kExact;
  }
  if (auto f = fields.get("tolerance")) load_tolerances(reader, *f, spec);
  if (auto f = fields.get("ignoreFields")) {
    for (const Field& item : read_list(reader, *f, kMaxFieldRules, "field names").value_or(std::vector<Field>{})) {
      if (auto name = read_string(reader, item, "a field name", 64)) spec.ignore_fields.push_back(*name);
    }
  }
  if (auto f = fields.get("ignoreBytes")) {
    for (const Field& item : read_list(reader, *f, kMaxByteRanges, "byte ranges").value_or(std::vector<Field>{})) {
      const Fields range(reader, item, "a byte range", {"offset", "length"});
      if (!range.is_mapping()) continue;
      const auto offset = range.require("offset", "a byte offset");
      const auto length = range.require("length", "a length in bytes");
      const auto o = offset ? read_unsigned(reader, *offset, 0, kMaxFrameBytes - 1) : std::nullopt;
      const auto l = length ? read_unsigned(reader, *length, 1, kMaxFrameBytes) : std::nullopt;
      if (o && l) spec.ignore_bytes.push_back(ByteRange{static_cast<std::uint32_t>(*o), static_cast<std::uint32_t>(*l)});
    }
  }
  if (auto f = fields.get("reorderWindow")) {
    spec.reorder_window = static_cast<std::uint32_t>(read_unsigned(reader, *f, 0, kMaxReorderWindow).value_or(0));
  }
  if (auto f = fields.get("latencyBudgetMs")) {
    if (auto ms = read_number(reader, *f, 0.001, static_cast<double>(kMaxLatencyBudgetMs))) {
      spec.latency_budget_us = static_cast<std::uint64_t>(std::llround(*ms * 1000.0));
    }
  }
}

void load_promotion(Reader& reader, const Field& field, PromotionCriteria& criteria) {
  const Fields fields(reader, field, "promotion criteria",
                      {"minInputs", "minDurationSeconds", "maxDivergenceRatio", "ceilings"});
  if (!fields.is_mapping()) return;
  if (auto f = fields.get("minInputs")) criteria.min_inputs = read_unsigned(reader, *f, 1, 1'000'000'000).value_or(criteria.min_inputs);
  if (auto f = fields.get("minDurationSeconds")) {
    if (auto s = read_number(reader, *f, 0, static_cast<double>(kMaxDurationSeconds))) {
      criteria.min_duration_ms = static_cast<std::uint64_t>(std::llround(*s * 1000.0));
    }
  }
  if (auto f = fields.get("maxDivergenceRatio")) criteria.max_divergence_ratio = read_number(reader, *f, 0, 1).value_or(0);
  if (auto ceilings_field = fields.get("ceilings")) {
    const Fields ceilings(reader, *ceilings_field, "resource ceilings", {"cpuRatio", "exitsRatio", "memory"});
    if (auto f = ceilings.get("cpuRatio")) criteria.max_cpu_ratio = read_number(reader, *f, 0.01, 1000);
    if (auto f = ceilings.get("exitsRatio")) criteria.max_exits_ratio = read_number(reader, *f, 0.01, 1000);
    if (auto f = ceilings.get("memory")) criteria.max_memory_bytes = read_size(reader, *f);
  }
}

}  // namespace

void load_shadow(Reader& reader, const Field& field, const std::filesystem::path& base_dir, Shadow& shadow) {
  const Fields fields(reader, field, "a shadow",
                      {"name", "live", "candidate", "mirror", "compare", "promotion", "action", "cpuWeightPercent",
                       "watchdogMs", "floodFactor", "probationSeconds"});
  shadow.at = located(field);
  if (!fields.is_mapping()) return;
  if (auto f = fields.require("name", "a name")) shadow.name = read_name(reader, *f).value_or("");
  if (auto f = fields.require("live", "the name of the partition it shadows")) shadow.live = read_name(reader, *f).value_or("");
  if (auto f = fields.require("candidate", "the candidate kernel: image and sha256")) {
    load_candidate(reader, *f, base_dir, shadow.candidate);
  }
  if (auto f = fields.get("mirror")) {
    if (auto items = read_list(reader, *f, 3, "inputs to mirror: sensors, network, channels")) {
      shadow.mirror.clear();
      for (const Field& item : *items) {
        if (auto input = read_choice(reader, item, {"sensors", "network", "channels"})) {
          shadow.mirror.insert(*input == "sensors" ? MirroredInput::kSensors
                               : *input == "network" ? MirroredInput::kNetwork
                                                     : MirroredInput::kChannels);
        }
      }
    }
  }
  if (auto f = fields.get("compare")) {
    for (const Field& item : read_list(reader, *f, kMaxCompareSpecs, "comparison rules, one per output stream")
                                 .value_or(std::vector<Field>{})) {
      CompareSpec spec;
      load_compare(reader, item, spec);
      shadow.compare.push_back(std::move(spec));
    }
  }
  if (auto f = fields.get("promotion")) load_promotion(reader, *f, shadow.promotion);
  if (auto f = fields.get("action")) {
    if (auto action = read_choice(reader, *f, {"report", "auto-promote", "auto-rollback"})) {
      shadow.action = *action == "report"         ? ShadowAction::kReport
                      : *action == "auto-promote" ? ShadowAction::kAutoPromote
                                                  : ShadowAction::kAutoRollback;
    }
  }
  if (auto f = fields.get("cpuWeightPercent")) {
    shadow.cpu_weight_percent = static_cast<std::uint32_t>(read_unsigned(reader, *f, 1, 100).value_or(shadow.cpu_weight_percent));
  }
  if (auto f = fields.get("watchdogMs")) shadow.watchdog_ms = read_unsigned(reader, *f, 10, kMaxWatchdogMs).value_or(shadow.watchdog_ms);
  if (auto f = fields.get("floodFactor")) {
    shadow.flood_factor = static_cast<std::uint32_t>(read_unsigned(reader, *f, 2, 1000).value_or(shadow.flood_factor));
  }
  if (auto f = fields.get("probationSeconds")) {
    if (auto s = read_number(reader, *f, 1, static_cast<double>(kMaxDurationSeconds))) {
      shadow.probation_ms = static_cast<std::uint64_t>(std::llround(*s * 1000.0));
    }
  }
}

void load_trust(Reader& reader, const Field& field, const std::filesystem::path& base_dir, std::vector<TrustKey>& keys) {
  const Fields fields(reader, field, "the trust settings", {"keys"});
  if (!fields.is_mapping()) return;
  auto keys_field = fields.require("keys", "a list of trusted keys");
  if (!keys_field) return;
  for (const Field& item : read_list(reader, *keys_field, kMaxTrustKeys, "trusted keys").value_or(std::vector<Field>{})) {
    const Fields key_fields(reader, item, "a trusted key", {"name", "publicKey"});
    if (!key_fields.is_mapping()) continue;
    TrustKey key;
    key.at = located(item);
    if (auto f = key_fields.require("name", "a name")) key.name = read_name(reader, *f).value_or("");
    if (auto f = key_fields.require("publicKey", "the path of an Ed25519 public key in PEM")) {
      if (auto path = read_string(reader, *f, "the path of a PEM file", kMaxPathBytes); path && !path->empty()) {
        key.public_key = *path;
        key.public_key_resolved = (base_dir / *path).lexically_normal().string();
      } else if (path) {
        reader.error(*f, "the path of a PEM file");
      }
    }
    keys.push_back(std::move(key));
  }
}

}  // namespace detail
}  // namespace tilehv::policy
