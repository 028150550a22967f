// Tile: the operator's operations on single partitions (pause, resume, restart, stop), the views the
// API lists and describes, and the Prometheus metrics.
#include <fmt/format.h>

#include "daemon/proc_stats.hpp"
#include "daemon/tile.hpp"

namespace tilehv::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kControlTimeout = std::chrono::milliseconds(3000);

ApiError not_found(const std::string& name) {
  return ApiError{404, "not_found", fmt::format("no partition named '{}' in the applied policy", name), {}};
}

ApiError not_running(const std::string& name, const std::string& state) {
  return ApiError{409, "not_running", fmt::format("partition {} is {}, not running", name, state), {}};
}

const char* restart_name(policy::RestartPolicy p) {
  switch (p) {
    case policy::RestartPolicy::kNever: return "never";
    case policy::RestartPolicy::kOnFailure: return "on-failure";
    case policy::RestartPolicy::kAlways: return "always";
  }
  return "?";
}

// Prometheus label values: backslash, quote and newline escaped.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

nlohmann::json Tile::view(const std::string& name, const Live& live) const {
  nlohmann::json j{{"name", name},
                   {"state", live.record.state.empty() ? "stopped" : live.record.state},
                   {"pid", live.record.pid},
                   {"vcpus", live.spec.vcpus},
                   {"memory_bytes", live.spec.memory_bytes},
                   {"image", live.spec.image},
                   {"restart_policy", restart_name(live.spec.restart.policy)},
                   {"restarts", live.record.total_restarts},
                   {"uid", live.record.uid}};
  if (live.vmm) {
    j["uptime_seconds"] = std::chrono::duration<double>(Clock::now() - live.started_at).count();
  }
  if (!live.record.last_end.is_null()) j["last_end"] = live.record.last_end;
  return j;
}

nlohmann::json Tile::list() const {
  std::lock_guard lock(state_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, live] : partitions_) out.push_back(view(name, live));
  return out;
}

tl::expected<nlohmann::json, ApiError> Tile::describe(const std::string& name) const {
  nlohmann::json j;
  std::optional<VmmFiles> files;
  pid_t pid = 0;
  std::set<std::string> grants;
  {
    std::lock_guard lock(state_);
    auto it = partitions_.find(name);
    if (it == partitions_.end()) return tl::unexpected(not_found(name));
    j = view(name, it->second);
    if (it->second.vmm) {
      files = it->second.vmm->files();
      pid = it->second.vmm->pid();
    }
    if (auto b = binding_.partitions.find(name); b != binding_.partitions.end()) grants = b->second.grants;
  }
  if (files) {
    // Asked without the tables locked: a VMM that is slow to answer delays only this request.
    if (auto status = control_request(files->control(), "status", kControlTimeout); status) {
      status->erase("ok");
      j["vmm"] = *status;
    }
    if (auto stats = read_proc_stats(pid)) {
      j["cpu_seconds"] = stats->cpu_seconds;
      j["resident_bytes"] = stats->resident_bytes;
    }
  }
  nlohmann::json devices = nlohmann::json::object();
  for (const std::string& grant : grants) {
    const std::string port = grant.substr(grant.find(':') + 1);
    if (grant.rfind("net:", 0) == 0) {
      if (auto c = plane_->counters(port)) {
        nlohmann::json drops = nlohmann::json::object();
        for (std::size_t r = 0; r < c->drops.size(); ++r) {
          drops[ioplane::drop_reason_name(static_cast<ioplane::DropReason>(r))] = c->drops[r];
        }
        devices["network"] = {{"port", port}, {"rx_frames", c->rx_frames}, {"rx_bytes", c->rx_bytes},
                              {"tx_frames", c->tx_frames}, {"tx_bytes", c->tx_bytes}, {"drops", drops}};
      }
    } else if (grant.rfind("vsock:", 0) == 0) {
      if (auto c = plane_->channel_counters(port)) {
        devices["channels"] = {{"port", port}, {"packets_in", c->packets_in}, {"packets_out", c->packets_out},
                               {"refused", c->refused}};
      }
    } else if (grant.rfind("console:", 0) == 0) {
      if (auto c = plane_->sensor_counters(port)) {
        devices["sensors"][port] = {{"samples_delivered", c->samples_delivered}, {"samples_dropped", c->samples_dropped}, {"bytes_out", c->bytes_out}};
      }
    }
  }
  j["devices"] = devices;
  return j;
}

