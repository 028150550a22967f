// Formatting: the placeholder parser and the integer, float and string renderers behind vformat.
#include <guest/format.hpp>

#include "format_float.hpp"

namespace guest {
namespace {

struct Spec {
  char align = '\0';  // '<', '>' or none (numbers right, strings left)
  bool zero_pad = false;
  bool alternate = false;
  size_t width = 0;
  int precision = -1;
  char type = '\0';
};

// Buffers writes so the sink sees a few large pieces instead of one call per character.
class Writer {
 public:
  explicit Writer(FormatSink sink) : sink_(sink) {}
  ~Writer() { flush(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void put(char c) {
    if (used_ == sizeof(buffer_)) flush();
    buffer_[used_++] = c;
  }
  void put(StrView s) {
    for (size_t i = 0; i < s.size(); ++i) put(s[i]);
  }
  void repeat(char c, size_t n) {
    for (size_t i = 0; i < n; ++i) put(c);
  }
  void flush() {
    if (used_ != 0) sink_.write(sink_.context, buffer_, used_);
    used_ = 0;
  }

 private:
  FormatSink sink_;
  char buffer_[256];
  size_t used_ = 0;
};

const char* parse_spec(const char* p, Spec& spec) {
  if (*p == ':') {
    ++p;
    if (*p == '<' || *p == '>') spec.align = *p++;
    if (*p == '#') {
      spec.alternate = true;
      ++p;
    }
    if (*p == '0') {
      spec.zero_pad = true;
      ++p;
    }
    while (*p >= '0' && *p <= '9') spec.width = spec.width * 10 + static_cast<size_t>(*p++ - '0');
    if (*p == '.') {
      ++p;
      spec.precision = 0;
      while (*p >= '0' && *p <= '9') spec.precision = spec.precision * 10 + (*p++ - '0');
    }
    if (*p != '}' && *p != '\0') spec.type = *p++;
  }
  while (*p != '}' && *p != '\0') ++p;  // ignore anything unsupported up to the closing brace
  return *p == '}' ? p + 1 : p;
}

void pad_and_put(Writer& out, const Spec& spec, StrView prefix, StrView body, bool numeric) {
  const size_t length = prefix.size() + body.size();
  const size_t padding = spec.width > length ? spec.width - length : 0;
  const bool left = spec.align == '<' || (spec.align == '\0' && !numeric);
  if (numeric && spec.zero_pad && spec.align == '\0') {
    out.put(prefix);
    out.repeat('0', padding);
    out.put(body);
    return;
  }
  if (!left) out.repeat(' ', padding);
  out.put(prefix);
  out.put(body);
  if (left) out.repeat(' ', padding);
}

void put_unsigned(Writer& out, const Spec& spec, uint64_t value, bool negative) {
  unsigned base = 10;
  const char* digits = "0123456789abcdef";
  StrView prefix = negative ? StrView("-") : StrView();
  switch (spec.type) {
    case 'x': base = 16; if (spec.alternate) prefix = "0x"; break;
    case 'X': base = 16; digits = "0123456789ABCDEF"; if (spec.alternate) prefix = "0X"; break;
    case 'b': base = 2; if (spec.alternate) prefix = "0b"; break;
    case 'o': base = 8; if (spec.alternate) prefix = "0"; break;
    default: break;
  }
  char text[64];
  size_t pos = sizeof(text);
  do {
    text[--pos] = digits[value % base];
    value /= base;
  } while (value != 0);
  pad_and_put(out, spec, prefix, StrView(text + pos, sizeof(text) - pos), true);
}

void put_arg(Writer& out, Spec spec, const FormatArg& arg) {
  switch (arg.kind()) {
    case FormatArg::Kind::signed_int: {
      const int64_t v = arg.as_signed();
      const bool negative = v < 0 && spec.type != 'x' && spec.type != 'X' && spec.type != 'b' && spec.type != 'o';
      const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
      put_unsigned(out, spec, magnitude, negative);
      return;
    }
    case FormatArg::Kind::unsigned_int:
      if (spec.type == 'c') {
        const char c = static_cast<char>(arg.as_unsigned());
        pad_and_put(out, spec, StrView(), StrView(&c, 1), false);
        return;
      }
      put_unsigned(out, spec, arg.as_unsigned(), false);
      return;
    case FormatArg::Kind::floating: {
      // Rendered in its own SSE-enabled file: this one is integer-only (see TilehvGuestKernel.cmake).
      format_detail::FloatText text;
      format_detail::render_float(arg, spec.precision, text);
      pad_and_put(out, spec, text.negative ? StrView("-") : StrView(),
                  StrView(text.digits + text.start, sizeof(text.digits) - text.start), true);
      return;
    }
    case FormatArg::Kind::string:
      pad_and_put(out, spec, StrView(), arg.as_string(), false);
      return;
    case FormatArg::Kind::character: {
      if (spec.type == 'd' || spec.type == 'x' || spec.type == 'X') {
        put_unsigned(out, spec, arg.as_unsigned(), false);
        return;
      }
      const char c = static_cast<char>(arg.as_unsigned());
      pad_and_put(out, spec, StrView(), StrView(&c, 1), false);
      return;
    }
    case FormatArg::Kind::boolean:
      pad_and_put(out, spec, StrView(), arg.as_unsigned() != 0 ? "true" : "false", false);
      return;
    case FormatArg::Kind::pointer:
      spec.type = 'x';
      spec.alternate = true;
      put_unsigned(out, spec, arg.as_unsigned(), false);
      return;
    case FormatArg::Kind::none:
      out.put("{?}");
      return;
  }
}

struct BufferContext {
  char* buffer;
  size_t capacity;
  size_t length;
};

void buffer_write(void* context, const char* text, size_t size) {
  auto* ctx = static_cast<BufferContext*>(context);
  for (size_t i = 0; i < size; ++i, ++ctx->length)
    if (ctx->length + 1 < ctx->capacity) ctx->buffer[ctx->length] = text[i];
}

}  // namespace

void vformat(FormatSink sink, const char* fmt, const FormatArg* args, size_t count) {
  Writer out(sink);
  size_t next = 0;
  for (const char* p = fmt; *p != '\0';) {
    if (p[0] == '{' && p[1] == '{') {
      out.put('{');
      p += 2;
    } else if (p[0] == '}' && p[1] == '}') {
      out.put('}');
      p += 2;
    } else if (p[0] == '{') {
      Spec spec;
      p = parse_spec(p + 1, spec);
      // The compile-time check matches counts; this keeps a runtime-built format string harmless.
      put_arg(out, spec, next < count ? args[next] : FormatArg());
      ++next;
    } else {
      out.put(*p++);
    }
  }
}

size_t vformat_to_buffer(char* buffer, size_t capacity, const char* fmt, const FormatArg* args, size_t count) {
  BufferContext ctx{buffer, capacity, 0};
  vformat(FormatSink{buffer_write, &ctx}, fmt, args, count);
  if (capacity > 0) buffer[ctx.length < capacity ? ctx.length : capacity - 1] = '\0';
  return ctx.length;
}

}  // namespace guest
