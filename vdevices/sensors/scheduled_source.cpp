// ScheduledSource: the sources that sample on a clock (synthetic and IIO). Each channel has its own
// rate; sample k after the channel's epoch is stamped epoch + floor(k * 1e12 / rate_mHz) ns.
#include "sensors/scheduled_source.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "sensors/int_math.hpp"

namespace tilehv::vdevices::sensors {
namespace {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kPicosPerSecond = 1'000'000'000'000;  // ns per second times mHz per Hz

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept { return a > kNever - b ? kNever : a + b; }

}  // namespace

std::uint64_t ChannelClock::next_ns() const noexcept {
  if (rate_mhz == 0) return kNever;
  __extension__ using u128 = unsigned __int128;
  const u128 offset = static_cast<u128>(index) * kPicosPerSecond / rate_mhz;
  if (offset >= kNever) return kNever;
  return saturating_add(epoch_ns, static_cast<std::uint64_t>(offset));
}

ScheduledSource::ScheduledSource(Sensor sensor) : sensor_(std::move(sensor)) {
  for (const Channel& c : sensor_.channels()) clocks_.push_back(ChannelClock{c.rate_mhz, 0, 0, 0, false});
}

tl::expected<std::size_t, Error> ScheduledSource::poll(std::uint64_t until_ns, std::size_t max_samples,
                                                       std::vector<Sample>& out) {
  // The channel due first; ties go to the lower index so the order is total.
  auto earliest = [this](std::uint64_t& when) {
    std::size_t best = clocks_.size();
    when = kNever;
    for (std::size_t i = 0; i < clocks_.size(); ++i) {
      const std::uint64_t t = clocks_[i].next_ns();
      if (t < when) {
        when = t;
        best = i;
      }
    }
    return best;
  };
  std::uint64_t when = 0;
  std::size_t produced = 0;
  if (earliest(when) < clocks_.size() && when <= until_ns && max_samples > 0) {
    auto ready = prepare(until_ns);
    if (!ready) return tl::unexpected(ready.error());
    std::size_t channel = earliest(when);
    while (produced < max_samples && channel < clocks_.size() && when <= until_ns) {
      const Channel& spec = sensor_.channel(channel);
      const auto index = static_cast<std::uint32_t>(channel);
      out.push_back(Sample{index, next_seq_++, when,
                           std::clamp(value(index, when), spec.min_milli, spec.max_milli)});
      ChannelClock& clock = clocks_[channel];
      clock.last_ns = when;
      clock.has_last = true;
      ++clock.index;
      floor_ns_ = std::max(floor_ns_, when);
      ++produced;
      channel = earliest(when);
    }
  }
  if (produced < max_samples) floor_ns_ = std::max(floor_ns_, saturating_add(until_ns, 1));
  return produced;
}

tl::expected<std::uint64_t, Error> ScheduledSource::set_rate(std::size_t channel, std::uint64_t rate_mhz) {
  auto allowed = sensor_.check_rate(channel, rate_mhz);
  if (!allowed) return tl::unexpected(allowed.error());
  ChannelClock& clock = clocks_[channel];
  const std::uint64_t next_old = clock.next_ns();
  if (rate_mhz == clock.rate_mhz) return next_old;  // nothing changes, not even the phase
  // The first sample at the new rate comes one new period after the channel's latest sample (so a
  // faster rate takes effect at once), never before time already delivered, and never later than
  // the sample the old rate would have taken next (so a slower rate does not leave a hole).
  const std::uint64_t period = kPicosPerSecond / rate_mhz;
  const std::uint64_t after_last = clock.has_last ? saturating_add(clock.last_ns, period) : 0;
  const std::uint64_t epoch = std::min(next_old, std::max(after_last, floor_ns_));
  clock.rate_mhz = rate_mhz;
  clock.epoch_ns = epoch;
  clock.index = 0;
  // check_rate accepted this rate a moment ago, so set_rate cannot refuse it.
  (void)sensor_.set_rate(channel, rate_mhz);
  return epoch;
}

std::vector<std::uint8_t> ScheduledSource::save() const {
  StateWriter w;
  w.u64(next_seq_);
  w.u64(floor_ns_);
  w.u32(static_cast<std::uint32_t>(clocks_.size()));
  for (const ChannelClock& c : clocks_) {
    w.u64(c.rate_mhz);
    w.u64(c.epoch_ns);
    w.u64(c.index);
    w.u64(c.last_ns);
    w.boolean(c.has_last);
  }
  save_model(w);
  return w.take();
}

tl::expected<void, Error> ScheduledSource::restore(std::span<const std::uint8_t> bytes) {
  auto fail = [](std::string message) { return tl::unexpected(Error{ErrorKind::state, std::move(message)}); };
  StateReader r(bytes);
  auto seq = r.u64();
  auto floor = r.u64();
  auto count = r.u32();
  if (!seq || !floor || !count) return fail("scheduled source state truncated");
  if (*count != clocks_.size()) {
    return fail(fmt::format("state has {} channels, sensor {} has {}", *count, sensor_.name(), clocks_.size()));
  }
  std::vector<ChannelClock> clocks;
  for (std::size_t i = 0; i < clocks_.size(); ++i) {
    auto rate = r.u64();
    auto epoch = r.u64();
    auto index = r.u64();
    auto last = r.u64();
    auto has_last = r.boolean();
    if (!rate || !epoch || !index || !last || !has_last) return fail("scheduled source state truncated");
    if (auto ok = sensor_.check_rate(i, *rate); !ok) {
      return fail(fmt::format("saved rate of {}.{}: {}", sensor_.name(), sensor_.channel(i).name, ok.error().message));
    }
    clocks.push_back(ChannelClock{*rate, *epoch, *index, *last, *has_last});
  }
  if (auto model = read_model(r); !model) return tl::unexpected(model.error());
  if (!r.at_end()) return fail("scheduled source state has trailing bytes");
  // Everything is checked: apply.
  next_seq_ = *seq;
  floor_ns_ = *floor;
  clocks_ = std::move(clocks);
  // Every rate passed check_rate above, so set_rate cannot refuse one.
  for (std::size_t i = 0; i < clocks_.size(); ++i) (void)sensor_.set_rate(i, clocks_[i].rate_mhz);
  commit_model();
  return {};
}

}  // namespace tilehv::vdevices::sensors
