// Helpers for tilectl's tests: a real control-API server on a temporary socket whose routes answer
// with canned, daemon-shaped JSON and record what they were asked, and a way to run a command with
// its terminal captured.
#pragma once

#include <filesystem>
#include <istream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "support/temp_dir.hpp"
#include "tilectl/session.hpp"

namespace tilehv::tilectl::testing {

struct SeenRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> params;
  std::string content_type;
  std::string body;
};

class CannedDaemon {
 public:
  CannedDaemon() : socket_((dir_.path() / "tilehvd.sock").string()) {
    auto server = api::HttpServer::listen({socket_});
    if (!server) throw std::runtime_error(server.error());
    server_ = std::move(*server);
  }
  ~CannedDaemon() { server_->stop(); }
  CannedDaemon(const CannedDaemon&) = delete;
  CannedDaemon& operator=(const CannedDaemon&) = delete;

  // A route answering `status` with `body` as JSON.
  void answer(const std::string& method, const std::string& pattern, int status, nlohmann::json body) {
    server_->route(method, pattern, [this, status, body](const api::HttpRequest& request) {
      record(request);
      return api::json_response(status, body);
    });
  }
  void route(const std::string& method, const std::string& pattern, api::Handler handler) {
    server_->route(method, pattern, [this, handler](const api::HttpRequest& request) {
      record(request);
      return handler(request);
    });
  }
  void stream_route(const std::string& method, const std::string& pattern, api::StreamHandler handler) {
    server_->stream_route(method, pattern, [this, handler](const api::HttpRequest& request, api::ResponseStream& stream) {
      record(request);
      handler(request, stream);
    });
  }
  void start() {
    if (auto started = server_->start(); !started) throw std::runtime_error(started.error());
  }

  [[nodiscard]] const std::string& socket() const { return socket_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
  [[nodiscard]] std::string write_file(const std::string& name, const std::string& text) const { return dir_.write(name, text); }
  [[nodiscard]] std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  [[nodiscard]] std::size_t count(const std::string& path) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& r : seen_) n += r.path == path ? 1 : 0;
    return n;
  }

 private:
  void record(const api::HttpRequest& request) {
    std::lock_guard lock(mutex_);
    seen_.push_back({request.method, request.path, request.query, request.params, request.header("content-type"), request.body});
  }

  tilehv::testing::TempDir dir_;
  std::string socket_;
  std::unique_ptr<api::HttpServer> server_;
  mutable std::mutex mutex_;
  std::vector<SeenRequest> seen_;
};

struct Captured {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `command(session)` with stdout, stderr and stdin (`input`) as strings.
template <typename Command>
Captured run(const std::string& socket, OutputFormat format, Command command, const std::string& input = "",
             bool interactive = false) {
  std::ostringstream out, err;
  std::istringstream in(input);
  Session session(socket, format, Terminal{out, err, in, interactive});
  Captured captured;
  captured.code = command(session);
  captured.out = out.str();
  captured.err = err.str();
  return captured;
}

// Daemon-shaped partition views (as Tile::view makes them).
inline nlohmann::json web_view() {
  return {{"name", "web"},          {"state", "running"},  {"pid", 4242},
          {"vcpus", 2},             {"memory_bytes", 268435456}, {"image", "/srv/images/web.elf"},
          {"restart_policy", "on-failure"}, {"restarts", 1}, {"uid", 200001},
          {"uptime_seconds", 3725.5}};
}
inline nlohmann::json batch_view() {
  return {{"name", "batch"},
          {"state", "stopped"},
          {"pid", 0},
          {"vcpus", 1},
          {"memory_bytes", 100663296},
          {"image", "/srv/images/batch.elf"},
          {"restart_policy", "never"},
          {"restarts", 0},
          {"uid", 200002},
          {"last_end", {{"kind", "triple-fault"}, {"exit_status", 103}, {"detail", "the guest triple-faulted at rip 0x1000"}}}};
}

}  // namespace tilehv::tilectl::testing
