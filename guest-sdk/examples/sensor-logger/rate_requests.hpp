// Rate requests of the sensor logger: the command line's "rate=<sensor>:<channel>:<mHz>[,...]".
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/str_view.hpp>

namespace sensor_logger {

struct RateRequest {
  guest::StrView sensor;
  guest::StrView channel;  // a name or an index, passed to the tile as written
  uint64_t rate_mhz = 0;
};

inline constexpr size_t kMaxRateRequests = 8;

struct RateRequests {
  RateRequest items[kMaxRateRequests];
  size_t count = 0;
  guest::StrView bad_item;  // the item that did not parse, when parse_rate_requests failed
};

// Splits `text` at commas into requests. False (with out.bad_item) for an item that is not
// "<sensor>:<channel>:<mHz>" with a valid sensor name, a channel name or index, and a decimal rate,
// or for more than kMaxRateRequests items.
bool parse_rate_requests(guest::StrView text, RateRequests& out);

}  // namespace sensor_logger
