// Diagnostic: one problem in a policy, with where it was written, what was found there and what was
// expected instead, and which check found it. Loading reports every problem of a file at once.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tilehv::policy {

struct Diagnostic {
  std::string file;      // as the operator named it
  int line = 0;          // 1-based
  int column = 0;        // 1-based, in bytes
  std::string path;      // field path, e.g. "partitions[1].memory"; empty for the file as a whole
  std::string found;     // rendered: "64X" quoted for a string, 64 for a number, "a list", ...
  std::string expected;
  std::string check;     // "syntax", "schema", or the semantic check's name (checks.hpp)

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

// demo.json:12:17: partitions[1].memory: found "64X", expected a size such as 64M or 1G [schema]
[[nodiscard]] std::string format(const Diagnostic& diagnostic);
// All of them, one per line, each line ending in '\n'.
[[nodiscard]] std::string format(const std::vector<Diagnostic>& diagnostics);
// {"file", "line", "column", "path", "found", "expected", "check", "message"} for the REST API.
[[nodiscard]] nlohmann::json to_json(const Diagnostic& diagnostic);

}  // namespace tilehv::policy
