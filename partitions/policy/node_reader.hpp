// Node reader: typed reads of a policy's YAML nodes (JSON is read through the same nodes), each of
// which reports a schema diagnostic and yields nothing when the value does not fit, so that loading
// goes on and reports every problem of the file.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "policy/diagnostic.hpp"
#include "policy/policy.hpp"

namespace tilehv::policy::detail {

// A scalar's type under the YAML 1.2 core schema (JSON's own types); a quoted scalar is a string.
enum class ScalarType { kString, kInteger, kFloat, kBool, kNull };

// A field as found: its value (possibly null), where its key was, and its path.
struct Field {
  YAML::Node value;
  YAML::Mark key_mark;
  std::string path;
};

class Reader {
 public:
  Reader(std::string file, std::vector<Diagnostic>& diagnostics, std::map<std::string, Located>& positions,
         std::set<std::string>& malformed)
      : file_(std::move(file)), diagnostics_(diagnostics), positions_(positions), malformed_(malformed) {}

  void error(const YAML::Mark& mark, std::string path, std::string found, std::string expected);
  void error(const Field& field, std::string expected);  // found: the field's value
  // Records where a field's value is (its key's place when it has no value).
  void remember(const Field& field);

  [[nodiscard]] const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic>& diagnostics_;
  std::map<std::string, Located>& positions_;
  std::set<std::string>& malformed_;
};

// Where a value was written; a null value has no place of its own, so its key's place stands in.
[[nodiscard]] YAML::Mark mark_of(const Field& field);
[[nodiscard]] Located located(const Field& field);
[[nodiscard]] ScalarType scalar_type(const YAML::Node& node);
// How a diagnostic shows a value: "64X" quoted, 64 bare, "a list", "a mapping", null.
[[nodiscard]] std::string describe(const YAML::Node& node);

// One mapping's fields. Construction reports a value that is not a mapping, unknown fields (with a
// suggestion when one is close) and duplicate fields; require() reports a missing one.
class Fields {
 public:
  Fields(Reader& reader, const Field& mapping, std::string_view what, std::initializer_list<std::string_view> known);

  [[nodiscard]] bool is_mapping() const { return is_mapping_; }
  [[nodiscard]] std::optional<Field> get(std::string_view name) const;
  [[nodiscard]] std::optional<Field> require(std::string_view name, std::string_view expected) const;

 private:
  Reader& reader_;
  Field mapping_;
  bool is_mapping_ = false;
  std::vector<Field> fields_;  // first occurrence of each known field
};

// The items of a list (each with its path "list[i]"), or nothing after reporting a non-list or a list
// longer than `max_items`.
[[nodiscard]] std::optional<std::vector<Field>> read_list(Reader& reader, const Field& field, std::size_t max_items,
                                                          std::string_view expected);

[[nodiscard]] std::optional<std::string> read_string(Reader& reader, const Field& field, std::string_view expected,
                                                     std::size_t max_bytes = 4096);
// A name as sensors, partitions and channels have: [a-z][a-z0-9_-]{0,31}.
[[nodiscard]] std::optional<std::string> read_name(Reader& reader, const Field& field);
[[nodiscard]] std::optional<std::string> read_choice(Reader& reader, const Field& field,
                                                     std::initializer_list<std::string_view> choices);
[[nodiscard]] std::optional<std::uint64_t> read_unsigned(Reader& reader, const Field& field, std::uint64_t min,
                                                         std::uint64_t max);
[[nodiscard]] std::optional<double> read_number(Reader& reader, const Field& field, double min, double max);
[[nodiscard]] std::optional<bool> read_bool(Reader& reader, const Field& field);
[[nodiscard]] std::optional<std::uint64_t> read_size(Reader& reader, const Field& field);
[[nodiscard]] std::optional<CpuSet> read_cpu_set(Reader& reader, const Field& field);

}  // namespace tilehv::policy::detail
