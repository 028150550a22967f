// FloorVm: the least a VMM can do to boot a PVH image: raw KVM ioctls, no device model, no checks
// beyond what keeps it from crashing. The benchmarks' floor for boot time and exit round trips.
#pragma once

#include <cstdint>
#include <string>

struct kvm_run;

namespace tilehv::bench {

class FloorVm {
 public:
  // Boots `kernel` (trusted) with `memory_bytes` of RAM and `cmdline`, one vCPU, split irqchip.
  // Returns false with `error` set on failure.
  bool create(const std::string& kernel, std::uint64_t memory_bytes, const std::string& cmdline, std::string& error);
  ~FloorVm();

  // One KVM_RUN; returns the exit reason, or -1 on error.
  int run_once();
  [[nodiscard]] kvm_run* run_struct() const { return run_; }
  // Port-I/O data of the current exit.
  [[nodiscard]] std::uint8_t* io_data() const;

 private:
  int kvm_ = -1, vm_ = -1, vcpu_ = -1;
  kvm_run* run_ = nullptr;
  std::size_t run_size_ = 0;
  std::uint8_t* ram_ = nullptr;
  std::uint64_t ram_size_ = 0;
};

}  // namespace tilehv::bench
