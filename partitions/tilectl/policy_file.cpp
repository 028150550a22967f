// PolicyFile: reading a policy file within its size bound.
#include "tilectl/policy_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "tilectl/percent_encoding.hpp"
#include "util/errno_text.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::tilectl {

tl::expected<PolicyFile, std::string> read_policy_file(const std::string& path) {
  if (path.empty()) return tl::unexpected(std::string("the policy file name is empty"));
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return tl::unexpected(fmt::format("cannot open {}: {}", path, util::errno_text(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return tl::unexpected(fmt::format("cannot stat {}: {}", path, util::errno_text(errno)));
  if (S_ISDIR(st.st_mode)) return tl::unexpected(fmt::format("{} is a directory, not a policy file", path));

  // Read up to one byte past the bound: the size from fstat means nothing for a pipe or /dev/stdin.
  PolicyFile policy;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(fmt::format("cannot read {}: {}", path, util::errno_text(errno)));
    if (n == 0) break;
    policy.text.append(buffer, static_cast<std::size_t>(n));
    if (policy.text.size() > kMaxPolicyBytes) {
      return tl::unexpected(fmt::format("{} is larger than {} bytes, the most a policy may have", path, kMaxPolicyBytes));
    }
  }
  if (policy.text.empty()) return tl::unexpected(fmt::format("{} is empty", path));

  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec) return tl::unexpected(fmt::format("cannot resolve the folder of {}: {}", path, ec.message()));
  const std::string extension = absolute.extension().string();
  policy.format = extension == ".yaml" || extension == ".yml" ? "yaml" : "json";
  policy.name = absolute.filename().string();
  policy.base_dir = absolute.parent_path().string();
  return policy;
}

std::string policy_target(std::string_view route, const PolicyFile& policy) {
  return std::string(route) +
         query_string({{"name", policy.name}, {"base_dir", policy.base_dir}, {"format", policy.format}});
}

std::string_view policy_content_type(const PolicyFile& policy) {
  return policy.format == "yaml" ? "application/yaml" : "application/json";
}

}  // namespace tilehv::tilectl
