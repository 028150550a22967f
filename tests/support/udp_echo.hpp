// UdpEcho: a UDP echo on one of the host's addresses, for guests that exchange datagrams with the
// host's own network stack; it notes how many datagrams each sender's address sent.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "util/unique_fd.hpp"

namespace tilehv::testing {

class UdpEcho {
 public:
  UdpEcho(const std::string& address, std::uint16_t port) {
    socket_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(socket_);
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    bound.sin_port = htons(port);
    EXPECT_EQ(::inet_pton(AF_INET, address.c_str(), &bound.sin_addr), 1);
    EXPECT_EQ(::bind(socket_.get(), reinterpret_cast<sockaddr*>(&bound), sizeof bound), 0) << std::strerror(errno);
    thread_ = std::thread([this] { serve(); });
  }
  ~UdpEcho() {
    stop_ = true;
    thread_.join();
  }
  UdpEcho(const UdpEcho&) = delete;
  UdpEcho& operator=(const UdpEcho&) = delete;

  // Datagrams echoed, by the sender's address.
  [[nodiscard]] int echoed(const std::string& from) {
    std::lock_guard lock(mutex_);
    auto it = echoed_.find(from);
    return it == echoed_.end() ? 0 : it->second;
  }

 private:
  void serve() {
    char buffer[2048];
    while (!stop_) {
      pollfd p{socket_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const ssize_t n = ::recvfrom(socket_.get(), buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n <= 0) continue;
      ::sendto(socket_.get(), buffer, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), length);
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
      std::lock_guard lock(mutex_);
      ++echoed_[text];
    }
  }

  util::UniqueFd socket_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<std::string, int> echoed_;
  std::thread thread_;
};

}  // namespace tilehv::testing
