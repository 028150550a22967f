// Tile: recovery after a restart of the daemon, and the supervisor that notices VMMs ending and
// applies the partitions' restart policies.
#include <poll.h>

#include <fstream>
#include <sstream>

#include <algorithm>

#include <fmt/format.h>

#include "daemon/restart_rules.hpp"
#include "daemon/tile.hpp"

namespace tilehv::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// A partition that ran this long before failing starts its backoff afresh.
constexpr auto kStableRun = std::chrono::seconds(30);

}  // namespace

tl::expected<void, std::string> Tile::recover() {
  auto state = journal_.load();
  if (!state) return tl::unexpected("cannot read the journal: " + state.error() + " (refusing to start: partitions may be running)");
  journal_state_ = std::move(*state);
  if (journal_state_.pending) {
    events_.record("policy.apply-interrupted", "",
                   "an apply was under way when the daemon stopped; returning to the policy applied before it");
  }
  if (journal_state_.applied) {
    auto loaded = load(*journal_state_.applied);
    if (!loaded) {
      return tl::unexpected("the applied policy in the journal no longer loads: " + loaded.error().message +
                            " (refusing to start: its partitions may be running)");
    }
    auto bound = bind_plane(*loaded);
    if (!bound) return tl::unexpected("the applied policy in the journal: " + bound.error());
    binding_ = std::move(*bound);
    applied_ = std::move(*loaded);
    applied_source_ = journal_state_.applied;
  }
  auto plane = ioplane::IoPlane::create(binding_.config);
  if (!plane && binding_.config.uplink) {
    // The partitions, which may be running, matter more than the uplink: without its TAP the plane
    // still serves them, and the events log says why the host's network is out of reach.
    const std::string why = plane.error();
    ioplane::PlaneConfig without_uplink = binding_.config;
    without_uplink.uplink.reset();
    plane = ioplane::IoPlane::create(std::move(without_uplink));
    if (plane) {
      events_.record("tile.uplink-failed", "", fmt::format("the tile runs without its uplink: {}", why), {{"error", why}});
    }
  }
  if (!plane) return tl::unexpected("I/O plane: " + plane.error());
  plane_ = std::move(*plane);
  // Re-adopted VMMs hand their ports back one by one; traffic flows once all are back.
  plane_->hold_traffic();

  for (auto& [name, record] : journal_state_.partitions) {
    const policy::Partition* spec = applied_ ? applied_->find(name) : nullptr;
    VmmFiles files{options_.state_dir / "partitions" / name};
    auto adopted = record.pid > 0 ? VmmProcess::adopt(record.pid, record.start_ticks, files)
                                  : tl::expected<VmmProcess, std::string>(tl::unexpected(std::string("not running")));
    if (spec == nullptr) {
      // Started by an apply that did not finish: that apply is rolled back.
      if (adopted) {
        adopted->stop(options_.stop_grace);
        events_.record("partition.stopped", name, fmt::format("{} stopped: its apply did not finish", name));
      }
      continue;
    }
    Live& live = partitions_[name];
    live.spec = *spec;
    live.record = record;
    if (adopted) {
      live.vmm = std::move(*adopted);
      live.started_at = Clock::now();
      events_.record("partition.adopted", name, fmt::format("{} re-adopted (pid {})", name, record.pid),
                     {{"pid", record.pid}});
      relink(name, live);
    } else if (record.pid > 0) {
      // It ended while no daemon watched: its end report says why, and its restart policy applies.
      VmmFiles f{options_.state_dir / "partitions" / name};
      std::ifstream in(f.end_report());
      std::stringstream text;
      text << in.rdbuf();
      auto end = nlohmann::json::parse(text.str(), nullptr, false);
      if (end.is_discarded() || !end.is_object()) {
        end = {{"kind", "vmm-crash"}, {"detail", "the VMM ended without a report while the daemon was away"}};
      }
      live.record.last_end = end;
      live.record.pid = 0;
      live.record.state = "stopped";
      events_.record("partition.ended", name, fmt::format("{} ended while the daemon was away: {}", name, end.value("kind", "")),
                     {{"end", end}});
      if (!record.stop_requested && restart_wanted(spec->restart, end)) {
        live.record.state = "waiting";
        live.restart_at = Clock::now();
      }
    } else if (record.state == "waiting") {
      live.restart_at = Clock::now();
    }
  }
  plane_->release_traffic();
  // Shadows cannot continue their comparison across a daemon restart: their VMMs are stopped (and
  // the applied policy's shadows start afresh).
  for (const auto& [name, record] : journal_state_.shadows) {
    if (record.pid <= 0) continue;
    auto adopted = VmmProcess::adopt(record.pid, record.start_ticks, VmmFiles{options_.state_dir / "shadows" / name});
    if (!adopted) continue;
    adopted->stop(options_.stop_grace);
    if (options_.cgroups) (void)options_.cgroups->remove("shadow." + name);
    events_.record("shadow.abandoned", "", fmt::format("shadow {}: its VMM was stopped, the daemon restarted during its comparison", name),
                   {{"shadow", name}, {"pid", record.pid}});
  }
  journal_state_.shadows.clear();
  // Partitions of the applied policy the journal does not know (a crash mid-apply): started now.
  if (applied_) {
    for (const policy::Partition& p : applied_->partitions) {
      if (partitions_.count(p.name) != 0) continue;
      Live& live = partitions_[p.name];
      live.spec = p;
      live.record.state = "waiting";
      live.restart_at = Clock::now();
    }
  }
  journal_state_.partitions.clear();
  journal_state_.pending.reset();
  save_journal();
  return {};
}

