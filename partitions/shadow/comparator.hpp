// Comparator: one shadow's judge (docs/design/shadows.md). The plane hands it every input record it
// mirrors and every output record of both sides; it aligns the n-th live record of a stream with the
// n-th shadow record (within a reorder window for network frames), applies the stream's rule, and
// keeps the counts, the latency of the shadow behind its live twin, a per-second timeline, and the
// first divergences with the inputs that led to them.
//
// Memory is bounded whatever the sides do: records wait for their twins up to a per-stream backlog
// (beyond it the oldest are unmatched, and counted), kept divergences and recent inputs are capped.
// Single-threaded: the plane thread calls it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/shadow_spec.hpp"
#include "shadow/latency_histogram.hpp"
#include "shadow/record_rule.hpp"

namespace tilehv::shadow {

enum class Side : std::uint8_t { kLive, kShadow };

struct OutputRecord {
  std::uint64_t seq = 0;          // per stream and side, from 1
  std::uint64_t time_ns = 0;      // when the plane took it
  std::uint64_t inputs_seen = 0;  // input records mirrored before it
  std::vector<std::uint8_t> bytes;
};

struct InputRecord {
  std::uint64_t seq = 0;
  std::uint64_t time_ns = 0;
  std::string port;                // "net:controller", "sensor.wall", ...
  std::vector<std::uint8_t> bytes;  // at most kKeptInputBytes
};

struct Divergence {
  policy::OutputStream stream;
  std::string reason;
  std::optional<OutputRecord> live;    // absent: the shadow produced a record the live partition did not
  std::optional<OutputRecord> shadow;  // absent: the other way round
  std::vector<InputRecord> inputs_before;  // the last inputs before the earlier of the two records
};

struct StreamCounts {
  std::uint64_t live_records = 0;
  std::uint64_t shadow_records = 0;
  std::uint64_t matched = 0;
  std::uint64_t diverged = 0;   // compared and different (late ones included)
  std::uint64_t late = 0;       // matched but beyond the latency budget
  std::uint64_t unmatched = 0;  // one side's record without a twin within the backlog
  LatencyHistogram latency;
};

struct TimelinePoint {
  std::uint64_t second = 0;  // since the comparator started
  std::uint64_t matched = 0;
  std::uint64_t diverged = 0;
  double latency_sum_us = 0;
  std::uint64_t latency_count = 0;
};

class Comparator {
 public:
  static constexpr std::size_t kKeptDivergences = 16;
  // Per divergence: a guest reads ahead of what it has processed (its VMM buffers a stream), so the
  // input that led to a record may lie a few hundred inputs before what its ring says it read.
  static constexpr std::size_t kKeptInputs = 256;
  static constexpr std::size_t kRecentInputs = 2048;  // looked back on: a guest may lag its inputs
  static constexpr std::size_t kKeptInputBytes = 256;
  static constexpr std::size_t kBacklog = 4096;  // records waiting for their twin, per stream and side
  static constexpr std::size_t kMaxLanes = 64;   // destinations kept apart per stream
  static constexpr std::size_t kTimelineSeconds = 24 * 3600;

  Comparator(const policy::Shadow& shadow, std::uint64_t start_ns);

  void input(std::string_view port, std::span<const std::uint8_t> bytes, std::uint64_t time_ns);
  // How many inputs the live partition has read (the plane sees its ring): its records are stamped
  // with this instead of the inputs delivered, so a divergence names the inputs a lagging guest had
  // actually read before it.
  void live_consumed(std::uint64_t inputs) noexcept { live_consumed_ = inputs; }
  void output(policy::OutputStream stream, Side side, std::span<const std::uint8_t> bytes, std::uint64_t time_ns);

  [[nodiscard]] std::uint64_t inputs() const noexcept { return inputs_; }
  [[nodiscard]] std::uint64_t compared() const noexcept;
  [[nodiscard]] std::uint64_t divergent() const noexcept;
  [[nodiscard]] double divergence_ratio() const noexcept;
  [[nodiscard]] std::uint64_t records(Side side) const noexcept;
  // One side's records still waiting for a twin, over all streams.
  [[nodiscard]] std::uint64_t waiting(Side side) const noexcept;
  [[nodiscard]] const StreamCounts* counts(policy::OutputStream stream) const;
  [[nodiscard]] const std::vector<Divergence>& divergences() const noexcept { return divergences_; }
  [[nodiscard]] const std::vector<TimelinePoint>& timeline() const noexcept { return timeline_; }
  // Takes one side's records of a stream that still wait for a twin (oldest first): at a promotion
  // the shadow's records beyond the live partition's are released, not compared.
  [[nodiscard]] std::vector<std::vector<std::uint8_t>> take_waiting(policy::OutputStream stream, Side side);
  // Everything above as JSON (the report's data).
  [[nodiscard]] nlohmann::json summary() const;

 private:
  struct Stream {
    explicit Stream(RecordRule r) : rule(std::move(r)) {}
    RecordRule rule;
    std::uint64_t next_seq[2] = {1, 1};
    // Records without a twin yet, oldest first, per side, in lanes by destination (a UDP port, a
    // vsock port: RecordView::key): records to one destination are aligned with each other only,
    // so an extra record to one (an ARP request of a guest that booted later) shifts no other.
    std::map<std::string, std::array<std::deque<OutputRecord>, 2>> lanes;
    StreamCounts counts;
  };
  Stream& stream(policy::OutputStream which);
  void match(Stream& s, policy::OutputStream which, OutputRecord live, OutputRecord shadow);
  void keep(Divergence divergence, std::uint64_t inputs_seen);
  TimelinePoint& point_at(std::uint64_t time_ns);

  policy::Shadow shadow_;
  std::uint64_t start_ns_;
  std::uint64_t inputs_ = 0;
  std::optional<std::uint64_t> live_consumed_;
  std::vector<InputRecord> recent_inputs_;  // a ring of at most kRecentInputs, oldest at recent_first_
  std::size_t recent_first_ = 0;
  std::map<policy::OutputStream, Stream> streams_;
  std::vector<Divergence> divergences_;
  std::vector<TimelinePoint> timeline_;
};

}  // namespace tilehv::shadow
