// Partition view: list tables, descriptions and operation results.
#include "tilectl/partition_view.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tilectl/human_units.hpp"
#include "tilectl/json_fields.hpp"
#include "tilectl/table.hpp"

namespace tilehv::tilectl {
namespace {

std::string bytes_field(const nlohmann::json& object, std::string_view key) {
  const auto value = unsigned_field(object, key);
  return value ? format_bytes(*value) : "-";
}

std::string pid_text(const nlohmann::json& view) {
  const auto pid = unsigned_field(view, "pid");
  return pid && *pid > 0 ? std::to_string(*pid) : "-";
}

std::string uptime_text(const nlohmann::json& view) {
  const auto uptime = number_field(view, "uptime_seconds");
  return uptime ? format_duration(*uptime) : "-";
}

// Lines of a key/value listing with the keys padded to one width.
class KeyValues {
 public:
  explicit KeyValues(std::size_t indent = 0) : indent_(indent) {}
  void add(std::string key, std::string value) { rows_.emplace_back(std::move(key), std::move(value)); }
  [[nodiscard]] std::string render() const {
    std::size_t width = 0;
    for (const auto& [key, value] : rows_) width = std::max(width, display_width(key));
    std::string out;
    for (const auto& [key, value] : rows_) {
      out += fmt::format("{}{}:{}{}\n", std::string(indent_, ' '), printable(key),
                         std::string(width - display_width(key) + 2, ' '), printable(value));
    }
    return out;
  }

 private:
  std::size_t indent_;
  std::vector<std::pair<std::string, std::string>> rows_;
};

// "io 3, mmio 7": the numeric fields of an object, in its (alphabetical) order.
std::string counters_text(const nlohmann::json& counters) {
  std::string out;
  if (!counters.is_object()) return "-";
  for (const auto& [key, value] : counters.items()) {
    if (!value.is_number()) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", key, value.dump());
  }
  return out.empty() ? "none" : out;
}

std::string vmm_text(const nlohmann::json& vmm) {
  KeyValues lines(2);
  lines.add("state", text_field(vmm, "state"));
  lines.add("exits", counters_text(field(vmm, "exits")));
  lines.add("guest errors", text_field(vmm, "guest_errors"));
  lines.add("console output", bytes_field(vmm, "console_bytes"));
  return lines.render();
}

std::string devices_text(const nlohmann::json& devices) {
  KeyValues lines(2);
  if (const auto& net = field(devices, "network"); net.is_object()) {
    lines.add("network", fmt::format("port {}: rx {} frames ({}), tx {} frames ({}), drops: {}", text_field(net, "port"),
                                     text_field(net, "rx_frames"), bytes_field(net, "rx_bytes"), text_field(net, "tx_frames"),
                                     bytes_field(net, "tx_bytes"), counters_text(field(net, "drops"))));
  }
  if (const auto& channels = field(devices, "channels"); channels.is_object()) {
    lines.add("channels", fmt::format("port {}: {} packets in, {} out, {} refused", text_field(channels, "port"),
                                      text_field(channels, "packets_in"), text_field(channels, "packets_out"),
                                      text_field(channels, "refused")));
  }
  if (const auto& sensors = field(devices, "sensors"); sensors.is_object()) {
    for (const auto& [port, c] : sensors.items()) {
      lines.add("sensor " + port, fmt::format("{} samples delivered, {} dropped, {} out", text_field(c, "samples_delivered"),
                                              text_field(c, "samples_dropped"), bytes_field(c, "bytes_out")));
    }
  }
  const std::string text = lines.render();
  return text.empty() ? "  none\n" : text;
}

}  // namespace

std::string render_partition_table(const nlohmann::json& partitions) {
  if (!partitions.is_array() || partitions.empty()) return "no partitions\n";
  Table table({"NAME", "STATE", "PID", "VCPUS", "MEMORY", "RESTARTS", "UPTIME"});
  for (const auto& p : partitions) {
    table.add_row({text_field(p, "name"), text_field(p, "state"), pid_text(p), text_field(p, "vcpus"),
                   bytes_field(p, "memory_bytes"), text_field(p, "restarts"), uptime_text(p)});
  }
  return table.render();
}

std::string describe_end(const nlohmann::json& end) {
  if (!end.is_object()) return "-";
  std::vector<std::string> facts;
  if (const auto& status = field(end, "exit_status"); status.is_number()) facts.push_back("exit status " + status.dump());
  if (const auto& value = field(end, "guest_value"); value.is_number()) facts.push_back("guest value " + value.dump());
  if (const auto& signal = field(end, "signal"); signal.is_number()) facts.push_back("signal " + signal.dump());
  std::string out = text_field(end, "kind", "unknown");
  for (std::size_t i = 0; i < facts.size(); ++i) out += (i == 0 ? " (" : ", ") + facts[i] + (i + 1 == facts.size() ? ")" : "");
  if (const std::string detail = text_field(end, "detail", ""); !detail.empty()) out += ": " + detail;
  return out;
}

std::string render_description(const nlohmann::json& d) {
  KeyValues lines;
  lines.add("Name", text_field(d, "name"));
  lines.add("State", text_field(d, "state"));
  lines.add("PID", pid_text(d));
  lines.add("vCPUs", text_field(d, "vcpus"));
  lines.add("Memory", bytes_field(d, "memory_bytes"));
  lines.add("Image", text_field(d, "image"));
  lines.add("Restart policy", text_field(d, "restart_policy"));
  lines.add("Restarts", text_field(d, "restarts"));
  lines.add("UID", text_field(d, "uid"));
  lines.add("Uptime", uptime_text(d));
  if (const auto cpu = number_field(d, "cpu_seconds")) lines.add("CPU time", fmt::format("{:.2f} s", *cpu));
  if (field(d, "resident_bytes").is_number()) lines.add("Resident memory", bytes_field(d, "resident_bytes"));
  lines.add("Last end", describe_end(field(d, "last_end")));
  std::string out = lines.render();
  if (const auto& vmm = field(d, "vmm"); vmm.is_object()) out += "VMM:\n" + vmm_text(vmm);
  out += "Devices:\n" + devices_text(field(d, "devices"));
  return out;
}

std::string render_operation_result(std::string_view verb, const nlohmann::json& view) {
  const std::string pid = pid_text(view);
  return printable(fmt::format("{} {}: {}{}", verb, text_field(view, "name"), text_field(view, "state"),
                               pid == "-" ? "" : " (pid " + pid + ")")) +
         "\n";
}

}  // namespace tilehv::tilectl
