// KVM ABI fixes: ioctls whose uapi structs end in a flexible array, defined so C++ gets them right.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>

namespace tilehv::kvm::abi {

// The uapi headers declare these structs' trailing arrays with __DECLARE_FLEX_ARRAY, which in C++
// puts a one-byte empty struct before the array: sizeof(kvm_cpuid2) becomes 12 instead of 8, the
// ioctl numbers derived from it no longer match the kernel's, and KVM answers EINVAL. These headers
// have the kernel's layout; the entries follow them directly.
struct CpuidHeader {
  std::uint32_t nent;
  std::uint32_t padding;
};
static_assert(sizeof(CpuidHeader) == 8);
static_assert(sizeof(kvm_cpuid_entry2) == 40);

inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);

// struct kvm_irq_routing: the same trap (KVM answers ENOTTY to the C++-derived number).
struct IrqRoutingHeader {
  std::uint32_t nr;
  std::uint32_t flags;
};
static_assert(sizeof(IrqRoutingHeader) == 8);
static_assert(sizeof(kvm_irq_routing_entry) == 48);
inline constexpr unsigned long kSetGsiRouting = _IOW(KVMIO, 0x6a, IrqRoutingHeader);

// A kvm_cpuid2 buffer for `n` entries, suitably aligned.
class CpuidBuffer {
 public:
  explicit CpuidBuffer(std::size_t n)
      : storage_(new std::uint64_t[(sizeof(CpuidHeader) + n * sizeof(kvm_cpuid_entry2) + 7) / 8]()) {
    header()->nent = static_cast<std::uint32_t>(n);
  }
  CpuidBuffer(const CpuidBuffer&) = delete;
  CpuidBuffer& operator=(const CpuidBuffer&) = delete;
  ~CpuidBuffer() { delete[] storage_; }

  // SAFETY: storage_ is 8-byte aligned and sized for the header and n entries of plain data.
  [[nodiscard]] CpuidHeader* header() { return reinterpret_cast<CpuidHeader*>(storage_); }
  [[nodiscard]] kvm_cpuid_entry2* entries() {
    return reinterpret_cast<kvm_cpuid_entry2*>(reinterpret_cast<std::uint8_t*>(storage_) + sizeof(CpuidHeader));
  }
  [[nodiscard]] void* data() { return storage_; }

 private:
  std::uint64_t* storage_;
};

}  // namespace tilehv::kvm::abi
