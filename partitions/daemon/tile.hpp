// Tile: the daemon's model of the tile: the applied policy, one supervised VMM per partition, the I/O
// plane, the journal and the event log. Every operation of the API lands here.
//
// Applying a policy is all or nothing: new and restarted partitions must come up (answer on their
// control sockets) before anything old is destroyed, and a failure at any step stops what the apply
// started, restarts what it replaced with the old specification, and puts the plane and the journal
// back. The journal records an apply under way, so that a daemon killed mid-apply rolls it back when
// it starts again.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "daemon/event_log.hpp"
#include "daemon/journal.hpp"
#include "daemon/plane_binding.hpp"
#include "daemon/vmm_process.hpp"
#include "ioplane/io_plane.hpp"
#include "jail/cgroup.hpp"
#include "policy/diagnostic.hpp"
#include "policy/plan.hpp"
#include "policy/policy.hpp"
#include "shadow/verdict.hpp"
#include "util/event_fd.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::daemon {

struct ApiError {
  int status = 400;       // the HTTP status it maps to
  std::string code;       // machine-readable: "invalid_policy", "not_found", "apply_failed", ...
  std::string message;
  nlohmann::json details;  // e.g. the policy's diagnostics
};

struct TileOptions {
  std::filesystem::path state_dir;
  std::string vmm_binary;     // the tilehv executable
  Spawner spawner;            // unjailed or jailed
  bool jailed = true;         // false: --no-jail (development); only policies that allow it apply
  uid_t uid_base = 200000;    // partition i gets uid/gid uid_base + its slot
  std::chrono::milliseconds ready_timeout{10000};
  std::chrono::milliseconds stop_grace{3000};
  // The jail's cgroups: limits changed in place, groups removed after their VMM ended. Null unjailed.
  std::shared_ptr<const jail::Cgroups> cgroups;
};

// The jail's limits of a partition's VMM (and of its shadows').
[[nodiscard]] SpawnRequest limits_for(const policy::Partition& spec, const policy::Tile& tile);

class Tile {
 public:
  [[nodiscard]] static tl::expected<std::unique_ptr<Tile>, std::string> open(TileOptions options);
  // Stops supervising; the partitions keep running (a restarted daemon re-adopts them).
  ~Tile();
  Tile(const Tile&) = delete;
  Tile& operator=(const Tile&) = delete;

  [[nodiscard]] tl::expected<policy::Policy, ApiError> validate(const PolicySource& source) const;
  [[nodiscard]] tl::expected<policy::Plan, ApiError> plan(const PolicySource& source);
  [[nodiscard]] tl::expected<policy::Plan, ApiError> apply(const PolicySource& source);
  [[nodiscard]] std::optional<PolicySource> applied_policy() const;

  [[nodiscard]] nlohmann::json list() const;
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> describe(const std::string& name) const;
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> pause(const std::string& name);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> resume(const std::string& name);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> restart(const std::string& name);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> stop(const std::string& name);
  [[nodiscard]] nlohmann::json stop_all();
  [[nodiscard]] tl::expected<std::filesystem::path, ApiError> console_log(const std::string& name) const;
  [[nodiscard]] std::string prometheus_metrics() const;

  // Shadows (tile_shadows.cpp; docs/design/shadows.md).
  [[nodiscard]] nlohmann::json list_shadows();
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> shadow_status(const std::string& name);
  // The report: "json" (status, verdict, evidence), "text" (a human summary) or "html" (one page).
  [[nodiscard]] tl::expected<std::string, ApiError> shadow_report(const std::string& name, const std::string& format);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> promote_shadow(const std::string& name);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> roll_back_shadow(const std::string& name);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> abort_shadow(const std::string& name);
  // The pipeline's entry point: shadows `live` with the image at `candidate` (staged: copied into
  // the state directory and hashed), under the compare rules and criteria of the policy's shadow of
  // that partition if it has one, with the request's overrides. Its name is "try-<live>".
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> try_shadow(const nlohmann::json& request);
  // After a promotion: the previous kernel, paused as the rollback target, is stopped for good.
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> release_shadow(const std::string& name);

  EventLog& events() noexcept { return events_; }
  [[nodiscard]] ioplane::IoPlane& plane() noexcept { return *plane_; }

 private:
  struct Live {
    policy::Partition spec;
    PartitionRecord record;
    std::optional<VmmProcess> vmm;
    std::optional<std::chrono::steady_clock::time_point> restart_at;
    std::chrono::steady_clock::time_point started_at{};
    bool ending_expected = false;  // the daemon itself is stopping this VMM
  };

