// RecordRule: one output stream's comparison rule (policy CompareSpec) applied to a live record and
// its shadow twin: equal, or the first difference in words an operator reads ("field valve: live
// 512, shadow 519, tolerance abs 0").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "policy/shadow_spec.hpp"

namespace tilehv::shadow {

class RecordRule {
 public:
  RecordRule(policy::OutputStream stream, policy::CompareSpec spec) : stream_(stream), spec_(std::move(spec)) {}

  // nullopt when the records match under the rule; else what differs.
  [[nodiscard]] std::optional<std::string> difference(std::span<const std::uint8_t> live,
                                                      std::span<const std::uint8_t> shadow) const;
  [[nodiscard]] const policy::CompareSpec& spec() const noexcept { return spec_; }

 private:
  [[nodiscard]] std::optional<std::string> exact_difference(std::span<const std::uint8_t> live,
                                                            std::span<const std::uint8_t> shadow) const;
  [[nodiscard]] std::optional<std::string> field_difference(std::span<const std::uint8_t> live,
                                                            std::span<const std::uint8_t> shadow) const;

  policy::OutputStream stream_;
  policy::CompareSpec spec_;
};

}  // namespace tilehv::shadow
