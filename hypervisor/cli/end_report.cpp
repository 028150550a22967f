// End report: see end_report.hpp.
#include "cli/end_report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "util/errno_text.hpp"

namespace tilehv::cli {

tl::expected<util::UniqueFd, std::string> open_end_report(const std::string& path) {
  util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return tl::unexpected("end report " + path + ": " + util::errno_text(errno));
  return fd;
}

void write_end_report(int fd, const vmm::VmEnd& end) noexcept {
  try {
    const std::string text = nlohmann::json{{"version", 1},
                                            {"kind", vmm::kind_name(end.kind)},
                                            {"guest_value", end.guest_value},
                                            {"exit_status", vmm::exit_status_for(end)},
                                            {"detail", end.detail}}
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                             "\n";
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return;
      }
      done += static_cast<std::size_t>(n);
    }
    ::fsync(fd);
  } catch (...) {
    // Out of memory while ending: the daemon reports the end without the detail.
  }
}

}  // namespace tilehv::cli
