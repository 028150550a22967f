// SensorFeed: one of the tile's sensors feeding a partition's console port.
#include "ioplane/sensor_feed.hpp"

#include <fmt/format.h>

#include "sensors/iio_source.hpp"
#include "sensors/synthetic_source.hpp"
#include "sensors/trace.hpp"
#include "sensors/trace_source.hpp"

namespace tilehv::ioplane {
namespace {

namespace sensors = vdevices::sensors;
// Bytes moved per message: large enough for hundreds of sample lines, small next to the ring.
constexpr std::size_t kChunk = 4096;
// Guest input the sensor has not consumed yet; a guest writing faster than replies are read stops here.
constexpr std::size_t kMaxUnread = 4096;

}  // namespace

tl::expected<std::unique_ptr<SensorFeed>, std::string> SensorFeed::create(const PlaneSensor& config,
                                                                          std::optional<RateBoundsMhz> rates) {
  const auto narrow = [&](sensors::Sensor& sensor) -> tl::expected<void, std::string> {
    if (!rates) return {};
    for (std::size_t c = 0; c < sensor.channels().size(); ++c) {
      if (auto ok = sensor.restrict_rates(c, rates->min, rates->max); !ok) {
        return tl::unexpected(fmt::format("rate bounds of sensor {}: {}", config.spec.name, ok.error().message));
      }
    }
    return {};
  };
  std::unique_ptr<sensors::SampleSource> source;
  if (!config.trace.empty()) {
    auto trace = sensors::load_trace(config.trace);
    if (!trace) return tl::unexpected(trace.error().message);
    if (trace->sensor.name() != config.spec.name) {
      return tl::unexpected(fmt::format("trace {} is for sensor {}, not {}", config.trace.string(), trace->sensor.name(), config.spec.name));
    }
    if (auto ok = narrow(trace->sensor); !ok) return tl::unexpected(ok.error());
    source = sensors::TraceSource::create(std::move(*trace));
  } else {
    auto sensor = sensors::Sensor::create(config.spec);
    if (!sensor) return tl::unexpected(sensor.error().message);
    if (auto ok = narrow(*sensor); !ok) return tl::unexpected(ok.error());
    if (config.iio) {
      auto iio = sensors::IioSource::create(std::move(*sensor), config.iio_root);
      if (!iio) return tl::unexpected(iio.error().message);
      source = std::move(*iio);
    } else {
      auto synthetic = sensors::SyntheticSource::create(std::move(*sensor), sensors::SyntheticParams{config.seed, config.day_ns});
      if (!synthetic) return tl::unexpected(synthetic.error().message);
      source = std::move(*synthetic);
    }
  }
  auto port = sensors::SensorPort::create(std::move(source));
  if (!port) return tl::unexpected(port.error().message);
  (*port)->open();
  std::unique_ptr<SensorFeed> feed(new SensorFeed(std::move(*port)));
  feed->buffer_.resize(kChunk);
  return feed;
}

tl::expected<void, std::string> SensorFeed::flush(vdevices::port::PortEndpoint& endpoint, const FeedObserver* observer) {
  for (;;) {
    if (unsent_.empty()) {
      const std::size_t n = port_->read(buffer_);
      if (n == 0) return {};
      unsent_.assign(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    auto sent = endpoint.send(unsent_);
    if (!sent) return tl::unexpected(sent.error().message);
    // Full: the guest is behind; the bytes wait here and the sensor keeps counting what it drops.
    if (*sent == vdevices::port::PushResult::kFull) return {};
    bytes_delivered_ += unsent_.size();
    at_line_start_ = unsent_.back() == '\n';
    if (observer != nullptr && observer->delivered) observer->delivered(unsent_);
    unsent_.clear();
  }
}

tl::expected<void, std::string> SensorFeed::pump(vdevices::port::PortEndpoint& endpoint, std::uint64_t now_ns,
                                                 const FeedObserver* observer) {
  if (now_ns > port_->now_ns()) {
    if (auto advanced = port_->advance_to(now_ns); !advanced) return tl::unexpected(advanced.error().message);
  }
  return flush(endpoint, observer);
}

tl::expected<void, std::string> SensorFeed::take_input(vdevices::port::PortEndpoint& endpoint, std::uint64_t now_ns,
                                                       const FeedObserver* observer) {
  std::vector<std::uint8_t> message(endpoint.max_message());
  while (unread_.size() < kMaxUnread) {
    auto got = endpoint.receive(message);
    if (!got) return tl::unexpected(got.error().message);
    if (!got->has_value()) break;
    const std::span<const std::uint8_t> bytes(message.data(), **got);
    if (observer != nullptr && observer->commanded) observer->commanded(bytes);
    unread_.insert(unread_.end(), bytes.begin(), bytes.end());
  }
  if (!unread_.empty()) {
    const std::size_t used = port_->write(unread_);
    unread_.erase(unread_.begin(), unread_.begin() + static_cast<std::ptrdiff_t>(used));
  }
  return pump(endpoint, now_ns, observer);
}

}  // namespace tilehv::ioplane
