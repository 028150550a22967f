// Tile: see tile.hpp.
#include "daemon/tile.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "daemon/jailed_spawner.hpp"
#include "daemon/proc_stats.hpp"
#include "policy/loader.hpp"
#include "util/errno_text.hpp"

namespace tilehv::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using policy::Action;

}  // namespace

// The cgroup limits of a partition's VMM: guest RAM plus the VMM's own (code, device queues, port
// rings, thread stacks); its vCPU threads plus the device and main threads.
SpawnRequest limits_for(const policy::Partition& spec, const policy::Tile& tile) {
  SpawnRequest limits;
  limits.cpus = spec.cpus.empty() ? tile.cpus : spec.cpus;
  limits.cpu_weight = spec.cpu_weight;
  limits.memory_limit_bytes = spec.memory_bytes + (64ULL << 20);
  limits.pids_limit = spec.vcpus + 16;
  return limits;
}

namespace {

// Reconfigures the plane where there is no way back (a rollback, the end of an apply): if the
// uplink's TAP cannot be opened, everything else still takes effect and the tile runs without an
// uplink, which the events log says, until a policy names one that opens.
void reconfigure_or_drop_uplink(ioplane::IoPlane& plane, ioplane::PlaneConfig config, EventLog& events) {
  auto done = plane.reconfigure(config);
  if (done) return;
  config.uplink.reset();
  // Removing the uplink opens nothing, so this cannot fail.
  (void)plane.reconfigure(std::move(config));
  events.record("tile.uplink-failed", "", fmt::format("the tile runs without its uplink: {}", done.error()),
                {{"error", done.error()}});
}

std::string memory_argument(std::uint64_t bytes) {
  if (bytes % (1024 * 1024) == 0) return fmt::format("{}M", bytes / (1024 * 1024));
  return fmt::format("{}K", (bytes + 1023) / 1024);
}

}  // namespace

Tile::Tile(TileOptions options)
    : options_(std::move(options)),
      journal_(options_.state_dir / "journal.json"),
      events_(options_.state_dir / "events.jsonl") {}

