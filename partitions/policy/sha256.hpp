// SHA-256 of a file (OpenSSL EVP), as sha256sum prints it: 64 lowercase hex digits.
#pragma once

#include <filesystem>
#include <string>

#include <tl/expected.hpp>

namespace tilehv::policy {

// The error names what failed (open, read, digest).
[[nodiscard]] tl::expected<std::string, std::string> sha256_file(const std::filesystem::path& file);

}  // namespace tilehv::policy
