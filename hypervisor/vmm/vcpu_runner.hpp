// VcpuRunner: one vCPU's exit loop: run the guest, dispatch each exit to its bus or verdict, obey
// pause and stop.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "bus/device_bus.hpp"
#include "core/bus_device.hpp"
#include "ioapic/ioapic.hpp"
#include "kvm/vcpu.hpp"
#include "kvm/vcpu_exit.hpp"
#include "memory/guest_memory.hpp"
#include "vmm/run_control.hpp"
#include "vmm/vm_end.hpp"

namespace tilehv::vmm {

using PioBus = bus::DeviceBus<vdevices::PioDevice>;
using MmioBus = bus::DeviceBus<vdevices::MmioDevice>;

// Where a vCPU reports that the whole VM must end. The first report wins.
class VmEndSink {
 public:
  virtual ~VmEndSink() = default;
  virtual void end_vm(VmEnd end) noexcept = 0;
};

struct VcpuMetrics {
  std::atomic<std::uint64_t> exits{0};
  std::atomic<std::uint64_t> io_exits{0};
  std::atomic<std::uint64_t> mmio_exits{0};
  std::atomic<std::uint64_t> unhandled_io{0};    // accesses to ports without a device
  std::atomic<std::uint64_t> unhandled_mmio{0};  // accesses to addresses without RAM or device
  std::atomic<std::uint64_t> interrupted{0};     // kicks and signals
};

class VcpuRunner {
 public:
  VcpuRunner(kvm::Vcpu& vcpu, const PioBus& pio, const MmioBus& mmio, const memory::GuestMemory& memory,
             vdevices::Ioapic& ioapic, RunControl& control, VmEndSink& end_sink)
      : vcpu_(vcpu), pio_(pio), mmio_(mmio), memory_(memory), ioapic_(ioapic), control_(control), end_sink_(end_sink) {}
  VcpuRunner(const VcpuRunner&) = delete;
  VcpuRunner& operator=(const VcpuRunner&) = delete;

  // Runs the vCPU on the calling thread until the VM stops.
  void run_loop() noexcept;

  // Brings the vCPU out of the guest promptly, from any thread, even if it spins without exits.
  void kick() noexcept;

  [[nodiscard]] const VcpuMetrics& metrics() const noexcept { return metrics_; }
  [[nodiscard]] std::uint32_t id() const noexcept { return vcpu_.id(); }

 private:
  enum class Next { kContinue, kEnd };

  Next handle(const kvm::VcpuExit& exit) noexcept;
  void handle_io(const kvm::IoExit& io) noexcept;
  void handle_mmio(const kvm::MmioExit& mmio) noexcept;
  void end(VmEnd::Kind kind, std::string detail) noexcept;
  [[nodiscard]] std::string register_summary() const;
  [[nodiscard]] std::string shutdown_registers() const;
  [[nodiscard]] std::string internal_error_detail(const kvm::InternalErrorExit& e) const;
  [[nodiscard]] std::string instruction_bytes_at_rip() const;

  kvm::Vcpu& vcpu_;
  const PioBus& pio_;
  const MmioBus& mmio_;
  const memory::GuestMemory& memory_;
  vdevices::Ioapic& ioapic_;
  RunControl& control_;
  VmEndSink& end_sink_;
  VcpuMetrics metrics_;

  std::mutex thread_mutex_;  // guards thread_ against a kick racing the loop's exit
  pthread_t thread_{};
  bool thread_running_ = false;
};

}  // namespace tilehv::vmm