void Tile::relink(const std::string& name, const Live& live) {
  const auto ports = binding_.partitions.find(name);
  if (ports == binding_.partitions.end() || ports->second.grants.empty() || !live.vmm) return;
  auto link = plane_->open_link(ports->second.grants, ports->second.sensor_rates);
  if (!link) {
    events_.record("partition.relink-failed", name, fmt::format("{}: no plane link: {}", name, link.error()));
    return;
  }
  // The VMM keeps its end of the link (passed with the request); ours closes when this returns.
  auto answer = control_request(live.vmm->files().control(), "relink", std::chrono::seconds(5), link->get());
  if (!answer) {
    events_.record("partition.relink-failed", name, fmt::format("{}: its ports stay off the plane: {}", name, answer.error()));
    return;
  }
  const nlohmann::json reattached = answer->value("reattached", nlohmann::json::array());
  const nlohmann::json refused = answer->value("refused", nlohmann::json::array());
  events_.record(refused.empty() ? "partition.relinked" : "partition.relink-failed", name,
                 fmt::format("{}: {} port(s) back on the plane, {} refused", name, reattached.size(), refused.size()),
                 {{"reattached", reattached}, {"refused", refused}});
}

void Tile::supervise() noexcept {
  while (!stopping_) {
    std::vector<pollfd> fds{{wake_->fd(), POLLIN, 0}};
    std::vector<std::string> names;
    std::vector<pollfd> shadow_fds;
    std::vector<std::string> shadow_names;
    std::optional<Clock::time_point> next_restart;
    {
      std::lock_guard lock(state_);
      for (const auto& [name, run] : shadows_) {
        if (run.vmm && !run.ending_expected) {
          shadow_fds.push_back({run.vmm->pidfd(), POLLIN, 0});
          shadow_names.push_back(name);
        }
      }
      for (const auto& [name, live] : partitions_) {
        if (live.vmm && !live.ending_expected) {
          fds.push_back({live.vmm->pidfd(), POLLIN, 0});
          names.push_back(name);
        }
        if (live.restart_at && (!next_restart || *live.restart_at < *next_restart)) next_restart = live.restart_at;
      }
    }
    int timeout_ms = 1000;
    if (next_restart) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*next_restart - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, 1000));
    }
    if (!shadow_names.empty()) timeout_ms = std::min(timeout_ms, 200);  // shadows are judged often
    const std::size_t partition_fds = fds.size();
    fds.insert(fds.end(), shadow_fds.begin(), shadow_fds.end());
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (stopping_) return;
    if (n > 0 && (fds[0].revents & POLLIN) != 0) wake_->consume();
    for (std::size_t i = 1; n > 0 && i < partition_fds; ++i) {
      if (fds[i].revents == 0) continue;
      try {
        std::lock_guard ops(ops_);
        auto it = partitions_.find(names[i - 1]);
        // Re-checked under the lock: an operation may have stopped or replaced this VMM meanwhile.
        if (it != partitions_.end() && it->second.vmm && it->second.vmm->pidfd() == fds[i].fd &&
            !it->second.ending_expected && it->second.vmm->exited()) {
          handle_end(it->first, it->second);
        }
      } catch (const std::exception& e) {
        events_.record("tile.supervisor-error", names[i - 1], e.what());
      }
    }
    try {
      start_due_restarts();
      std::lock_guard ops(ops_);
      for (std::size_t i = partition_fds; n > 0 && i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        auto it = shadows_.find(shadow_names[i - partition_fds]);
        if (it != shadows_.end() && it->second.vmm && it->second.vmm->pidfd() == fds[i].fd && !it->second.ending_expected &&
            it->second.vmm->exited()) {
          handle_shadow_end(it->first, it->second);
        }
      }
      judge_shadows();
      // Shadows whose live partition was not running when the policy was applied start now.
      if (applied_ && std::any_of(applied_->shadows.begin(), applied_->shadows.end(),
                                  [&](const policy::Shadow& s) { return shadows_.count(s.name) == 0; })) {
        reconcile_shadows();
      }
    } catch (const std::exception& e) {
      events_.record("tile.supervisor-error", "", e.what());
    }
  }
}

