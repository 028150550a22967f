// The shadow report as one self-contained HTML page: the verdict, the counts per stream, plots of
// divergence and latency over time (inline SVG, no scripts, no external assets), and the first
// divergent records with the inputs before them. Everything a guest produced is escaped: a candidate
// kernel's output must not be able to script the operator's browser.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tilehv::shadow {

// `report`: {"shadow", "live", "candidate", "verdict": {...}, "summary": Comparator::summary(), ...}.
[[nodiscard]] std::string render_report_html(const nlohmann::json& report);
// The same for a terminal: a few lines.
[[nodiscard]] std::string render_report_text(const nlohmann::json& report);

}  // namespace tilehv::shadow
