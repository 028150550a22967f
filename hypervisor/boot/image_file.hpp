// ImageFile: a kernel or module file opened for bounded, exact reads.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <tl/expected.hpp>

#include "boot/boot_error.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::boot {

class ImageFile {
 public:
  // Opens `path` (a regular, non-empty file of at most `max_size` bytes). `role` ("kernel",
  // "module") names the file in errors.
  [[nodiscard]] static tl::expected<ImageFile, BootError> open(const std::string& path,
                                                               std::uint64_t max_size,
                                                               const std::string& role);

  // Reads exactly out.size() bytes at `offset`, which must lie inside the file.
  [[nodiscard]] tl::expected<void, BootError> read_at(std::uint64_t offset,
                                                      std::span<std::uint8_t> out) const;

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& role() const noexcept { return role_; }

 private:
  ImageFile(util::UniqueFd fd, std::uint64_t size, std::string path, std::string role)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)), role_(std::move(role)) {}

  util::UniqueFd fd_;
  std::uint64_t size_;
  std::string path_;
  std::string role_;
};

}  // namespace tilehv::boot