tl::expected<nlohmann::json, ApiError> Tile::pause(const std::string& name) {
  std::lock_guard ops(ops_);
  auto it = partitions_.find(name);
  if (it == partitions_.end()) return tl::unexpected(not_found(name));
  Live& live = it->second;
  if (!live.vmm) return tl::unexpected(not_running(name, live.record.state));
  auto answer = live.vmm->control("pause", kControlTimeout);
  if (!answer) return tl::unexpected(ApiError{500, "vmm_error", fmt::format("{}: pause: {}", name, answer.error()), {}});
  {
    std::lock_guard lock(state_);
    live.record.state = "paused";
  }
  events_.record("partition.paused", name, fmt::format("{} paused", name));
  save_journal();
  return view(name, live);
}

tl::expected<nlohmann::json, ApiError> Tile::resume(const std::string& name) {
  std::lock_guard ops(ops_);
  auto it = partitions_.find(name);
  if (it == partitions_.end()) return tl::unexpected(not_found(name));
  Live& live = it->second;
  if (!live.vmm) return tl::unexpected(not_running(name, live.record.state));
  auto answer = live.vmm->control("resume", kControlTimeout);
  if (!answer) return tl::unexpected(ApiError{500, "vmm_error", fmt::format("{}: resume: {}", name, answer.error()), {}});
  {
    std::lock_guard lock(state_);
    live.record.state = "running";
  }
  events_.record("partition.resumed", name, fmt::format("{} resumed", name));
  save_journal();
  return view(name, live);
}

tl::expected<nlohmann::json, ApiError> Tile::restart(const std::string& name) {
  std::lock_guard ops(ops_);
  auto it = partitions_.find(name);
  if (it == partitions_.end()) return tl::unexpected(not_found(name));
  Live& live = it->second;
  stop_vmm(name, live);
  {
    std::lock_guard lock(state_);
    live.restart_at.reset();
    live.record.restarts = 0;
  }
  if (auto ok = launch(name, live, applied_->tile); !ok) {
    save_journal();
    return tl::unexpected(ApiError{500, "start_failed", fmt::format("{} did not start: {}", name, ok.error()), {}});
  }
  save_journal();
  return view(name, live);
}

tl::expected<nlohmann::json, ApiError> Tile::stop(const std::string& name) {
  std::lock_guard ops(ops_);
  auto it = partitions_.find(name);
  if (it == partitions_.end()) return tl::unexpected(not_found(name));
  Live& live = it->second;
  {
    std::lock_guard lock(state_);
    live.record.stop_requested = true;
    live.restart_at.reset();
  }
  stop_vmm(name, live);
  {
    std::lock_guard lock(state_);
    live.record.state = "stopped";
  }
  save_journal();
  return view(name, live);
}

nlohmann::json Tile::stop_all() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(state_);
    for (const auto& [name, live] : partitions_) names.push_back(name);
  }
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& name : names) {
    if (auto v = stop(name)) out.push_back(*v);
  }
  return out;
}

tl::expected<std::filesystem::path, ApiError> Tile::console_log(const std::string& name) const {
  std::lock_guard lock(state_);
  if (partitions_.count(name) == 0) return tl::unexpected(not_found(name));
  return VmmFiles{options_.state_dir / "partitions" / name}.console();
}

