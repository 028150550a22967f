// Vmm: one partition's virtual machine: memory, boot, devices, vCPU threads and their lifecycle.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "core/interrupt_line.hpp"
#include "core/power_events.hpp"
#include "debug_exit/debug_exit.hpp"
#include "i8042/i8042.hpp"
#include "ioapic/ioapic.hpp"
#include "net/frame_backend.hpp"
#include "net/virtio_net.hpp"
#include "console/console_port_backend.hpp"
#include "console/virtio_console.hpp"
#include "rng/virtio_rng.hpp"
#include "vsock/virtio_vsock.hpp"
#include "virtio/mmio_transport.hpp"
#include "kvm/kvm.hpp"
#include "kvm/vcpu.hpp"
#include "kvm/vm.hpp"
#include "memory/guest_memory.hpp"
#include "serial/console_sink.hpp"
#include "serial/uart16550.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::vdevices::port {
class PlaneClient;
}
#include "kvm/io_event.hpp"
#include "util/event_fd.hpp"
#include "vmm/device_worker.hpp"
#include "vmm/run_control.hpp"
#include "vmm/vcpu_runner.hpp"
#include "vmm/vm_end.hpp"

namespace tilehv::vmm {

// The largest vCPU count: xAPIC ids are 8 bits and 0xff is the broadcast id.
inline constexpr std::uint32_t kMaxVcpus = 254;
inline constexpr std::uint16_t kCom1Port = 0x3f8;
// virtio-mmio windows sit in the MMIO hole where QEMU microvm puts them, one 512-byte window each,
// wired to IOAPIC pins 16-23 (above the legacy ISA interrupts).
inline constexpr std::uint64_t kVirtioMmioBase = 0xfeb0'0000;
inline constexpr std::uint32_t kVirtioFirstPin = 16;
inline constexpr std::uint32_t kMaxVirtioDevices = 8;
// A guest can break its devices in a loop; its errors are logged up to here, then only counted.
inline constexpr std::uint64_t kMaxReportedGuestErrors = 32;

// The kernel command-line word announcing virtio-mmio device `index`, in Linux's syntax
// (virtio_mmio.device=SIZE@BASE:IRQ), which the guest SDK reads too.
[[nodiscard]] std::string virtio_mmio_announcement(std::uint32_t index);

// A virtio network device and where its frames go: a TAP interface, or a port of the tile's switch
// obtained from the I/O plane (which then assigns the MAC address and MTU).
struct NetDeviceConfig {
  std::string tap;         // TAP interface name; empty for a plane port
  std::string plane_port;  // the port's name at the I/O plane
  std::optional<vdevices::MacAddress> mac;  // TAP only; default 02:74:68:00:00:<index>
  std::uint16_t mtu = 1500;                 // TAP only
};

struct VmmConfig {
  std::string kernel_path;
  std::uint64_t memory_bytes = 64 * memory::kMiB;
  std::uint32_t vcpus = 1;
  std::string cmdline;
  std::vector<std::string> module_paths;
  vdevices::ConsoleSink* console = nullptr;  // required; must outlive the Vmm
  // A virtio entropy device; bytes from the host CSPRNG, or a deterministic stream from the seed.
  bool entropy_device = false;
  std::optional<std::uint64_t> entropy_seed;
  std::vector<NetDeviceConfig> net_devices;
  // A virtio socket device on this channel port of the I/O plane (which assigns the guest's CID).
  std::optional<std::string> vsock_port;
  // A virtio console with these named ports, each a console port of the I/O plane (a sensor's
  // stream, `sensor.<name>`, or another service of the tile); port 0 carries the guest's console.
  std::vector<std::string> console_ports;
  // The plane link for devices on plane ports (borrowed; it keeps the ports for a later relink).
  vdevices::port::PlaneClient* plane = nullptr;
  std::string kvm_path = "/dev/kvm";
};

struct VmmError {
  enum class Kind { kBadImage, kBadConfig, kHost };
  Kind kind;
  std::string message;
};

class Vmm final : public vdevices::PowerEvents,
                  public VmEndSink,
                  public vdevices::MsiSender,
                  public vdevices::GuestErrorReporter {
 public:
  [[nodiscard]] static tl::expected<std::unique_ptr<Vmm>, VmmError> create(const VmmConfig& config);
  ~Vmm() override;
  Vmm(const Vmm&) = delete;
  Vmm& operator=(const Vmm&) = delete;

  // Starts one thread per vCPU. The boot vCPU enters the kernel; the others wait for INIT/SIPI.
  [[nodiscard]] tl::expected<void, VmmError> start();
  // Runs a single-vCPU VM on the calling thread until it ends (benchmarks, tools).
  VmEnd run_on_this_thread();

  // Waits up to `timeout` for the VM to end on its own; nullopt if still running.
  [[nodiscard]] std::optional<VmEnd> wait_for_end(std::chrono::milliseconds timeout);
  // Readable once the VM has ended, for callers that poll several sources.
  [[nodiscard]] int end_event_fd() const noexcept { return end_event_.get(); }

  // Parks every vCPU outside the guest; false if they did not all park within `timeout`.
  [[nodiscard]] bool pause(std::chrono::milliseconds timeout);
  void resume();
  // Ends the VM with `reason` unless it already ended; vCPUs leave the guest within milliseconds.
  void stop(VmEnd reason);
  // Stops (if needed) and joins every vCPU thread; returns why the VM ended.
  VmEnd join();

  [[nodiscard]] std::uint32_t vcpu_count() const noexcept { return static_cast<std::uint32_t>(vcpus_.size()); }
  [[nodiscard]] const VcpuMetrics& vcpu_metrics(std::uint32_t index) const { return runners_.at(index)->metrics(); }
  [[nodiscard]] const vdevices::UartMetrics& console_metrics() const noexcept { return uart_->metrics(); }
  [[nodiscard]] const memory::GuestMemory& guest_memory() const noexcept { return memory_; }

  // PowerEvents (from devices) and VmEndSink (from vCPUs).
  void guest_exit(std::uint32_t value) noexcept override;
  void guest_reset() noexcept override;
  void end_vm(VmEnd end) noexcept override;
  // MsiSender (from the IOAPIC).
  [[nodiscard]] bool send_msi(std::uint32_t pin, const vdevices::MsiMessage& message) noexcept override;
  void route_changed(std::uint32_t pin, const vdevices::MsiMessage& message) noexcept override;
  // GuestErrorReporter (from devices): one stderr line each, the first kMaxReportedGuestErrors only.
  void guest_error(std::string_view device, std::string_view what) noexcept override;
  [[nodiscard]] std::uint64_t guest_errors() const noexcept { return guest_errors_.load(); }

  // The virtio devices' transports, in announcement order (metrics, reports).
  [[nodiscard]] std::size_t virtio_device_count() const noexcept { return virtio_.size(); }
  [[nodiscard]] const vdevices::virtio::MmioTransport& virtio_transport(std::size_t index) const {
    return *virtio_.at(index).transport;
  }
  // The network devices, in configuration order (metrics).
  [[nodiscard]] std::vector<const vdevices::VirtioNet*> net_devices() const;
  [[nodiscard]] const vdevices::VirtioVsock* vsock_device() const;
  [[nodiscard]] const vdevices::VirtioConsole* console_device() const;

 private:
  Vmm(kvm::Kvm kvm, memory::GuestMemory memory, kvm::Vm vm, util::UniqueFd end_event, std::uint32_t vcpus);
  struct PreparedNet {
    std::unique_ptr<vdevices::FrameBackend> backend;
    vdevices::VirtioNetConfig config;
  };
  struct PreparedVsock {
    std::unique_ptr<vdevices::port::PortEndpoint> port;
    std::uint64_t cid = 0;
  };
  [[nodiscard]] static tl::expected<std::optional<PreparedVsock>, VmmError> prepare_vsock(const VmmConfig& config);
  [[nodiscard]] static tl::expected<std::vector<std::unique_ptr<vdevices::ConsolePortBackend>>, VmmError> prepare_console_ports(
      const VmmConfig& config);
  [[nodiscard]] static tl::expected<std::vector<PreparedNet>, VmmError> prepare_networks(const VmmConfig& config);
  [[nodiscard]] tl::expected<void, VmmError> build(const VmmConfig& config, std::uint32_t entry,
                                                   std::uint64_t start_info, std::vector<PreparedNet> networks,
                                                   std::optional<PreparedVsock> vsock,
                                                   std::vector<std::unique_ptr<vdevices::ConsolePortBackend>> console_ports);

  kvm::Kvm kvm_;
  memory::GuestMemory memory_;
  kvm::Vm vm_;
  std::vector<kvm::MemorySlot> slots_;  // after vm_: removed before the VM closes
  util::UniqueFd end_event_;
  std::vector<kvm::Vcpu> vcpus_;

  vdevices::UnconnectedLine uart_irq_;
  std::unique_ptr<vdevices::Uart16550> uart_;
  std::unique_ptr<vdevices::DebugExit> debug_exit_;
  std::unique_ptr<vdevices::I8042> i8042_;
  std::unique_ptr<vdevices::Ioapic> ioapic_;
  // One virtio device with its pin and transport; declared after the IOAPIC, so destroyed before it.
  struct VirtioSlot {
    std::string name;
    std::unique_ptr<vdevices::EntropySource> entropy;
    std::unique_ptr<vdevices::FrameBackend> frame_backend;
    std::unique_ptr<vdevices::virtio::VirtioDevice> device;
    vdevices::VirtioNet* net = nullptr;  // `device`, when it is a network device
    std::unique_ptr<vdevices::port::PortEndpoint> port;
    vdevices::VirtioVsock* vsock = nullptr;  // `device`, when it is a socket device
    std::vector<std::unique_ptr<vdevices::ConsolePortBackend>> console_backends;  // port 0 first
    vdevices::VirtioConsole* console = nullptr;  // `device`, when it is the console
    std::unique_ptr<vdevices::Ioapic::Pin> pin;
    std::unique_ptr<vdevices::virtio::MmioTransport> transport;
  };
  std::vector<VirtioSlot> virtio_;
  // Queue kicks arrive as eventfds KVM signals (no exit); the worker serves them. Declared after the
  // devices and in this order, so that teardown stops the worker, then removes the KVM registrations,
  // then closes the eventfds, while the devices still exist.
  std::vector<util::EventFd> notify_events_;
  std::vector<kvm::IoEvent> io_events_;
  // The IOAPIC's routes mirrored into KVM (GSI = pin), and an irqfd per virtio pin through which
  // the IOAPIC injects; declared after the devices, removed before the eventfds close.
  std::mutex routes_mutex_;
  std::array<std::optional<vdevices::MsiMessage>, vdevices::Ioapic::kPins> routes_{};
  std::vector<util::EventFd> irq_events_;
  std::vector<kvm::IrqFd> irqfds_;
  std::array<int, vdevices::Ioapic::kPins> irq_event_of_pin_{};  // index into irq_events_, or -1
  std::optional<DeviceWorker> worker_;
  PioBus pio_bus_;
  MmioBus mmio_bus_;

  RunControl control_;
  std::vector<std::unique_ptr<VcpuRunner>> runners_;
  std::vector<std::thread> threads_;

  std::atomic<std::uint64_t> guest_errors_{0};
  std::mutex end_mutex_;
  std::optional<VmEnd> end_;
};

}  // namespace tilehv::vmm
