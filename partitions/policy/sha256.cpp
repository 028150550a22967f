// SHA-256 of a file through OpenSSL's EVP interface, read in blocks.
#include "policy/sha256.hpp"

#include <array>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace tilehv::policy {

tl::expected<std::string, std::string> sha256_file(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) return tl::unexpected(fmt::format("cannot open {}", file.string()));
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return tl::unexpected(std::string("cannot start a SHA-256 digest"));
  }
  std::array<char, 64 * 1024> block{};
  while (stream) {
    stream.read(block.data(), block.size());
    const auto got = static_cast<std::size_t>(stream.gcount());
    if (got > 0 && EVP_DigestUpdate(context.get(), block.data(), got) != 1) {
      return tl::unexpected(std::string("SHA-256 digest failed"));
    }
  }
  if (stream.bad()) return tl::unexpected(fmt::format("cannot read {}", file.string()));
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
    return tl::unexpected(std::string("SHA-256 digest failed"));
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace tilehv::policy
