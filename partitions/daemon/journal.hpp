// Journal: the tile's desired and actual state, kept crash-safely in the state directory so that a
// daemon killed at any moment (even by SIGKILL) restarts knowing which policy was applied, whether
// an apply was under way, and which VMM process runs each partition.
//
// journal.json is replaced as a whole: written to a temporary file, fsync'ed, renamed over the old
// one, and the directory fsync'ed, so a reader sees either the old or the new journal, never half.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace tilehv::daemon {

inline constexpr int kJournalVersion = 1;

// A policy as it was submitted: its text, so that loading it again rebuilds the same model.
struct PolicySource {
  std::string text;
  std::string format;        // "json" or "yaml"
  std::string display_name;  // the file name shown in errors
  std::string base_dir;      // relative image paths resolve against this folder
};

struct PartitionRecord {
  int pid = 0;                   // 0: no VMM process
  std::uint64_t start_ticks = 0;  // /proc/PID/stat start time: tells a re-used pid from ours
  uid_t uid = 0;
  gid_t gid = 0;
  std::string state;             // running, paused, stopped, failed, waiting (for a restart)
  std::uint32_t restarts = 0;    // consecutive failed starts or ends, for the backoff
  std::uint64_t total_restarts = 0;
  nlohmann::json last_end;       // why the last VMM ended (null: never ended)
  bool stop_requested = false;   // stopped by the operator: the restart policy does not apply
  // A promoted shadow's candidate: the partition runs this image (and its sha256) instead of the
  // policy's until a policy changes the partition. Empty: the policy's.
  std::string promoted_image;
  std::string promoted_sha256;
};

// A shadow's VMM: a restarted daemon cannot continue its comparison, so it stops the process.
struct ShadowRecord {
  int pid = 0;
  std::uint64_t start_ticks = 0;
};

struct JournalState {
  std::optional<PolicySource> applied;
  std::optional<PolicySource> pending;  // an apply under way; after a crash it is rolled back
  std::map<std::string, PartitionRecord> partitions;
  std::map<std::string, ShadowRecord> shadows;
  std::uint32_t next_uid_slot = 0;
};

[[nodiscard]] nlohmann::json to_json(const PolicySource& p);
[[nodiscard]] nlohmann::json to_json(const JournalState& state);
[[nodiscard]] tl::expected<JournalState, std::string> journal_from_json(const nlohmann::json& j);

class Journal {
 public:
  explicit Journal(std::filesystem::path file) : file_(std::move(file)) {}
  // The stored state; an empty state if there is no journal yet; an error if it is unreadable or
  // of another version (the daemon then refuses to start rather than forget running partitions).
  [[nodiscard]] tl::expected<JournalState, std::string> load() const;
  [[nodiscard]] tl::expected<void, std::string> save(const JournalState& state) const;

 private:
  std::filesystem::path file_;
};

}  // namespace tilehv::daemon
