// Process: runs a real program with captured output, a hard time limit, and timing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tilehv::testing {

struct ProcessResult {
  bool exited = false;      // ended by exit(), not by a signal
  int status = -1;          // exit status when exited
  int signal = 0;           // terminating signal otherwise
  bool killed_at_limit = false;
  std::string out;
  std::string err;
  std::chrono::duration<double> elapsed{};
  std::optional<std::chrono::duration<double>> first_output;  // time to the first stdout byte
  std::optional<std::chrono::duration<double>> first_line;    // time to the first complete stdout line
  std::chrono::duration<double> cpu_time{};                   // user + system, from wait4
  std::uint64_t peak_rss_kib = 0;                             // ru_maxrss

  [[nodiscard]] std::vector<std::string> out_lines() const;
  [[nodiscard]] std::vector<std::string> err_lines() const;
  [[nodiscard]] std::string describe() const;  // for test failure messages
};

struct ProcessOptions {
  std::chrono::duration<double> limit = std::chrono::seconds(30);  // SIGKILL after this
  // Called once, after the first stdout byte arrived, with the child's pid (e.g. to send a signal).
  std::function<void(int pid)> on_first_output;
  std::optional<std::chrono::duration<double>> signal_after;  // send `signal_to_send` after this long
  int signal_to_send = 15;
  std::size_t max_captured = 4 * 1024 * 1024;  // stop capturing (keep draining) beyond this
};

// Options with only a time limit.
inline ProcessOptions with_limit(std::chrono::duration<double> limit) {
  ProcessOptions o;
  o.limit = limit;
  return o;
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Splits text into lines without their '\n'.
std::vector<std::string> split_lines(const std::string& text);

}  // namespace tilehv::testing
