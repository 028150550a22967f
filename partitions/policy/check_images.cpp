// The images check: each kernel image exists, is a regular file no larger than its partition's memory,
// and has the sha256 the policy fixes (the policy is what the operator approved, byte for byte).
#include <filesystem>

#include "policy/check_support.hpp"
#include "policy/sha256.hpp"
#include "policy/values.hpp"

namespace tilehv::policy::detail {

void check_images(const Policy& policy, std::vector<Diagnostic>& findings) {
  constexpr std::string_view kCheck = "images";
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    const Partition& partition = policy.partitions[i];
    const std::string image_path = partition_path(i) + ".image";
    if (partition.image.empty() || malformed(policy, image_path)) continue;
    std::error_code error;
    const auto status = std::filesystem::status(partition.image_resolved, error);
    if (!std::filesystem::exists(status)) {
      report(policy, findings, image_path, fmt::format("{}, which does not exist", as_written(partition.image)),
             "a kernel image file (relative to the policy's folder)", kCheck);
      continue;
    }
    if (!std::filesystem::is_regular_file(status)) {
      report(policy, findings, image_path, fmt::format("{}, which is not a regular file", as_written(partition.image)),
             "a kernel image file (relative to the policy's folder)", kCheck);
      continue;
    }
    const std::uint64_t size = std::filesystem::file_size(partition.image_resolved, error);
    // An image cannot fit a smaller guest, and the bound keeps hashing cheap.
    if (!error && partition.memory_bytes > 0 && size > partition.memory_bytes) {
      report(policy, findings, image_path, fmt::format("{}, {} bytes", as_written(partition.image), size),
             fmt::format("an image no larger than the partition's memory ({})", format_size(partition.memory_bytes)),
             kCheck);
      continue;
    }
    const std::string sha_path = partition_path(i) + ".sha256";
    if (partition.sha256.empty() || malformed(policy, sha_path)) continue;
    auto actual = sha256_file(partition.image_resolved);
    if (!actual) {
      report(policy, findings, image_path, fmt::format("{}, which cannot be read ({})", as_written(partition.image),
                                                       actual.error()),
             "a readable kernel image file", kCheck);
    } else if (*actual != partition.sha256) {
      report(policy, findings, sha_path, fmt::format("\"{}\"", partition.sha256),
             fmt::format("the sha256 of {}: \"{}\"", as_written(partition.image), *actual), kCheck);
    }
  }
}

}  // namespace tilehv::policy::detail
