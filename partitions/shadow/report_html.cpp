// The shadow report as HTML and as text (see report_html.hpp).
#include "shadow/report_html.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace tilehv::shadow {
namespace {

constexpr int kPlotWidth = 720;
constexpr int kPlotHeight = 160;
constexpr int kMargin = 40;

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        out += (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') ? '.' : c;
    }
  }
  return out;
}

// A JSON value as the page shows it: strings as they are, anything else as JSON; always escaped.
std::string shown(const nlohmann::json& value) { return escape(value.is_string() ? value.get<std::string>() : value.dump()); }

std::string text_of(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// A line plot of (x, y) points as inline SVG, with its maximum labelled.
std::string svg_plot(const std::string& title, const std::vector<std::pair<double, double>>& points, const char* colour,
                     const std::string& unit) {
  double max_x = 1, max_y = 0;
  for (const auto& [x, y] : points) {
    max_x = std::max(max_x, x);
    max_y = std::max(max_y, y);
  }
  if (max_y <= 0) max_y = 1;
  std::string path;
  for (const auto& [x, y] : points) {
    const double px = kMargin + x / max_x * (kPlotWidth - 2 * kMargin);
    const double py = kPlotHeight - kMargin / 2.0 - y / max_y * (kPlotHeight - kMargin);
    path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", px, py);
  }
  return fmt::format(
      "<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\">"
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>"
      "<text x=\"2\" y=\"14\" font-size=\"11\">{:.4g} {}</text><text x=\"{}\" y=\"{}\" font-size=\"11\">{:.0f} s</text>"
      "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/></svg></figure>\n",
      escape(title), kPlotWidth, kPlotHeight, kMargin, kPlotHeight - kMargin / 2, kPlotWidth - kMargin, kPlotHeight - kMargin / 2,
      max_y, escape(unit), kPlotWidth - kMargin - 30, kPlotHeight - 4, max_x, path.empty() ? "M0,0" : path, colour);
}

}  // namespace

