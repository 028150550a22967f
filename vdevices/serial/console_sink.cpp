// Console sinks: where a console's output goes: a file descriptor, a size-capped file, or a bounded ring.
#include "serial/console_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/errno_text.hpp"

namespace tilehv::vdevices {
namespace {

// Writes everything or reports how much could not be written. An interrupted write is not retried:
// the VMM interrupts a vCPU thread only to pause or stop it, and a console reader that stopped
// reading must not keep a blocked vCPU from obeying.
std::size_t write_all(int fd, std::span<const std::uint8_t> bytes) noexcept {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;  // EINTR (kicked), EPIPE (reader gone), ENOSPC, ...: the rest is dropped
    done += static_cast<std::size_t>(n);
  }
  return bytes.size() - done;
}

}  // namespace

void FdSink::write(std::span<const std::uint8_t> bytes) noexcept {
  if (const std::size_t lost = write_all(fd_, bytes); lost > 0) count_dropped(lost);
}

tl::expected<std::unique_ptr<FileSink>, std::string> FileSink::create(const std::string& path,
                                                                      std::uint64_t max_bytes) {
  util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0640));
  if (!fd) {
    return tl::unexpected("cannot open console file " + path + ": " + util::errno_text(errno));
  }
  return std::unique_ptr<FileSink>(new FileSink(std::move(fd), max_bytes));
}

void FileSink::write(std::span<const std::uint8_t> bytes) noexcept {
  std::lock_guard lock(mutex_);
  const std::uint64_t room = max_bytes_ - written_;
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()));
  if (take > 0) {
    const std::size_t lost = write_all(fd_.get(), bytes.first(take));
    written_ += take - lost;
    if (lost > 0) count_dropped(lost);
  }
  if (take < bytes.size()) {
    count_dropped(bytes.size() - take);
    if (!truncated_) {
      truncated_ = true;
      static constexpr char kMarker[] = "\n[tilehv: console file limit reached; further output dropped]\n";
      (void)write_all(fd_.get(), {reinterpret_cast<const std::uint8_t*>(kMarker), sizeof kMarker - 1});
    }
  }
}

void RingSink::write(std::span<const std::uint8_t> bytes) noexcept {
  std::lock_guard lock(mutex_);
  total_ += bytes.size();
  if (buffer_.empty()) return;
  // Only the last capacity bytes of a long write can survive.
  if (bytes.size() > buffer_.size()) bytes = bytes.last(buffer_.size());
  for (std::uint8_t b : bytes) {
    buffer_[head_] = b;
    head_ = (head_ + 1) % buffer_.size();
  }
}

std::string RingSink::contents() const {
  std::lock_guard lock(mutex_);
  const std::size_t held = static_cast<std::size_t>(std::min<std::uint64_t>(total_, buffer_.size()));
  std::string out;
  out.reserve(held);
  const std::size_t start = (head_ + buffer_.size() - held) % std::max<std::size_t>(buffer_.size(), 1);
  for (std::size_t i = 0; i < held; ++i) out.push_back(static_cast<char>(buffer_[(start + i) % buffer_.size()]));
  return out;
}

std::uint64_t RingSink::total_bytes() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace tilehv::vdevices