tl::expected<std::unique_ptr<Tile>, std::string> Tile::open(TileOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir / "partitions", ec);
  if (ec) return tl::unexpected(fmt::format("state directory {}: {}", options.state_dir.string(), ec.message()));
  std::filesystem::permissions(options.state_dir, std::filesystem::perms::owner_all, ec);
  std::unique_ptr<Tile> tile(new Tile(std::move(options)));
  tile->lock_ = util::UniqueFd(::open((tile->options_.state_dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!tile->lock_) return tl::unexpected("state directory lock: " + util::errno_text(errno));
  if (::flock(tile->lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    return tl::unexpected(fmt::format("another tilehvd already uses the state directory {}", tile->options_.state_dir.string()));
  }
  auto wake = util::EventFd::create();
  if (!wake) return tl::unexpected(std::string("eventfd: cannot create"));
  tile->wake_ = std::move(*wake);
  if (auto recovered = tile->recover(); !recovered) return tl::unexpected(recovered.error());
  {
    std::lock_guard ops(tile->ops_);
    tile->reconcile_shadows();
  }
  tile->supervisor_ = std::thread([t = tile.get()] { t->supervise(); });
  return tile;
}

Tile::~Tile() {
  stopping_ = true;
  if (wake_) wake_->signal();
  if (supervisor_.joinable()) supervisor_.join();
  events_.close();
}

tl::expected<policy::Policy, ApiError> Tile::load(const PolicySource& source) const {
  const auto format = source.format == "yaml" ? policy::Format::kYaml : policy::Format::kJson;
  auto loaded = policy::load_policy_text(source.text, source.display_name, source.base_dir, format);
  if (!loaded) {
    nlohmann::json errors = nlohmann::json::array();
    std::string first;
    for (const policy::Diagnostic& d : loaded.error()) {
      errors.push_back(policy::to_json(d));
      if (first.empty()) first = policy::format(d);
    }
    return tl::unexpected(ApiError{422, "invalid_policy",
                                   fmt::format("the policy has {} error{}; the first: {}", loaded.error().size(),
                                               loaded.error().size() == 1 ? "" : "s", first),
                                   {{"errors", errors}}});
  }
  return std::move(*loaded);
}

tl::expected<policy::Policy, ApiError> Tile::validate(const PolicySource& source) const {
  auto loaded = load(source);
  if (!loaded) return loaded;
  if (auto bound = bind_plane(*loaded); !bound) return tl::unexpected(ApiError{422, "invalid_policy", bound.error(), {}});
  return loaded;
}

std::set<std::string> Tile::running_names() const {
  std::lock_guard lock(state_);
  std::set<std::string> names;
  for (const auto& [name, live] : partitions_) {
    if (live.vmm && (live.record.state == "running" || live.record.state == "paused")) names.insert(name);
  }
  return names;
}

tl::expected<policy::Plan, ApiError> Tile::plan(const PolicySource& source) {
  auto desired = validate(source);
  if (!desired) return tl::unexpected(desired.error());
  std::lock_guard ops(ops_);
  return policy::make_plan(applied_ ? &*applied_ : nullptr, *desired, running_names());
}

std::optional<PolicySource> Tile::applied_policy() const {
  std::lock_guard lock(state_);
  return applied_source_;
}

uid_t Tile::uid_for(const std::string& name) {
  auto it = journal_state_.partitions.find(name);
  if (it != journal_state_.partitions.end() && it->second.uid != 0) return it->second.uid;
  return options_.uid_base + journal_state_.next_uid_slot++;
}

tl::expected<void, std::string> Tile::launch(const std::string& name, Live& live, const policy::Tile& tile) {
  auto process = spawn(name, live, tile);
  if (!process) return tl::unexpected(process.error());
  return await_ready(name, live, std::move(*process));
}

tl::expected<VmmProcess, std::string> Tile::spawn(const std::string& name, Live& live, const policy::Tile& tile, bool held) {
  const policy::Partition& spec = live.spec;
  VmmFiles files{options_.state_dir / "partitions" / name};
  std::error_code ec;
  std::filesystem::create_directories(files.dir, ec);
  if (ec) return tl::unexpected(fmt::format("{}: {}", files.dir.string(), ec.message()));
  const auto ports = binding_.partitions.find(name);
  if (ports == binding_.partitions.end()) return tl::unexpected(std::string("no plane binding"));
  auto link = plane_->open_link(ports->second.grants, ports->second.sensor_rates, held);
  if (!link) return tl::unexpected("plane link: " + link.error());

  if (live.record.uid == 0) {
    live.record.uid = uid_for(name);
    live.record.gid = live.record.uid;
  }
  const std::string& image = live.record.promoted_image.empty() ? spec.image_resolved : live.record.promoted_image;
  SpawnRequest request = vmm_request(name, spec, image, files, live.record.uid, tile, ports->second);
  request.plane_link = std::move(*link);

  return VmmProcess::start(std::move(request), options_.spawner, files);
}

SpawnRequest Tile::vmm_request(const std::string& name, const policy::Partition& spec, const std::string& image,
                              const VmmFiles& files, uid_t uid, const policy::Tile& tile, const PartitionPorts& ports) const {
  SpawnRequest request;
  request.name = name;
  request.argv = {options_.vmm_binary, "run", "--kernel", image, "--memory", memory_argument(spec.memory_bytes),
                  "--vcpus", std::to_string(spec.vcpus), "--console", "file:" + files.console().string(), "--console-limit", memory_argument(spec.console_limit_bytes),
                  "--control", files.control().string(), "--end-report", files.end_report().string(), "--plane", "fd:3"};
  if (!spec.cmdline.empty()) request.argv.insert(request.argv.end(), {"--cmdline", spec.cmdline});
  if (spec.rng) request.argv.push_back("--rng");
  request.argv.insert(request.argv.end(), ports.vmm_arguments.begin(), ports.vmm_arguments.end());
  request.uid = uid;
  request.gid = uid;
  if (options_.jailed) {
    request.argv.insert(request.argv.end(), {"--jail", fmt::format("uid={},gid={}", request.uid, request.gid)});
  }
  const SpawnRequest limits = limits_for(spec, tile);
  request.cpus = limits.cpus;
  request.cpu_weight = limits.cpu_weight;
  request.memory_limit_bytes = limits.memory_limit_bytes;
  request.pids_limit = limits.pids_limit;
  return request;
}

tl::expected<void, std::string> Tile::await_ready(const std::string& name, Live& live, VmmProcess started) {
  if (auto ready = started.wait_ready(options_.ready_timeout); !ready) {
    started.kill();
    nlohmann::json end = started.collect_end();
    if (options_.cgroups) (void)options_.cgroups->remove(name);
    std::lock_guard lock(state_);
    live.record.last_end = end;
    live.record.state = "failed";
    const std::string detail = end.value("detail", "");
    return tl::unexpected(detail.empty() || ready.error().find(detail) != std::string::npos ? ready.error()
                                                                                            : ready.error() + " (" + detail + ")");
  }
  const policy::Partition& spec = live.spec;
  std::lock_guard lock(state_);
  live.vmm = std::move(started);
  live.record.pid = live.vmm->pid();
  live.record.start_ticks = live.vmm->start_ticks();
  live.record.state = "running";
  live.record.stop_requested = false;
  live.started_at = Clock::now();
  live.restart_at.reset();
  live.ending_expected = false;
  events_.record("partition.started", name, fmt::format("{} started (pid {})", name, live.record.pid),
                 {{"pid", live.record.pid}, {"image", spec.image}});
  if (wake_) wake_->signal();
  return {};
}

void Tile::stop_vmm(const std::string& name, Live& live) {
  if (!live.vmm) return;
  {
    std::lock_guard lock(state_);
    live.ending_expected = true;
  }
  live.vmm->stop(options_.stop_grace);
  nlohmann::json end = live.vmm->collect_end();
  std::lock_guard lock(state_);
  live.record.last_end = end;
  live.record.pid = 0;
  live.record.start_ticks = 0;
  live.vmm.reset();
  if (options_.cgroups) (void)options_.cgroups->remove(name);
  events_.record("partition.stopped", name, fmt::format("{} stopped", name), {{"end", end}});
}

tl::expected<policy::Plan, ApiError> Tile::apply(const PolicySource& source) {
  auto desired = validate(source);
  if (!desired) return tl::unexpected(desired.error());
  if (!options_.jailed && !desired->allow_unjailed) {
    return tl::unexpected(ApiError{403, "unjailed_refused",
                                   "tilehvd runs with --no-jail, and the policy does not allow partitions without a "
                                   "jail (development.unjailed)",
                                   {}});
  }
  auto new_binding = bind_plane(*desired);
  std::lock_guard ops(ops_);
  policy::Plan plan = policy::make_plan(applied_ ? &*applied_ : nullptr, *desired, running_names());
  const PlaneBinding old_binding = binding_;
  journal_state_.pending = source;
  save_journal();
  if (auto reconfigured = plane_->reconfigure(merged(old_binding.config, new_binding->config)); !reconfigured) {
    // The plane refused the new configuration as a whole (its uplink cannot be opened): nothing
    // has changed yet.
    journal_state_.pending.reset();
    save_journal();
    events_.record("policy.apply-failed", "", fmt::format("apply failed: {}; the tile is unchanged", reconfigured.error()),
                   {{"error", reconfigured.error()}});
    return tl::unexpected(ApiError{409, "apply_failed",
                                   fmt::format("the I/O plane cannot take the policy: {}; nothing was changed",
                                               reconfigured.error()),
                                   {{"partition", ""}, {"rolled_back", true}}});
  }
  binding_ = *new_binding;
  for (const auto& [name, ports] : old_binding.partitions) binding_.partitions.try_emplace(name, ports);
  for (const auto& [name, ports] : new_binding->partitions) binding_.partitions[name] = ports;

  std::vector<std::string> created;
  std::vector<std::pair<std::string, policy::Partition>> replaced;  // restarted or updated: the old spec
  std::string failure;
  std::string failed_partition;
  const auto step_order = [](Action a) {
    // New VMMs come up before anything old goes away, so a failure can still return to the old tile.
    switch (a) {
      case Action::kCreate: return 0;
      case Action::kRestart: return 1;
      case Action::kUpdateInPlace: return 2;
      case Action::kDestroy: return 3;
      case Action::kUnchanged: return 4;
    }
    return 4;
  };
  std::vector<policy::PlanStep> steps = plan.steps;
  std::stable_sort(steps.begin(), steps.end(),
                   [&](const auto& a, const auto& b) { return step_order(a.action) < step_order(b.action); });
  // New partitions start together: every VMM is spawned first, then each is waited for, so an apply
  // of many partitions takes about as long as the slowest start, not the sum of them all.
  std::vector<std::pair<std::string, VmmProcess>> spawned;
  for (const policy::PlanStep& step : steps) {
    const policy::Partition* spec = desired->find(step.partition);
    if (step.action != Action::kCreate || spec == nullptr) continue;
    {
      std::lock_guard lock(state_);
      Live& live = partitions_[step.partition];
      live.spec = *spec;
      if (auto old = journal_state_.partitions.find(step.partition); old != journal_state_.partitions.end()) {
        live.record.uid = old->second.uid, live.record.gid = old->second.gid;
      }
    }
    created.push_back(step.partition);
    // With a shadow from the start, it gets its first input when the shadow does: both see the whole stream.
    const bool with_shadow = std::any_of(desired->shadows.begin(), desired->shadows.end(), [&](const policy::Shadow& s) {
      return s.live == step.partition && shadows_.count(s.name) == 0;
    });
    auto process = spawn(step.partition, partitions_[step.partition], desired->tile, with_shadow);
    if (!process) {
      failure = process.error(), failed_partition = step.partition;
      break;
    }
    spawned.emplace_back(step.partition, std::move(*process));
  }
  for (auto& [name, process] : spawned) {
    if (!failure.empty()) {
      // Another partition already failed: the rest are not waited for, only ended.
      process.kill();
      (void)process.collect_end();
      if (options_.cgroups) (void)options_.cgroups->remove(name);
      continue;
    }
    if (auto ok = await_ready(name, partitions_[name], std::move(process)); !ok) failure = ok.error(), failed_partition = name;
  }
  for (const policy::PlanStep& step : steps) {
    if (!failure.empty()) break;
    if (step.action == Action::kDestroy || step.action == Action::kUnchanged || step.action == Action::kCreate) continue;
    const policy::Partition* spec = desired->find(step.partition);
    if (spec == nullptr) continue;
    if (step.action == Action::kRestart) {
      Live& live = partitions_[step.partition];
      replaced.emplace_back(step.partition, live.spec);
      stop_vmm(step.partition, live);
      {
        std::lock_guard lock(state_);
        live.spec = *spec;
        live.record.promoted_image.clear();  // the new policy says which image it runs
        live.record.promoted_sha256.clear();
      }
      if (auto ok = launch(step.partition, live, desired->tile); !ok) {
        failure = ok.error(), failed_partition = step.partition;
        break;
      }
    } else if (step.action == Action::kUpdateInPlace) {
      Live& live = partitions_[step.partition];
      replaced.emplace_back(step.partition, live.spec);
      {
        std::lock_guard lock(state_);
        live.spec = *spec;
        live.record.restarts = 0;
      }
      if (options_.cgroups && live.vmm) {
        if (auto ok = options_.cgroups->update_limits(step.partition, cgroup_limits(limits_for(*spec, desired->tile)));
            !ok) {
          failure = "cgroup limits: " + ok.error(), failed_partition = step.partition;
          break;
        }
      }
    }
  }

  if (!failure.empty()) {
    // Back to the tile as it was: what this apply started goes, what it replaced comes back.
    for (const std::string& name : created) {
      stop_vmm(name, partitions_[name]);
      std::lock_guard lock(state_);
      partitions_.erase(name);
    }
    binding_ = old_binding;
    reconfigure_or_drop_uplink(*plane_, old_binding.config, events_);
    for (auto it = replaced.rbegin(); it != replaced.rend(); ++it) {
      Live& live = partitions_[it->first];
      const bool was_restarted = std::any_of(steps.begin(), steps.end(), [&](const policy::PlanStep& s) {
        return s.partition == it->first && s.action == Action::kRestart;
      });
      {
        std::lock_guard lock(state_);
        live.spec = it->second;
      }
      if (!was_restarted && options_.cgroups && live.vmm && applied_) {
        (void)options_.cgroups->update_limits(it->first, cgroup_limits(limits_for(it->second, applied_->tile)));
      }
      if (was_restarted) {
        stop_vmm(it->first, live);
        if (auto ok = launch(it->first, live, applied_ ? applied_->tile : desired->tile); !ok) {
          events_.record("partition.rollback-failed", it->first,
                         fmt::format("{} could not be restarted with its previous specification: {}", it->first, ok.error()));
        }
      }
    }
    journal_state_.pending.reset();
    save_journal();
    events_.record("policy.apply-failed", failed_partition,
                   fmt::format("apply failed at {}: {}; the tile is back to its previous policy", failed_partition, failure),
                   {{"partition", failed_partition}, {"error", failure}});
    return tl::unexpected(ApiError{409, "apply_failed",
                                   fmt::format("partition {} did not start: {}; everything the apply changed was rolled back",
                                               failed_partition, failure),
                                   {{"partition", failed_partition}, {"rolled_back", true}}});
  }

  for (const policy::PlanStep& step : steps) {
    if (step.action != Action::kDestroy) continue;
    auto it = partitions_.find(step.partition);
    if (it == partitions_.end()) continue;
    stop_vmm(step.partition, it->second);
    std::lock_guard lock(state_);
    partitions_.erase(it);
    journal_state_.partitions.erase(step.partition);
    events_.record("partition.destroyed", step.partition, fmt::format("{} destroyed", step.partition));
  }
  binding_ = *new_binding;
  reconfigure_or_drop_uplink(*plane_, new_binding->config, events_);
  {
    std::lock_guard lock(state_);
    applied_ = std::move(*desired);
    applied_source_ = source;
  }
  journal_state_.applied = source;
  journal_state_.pending.reset();
  save_journal();
  reconcile_shadows();
  nlohmann::json steps_json = nlohmann::json::array();
  for (const policy::PlanStep& s : plan.steps) {
    steps_json.push_back({{"partition", s.partition}, {"action", policy::action_name(s.action)}, {"reason", s.reason}});
  }
  events_.record("policy.applied", "", fmt::format("policy {} applied", source.display_name), {{"steps", steps_json}});
  return plan;
}

void Tile::save_journal() {
  {
    std::lock_guard lock(state_);
    for (const auto& [name, live] : partitions_) journal_state_.partitions[name] = live.record;
  }
  if (auto saved = journal_.save(journal_state_); !saved) {
    events_.record("tile.journal-error", "", "the journal could not be saved: " + saved.error());
  }
}

}  // namespace tilehv::daemon
