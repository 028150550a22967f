// ImageFile: a kernel or module file opened for bounded, exact reads.
#include "boot/image_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::boot {
namespace {

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string human_size(std::uint64_t bytes) {
  if (bytes >= (1ULL << 30)) return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ULL << 30));
  if (bytes >= (1ULL << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1ULL << 20));
  return fmt::format("{} bytes", bytes);
}

}  // namespace

tl::expected<ImageFile, BootError> ImageFile::open(const std::string& path, std::uint64_t max_size,
                                                   const std::string& role) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore the flag.
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    return tl::unexpected(BootError{BootErrc::kUnreadable,
                                    fmt::format("{} {}: {}", role, path, util::errno_text(errno))});
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return tl::unexpected(BootError{BootErrc::kUnreadable,
                                    fmt::format("{} {}: {}", role, path, util::errno_text(errno))});
  }
  if (!S_ISREG(st.st_mode)) {
    return tl::unexpected(BootError{
        BootErrc::kNotRegularFile,
        fmt::format("{} {} is {}, not a regular file", role, path, file_kind(st.st_mode))});
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) {
    return tl::unexpected(BootError{BootErrc::kBadSize, fmt::format("{} {} is empty", role, path)});
  }
  if (size > max_size) {
    return tl::unexpected(BootError{
        BootErrc::kBadSize, fmt::format("{} {} is {}, larger than the {} limit", role, path,
                                        human_size(size), human_size(max_size))});
  }
  return ImageFile(std::move(fd), size, path, role);
}

tl::expected<void, BootError> ImageFile::read_at(std::uint64_t offset, std::span<std::uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    return tl::unexpected(BootError{
        BootErrc::kBadElf, fmt::format("{} {}: read of {} bytes at offset {:#x} is beyond the end of "
                                       "the file ({} bytes)",
                                       role_, path_, out.size(), offset, size_)});
  }
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return tl::unexpected(BootError{BootErrc::kUnreadable,
                                      fmt::format("{} {}: {}", role_, path_, util::errno_text(errno))});
    }
    if (n == 0) {
      return tl::unexpected(BootError{BootErrc::kChangedWhileRead,
                                      fmt::format("{} {} shrank while it was being read", role_, path_)});
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace tilehv::boot
