// JsonLine: a strict reader for flat JSON objects of strings and numbers, one per trace line.
#include "sensors/json_line.hpp"

#include <string>

namespace tilehv::vdevices::sensors {
namespace {

// A line holds a handful of members; the bound keeps a hostile line of "a":1,"b":1,... cheap.
constexpr std::size_t kMaxMembers = 16;

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
  [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }
  [[nodiscard]] std::size_t column() const { return pos_ + 1; }
  bool eat(char c) {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }
  tl::unexpected<JsonSyntaxError> fail(std::string message) const {
    return tl::unexpected(JsonSyntaxError{column(), std::move(message)});
  }

  // A string without escapes: printable ASCII only, so names and values stay plain.
  tl::expected<std::string_view, JsonSyntaxError> string() {
    if (!eat('"')) return fail("expected '\"'");
    const std::size_t start = pos_;
    while (!at_end() && text_[pos_] != '"') {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '\\') return fail("escape sequences are not supported in trace strings");
      if (c < 0x20 || c > 0x7e) return fail("expected a printable ASCII character in a string");
      ++pos_;
    }
    if (at_end()) return fail("expected '\"' to end the string");
    const std::string_view out = text_.substr(start, pos_ - start);
    ++pos_;
    return out;
  }

  tl::expected<std::string_view, JsonSyntaxError> number() {
    const std::size_t start = pos_;
    eat('-');
    auto digits = [this] {
      const std::size_t from = pos_;
      while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (digits() == 0) return fail("expected a digit");
    if (eat('.') && digits() == 0) return fail("expected a digit after '.'");
    if (peek() == 'e' || peek() == 'E') return fail("exponent notation is not supported; write plain decimals");
    return text_.substr(start, pos_ - start);
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

tl::expected<std::vector<JsonMember>, JsonSyntaxError> parse_json_line(std::string_view line) {
  Scanner s(line);
  std::vector<JsonMember> members;
  s.skip_space();
  if (!s.eat('{')) return s.fail("expected '{' to start a JSON object");
  s.skip_space();
  if (!s.eat('}')) {
    while (true) {
      s.skip_space();
      JsonMember m;
      m.key_column = s.column();
      auto key = s.string();
      if (!key) return tl::unexpected(key.error());
      m.key = *key;
      for (const JsonMember& other : members) {
        if (other.key == m.key) {
          return tl::unexpected(JsonSyntaxError{m.key_column, "duplicate key \"" + std::string(m.key) + "\""});
        }
      }
      if (members.size() >= kMaxMembers) return tl::unexpected(JsonSyntaxError{m.key_column, "too many members"});
      s.skip_space();
      if (!s.eat(':')) return s.fail("expected ':' after a key");
      s.skip_space();
      m.value_column = s.column();
      const char c = s.peek();
      if (c == '"') {
        auto value = s.string();
        if (!value) return tl::unexpected(value.error());
        m.value = *value;
        m.is_string = true;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        auto value = s.number();
        if (!value) return tl::unexpected(value.error());
        m.value = *value;
      } else {
        return s.fail("expected a string or a number (objects, arrays, true, false and null are not used)");
      }
      members.push_back(m);
      s.skip_space();
      if (s.eat('}')) break;
      if (!s.eat(',')) return s.fail("expected ',' or '}'");
    }
  }
  s.skip_space();
  if (!s.at_end()) return s.fail("expected the end of the line after the object");
  return members;
}

}  // namespace tilehv::vdevices::sensors
