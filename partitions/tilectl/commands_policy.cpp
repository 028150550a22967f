// Policy commands: validate, plan and apply a policy file.
#include <chrono>

#include <fmt/format.h>

#include "tilectl/commands.hpp"
#include "tilectl/confirmation.hpp"
#include "tilectl/json_fields.hpp"
#include "tilectl/plan_view.hpp"
#include "tilectl/policy_file.hpp"
#include "tilectl/table.hpp"

namespace tilehv::tilectl {
namespace {

// An apply starts and stops VMMs one after the other and waits for each to come up: minutes on a
// full tile, so its bound is far above an ordinary request's.
constexpr auto kApplyTimeout = std::chrono::minutes(10);
constexpr auto kPlanTimeout = std::chrono::seconds(60);

// "partitions[1].memory" style line of a diagnostic the daemon sent without its formatted message.
std::string diagnostic_line(const nlohmann::json& d) {
  if (const std::string message = text_field(d, "message", ""); !message.empty()) return message;
  const std::string path = text_field(d, "path", "");
  return fmt::format("{}:{}:{}: {}found {}, expected {} [{}]", text_field(d, "file"), text_field(d, "line"),
                     text_field(d, "column"), path.empty() ? "" : path + ": ", text_field(d, "found"),
                     text_field(d, "expected"), text_field(d, "check"));
}

// A failed policy request: an invalid policy's diagnostics, one per line on stderr (as a compiler
// prints them), or the daemon's error.
int report_policy_failure(Session& session, const PolicyFile& policy, const api::HttpResponse& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  const nlohmann::json& errors = field(body, "errors");
  if (response.status != 422 || !errors.is_array() || errors.empty()) return session.report_failure(response);
  if (session.json()) session.print_json(body);
  for (const auto& d : errors) session.err() << printable(diagnostic_line(d)) << '\n';
  session.err() << printable(fmt::format("{}: invalid ({} error{})", policy.name, errors.size(), errors.size() == 1 ? "" : "s"))
                << '\n'
                << std::flush;
  return kExitFailed;
}

// POSTs the policy to `route`: the answer's JSON, or the exit code after the failure was printed.
tl::expected<nlohmann::json, int> post_policy(Session& session, const PolicyFile& policy, std::string_view route,
                                              std::chrono::milliseconds timeout) {
  auto response = session.send("POST", policy_target(route, policy), policy.text, policy_content_type(policy), timeout);
  if (!response) return tl::unexpected(response.error());
  if (response->status < 200 || response->status >= 300) {
    return tl::unexpected(report_policy_failure(session, policy, *response));
  }
  return session.json_body(*response);
}

}  // namespace

int validate_command(Session& session, const std::string& file) {
  auto policy = read_policy_file(file);
  if (!policy) return session.fail(policy.error());
  auto answer = post_policy(session, *policy, "/v1/policy/validate", kPlanTimeout);
  if (!answer) return answer.error();
  if (session.json()) {
    session.print_json(*answer);
  } else {
    session.print(printable(fmt::format("{}: valid ({} partitions)", file, text_field(*answer, "partitions", "?"))) + "\n");
  }
  return kExitOk;
}

int plan_command(Session& session, const std::string& file) {
  auto policy = read_policy_file(file);
  if (!policy) return session.fail(policy.error());
  auto plan = post_policy(session, *policy, "/v1/policy/plan", kPlanTimeout);
  if (!plan) return plan.error();
  if (session.json()) {
    session.print_json(*plan);
  } else {
    session.print(render_plan(*plan));
  }
  return kExitOk;
}

int apply_command(Session& session, const std::string& file, bool yes) {
  auto policy = read_policy_file(file);
  if (!policy) return session.fail(policy.error());
  if (!yes && !session.terminal().interactive) {
    return session.fail(fmt::format("not applying {}: there is no terminal to confirm on; pass --yes to apply without asking", file),
                        kExitUsage);
  }
  // With -o json --yes a script gets one document, the apply's answer (which holds the plan carried out).
  if (!yes || !session.json()) {
    auto plan = post_policy(session, *policy, "/v1/policy/plan", kPlanTimeout);
    if (!plan) return plan.error();
    if (session.json()) {
      session.print_json(*plan);
    } else {
      session.print(render_plan(*plan));
    }
    if (plan_is_empty(*plan)) return kExitOk;
    if (!yes && !confirm(session.out(), session.terminal().in, "Apply these changes?")) {
      return session.fail("not applied: the changes were not confirmed");
    }
  }
  auto applied = post_policy(session, *policy, "/v1/policy/apply", kApplyTimeout);
  if (!applied) return applied.error();
  if (session.json()) {
    session.print_json(*applied);
  } else {
    session.print(render_applied(*applied));
  }
  return kExitOk;
}

}  // namespace tilehv::tilectl
