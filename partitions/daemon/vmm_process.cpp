// VmmProcess: see vmm_process.hpp.
#include "daemon/vmm_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::daemon {
namespace {

using Clock = std::chrono::steady_clock;

util::UniqueFd open_pidfd(pid_t pid) { return util::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

std::string last_log_line(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

// Connects to the control socket; the VMM makes it before its VM, so a refused connection early on
// only means "not yet".
util::UniqueFd connect_control(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof address.sun_path) return {};
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  util::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return {};
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return {};
  return fd;
}

}  // namespace

std::optional<std::uint64_t> process_start_ticks(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // The command name may hold spaces and parentheses: fields count from the last ')'.
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  // Field 3 (state) is the first after the name; the start time is field 22.
  for (int index = 3; index <= 22; ++index) {
    if (!(fields >> field)) return std::nullopt;
  }
  try {
    return std::stoull(field);
  } catch (...) {
    return std::nullopt;
  }
}

tl::expected<SpawnedProcess, std::string> spawn_unjailed(SpawnRequest& request) {
  std::vector<char*> argv;
  for (std::string& a : request.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int plane = request.plane_link.get();
  const int log = request.log.get();
  const pid_t pid = ::fork();
  if (pid < 0) return tl::unexpected("fork: " + util::errno_text(errno));
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::setsid();
    const int null = ::open("/dev/null", O_RDWR);
    if (null < 0 || ::dup2(null, STDIN_FILENO) < 0 || ::dup2(null, STDOUT_FILENO) < 0) ::_exit(127);
    if (log >= 0 && ::dup2(log, STDERR_FILENO) < 0) ::_exit(127);
    if (plane >= 0 && ::dup2(plane, 3) < 0) ::_exit(127);
    ::close_range(plane >= 0 ? 4 : 3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  util::UniqueFd pidfd = open_pidfd(pid);
  if (!pidfd) return tl::unexpected("pidfd_open: " + util::errno_text(errno));
  return SpawnedProcess{pid, std::move(pidfd)};
}

tl::expected<VmmProcess, std::string> VmmProcess::start(SpawnRequest request, const Spawner& spawner, VmmFiles files) {
  std::error_code ignored;
  std::filesystem::remove(files.end_report(), ignored);
  std::filesystem::remove(files.control(), ignored);
  request.log = util::UniqueFd(::open(files.log().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!request.log) return tl::unexpected(files.log().string() + ": " + util::errno_text(errno));
  auto spawned = spawner(request);
  if (!spawned) return tl::unexpected(spawned.error());
  const auto ticks = process_start_ticks(spawned->pid);
  return VmmProcess(spawned->pid, std::move(spawned->pidfd), ticks.value_or(0), std::move(files), true);
}

tl::expected<VmmProcess, std::string> VmmProcess::adopt(pid_t pid, std::uint64_t start_ticks, VmmFiles files) {
  if (pid <= 0) return tl::unexpected(std::string("no process recorded"));
  util::UniqueFd pidfd = open_pidfd(pid);
  if (!pidfd) return tl::unexpected(fmt::format("process {} is gone", pid));
  // Checked after pidfd_open: the pidfd then pins this very process.
  const auto ticks = process_start_ticks(pid);
  if (!ticks || *ticks != start_ticks) return tl::unexpected(fmt::format("process {} is another process now", pid));
  return VmmProcess(pid, std::move(pidfd), start_ticks, std::move(files), false);
}

tl::expected<nlohmann::json, std::string> control_request(const std::filesystem::path& socket,
                                                          const std::string& request,
                                                          std::chrono::milliseconds timeout, int pass_fd) {
  util::UniqueFd fd = connect_control(socket);
  if (!fd) return tl::unexpected("control socket: " + util::errno_text(errno));
  std::string line = request + "\n";
  iovec iov{line.data(), line.size()};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (pass_fd >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof pass_fd);
  }
  if (::sendmsg(fd.get(), &message, MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    return tl::unexpected("control socket: send: " + util::errno_text(errno));
  }
  const auto deadline = Clock::now() + timeout;
  std::string answer;
  char buffer[1024];
  while (answer.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return tl::unexpected(fmt::format("no answer to '{}' within {} ms", request, timeout.count()));
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n <= 0) return tl::unexpected("control socket closed before answering '" + request + "'");
    answer.append(buffer, static_cast<std::size_t>(n));
    if (answer.size() > 65536) return tl::unexpected(std::string("control answer too long"));
  }
  auto j = nlohmann::json::parse(answer.substr(0, answer.find('\n')), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected(std::string("control answer is not a JSON object"));
  if (!j.value("ok", false)) return tl::unexpected(j.value("error", std::string("refused")));
  return j;
}

bool VmmProcess::exited() const {
  pollfd p{pidfd_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

tl::expected<void, std::string> VmmProcess::wait_ready(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (exited()) {
      const std::string why = last_log_line(files_.log());
      return tl::unexpected(why.empty() ? std::string("the VMM ended while starting") : why);
    }
    if (auto status = control("status", std::chrono::milliseconds(1000)); status) return {};
    if (Clock::now() >= deadline) {
      return tl::unexpected(fmt::format("the VMM did not answer on its control socket within {} ms", timeout.count()));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

nlohmann::json VmmProcess::collect_end() {
  if (child_ && !reaped_) {
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) wait_status_ = status;
    reaped_ = true;
  }
  std::ifstream in(files_.end_report());
  std::stringstream text;
  text << in.rdbuf();
  auto report = nlohmann::json::parse(text.str(), nullptr, false);
  if (!report.is_discarded() && report.is_object() && report.contains("kind")) {
    report.erase("version");
    return report;
  }
  // No report: the VMM did not get to the end of its run.
  nlohmann::json end{{"kind", "vmm-crash"}};
  if (wait_status_ && WIFSIGNALED(*wait_status_)) {
    const int sig = WTERMSIG(*wait_status_);
    end["signal"] = sig;
    end["detail"] = fmt::format("the VMM was killed by signal {} ({}){}", sig, ::sigabbrev_np(sig) ? ::sigabbrev_np(sig) : "?",
                                sig == SIGSYS ? ": a system call outside its seccomp allow-list" : "");
  } else if (wait_status_ && WIFEXITED(*wait_status_)) {
    end["exit_status"] = WEXITSTATUS(*wait_status_);
    const std::string why = last_log_line(files_.log());
    end["detail"] = why.empty() ? fmt::format("the VMM exited with status {}", WEXITSTATUS(*wait_status_)) : why;
  } else {
    end["detail"] = "the VMM ended without a report (killed or crashed while the daemon was away)";
  }
  return end;
}

void VmmProcess::kill() const { ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0); }

void VmmProcess::stop(std::chrono::milliseconds grace) {
  if (!exited()) {
    if (!control("stop", std::chrono::milliseconds(500))) {
      ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGTERM, nullptr, 0);
    }
    pollfd p{pidfd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(grace.count())) <= 0) kill();
    ::poll(&p, 1, 5000);
  }
}

}  // namespace tilehv::daemon
