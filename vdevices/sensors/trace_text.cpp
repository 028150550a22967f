// Trace text: what the CSV and JSON-lines readers share: bounded lines, located errors, record checks.
#include "sensors/trace_text.hpp"

#include <fmt/format.h>

#include "sensors/decimal.hpp"

namespace tilehv::vdevices::sensors::trace_text {
Error error_at(const Location& where, std::string_view message) {
  return Error{ErrorKind::trace, fmt::format("{}:{}:{}: {}", where.file, where.line, where.column, message)};
}

tl::expected<std::optional<std::string_view>, Error> LineCursor::next() {
  if (pos_ >= text_.size()) return std::optional<std::string_view>{};
  ++line_;
  const std::size_t end = text_.find('\n', pos_);
  std::string_view line = text_.substr(pos_, end == std::string_view::npos ? std::string_view::npos : end - pos_);
  pos_ = end == std::string_view::npos ? text_.size() : end + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_) {
    return tl::unexpected(error_at(at(max_ + 1), fmt::format("line is longer than {} bytes", max_)));
  }
  return std::optional<std::string_view>{line};
}

tl::expected<Sensor, Error> header_sensor(std::string_view name, std::string_view kind,
                                          std::optional<std::uint64_t> ports, const Location& name_at,
                                          const Location& kind_at, const Location& ports_at) {
  if (!valid_name(name)) {
    return tl::unexpected(
        error_at(name_at, fmt::format("expected a sensor name [a-z][a-z0-9_-]{{0,31}}, found {}", quote(name))));
  }
  const auto parsed = parse_kind(kind);
  if (!parsed) {
    return tl::unexpected(error_at(
        kind_at, fmt::format("expected a sensor kind (thermal, piezo, mmwave, awg, poe), found {}", quote(kind))));
  }
  if (*parsed != SensorKind::poe && ports) {
    return tl::unexpected(error_at(ports_at, "ports is only allowed for kind poe"));
  }
  if (*parsed == SensorKind::poe && (!ports || *ports == 0 || *ports > Sensor::kMaxPoePorts)) {
    return tl::unexpected(
        error_at(ports_at, fmt::format("expected ports=1..{} for kind poe", Sensor::kMaxPoePorts)));
  }
  auto sensor = Sensor::create(SensorSpec{std::string(name), *parsed, static_cast<std::uint32_t>(ports.value_or(4))});
  if (!sensor) return tl::unexpected(error_at(name_at, sensor.error().message));
  return sensor;
}

tl::expected<void, Error> RecordChecker::add(std::uint64_t timestamp_ns, std::string_view channel,
                                             std::int64_t value_milli, const Location& record_at,
                                             const Location& channel_at, const Location& value_at) {
  if (records_.size() >= limits_.max_records) {
    return tl::unexpected(error_at(record_at, fmt::format("more than {} records", limits_.max_records)));
  }
  const auto index = sensor_.find_channel(channel);
  if (!index) {
    std::string names;
    for (const Channel& c : sensor_.channels()) names += (names.empty() ? "" : ", ") + c.name;
    return tl::unexpected(
        error_at(channel_at, fmt::format("expected a channel of {} ({}), found {}", sensor_.name(), names, quote(channel))));
  }
  const Channel& spec = sensor_.channel(*index);
  if (value_milli < spec.min_milli || value_milli > spec.max_milli) {
    return tl::unexpected(error_at(
        value_at, fmt::format("value {} is outside {}'s range {}..{} {}", format_milli(value_milli), spec.name,
                              format_milli(spec.min_milli), format_milli(spec.max_milli), spec.unit)));
  }
  if (!records_.empty()) {
    const std::uint64_t previous = records_.back().timestamp_ns;
    if (timestamp_ns < previous) {
      return tl::unexpected(error_at(
          record_at, fmt::format("timestamp {} is before the previous record's {}; timestamps must not decrease",
                                 timestamp_ns, previous)));
    }
    if (timestamp_ns > previous) seen_at_timestamp_ = 0;
  }
  const std::uint32_t bit = 1U << *index;
  if ((seen_at_timestamp_ & bit) != 0) {
    return tl::unexpected(error_at(
        record_at, fmt::format("a second record of channel {} at timestamp {}", spec.name, timestamp_ns)));
  }
  seen_at_timestamp_ |= bit;
  records_.push_back(TraceRecord{timestamp_ns, static_cast<std::uint32_t>(*index), value_milli});
  return {};
}

tl::expected<std::vector<TraceRecord>, Error> RecordChecker::finish(const Location& end_at) {
  if (records_.empty()) return tl::unexpected(error_at(end_at, "expected at least one record"));
  return std::move(records_);
}

}  // namespace tilehv::vdevices::sensors::trace_text
