// Shadow commands (docs/tilectl.md, "shadow"): the state of shadows, their reports, the operator's
// decisions, and `shadow try`, the entry point of a kernel pipeline.
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "tilectl/commands.hpp"
#include "tilectl/json_fields.hpp"
#include "tilectl/percent_encoding.hpp"
#include "tilectl/table.hpp"

namespace tilehv::tilectl {
namespace {

// A promotion waits for an input boundary and pauses a VMM; the daemon bounds it in seconds.
constexpr auto kDecisionTimeout = std::chrono::minutes(1);
constexpr auto kPollEvery = std::chrono::milliseconds(250);

std::string shadow_path(const std::string& name) { return "/v1/shadows/" + percent_encode(name); }

std::string summary_cell(const nlohmann::json& view, const char* key) {
  if (!view.contains("summary") || !view["summary"].is_object()) return "-";
  return std::to_string(view["summary"].value(key, std::uint64_t{0}));
}

std::string verdict_line(const nlohmann::json& view) {
  const nlohmann::json verdict = view.value("verdict", nlohmann::json::object());
  std::string reasons;
  for (const auto& r : verdict.value("reasons", nlohmann::json::array())) {
    if (r.is_string()) reasons += (reasons.empty() ? "" : "; ") + r.get<std::string>();
  }
  return printable(fmt::format("shadow {} of {}: {} (verdict {}){}", text_field(view, "shadow"), text_field(view, "live"),
                               text_field(view, "state"), text_field(verdict, "state"), reasons.empty() ? "" : ": " + reasons));
}

bool settled(const std::string& state, const std::string& action) {
  return state == "promoted" || state == "failed" || state == "aborted" || state == "rolled-back" || state == "released" ||
         (state == "passed" && action == "report");
}

}  // namespace

int shadow_status_command(Session& session, const std::string& name) {
  if (!name.empty()) {
    auto view = session.call("GET", shadow_path(name));
    if (!view) return view.error();
    if (session.json()) return session.print_json(*view) ? kExitOk : kExitFailed;
    session.print(verdict_line(*view) + "\n");
    session.print("  " + printable(fmt::format("candidate {} (sha256 {})", text_field(*view, "candidate"), text_field(*view, "sha256"))) +
                  "\n  " +
                  printable(fmt::format("inputs {}, compared {}, divergent {}", summary_cell(*view, "inputs"),
                                        summary_cell(*view, "compared"), summary_cell(*view, "divergent"))) +
                  "\n  " + printable(fmt::format("report {}", view->contains("report") ? text_field((*view)["report"], "html") : "-")) +
                  "\n");
    return kExitOk;
  }
  auto list = session.call("GET", "/v1/shadows");
  if (!list) return list.error();
  if (session.json()) return session.print_json(*list) ? kExitOk : kExitFailed;
  Table table({"SHADOW", "LIVE", "STATE", "VERDICT", "INPUTS", "COMPARED", "DIVERGENT", "ACTION"});
  for (const auto& v : *list) {
    table.add_row({text_field(v, "shadow"), text_field(v, "live"), text_field(v, "state"),
                   text_field(v.value("verdict", nlohmann::json::object()), "state"), summary_cell(v, "inputs"),
                   summary_cell(v, "compared"), summary_cell(v, "divergent"), text_field(v, "action")});
  }
  session.print(table.empty() ? "no shadows\n" : table.render());
  return kExitOk;
}

int shadow_report_command(Session& session, const std::string& name, const std::string& format) {
  auto response = session.send("GET", fmt::format("{}/report?format={}", shadow_path(name), format));
  if (!response) return response.error();
  if (response->status / 100 != 2) return session.report_failure(*response);
  session.print(response->body);
  return kExitOk;
}

int shadow_decision_command(Session& session, const std::string& decision, const std::string& name) {
  auto view = session.call("POST", fmt::format("{}/{}", shadow_path(name), decision), {}, "application/json", kDecisionTimeout);
  if (!view) return view.error();
  if (session.json()) return session.print_json(*view) ? kExitOk : kExitFailed;
  session.print(verdict_line(*view) + "\n");
  return kExitOk;
}

int shadow_try_command(Session& session, const TryOptions& options) {
  std::filesystem::path candidate = options.candidate;
  std::error_code ec;
  candidate = std::filesystem::absolute(candidate, ec);
  if (!options.generator.empty()) {
    // Any command that writes the image is a generator: it runs with the path in $TILEHV_CANDIDATE.
    ::setenv("TILEHV_CANDIDATE", candidate.c_str(), 1);
    const int status = std::system(options.generator.c_str());
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return session.fail(fmt::format("the generator '{}' failed (status {}); nothing was staged", options.generator,
                                      WIFEXITED(status) ? WEXITSTATUS(status) : status));
    }
  }
  if (!std::filesystem::is_regular_file(candidate, ec)) {
    return session.fail(fmt::format("candidate {} is not a file", candidate.string()));
  }
  nlohmann::json request{{"live", options.live}, {"candidate", candidate.string()}, {"action", options.action}};
  if (options.min_inputs) request["min_inputs"] = *options.min_inputs;
  if (options.min_duration_ms) request["min_duration_ms"] = *options.min_duration_ms;
  if (options.max_divergence) request["max_divergence_ratio"] = *options.max_divergence;
  if (options.fresh) request["fresh"] = true;
  auto started = session.call("POST", "/v1/shadows/try", request.dump(), "application/json", kDecisionTimeout);
  if (!started) return started.error();
  const std::string name = text_field(*started, "shadow");
  if (!session.json()) session.print(printable(fmt::format("staged {} as shadow {} of {}", candidate.string(), name, options.live)) + "\n");
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  nlohmann::json view = *started;
  while (!settled(text_field(view, "state"), options.action)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)session.call("POST", shadow_path(name) + "/abort", {}, "application/json", kDecisionTimeout);
      return session.fail(fmt::format("no verdict within {} s: the shadow was aborted", options.timeout.count() / 1000));
    }
    std::this_thread::sleep_for(kPollEvery);
    auto polled = session.call("GET", shadow_path(name));
    if (!polled) return polled.error();
    view = std::move(*polled);
  }
  if (session.json()) {
    (void)session.print_json(view);
  } else {
    session.print(verdict_line(view) + "\n");
    session.print(printable(fmt::format("report: {}", view.contains("report") ? text_field(view["report"], "html") : "-")) + "\n");
  }
  const std::string state = text_field(view, "state");
  return state == "promoted" || state == "passed" ? kExitOk : kExitFailed;
}

}  // namespace tilehv::tilectl
