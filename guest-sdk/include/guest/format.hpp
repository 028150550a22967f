// Formatting: a type-safe, std::format-like subset that writes into a caller-supplied sink.
//
// Placeholders: {} or {:[<|>][0][width][.precision][type]}, types d x X b o c s p; {{ and }} escape.
// Integers, bool, char, C strings, StrView, pointers and floating point are accepted; anything else is
// a compile error, and so is a placeholder count that does not match the arguments.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <guest/str_view.hpp>

namespace guest {

// Where formatted text goes: a function and its context, so the formatter needs no virtual calls.
struct FormatSink {
  void (*write)(void* context, const char* text, size_t size);
  void* context;
};

class FormatArg {
 public:
  enum class Kind : uint8_t { none, signed_int, unsigned_int, floating, string, character, boolean, pointer };

  constexpr FormatArg() = default;

  template <typename T>
    requires std::signed_integral<T> && (!std::same_as<T, char>)
  constexpr FormatArg(T v) : kind_(Kind::signed_int), i_(v) {}
  template <typename T>
    requires std::unsigned_integral<T> && (!std::same_as<T, bool>) && (!std::same_as<T, char>)
  constexpr FormatArg(T v) : kind_(Kind::unsigned_int), u_(v) {}
  template <typename T>
    requires std::floating_point<T>
  constexpr FormatArg(T v) : kind_(Kind::floating), d_(static_cast<double>(v)) {}
  constexpr FormatArg(bool v) : kind_(Kind::boolean), u_(v ? 1 : 0) {}
  constexpr FormatArg(char v) : kind_(Kind::character), u_(static_cast<unsigned char>(v)) {}
  constexpr FormatArg(const char* v) : FormatArg(v == nullptr ? StrView("(null)") : StrView(v)) {}
  constexpr FormatArg(StrView v) : kind_(Kind::string), s_{v.data(), v.size()} {}
  template <typename T>
    requires(!std::same_as<std::remove_cv_t<T>, char>)
  FormatArg(T* v) : kind_(Kind::pointer), u_(reinterpret_cast<uintptr_t>(v)) {}
  constexpr FormatArg(std::nullptr_t) : kind_(Kind::pointer), u_(0) {}

  constexpr Kind kind() const { return kind_; }
  constexpr int64_t as_signed() const { return i_; }
  constexpr uint64_t as_unsigned() const { return u_; }
  constexpr double as_double() const { return d_; }
  constexpr StrView as_string() const { return StrView(s_.data, s_.size); }

 private:
  Kind kind_ = Kind::none;
  union {
    int64_t i_;
    uint64_t u_ = 0;
    double d_;
    struct {
      const char* data;
      size_t size;
    } s_;
  };
};

namespace format_detail {
// Deliberately not constexpr: reaching it during constant evaluation turns a bad format string into a
// compile error that names this function.
void format_string_does_not_match_arguments();

consteval size_t count_placeholders(const char* s) {
  size_t count = 0;
  for (size_t i = 0; s[i] != '\0'; ++i) {
    if (s[i] == '{') {
      if (s[i + 1] == '{') {
        ++i;
        continue;
      }
      while (s[i] != '\0' && s[i] != '}') ++i;
      if (s[i] == '\0') format_string_does_not_match_arguments();
      ++count;
    }
  }
  return count;
}
}  // namespace format_detail

// A format string checked at compile time against the argument count.
template <typename... Args>
class FormatString {
 public:
  template <size_t N>
  consteval FormatString(const char (&s)[N]) : str_(s) {  // NOLINT: implicit like std::format_string
    if (format_detail::count_placeholders(s) != sizeof...(Args)) format_detail::format_string_does_not_match_arguments();
  }
  constexpr const char* get() const { return str_; }

 private:
  const char* str_;
};

template <typename... Args>
using FormatStringFor = FormatString<std::type_identity_t<Args>...>;

// Formats fmt with args into sink. count is the number of entries in args.
void vformat(FormatSink sink, const char* fmt, const FormatArg* args, size_t count);

// Formats into buffer (always NUL-terminated when capacity > 0); returns the full formatted length,
// which may exceed capacity - 1 when the output was cut.
size_t vformat_to_buffer(char* buffer, size_t capacity, const char* fmt, const FormatArg* args, size_t count);

template <typename... Args>
size_t format_to_buffer(char* buffer, size_t capacity, FormatStringFor<Args...> fmt, const Args&... args) {
  const FormatArg list[] = {FormatArg(args)..., FormatArg()};
  return vformat_to_buffer(buffer, capacity, fmt.get(), list, sizeof...(Args));
}

}  // namespace guest
