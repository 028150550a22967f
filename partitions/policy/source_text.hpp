// Source text: what a policy's bytes must be before any field is read (bounded, UTF-8, well-formed
// JSON or YAML, not too deep, without aliases), and the parse into YAML nodes that both formats share.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>
#include <yaml-cpp/yaml.h>

#include "policy/diagnostic.hpp"
#include "policy/loader.hpp"

namespace tilehv::policy::detail {

struct LineColumn {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in bytes
};

[[nodiscard]] LineColumn line_column(std::string_view text, std::size_t offset);

// Size, encoding, emptiness and, for JSON, the JSON grammar (YAML accepts more than JSON does): the
// first problem, if any.
[[nodiscard]] std::optional<Diagnostic> check_text(std::string_view text, const std::string& file, Format format);

// The document as nodes, or the one problem that stopped the parse: a syntax error, nesting deeper than
// kMaxNesting, an alias (a policy spells every value out), a second document.
[[nodiscard]] tl::expected<YAML::Node, Diagnostic> parse_document(std::string_view text, const std::string& file);

// A value as a diagnostic shows it: a string quoted and escaped, at most 40 bytes of it.
[[nodiscard]] std::string quote(std::string_view text);

}  // namespace tilehv::policy::detail
