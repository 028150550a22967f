// EventLog: the tile's events (policy applied, partition started, ended and why, restarted, paused,
// re-adopted), numbered, kept in memory for the events stream and appended to events.jsonl in the
// state directory, one JSON object per line. The audit issue will chain them; every state-changing
// action already passes through here.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tilehv::daemon {

struct Event {
  std::uint64_t seq = 0;
  std::string time;       // RFC 3339, UTC
  std::string type;       // "partition.started", "policy.applied", ...
  std::string partition;  // empty for tile-wide events
  std::string message;    // one human line
  nlohmann::json data = nlohmann::json::object();
};

[[nodiscard]] nlohmann::json to_json(const Event& event);

class EventLog {
 public:
  static constexpr std::size_t kKept = 4096;

  // `file`: appended to; empty path: memory only.
  explicit EventLog(std::filesystem::path file);

  std::uint64_t record(std::string type, std::string partition, std::string message,
                       nlohmann::json data = nlohmann::json::object());
  // Events after `after_seq` (at most `limit`), waiting up to `wait` for the first one.
  [[nodiscard]] std::vector<Event> since(std::uint64_t after_seq, std::size_t limit, std::chrono::milliseconds wait);
  [[nodiscard]] std::uint64_t last_seq() const;
  // Wakes every waiter (the daemon is stopping).
  void close();

 private:
  std::filesystem::path file_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Event> events_;
  std::uint64_t next_seq_ = 1;
  bool closed_ = false;
};

}  // namespace tilehv::daemon
