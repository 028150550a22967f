// Tile: shadow partitions (docs/design/shadows.md). For each shadow of the applied policy the
// daemon starts the candidate's VMM (jailed like its live partition, with a fraction of its CPU
// weight), has the plane mirror the live partition's inputs to it from an input boundary, judges the
// comparison against the promotion criteria, and acts as the policy says: report, promote, reject,
// roll back. Every decision is an event with its evidence and the report's path.
#include <fstream>

#include <fmt/format.h>

#include "daemon/jailed_spawner.hpp"
#include "daemon/proc_stats.hpp"
#include "daemon/tile.hpp"
#include "policy/sha256.hpp"
#include "shadow/report_html.hpp"

namespace tilehv::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kBoundaryTimeout = std::chrono::milliseconds(5000);
constexpr int kBoundaryAttempts = 3;
constexpr auto kControlTimeout = std::chrono::milliseconds(1000);

ApiError no_shadow(const std::string& name) {
  return ApiError{404, "not_found", fmt::format("no shadow named '{}' in the applied policy", name), {}};
}

ApiError wrong_state(const std::string& name, const std::string& state, const std::string& wanted) {
  return ApiError{409, "wrong_state", fmt::format("shadow {} is {}; {}", name, state, wanted), {}};
}

std::string cgroup_name(const std::string& shadow) { return "shadow." + shadow; }

std::uint64_t exits_of(const std::optional<VmmProcess>& vmm) {
  if (!vmm) return 0;
  auto status = vmm->control("status", kControlTimeout);
  if (!status || !status->contains("exits")) return 0;
  return (*status)["exits"].value("total", std::uint64_t{0});
}

}  // namespace

void Tile::reconcile_shadows() {
  std::vector<std::string> gone;
  for (const auto& [name, run] : shadows_) {
    if (run.adhoc && applied_ && applied_->find(run.spec.live) != nullptr) continue;
    const policy::Shadow* wanted = applied_ ? applied_->find_shadow(name) : nullptr;
    const bool same = wanted != nullptr && wanted->live == run.spec.live &&
                      wanted->candidate.sha256 == run.spec.candidate.sha256 &&
                      wanted->candidate.image_resolved == run.spec.candidate.image_resolved;
    if (!same) gone.push_back(name);
  }
  for (const std::string& name : gone) {
    ShadowRun& run = shadows_.at(name);
    end_shadow_vmm(name, run);
    plane_->forget_shadow(name);
    events_.record("shadow.removed", run.spec.live, fmt::format("shadow {} removed by the applied policy", name));
    std::lock_guard lock(state_);
    shadows_.erase(name);
    journal_state_.shadows.erase(name);
  }
  bool changed = !gone.empty();
  if (!applied_) {
    if (changed) save_journal();
    return;
  }
  for (const policy::Shadow& spec : applied_->shadows) {
    if (shadows_.count(spec.name) != 0) continue;  // running, or judged: a new candidate needs a new image
    // Its live partition is not up (yet: a restart is due): the shadow starts when it is.
    if (auto live = partitions_.find(spec.live); live == partitions_.end() || !live->second.vmm) continue;
    changed = true;
    if (auto started = start_shadow(spec); !started) {
      // Its live partition, if it waits for the shadow to start, waits no longer.
      if (auto ports = binding_.partitions.find(spec.live); ports != binding_.partitions.end()) {
        plane_->release_partition(ports->second.grants);
      }
      std::lock_guard lock(state_);  // the supervisor reads the table under state_ alone
      ShadowRun& run = shadows_[spec.name];
      run.spec = spec;
      run.state = "failed";
      run.verdict.state = shadow::Verdict::State::kFailed;
      run.verdict.reasons = {"fault: start-failed: " + started.error()};
      events_.record("shadow.start-failed", spec.live, fmt::format("shadow {} did not start: {}", spec.name, started.error()),
                     {{"shadow", spec.name}, {"error", started.error()}});
    }
  }
  if (changed) save_journal();
}

