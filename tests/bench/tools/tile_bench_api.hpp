// The control API under load: keep-alive clients hammering one endpoint, and the floor for it, the
// same round trips with the same bytes each way over a bare unix socket to a process that only
// reads the request and writes back the answer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tilehv::bench {

struct LoadResult {
  std::uint64_t round_trips = 0;
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  bool ok = false;
  std::string error;  // the first failure
};

// `clients` threads, each with its own kept-alive connection, send GET `target` one after another
// for `duration`; every answer must be a 200.
[[nodiscard]] LoadResult api_load(const std::string& socket, const std::string& target, int clients,
                                  std::chrono::milliseconds duration);

// The bytes of one GET `target` exchange on the wire: the request and the whole response.
struct ExchangeSize {
  std::size_t request = 0, response = 0;
};
[[nodiscard]] ExchangeSize exchange_size(const std::string& socket, const std::string& target);

// A process serving `size.response` bytes for every `size.request` bytes it reads, one thread per
// connection (as the API server does).
class EchoServer {
 public:
  EchoServer(std::string socket, ExchangeSize size);
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  // `round_trips` exchanges shared among `clients` kept-alive connections.
  [[nodiscard]] LoadResult load(int clients, std::uint64_t round_trips) const;

 private:
  std::string socket_;
  ExchangeSize size_;
  pid_t pid_ = 0;
};

}  // namespace tilehv::bench
