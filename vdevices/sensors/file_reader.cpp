// FileReader: reads a whole small host file (a trace, a sysfs attribute) with a size bound.
#include "sensors/file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "util/errno_text.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::vdevices::sensors {

tl::expected<std::string, Error> read_small_file(const std::filesystem::path& path, std::size_t max_bytes) {
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    const int err = errno;
    return tl::unexpected(Error{err == ENOENT ? ErrorKind::not_found : ErrorKind::io,
                                fmt::format("{}: {}", path.string(), util::errno_text(err))});
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return tl::unexpected(Error{ErrorKind::io, fmt::format("{}: {}", path.string(), util::errno_text(errno))});
  }
  if (!S_ISREG(st.st_mode)) {
    return tl::unexpected(Error{ErrorKind::io, fmt::format("{}: not a regular file", path.string())});
  }
  // sysfs reports a nominal size (4096) whatever it holds, so read to the end rather than trusting
  // st_size, and stop one byte past the bound to tell "exactly max" from "more".
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(Error{ErrorKind::io, fmt::format("{}: {}", path.string(), util::errno_text(errno))});
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      return tl::unexpected(Error{ErrorKind::io, fmt::format("{}: larger than {} bytes", path.string(), max_bytes)});
    }
  }
  return out;
}

}  // namespace tilehv::vdevices::sensors
