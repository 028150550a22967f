// Diagnostic: one problem in a policy and its one-line rendering.
#include "policy/diagnostic.hpp"

#include <fmt/format.h>

namespace tilehv::policy {

std::string format(const Diagnostic& d) {
  std::string out = fmt::format("{}:{}:{}: ", d.file, d.line, d.column);
  if (!d.path.empty()) out += d.path + ": ";
  out += fmt::format("found {}, expected {} [{}]", d.found, d.expected, d.check);
  return out;
}

std::string format(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += format(d) + "\n";
  return out;
}

nlohmann::json to_json(const Diagnostic& d) {
  return nlohmann::json{{"file", d.file},   {"line", d.line},         {"column", d.column},
                        {"path", d.path},   {"found", d.found},       {"expected", d.expected},
                        {"check", d.check}, {"message", format(d)}};
}

}  // namespace tilehv::policy
