// ShadowSession: see shadow_session.hpp.
#include "ioplane/shadow_session.hpp"

#include <fmt/format.h>

namespace tilehv::ioplane {

const char* session_state_name(ShadowSession::State state) {
  switch (state) {
    case ShadowSession::State::kAttaching: return "attaching";
    case ShadowSession::State::kMirroring: return "mirroring";
    case ShadowSession::State::kStopped: return "stopped";
    case ShadowSession::State::kPromoted: return "promoted";
    case ShadowSession::State::kRolledBack: return "rolled-back";
  }
  return "?";
}

ShadowSession::ShadowSession(policy::Shadow spec, std::set<std::string> grants)
    : spec_(std::move(spec)), grants_(std::move(grants)) {}

void ShadowSession::start(std::uint64_t now_ns) {
  comparator_.emplace(spec_, now_ns);
  started_ns_ = now_ns;
  state_ = State::kMirroring;
}

void ShadowSession::fault(std::string kind, std::string detail, std::uint64_t now_ns) {
  if (state_ == State::kMirroring || state_ == State::kAttaching) state_ = State::kStopped;
  if (stop_reason_.empty()) stop_reason_ = kind;
  faults_.push_back(shadow::Fault{std::move(kind), std::move(detail), now_ns});
}

void ShadowSession::stop(std::string why) {
  if (state_ == State::kMirroring || state_ == State::kAttaching) state_ = State::kStopped;
  if (stop_reason_.empty()) stop_reason_ = std::move(why);
}

void ShadowSession::input(const std::string& port, bool sensor, std::span<const std::uint8_t> bytes, std::uint64_t now_ns) {
  if (!mirroring()) return;
  if (!sensor) {
    comparator_->input(port, bytes, now_ns);
    return;
  }
  input_lines_[port].feed(bytes, [&](std::span<const std::uint8_t> line) { comparator_->input(port, line, now_ns); });
}

bool ShadowSession::output(policy::OutputStream stream, shadow::Side side, const std::string& port,
                           std::span<const std::uint8_t> bytes, std::uint64_t now_ns) {
  if (mirroring()) {
    if (stream != policy::OutputStream::kSensors) {
      record_output(stream, side, bytes, now_ns);
    } else {
      command_lines_[side == shadow::Side::kLive ? 0 : 1][port].feed(
          bytes, [&](std::span<const std::uint8_t> line) { record_output(stream, side, line, now_ns); });
    }
  }
  // A stopped shadow's records are no longer read: a flooding guest waits on its full ring.
  return side == shadow::Side::kLive || state_ != State::kStopped;
}

void ShadowSession::record_output(policy::OutputStream stream, shadow::Side side, std::span<const std::uint8_t> bytes,
                                  std::uint64_t now_ns) {
  if (!mirroring()) return;
  comparator_->output(stream, side, bytes, now_ns);
  if (side == shadow::Side::kLive) {
    if (live_since_shadow_++ == 0) first_unanswered_ns_ = now_ns;
    return;
  }
  live_since_shadow_ = 0;
  const std::uint64_t live = comparator_->records(shadow::Side::kLive);
  const std::uint64_t mine = comparator_->records(shadow::Side::kShadow);
  if (mine > live * spec_.flood_factor + kFloodSlack) {
    fault("output-flood",
          fmt::format("the shadow sent {} records against the live partition's {} (more than {} times as many)", mine, live,
                      spec_.flood_factor),
          now_ns);
  }
}

void ShadowSession::check_watchdog(std::uint64_t now_ns) {
  if (!mirroring() || live_since_shadow_ == 0) return;
  const std::uint64_t waited_ns = now_ns - first_unanswered_ns_;
  if (waited_ns < spec_.watchdog_ms * 1'000'000ULL) return;
  fault("hang",
        fmt::format("the live partition sent {} records in {} ms; the shadow sent none (watchdog {} ms)", live_since_shadow_,
                    waited_ns / 1'000'000ULL, spec_.watchdog_ms),
        now_ns);
}

nlohmann::json ShadowSession::status() const {
  nlohmann::json faults = nlohmann::json::array();
  for (const shadow::Fault& f : faults_) faults.push_back({{"kind", f.kind}, {"detail", f.detail}, {"time_ns", f.time_ns}});
  nlohmann::json j{{"name", spec_.name}, {"live", spec_.live}, {"state", session_state_name(state_)}, {"faults", faults}};
  if (!stop_reason_.empty()) j["stop_reason"] = stop_reason_;
  if (comparator_) j["comparison"] = comparator_->summary();
  return j;
}

}  // namespace tilehv::ioplane
