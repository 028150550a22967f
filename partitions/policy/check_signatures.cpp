// The signatures check: trust keys have names of their own and are Ed25519 public keys in PEM, and a
// candidate that names a signature was signed by the key it names (OpenSSL, over the image's bytes).
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include <tl/expected.hpp>

#include "policy/check_support.hpp"

namespace tilehv::policy::detail {
namespace {

constexpr std::string_view kCheck = "signatures";
constexpr std::size_t kSignatureBytes = 64;
// Images are bounded by the partition's memory; this bounds what a check reads whatever the policy says.
constexpr std::uintmax_t kMaxSignedImage = 1ULL << 30;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

// An Ed25519 public key from a PEM file, or why not.
tl::expected<Key, std::string> load_key(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "re"), &std::fclose);
  if (!file) return tl::unexpected(std::string("a file that cannot be opened"));
  Key key(PEM_read_PUBKEY(file.get(), nullptr, nullptr, nullptr));
  if (!key) return tl::unexpected(std::string("a file that holds no PEM public key"));
  if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) return tl::unexpected(std::string("a public key that is not Ed25519"));
  return key;
}

tl::expected<std::vector<unsigned char>, std::string> read_bytes(const std::string& path, std::uintmax_t limit) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return tl::unexpected(std::string("a file that cannot be read"));
  if (size > limit) return tl::unexpected(fmt::format("a file of {} bytes", size));
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    return tl::unexpected(std::string("a file that cannot be read"));
  }
  return bytes;
}

bool verifies(EVP_PKEY* key, const std::vector<unsigned char>& signature, const std::vector<unsigned char>& message) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  // Ed25519 signs the message itself (no separate digest): one-shot verification.
  return context && EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(context.get(), signature.data(), signature.size(), message.data(), message.size()) == 1;
}

}  // namespace

void check_signatures(const Policy& policy, std::vector<Diagnostic>& findings) {
  std::map<std::string, Key> keys;
  for (std::size_t i = 0; i < policy.trust_keys.size(); ++i) {
    const TrustKey& trust = policy.trust_keys[i];
    const std::string path = fmt::format("trust.keys[{}]", i);
    if (malformed(policy, path) || trust.name.empty()) continue;
    if (keys.count(trust.name) != 0) {
      report(policy, findings, path + ".name", fmt::format("{} a second time", as_written(trust.name)),
             "a name no other trusted key has", kCheck);
      continue;
    }
    if (trust.public_key.empty()) continue;
    auto key = load_key(trust.public_key_resolved);
    if (!key) {
      report(policy, findings, path + ".publicKey", fmt::format("{}, {}", as_written(trust.public_key), key.error()),
             "an Ed25519 public key in PEM (openssl pkey -pubout)", kCheck);
      keys.emplace(trust.name, nullptr);
      continue;
    }
    keys.emplace(trust.name, std::move(*key));
  }
  for (std::size_t i = 0; i < policy.shadows.size(); ++i) {
    const Candidate& candidate = policy.shadows[i].candidate;
    const std::string path = fmt::format("shadows[{}].candidate", i);
    if (!candidate.signature || !candidate.key || malformed(policy, path)) continue;
    const auto key = keys.find(*candidate.key);
    if (key == keys.end()) {
      report(policy, findings, path + ".key", fmt::format("{}, which is not a trusted key", as_written(*candidate.key)),
             "the name of a key in trust.keys", kCheck);
      continue;
    }
    if (!key->second || candidate.image.empty()) continue;  // the key or the image is reported elsewhere
    auto signature = read_bytes(candidate.signature_resolved, kSignatureBytes);
    if (!signature || signature->size() != kSignatureBytes) {
      report(policy, findings, path + ".signature",
             fmt::format("{}, {}", as_written(*candidate.signature),
                         signature ? fmt::format("a file of {} bytes", signature->size()) : signature.error()),
             "a file of the 64-byte Ed25519 signature (openssl pkeyutl -sign -rawin)", kCheck);
      continue;
    }
    auto image = read_bytes(candidate.image_resolved, kMaxSignedImage);
    if (!image) continue;  // the shadows check says what is wrong with the image
    if (!verifies(key->second.get(), *signature, *image)) {
      report(policy, findings, path + ".signature",
             fmt::format("{}, which is not {}'s signature of {}", as_written(*candidate.signature), *candidate.key,
                         as_written(candidate.image)),
             fmt::format("the image signed by trusted key {}", as_written(*candidate.key)), kCheck);
    }
  }
}

}  // namespace tilehv::policy::detail
