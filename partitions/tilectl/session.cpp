// Session: requests to the daemon and the printing of their failures.
#include "tilectl/session.hpp"

#include <cerrno>

#include <fmt/format.h>

#include "tilectl/table.hpp"
#include "util/errno_text.hpp"

namespace tilehv::tilectl {

std::string choose_socket(const std::string& flag_value, const char* environment_value) {
  if (!flag_value.empty()) return flag_value;
  if (environment_value != nullptr && *environment_value != '\0') return environment_value;
  return std::string(kDefaultSocket);
}

Session::Session(std::string socket_path, OutputFormat format, Terminal terminal)
    : client_(std::move(socket_path)), format_(format), terminal_(terminal) {}

tl::expected<api::HttpResponse, int> Session::send(std::string_view method, std::string_view target,
                                                   std::string_view body, std::string_view content_type,
                                                   std::chrono::milliseconds timeout) {
  auto response = client_.request(method, target, body, content_type, timeout);
  if (!response) return tl::unexpected(fail(response.error(), kExitUnreachable));
  return std::move(*response);
}

tl::expected<nlohmann::json, int> Session::call(std::string_view method, std::string_view target,
                                                std::string_view body, std::string_view content_type,
                                                std::chrono::milliseconds timeout) {
  auto response = send(method, target, body, content_type, timeout);
  if (!response) return tl::unexpected(response.error());
  if (response->status < 200 || response->status >= 300) return tl::unexpected(report_failure(*response));
  return json_body(*response);
}

tl::expected<nlohmann::json, int> Session::json_body(const api::HttpResponse& response) {
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) {
    return tl::unexpected(fail(fmt::format("the daemon answered {} with a body that is not JSON", response.status)));
  }
  return parsed;
}

int Session::report_failure(const api::HttpResponse& response) {
  if (json()) {
    auto parsed = nlohmann::json::parse(response.body, nullptr, false);
    if (!parsed.is_discarded()) print_json(parsed);
  }
  return fail(api::describe_error_response(response));
}

int Session::fail(std::string_view message, int exit_code) {
  terminal_.err << "tilectl: error: " << printable(message) << '\n' << std::flush;
  return exit_code;
}

bool Session::print_json(const nlohmann::json& value) {
  return print(value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

bool Session::print(std::string_view text) {
  if (output_error_ != 0) return false;
  errno = 0;
  terminal_.out.write(text.data(), static_cast<std::streamsize>(text.size()));
  terminal_.out.flush();
  if (terminal_.out) return true;
  output_error_ = errno != 0 ? errno : EIO;
  return false;
}

int Session::finish(int exit_code) {
  (void)print({});
  if (output_error_ == 0 || output_error_ == EPIPE) return exit_code;
  const int code = fail(fmt::format("cannot write the output: {}", util::errno_text(output_error_)));
  return exit_code == kExitOk ? code : exit_code;
}

}  // namespace tilehv::tilectl
