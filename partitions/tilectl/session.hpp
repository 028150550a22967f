// Session: one tilectl invocation's link to the daemon and to the operator's terminal. It sends the
// requests and prints their failures the same way for every command: "tilectl: error: ..." on stderr
// and the exit code of exit_codes.hpp.
#pragma once

#include <chrono>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "api/http_client.hpp"
#include "tilectl/exit_codes.hpp"

namespace tilehv::tilectl {

inline constexpr std::string_view kDefaultSocket = "/run/tilehv/tilehvd.sock";

enum class OutputFormat { kTable, kJson };

// Where a command talks to the operator. `interactive`: stdin is a terminal, so a question can be asked.
struct Terminal {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool interactive = false;
};

// The socket to use: --socket if given, else $TILEHV_SOCKET if set and not empty, else kDefaultSocket.
// `environment_value` is getenv's answer (null when unset), passed in so that the rule is testable.
[[nodiscard]] std::string choose_socket(const std::string& flag_value, const char* environment_value);

class Session {
 public:
  Session(std::string socket_path, OutputFormat format, Terminal terminal);

  [[nodiscard]] bool json() const noexcept { return format_ == OutputFormat::kJson; }
  [[nodiscard]] std::ostream& out() noexcept { return terminal_.out; }
  [[nodiscard]] std::ostream& err() noexcept { return terminal_.err; }
  [[nodiscard]] Terminal& terminal() noexcept { return terminal_; }
  [[nodiscard]] api::HttpClient& client() noexcept { return client_; }

  // The daemon's response whatever its status; when there is none, prints why and returns kExitUnreachable.
  [[nodiscard]] tl::expected<api::HttpResponse, int> send(std::string_view method, std::string_view target,
                                                          std::string_view body = {},
                                                          std::string_view content_type = "application/json",
                                                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // send(), then the body of a 2xx answer as JSON. Any other answer is reported (report_failure)
  // and its exit code returned.
  [[nodiscard]] tl::expected<nlohmann::json, int> call(std::string_view method, std::string_view target,
                                                       std::string_view body = {},
                                                       std::string_view content_type = "application/json",
                                                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // The body of `response` as JSON, or (after saying so) kExitFailed when it is not JSON.
  [[nodiscard]] tl::expected<nlohmann::json, int> json_body(const api::HttpResponse& response);

  // Prints a non-2xx answer: with -o json its body on stdout (scripts read the code and details),
  // always "tilectl: error: server answered 404 (not_found): ..." on stderr. Returns kExitFailed.
  int report_failure(const api::HttpResponse& response);

  // "tilectl: error: <message>" on stderr; returns `exit_code`.
  int fail(std::string_view message, int exit_code = kExitFailed);

  // `value` indented by two spaces, then a newline. Invalid UTF-8 from the daemon is replaced, not fatal.
  bool print_json(const nlohmann::json& value);

  // Writes `text` to stdout and flushes it: output reaches a pipe as it is made (a stream is read as
  // it happens, and an interrupted tilectl loses nothing it received). False once stdout fails; the
  // first failure's errno is kept, since only the moment of the failed write knows it.
  bool print(std::string_view text);
  [[nodiscard]] int output_error() const noexcept { return output_error_; }

  // The exit code of the invocation once the command returned `exit_code`: stdout flushed, and a
  // write error reported unless it is EPIPE (the reader left, as `tilectl events | head` does: the
  // normal end of a pipeline, not a failure).
  int finish(int exit_code);

 private:
  api::HttpClient client_;
  OutputFormat format_;
  Terminal terminal_;
  int output_error_ = 0;
};

}  // namespace tilehv::tilectl
