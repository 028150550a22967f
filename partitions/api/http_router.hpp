// HttpRouter: maps a method and a path to the handler registered for a pattern such as
// "/v1/partitions/{name}/pause", and names what is wrong when nothing matches (404, or 405 with the
// methods the path does take).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <tl/expected.hpp>

#include "api/http_message.hpp"

namespace tilehv::api {

class ResponseStream;

using Handler = std::function<HttpResponse(const HttpRequest&)>;
using StreamHandler = std::function<void(const HttpRequest&, ResponseStream&)>;

class HttpRouter {
 public:
  // What a request resolved to: a handler with the pattern's decoded parameters, or the error to answer.
  struct Match {
    const Handler* handler = nullptr;               // exactly one of handler and stream_handler is set
    const StreamHandler* stream_handler = nullptr;
    std::map<std::string, std::string> params;
  };

  // Registers a route. A pattern is "/"-separated literal segments and "{name}" segments, each of
  // which matches one non-empty path segment. Throws std::invalid_argument for a malformed pattern
  // or a method+pattern registered twice: routes are fixed at start-up, so that is a programming error.
  void route(std::string method, std::string_view pattern, Handler handler);
  void stream_route(std::string method, std::string_view pattern, StreamHandler handler);

  // The route for `method` and the still-encoded `path`. A literal segment wins over a "{name}" one
  // ("/v1/partitions/plan" before "/v1/partitions/{name}"); errors are 404, 405 (with an Allow
  // header) or 400 (a segment with an invalid escape).
  [[nodiscard]] tl::expected<Match, HttpResponse> resolve(std::string_view method, std::string_view path) const;

  [[nodiscard]] std::size_t size() const noexcept { return routes_.size(); }

 private:
  struct Segment {
    std::string text;
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    std::variant<Handler, StreamHandler> handler;
    std::size_t literals = 0;
  };

  void add(std::string method, std::string_view pattern, std::variant<Handler, StreamHandler> handler);

  std::vector<Route> routes_;
};

}  // namespace tilehv::api
