// Source text: the checks on a policy's bytes before any field is read, and the shared parse.
#include "policy/source_text.hpp"

#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

namespace tilehv::policy::detail {
namespace {

// Length of the UTF-8 sequence at `i`, or 0 if it is not well-formed (overlong forms, surrogates and
// code points above U+10FFFF included: RFC 3629).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return length;
}

Diagnostic at_offset(std::string_view text, std::size_t offset, const std::string& file, std::string found,
                     std::string expected) {
  const LineColumn where = line_column(text, offset);
  return Diagnostic{file, where.line, where.column, "", std::move(found), std::move(expected), "syntax"};
}

// nlohmann's grammar check without building a document: every event is accepted, the first error kept.
struct JsonSyntax : nlohmann::json_sax<nlohmann::json> {
  std::optional<std::size_t> error_byte;
  std::string error_text;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    error_byte = position;
    error_text = ex.what();
    return false;
  }
};

// "[json.exception.parse_error.101] parse error at line 1, column 12: syntax error while parsing array -
// unexpected '}'; expected ']'" -> found "'}'", expected "']'". The last-read text is left out: the
// position already shows it.
std::pair<std::string, std::string> split_json_message(const std::string& message) {
  std::string detail = message;
  // "[json.exception.out_of_range.406] number overflow parsing '1e400'": a number a double cannot hold.
  if (const auto id_end = detail.find("] "); detail.starts_with("[json.exception.") && id_end != std::string::npos) {
    detail = detail.substr(id_end + 2);
  }
  if (const auto dash = detail.find(" - "); dash != std::string::npos) detail = detail.substr(dash + 3);
  std::string expected = "valid JSON";
  if (const auto cut = detail.rfind("; expected "); cut != std::string::npos) {
    expected = detail.substr(cut + 11);
    detail.resize(cut);
  }
  if (const auto cut = detail.find("; last read: "); cut != std::string::npos) detail.resize(cut);
  if (detail.starts_with("unexpected ")) detail = detail.substr(11);
  return {detail, expected};
}

// Not an error of the text but the reason to stop walking it.
struct StopParse {
  Diagnostic diagnostic;
};

// Walks the parser's events once to bound nesting and refuse aliases, tags and second documents before
// any node is built.
class ShapeGuard : public YAML::EventHandler {
 public:
  explicit ShapeGuard(const std::string& file) : file_(file) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) stop(mark, "a second document", "one document");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    stop(mark, "an alias", "every value written out (no anchors and aliases)");
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, const std::string&) override {
    check_tag(mark, tag);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    enter(mark, tag);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, YAML::EmitterStyle::value) override {
    enter(mark, tag);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void enter(const YAML::Mark& mark, const std::string& tag) {
    check_tag(mark, tag);
    if (++depth_ > kMaxNesting) stop(mark, fmt::format("nesting deeper than {} levels", kMaxNesting),
                                     fmt::format("at most {} levels of lists and mappings", kMaxNesting));
  }
  void check_tag(const YAML::Mark& mark, const std::string& tag) {
    if (tag.empty() || tag == "?" || tag == "!") return;
    stop(mark, fmt::format("the tag {}", quote(tag)), "an untagged value");
  }
  [[noreturn]] void stop(const YAML::Mark& mark, std::string found, std::string expected) {
    throw StopParse{Diagnostic{file_, mark.line + 1, mark.column + 1, "", std::move(found), std::move(expected),
                               "syntax"}};
  }

  const std::string& file_;
  int documents_ = 0;
  int depth_ = 0;
};

}  // namespace

LineColumn line_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  LineColumn where;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++where.line;
      line_start = i + 1;
    }
  }
  where.column = static_cast<int>(offset - line_start) + 1;
  return where;
}

std::string quote(std::string_view text) {
  constexpr std::size_t kShown = 40;
  std::string out = "\"";
  std::size_t i = 0;
  for (; i < text.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (i < text.size()) {
    // Do not cut a UTF-8 sequence in half.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xc0) out.pop_back();
    out += "...";
  }
  return out + "\"";
}

std::optional<Diagnostic> check_text(std::string_view text, const std::string& file, Format format) {
  if (text.size() > kMaxPolicyBytes) {
    return Diagnostic{file, 1, 1, "", fmt::format("{} bytes", text.size()),
                      fmt::format("a policy of at most {} bytes", kMaxPolicyBytes), "syntax"};
  }
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence(text, i);
    if (length == 0) {
      return at_offset(text, i, file, fmt::format("the byte 0x{:02x}", static_cast<unsigned char>(text[i])),
                       "UTF-8 text");
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return at_offset(text, i, file, fmt::format("the control character 0x{:02x}", c), "printable text");
    }
    i += length;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Diagnostic{file, 1, 1, "", "an empty file", "a policy: a mapping with apiVersion, tile and partitions",
                      "syntax"};
  }
  if (format == Format::kJson) {
    JsonSyntax syntax;
    (void)nlohmann::json::sax_parse(text, &syntax);
    if (syntax.error_byte) {
      auto [found, expected] = split_json_message(syntax.error_text);
      // nlohmann counts the byte it stopped at from 1.
      const std::size_t offset = *syntax.error_byte > 0 ? *syntax.error_byte - 1 : 0;
      return at_offset(text, offset, file, std::move(found), std::move(expected));
    }
  }
  return std::nullopt;
}

tl::expected<YAML::Node, Diagnostic> parse_document(std::string_view text, const std::string& file) {
  const std::string owned(text);
  try {
    std::istringstream stream(owned);
    YAML::Parser parser(stream);
    ShapeGuard guard(file);
    while (parser.HandleNextDocument(guard)) {
    }
  } catch (const StopParse& stop) {
    return tl::unexpected(stop.diagnostic);
  } catch (const YAML::DeepRecursion& e) {
    // The guard stops at kMaxNesting first; this is for a parser that recurses before reporting events.
    return tl::unexpected(Diagnostic{file, e.mark.line + 1, e.mark.column + 1, "",
                                     fmt::format("nesting deeper than {} levels", kMaxNesting),
                                     fmt::format("at most {} levels of lists and mappings", kMaxNesting), "syntax"});
  } catch (const YAML::ParserException& e) {
    return tl::unexpected(Diagnostic{file, std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1, "",
                                     fmt::format("a YAML error ({})", e.msg), "well-formed YAML", "syntax"});
  }
  try {
    return YAML::Load(owned);
  } catch (const YAML::Exception& e) {
    return tl::unexpected(Diagnostic{file, std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1, "",
                                     fmt::format("a YAML error ({})", e.msg), "well-formed YAML", "syntax"});
  }
}

}  // namespace tilehv::policy::detail