  // A shadow and its VMM. Before a promotion `vmm` runs the candidate; after it, the previous live
  // kernel, paused, until it is released or rolled back to.
  struct ShadowRun {
    policy::Shadow spec;
    std::optional<VmmProcess> vmm;
    uid_t uid = 0;
    // starting, comparing, passed, failed, promoted, rolled-back, released, aborted
    std::string state = "starting";
    std::chrono::steady_clock::time_point started_at{};
    std::optional<std::chrono::steady_clock::time_point> promoted_at;
    shadow::Verdict verdict;
    std::optional<double> live_cpu_at_start;  // CPU seconds of the live VMM when the comparison began
    std::uint64_t live_exits_at_start = 0;
    bool ending_expected = false;
    bool adhoc = false;  // started by try_shadow, not by the policy: applies leave it alone
    nlohmann::json decisions = nlohmann::json::array();  // promote, reject, rollback, abort, release
  };

  explicit Tile(TileOptions options);
  [[nodiscard]] SpawnRequest vmm_request(const std::string& name, const policy::Partition& spec, const std::string& image,
                                         const VmmFiles& files, uid_t uid, const policy::Tile& tile,
                                         const PartitionPorts& ports) const;
  // Shadows, with ops_ held: started for the applied policy's shadows, stopped for those it dropped.
  void reconcile_shadows();
  [[nodiscard]] tl::expected<void, std::string> start_shadow(const policy::Shadow& spec, bool adhoc = false);
  void end_shadow_vmm(const std::string& name, ShadowRun& run);
  void judge_shadows();
  void judge_shadow(const std::string& name, ShadowRun& run);
  void handle_shadow_end(const std::string& name, ShadowRun& run);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> promote_locked(const std::string& name, ShadowRun& run, const std::string& by);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> roll_back_locked(const std::string& name, ShadowRun& run, const std::string& why);
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> release_locked(const std::string& name, ShadowRun& run, const std::string& why);
  // The partition's VMM and uid trade places with the shadow's (a promotion or a rollback); state_ held.
  static void swap_kernels(Live& live, ShadowRun& run);
  // The shadow named `name` into `run`, or 404.
  [[nodiscard]] tl::expected<nlohmann::json, ApiError> find_run(const std::string& name, ShadowRun*& run);
  void decide(const std::string& name, ShadowRun& run, const std::string& decision, const std::string& message,
              nlohmann::json evidence);
  [[nodiscard]] nlohmann::json shadow_view(const std::string& name, const ShadowRun& run);
  [[nodiscard]] shadow::Evidence evidence_for(const ShadowRun& run, const std::vector<shadow::Fault>& faults) const;
  void write_reports(const std::string& name, const nlohmann::json& view);
  [[nodiscard]] tl::expected<void, std::string> recover();
  // A re-adopted VMM's ports lived on the previous daemon's plane: it hands them to this one.
  void relink(const std::string& name, const Live& live);
  [[nodiscard]] tl::expected<policy::Policy, ApiError> load(const PolicySource& source) const;
  [[nodiscard]] std::set<std::string> running_names() const;

  // Starts the VMM of `live` (its spec set) and waits until it answers; the caller holds ops_.
  [[nodiscard]] tl::expected<void, std::string> launch(const std::string& name, Live& live, const policy::Tile& tile);
  // launch() in two halves, so that many VMMs can start at once.
  // `held`: its ports start held until its shadow mirrors them (a partition created with a shadow).
  [[nodiscard]] tl::expected<VmmProcess, std::string> spawn(const std::string& name, Live& live, const policy::Tile& tile,
                                                            bool held = false);
  [[nodiscard]] tl::expected<void, std::string> await_ready(const std::string& name, Live& live, VmmProcess started);
  void stop_vmm(const std::string& name, Live& live);
  [[nodiscard]] uid_t uid_for(const std::string& name);
  void save_journal();
  void supervise() noexcept;
  void handle_end(const std::string& name, Live& live);
  void start_due_restarts();
  [[nodiscard]] nlohmann::json view(const std::string& name, const Live& live) const;

  TileOptions options_;
  Journal journal_;
  EventLog events_;
  util::UniqueFd lock_;  // flock on the state directory: one daemon per tile
  std::unique_ptr<ioplane::IoPlane> plane_;

  // ops_ serialises operations that change the tile (apply, pause, stop, restarts); state_ guards
  // the tables for the short reads of the API and the supervisor.
  mutable std::mutex ops_;
  mutable std::mutex state_;
  std::optional<policy::Policy> applied_;
  std::optional<PolicySource> applied_source_;
  PlaneBinding binding_;
  std::map<std::string, Live> partitions_;
  std::map<std::string, ShadowRun> shadows_;
  JournalState journal_state_;

  std::optional<util::EventFd> wake_;  // the supervisor looks again (a VMM was added or removed)
  std::atomic<bool> stopping_{false};
  std::thread supervisor_;
};

}  // namespace tilehv::daemon
