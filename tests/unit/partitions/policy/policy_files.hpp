// Test files of the policy engine: the data folders, a scratch folder, and the demo templates rendered
// the way policies/render-template.sh renders them (docs/policy.md, "Templates").
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "policy/sha256.hpp"

namespace tilehv::policy::testing {

inline std::filesystem::path source_dir() { return TILEHV_SOURCE_DIR; }
inline std::filesystem::path data_dir() { return source_dir() / "tests/data/policies"; }
inline std::filesystem::path images_dir() { return data_dir() / "images"; }

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream stream(file, std::ios::binary);
  stream << text;
}

// A folder of its own under the system's temporary folder, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tilehv-policy-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Every @GUEST_DIR@ becomes `images`, every @SHA256:NAME@ the sha256 of images/NAME.
inline std::string render_template(const std::string& text, const std::filesystem::path& images) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const std::size_t start = text.find('@', at);
    if (start == std::string::npos) break;
    const std::size_t end = text.find('@', start + 1);
    if (end == std::string::npos) break;
    const std::string placeholder = text.substr(start + 1, end - start - 1);
    if (placeholder == "GUEST_DIR") {
      out += text.substr(at, start - at) + images.string();
    } else if (placeholder.starts_with("SHA256:")) {
      auto sum = sha256_file(images / placeholder.substr(7));
      if (!sum) throw std::runtime_error(sum.error());
      out += text.substr(at, start - at) + *sum;
    } else {
      out += text.substr(at, end - at);
      at = end;
      continue;
    }
    at = end + 1;
  }
  return out + text.substr(at);
}

// The example templates name guest kernels; the test images stand in for them (the loader hashes
// whatever file an image names), so that the examples load without a guest build.
inline void stand_in_kernels(const std::filesystem::path& folder, const std::string& template_text) {
  std::size_t at = 0;
  while ((at = template_text.find("@SHA256:", at)) != std::string::npos) {
    const std::size_t end = template_text.find('@', at + 1);
    const std::string name = template_text.substr(at + 8, end - at - 8);
    std::filesystem::copy_file(images_dir() / "alpha.elf", folder / name,
                               std::filesystem::copy_options::overwrite_existing);
    at = end + 1;
  }
}

}  // namespace tilehv::policy::testing