tl::expected<void, std::string> Tile::start_shadow(const policy::Shadow& spec, bool adhoc) {
  auto live_it = partitions_.find(spec.live);
  if (live_it == partitions_.end() || !live_it->second.vmm) {
    return tl::unexpected(fmt::format("its live partition {} is not running", spec.live));
  }
  const Live& live = live_it->second;
  const auto ports = binding_.partitions.find(spec.live);
  if (ports == binding_.partitions.end()) return tl::unexpected(std::string("no plane binding for its live partition"));
  VmmFiles files{options_.state_dir / "shadows" / spec.name};
  std::error_code ec;
  std::filesystem::create_directories(files.dir, ec);
  if (ec) return tl::unexpected(fmt::format("{}: {}", files.dir.string(), ec.message()));
  std::filesystem::remove(files.end_report(), ec);
  plane_->forget_shadow(spec.name);  // evidence of an earlier run of the same name
  auto link = plane_->open_shadow_link(spec, ports->second.grants);
  if (!link) return tl::unexpected("plane link: " + link.error());

  ShadowRun run;
  run.spec = spec;
  run.uid = options_.uid_base + journal_state_.next_uid_slot++;
  // Same memory, vCPUs, CPUs and devices as the live partition; a fraction of its CPU weight.
  policy::Partition as_shadow = live.spec;
  as_shadow.cpu_weight = std::max<std::uint32_t>(1, live.spec.cpu_weight * spec.cpu_weight_percent / 100);
  SpawnRequest request = vmm_request(cgroup_name(spec.name), as_shadow, spec.candidate.image_resolved, files, run.uid,
                                     applied_->tile, ports->second);
  request.plane_link = std::move(*link);
  const auto fail = [&](const std::string& why) -> tl::expected<void, std::string> {
    plane_->stop_shadow(spec.name, why);
    return tl::unexpected(why);
  };
  auto process = VmmProcess::start(std::move(request), options_.spawner, files);
  if (!process) return fail(process.error());
  if (auto ready = process->wait_ready(options_.ready_timeout); !ready) {
    process->kill();
    const nlohmann::json end = process->collect_end();
    if (options_.cgroups) (void)options_.cgroups->remove(cgroup_name(spec.name));
    return fail(fmt::format("{}{}", ready.error(), end.value("detail", "").empty() ? "" : " (" + end.value("detail", "") + ")"));
  }
  tl::expected<void, std::string> mirroring = tl::unexpected(std::string("not tried"));
  for (int attempt = 0; attempt < kBoundaryAttempts && !mirroring; ++attempt) {
    mirroring = plane_->begin_mirroring(spec.name, kBoundaryTimeout);
  }
  if (!mirroring) {
    process->stop(options_.stop_grace);
    (void)process->collect_end();
    if (options_.cgroups) (void)options_.cgroups->remove(cgroup_name(spec.name));
    return fail(mirroring.error());
  }
  run.started_at = Clock::now();
  if (auto stats = read_proc_stats(live.vmm->pid())) run.live_cpu_at_start = stats->cpu_seconds;
  run.live_exits_at_start = exits_of(live.vmm);
  run.state = "comparing";
  run.adhoc = adhoc;
  const pid_t pid = process->pid();
  run.vmm = std::move(*process);
  {
    std::lock_guard lock(state_);
    journal_state_.shadows[spec.name] = ShadowRecord{pid, run.vmm->start_ticks()};
    shadows_[spec.name] = std::move(run);
  }
  events_.record("shadow.started", spec.live,
                 fmt::format("shadow {} of {} started (pid {}): candidate {}", spec.name, spec.live, pid, spec.candidate.image),
                 {{"shadow", spec.name}, {"pid", pid}, {"candidate", spec.candidate.image}, {"sha256", spec.candidate.sha256}});
  if (wake_) wake_->signal();
  return {};
}

void Tile::end_shadow_vmm(const std::string& name, ShadowRun& run) {
  if (!run.vmm) return;
  {
    std::lock_guard lock(state_);
    run.ending_expected = true;
  }
  run.vmm->stop(options_.stop_grace);
  (void)run.vmm->collect_end();
  std::lock_guard lock(state_);
  run.vmm.reset();
  journal_state_.shadows.erase(name);
  if (options_.cgroups) (void)options_.cgroups->remove(cgroup_name(name));
}