void Tile::handle_end(const std::string& name, Live& live) {
  for (auto& [shadow_name, run] : shadows_) {
    if (run.spec.live != name || run.state != "promoted" || run.spec.action != policy::ShadowAction::kAutoRollback || !run.vmm) continue;
    // A promoted kernel that ends on probation: its previous kernel takes its place again (the
    // plane has already put its rings back).
    const nlohmann::json end = live.vmm->collect_end();
    (void)run.vmm->control("resume", std::chrono::milliseconds(1000));
    {
      std::lock_guard lock(state_);
      swap_kernels(live, run);
      live.record.promoted_image.clear();
      live.record.promoted_sha256.clear();
      live.record.last_end = end;
      run.vmm.reset();
      run.state = "rolled-back";
      journal_state_.shadows.erase(shadow_name);
    }
    if (options_.cgroups) (void)options_.cgroups->remove("shadow." + shadow_name);
    decide(shadow_name, run, "rolled-back",
           fmt::format("the promoted kernel ended on probation ({}); {} runs its previous kernel again", end.value("kind", "?"), name),
           {{"end", end}});
    save_journal();
    return;
  }
  nlohmann::json end = live.vmm->collect_end();
  const bool clean = clean_end(end);
  const bool ran_long = Clock::now() - live.started_at >= kStableRun;
  {
    std::lock_guard lock(state_);
    live.vmm.reset();
    live.record.pid = 0;
    live.record.start_ticks = 0;
    live.record.last_end = end;
    if (ran_long) live.record.restarts = 0;
    if (options_.cgroups) (void)options_.cgroups->remove(name);
    live.record.state = clean ? "stopped" : "failed";
  }
  events_.record("partition.ended", name,
                 fmt::format("{} ended: {}{}", name, end.value("kind", "unknown"),
                             end.value("detail", "").empty() ? "" : ": " + end.value("detail", "")),
                 {{"end", end}});
  const policy::Restart& restart = live.spec.restart;
  if (restart_wanted(restart, end) && !live.record.stop_requested) {
    if (restart.policy == policy::RestartPolicy::kOnFailure && live.record.restarts >= restart.max_retries) {
      events_.record("partition.gave-up", name,
                     fmt::format("{} failed {} times in a row; not restarting it (on-failure, maxRetries {})", name,
                                 live.record.restarts, restart.max_retries));
    } else {
      std::lock_guard lock(state_);
      live.record.state = "waiting";
      live.restart_at = Clock::now() + backoff(restart, live.record.restarts);
    }
  }
  save_journal();
}

void Tile::start_due_restarts() {
  std::vector<std::string> due;
  {
    std::lock_guard lock(state_);
    for (const auto& [name, live] : partitions_) {
      if (live.restart_at && *live.restart_at <= Clock::now() && !live.vmm) due.push_back(name);
    }
  }
  if (due.empty()) return;
  std::lock_guard ops(ops_);
  for (const std::string& name : due) {
    auto it = partitions_.find(name);
    if (it == partitions_.end() || !it->second.restart_at || it->second.vmm) continue;
    Live& live = it->second;
    {
      std::lock_guard lock(state_);
      live.restart_at.reset();
      ++live.record.restarts;
      ++live.record.total_restarts;
    }
    events_.record("partition.restarting", name,
                   fmt::format("{} restarting (restart policy {}, attempt {})", name,
                               live.spec.restart.policy == policy::RestartPolicy::kAlways ? "always" : "on-failure",
                               live.record.restarts));
    if (auto ok = launch(name, live, applied_->tile); !ok) {
      events_.record("partition.start-failed", name, fmt::format("{} did not start: {}", name, ok.error()));
      const policy::Restart& restart = live.spec.restart;
      if (restart.policy == policy::RestartPolicy::kAlways || live.record.restarts < restart.max_retries) {
        std::lock_guard lock(state_);
        live.record.state = "waiting";
        live.restart_at = Clock::now() + backoff(restart, live.record.restarts);
      }
    }
  }
  save_journal();
}

}  // namespace tilehv::daemon
