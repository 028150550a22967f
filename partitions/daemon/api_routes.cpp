// The control API's routes: see api_routes.hpp and docs/api.yaml.
#include "daemon/api_routes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "api/response_stream.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::daemon {
namespace {

using api::HttpRequest;
using api::HttpResponse;

constexpr std::size_t kConsoleBacklog = 64 * 1024;  // what a console stream starts with
constexpr auto kFollowPoll = std::chrono::milliseconds(100);

HttpResponse error(const ApiError& e) {
  nlohmann::json body{{"code", e.code}, {"message", e.message}};
  if (!e.details.is_null()) {
    for (const auto& [key, value] : e.details.items()) body[key] = value;
  }
  return api::json_response(e.status, body);
}

// A policy in a request body: JSON unless the Content-Type or ?format= says YAML. The file name
// (for error positions) and the folder that relative image paths resolve against come from the query.
tl::expected<PolicySource, HttpResponse> policy_source(const HttpRequest& request) {
  PolicySource source;
  source.text = request.body;
  const std::string type = request.header("content-type");
  const auto format = request.query.find("format");
  const bool yaml = type.find("yaml") != std::string::npos || (format != request.query.end() && format->second == "yaml");
  if (format != request.query.end() && format->second != "yaml" && format->second != "json") {
    return tl::unexpected(api::error_response(400, "bad_request", "format must be json or yaml"));
  }
  source.format = yaml ? "yaml" : "json";
  const auto name = request.query.find("name");
  source.display_name = name != request.query.end() && !name->second.empty() ? name->second : "policy";
  const auto base = request.query.find("base_dir");
  source.base_dir = base != request.query.end() ? base->second : "/";
  if (source.base_dir.empty() || source.base_dir.front() != '/') {
    return tl::unexpected(api::error_response(400, "bad_request", "base_dir must be an absolute path"));
  }
  if (source.text.empty()) return tl::unexpected(api::error_response(400, "bad_request", "the request has no policy in its body"));
  return source;
}

bool follow(const HttpRequest& request) {
  const auto it = request.query.find("follow");
  return it != request.query.end() && (it->second == "1" || it->second == "true");
}

template <typename Operation>
api::Handler partition_operation(Tile& tile, Operation operation) {
  return [&tile, operation](const HttpRequest& request) {
    auto result = operation(tile, request.params.at("name"));
    return result ? api::json_response(200, *result) : error(result.error());
  };
}

void stream_console(Tile& tile, const HttpRequest& request, api::ResponseStream& stream) {
  auto path = tile.console_log(request.params.at("name"));
  if (!path) {
    stream.respond(error(path.error()));
    return;
  }
  util::UniqueFd file(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
  off_t offset = 0;
  if (file) {
    struct stat st {};
    if (::fstat(file.get(), &st) == 0 && st.st_size > static_cast<off_t>(kConsoleBacklog)) {
      offset = st.st_size - static_cast<off_t>(kConsoleBacklog);
    }
  }
  stream.begin(200, "text/plain; charset=utf-8");
  const bool keep_following = follow(request);
  char buffer[16384];
  for (;;) {
    if (!file) file = util::UniqueFd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));  // the VMM has not made it yet
    if (file) {
      struct stat st {};
      // A restarted VMM truncates its console: start over.
      if (::fstat(file.get(), &st) == 0 && st.st_size < offset) offset = 0;
      for (;;) {
        const ssize_t n = ::pread(file.get(), buffer, sizeof buffer, offset);
        if (n <= 0) break;
        offset += n;
        if (!stream.write(std::string_view(buffer, static_cast<std::size_t>(n)))) return;
      }
    }
    if (!keep_following || !stream.wait(kFollowPoll)) return;
  }
}

void stream_events(Tile& tile, const HttpRequest& request, api::ResponseStream& stream) {
  std::uint64_t after = 0;
  if (auto it = request.query.find("since"); it != request.query.end()) {
    try {
      after = std::stoull(it->second);
    } catch (...) {
      stream.respond(api::error_response(400, "bad_request", "since must be an event number"));
      return;
    }
  }
  stream.begin(200, "application/x-ndjson");
  const bool keep_following = follow(request);
  for (;;) {
    const auto events = tile.events().since(after, 256, keep_following ? kFollowPoll : std::chrono::milliseconds(0));
    std::string chunk;
    for (const Event& e : events) {
      chunk += to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      after = e.seq;
    }
    if (!chunk.empty() && !stream.write(chunk)) return;
    if (!keep_following) {
      if (events.size() < 256) return;
      continue;
    }
    if (!stream.alive() || !stream.wait(std::chrono::milliseconds(0))) return;
  }
}

}  // namespace

nlohmann::json plan_json(const policy::Plan& plan) {
  nlohmann::json steps = nlohmann::json::array();
  for (const policy::PlanStep& s : plan.steps) {
    steps.push_back({{"partition", s.partition}, {"action", policy::action_name(s.action)}, {"reason", s.reason},
                     {"changes", s.changes}});
  }
  return {{"steps", steps}, {"tile_changed", plan.tile_changed}, {"tile_changes", plan.tile_changes}};
}

