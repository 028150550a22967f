// Run command: boots one partition from the command line and waits for its end.
#include "cli/run_command.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "cli/control_server.hpp"
#include "cli/end_report.hpp"
#include "jail/jail_setup.hpp"
#include "port/plane_client.hpp"
#include "serial/console_sink.hpp"
#include "util/errno_text.hpp"
#include "util/unique_fd.hpp"
#include "vmm/exit_status.hpp"

namespace tilehv::cli {
namespace {

using Clock = std::chrono::steady_clock;

int fail(int status, const std::string& message) {
  fmt::print(stderr, "tilehv: error: {}\n", message);
  return status;
}

int status_for(const vmm::VmmError& e) {
  switch (e.kind) {
    case vmm::VmmError::Kind::kBadImage:
      return vmm::kExitBadImage;
    case vmm::VmmError::Kind::kBadConfig:
      return vmm::kExitUsage;
    case vmm::VmmError::Kind::kHost:
      return vmm::kExitHostError;
  }
  return vmm::kExitHostError;
}

const char* signal_name(std::uint32_t signo) {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

}  // namespace

int run_partition(RunRequest request) {
  // Termination signals arrive through a signalfd, so the main thread can wait for them, the VM's
  // end and the timeout in one poll. Blocked before any vCPU thread exists, so they inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  if (::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    return fail(vmm::kExitHostError, "cannot block termination signals");
  }
  util::UniqueFd signals(::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) return fail(vmm::kExitHostError, "signalfd: " + util::errno_text(errno));
  // A console reader that goes away must not kill the VMM; the sink counts what it drops.
  ::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<vdevices::ConsoleSink> sink;
  if (request.console.kind == ConsoleTarget::Kind::kFile) {
    auto file = vdevices::FileSink::create(request.console.path, request.console_limit_bytes);
    if (!file) return fail(vmm::kExitUsage, file.error());
    sink = std::move(*file);
  } else {
    sink = std::make_unique<vdevices::FdSink>(STDOUT_FILENO);
  }
  request.vmm.console = sink.get();
  std::optional<vdevices::port::PlaneClient> plane;
  if (!request.plane.empty()) {
    auto link = open_plane_link(request.plane);
    if (!link) return fail(vmm::kExitUsage, link.error());
    plane.emplace(std::move(*link));
    request.vmm.plane = &*plane;
  }

  // The control socket and the end report are opened before the VM is made, and so before any jail.
  std::optional<ControlServer> control;
  if (!request.control_path.empty()) {
    auto server = ControlServer::listen(request.control_path);
    if (!server) return fail(vmm::kExitUsage, server.error());
    control = std::move(*server);
    if (plane) control->set_plane(&*plane);
  }
  util::UniqueFd end_report;
  if (!request.end_report_path.empty()) {
    auto opened = open_end_report(request.end_report_path);
    if (!opened) return fail(vmm::kExitUsage, opened.error());
    end_report = std::move(*opened);
  }

  auto created = vmm::Vmm::create(request.vmm);
  if (!created) return fail(status_for(created.error()), created.error().message);
  vmm::Vmm& vm = **created;
  if (request.jail) {
    // Everything the VM needs is open now, and no thread runs yet: the jail takes the rest away.
    // Threads: the main one, the device worker and one per vCPU; RLIMIT_NPROC refuses the task that
    // would reach the limit, hence one more.
    request.jail->max_threads = request.vmm.vcpus + 3;
    request.jail->max_file_bytes = request.console_limit_bytes;
    if (auto jailed = jail::enter_jail(*request.jail); !jailed) {
      return fail(vmm::kExitHostError, "cannot enter the jail: " + jailed.error());
    }
  }
  if (auto started = vm.start(); !started) return fail(status_for(started.error()), started.error().message);

  std::optional<Clock::time_point> deadline;
  if (request.timeout_seconds) {
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(*request.timeout_seconds));
  }
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        vm.stop({vmm::VmEnd::Kind::kTimeout, 0, fmt::format("the guest ran for {} s", *request.timeout_seconds)});
        break;
      }
      wait_ms = static_cast<int>(std::min<std::int64_t>(left.count(), INT32_MAX));
    }
    std::vector<pollfd> fds = {{vm.end_event_fd(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
    if (control) control->add_poll_fds(fds);
    const int n = ::poll(fds.data(), fds.size(), wait_ms);
    if (n < 0 && errno != EINTR) return fail(vmm::kExitHostError, "poll: " + util::errno_text(errno));
    if (n > 0 && (fds[0].revents & POLLIN) != 0) break;
    if (n > 0 && control && control->serve(fds, vm)) {
      vm.stop({vmm::VmEnd::Kind::kStopped, 0, "stop requested on the control socket"});
      break;
    }
    if (n > 0 && (fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      const ssize_t got = ::read(signals.get(), &info, sizeof info);
      const std::uint32_t signo = got == static_cast<ssize_t>(sizeof info) ? info.ssi_signo : 0;
      vm.stop({vmm::VmEnd::Kind::kStopped, 0, fmt::format("{} received", signal_name(signo))});
      break;
    }
  }
  const vmm::VmEnd end = vm.join();
  if (const std::string line = vmm::describe(end); !line.empty()) {
    fmt::print(stderr, "tilehv: {}\n", line);
  }
  if (end_report) write_end_report(end_report.get(), end);
  return vmm::exit_status_for(end);
}

}  // namespace tilehv::cli
