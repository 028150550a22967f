// Stream commands: a partition's console and the tile's events, copied out as they arrive.
#include <string_view>

#include <fmt/format.h>

#include "tilectl/commands.hpp"
#include "tilectl/event_view.hpp"
#include "tilectl/line_splitter.hpp"
#include "tilectl/percent_encoding.hpp"
#include "tilectl/table.hpp"

namespace tilehv::tilectl {
namespace {

// One event is a short JSON object; a line this long is a broken stream, not an event.
constexpr std::size_t kMaxEventLine = 1024 * 1024;

// The client reports a non-2xx answer to a stream in describe_error_response's words; everything
// else it reports means the daemon could not be reached or the connection broke.
bool is_server_answer(const std::string& error) { return error.rfind("server answered ", 0) == 0; }

// The exit code of a stream that ended. A closed stdout (the reader left) is for Session::finish to
// judge; a stream the daemon refused or that broke is reported here.
int finish_stream(Session& session, const tl::expected<int, std::string>& result) {
  if (session.output_error() != 0 || result) return kExitOk;
  return session.fail(result.error(), is_server_answer(result.error()) ? kExitFailed : kExitUnreachable);
}

}  // namespace

int console_command(Session& session, const std::string& name, bool follow) {
  const std::string target = fmt::format("/v1/partitions/{}/console{}", percent_encode(name), follow ? "?follow=1" : "");
  // The console is the guest's own bytes, passed through unchanged: it is what the guest printed.
  const auto result = session.client().stream("GET", target, [&](std::string_view chunk) { return session.print(chunk); });
  return finish_stream(session, result);
}

int events_command(Session& session, bool follow, std::optional<std::uint64_t> since) {
  std::vector<std::pair<std::string, std::string>> query;
  if (follow) query.emplace_back("follow", "1");
  if (since) query.emplace_back("since", std::to_string(*since));
  const std::string target = "/v1/events" + query_string(query);

  LineSplitter splitter(kMaxEventLine);
  std::string stream_error;
  const auto print_line = [&](const std::string& line) {
    if (line.empty()) return true;
    // -o json passes the daemon's JSON lines through; a table shows each event on one line.
    if (session.json()) return session.print(line + "\n");
    const auto event = nlohmann::json::parse(line, nullptr, false);
    return session.print((event.is_object() ? render_event(event) : printable(line)) + "\n");
  };
  const auto result = session.client().stream("GET", target, [&](std::string_view chunk) {
    auto lines = splitter.feed(chunk);
    if (!lines) {
      stream_error = lines.error();
      return false;
    }
    for (const std::string& line : *lines) {
      if (!print_line(line)) return false;
    }
    return true;
  });
  if (!stream_error.empty()) return session.fail(stream_error);
  if (result && session.output_error() == 0) (void)print_line(splitter.rest());
  return finish_stream(session, result);
}

}  // namespace tilehv::tilectl
