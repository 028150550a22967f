// HttpServer: the acceptor, the connection threads and their end.
#include "api/http_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "api/socket_io.hpp"
#include "util/errno_text.hpp"

namespace tilehv::api {

struct HttpServer::Connection {
  std::thread thread;
  std::atomic<bool> done{false};
};

tl::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::listen(const UnixListenOptions& socket,
                                                                          const HttpServerLimits& limits) {
  auto fd = listen_unix(socket);
  if (!fd) return tl::unexpected(fd.error());
  struct stat info{};
  const bool identified = ::stat(socket.path.c_str(), &info) == 0;
  auto server = adopt(std::move(*fd), limits);
  if (!server) {
    ::unlink(socket.path.c_str());
    return server;
  }
  if (identified) {
    (*server)->path_ = socket.path;
    (*server)->path_device_ = info.st_dev;
    (*server)->path_inode_ = info.st_ino;
  }
  return server;
}

tl::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::adopt(util::UniqueFd listening,
                                                                         const HttpServerLimits& limits) {
  if (!listening) return tl::unexpected(std::string("no listening socket"));
  if (limits.max_connections == 0) return tl::unexpected(std::string("max_connections must be at least 1"));
  // accept() must not block the acceptor: it polls, and a client may leave between poll and accept.
  const int flags = ::fcntl(listening.get(), F_GETFL);
  if (flags < 0 || ::fcntl(listening.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return tl::unexpected(fmt::format("cannot make the listening socket non-blocking: {}", util::errno_text(errno)));
  }
  auto cancel = util::EventFd::create();
  if (!cancel) return tl::unexpected(fmt::format("cannot create an eventfd: {}", util::errno_text(errno)));
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(listening), std::move(*cancel), limits));
}

HttpServer::HttpServer(util::UniqueFd listening, util::EventFd cancel, const HttpServerLimits& limits)
    : listening_(std::move(listening)),
      cancel_(std::move(cancel)),
      limits_(limits) {}

HttpServer::~HttpServer() {
  stop();
  if (!path_.empty()) {
    struct stat info{};
    if (::stat(path_.c_str(), &info) == 0 && info.st_dev == path_device_ && info.st_ino == path_inode_) {
      ::unlink(path_.c_str());
    }
  }
}

void HttpServer::route(std::string method, std::string_view pattern, Handler handler) {
  if (started_) throw std::logic_error(fmt::format("route {} {} added after the server started", method, pattern));
  router_.route(std::move(method), pattern, std::move(handler));
}

void HttpServer::stream_route(std::string method, std::string_view pattern, StreamHandler handler) {
  if (started_) throw std::logic_error(fmt::format("route {} {} added after the server started", method, pattern));
  router_.stream_route(std::move(method), pattern, std::move(handler));
}

tl::expected<void, std::string> HttpServer::start() {
  if (started_) return tl::unexpected(std::string("the server is already started"));
  if (stopped_) return tl::unexpected(std::string("the server was stopped"));
  started_ = true;
  try {
    acceptor_ = std::thread([this] { accept_loop(); });
  } catch (const std::system_error& e) {
    return tl::unexpected(fmt::format("cannot start the acceptor thread: {}", e.what()));
  }
  return {};
}

void HttpServer::stop() noexcept {
  if (stopped_) return;
  stopped_ = true;
  cancel_.signal();
  if (acceptor_.joinable()) acceptor_.join();
  reap(true);
}

void HttpServer::accept_loop() noexcept {
  for (;;) {
    pollfd fds[2] = {{listening_.get(), POLLIN, 0}, {cancel_.fd(), POLLIN, 0}};
    // Wake up now and then even without clients, so finished connection threads are joined.
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) return;
    if ((fds[1].revents & POLLIN) != 0) return;
    reap(false);
    if ((fds[0].revents & POLLIN) == 0) continue;
    util::UniqueFd client(::accept4(listening_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) {
      // EMFILE and friends: wait for the next poll round rather than spin on a full descriptor table.
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) ::poll(fds + 1, 1, 100);
      continue;
    }
    if (counters_.open() >= limits_.max_connections) {
      reject(std::move(client));
      continue;
    }
    counters_.connection_accepted();
    try {
      // The slot is in the list before its thread runs: a thread the list does not hold could
      // never be joined.
      connections_.push_back(std::make_unique<Connection>());
      Connection* slot = connections_.back().get();
      slot->thread = std::thread([this, slot, fd = std::move(client)]() mutable {
        HttpConnection(std::move(fd), router_, limits_, cancel_.fd(), counters_).serve();
        counters_.connection_closed();
        slot->done.store(true, std::memory_order_release);
      });
    } catch (...) {
      // No memory or no thread: the client is dropped (its descriptor closes with the lambda).
      if (!connections_.empty() && !connections_.back()->thread.joinable()) connections_.pop_back();
      counters_.connection_closed();
    }
  }
}

void HttpServer::reject(util::UniqueFd client) noexcept {
  counters_.connection_rejected();
  counters_.response(503);
  try {
    const auto response = error_response(503, "too_many_connections",
                                         fmt::format("the server has {} connections open; try again later",
                                                     limits_.max_connections));
    const std::string text = serialize_response_head(response, false) + response.body;
    // A fresh socket's buffer holds this at once; the acceptor never waits for a client.
    (void)send_all(client.get(), text, Clock::now(), cancel_.fd());
  } catch (...) {
  }
}

void HttpServer::reap(bool all) noexcept {
  auto& list = connections_;
  for (auto it = list.begin(); it != list.end();) {
    if (all || (*it)->done.load(std::memory_order_acquire)) {
      if ((*it)->thread.joinable()) (*it)->thread.join();
      it = list.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace tilehv::api
