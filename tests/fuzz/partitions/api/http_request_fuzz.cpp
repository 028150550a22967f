// Fuzz target: the control API's request parsing, routing and JSON bodies, fed a hostile client's
// bytes in hostile pieces. Every request handed out must respect the limits; errors are fine,
// crashes, leaks and out-of-bounds reads are not.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/http_request_parser.hpp"
#include "api/http_router.hpp"
#include "api/json_body.hpp"

namespace {

tilehv::api::HttpRouter make_router() {
  using namespace tilehv::api;
  HttpRouter router;
  const Handler nothing = [](const HttpRequest&) { return HttpResponse(); };
  router.route("GET", "/v1/partitions", nothing);
  router.route("GET", "/v1/partitions/{name}", nothing);
  router.route("POST", "/v1/partitions/{name}/pause", nothing);
  router.route("GET", "/v1/partitions/plan", nothing);
  router.stream_route("GET", "/v1/partitions/{name}/console", [](const HttpRequest&, ResponseStream&) {});
  return router;
}

}  // namespace

// Input: one byte choosing the piece size the bytes are fed in, then the bytes a client sends.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tilehv::api;
  if (size < 1) return 0;
  static const HttpRouter router = make_router();
  const std::size_t piece = static_cast<std::size_t>(data[0] % 64) + 1;
  // SAFETY: the fuzzer's bytes viewed as the characters a socket would deliver.
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  HttpRequestLimits limits;
  limits.max_header_bytes = 2048;
  limits.max_body_bytes = 4096;
  HttpRequestParser parser(limits);
  while (!input.empty() && parser.state() != HttpRequestParser::State::kFailed) {
    const std::string_view chunk = input.substr(0, piece);
    const std::size_t consumed = parser.feed(chunk);
    if (consumed > chunk.size()) __builtin_trap();
    input.remove_prefix(consumed);
    (void)parser.take_continue();
    if (parser.state() == HttpRequestParser::State::kComplete) {
      const HttpRequest request = parser.take_request();
      if (request.body.size() > limits.max_body_bytes || request.target.size() > limits.max_target_bytes) {
        __builtin_trap();
      }
      (void)router.resolve(request.method, request.path);
      (void)parse_json_body(request);
    } else if (consumed == 0 && parser.state() == HttpRequestParser::State::kReading) {
      __builtin_trap();  // a parser that neither consumes nor decides would spin a connection thread
    }
  }
  return 0;
}
