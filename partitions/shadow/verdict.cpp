// Verdict: the promotion criteria applied to what the comparator and the supervisor saw.
#include "shadow/verdict.hpp"

#include <fmt/format.h>

namespace tilehv::shadow {
namespace {

std::optional<double> ratio(std::uint64_t shadow, std::uint64_t live) {
  if (live == 0) return std::nullopt;
  return static_cast<double>(shadow) / static_cast<double>(live);
}

}  // namespace

Verdict judge(const policy::PromotionCriteria& criteria, const Comparator& comparator, const Evidence& evidence) {
  Verdict verdict;
  for (const Fault& fault : evidence.faults) {
    verdict.reasons.push_back(fmt::format("fault: {}{}{}", fault.kind, fault.detail.empty() ? "" : ": ", fault.detail));
  }
  // Divergence is judged as it comes when none is allowed; a ratio only over enough records.
  const std::uint64_t compared = comparator.compared();
  const double divergence = comparator.divergence_ratio();
  const bool enough_inputs = comparator.inputs() >= criteria.min_inputs;
  if (comparator.divergent() > 0 && (criteria.max_divergence_ratio == 0.0 || enough_inputs) &&
      divergence > criteria.max_divergence_ratio) {
    verdict.reasons.push_back(fmt::format("divergence: {} of {} records ({:.4g}), allowed {:.4g}", comparator.divergent(), compared,
                                          divergence, criteria.max_divergence_ratio));
  }
  if (criteria.max_memory_bytes && evidence.shadow.memory_bytes > *criteria.max_memory_bytes) {
    verdict.reasons.push_back(fmt::format("memory: {} bytes, ceiling {}", evidence.shadow.memory_bytes, *criteria.max_memory_bytes));
  }
  if (!verdict.reasons.empty()) {
    verdict.state = Verdict::State::kFailed;
    return verdict;
  }
  // CPU and exits are ratios of the live partition's: judged once the run is long enough to mean something.
  std::vector<std::string> waiting;
  if (!enough_inputs) waiting.push_back(fmt::format("inputs: {} of {}", comparator.inputs(), criteria.min_inputs));
  if (evidence.elapsed_ms < criteria.min_duration_ms) {
    waiting.push_back(fmt::format("time: {} ms of {} ms", evidence.elapsed_ms, criteria.min_duration_ms));
  }
  if (compared == 0) waiting.push_back("outputs: none compared yet");
  // Inputs delivered are not inputs answered: a shadow behind the live partition's records (one
  // that stopped, or cannot keep up) has not shown yet what it does with them.
  const std::uint64_t behind = comparator.waiting(Side::kLive);
  if (behind > kLagAllowance + compared / 100) {
    waiting.push_back(fmt::format("outputs: the shadow has not answered {} of the live partition's records yet", behind));
  }
  if (!waiting.empty()) {
    verdict.reasons = std::move(waiting);
    return verdict;
  }
  const auto cpu = ratio(evidence.shadow.cpu_ns, evidence.live.cpu_ns);
  if (criteria.max_cpu_ratio && cpu && *cpu > *criteria.max_cpu_ratio) {
    verdict.reasons.push_back(fmt::format("cpu: {:.3g} times the live partition's, ceiling {:.3g}", *cpu, *criteria.max_cpu_ratio));
  }
  const auto exits = ratio(evidence.shadow.exits, evidence.live.exits);
  if (criteria.max_exits_ratio && exits && *exits > *criteria.max_exits_ratio) {
    verdict.reasons.push_back(fmt::format("exits: {:.3g} times the live partition's, ceiling {:.3g}", *exits, *criteria.max_exits_ratio));
  }
  verdict.state = verdict.reasons.empty() ? Verdict::State::kPassed : Verdict::State::kFailed;
  if (verdict.state == Verdict::State::kPassed) {
    verdict.reasons.push_back(fmt::format("{} inputs, {} records compared, divergence {:.4g}, no fault", comparator.inputs(),
                                          compared, divergence));
  }
  return verdict;
}

const char* state_name(Verdict::State state) {
  switch (state) {
    case Verdict::State::kRunning: return "running";
    case Verdict::State::kPassed: return "passed";
    case Verdict::State::kFailed: return "failed";
  }
  return "?";
}

nlohmann::json to_json(const Verdict& verdict) { return {{"state", state_name(verdict.state)}, {"reasons", verdict.reasons}}; }

}  // namespace tilehv::shadow
