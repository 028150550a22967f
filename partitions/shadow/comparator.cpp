// Comparator: aligns a shadow's outputs with its live partition's and judges them (see comparator.hpp).
#include "shadow/comparator.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "shadow/record_view.hpp"

namespace tilehv::shadow {
namespace {

constexpr std::size_t index_of(Side side) { return side == Side::kLive ? 0 : 1; }

policy::CompareSpec spec_for(const policy::Shadow& shadow, policy::OutputStream stream) {
  for (const policy::CompareSpec& spec : shadow.compare) {
    if (spec.stream == stream) return spec;
  }
  policy::CompareSpec exact;  // a stream the policy is silent on is compared byte for byte
  exact.stream = stream;
  return exact;
}

nlohmann::json hex_or_text(const std::vector<std::uint8_t>& bytes) {
  const bool text = std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t c) { return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t'; });
  if (text) return std::string(bytes.begin(), bytes.end());
  std::string hex;
  for (std::uint8_t c : bytes) hex += fmt::format("{:02x}", c);
  return nlohmann::json{{"hex", hex}};
}

nlohmann::json record_json(const std::optional<OutputRecord>& r, policy::OutputStream stream) {
  if (!r) return nullptr;
  nlohmann::json j{{"seq", r->seq}, {"time_ns", r->time_ns}, {"inputs_seen", r->inputs_seen}, {"bytes", hex_or_text(r->bytes)}};
  // A frame's or packet's message, as its rule sees it: what a person reads first.
  const RecordView view = view_record(stream, r->bytes);
  if (view.body.size() != view.whole.size()) {
    j["message"] = hex_or_text(std::vector<std::uint8_t>(view.body.begin(), view.body.end()));
    j["destination"] = view.key;
  }
  return j;
}

}  // namespace

Comparator::Comparator(const policy::Shadow& shadow, std::uint64_t start_ns) : shadow_(shadow), start_ns_(start_ns) {}

Comparator::Stream& Comparator::stream(policy::OutputStream which) {
  auto it = streams_.find(which);
  if (it == streams_.end()) it = streams_.emplace(which, Stream(RecordRule(which, spec_for(shadow_, which)))).first;
  return it->second;
}

TimelinePoint& Comparator::point_at(std::uint64_t time_ns) {
  const std::uint64_t second = std::min<std::uint64_t>((time_ns > start_ns_ ? time_ns - start_ns_ : 0) / 1'000'000'000ULL,
                                                       kTimelineSeconds - 1);
  if (timeline_.empty() || timeline_.back().second < second) timeline_.push_back(TimelinePoint{second, 0, 0, 0, 0});
  // Records of an earlier second that arrive late (a twin waited) count in the latest point.
  return timeline_.back();
}

void Comparator::input(std::string_view port, std::span<const std::uint8_t> bytes, std::uint64_t time_ns) {
  ++inputs_;
  // A ring of slots reused in place: after the first kRecentInputs inputs, keeping one allocates
  // nothing (this runs on the plane thread for every input the live partition receives).
  if (recent_inputs_.size() < kRecentInputs) {
    recent_inputs_.emplace_back();
  } else {
    recent_first_ = (recent_first_ + 1) % kRecentInputs;
  }
  InputRecord& slot = recent_inputs_[(recent_first_ + recent_inputs_.size() - 1) % kRecentInputs];
  slot.seq = inputs_;
  slot.time_ns = time_ns;
  slot.port.assign(port);
  slot.bytes.assign(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), kKeptInputBytes)));
}

