// Console sinks: where a console's output goes: a file descriptor, a size-capped file, or a bounded ring.
#pragma once

#include <atomic>
#include <memory>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "util/unique_fd.hpp"

namespace tilehv::vdevices {

class ConsoleSink {
 public:
  virtual ~ConsoleSink() = default;
  // Never fails towards the guest: output that cannot be delivered is dropped and counted.
  virtual void write(std::span<const std::uint8_t> bytes) noexcept = 0;
  [[nodiscard]] std::uint64_t dropped_bytes() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 protected:
  void count_dropped(std::size_t n) noexcept { dropped_.fetch_add(n, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> dropped_{0};
};

// Writes to a descriptor the sink does not own (stdout). A slow reader slows the guest's console
// (back-pressure), it never grows the VMM's memory.
class FdSink final : public ConsoleSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  void write(std::span<const std::uint8_t> bytes) noexcept override;

 private:
  int fd_;
};

// Writes to a file it creates, up to `max_bytes`; after that one marker line, then output is dropped.
class FileSink final : public ConsoleSink {
 public:
  [[nodiscard]] static tl::expected<std::unique_ptr<FileSink>, std::string> create(const std::string& path,
                                                                                   std::uint64_t max_bytes);
  void write(std::span<const std::uint8_t> bytes) noexcept override;

 private:
  FileSink(util::UniqueFd fd, std::uint64_t max_bytes) : fd_(std::move(fd)), max_bytes_(max_bytes) {}
  std::mutex mutex_;
  util::UniqueFd fd_;
  std::uint64_t max_bytes_;
  std::uint64_t written_ = 0;
  bool truncated_ = false;
};

// Keeps the last `capacity` bytes in memory: what a guest floods beyond that overwrites the oldest.
class RingSink final : public ConsoleSink {
 public:
  explicit RingSink(std::size_t capacity) : buffer_(capacity) {}
  void write(std::span<const std::uint8_t> bytes) noexcept override;
  // The retained bytes, oldest first.
  [[nodiscard]] std::string contents() const;
  [[nodiscard]] std::uint64_t total_bytes() const;
  [[nodiscard]] std::size_t capacity() const noexcept { return buffer_.size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::uint8_t> buffer_;
  std::size_t head_ = 0;  // next write position
  std::uint64_t total_ = 0;
};

}  // namespace tilehv::vdevices
