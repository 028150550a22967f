// The control API under load and its floor: see tile_bench_api.hpp.
#include "tile_bench_api.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "api/http_client.hpp"
#include "api/unix_socket.hpp"

namespace tilehv::bench {
namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

LoadResult summarize(std::vector<double> latencies_us, double seconds, bool ok) {
  LoadResult r;
  r.round_trips = latencies_us.size();
  r.per_second = seconds > 0 ? static_cast<double>(latencies_us.size()) / seconds : 0;
  r.p50_us = percentile(latencies_us, 0.50);
  r.p99_us = percentile(latencies_us, 0.99);
  r.ok = ok && !latencies_us.empty();
  return r;
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n, size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_exactly(int fd, std::vector<char>& buffer, std::size_t size) {
  if (buffer.size() < size) buffer.resize(size);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buffer.data() + got, size - got);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// A connection for plain blocking reads and writes (connect_unix makes it non-blocking).
tl::expected<util::UniqueFd, std::string> connect_blocking(const std::string& socket) {
  auto fd = api::connect_unix(socket, std::chrono::seconds(5));
  if (fd) ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) & ~O_NONBLOCK);
  return fd;
}

// Runs `work(client_index, latencies)` on `clients` threads and summarizes what they measured.
template <typename Work>
LoadResult on_threads(int clients, Work work) {
  std::mutex lock;
  std::vector<double> all;
  bool ok = true;
  std::string error;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::vector<double> mine;
      std::string why;
      const bool fine = work(c, mine, why);
      std::lock_guard guard(lock);
      all.insert(all.end(), mine.begin(), mine.end());
      ok = ok && fine;
      if (!fine && error.empty()) error = why;
    });
  }
  for (auto& t : threads) t.join();
  LoadResult r = summarize(std::move(all), std::chrono::duration<double>(Clock::now() - t0).count(), ok);
  r.error = error;
  return r;
}

}  // namespace

LoadResult api_load(const std::string& socket, const std::string& target, int clients, std::chrono::milliseconds duration) {
  const auto end = Clock::now() + duration;
  return on_threads(clients, [&](int, std::vector<double>& latencies, std::string& error) {
    api::HttpClient client(socket);
    while (Clock::now() < end) {
      const auto t = Clock::now();
      const auto r = client.request("GET", target, {}, "application/json", std::chrono::seconds(10));
      if (!r || r->status != 200) {
        error = r ? api::describe_error_response(*r) : r.error();
        return false;
      }
      latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    }
    return true;
  });
}

ExchangeSize exchange_size(const std::string& socket, const std::string& target) {
  ExchangeSize size;
  auto fd = connect_blocking(socket);
  if (!fd) return size;
  // The request exactly as HttpClient frames a GET.
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n";
  if (!write_all(fd->get(), request.data(), request.size())) return size;
  std::string response;
  char buffer[65536];
  for (;;) {
    const std::size_t head_end = response.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::string head = response.substr(0, head_end);
      std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const std::size_t at = head.find("content-length:");
      const std::size_t body = at == std::string::npos ? 0 : std::stoul(head.substr(at + 15));
      if (response.size() >= head_end + 4 + body) {
        size.request = request.size();
        size.response = head_end + 4 + body;
        return size;
      }
    }
    const ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
    if (n <= 0) return size;
    response.append(buffer, static_cast<std::size_t>(n));
  }
}

EchoServer::EchoServer(std::string socket, ExchangeSize size) : socket_(std::move(socket)), size_(size) {
  ::unlink(socket_.c_str());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_.c_str(), std::min(socket_.size() + 1, sizeof address.sun_path - 1));
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0 || ::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 64) != 0) {
    if (listener >= 0) ::close(listener);
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    for (;;) {
      const int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) continue;
      std::thread([connection, size] {
        std::vector<char> in, out(size.response, 'x');
        while (read_exactly(connection, in, size.request) && write_all(connection, out.data(), out.size())) {
        }
        ::close(connection);
      }).detach();
    }
  }
  ::close(listener);
}

EchoServer::~EchoServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::unlink(socket_.c_str());
}

LoadResult EchoServer::load(int clients, std::uint64_t round_trips) const {
  if (pid_ <= 0 || size_.request == 0) return {};
  return on_threads(clients, [&](int c, std::vector<double>& latencies, std::string& error) {
    auto fd = connect_blocking(socket_);
    if (!fd) {
      error = fd.error();
      return false;
    }
    const std::uint64_t mine = round_trips / static_cast<std::uint64_t>(clients) +
                               (static_cast<std::uint64_t>(c) < round_trips % static_cast<std::uint64_t>(clients) ? 1 : 0);
    const std::vector<char> request(size_.request, 'r');
    std::vector<char> response;
    for (std::uint64_t i = 0; i < mine; ++i) {
      const auto t = Clock::now();
      if (!write_all(fd->get(), request.data(), request.size()) || !read_exactly(fd->get(), response, size_.response)) {
        error = "the echo connection failed";
        return false;
      }
      latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    }
    return true;
  });
}

}  // namespace tilehv::bench