void install_routes(api::HttpServer& server, Tile& tile) {
  server.route("GET", "/v1/health", [](const HttpRequest&) { return api::json_response(200, {{"ok", true}}); });
  server.route("POST", "/v1/policy/validate", [&tile](const HttpRequest& request) {
    auto source = policy_source(request);
    if (!source) return source.error();
    auto valid = tile.validate(*source);
    if (!valid) return error(valid.error());
    return api::json_response(200, {{"valid", true}, {"partitions", valid->partitions.size()}});
  });
  server.route("POST", "/v1/policy/plan", [&tile](const HttpRequest& request) {
    auto source = policy_source(request);
    if (!source) return source.error();
    auto plan = tile.plan(*source);
    return plan ? api::json_response(200, plan_json(*plan)) : error(plan.error());
  });
  server.route("POST", "/v1/policy/apply", [&tile](const HttpRequest& request) {
    auto source = policy_source(request);
    if (!source) return source.error();
    auto plan = tile.apply(*source);
    if (!plan) return error(plan.error());
    nlohmann::json body = plan_json(*plan);
    body["applied"] = true;
    return api::json_response(200, body);
  });
  server.route("GET", "/v1/policy", [&tile](const HttpRequest&) {
    auto applied = tile.applied_policy();
    if (!applied) return api::error_response(404, "not_found", "no policy has been applied");
    return api::json_response(200, {{"name", applied->display_name}, {"format", applied->format},
                                    {"base_dir", applied->base_dir}, {"text", applied->text}});
  });
  server.route("GET", "/v1/partitions", [&tile](const HttpRequest&) { return api::json_response(200, tile.list()); });
  server.route("GET", "/v1/partitions/{name}", [&tile](const HttpRequest& request) {
    auto d = tile.describe(request.params.at("name"));
    return d ? api::json_response(200, *d) : error(d.error());
  });
  server.route("POST", "/v1/partitions/{name}/pause", partition_operation(tile, [](Tile& t, const std::string& n) { return t.pause(n); }));
  server.route("POST", "/v1/partitions/{name}/resume", partition_operation(tile, [](Tile& t, const std::string& n) { return t.resume(n); }));
  server.route("POST", "/v1/partitions/{name}/restart", partition_operation(tile, [](Tile& t, const std::string& n) { return t.restart(n); }));
  server.route("POST", "/v1/partitions/{name}/stop", partition_operation(tile, [](Tile& t, const std::string& n) { return t.stop(n); }));
  server.route("POST", "/v1/partitions/stop", [&tile](const HttpRequest&) { return api::json_response(200, tile.stop_all()); });
  server.stream_route("GET", "/v1/partitions/{name}/console",
                      [&tile](const HttpRequest& request, api::ResponseStream& stream) { stream_console(tile, request, stream); });
  server.stream_route("GET", "/v1/events",
                      [&tile](const HttpRequest& request, api::ResponseStream& stream) { stream_events(tile, request, stream); });
  server.route("GET", "/v1/shadows", [&tile](const HttpRequest&) { return api::json_response(200, tile.list_shadows()); });
  server.route("POST", "/v1/shadows/try", [&tile](const HttpRequest& request) {
    const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return api::error_response(400, "bad_request", "the body is not JSON");
    auto view = tile.try_shadow(body);
    return view ? api::json_response(201, *view) : error(view.error());
  });
  server.route("GET", "/v1/shadows/{name}", partition_operation(tile, [](Tile& t, const std::string& n) { return t.shadow_status(n); }));
  server.route("GET", "/v1/shadows/{name}/report", [&tile](const HttpRequest& request) {
    const auto format = request.query.find("format");
    const std::string wanted = format == request.query.end() ? "json" : format->second;
    auto report = tile.shadow_report(request.params.at("name"), wanted);
    if (!report) return error(report.error());
    HttpResponse r;
    r.content_type = wanted == "html" ? "text/html; charset=utf-8" : wanted == "text" ? "text/plain; charset=utf-8" : "application/json";
    r.body = std::move(*report);
    return r;
  });
  server.route("POST", "/v1/shadows/{name}/promote", partition_operation(tile, [](Tile& t, const std::string& n) { return t.promote_shadow(n); }));
  server.route("POST", "/v1/shadows/{name}/rollback", partition_operation(tile, [](Tile& t, const std::string& n) { return t.roll_back_shadow(n); }));
  server.route("POST", "/v1/shadows/{name}/abort", partition_operation(tile, [](Tile& t, const std::string& n) { return t.abort_shadow(n); }));
  server.route("POST", "/v1/shadows/{name}/release", partition_operation(tile, [](Tile& t, const std::string& n) { return t.release_shadow(n); }));
  server.route("GET", "/metrics", [&tile](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = tile.prometheus_metrics();
    return r;
  });
}

}  // namespace tilehv::daemon
