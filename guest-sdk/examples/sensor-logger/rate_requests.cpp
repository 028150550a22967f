// Rate requests of the sensor logger: "rate=<sensor>:<channel>:<mHz>[,...]".
#include "rate_requests.hpp"

#include <guest/sensor/fields.hpp>

namespace sensor_logger {
namespace {

bool parse_item(guest::StrView item, RateRequest& out) {
  const size_t first = item.find(':');
  const size_t second = first == guest::StrView::npos ? first : item.find(':', first + 1);
  if (second == guest::StrView::npos) return false;
  out.sensor = item.substr(0, first);
  out.channel = item.substr(first + 1, second - first - 1);
  uint64_t index = 0;
  return guest::sensor::valid_name(out.sensor) &&
         (guest::sensor::valid_name(out.channel) || guest::sensor::parse_u64(out.channel, index)) &&
         guest::sensor::parse_u64(item.substr(second + 1), out.rate_mhz);
}

}  // namespace

bool parse_rate_requests(guest::StrView text, RateRequests& out) {
  out = RateRequests{};
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == guest::StrView::npos) end = text.size();
    const guest::StrView item = text.substr(start, end - start);
    if (out.count == kMaxRateRequests || !parse_item(item, out.items[out.count])) {
      out.bad_item = item;
      return false;
    }
    ++out.count;
    start = end + 1;
  }
  return true;
}

}  // namespace sensor_logger
