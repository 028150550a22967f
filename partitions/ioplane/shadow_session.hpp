// ShadowSession: the I/O plane's side of one shadow partition (docs/design/shadows.md): its state,
// the comparator that judges its outputs against the live partition's, and the faults only the
// plane can see: an input overrun (the shadow fell too far behind its mirrored inputs), an output
// flood, and a hang (the live partition answers, the shadow does not).
//
// Single-threaded like the comparator: the plane calls it with its lock held.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ioplane/line_splitter.hpp"
#include "policy/shadow_spec.hpp"
#include "shadow/comparator.hpp"
#include "shadow/verdict.hpp"

namespace tilehv::ioplane {

class ShadowSession {
 public:
  enum class State {
    kAttaching,   // the shadow's VMM takes its ports; nothing is mirrored yet
    kMirroring,   // inputs mirrored, outputs compared
    kStopped,     // a fault or an operator ended the comparison; its evidence stays
    kPromoted,    // the shadow serves as the live partition; the old one waits paused
    kRolledBack,  // after a promotion: the old kernel serves again
  };
  // Mirrored records a shadow's port may owe its ring before it is an input overrun.
  static constexpr std::size_t kMaxBacklogRecords = 4096;
  static constexpr std::size_t kMaxBacklogBytes = 8U << 20;
  // A shadow may send this many records more than floodFactor times the live partition's.
  static constexpr std::uint64_t kFloodSlack = 64;

  ShadowSession(policy::Shadow spec, std::set<std::string> grants);

  [[nodiscard]] const policy::Shadow& spec() const noexcept { return spec_; }
  [[nodiscard]] const std::set<std::string>& grants() const noexcept { return grants_; }
  // The plane link of the live partition's VMM, found when mirroring begins: port names alone do
  // not tell whose a port is (partitions sharing a sensor each hold a port sensor.<name>).
  [[nodiscard]] std::optional<std::uint64_t> live_connection() const noexcept { return live_connection_; }
  void set_live_connection(std::uint64_t id) noexcept { live_connection_ = id; }
  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] bool mirroring() const noexcept { return state_ == State::kMirroring; }
  [[nodiscard]] bool mirrors(policy::MirroredInput input) const { return spec_.mirror.count(input) != 0; }

  // Mirroring starts now, at an input boundary of the live partition.
  void start(std::uint64_t now_ns);
  void set_state(State state) noexcept { state_ = state; }
  // Ends the comparison for good with this fault (the first fault is the one reported first).
  void fault(std::string kind, std::string detail, std::uint64_t now_ns);
  void stop(std::string why);

  // A record delivered to the live partition and mirrored. Sensor streams are split into lines.
  void input(const std::string& port, bool sensor, std::span<const std::uint8_t> bytes, std::uint64_t now_ns);
  // A record one side sent. Sensor commands are split into lines. False: the plane stops reading
  // this side's records (a stopped shadow's).
  bool output(policy::OutputStream stream, shadow::Side side, const std::string& port, std::span<const std::uint8_t> bytes,
              std::uint64_t now_ns);
  // The watchdog (the plane's timer): a hang if the live partition sent records the shadow has not
  // answered for the policy's watchdog time.
  void check_watchdog(std::uint64_t now_ns);

  [[nodiscard]] const shadow::Comparator* comparator() const noexcept { return comparator_ ? &*comparator_ : nullptr; }
  [[nodiscard]] shadow::Comparator* comparator() noexcept { return comparator_ ? &*comparator_ : nullptr; }
  [[nodiscard]] const std::vector<shadow::Fault>& faults() const noexcept { return faults_; }
  [[nodiscard]] std::uint64_t started_ns() const noexcept { return started_ns_; }
  [[nodiscard]] const std::string& stop_reason() const noexcept { return stop_reason_; }
  // State, faults and the comparator's summary.
  [[nodiscard]] nlohmann::json status() const;

 private:
  void record_output(policy::OutputStream stream, shadow::Side side, std::span<const std::uint8_t> bytes, std::uint64_t now_ns);

  policy::Shadow spec_;
  std::set<std::string> grants_;
  std::optional<std::uint64_t> live_connection_;
  State state_ = State::kAttaching;
  std::optional<shadow::Comparator> comparator_;
  std::vector<shadow::Fault> faults_;
  std::string stop_reason_;
  std::uint64_t started_ns_ = 0;
  std::map<std::string, LineSplitter> input_lines_;      // by sensor port
  std::map<std::string, LineSplitter> command_lines_[2];  // by side, then sensor port
  // The watchdog: live records since the shadow's last record, and when the first of them came.
  std::uint64_t live_since_shadow_ = 0;
  std::uint64_t first_unanswered_ns_ = 0;
};

[[nodiscard]] const char* session_state_name(ShadowSession::State state);

}  // namespace tilehv::ioplane
