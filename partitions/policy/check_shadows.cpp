// The shadows check: each shadow names a partition that exists (one shadow per partition), a name
// of its own, a candidate image that exists, fits the live partition's memory and matches its
// sha256, and comparison rules that make sense for their stream.
#include <filesystem>
#include <map>
#include <set>

#include "policy/check_support.hpp"
#include "policy/sha256.hpp"
#include "policy/values.hpp"

namespace tilehv::policy::detail {
namespace {

constexpr std::string_view kCheck = "shadows";

std::string shadow_path(std::size_t index) { return fmt::format("shadows[{}]", index); }

void check_identity(const Policy& policy, std::vector<Diagnostic>& findings) {
  std::map<std::string, std::size_t> names, lives;
  const bool partitions_known = partition_names_known(policy);
  for (std::size_t i = 0; i < policy.shadows.size(); ++i) {
    const Shadow& shadow = policy.shadows[i];
    const std::string path = shadow_path(i);
    if (!shadow.name.empty() && !malformed(policy, path + ".name")) {
      if (auto [it, fresh] = names.emplace(shadow.name, i); !fresh) {
        report(policy, findings, path + ".name", fmt::format("{}, the name of {} too", as_written(shadow.name), shadow_path(it->second)),
               "a name no other shadow has", kCheck);
      } else if (partitions_known && policy.find(shadow.name) != nullptr) {
        report(policy, findings, path + ".name", fmt::format("{}, the name of a partition", as_written(shadow.name)),
               "a name no partition has", kCheck);
      } else if (shadow.name == "host" || shadow.name == "uplink") {
        report(policy, findings, path + ".name", as_written(shadow.name), "a name other than host and uplink", kCheck);
      }
    }
    if (shadow.live.empty() || malformed(policy, path + ".live") || !partitions_known) continue;
    if (policy.find(shadow.live) == nullptr) {
      report(policy, findings, path + ".live", fmt::format("{}, which is not a partition", as_written(shadow.live)),
             "the name of the partition it shadows", kCheck);
    } else if (auto [it, fresh] = lives.emplace(shadow.live, i); !fresh) {
      report(policy, findings, path + ".live",
             fmt::format("{}, which {} shadows already", as_written(shadow.live), shadow_path(it->second)),
             "a partition no other shadow shadows (one candidate at a time)", kCheck);
    }
  }
}

void check_candidate(const Policy& policy, std::vector<Diagnostic>& findings, std::size_t i) {
  const Shadow& shadow = policy.shadows[i];
  const Candidate& candidate = shadow.candidate;
  const std::string image_path = shadow_path(i) + ".candidate.image";
  if (candidate.image.empty() || malformed(policy, image_path)) return;
  std::error_code error;
  const auto status = std::filesystem::status(candidate.image_resolved, error);
  if (!std::filesystem::is_regular_file(status)) {
    report(policy, findings, image_path,
           fmt::format("{}, which {}", as_written(candidate.image),
                       std::filesystem::exists(status) ? "is not a regular file" : "does not exist"),
           "a kernel image file (relative to the policy's folder)", kCheck);
    return;
  }
  const Partition* live = policy.find(shadow.live);
  const std::uint64_t size = std::filesystem::file_size(candidate.image_resolved, error);
  if (!error && live != nullptr && live->memory_bytes > 0 && size > live->memory_bytes) {
    report(policy, findings, image_path, fmt::format("{}, {} bytes", as_written(candidate.image), size),
           fmt::format("an image no larger than {}'s memory ({})", live->name, format_size(live->memory_bytes)), kCheck);
    return;
  }
  const std::string sha_path = shadow_path(i) + ".candidate.sha256";
  if (candidate.sha256.empty() || malformed(policy, sha_path)) return;
  auto actual = sha256_file(candidate.image_resolved);
  if (!actual) {
    report(policy, findings, image_path, fmt::format("{}, which cannot be read ({})", as_written(candidate.image), actual.error()),
           "a readable kernel image file", kCheck);
  } else if (*actual != candidate.sha256) {
    report(policy, findings, sha_path, fmt::format("\"{}\"", candidate.sha256),
           fmt::format("the sha256 of {}: \"{}\"", as_written(candidate.image), *actual), kCheck);
  }
}

void check_compare(const Policy& policy, std::vector<Diagnostic>& findings, std::size_t i) {
  std::set<OutputStream> seen;
  const Shadow& shadow = policy.shadows[i];
  for (std::size_t k = 0; k < shadow.compare.size(); ++k) {
    const CompareSpec& spec = shadow.compare[k];
    const std::string path = fmt::format("{}.compare[{}]", shadow_path(i), k);
    if (malformed(policy, path) || malformed(policy, path + ".stream")) continue;
    if (!seen.insert(spec.stream).second) {
      report(policy, findings, path + ".stream", fmt::format("\"{}\" a second time", stream_name(spec.stream)),
             "one rule per output stream", kCheck);
    }
    if (spec.reorder_window > 0 && spec.stream != OutputStream::kNetwork) {
      report(policy, findings, path + ".reorderWindow", std::to_string(spec.reorder_window),
             "no reorder window: only network frames may arrive out of order", kCheck);
    }
    if (spec.rule != CompareRule::kFields && (!spec.tolerances.empty() || !spec.ignore_fields.empty())) {
      report(policy, findings, path + ".rule", fmt::format("\"exact\" with {}", spec.tolerances.empty() ? "ignoreFields" : "tolerance"),
             "rule \"fields\": tolerances and ignored fields apply to key=value records", kCheck);
    }
    if (spec.rule == CompareRule::kFields && !spec.ignore_bytes.empty()) {
      report(policy, findings, path + ".ignoreBytes", "byte ranges with rule \"fields\"",
             "ignoreFields: a fields rule compares words, not bytes", kCheck);
    }
    for (const FieldTolerance& t : spec.tolerances) {
      if (std::count(spec.ignore_fields.begin(), spec.ignore_fields.end(), t.field) != 0) {
        report(policy, findings, path + ".tolerance." + t.field, fmt::format("a tolerance for {}", as_written(t.field)),
               "a field either compared within a tolerance or ignored, not both", kCheck);
      }
    }
  }
}

}  // namespace

void check_shadows(const Policy& policy, std::vector<Diagnostic>& findings) {
  if (malformed(policy, "shadows")) return;
  check_identity(policy, findings);
  for (std::size_t i = 0; i < policy.shadows.size(); ++i) {
    if (malformed(policy, shadow_path(i))) continue;
    check_candidate(policy, findings, i);
    check_compare(policy, findings, i);
  }
}

}  // namespace tilehv::policy::detail
