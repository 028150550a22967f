// TraceSource: replays a parsed trace, bit-exact.
#include "sensors/trace_source.hpp"

#include <fmt/format.h>

#include "core/device_state.hpp"

namespace tilehv::vdevices::sensors {

std::unique_ptr<TraceSource> TraceSource::create(Trace trace) {
  const std::uint64_t digest = trace_digest(trace);
  return std::unique_ptr<TraceSource>(new TraceSource(std::move(trace), digest));
}

tl::expected<std::size_t, Error> TraceSource::poll(std::uint64_t until_ns, std::size_t max_samples,
                                                   std::vector<Sample>& out) {
  std::size_t produced = 0;
  while (produced < max_samples && position_ < trace_.records.size() &&
         trace_.records[position_].timestamp_ns <= until_ns) {
    const TraceRecord& r = trace_.records[position_];
    out.push_back(Sample{r.channel, position_, r.timestamp_ns, r.value_milli});
    ++position_;
    ++produced;
  }
  return produced;
}

tl::expected<std::uint64_t, Error> TraceSource::set_rate(std::size_t, std::uint64_t) {
  return tl::unexpected(Error{ErrorKind::refused, "the rate of a replayed trace is fixed by its timestamps"});
}

std::vector<std::uint8_t> TraceSource::save() const {
  StateWriter w;
  w.u64(digest_);
  w.u64(position_);
  return w.take();
}

tl::expected<void, Error> TraceSource::restore(std::span<const std::uint8_t> bytes) {
  StateReader r(bytes);
  auto digest = r.u64();
  auto position = r.u64();
  if (!digest || !position || !r.at_end()) {
    return tl::unexpected(Error{ErrorKind::state, "trace source state is not 16 bytes"});
  }
  if (*digest != digest_) {
    return tl::unexpected(Error{ErrorKind::state, fmt::format("state was saved while replaying another trace "
                                                              "(digest {:016x}, this trace {:016x})",
                                                              *digest, digest_)});
  }
  if (*position > trace_.records.size()) {
    return tl::unexpected(Error{ErrorKind::state, fmt::format("saved replay position {} is beyond the trace's {} records",
                                                              *position, trace_.records.size())});
  }
  position_ = static_cast<std::size_t>(*position);
  return {};
}

}  // namespace tilehv::vdevices::sensors
