// The floor for round trips between processes: a token around a ring of processes through eventfds.
#include "eventfd_floor.hpp"

#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace tilehv::bench {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  if (values.empty()) return 0;
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double eventfd_ring_floor_us(int hops, int rounds) {
  std::vector<int> fds;
  for (int i = 0; i < hops; ++i) fds.push_back(::eventfd(0, EFD_CLOEXEC));
  std::vector<pid_t> children;
  for (int i = 1; i < hops; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      for (int r = 0; r < rounds; ++r) {
        std::uint64_t v = 0;
        if (::read(fds[static_cast<std::size_t>(i)], &v, sizeof v) != sizeof v) _exit(1);
        const std::uint64_t one = 1;
        if (::write(fds[static_cast<std::size_t>((i + 1) % hops)], &one, sizeof one) != sizeof one) _exit(1);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  std::vector<double> samples;
  for (int r = 0; r < rounds; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t one = 1;
    std::uint64_t v = 0;
    if (::write(fds[1 % hops], &one, sizeof one) != sizeof one || ::read(fds[0], &v, sizeof v) != sizeof v) break;
    samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
  for (int fd : fds) ::close(fd);
  return median(samples);
}

}  // namespace tilehv::bench
