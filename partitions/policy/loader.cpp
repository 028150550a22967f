// Policy loader: the bytes, then the shape field by field, then the semantic checks; every problem of
// the file is reported at once.
#include "policy/loader.hpp"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "policy/checks.hpp"
#include "policy/load_sections.hpp"
#include "policy/source_text.hpp"

namespace tilehv::policy {
namespace {

using detail::Field;
using detail::Fields;
using detail::Reader;

// A section kept for later parts of the tile (migration, audit) as compact JSON; only its
// shape is checked: keys are names, each once. Nesting is already bounded by kMaxNesting, so the
// recursion is too.
nlohmann::json to_json_value(Reader& reader, const Field& field) {
  const YAML::Node& node = field.value;
  if (node.IsMap()) {
    nlohmann::json object = nlohmann::json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      const Field member{it->second, it->first.Mark(), fmt::format("{}.{}", field.path, it->first.Scalar())};
      if (!it->first.IsScalar()) {
        reader.error(it->first.Mark(), field.path, fmt::format("a key that is {}", detail::describe(it->first)),
                     "field names");
      } else if (object.contains(it->first.Scalar())) {
        reader.error(it->first.Mark(), member.path, fmt::format("a second {}", detail::quote(it->first.Scalar())),
                     "each field once");
      } else {
        object[it->first.Scalar()] = to_json_value(reader, member);
      }
    }
    return object;
  }
  if (node.IsSequence()) {
    nlohmann::json array = nlohmann::json::array();
    for (std::size_t i = 0; i < node.size(); ++i) {
      array.push_back(to_json_value(reader, Field{node[i], node[i].Mark(), fmt::format("{}[{}]", field.path, i)}));
    }
    return array;
  }
  switch (detail::scalar_type(node)) {
    case detail::ScalarType::kNull: return nullptr;
    case detail::ScalarType::kBool: return node.Scalar().front() == 't' || node.Scalar().front() == 'T';
    case detail::ScalarType::kInteger:
    case detail::ScalarType::kFloat: {
      // A number JSON cannot hold as written (.inf, 007) is kept as its text.
      auto number = nlohmann::json::parse(node.Scalar(), nullptr, false);
      return number.is_discarded() ? nlohmann::json(node.Scalar()) : number;
    }
    case detail::ScalarType::kString: break;
  }
  return node.Scalar();
}

void load_reserved(Reader& reader, const Fields& fields, std::string_view name, bool list, Policy& policy) {
  auto field = fields.get(name);
  if (!field) return;
  if (list ? !field->value.IsSequence() : !field->value.IsMap()) {
    reader.error(*field, list ? "a list" : "a mapping");
    return;
  }
  policy.reserved_sections[std::string(name)] = to_json_value(reader, *field).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void load_document(Reader& reader, const YAML::Node& root, const std::filesystem::path& base_dir, Policy& policy) {
  const Field document{root, root.Mark(), ""};
  const Fields fields(reader, document, "a tile policy",
                      {"apiVersion", "tile", "partitions", "channels", "shadows", "trust", "migration", "audit", "development"});
  if (!fields.is_mapping()) return;
  if (auto f = fields.require("apiVersion", fmt::format("\"{}\"", kApiVersion))) {
    policy.api_version = detail::read_string(reader, *f, fmt::format("\"{}\"", kApiVersion), 64).value_or("");
  }
  if (auto f = fields.require("tile", "the tile")) detail::load_tile(reader, *f, policy.tile);
  if (auto f = fields.require("partitions", "a list of partitions")) {
    auto items = detail::read_list(reader, *f, detail::kMaxPartitions, "partitions");
    for (const Field& item : items.value_or(std::vector<Field>{})) {
      Partition partition;
      detail::load_partition(reader, item, base_dir, partition);
      policy.partitions.push_back(std::move(partition));
    }
  }
  if (auto f = fields.get("channels")) {
    for (const Field& item : detail::read_list(reader, *f, detail::kMaxChannels, "channels").value_or(std::vector<Field>{})) {
      ChannelDecl channel;
      detail::load_channel(reader, item, channel);
      policy.channels.push_back(std::move(channel));
    }
  }
  if (auto f = fields.get("shadows")) {
    for (const Field& item : detail::read_list(reader, *f, detail::kMaxShadows, "shadows").value_or(std::vector<Field>{})) {
      Shadow shadow;
      detail::load_shadow(reader, item, base_dir, shadow);
      policy.shadows.push_back(std::move(shadow));
    }
  }
  if (auto f = fields.get("trust")) detail::load_trust(reader, *f, base_dir, policy.trust_keys);
  load_reserved(reader, fields, "migration", false, policy);
  load_reserved(reader, fields, "audit", false, policy);
  if (auto development_field = fields.get("development")) {
    const Fields development(reader, *development_field, "the development settings", {"unjailed"});
    if (auto f = development.get("unjailed")) {
      policy.unjailed_statement = detail::read_string(reader, *f, "the sentence docs/policy.md gives", 512);
      policy.allow_unjailed = policy.unjailed_statement == std::string(kUnjailedSentence);
    }
  }
}

std::vector<Diagnostic> one(Diagnostic diagnostic) { return std::vector<Diagnostic>{std::move(diagnostic)}; }

}  // namespace

Format format_of(const std::filesystem::path& file) {
  const std::string extension = file.extension().string();
  return extension == ".yaml" || extension == ".yml" ? Format::kYaml : Format::kJson;
}

tl::expected<Policy, std::vector<Diagnostic>> load_policy_text(std::string_view text, std::string_view display_name,
                                                               const std::filesystem::path& base_dir, Format format) {
  const std::string file(display_name);
  if (auto problem = detail::check_text(text, file, format)) return tl::unexpected(one(*problem));
  auto root = detail::parse_document(text, file);
  if (!root) return tl::unexpected(one(root.error()));

  Policy policy;
  policy.source_file = file;
  policy.display_name = file;
  policy.base_dir = std::filesystem::absolute(base_dir).lexically_normal().string();
  std::vector<Diagnostic> diagnostics;
  Reader reader(file, diagnostics, policy.field_positions, policy.malformed_fields);
  load_document(reader, *root, policy.base_dir, policy);
  for (const Check& check : semantic_checks()) check.run(policy, diagnostics);
  if (!diagnostics.empty()) return tl::unexpected(std::move(diagnostics));
  return policy;
}

tl::expected<Policy, std::vector<Diagnostic>> load_policy_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  const auto unreadable = [&](std::string found) {
    return tl::unexpected(one(Diagnostic{name, 1, 1, "", std::move(found), "a readable policy file", "syntax"}));
  };
  std::error_code error;
  const auto status = std::filesystem::status(file, error);
  if (error || !std::filesystem::exists(status)) return unreadable("no such file");
  if (!std::filesystem::is_regular_file(status)) return unreadable("something that is not a regular file");
  // Read at most one byte more than a policy may have: the size check then sees the file is too big
  // without the whole of it in memory.
  std::ifstream stream(file, std::ios::binary);
  if (!stream) return unreadable("a file that cannot be opened");
  std::string text(kMaxPolicyBytes + 1, '\0');
  stream.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (stream.bad()) return unreadable("a file that cannot be read");
  text.resize(static_cast<std::size_t>(stream.gcount()));
  if (text.size() > kMaxPolicyBytes) {
    const auto size = std::filesystem::file_size(file, error);
    return tl::unexpected(one(Diagnostic{name, 1, 1, "", fmt::format("{} bytes", error ? text.size() : size),
                                         fmt::format("a policy of at most {} bytes", kMaxPolicyBytes), "syntax"}));
  }
  const std::filesystem::path folder = std::filesystem::absolute(file).parent_path();
  auto policy = load_policy_text(text, name, folder, format_of(file));
  if (policy) policy->source_file = std::filesystem::absolute(file).lexically_normal().string();
  return policy;
}

}  // namespace tilehv::policy
