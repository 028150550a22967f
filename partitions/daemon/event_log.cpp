// EventLog: see event_log.hpp.
#include "daemon/event_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace tilehv::daemon {
namespace {

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", text, millis);
}

}  // namespace

nlohmann::json to_json(const Event& e) {
  nlohmann::json j{{"seq", e.seq}, {"time", e.time}, {"type", e.type}, {"message", e.message}};
  if (!e.partition.empty()) j["partition"] = e.partition;
  if (!e.data.empty()) j["data"] = e.data;
  return j;
}

EventLog::EventLog(std::filesystem::path file) : file_(std::move(file)) {
  // Numbers continue across restarts of the daemon: from the last whole line of the file.
  if (file_.empty()) return;
  const int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  const off_t start = size > 65536 ? size - 65536 : 0;
  std::string tail(static_cast<std::size_t>(size - start), '\0');
  const ssize_t got = ::pread(fd, tail.data(), tail.size(), start);
  ::close(fd);
  if (got <= 0) return;
  tail.resize(static_cast<std::size_t>(got));
  std::size_t begin = 0;
  while (begin < tail.size()) {
    std::size_t end = tail.find('\n', begin);
    if (end == std::string::npos) break;  // a partial last line
    const auto line = nlohmann::json::parse(tail.substr(begin, end - begin), nullptr, false);
    if (line.is_object() && line.contains("seq") && line["seq"].is_number_unsigned()) {
      next_seq_ = std::max(next_seq_, line["seq"].get<std::uint64_t>() + 1);
    }
    begin = end + 1;
  }
}

std::uint64_t EventLog::record(std::string type, std::string partition, std::string message, nlohmann::json data) {
  std::lock_guard lock(mutex_);
  Event e{next_seq_++, now_rfc3339(), std::move(type), std::move(partition), std::move(message), std::move(data)};
  if (!file_.empty()) {
    // One write() per line with O_APPEND: a crash leaves whole lines, at worst a last partial one,
    // which readers skip.
    const std::string line = to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
      (void)!::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }
  events_.push_back(std::move(e));
  if (events_.size() > kKept) events_.pop_front();
  changed_.notify_all();
  return events_.back().seq;
}

std::vector<Event> EventLog::since(std::uint64_t after_seq, std::size_t limit, std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, wait, [&] { return closed_ || (!events_.empty() && events_.back().seq > after_seq); });
  std::vector<Event> out;
  for (const Event& e : events_) {
    if (e.seq > after_seq && out.size() < limit) out.push_back(e);
  }
  return out;
}

std::uint64_t EventLog::last_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

void EventLog::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

}  // namespace tilehv::daemon
