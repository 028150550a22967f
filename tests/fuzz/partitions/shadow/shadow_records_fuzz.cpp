// Fuzz target: a hostile candidate's output records, and the live partition's, through the
// comparator: frames, vsock packets and text under exact and field rules with tolerances, ignored
// fields and bytes, and a reorder window; then the report in both forms. Nothing may crash or grow
// without bound; the report never carries markup from a record.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "shadow/comparator.hpp"
#include "shadow/report_html.hpp"
#include "shadow/verdict.hpp"

namespace {

using namespace tilehv;

policy::Shadow fuzz_shadow(std::uint8_t selector) {
  policy::Shadow s;
  s.name = "fuzz";
  s.live = "live";
  policy::CompareSpec net;
  net.stream = policy::OutputStream::kNetwork;
  net.rule = (selector & 1) ? policy::CompareRule::kFields : policy::CompareRule::kExact;
  net.reorder_window = selector & 6;
  if (net.rule == policy::CompareRule::kFields) {
    net.tolerances = {{"valve", 2.0, std::nullopt}, {"avg", std::nullopt, 0.01}};
    net.ignore_fields = {"t"};
  } else {
    net.ignore_bytes = {{18, 2}, {24, 2}};
  }
  net.latency_budget_us = (selector & 8) ? std::optional<std::uint64_t>(1) : std::nullopt;
  policy::CompareSpec channels;
  channels.stream = policy::OutputStream::kChannels;
  channels.rule = (selector & 16) ? policy::CompareRule::kFields : policy::CompareRule::kExact;
  s.compare = {net, channels};
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  shadow::Comparator comparator(fuzz_shadow(data[0]), 0);
  // The rest is a sequence of records: [side/stream byte][length byte][bytes].
  std::size_t at = 1;
  std::uint64_t time = 0;
  while (at + 2 <= size) {
    const std::uint8_t kind = data[at];
    const std::size_t length = std::min<std::size_t>(data[at + 1], size - at - 2);
    const std::span<const std::uint8_t> record(data + at + 2, length);
    at += 2 + length;
    time += 1000U * (kind >> 4);
    const auto stream = static_cast<policy::OutputStream>((kind >> 1) % 3);
    if ((kind & 0x0c) == 0x0c) {
      comparator.input("sensor.fuzz", record, time);
    } else {
      comparator.output(stream, (kind & 1) ? shadow::Side::kShadow : shadow::Side::kLive, record, time);
    }
  }
  const shadow::Verdict verdict = shadow::judge(policy::PromotionCriteria{}, comparator, shadow::Evidence{});
  const nlohmann::json report{{"shadow", "fuzz"}, {"live", "live"}, {"verdict", shadow::to_json(verdict)},
                              {"summary", comparator.summary()}};
  const std::string html = shadow::render_report_html(report);
  if (html.find("<script") != std::string::npos) __builtin_trap();
  (void)shadow::render_report_text(report);
  if (comparator.divergences().size() > shadow::Comparator::kKeptDivergences) __builtin_trap();
  return 0;
}
