// Sensor wire format v1: classifying one line and reading its fields.
#include <guest/sensor/fields.hpp>
#include <guest/sensor/wire.hpp>

namespace guest::sensor {
namespace {

constexpr uint64_t kMaxU32 = 0xffffffff;

Line malformed(Line line, Problem problem) {
  line.kind = LineKind::malformed;
  line.problem = problem;
  return line;
}

bool parse_u32(StrView text, uint32_t& out) {
  uint64_t value = 0;
  if (!parse_u64(text, value) || value > kMaxU32) return false;
  out = static_cast<uint32_t>(value);
  return true;
}

bool within_magnitude(int64_t value) { return value >= -kMaxMagnitude && value <= kMaxMagnitude; }

// "SEQ TIMESTAMP_NS CHANNEL VALUE", exactly four fields.
Line parse_sample(Line line) {
  Fields fields(line.text);
  StrView seq, timestamp, channel, value, extra;
  if (!fields.next(seq) || !fields.next(timestamp) || !fields.next(channel) || !fields.next(value) ||
      fields.next(extra) || !parse_u64(seq, line.sample.seq) || !parse_u64(timestamp, line.sample.timestamp_ns) ||
      !parse_u32(channel, line.sample.channel) || !parse_i64(value, line.sample.value_milli)) {
    return malformed(line, Problem::bad_sample);
  }
  line.kind = LineKind::sample;
  return line;
}

// "#tilehv-sensor vN key=value...". Keys this driver does not know are skipped: a later tile may add
// some. A version other than 1 is reported as it is, without reading further; the stream refuses it.
Line parse_header(Line line, Fields& fields) {
  StrView version;
  if (!fields.next(version) || version.size() < 2 || version[0] != 'v' ||
      !parse_u64(version.substr(1), line.header.version)) {
    return malformed(line, Problem::bad_header);
  }
  line.kind = LineKind::header;
  if (line.header.version != 1) return line;
  bool have_channels = false;
  StrView field, key, value;
  while (fields.next(field)) {
    if (!split_key_value(field, key, value)) return malformed(line, Problem::bad_header);
    if (key == "name") {
      line.header.name = value;
    } else if (key == "kind") {
      line.header.kind = value;
    } else if (key == "source") {
      line.header.source = value;
    } else if (key == "channels") {
      have_channels = parse_u32(value, line.header.channels);
      if (!have_channels) return malformed(line, Problem::bad_header);
    }
  }
  if (!valid_name(line.header.name) || !valid_name(line.header.kind) || !valid_name(line.header.source) ||
      !have_channels || line.header.channels == 0) {
    return malformed(line, Problem::bad_header);
  }
  return line;
}

// "#channel I key=value..." with every key of wire format v1 present and consistent.
Line parse_channel(Line line, Fields& fields) {
  StrView index;
  if (!fields.next(index) || !parse_u32(index, line.channel.index)) return malformed(line, Problem::bad_channel);
  ChannelLine& c = line.channel;
  int64_t scale = 0;
  uint32_t seen = 0;  // one bit per required key
  bool ok = true;
  StrView field, key, value;
  while (ok && fields.next(field)) {
    if (!split_key_value(field, key, value)) return malformed(line, Problem::bad_channel);
    if (key == "name") {
      c.name = value;
      seen |= 1u << 0;
    } else if (key == "unit") {
      c.unit = value;
      seen |= 1u << 1;
    } else if (key == "scale") {
      ok = parse_i64(value, scale);
      seen |= 1u << 2;
    } else if (key == "min") {
      ok = parse_i64(value, c.min_milli);
      seen |= 1u << 3;
    } else if (key == "max") {
      ok = parse_i64(value, c.max_milli);
      seen |= 1u << 4;
    } else if (key == "rate") {
      ok = parse_u64(value, c.rate_mhz);
      seen |= 1u << 5;
    } else if (key == "min_rate") {
      ok = parse_u64(value, c.min_rate_mhz);
      seen |= 1u << 6;
    } else if (key == "max_rate") {
      ok = parse_u64(value, c.max_rate_mhz);
      seen |= 1u << 7;
    }
  }
  // Values are printed and summed as milli-units, so a scale other than the format's would make every
  // number wrong; bounds out of order would make every sample suspect.
  if (!ok || seen != 0xffu || !valid_name(c.name) || !valid_unit(c.unit) || scale != kScale ||
      c.min_milli > c.max_milli || !within_magnitude(c.min_milli) || !within_magnitude(c.max_milli) ||
      c.min_rate_mhz > c.max_rate_mhz || c.rate_mhz == 0) {
    return malformed(line, Problem::bad_channel);
  }
  line.kind = LineKind::channel;
  return line;
}

// "#ok rate I R from=T". Other "#ok" replies belong to commands this driver never sends.
Line parse_ok(Line line, Fields& fields) {
  StrView what, channel, rate, from, extra, key, value;
  if (!fields.next(what) || !(what == "rate")) {
    line.kind = LineKind::unknown;
    return line;
  }
  if (!fields.next(channel) || !fields.next(rate) || !fields.next(from) || fields.next(extra) ||
      !parse_u32(channel, line.rate.channel) || !parse_u64(rate, line.rate.rate_mhz) ||
      !split_key_value(from, key, value) || !(key == "from") || !parse_u64(value, line.rate.from_ns)) {
    return malformed(line, Problem::bad_rate_reply);
  }
  line.kind = LineKind::rate_ok;
  return line;
}

Line parse_metadata(Line line) {
  Fields fields(line.text);
  StrView tag;
  fields.next(tag);
  if (tag == "#tilehv-sensor") return parse_header(line, fields);
  if (tag == "#channel") return parse_channel(line, fields);
  if (tag == "#ok") return parse_ok(line, fields);
  if (tag == "#error" || tag == "#fault") {
    line.kind = tag == "#error" ? LineKind::error : LineKind::fault;
    line.message = line.text.substr(tag.size() + 1);
    return line;
  }
  StrView count, extra;
  if (tag == "#dropped") {
    if (!fields.next(count) || fields.next(extra) || !parse_u64(count, line.dropped)) {
      return malformed(line, Problem::bad_dropped);
    }
    line.kind = LineKind::dropped;
    return line;
  }
  line.kind = tag == "#end" && !fields.next(extra) ? LineKind::end : LineKind::unknown;
  return line;
}

}  // namespace

Line parse_line(StrView text) {
  Line line;
  line.text = text;
  if (text.empty()) return malformed(line, Problem::empty);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] < ' ' || text[i] > '~') return malformed(line, Problem::not_printable);
  }
  if (text[0] >= '0' && text[0] <= '9') return parse_sample(line);
  if (text[0] == '#') return parse_metadata(line);
  return malformed(line, Problem::not_a_line);
}

const char* problem_name(Problem problem) {
  switch (problem) {
    case Problem::none: return "none";
    case Problem::overlong: return "line too long";
    case Problem::empty: return "empty line";
    case Problem::not_printable: return "byte outside printable ASCII";
    case Problem::not_a_line: return "neither a sample nor metadata";
    case Problem::bad_sample: return "sample is not four decimal integers";
    case Problem::bad_header: return "bad #tilehv-sensor line";
    case Problem::bad_channel: return "bad #channel line";
    case Problem::bad_dropped: return "bad #dropped line";
    case Problem::bad_rate_reply: return "bad #ok rate line";
    case Problem::channel_out_of_order: return "#channel line out of order";
    case Problem::channel_out_of_range: return "no such channel";
    case Problem::value_out_of_range: return "value outside the channel's range";
  }
  return "unknown problem";
}

}  // namespace guest::sensor