std::string Tile::prometheus_metrics() const {
  struct Row {
    std::string name, state;
    pid_t pid;
    std::optional<VmmFiles> files;
    std::uint64_t restarts;
    std::set<std::string> grants;
  };
  std::vector<Row> rows;
  {
    std::lock_guard lock(state_);
    for (const auto& [name, live] : partitions_) {
      Row r{name, live.record.state, live.record.pid, std::nullopt, live.record.total_restarts, {}};
      if (live.vmm) r.files = live.vmm->files();
      if (auto b = binding_.partitions.find(name); b != binding_.partitions.end()) r.grants = b->second.grants;
      rows.push_back(std::move(r));
    }
  }
  std::string out;
  const auto family = [&](const char* metric, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", metric, help, metric, type);
  };
  family("tilehv_partition_up", "gauge", "1 while the partition's VMM runs");
  for (const Row& r : rows) out += fmt::format("tilehv_partition_up{{partition=\"{}\"}} {}\n", label(r.name), r.files ? 1 : 0);
  family("tilehv_partition_restarts_total", "counter", "Restarts by the restart policy or the operator");
  for (const Row& r : rows) {
    out += fmt::format("tilehv_partition_restarts_total{{partition=\"{}\"}} {}\n", label(r.name), r.restarts);
  }
  family("tilehv_partition_cpu_seconds_total", "counter", "CPU time of the partition's VMM process (all threads)");
  std::string memory_lines, exit_lines;
  for (const Row& r : rows) {
    if (!r.files) continue;
    if (auto stats = read_proc_stats(r.pid)) {
      out += fmt::format("tilehv_partition_cpu_seconds_total{{partition=\"{}\"}} {:.3f}\n", label(r.name), stats->cpu_seconds);
      memory_lines += fmt::format("tilehv_partition_resident_bytes{{partition=\"{}\"}} {}\n", label(r.name), stats->resident_bytes);
    }
    if (auto status = control_request(r.files->control(), "status", std::chrono::milliseconds(500));
        status && status->contains("exits")) {
      for (const auto& [kind, count] : (*status)["exits"].items()) {
        exit_lines += fmt::format("tilehv_partition_exits_total{{partition=\"{}\",kind=\"{}\"}} {}\n", label(r.name),
                                  label(kind), count.dump());
      }
    }
  }
  family("tilehv_partition_resident_bytes", "gauge", "Resident memory of the partition's VMM process");
  out += memory_lines;
  family("tilehv_partition_exits_total", "counter", "VM exits of the partition's vCPUs, by kind");
  out += exit_lines;
  family("tilehv_port_frames_total", "counter", "Frames through the partition's switch port");
  std::string drop_lines;
  for (const Row& r : rows) {
    if (r.grants.count("net:" + r.name) == 0) continue;
    if (auto c = plane_->counters(r.name)) {
      out += fmt::format("tilehv_port_frames_total{{partition=\"{}\",direction=\"rx\"}} {}\n", label(r.name), c->rx_frames);
      out += fmt::format("tilehv_port_frames_total{{partition=\"{}\",direction=\"tx\"}} {}\n", label(r.name), c->tx_frames);
      for (std::size_t d = 0; d < c->drops.size(); ++d) {
        drop_lines += fmt::format("tilehv_port_drops_total{{partition=\"{}\",reason=\"{}\"}} {}\n", label(r.name),
                                  ioplane::drop_reason_name(static_cast<ioplane::DropReason>(d)), c->drops[d]);
      }
    }
  }
  family("tilehv_port_drops_total", "counter", "Frames the switch dropped at the partition's port, by reason");
  out += drop_lines;
  // The tile's uplink (tile.uplink.tap): its switch port, and what it dropped before the switch saw it.
  if (auto c = plane_->counters("uplink"); c && plane_->uplink_counters()) {
    const auto own = *plane_->uplink_counters();
    family("tilehv_uplink_frames_total", "counter", "Frames through the tile's uplink TAP, by direction");
    out += fmt::format("tilehv_uplink_frames_total{{direction=\"rx\"}} {}\n", c->rx_frames);
    out += fmt::format("tilehv_uplink_frames_total{{direction=\"tx\"}} {}\n", c->tx_frames);
    family("tilehv_uplink_drops_total", "counter", "Frames dropped at the tile's uplink, by reason");
    for (std::size_t d = 0; d < c->drops.size(); ++d) {
      out += fmt::format("tilehv_uplink_drops_total{{reason=\"{}\"}} {}\n",
                         ioplane::drop_reason_name(static_cast<ioplane::DropReason>(d)), c->drops[d]);
    }
    out += fmt::format("tilehv_uplink_drops_total{{reason=\"runt_from_host\"}} {}\n", own.runts_in);
    out += fmt::format("tilehv_uplink_drops_total{{reason=\"oversized_from_host\"}} {}\n", own.oversized_in);
    out += fmt::format("tilehv_uplink_drops_total{{reason=\"oversized_to_host\"}} {}\n", own.oversized_out);
  }
  family("tilehv_channel_packets_total", "counter", "Channel packets of the partition, by direction");
  for (const Row& r : rows) {
    if (auto c = plane_->channel_counters(r.name); c && r.grants.count("vsock:" + r.name) != 0) {
      out += fmt::format("tilehv_channel_packets_total{{partition=\"{}\",direction=\"in\"}} {}\n", label(r.name), c->packets_in);
      out += fmt::format("tilehv_channel_packets_total{{partition=\"{}\",direction=\"out\"}} {}\n", label(r.name), c->packets_out);
    }
  }
  family("tilehv_sensor_samples_total", "counter", "Sensor samples delivered to the partition, by sensor port");
  for (const Row& r : rows) {
    for (const std::string& g : r.grants) {
      if (g.rfind("console:", 0) != 0) continue;
      if (auto c = plane_->sensor_counters(g.substr(8))) {
        out += fmt::format("tilehv_sensor_samples_total{{partition=\"{}\",port=\"{}\"}} {}\n", label(r.name),
                           label(g.substr(8)), c->samples_delivered);
      }
    }
  }
  return out;
}

}  // namespace tilehv::daemon
