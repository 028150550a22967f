// Kvm: the host's /dev/kvm, checked once for every capability tilehv relies on.
#include "kvm/kvm.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "kvm/kvm_abi.hpp"
#include "kvm/vm.hpp"
#include "util/errno_text.hpp"

namespace tilehv::kvm {
namespace {

struct RequiredCapability {
  int cap;
  const char* name;
  const char* why;
};

// Every capability the VMM core uses; checked up front so a missing one is one clear message at start,
// not a failure halfway through building a VM.
constexpr std::array kRequiredCapabilities{
    RequiredCapability{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest memory slots"},
    RequiredCapability{KVM_CAP_SPLIT_IRQCHIP, "KVM_CAP_SPLIT_IRQCHIP", "in-kernel LAPIC"},
    RequiredCapability{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs"},
    RequiredCapability{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "CPUID"},
    RequiredCapability{KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ", "guest timekeeping"},
    RequiredCapability{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "real-mode APs on VMX"},
    RequiredCapability{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "device notifications"},
};

// Start small and grow on E2BIG: some kernels answer EINVAL, not E2BIG, to a buffer larger than
// their own maximum, so starting large can fail where growing succeeds.
constexpr std::size_t kInitialCpuidEntries = 32;
constexpr std::size_t kMaxCpuidEntries = 1024;

tl::expected<std::vector<CpuidEntry>, KvmError> query_supported_cpuid(int kvm_fd) {
  for (std::size_t n = kInitialCpuidEntries; n <= kMaxCpuidEntries; n *= 2) {
    abi::CpuidBuffer buffer(n);
    if (::ioctl(kvm_fd, abi::kGetSupportedCpuid, buffer.data()) == 0) {
      std::vector<CpuidEntry> entries;
      entries.reserve(buffer.header()->nent);
      for (std::uint32_t i = 0; i < buffer.header()->nent && i < n; ++i) {
        const kvm_cpuid_entry2& e = buffer.entries()[i];
        entries.push_back({e.function, e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx});
      }
      return entries;
    }
    if (errno != E2BIG) {
      return tl::unexpected(KvmError{KvmErrc::kIoctlFailed, errno,
                                     "KVM_GET_SUPPORTED_CPUID failed: " + util::errno_text(errno)});
    }
  }
  return tl::unexpected(
      KvmError{KvmErrc::kIoctlFailed, E2BIG, "KVM_GET_SUPPORTED_CPUID: too many CPUID entries"});
}

}  // namespace

tl::expected<Kvm, KvmError> Kvm::open(const std::string& path) {
  util::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) {
      return tl::unexpected(KvmError{
          KvmErrc::kNoDevice, err,
          fmt::format("{} does not exist: load the kvm module (kvm_intel or kvm_amd) or enable "
                      "virtualization in the firmware",
                      path)});
    }
    if (err == EACCES || err == EPERM) {
      return tl::unexpected(KvmError{
          KvmErrc::kNoPermission, err,
          fmt::format("cannot open {}: permission denied; add this user to the kvm group", path)});
    }
    return tl::unexpected(KvmError{KvmErrc::kNoDevice, err,
                                   fmt::format("cannot open {}: {}", path, util::errno_text(err))});
  }
  const int version = ::ioctl(fd.get(), KVM_GET_API_VERSION, 0);
  if (version < 0) {
    return tl::unexpected(KvmError{KvmErrc::kNoDevice, errno,
                                   fmt::format("{} is not a KVM device (KVM_GET_API_VERSION: {})", path,
                                               util::errno_text(errno))});
  }
  if (version != KVM_API_VERSION) {
    return tl::unexpected(KvmError{
        KvmErrc::kApiVersion, 0,
        fmt::format("{} speaks KVM API version {}, tilehv needs {}", path, version, KVM_API_VERSION)});
  }
  for (const auto& req : kRequiredCapabilities) {
    if (::ioctl(fd.get(), KVM_CHECK_EXTENSION, req.cap) <= 0) {
      return tl::unexpected(KvmError{
          KvmErrc::kMissingCapability, 0,
          fmt::format("the host kernel's KVM lacks {} (needed for {}); use Linux 4.16 or newer",
                      req.name, req.why)});
    }
  }
  const int mmap_size = ::ioctl(fd.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (mmap_size <= 0) {
    return tl::unexpected(KvmError{KvmErrc::kIoctlFailed, errno,
                                   "KVM_GET_VCPU_MMAP_SIZE failed: " + util::errno_text(errno)});
  }
  int max_vcpus = ::ioctl(fd.get(), KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
  if (max_vcpus <= 0) {
    max_vcpus = ::ioctl(fd.get(), KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
  }
  if (max_vcpus <= 0) {
    max_vcpus = 4;  // The KVM API documents 4 as the limit when neither capability is reported.
  }
  auto cpuid = query_supported_cpuid(fd.get());
  if (!cpuid) {
    return tl::unexpected(cpuid.error());
  }
  return Kvm(std::move(fd), std::move(*cpuid), static_cast<std::size_t>(mmap_size),
             static_cast<unsigned>(max_vcpus));
}

tl::expected<Vm, KvmError> Kvm::create_vm() const { return Vm::create(*this); }

}  // namespace tilehv::kvm
