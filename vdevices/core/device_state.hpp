// Device state: a device's complete saved state, versioned, and the interface to save and restore it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace tilehv::vdevices {

// One device's state as an opaque, versioned record. `kind` names the device model; `version` is the
// payload layout, bumped on every change; a device restores every version it ever wrote.
struct DeviceState {
  std::string kind;
  std::uint16_t version = 0;
  std::vector<std::uint8_t> payload;
};

struct StateError {
  std::string message;
};

// Pure virtual on purpose: a device that forgets to implement its snapshot does not compile.
class Snapshottable {
 public:
  virtual ~Snapshottable() = default;
  [[nodiscard]] virtual DeviceState save_state() const = 0;
  [[nodiscard]] virtual tl::expected<void, StateError> restore_state(const DeviceState& state) = 0;
};

// Little-endian encoder for state payloads.
class StateWriter {
 public:
  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void blob(std::span<const std::uint8_t> b) {
    u32(static_cast<std::uint32_t>(b.size()));
    bytes_.insert(bytes_.end(), b.begin(), b.end());
  }
  [[nodiscard]] std::vector<std::uint8_t> take() { return std::move(bytes_); }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t> bytes_;
};

// Bounds-checked decoder: a payload from a peer or a file is hostile like any guest input.
class StateReader {
 public:
  explicit StateReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  [[nodiscard]] tl::expected<std::uint8_t, StateError> u8() { return get<std::uint8_t>(1); }
  [[nodiscard]] tl::expected<std::uint16_t, StateError> u16() { return get<std::uint16_t>(2); }
  [[nodiscard]] tl::expected<std::uint32_t, StateError> u32() { return get<std::uint32_t>(4); }
  [[nodiscard]] tl::expected<std::uint64_t, StateError> u64() { return get<std::uint64_t>(8); }
  [[nodiscard]] tl::expected<bool, StateError> boolean() {
    auto v = u8();
    if (!v) return tl::unexpected(v.error());
    if (*v > 1) return tl::unexpected(StateError{"boolean field holds " + std::to_string(*v)});
    return *v == 1;
  }
  // A length-prefixed blob of at most `max` bytes.
  [[nodiscard]] tl::expected<std::vector<std::uint8_t>, StateError> blob(std::size_t max) {
    auto n = u32();
    if (!n) return tl::unexpected(n.error());
    if (*n > max || *n > bytes_.size() - pos_) {
      return tl::unexpected(StateError{"blob of " + std::to_string(*n) + " bytes exceeds its bound"});
    }
    std::vector<std::uint8_t> out(bytes_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                  bytes_.begin() + static_cast<std::ptrdiff_t>(pos_ + *n));
    pos_ += *n;
    return out;
  }
  [[nodiscard]] bool at_end() const { return pos_ == bytes_.size(); }

 private:
  template <typename T>
  tl::expected<T, StateError> get(std::size_t n) {
    if (bytes_.size() - pos_ < n) {
      return tl::unexpected(StateError{"state payload truncated"});
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{bytes_[pos_ + i]} << (8 * i);
    pos_ += n;
    return static_cast<T>(v);
  }
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// Checks kind and version before a device decodes a payload.
[[nodiscard]] inline tl::expected<void, StateError> check_state_header(const DeviceState& s, const char* kind,
                                                                       std::uint16_t max_version) {
  if (s.kind != kind) {
    return tl::unexpected(StateError{"state of a '" + s.kind + "' cannot restore a '" + kind + "'"});
  }
  if (s.version == 0 || s.version > max_version) {
    return tl::unexpected(StateError{std::string(kind) + " state version " + std::to_string(s.version) +
                                     " is not supported (1.." + std::to_string(max_version) + ")"});
  }
  return {};
}

}  // namespace tilehv::vdevices
