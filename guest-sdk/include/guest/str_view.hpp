// String view: a non-owning, bounded run of characters (the SDK has no std::string_view runtime).
#pragma once

#include <cstddef>

namespace guest {

class StrView {
 public:
  constexpr StrView() = default;
  constexpr StrView(const char* data, size_t size) : data_(data), size_(size) {}
  // The C string must be terminated; use bounded() for memory the guest did not write itself.
  constexpr StrView(const char* c_string) : data_(c_string), size_(0) {  // NOLINT: implicit by design
    while (c_string != nullptr && c_string[size_] != '\0') ++size_;
  }
  // Up to max_size characters of a NUL-terminated string, stopping early at the terminator.
  static constexpr StrView bounded(const char* data, size_t max_size) {
    size_t n = 0;
    while (n < max_size && data[n] != '\0') ++n;
    return StrView(data, n);
  }

  constexpr const char* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr char operator[](size_t i) const { return data_[i]; }

  constexpr StrView substr(size_t pos, size_t count = static_cast<size_t>(-1)) const {
    if (pos > size_) pos = size_;
    if (count > size_ - pos) count = size_ - pos;
    return StrView(data_ + pos, count);
  }
  constexpr bool starts_with(StrView prefix) const { return prefix.size_ <= size_ && substr(0, prefix.size_) == prefix; }
  constexpr size_t find(char c, size_t from = 0) const {
    for (size_t i = from; i < size_; ++i)
      if (data_[i] == c) return i;
    return npos;
  }

  friend constexpr bool operator==(StrView a, StrView b) {
    if (a.size_ != b.size_) return false;
    for (size_t i = 0; i < a.size_; ++i)
      if (a.data_[i] != b.data_[i]) return false;
    return true;
  }

  static constexpr size_t npos = static_cast<size_t>(-1);

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace guest
