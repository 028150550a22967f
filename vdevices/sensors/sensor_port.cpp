// SensorPort: one sensor as the byte stream of a named guest port: samples out, commands in, bounded
// queues with counted drops.
#include "sensors/sensor_port.hpp"

#include <algorithm>
#include <cstring>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "sensors/command.hpp"
#include "sensors/decimal.hpp"
#include "sensors/quote.hpp"
#include "sensors/wire_format.hpp"

namespace tilehv::vdevices::sensors {

tl::expected<std::unique_ptr<SensorPort>, Error> SensorPort::create(std::unique_ptr<SampleSource> source,
                                                                    PortOptions options) {
  if (!source) return tl::unexpected(Error{ErrorKind::invalid_argument, "a sensor port needs a source"});
  if (options.max_queued_samples == 0 || options.max_queued_samples > kMaxQueuedSamplesLimit) {
    return tl::unexpected(Error{ErrorKind::invalid_argument,
                                fmt::format("max_queued_samples {} is not within 1..{}", options.max_queued_samples,
                                            kMaxQueuedSamplesLimit)});
  }
  return std::unique_ptr<SensorPort>(new SensorPort(std::move(source), options));
}

void SensorPort::open() noexcept {
  if (partial_pos_ < partial_.size() && partial_is_sample_) {
    ++dropped_pending_;
    ++metrics_.samples_dropped;
  }
  partial_.clear();
  partial_pos_ = 0;
  partial_is_sample_ = false;
  header_pending_ = true;
}

void SensorPort::enqueue(const Sample& sample) {
  ++metrics_.samples_produced;
  if (samples_.size() >= options_.max_queued_samples) {
    // The oldest sample goes: the guest's next read reports the gap with "#dropped N" before the
    // samples that follow it, and the seq numbers show exactly which ones are missing.
    samples_.pop_front();
    ++dropped_pending_;
    ++metrics_.samples_dropped;
  }
  samples_.push_back(sample);
}

tl::expected<void, Error> SensorPort::advance_to(std::uint64_t now_ns) noexcept {
  if (now_ns < now_ns_) return {};
  std::vector<Sample> batch;
  batch.reserve(kPollBatch);
  while (true) {
    batch.clear();
    auto produced = source_->poll(now_ns, kPollBatch, batch);
    if (!produced) {
      if (produced.error().message != last_fault_ && control_.size() < kMaxControlLines) {
        last_fault_ = produced.error().message;
        control_.push_back(fault_line(last_fault_));
      }
      return tl::unexpected(produced.error());
    }
    for (const Sample& s : batch) enqueue(s);
    if (*produced < kPollBatch) break;
  }
  last_fault_.clear();
  now_ns_ = now_ns;
  return {};
}

void SensorPort::reply(std::string line) { control_.push_back(std::move(line)); }

void SensorPort::handle_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; })) return;
  ++metrics_.commands;
  auto command = parse_command(line);
  if (!command) {
    ++metrics_.commands_refused;
    reply(error_line(command.error()));
    return;
  }
  if (std::holds_alternative<DescribeCommand>(*command)) {
    header_pending_ = true;
    return;
  }
  const auto& rate = std::get<RateCommand>(*command);
  std::optional<std::size_t> channel = sensor().find_channel(rate.channel);
  if (!channel) {
    const auto index = parse_u64(rate.channel);
    if (index && *index < sensor().channels().size()) channel = static_cast<std::size_t>(*index);
  }
  if (!channel) {
    ++metrics_.commands_refused;
    reply(error_line(fmt::format("rate: no channel {}; channels are 0..{} or their names", quote(rate.channel),
                                 sensor().channels().size() - 1)));
    return;
  }
  auto from = source_->set_rate(*channel, rate.rate_mhz);
  if (!from) {
    ++metrics_.commands_refused;
    reply(error_line(fmt::format("rate {} {}: {}", *channel, rate.rate_mhz, from.error().message)));
    return;
  }
  reply(rate_ok_line(*channel, rate.rate_mhz, *from));
}

std::size_t SensorPort::write(std::span<const std::uint8_t> bytes) noexcept {
  std::size_t consumed = 0;
  for (const std::uint8_t byte : bytes) {
    if (byte == '\n') {
      // Every complete line may need a reply: leave it unread until the guest makes room.
      if (control_.size() >= kMaxControlLines) break;
      if (discarding_) {
        ++metrics_.commands;
        ++metrics_.commands_refused;
        reply(error_line(fmt::format("command longer than {} bytes", kMaxCommandLine)));
        discarding_ = false;
      } else {
        handle_line(input_);
      }
      input_.clear();
    } else if (!discarding_) {
      if (input_.size() >= kMaxCommandLine) {
        discarding_ = true;
        input_.clear();
      } else {
        input_.push_back(static_cast<char>(byte));
      }
    }
    ++consumed;
  }
  return consumed;
}

std::string SensorPort::header() const { return header_lines(sensor(), source_->source_kind()); }

bool SensorPort::next_line() {
  partial_.clear();
  partial_pos_ = 0;
  partial_is_sample_ = false;
  if (header_pending_) {
    partial_ = header_lines(sensor(), source_->source_kind());
    header_pending_ = false;
  } else if (!control_.empty()) {
    partial_ = std::move(control_.front());
    control_.pop_front();
  } else if (dropped_pending_ > 0) {
    partial_ = dropped_line(dropped_pending_);
    dropped_pending_ = 0;
  } else if (!samples_.empty()) {
    partial_ = sample_line(samples_.front());
    samples_.pop_front();
    partial_is_sample_ = true;
  } else if (source_->finished() && !end_sent_) {
    partial_ = end_line();
    end_sent_ = true;
  }
  return !partial_.empty();
}

std::size_t SensorPort::read(std::span<std::uint8_t> out) noexcept {
  std::size_t done = 0;
  while (done < out.size()) {
    if (partial_pos_ >= partial_.size() && !next_line()) break;
    const std::size_t n = std::min(out.size() - done, partial_.size() - partial_pos_);
    std::memcpy(out.data() + done, partial_.data() + partial_pos_, n);
    partial_pos_ += n;
    done += n;
    if (partial_pos_ == partial_.size() && partial_is_sample_) ++metrics_.samples_delivered;
  }
  metrics_.bytes_out += done;
  return done;
}

bool SensorPort::has_output() const noexcept {
  return partial_pos_ < partial_.size() || header_pending_ || !control_.empty() || dropped_pending_ > 0 ||
         !samples_.empty() || (source_->finished() && !end_sent_);
}

}  // namespace tilehv::vdevices::sensors
