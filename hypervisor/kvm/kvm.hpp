// Kvm: the host's /dev/kvm, checked once for every capability tilehv relies on.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "kvm/cpu_state.hpp"
#include "kvm/kvm_error.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::kvm {

class Vm;

class Kvm {
 public:
  // Opens `path` and checks the API version and required capabilities. Each failure names its fix.
  [[nodiscard]] static tl::expected<Kvm, KvmError> open(const std::string& path = "/dev/kvm");

  [[nodiscard]] tl::expected<Vm, KvmError> create_vm() const;

  // CPUID leaves the kernel can virtualize on this host (KVM_GET_SUPPORTED_CPUID).
  [[nodiscard]] const std::vector<CpuidEntry>& supported_cpuid() const noexcept { return cpuid_; }
  [[nodiscard]] std::size_t vcpu_mmap_size() const noexcept { return vcpu_mmap_size_; }
  [[nodiscard]] unsigned max_vcpus() const noexcept { return max_vcpus_; }
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  Kvm(util::UniqueFd fd, std::vector<CpuidEntry> cpuid, std::size_t mmap_size, unsigned max_vcpus)
      : fd_(std::move(fd)),
        cpuid_(std::move(cpuid)),
        vcpu_mmap_size_(mmap_size),
        max_vcpus_(max_vcpus) {}

  util::UniqueFd fd_;
  std::vector<CpuidEntry> cpuid_;
  std::size_t vcpu_mmap_size_;
  unsigned max_vcpus_;
};

}  // namespace tilehv::kvm