shadow::Evidence Tile::evidence_for(const ShadowRun& run, const std::vector<shadow::Fault>& faults) const {
  shadow::Evidence e;
  e.elapsed_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - run.started_at).count());
  e.faults = faults;
  auto live = partitions_.find(run.spec.live);
  if (live != partitions_.end() && live->second.vmm) {
    if (auto stats = read_proc_stats(live->second.vmm->pid())) {
      e.live.cpu_ns = static_cast<std::uint64_t>((stats->cpu_seconds - run.live_cpu_at_start.value_or(0)) * 1e9);
      e.live.memory_bytes = stats->resident_bytes;
    }
    const std::uint64_t exits = exits_of(live->second.vmm);
    e.live.exits = exits > run.live_exits_at_start ? exits - run.live_exits_at_start : 0;
  }
  if (run.vmm) {
    if (auto stats = read_proc_stats(run.vmm->pid())) {
      e.shadow.cpu_ns = static_cast<std::uint64_t>(stats->cpu_seconds * 1e9);
      e.shadow.memory_bytes = stats->resident_bytes;
    }
    e.shadow.exits = exits_of(run.vmm);
  }
  return e;
}

nlohmann::json Tile::shadow_view(const std::string& name, const ShadowRun& run) {
  nlohmann::json session;
  plane_->with_shadow(name, [&](ioplane::ShadowSession& s) { session = s.status(); });
  const std::filesystem::path dir = options_.state_dir / "shadows" / name;
  nlohmann::json j{{"shadow", name},
                   {"live", run.spec.live},
                   {"candidate", run.spec.candidate.image},
                   {"sha256", run.spec.candidate.sha256},
                   {"action", policy::shadow_action_name(run.spec.action)},
                   {"state", run.state},
                   {"pid", run.vmm ? run.vmm->pid() : 0},
                   {"verdict", shadow::to_json(run.verdict)},
                   {"decisions", run.decisions},
                   {"report", {{"json", (dir / "report.json").string()}, {"html", (dir / "report.html").string()},
                               {"text", (dir / "report.txt").string()}}}};
  if (!session.is_null()) {
    j["mirroring"] = session.value("state", "");
    j["faults"] = session.value("faults", nlohmann::json::array());
    if (session.contains("comparison")) j["summary"] = session["comparison"];
  }
  j["elapsed_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - run.started_at).count();
  return j;
}

void Tile::write_reports(const std::string& name, const nlohmann::json& view) {
  const std::filesystem::path dir = options_.state_dir / "shadows" / name;
  const std::pair<const char*, std::string> files[] = {
      {"report.json", view.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"},
      {"report.html", shadow::render_report_html(view)},
      {"report.txt", shadow::render_report_text(view)}};
  for (const auto& [file, text] : files) {
    const std::filesystem::path path = dir / file;
    const std::filesystem::path temporary = dir / (std::string(file) + ".tmp");
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    out.close();
    std::error_code ec;
    if (out) std::filesystem::rename(temporary, path, ec);
  }
}

void Tile::decide(const std::string& name, ShadowRun& run, const std::string& decision, const std::string& message,
                  nlohmann::json evidence) {
  const nlohmann::json view = shadow_view(name, run);
  write_reports(name, view);
  nlohmann::json entry{{"decision", decision}, {"message", message}, {"evidence", evidence}};
  {
    std::lock_guard lock(state_);
    run.decisions.push_back(entry);
  }
  evidence["shadow"] = name;
  evidence["verdict"] = shadow::to_json(run.verdict);
  evidence["report"] = view["report"]["json"];
  if (view.contains("summary")) {
    evidence["summary"] = {{"inputs", view["summary"].value("inputs", 0)}, {"compared", view["summary"].value("compared", 0)},
                           {"divergent", view["summary"].value("divergent", 0)}};
  }
  events_.record("shadow." + decision, run.spec.live, fmt::format("shadow {}: {}", name, message), evidence);
  write_reports(name, shadow_view(name, run));
}

void Tile::judge_shadows() {
  for (auto& [name, run] : shadows_) judge_shadow(name, run);
}

void Tile::judge_shadow(const std::string& name, ShadowRun& run) {
  {
    if (run.state == "promoted" && run.spec.action == policy::ShadowAction::kAutoRollback && run.promoted_at &&
        Clock::now() - *run.promoted_at >= std::chrono::milliseconds(run.spec.probation_ms)) {
      (void)release_locked(name, run, "the promoted kernel passed its probation");
      return;
    }
    if (run.state != "comparing" && run.state != "passed") return;
    std::vector<shadow::Fault> faults;
    std::optional<shadow::Verdict> verdict;
    shadow::Evidence evidence;
    std::string stopped_without_fault;
    plane_->with_shadow(name, [&](ioplane::ShadowSession& s) {
      faults = s.faults();
      if (s.state() == ioplane::ShadowSession::State::kStopped && faults.empty()) stopped_without_fault = s.stop_reason();
    });
    if (!stopped_without_fault.empty()) {
      // Nothing the candidate did: its live partition went away or changed under it.
      end_shadow_vmm(name, run);
      {
        std::lock_guard lock(state_);
        run.state = "aborted";
      }
      decide(name, run, "aborted", "the comparison ended: " + stopped_without_fault, {});
      return;
    }
    evidence = evidence_for(run, faults);
    plane_->with_shadow(name, [&](ioplane::ShadowSession& s) {
      if (s.comparator() != nullptr) verdict = shadow::judge(run.spec.promotion, *s.comparator(), evidence);
    });
    if (!verdict) return;
    {
      std::lock_guard lock(state_);
      run.verdict = *verdict;
    }
    const nlohmann::json resources{{"live", {{"cpu_ns", evidence.live.cpu_ns}, {"exits", evidence.live.exits}, {"memory_bytes", evidence.live.memory_bytes}}},
                                   {"shadow", {{"cpu_ns", evidence.shadow.cpu_ns}, {"exits", evidence.shadow.exits}, {"memory_bytes", evidence.shadow.memory_bytes}}}};
    if (verdict->state == shadow::Verdict::State::kFailed) {
      plane_->stop_shadow(name, "failed");
      end_shadow_vmm(name, run);
      {
        std::lock_guard lock(state_);
        run.state = "failed";
      }
      decide(name, run, "rejected", fmt::format("candidate {} rejected: {}", run.spec.candidate.image, verdict->reasons.front()),
             {{"reasons", verdict->reasons}, {"resources", resources}});
    } else if (verdict->state == shadow::Verdict::State::kPassed && run.state == "comparing") {
      {
        std::lock_guard lock(state_);
        run.state = "passed";
      }
      decide(name, run, "passed", fmt::format("candidate {} met its promotion criteria", run.spec.candidate.image),
             {{"resources", resources}});
      if (run.spec.action != policy::ShadowAction::kReport) {
        if (auto promoted = promote_locked(name, run, policy::shadow_action_name(run.spec.action)); !promoted) {
          events_.record("shadow.promote-failed", run.spec.live, fmt::format("shadow {}: {}", name, promoted.error().message));
        }
      }
    }
  }
}

void Tile::handle_shadow_end(const std::string& name, ShadowRun& run) {
  nlohmann::json end = run.vmm->collect_end();
  {
    std::lock_guard lock(state_);
    run.vmm.reset();
    journal_state_.shadows.erase(name);
  }
  if (options_.cgroups) (void)options_.cgroups->remove(cgroup_name(name));
  const std::string kind = end.value("kind", "vmm-crash");
  const std::string detail = end.value("detail", "");
  if (run.state == "promoted") {
    // The paused previous kernel ended: there is nothing to roll back to any more.
    {
      std::lock_guard lock(state_);
      run.state = "released";
    }
    decide(name, run, "released", fmt::format("the rollback target ended ({}): the promotion is final", kind), {{"end", end}});
    return;
  }
  plane_->shadow_fault(name, kind, fmt::format("the shadow's VMM ended: {}{}{}", kind, detail.empty() ? "" : ": ", detail));
  judge_shadow(name, run);
}

void Tile::swap_kernels(Live& live, ShadowRun& run) {
  std::swap(live.vmm, run.vmm);
  std::swap(live.record.uid, run.uid);
  live.record.gid = live.record.uid;
  live.record.pid = live.vmm->pid();
  live.record.start_ticks = live.vmm->start_ticks();
}

tl::expected<nlohmann::json, ApiError> Tile::find_run(const std::string& name, ShadowRun*& run) {
  auto it = shadows_.find(name);
  if (it == shadows_.end()) return tl::unexpected(no_shadow(name));
  run = &it->second;
  return nlohmann::json();
}

tl::expected<nlohmann::json, ApiError> Tile::promote_locked(const std::string& name, ShadowRun& run, const std::string& by) {
  if (run.state != "comparing" && run.state != "passed") {
    return tl::unexpected(wrong_state(name, run.state, "only a shadow being compared can be promoted"));
  }
  auto live_it = partitions_.find(run.spec.live);
  if (live_it == partitions_.end() || !live_it->second.vmm || !run.vmm) {
    return tl::unexpected(ApiError{409, "not_running", fmt::format("{} or its shadow is not running", run.spec.live), {}});
  }
  Live& live = live_it->second;
  auto settled = plane_->promote_shadow(name, kBoundaryTimeout);
  if (!settled) {
    return tl::unexpected(ApiError{409, "promote_failed", fmt::format("shadow {} was not promoted: {}; nothing changed", name, settled.error()), {}});
  }
  // The previous kernel no longer gets inputs; paused, it waits as the rollback target.
  auto paused = live.vmm->control("pause", kControlTimeout);
  {
    std::lock_guard lock(state_);
    swap_kernels(live, run);
    live.record.promoted_image = run.spec.candidate.image_resolved;
    live.record.promoted_sha256 = run.spec.candidate.sha256;
    live.started_at = Clock::now();
    journal_state_.shadows[name] = ShadowRecord{run.vmm->pid(), run.vmm->start_ticks()};
    run.state = "promoted";
    run.promoted_at = Clock::now();
  }
  if (options_.cgroups) {
    // The promoted kernel serves the tile now: its group takes the live partition's CPU weight.
    (void)options_.cgroups->update_limits(cgroup_name(name), cgroup_limits(limits_for(live.spec, applied_->tile)));
  }
  decide(name, run, "promoted",
         fmt::format("candidate {} promoted as {} ({}); the previous kernel waits paused as the rollback target",
                     run.spec.candidate.image, run.spec.live, by),
         {{"by", by}, {"settled", *settled}, {"previous_paused", paused.has_value()}});
  save_journal();
  return shadow_view(name, run);
}

tl::expected<nlohmann::json, ApiError> Tile::roll_back_locked(const std::string& name, ShadowRun& run, const std::string& why) {
  if (run.state != "promoted" || !run.vmm) {
    return tl::unexpected(wrong_state(name, run.state, "only a promoted shadow whose previous kernel waits can be rolled back"));
  }
  auto live_it = partitions_.find(run.spec.live);
  if (live_it == partitions_.end()) return tl::unexpected(no_shadow(name));
  Live& live = live_it->second;
  (void)run.vmm->control("resume", kControlTimeout);
  if (auto back = plane_->roll_back_shadow(name, kBoundaryTimeout); !back) {
    (void)run.vmm->control("pause", kControlTimeout);
    return tl::unexpected(ApiError{409, "rollback_failed", fmt::format("shadow {} was not rolled back: {}; nothing changed", name, back.error()), {}});
  }
  {
    std::lock_guard lock(state_);
    swap_kernels(live, run);
    live.record.promoted_image.clear();
    live.record.promoted_sha256.clear();
    run.state = "rolled-back";
  }
  end_shadow_vmm(name, run);  // the demoted candidate
  decide(name, run, "rolled-back", fmt::format("{} runs its previous kernel again: {}", run.spec.live, why), {{"why", why}});
  save_journal();
  return shadow_view(name, run);
}

tl::expected<nlohmann::json, ApiError> Tile::release_locked(const std::string& name, ShadowRun& run, const std::string& why) {
  if (run.state != "promoted") return tl::unexpected(wrong_state(name, run.state, "only a promoted shadow's previous kernel can be released"));
  end_shadow_vmm(name, run);
  {
    std::lock_guard lock(state_);
    run.state = "released";
  }
  decide(name, run, "released", fmt::format("the previous kernel of {} was stopped: {}", run.spec.live, why), {{"why", why}});
  save_journal();
  return shadow_view(name, run);
}

nlohmann::json Tile::list_shadows() {
  std::lock_guard ops(ops_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, run] : shadows_) {
    nlohmann::json v = shadow_view(name, run);
    v.erase("decisions");
    if (v.contains("summary")) {
      const nlohmann::json summary = v["summary"];
      v["summary"] = {{"inputs", summary.value("inputs", 0)}, {"compared", summary.value("compared", 0)},
                      {"divergent", summary.value("divergent", 0)}};
    }
    out.push_back(std::move(v));
  }
  return out;
}

tl::expected<nlohmann::json, ApiError> Tile::shadow_status(const std::string& name) {
  std::lock_guard ops(ops_);
  auto it = shadows_.find(name);
  if (it == shadows_.end()) return tl::unexpected(no_shadow(name));
  return shadow_view(name, it->second);
}

tl::expected<std::string, ApiError> Tile::shadow_report(const std::string& name, const std::string& format) {
  if (format != "json" && format != "text" && format != "html") {
    return tl::unexpected(ApiError{400, "bad_request", "format must be json, text or html", {}});
  }
  std::lock_guard ops(ops_);
  auto it = shadows_.find(name);
  if (it == shadows_.end()) return tl::unexpected(no_shadow(name));
  const nlohmann::json view = shadow_view(name, it->second);
  write_reports(name, view);
  if (format == "html") return shadow::render_report_html(view);
  if (format == "text") return shadow::render_report_text(view);
  return view.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

tl::expected<nlohmann::json, ApiError> Tile::promote_shadow(const std::string& name) {
  std::lock_guard ops(ops_);
  ShadowRun* run = nullptr;
  if (auto found = find_run(name, run); !found) return found;
  return promote_locked(name, *run, "operator");
}

tl::expected<nlohmann::json, ApiError> Tile::roll_back_shadow(const std::string& name) {
  std::lock_guard ops(ops_);
  ShadowRun* run = nullptr;
  if (auto found = find_run(name, run); !found) return found;
  return roll_back_locked(name, *run, "the operator rolled it back");
}

tl::expected<nlohmann::json, ApiError> Tile::release_shadow(const std::string& name) {
  std::lock_guard ops(ops_);
  ShadowRun* run = nullptr;
  if (auto found = find_run(name, run); !found) return found;
  return release_locked(name, *run, "released by the operator");
}

tl::expected<nlohmann::json, ApiError> Tile::try_shadow(const nlohmann::json& request) {
  const auto bad = [](const std::string& why) { return tl::unexpected(ApiError{400, "bad_request", why, {}}); };
  if (!request.is_object() || !request.contains("live") || !request["live"].is_string() || !request.contains("candidate") ||
      !request["candidate"].is_string()) {
    return bad("the request needs \"live\" (a partition) and \"candidate\" (an image path on the tile)");
  }
  const std::string live = request["live"].get<std::string>();
  const std::filesystem::path candidate = request["candidate"].get<std::string>();
  if (!candidate.is_absolute()) return bad("candidate must be an absolute path");
  std::lock_guard ops(ops_);
  if (!applied_ || applied_->find(live) == nullptr) {
    return tl::unexpected(ApiError{404, "not_found", fmt::format("no partition named '{}' in the applied policy", live), {}});
  }
  for (const auto& [name, run] : shadows_) {
    if (run.spec.live == live && (run.state == "comparing" || run.state == "passed" || run.state == "promoted")) {
      return tl::unexpected(ApiError{409, "busy", fmt::format("{} already has shadow {} ({})", live, name, run.state), {}});
    }
  }
  policy::Shadow spec;
  for (const policy::Shadow& s : applied_->shadows) {
    if (s.live == live) spec = s;  // its compare rules and criteria
  }
  spec.name = "try-" + live;
  spec.live = live;
  spec.action = policy::ShadowAction::kAutoPromote;
  bool fresh = false;
  try {
    if (request.contains("action")) {
      const std::string action = request["action"].get<std::string>();
      if (action == "report") spec.action = policy::ShadowAction::kReport;
      else if (action == "auto-promote") spec.action = policy::ShadowAction::kAutoPromote;
      else if (action == "auto-rollback") spec.action = policy::ShadowAction::kAutoRollback;
      else return bad("action must be report, auto-promote or auto-rollback");
    }
    if (request.contains("fresh")) fresh = request["fresh"].get<bool>();
    if (request.contains("min_inputs")) spec.promotion.min_inputs = request["min_inputs"].get<std::uint64_t>();
    if (request.contains("min_duration_ms")) spec.promotion.min_duration_ms = request["min_duration_ms"].get<std::uint64_t>();
    if (request.contains("max_divergence_ratio")) {
      const double ratio = request["max_divergence_ratio"].get<double>();
      if (!(ratio >= 0 && ratio <= 1)) return bad("max_divergence_ratio must be within 0 and 1");
      spec.promotion.max_divergence_ratio = ratio;
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("a field has the wrong type: ") + e.what());
  }
  // Staged: what runs is the bytes hashed now, whatever the generator writes next.
  const std::filesystem::path dir = options_.state_dir / "shadows" / spec.name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // Each candidate its own file, named by its hash: a promoted one keeps running from it while the
  // next candidate is staged.
  const std::filesystem::path incoming = dir / "candidate.staging";
  std::filesystem::copy_file(candidate, incoming, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return tl::unexpected(ApiError{422, "bad_candidate", fmt::format("candidate {}: {}", candidate.string(), ec.message()), {}});
  auto digest = policy::sha256_file(incoming);
  if (!digest) return tl::unexpected(ApiError{422, "bad_candidate", digest.error(), {}});
  const std::filesystem::path staged = dir / fmt::format("candidate-{}.elf", digest->substr(0, 16));
  std::filesystem::rename(incoming, staged, ec);
  if (ec) return tl::unexpected(ApiError{500, "staging_failed", fmt::format("{}: {}", staged.string(), ec.message()), {}});
  std::filesystem::permissions(staged, std::filesystem::perms::owner_read | std::filesystem::perms::group_read |
                                           std::filesystem::perms::others_read, ec);
  spec.candidate.image = candidate.string();
  spec.candidate.image_resolved = staged.string();
  spec.candidate.sha256 = *digest;
  if (auto old = shadows_.find(spec.name); old != shadows_.end()) {
    end_shadow_vmm(spec.name, old->second);
    std::lock_guard lock(state_);
    shadows_.erase(old);
  }
  if (fresh) {
    // Both kernels from their first input: the live partition restarts, held until the shadow joins
    // (a stateful kernel cannot be compared with one that missed the inputs before it).
    Live& partition = partitions_.at(live);
    stop_vmm(live, partition);
    auto process = spawn(live, partition, applied_->tile, true);
    if (!process) return tl::unexpected(ApiError{409, "restart_failed", fmt::format("{} did not restart: {}", live, process.error()), {}});
    if (auto ready = await_ready(live, partition, std::move(*process)); !ready) {
      return tl::unexpected(ApiError{409, "restart_failed", fmt::format("{} did not restart: {}", live, ready.error()), {}});
    }
  }
  if (auto started = start_shadow(spec, true); !started) {
    if (auto ports = binding_.partitions.find(live); ports != binding_.partitions.end()) plane_->release_partition(ports->second.grants);
    return tl::unexpected(ApiError{409, "shadow_failed", fmt::format("the candidate did not start as a shadow: {}", started.error()), {}});
  }
  save_journal();
  return shadow_view(spec.name, shadows_.at(spec.name));
}

tl::expected<nlohmann::json, ApiError> Tile::abort_shadow(const std::string& name) {
  std::lock_guard ops(ops_);
  auto it = shadows_.find(name);
  if (it == shadows_.end()) return tl::unexpected(no_shadow(name));
  ShadowRun& run = it->second;
  if (run.state != "comparing" && run.state != "passed" && run.state != "starting") {
    return tl::unexpected(wrong_state(name, run.state, "only a shadow being compared can be aborted (a promoted one is rolled back or released)"));
  }
  plane_->stop_shadow(name, "aborted by the operator");
  end_shadow_vmm(name, run);
  {
    std::lock_guard lock(state_);
    run.state = "aborted";
  }
  decide(name, run, "aborted", "the operator aborted the comparison; the candidate was not promoted", {});
  save_journal();
  return shadow_view(name, run);
}

}  // namespace tilehv::daemon
