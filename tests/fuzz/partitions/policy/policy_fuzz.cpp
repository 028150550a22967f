// Fuzz target: a tile policy from an operator or a REST request, in both formats. Nothing may crash
// or hang; a refusal carries at least one diagnostic, each with a position inside the text; a policy
// loaded as JSON loads as YAML too (YAML reads JSON), and a plan against itself changes nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/loader.hpp"
#include "policy/plan.hpp"

namespace {

using namespace tilehv::policy;

void check_refusal(const std::vector<Diagnostic>& diagnostics, std::string_view text) {
  if (diagnostics.empty()) __builtin_trap();
  const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const Diagnostic& d : diagnostics) {
    if (d.line < 1 || d.column < 1 || d.line > lines || d.check.empty()) __builtin_trap();
    (void)format(d);
    // As the API sends it: a policy's bytes need not be UTF-8, and what the daemon quotes of them is
    // replaced, never a reason to throw.
    (void)to_json(d).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Relative images resolve under a folder that does not exist: the images check refuses them
  // without reading anything of the host's.
  const std::filesystem::path base = "/nonexistent/tilehv-policy-fuzz";
  auto json = load_policy_text(text, "fuzz.json", base, Format::kJson);
  auto yaml = load_policy_text(text, "fuzz.yaml", base, Format::kYaml);
  if (!json) check_refusal(json.error(), text);
  if (!yaml) check_refusal(yaml.error(), text);
  if (json) {
    if (!yaml) __builtin_trap();
    const std::set<std::string> running;
    const Plan plan = make_plan(&*json, *json, running);
    for (const PlanStep& step : plan.steps) {
      if (step.action != Action::kRestart || step.reason != "not running") __builtin_trap();
    }
  }
  return 0;
}
