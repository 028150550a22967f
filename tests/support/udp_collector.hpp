// UdpCollector: UDP sockets on host addresses that keep every datagram they receive, per port and
// in arrival order, while a test runs a partition that sends them.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "util/unique_fd.hpp"

namespace tilehv::testing {

class UdpCollector {
 public:
  // Binds a socket to address:port; false (with errno set) if that fails. Receive buffers are made
  // large, so a burst is not dropped while the collector is busy with the other socket.
  bool bind(const std::string& address, std::uint16_t port) {
    util::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return false;
    const int buffer_bytes = 8 << 20;
    // FORCE passes rmem_max when root; otherwise the plain request, capped by the kernel.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0) {
      (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) return false;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
    sockets_.push_back(Socket{port, std::move(fd)});
    return true;
  }

  // Runs `body` (which starts the sender and returns when it has ended) on this thread while a
  // second one receives; then receives until the sockets were quiet for `quiet`. Returns the
  // payloads by destination port.
  std::map<std::uint16_t, std::vector<std::string>> collect(const std::function<void()>& body,
                                                            std::chrono::milliseconds quiet = std::chrono::milliseconds(200)) {
    std::map<std::uint16_t, std::vector<std::string>> received;
    for (const Socket& s : sockets_) received[s.port];
    std::atomic<bool> body_done{false};
    std::thread receiver([&] {
      auto last_datagram = std::chrono::steady_clock::now();
      std::vector<pollfd> fds;
      for (const Socket& s : sockets_) fds.push_back(pollfd{s.fd.get(), POLLIN, 0});
      std::vector<char> buffer(65536);
      while (!body_done || std::chrono::steady_clock::now() - last_datagram < quiet) {
        if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
        for (std::size_t i = 0; i < sockets_.size(); ++i) {
          for (;;) {
            const ssize_t n = ::recv(sockets_[i].fd.get(), buffer.data(), buffer.size(), 0);
            if (n < 0) break;
            received[sockets_[i].port].emplace_back(buffer.data(), static_cast<std::size_t>(n));
            last_datagram = std::chrono::steady_clock::now();
          }
        }
      }
    });
    body();
    body_done = true;
    receiver.join();
    return received;
  }

 private:
  struct Socket {
    std::uint16_t port;
    util::UniqueFd fd;
  };
  std::vector<Socket> sockets_;
};

}  // namespace tilehv::testing
