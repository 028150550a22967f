// HttpRouter: pattern parsing and matching.
#include "api/http_router.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/percent_decoding.hpp"

namespace tilehv::api {
namespace {

// Most segments a path may have; the control API's longest route has five.
constexpr std::size_t kMaxSegments = 32;

// "/a/b/" → {"a", "b", ""}: a trailing slash is an empty last segment, so "/x/" does not match "/x".
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') return parts;
  std::size_t start = 1;
  while (parts.size() <= kMaxSegments) {
    const std::size_t end = path.find('/', start);
    parts.push_back(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

}  // namespace

void HttpRouter::route(std::string method, std::string_view pattern, Handler handler) {
  add(std::move(method), pattern, std::move(handler));
}

void HttpRouter::stream_route(std::string method, std::string_view pattern, StreamHandler handler) {
  add(std::move(method), pattern, std::move(handler));
}

void HttpRouter::add(std::string method, std::string_view pattern, std::variant<Handler, StreamHandler> handler) {
  if (method.empty()) throw std::invalid_argument(fmt::format("route '{}' has no method", pattern));
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument(fmt::format("route pattern '{}' does not start with '/'", pattern));
  }
  Route route{method, std::string(pattern), {}, std::move(handler), 0};
  for (const auto part : split_path(pattern)) {
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      const std::string name(part.substr(1, part.size() - 2));
      if (name.find_first_of("{}/") != std::string::npos) {
        throw std::invalid_argument(fmt::format("route pattern '{}': bad parameter '{}'", pattern, part));
      }
      for (const auto& seen : route.segments) {
        if (seen.is_param && seen.text == name) {
          throw std::invalid_argument(fmt::format("route pattern '{}' names '{}' twice", pattern, name));
        }
      }
      route.segments.push_back({name, true});
    } else if (part.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument(fmt::format("route pattern '{}': '{}' must be a whole segment", pattern, part));
    } else {
      route.segments.push_back({std::string(part), false});
      ++route.literals;
    }
  }
  if (route.segments.size() > kMaxSegments) {
    throw std::invalid_argument(fmt::format("route pattern '{}' has more than {} segments", pattern, kMaxSegments));
  }
  for (const auto& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) {
      throw std::invalid_argument(fmt::format("route {} {} registered twice", method, pattern));
    }
  }
  routes_.push_back(std::move(route));
}

tl::expected<HttpRouter::Match, HttpResponse> HttpRouter::resolve(std::string_view method,
                                                                  std::string_view path) const {
  const auto parts = split_path(path);
  const Route* best = nullptr;
  std::vector<std::string> allowed;
  std::size_t best_literals = 0;
  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    bool matches = true;
    for (std::size_t i = 0; i < parts.size() && matches; ++i) {
      matches = route.segments[i].is_param ? !parts[i].empty() : route.segments[i].text == parts[i];
    }
    if (!matches) continue;
    if (route.method != method) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) allowed.push_back(route.method);
      continue;
    }
    if (best == nullptr || route.literals > best_literals) {
      best = &route;
      best_literals = route.literals;
    }
  }
  if (best == nullptr) {
    if (allowed.empty()) return tl::unexpected(error_response(404, "not_found", fmt::format("no route for {}", path)));
    auto response = error_response(405, "method_not_allowed",
                                   fmt::format("{} does not take {}; it takes {}", path, method, fmt::join(allowed, ", ")));
    response.headers.emplace_back("Allow", fmt::format("{}", fmt::join(allowed, ", ")));
    return tl::unexpected(std::move(response));
  }
  Match match;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!best->segments[i].is_param) continue;
    auto value = percent_decode(parts[i], false);
    if (!value) {
      return tl::unexpected(error_response(400, "malformed_path",
                                           fmt::format("path segment '{}': {}", best->segments[i].text, value.error())));
    }
    match.params.emplace(best->segments[i].text, std::move(*value));
  }
  if (const auto* plain = std::get_if<Handler>(&best->handler)) {
    match.handler = plain;
  } else {
    match.stream_handler = &std::get<StreamHandler>(best->handler);
  }
  return match;
}

}  // namespace tilehv::api
