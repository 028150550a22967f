// Process: runs a real program with captured output, a hard time limit, and timing.
#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace tilehv::testing {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> ProcessResult::out_lines() const { return split_lines(out); }
std::vector<std::string> ProcessResult::err_lines() const { return split_lines(err); }

std::string ProcessResult::describe() const {
  std::ostringstream s;
  if (exited) s << "exit status " << status;
  else s << "killed by signal " << signal << (killed_at_limit ? " (time limit)" : "");
  s << " after " << elapsed.count() << " s\n--- stdout (" << out.size() << " bytes) ---\n"
    << out.substr(0, 4000) << "\n--- stderr ---\n" << err.substr(0, 4000);
  return s.str();
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  using Clock = std::chrono::steady_clock;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) std::abort();
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    // The child must not inherit the test runner's blocked signals.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  ProcessResult result;
  bool out_open = true, err_open = true, signalled = false;
  char buf[65536];
  while (out_open || err_open) {
    const auto now = Clock::now();
    const auto elapsed = std::chrono::duration<double>(now - start);
    if (elapsed >= options.limit) {
      ::kill(pid, SIGKILL);
      result.killed_at_limit = true;
      break;
    }
    if (options.signal_after && !signalled && elapsed >= *options.signal_after) {
      ::kill(pid, options.signal_to_send);
      signalled = true;
    }
    auto wait = options.limit - elapsed;
    if (options.signal_after && !signalled) wait = std::min(wait, *options.signal_after - elapsed);
    pollfd fds[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0}, {err_open ? err_pipe[0] : -1, POLLIN, 0}};
    const int n = ::poll(fds, 2, std::max(1, static_cast<int>(wait.count() * 1000)));
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      std::string& sink = i == 0 ? result.out : result.err;
      if (i == 0 && !result.first_output) {
        result.first_output = std::chrono::duration<double>(Clock::now() - start);
        if (options.on_first_output) options.on_first_output(pid);
      }
      if (i == 0 && !result.first_line && std::memchr(buf, '\n', static_cast<std::size_t>(got)) != nullptr) {
        result.first_line = std::chrono::duration<double>(Clock::now() - start);
      }
      if (sink.size() < options.max_captured) sink.append(buf, static_cast<std::size_t>(got));
    }
  }
  int wstatus = 0;
  rusage usage{};
  while (::wait4(pid, &wstatus, 0, &usage) < 0 && errno == EINTR) {
  }
  result.cpu_time = std::chrono::seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                    std::chrono::microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  result.peak_rss_kib = static_cast<std::uint64_t>(usage.ru_maxrss);
  result.elapsed = std::chrono::duration<double>(Clock::now() - start);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  if (WIFEXITED(wstatus)) {
    result.exited = true;
    result.status = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.signal = WTERMSIG(wstatus);
  }
  return result;
}

}  // namespace tilehv::testing