std::string render_report_html(const nlohmann::json& report) {
  const nlohmann::json& summary = report.contains("summary") ? report["summary"] : nlohmann::json::object();
  const nlohmann::json& verdict = report.contains("verdict") ? report["verdict"] : nlohmann::json::object();
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
      "<title>Shadow {} of {}</title><style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}"
      "table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}"
      "pre{{background:#f4f4f4;padding:4px;white-space:pre-wrap;word-break:break-all}}</style></head><body>\n"
      "<h1>Shadow {} of {}</h1>\n<p>Candidate: <code>{}</code></p>\n<h2>Verdict: {}</h2>\n<ul>\n",
      shown(report.value("shadow", "")), shown(report.value("live", "")), shown(report.value("shadow", "")),
      shown(report.value("live", "")), shown(text_of(report, "candidate")), shown(verdict.value("state", "unknown")));
  const nlohmann::json reasons = verdict.value("reasons", nlohmann::json::array());
  for (const auto& reason : reasons) html += fmt::format("<li>{}</li>\n", shown(reason));
  html += fmt::format("</ul>\n<p>{} inputs mirrored, {} records compared, {} divergent.</p>\n", shown(summary.value("inputs", 0)),
                      shown(summary.value("compared", 0)), shown(summary.value("divergent", 0)));
  html += "<h2>Streams</h2>\n<table><tr><th>stream</th><th>live</th><th>shadow</th><th>matched</th><th>diverged</th>"
          "<th>late</th><th>unmatched</th><th>latency p50 (us)</th><th>p99 (us)</th></tr>\n";
  const nlohmann::json streams = summary.value("streams", nlohmann::json::object());
  for (const auto& [name, s] : streams.items()) {
    const nlohmann::json latency = s.value("latency_us", nlohmann::json::object());
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        escape(name), shown(s.value("live_records", 0)), shown(s.value("shadow_records", 0)),
                        shown(s.value("matched", 0)), shown(s.value("diverged", 0)), shown(s.value("late", 0)),
                        shown(s.value("unmatched", 0)), shown(latency.value("p50", 0.0)), shown(latency.value("p99", 0.0)));
  }
  html += "</table>\n<h2>Over time</h2>\n";
  std::vector<std::pair<double, double>> divergence, latency;
  double matched = 0, diverged = 0;
  const nlohmann::json timeline = summary.value("timeline", nlohmann::json::array());
  for (const auto& point : timeline) {
    const double second = point.value("second", 0.0);
    matched += point.value("matched", 0.0);
    diverged += point.value("diverged", 0.0);
    divergence.emplace_back(second, matched + diverged == 0 ? 0.0 : diverged / (matched + diverged));
    latency.emplace_back(second, point.value("latency_mean_us", 0.0));
  }
  html += svg_plot("Divergence ratio (cumulative)", divergence, "#c0392b", "");
  html += svg_plot("Shadow latency behind the live partition (mean per second)", latency, "#2471a3", "us");
  html += "<h2>First divergences</h2>\n";
  const nlohmann::json divergences = summary.value("divergences", nlohmann::json::array());
  if (divergences.empty()) html += "<p>None.</p>\n";
  for (const auto& d : divergences) {
    html += fmt::format("<h3>{}: {}</h3>\n", shown(d.value("stream", "")), shown(d.value("reason", "")));
    for (const char* side : {"live", "shadow"}) {
      const nlohmann::json record = d.contains(side) ? d[side] : nlohmann::json();
      if (record.is_null()) {
        html += fmt::format("<p>{}: no record</p>\n", side);
        continue;
      }
      html += fmt::format("<p>{} record {} (after input {}):</p><pre>{}</pre>\n", side, shown(record.value("seq", 0)),
                          shown(record.value("inputs_seen", 0)), shown(record.value("bytes", nlohmann::json())));
    }
    html += "<p>Inputs before it:</p><pre>";
    const nlohmann::json inputs = d.value("inputs_before", nlohmann::json::array());
    for (const auto& input : inputs) {
      html += fmt::format("#{} {}: {}\n", shown(input.value("seq", 0)), shown(input.value("port", "")),
                          shown(input.value("bytes", nlohmann::json())));
    }
    html += "</pre>\n";
  }
  html += "</body></html>\n";
  return html;
}

std::string render_report_text(const nlohmann::json& report) {
  const nlohmann::json& summary = report.contains("summary") ? report["summary"] : nlohmann::json::object();
  const nlohmann::json& verdict = report.contains("verdict") ? report["verdict"] : nlohmann::json::object();
  std::string text = fmt::format("shadow {} of {}: {}\n", text_of(report, "shadow"), text_of(report, "live"),
                                 verdict.value("state", "unknown"));
  const nlohmann::json reasons = verdict.value("reasons", nlohmann::json::array());
  for (const auto& reason : reasons) {
    text += fmt::format("  {}\n", reason.is_string() ? reason.get<std::string>() : reason.dump());
  }
  text += fmt::format("  {} inputs, {} records compared, {} divergent\n", summary.value("inputs", 0), summary.value("compared", 0),
                      summary.value("divergent", 0));
  const nlohmann::json streams = summary.value("streams", nlohmann::json::object());
  for (const auto& [name, s] : streams.items()) {
    const nlohmann::json latency = s.value("latency_us", nlohmann::json::object());
    text += fmt::format("  {}: {} matched, {} diverged, {} unmatched, latency p50 {:.1f} us p99 {:.1f} us\n", name,
                        s.value("matched", 0), s.value("diverged", 0), s.value("unmatched", 0), latency.value("p50", 0.0),
                        latency.value("p99", 0.0));
  }
  const nlohmann::json divergences = summary.value("divergences", nlohmann::json::array());
  if (!divergences.empty()) {
    const auto& first = divergences[0];
    text += fmt::format("  first divergence ({}): {}\n", first.value("stream", ""), first.value("reason", ""));
  }
  return text;
}

}  // namespace tilehv::shadow