void Comparator::output(policy::OutputStream which, Side side, std::span<const std::uint8_t> bytes, std::uint64_t time_ns) {
  Stream& s = stream(which);
  const std::size_t me = index_of(side), other = 1 - me;
  (side == Side::kLive ? s.counts.live_records : s.counts.shadow_records)++;
  const std::uint64_t stamp = side == Side::kLive && live_consumed_ ? std::min(*live_consumed_, inputs_) : inputs_;
  OutputRecord record{s.next_seq[me]++, time_ns, stamp, std::vector<std::uint8_t>(bytes.begin(), bytes.end())};
  // A guest that writes to ever new destinations: beyond kMaxLanes the rest share one lane.
  std::string key = view_record(which, bytes).key;
  if (s.lanes.size() >= kMaxLanes && s.lanes.count(key) == 0) key = "(other)";
  auto& waiting = s.lanes[key];
  const std::size_t window = std::min<std::size_t>(s.rule.spec().reorder_window + 1U, waiting[other].size());
  for (std::size_t i = 0; i < window; ++i) {
    const OutputRecord& twin = waiting[other][i];
    const bool equal = side == Side::kLive ? !s.rule.difference(record.bytes, twin.bytes) : !s.rule.difference(twin.bytes, record.bytes);
    if (!equal) continue;
    OutputRecord found = std::move(waiting[other][i]);
    waiting[other].erase(waiting[other].begin() + static_cast<std::ptrdiff_t>(i));
    side == Side::kLive ? match(s, which, std::move(record), std::move(found)) : match(s, which, std::move(found), std::move(record));
    return;
  }
  waiting[me].push_back(std::move(record));
  // No twin within the window: the oldest of each side are a divergent pair.
  const std::size_t limit = s.rule.spec().reorder_window;
  while (!waiting[0].empty() && !waiting[1].empty() && (waiting[0].size() > limit || waiting[1].size() > limit)) {
    OutputRecord live = std::move(waiting[0].front());
    OutputRecord shadow = std::move(waiting[1].front());
    waiting[0].pop_front();
    waiting[1].pop_front();
    ++s.counts.diverged;
    ++point_at(std::max(live.time_ns, shadow.time_ns)).diverged;
    std::string reason = s.rule.difference(live.bytes, shadow.bytes).value_or("no twin within the reorder window");
    const std::uint64_t seen = std::min(live.inputs_seen, shadow.inputs_seen);
    keep(Divergence{which, std::move(reason), std::move(live), std::move(shadow), {}}, seen);
  }
  // A side far ahead of the other: its oldest records will find no twin in time.
  std::size_t waiting_total = 0;
  for (const auto& [lane_key, lane] : s.lanes) waiting_total += lane[me].size();
  if (waiting_total > kBacklog && !waiting[me].empty()) {
    OutputRecord lone = std::move(waiting[me].front());
    waiting[me].pop_front();
    ++s.counts.unmatched;
    const std::uint64_t seen = lone.inputs_seen;
    Divergence d{which, side == Side::kLive ? "the shadow has no record for it" : "the live partition has no record for it",
                 std::nullopt, std::nullopt, {}};
    (side == Side::kLive ? d.live : d.shadow) = std::move(lone);
    keep(std::move(d), seen);
  }
}

void Comparator::match(Stream& s, policy::OutputStream which, OutputRecord live, OutputRecord shadow) {
  const auto delay = static_cast<std::int64_t>(shadow.time_ns) - static_cast<std::int64_t>(live.time_ns);
  s.counts.latency.add(delay);
  TimelinePoint& point = point_at(std::max(live.time_ns, shadow.time_ns));
  point.latency_sum_us += static_cast<double>(std::max<std::int64_t>(delay, 0)) / 1000.0;
  ++point.latency_count;
  const auto& budget = s.rule.spec().latency_budget_us;
  if (budget && delay > static_cast<std::int64_t>(*budget * 1000)) {
    ++s.counts.diverged;
    ++s.counts.late;
    ++point.diverged;
    const std::uint64_t seen = std::min(live.inputs_seen, shadow.inputs_seen);
    keep(Divergence{which, fmt::format("late by {:.3f} ms (budget {:.3f} ms)", static_cast<double>(delay) / 1e6,
                                       static_cast<double>(*budget) / 1e3),
                    std::move(live), std::move(shadow), {}},
         seen);
    return;
  }
  ++s.counts.matched;
  ++point.matched;
}

void Comparator::keep(Divergence divergence, std::uint64_t inputs_seen) {
  if (divergences_.size() >= kKeptDivergences) return;
  // The last kKeptInputs inputs read before it (older ones than the recent ring holds are gone).
  // Oldest first from recent_first_; the kept inputs are the last kKeptInputs with seq <= inputs_seen.
  const std::size_t n = recent_inputs_.size();
  std::size_t end = 0;  // one past the last input read, in ring order
  while (end < n && recent_inputs_[(recent_first_ + end) % kRecentInputs].seq <= inputs_seen) ++end;
  for (std::size_t i = end > kKeptInputs ? end - kKeptInputs : 0; i < end; ++i) {
    divergence.inputs_before.push_back(recent_inputs_[(recent_first_ + i) % kRecentInputs]);
  }
  divergences_.push_back(std::move(divergence));
}

std::uint64_t Comparator::compared() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [which, s] : streams_) n += s.counts.matched + s.counts.diverged + s.counts.unmatched;
  return n;
}

std::uint64_t Comparator::divergent() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [which, s] : streams_) n += s.counts.diverged + s.counts.unmatched;
  return n;
}

double Comparator::divergence_ratio() const noexcept {
  const std::uint64_t n = compared();
  return n == 0 ? 0.0 : static_cast<double>(divergent()) / static_cast<double>(n);
}

std::uint64_t Comparator::records(Side side) const noexcept {
  std::uint64_t n = 0;
  for (const auto& [which, s] : streams_) n += side == Side::kLive ? s.counts.live_records : s.counts.shadow_records;
  return n;
}

std::uint64_t Comparator::waiting(Side side) const noexcept {
  std::uint64_t n = 0;
  for (const auto& [which, s] : streams_) {
    for (const auto& [key, lane] : s.lanes) n += lane[index_of(side)].size();
  }
  return n;
}

const StreamCounts* Comparator::counts(policy::OutputStream which) const {
  auto it = streams_.find(which);
  return it == streams_.end() ? nullptr : &it->second.counts;
}

std::vector<std::vector<std::uint8_t>> Comparator::take_waiting(policy::OutputStream which, Side side) {
  std::vector<std::vector<std::uint8_t>> out;
  auto it = streams_.find(which);
  if (it == streams_.end()) return out;
  // In the order they were sent, across lanes.
  std::vector<OutputRecord> all;
  for (auto& [key, lane] : it->second.lanes) {
    auto& waiting = lane[index_of(side)];
    for (OutputRecord& r : waiting) all.push_back(std::move(r));
    waiting.clear();
  }
  std::sort(all.begin(), all.end(), [](const OutputRecord& a, const OutputRecord& b) { return a.seq < b.seq; });
  for (OutputRecord& r : all) out.push_back(std::move(r.bytes));
  return out;
}

nlohmann::json Comparator::summary() const {
  nlohmann::json streams = nlohmann::json::object();
  for (const auto& [which, s] : streams_) {
    const StreamCounts& c = s.counts;
    std::size_t waiting_live = 0, waiting_shadow = 0;
    for (const auto& [key, lane] : s.lanes) waiting_live += lane[0].size(), waiting_shadow += lane[1].size();
    streams[policy::stream_name(which)] = {
        {"live_records", c.live_records}, {"shadow_records", c.shadow_records}, {"matched", c.matched},
        {"diverged", c.diverged}, {"late", c.late}, {"unmatched", c.unmatched},
        {"waiting", {{"live", waiting_live}, {"shadow", waiting_shadow}}},
        {"latency_us", {{"p50", c.latency.percentile_us(0.5)}, {"p99", c.latency.percentile_us(0.99)},
                        {"max", c.latency.max_us()}, {"shadow_ahead", c.latency.ahead()}}}};
  }
  nlohmann::json divergences = nlohmann::json::array();
  for (const Divergence& d : divergences_) {
    nlohmann::json inputs = nlohmann::json::array();
    for (const InputRecord& i : d.inputs_before) {
      inputs.push_back({{"seq", i.seq}, {"time_ns", i.time_ns}, {"port", i.port}, {"bytes", hex_or_text(i.bytes)}});
    }
    divergences.push_back({{"stream", policy::stream_name(d.stream)}, {"reason", d.reason}, {"live", record_json(d.live, d.stream)},
                           {"shadow", record_json(d.shadow, d.stream)}, {"inputs_before", inputs}});
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (const TimelinePoint& p : timeline_) {
    timeline.push_back({{"second", p.second}, {"matched", p.matched}, {"diverged", p.diverged},
                        {"latency_mean_us", p.latency_count == 0 ? 0.0 : p.latency_sum_us / static_cast<double>(p.latency_count)}});
  }
  return {{"inputs", inputs_}, {"compared", compared()}, {"divergent", divergent()},
          {"divergence_ratio", divergence_ratio()}, {"streams", streams}, {"divergences", divergences}, {"timeline", timeline}};
}

}  // namespace tilehv::shadow
