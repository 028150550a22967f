// Vmm: one partition's virtual machine: memory, boot, devices, vCPU threads and their lifecycle.
#include "vmm/vmm.hpp"

#include <poll.h>
#include <cstdlib>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "boot/elf_image.hpp"
#include "boot/image_file.hpp"
#include "boot/pvh_cpu_state.hpp"
#include "boot/pvh_loader.hpp"
#include "cpu/cpuid.hpp"
#include "net/port_frame_backend.hpp"
#include "net/tap_backend.hpp"
#include "console/port_stream_backend.hpp"
#include "console/sink_backend.hpp"
#include "port/plane_client.hpp"
#include "util/errno_text.hpp"
#include "vmm/vcpu_kick.hpp"

namespace tilehv::vmm {
namespace {

// IOAPIC pins reserved for the userspace IOAPIC of the split irqchip: the PC's 24.
constexpr std::uint32_t kIoapicPins = 24;
constexpr std::uint16_t kCom1Ports = 8;

VmmError host_error(const std::string& message) { return VmmError{VmmError::Kind::kHost, message}; }
VmmError image_error(const boot::BootError& e) {
  return VmmError{e.code == boot::BootErrc::kBadParameter ? VmmError::Kind::kBadConfig : VmmError::Kind::kBadImage,
                  e.message};
}

}  // namespace

std::string virtio_mmio_announcement(std::uint32_t index) {
  return fmt::format("virtio_mmio.device={}@{:#x}:{}", vdevices::virtio::kMmioWindowSize,
                     kVirtioMmioBase + index * vdevices::virtio::kMmioWindowSize, kVirtioFirstPin + index);
}

tl::expected<std::unique_ptr<Vmm>, VmmError> Vmm::create(const VmmConfig& config) {
  if (config.console == nullptr) {
    return tl::unexpected(VmmError{VmmError::Kind::kBadConfig, "no console sink"});
  }
  if (config.vcpus == 0 || config.vcpus > kMaxVcpus) {
    return tl::unexpected(VmmError{VmmError::Kind::kBadConfig,
                                   fmt::format("{} vCPUs requested; between 1 and {} are supported", config.vcpus, kMaxVcpus)});
  }
  if (config.memory_bytes < memory::kMinMemorySize || config.memory_bytes > memory::kMaxMemorySize ||
      config.memory_bytes % memory::kPageSize != 0) {
    return tl::unexpected(VmmError{VmmError::Kind::kBadConfig,
                                   fmt::format("memory size {} bytes must be a multiple of 4 KiB between {} MiB and {} GiB",
                                               config.memory_bytes, memory::kMinMemorySize / memory::kMiB,
                                               memory::kMaxMemorySize / memory::kGiB)});
  }
  // The image is checked before any KVM object exists: a bad image costs nothing but its parse.
  auto kernel = boot::ImageFile::open(config.kernel_path, boot::kMaxKernelImageBytes, "kernel");
  if (!kernel) return tl::unexpected(image_error(kernel.error()));
  auto image = boot::parse_elf_image(*kernel);
  if (!image) return tl::unexpected(image_error(image.error()));
  std::vector<boot::ImageFile> modules;
  for (const std::string& path : config.module_paths) {
    auto m = boot::ImageFile::open(path, config.memory_bytes, "module");
    if (!m) return tl::unexpected(image_error(m.error()));
    modules.push_back(std::move(*m));
  }

  auto kvm = kvm::Kvm::open(config.kvm_path);
  if (!kvm) return tl::unexpected(host_error(kvm.error().message));
  if (config.vcpus > kvm->max_vcpus()) {
    return tl::unexpected(VmmError{VmmError::Kind::kBadConfig, fmt::format("{} vCPUs requested; this host's KVM allows {}",
                                                                        config.vcpus, kvm->max_vcpus())});
  }
  auto memory = memory::GuestMemory::create(config.memory_bytes);
  if (!memory) return tl::unexpected(host_error(memory.error()));
  auto networks = prepare_networks(config);
  if (!networks) return tl::unexpected(networks.error());
  auto vsock = prepare_vsock(config);
  if (!vsock) return tl::unexpected(vsock.error());
  auto console_ports = prepare_console_ports(config);
  if (!console_ports) return tl::unexpected(console_ports.error());
  // Devices are announced on the command line, as on QEMU microvm, so guests find them the same way.
  std::string cmdline = config.cmdline;
  const auto virtio_devices =
      static_cast<std::uint32_t>((config.entropy_device ? 1 : 0) + networks->size() + (vsock->has_value() ? 1 : 0) +
                                 (config.console_ports.empty() ? 0 : 1));
  if (virtio_devices > kMaxVirtioDevices) {
    return tl::unexpected(VmmError{VmmError::Kind::kBadConfig,
                                   fmt::format("{} virtio devices requested; at most {} are supported", virtio_devices, kMaxVirtioDevices)});
  }
  for (std::uint32_t i = 0; i < virtio_devices; ++i) {
    cmdline += (cmdline.empty() ? "" : " ") + virtio_mmio_announcement(i);
  }
  auto boot = boot::load_pvh(*memory, *kernel, *image, cmdline, modules);
  if (!boot) return tl::unexpected(image_error(boot.error()));

  auto vm = kvm->create_vm();
  if (!vm) return tl::unexpected(host_error(vm.error().message));
  util::UniqueFd end_event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!end_event) return tl::unexpected(host_error("eventfd: " + util::errno_text(errno)));

  std::unique_ptr<Vmm> vmm(new Vmm(std::move(*kvm), std::move(*memory), std::move(*vm), std::move(end_event), config.vcpus));
  if (auto built = vmm->build(config, boot->entry, boot->start_info_address, std::move(*networks), std::move(*vsock),
                                 std::move(*console_ports));
      !built) {
    return tl::unexpected(built.error());
  }
  return vmm;
}

Vmm::Vmm(kvm::Kvm kvm, memory::GuestMemory memory, kvm::Vm vm, util::UniqueFd end_event, std::uint32_t vcpus)
    : kvm_(std::move(kvm)),
      memory_(std::move(memory)),
      vm_(std::move(vm)),
      end_event_(std::move(end_event)),
      control_(vcpus) {}

tl::expected<std::vector<Vmm::PreparedNet>, VmmError> Vmm::prepare_networks(const VmmConfig& config) {
  std::vector<PreparedNet> prepared;
  for (std::size_t i = 0; i < config.net_devices.size(); ++i) {
    const NetDeviceConfig& net = config.net_devices[i];
    PreparedNet p;
    if (!net.tap.empty()) {
      auto tap = vdevices::TapBackend::open(net.tap);
      if (!tap) return tl::unexpected(VmmError{VmmError::Kind::kHost, tap.error()});
      p.backend = std::make_unique<vdevices::TapBackend>(std::move(*tap));
      p.config.mac = net.mac.value_or(vdevices::MacAddress{{0x02, 0x74, 0x68, 0x00, 0x00, static_cast<std::uint8_t>(i)}});
      p.config.mtu = net.mtu;
    } else {
      if (config.plane == nullptr) {
        return tl::unexpected(VmmError{VmmError::Kind::kBadConfig,
                                       fmt::format("network port {} needs a link to the I/O plane", net.plane_port)});
      }
      auto grant = config.plane->request({"net", net.plane_port}, std::chrono::seconds(5));
      if (!grant) return tl::unexpected(VmmError{VmmError::Kind::kHost, grant.error()});
      const auto mac = grant->attributes.count("mac") ? vdevices::MacAddress::parse(grant->attributes["mac"]) : std::nullopt;
      const std::string mtu_text = grant->attributes.count("mtu") ? grant->attributes["mtu"] : "";
      char* end = nullptr;
      const unsigned long mtu = std::strtoul(mtu_text.c_str(), &end, 10);
      if (!mac || mtu_text.empty() || *end != '\0' || mtu < 68 || mtu > 65535) {
        return tl::unexpected(VmmError{VmmError::Kind::kHost,
                                       fmt::format("the I/O plane granted port {} without a valid mac and mtu", net.plane_port)});
      }
      auto endpoint = vdevices::port::PortEndpoint::attach(std::move(grant->fds), vdevices::port::PortSide::kDevice);
      if (!endpoint) return tl::unexpected(VmmError{VmmError::Kind::kHost, "port " + net.plane_port + ": " + endpoint.error()});
      p.backend = std::make_unique<vdevices::PortFrameBackend>(std::move(*endpoint), net.plane_port);
      p.config.mac = *mac;
      p.config.mtu = static_cast<std::uint16_t>(mtu);
    }
    prepared.push_back(std::move(p));
  }
  return prepared;
}

tl::expected<std::optional<Vmm::PreparedVsock>, VmmError> Vmm::prepare_vsock(const VmmConfig& config) {
  if (!config.vsock_port) return std::optional<PreparedVsock>{};
  const std::string& name = *config.vsock_port;
  if (config.plane == nullptr) {
    return tl::unexpected(VmmError{VmmError::Kind::kBadConfig, fmt::format("channel port {} needs a link to the I/O plane", name)});
  }
  auto grant = config.plane->request({"vsock", name}, std::chrono::seconds(5));
  if (!grant) return tl::unexpected(VmmError{VmmError::Kind::kHost, grant.error()});
  const std::string cid_text = grant->attributes.count("cid") ? grant->attributes["cid"] : "";
  char* end = nullptr;
  const unsigned long long cid = std::strtoull(cid_text.c_str(), &end, 10);
  if (cid_text.empty() || *end != '\0' || cid < vdevices::vsock::kFirstGuestCid || cid > 0xffff'fffeULL) {
    return tl::unexpected(VmmError{VmmError::Kind::kHost, fmt::format("the I/O plane granted channel port {} without a valid cid", name)});
  }
  auto endpoint = vdevices::port::PortEndpoint::attach(std::move(grant->fds), vdevices::port::PortSide::kDevice);
  if (!endpoint) return tl::unexpected(VmmError{VmmError::Kind::kHost, "port " + name + ": " + endpoint.error()});
  PreparedVsock prepared;
  prepared.port = std::make_unique<vdevices::port::PortEndpoint>(std::move(*endpoint));
  prepared.cid = cid;
  return std::optional<PreparedVsock>(std::move(prepared));
}

tl::expected<std::vector<std::unique_ptr<vdevices::ConsolePortBackend>>, VmmError> Vmm::prepare_console_ports(
    const VmmConfig& config) {
  std::vector<std::unique_ptr<vdevices::ConsolePortBackend>> backends;
  if (config.console_ports.size() + 1 > vdevices::VirtioConsole::kMaxPorts) {
    return tl::unexpected(VmmError{VmmError::Kind::kBadConfig, fmt::format("{} console ports requested; at most {} are supported",
                                                                        config.console_ports.size(), vdevices::VirtioConsole::kMaxPorts - 1)});
  }
  for (const std::string& name : config.console_ports) {
    if (config.plane == nullptr) {
      return tl::unexpected(VmmError{VmmError::Kind::kBadConfig, fmt::format("console port {} needs a link to the I/O plane", name)});
    }
    auto grant = config.plane->request({"console", name}, std::chrono::seconds(5));
    if (!grant) return tl::unexpected(VmmError{VmmError::Kind::kHost, grant.error()});
    auto endpoint = vdevices::port::PortEndpoint::attach(std::move(grant->fds), vdevices::port::PortSide::kDevice);
    if (!endpoint) return tl::unexpected(VmmError{VmmError::Kind::kHost, "port " + name + ": " + endpoint.error()});
    backends.push_back(std::make_unique<vdevices::PortStreamBackend>(std::move(*endpoint), name));
  }
  return backends;
}

const vdevices::VirtioConsole* Vmm::console_device() const {
  for (const VirtioSlot& slot : virtio_) {
    if (slot.console != nullptr) return slot.console;
  }
  return nullptr;
}

const vdevices::VirtioVsock* Vmm::vsock_device() const {
  for (const VirtioSlot& slot : virtio_) {
    if (slot.vsock != nullptr) return slot.vsock;
  }
  return nullptr;
}

std::vector<const vdevices::VirtioNet*> Vmm::net_devices() const {
  std::vector<const vdevices::VirtioNet*> out;
  for (const VirtioSlot& slot : virtio_) {
    if (slot.net != nullptr) out.push_back(slot.net);
  }
  return out;
}

tl::expected<void, VmmError> Vmm::build(const VmmConfig& config, std::uint32_t entry, std::uint64_t start_info,
                                        std::vector<PreparedNet> networks, std::optional<PreparedVsock> vsock,
                                        std::vector<std::unique_ptr<vdevices::ConsolePortBackend>> console_ports) {
  const auto kvm_failed = [](const kvm::KvmError& e) { return tl::unexpected(host_error(e.message)); };
  if (auto r = vm_.enable_split_irqchip(kIoapicPins); !r) return kvm_failed(r.error());
  if (auto r = vm_.set_tss_address(memory::kKvmTssAddress); !r) return kvm_failed(r.error());
  std::uint32_t slot = 0;
  for (const memory::HostRegion& region : memory_.regions()) {
    auto added = vm_.add_memory_slot(slot++, region.ram.guest_address, region.ram.size, region.host);
    if (!added) return kvm_failed(added.error());
    slots_.push_back(std::move(*added));
  }

  vcpus_.reserve(config.vcpus);
  for (std::uint32_t i = 0; i < config.vcpus; ++i) {
    auto vcpu = vm_.create_vcpu(i);
    if (!vcpu) return kvm_failed(vcpu.error());
    vcpus_.push_back(std::move(*vcpu));
  }
  auto tsc_khz = vcpus_[0].tsc_khz();
  if (!tsc_khz) return kvm_failed(tsc_khz.error());
  for (std::uint32_t i = 0; i < config.vcpus; ++i) {
    const auto cpuid = cpu::cpuid_for_vcpu(kvm_.supported_cpuid(), {i, config.vcpus}, *tsc_khz);
    if (auto r = vcpus_[i].set_cpuid(cpuid); !r) return kvm_failed(r.error());
    if (auto r = vcpus_[i].set_fpu(kvm::FpuState{}); !r) return kvm_failed(r.error());
  }
  auto sregs = vcpus_[0].special_registers();
  if (!sregs) return kvm_failed(sregs.error());
  const boot::BootCpuState state = boot::pvh_boot_state(*sregs, entry, start_info);
  if (auto r = vcpus_[0].set_special_registers(state.special); !r) return kvm_failed(r.error());
  if (auto r = vcpus_[0].set_registers(state.registers); !r) return kvm_failed(r.error());

  uart_ = std::make_unique<vdevices::Uart16550>(*config.console, uart_irq_);
  debug_exit_ = std::make_unique<vdevices::DebugExit>(*this);
  i8042_ = std::make_unique<vdevices::I8042>(*this);
  // The device table: an explicit, ordered list.
  const auto add = [&](std::uint16_t port, std::uint16_t count, vdevices::PioDevice& dev, const char* name)
      -> tl::expected<void, VmmError> {
    if (auto r = pio_bus_.add(port, count, dev, name); !r) return tl::unexpected(host_error(r.error()));
    return {};
  };
  if (auto r = add(kCom1Port, kCom1Ports, *uart_, "uart16550 (COM1)"); !r) return r;
  if (auto r = add(vdevices::DebugExit::kDefaultPort, vdevices::DebugExit::kPortCount, *debug_exit_, "debug-exit"); !r) return r;
  if (auto r = add(vdevices::I8042::kBasePort, vdevices::I8042::kPortCount, *i8042_, "i8042"); !r) return r;

  // The userspace half of the split irqchip: devices raise its pins, it sends MSIs through KVM.
  ioapic_ = std::make_unique<vdevices::Ioapic>(*this);
  if (auto r = mmio_bus_.add(vdevices::Ioapic::kBaseAddress, vdevices::Ioapic::kWindowSize, *ioapic_, "ioapic"); !r) {
    return tl::unexpected(host_error(r.error()));
  }
  if (config.entropy_device) {
    VirtioSlot rng;
    rng.entropy = config.entropy_seed ? std::unique_ptr<vdevices::EntropySource>(new vdevices::SeededEntropy(*config.entropy_seed))
                                       : std::unique_ptr<vdevices::EntropySource>(new vdevices::HostEntropy());
    rng.device = std::make_unique<vdevices::VirtioRng>(memory_, *rng.entropy);
    rng.name = "entropy";
    virtio_.push_back(std::move(rng));
  }
  for (std::size_t i = 0; i < networks.size(); ++i) {
    VirtioSlot net;
    net.frame_backend = std::move(networks[i].backend);
    auto device = std::make_unique<vdevices::VirtioNet>(memory_, *net.frame_backend, networks[i].config, this);
    net.net = device.get();
    net.device = std::move(device);
    net.name = fmt::format("net{} ({})", i, net.frame_backend->describe());
    virtio_.push_back(std::move(net));
  }
  if (vsock) {
    VirtioSlot channel;
    channel.port = std::move(vsock->port);
    auto device = std::make_unique<vdevices::VirtioVsock>(memory_, *channel.port, vsock->cid, this);
    channel.vsock = device.get();
    channel.device = std::move(device);
    channel.name = fmt::format("vsock (cid {})", vsock->cid);
    virtio_.push_back(std::move(channel));
  }
  if (!console_ports.empty()) {
    VirtioSlot console;
    // Port 0 carries the guest's console output to the same sink as the UART; the named ports follow.
    console.console_backends.push_back(std::make_unique<vdevices::SinkBackend>(*config.console));
    std::vector<vdevices::ConsolePortConfig> ports{{"console", true, console.console_backends.back().get()}};
    for (std::size_t i = 0; i < console_ports.size(); ++i) {
      console.console_backends.push_back(std::move(console_ports[i]));
      ports.push_back({config.console_ports[i], false, console.console_backends.back().get()});
    }
    auto device = vdevices::VirtioConsole::create(memory_, std::move(ports));
    if (!device) return tl::unexpected(VmmError{VmmError::Kind::kBadConfig, "console: " + device.error()});
    console.console = device->get();
    console.device = std::move(*device);
    console.name = "console";
    virtio_.push_back(std::move(console));
  }
  for (std::uint32_t i = 0; i < virtio_.size(); ++i) {
    VirtioSlot& virtio = virtio_[i];
    virtio.pin = std::make_unique<vdevices::Ioapic::Pin>(*ioapic_, kVirtioFirstPin + i);
    virtio.transport = std::make_unique<vdevices::virtio::MmioTransport>(*virtio.device, memory_, *virtio.pin);
    virtio.transport->set_error_reporter(this, fmt::format("virtio-mmio {} ({})", i, virtio.name));
    const std::uint64_t base = kVirtioMmioBase + i * vdevices::virtio::kMmioWindowSize;
    if (auto r = mmio_bus_.add(base, vdevices::virtio::kMmioWindowSize, *virtio.transport, fmt::format("virtio-mmio {}", i)); !r) {
      return tl::unexpected(host_error(r.error()));
    }
  }

  // Interrupts: an irqfd per virtio pin, injecting the route the guest programmed into the IOAPIC.
  irq_event_of_pin_.fill(-1);
  for (std::uint32_t i = 0; i < virtio_.size(); ++i) {
    auto event = util::EventFd::create();
    if (!event) return tl::unexpected(host_error("eventfd: " + util::errno_text(errno)));
    auto irqfd = vm_.add_irqfd(kVirtioFirstPin + i, event->fd());
    if (!irqfd) return kvm_failed(irqfd.error());
    irq_event_of_pin_[kVirtioFirstPin + i] = static_cast<int>(irq_events_.size());
    irq_events_.push_back(std::move(*event));
    irqfds_.push_back(std::move(*irqfd));
  }

  // Queue kicks: one eventfd per queue, matched on the queue index written to QueueNotify. Without
  // virtio devices there is no worker: nothing to serve, and nothing added to start-up.
  if (!virtio_.empty()) {
    auto worker = DeviceWorker::create();
    if (!worker) return tl::unexpected(host_error(worker.error()));
    worker_.emplace(std::move(*worker));
  }
  for (std::uint32_t i = 0; i < virtio_.size(); ++i) {
    const std::uint64_t notify = kVirtioMmioBase + i * vdevices::virtio::kMmioWindowSize +
                                 vdevices::virtio::MmioTransport::kQueueNotifyOffset;
    const auto queues = static_cast<std::uint16_t>(virtio_[i].device->queue_max_sizes().size());
    for (std::uint16_t q = 0; q < queues; ++q) {
      auto event = util::EventFd::create();
      if (!event) return tl::unexpected(host_error("eventfd: " + util::errno_text(errno)));
      auto registration = vm_.add_mmio_event(notify, 4, q, event->fd());
      if (!registration) return kvm_failed(registration.error());
      if (auto w = worker_->watch(*event, [t = virtio_[i].transport.get(), q] { t->notify_queue(q); }); !w) {
        return tl::unexpected(host_error(w.error()));
      }
      notify_events_.push_back(std::move(*event));
      io_events_.push_back(std::move(*registration));
    }
    if (virtio_[i].net != nullptr) {
      // Frames arriving, or room for frames held back: the backend's own descriptor, drained by the device.
      auto w = worker_->watch_fd(virtio_[i].frame_backend->wake_fd(), DeviceWorker::WatchMode::kEdgeDrainedByHandler,
                                 [net = virtio_[i].net, t = virtio_[i].transport.get()] {
                                   if (auto r = net->backend_ready(); !r) t->device_error(r.error());
                                 });
      if (!w) return tl::unexpected(host_error(w.error()));
    }
    for (std::size_t p = 1; p < virtio_[i].console_backends.size(); ++p) {
      // The plane signals the port's wake eventfd: bytes for the guest, or room for the guest's bytes.
      auto* backend = static_cast<vdevices::PortStreamBackend*>(virtio_[i].console_backends[p].get());
      auto w = worker_->watch_fd(backend->wake_fd(), DeviceWorker::WatchMode::kEventCounter,
                                 [t = virtio_[i].transport.get(), q = vdevices::VirtioConsole::receive_queue(static_cast<std::uint32_t>(p))] {
                                   t->notify_queue(q);
                                 });
      if (!w) return tl::unexpected(host_error(w.error()));
    }
    if (virtio_[i].vsock != nullptr) {
      auto w = worker_->watch_fd(virtio_[i].port->wake_fd(), DeviceWorker::WatchMode::kEdgeDrainedByHandler,
                                 [vsock = virtio_[i].vsock, t = virtio_[i].transport.get()] {
                                   if (auto r = vsock->port_ready(); !r) t->device_error(r.error());
                                 });
      if (!w) return tl::unexpected(host_error(w.error()));
    }
  }

  for (kvm::Vcpu& vcpu : vcpus_) {
    runners_.push_back(std::make_unique<VcpuRunner>(vcpu, pio_bus_, mmio_bus_, memory_, *ioapic_, control_, *this));
  }
  install_kick_handler();
  return {};
}

Vmm::~Vmm() { join(); }

tl::expected<void, VmmError> Vmm::start() {
  if (!threads_.empty()) return tl::unexpected(VmmError{VmmError::Kind::kBadConfig, "VM already started"});
  if (worker_) {
    if (auto w = worker_->start(); !w) return tl::unexpected(host_error(w.error()));
  }
  try {
    for (auto& runner : runners_) {
      threads_.emplace_back([r = runner.get()] {
        const std::string name = fmt::format("vcpu{}", r->id());
        ::pthread_setname_np(::pthread_self(), name.c_str());
        r->run_loop();
      });
    }
  } catch (const std::system_error& e) {
    // EAGAIN is how RLIMIT_NPROC shows: it counts every process of this uid on the host, not just ours.
    const std::string why = std::string("cannot start vCPU thread: ") + e.what() +
                            (e.code() == std::errc::resource_unavailable_try_again
                                 ? " (the process limit of this uid is reached; does something else run as it?)"
                                 : "");
    stop(VmEnd{VmEnd::Kind::kVcpuFailure, 0, why});
    return tl::unexpected(host_error(why));
  }
  return {};
}

VmEnd Vmm::run_on_this_thread() {
  if (runners_.size() != 1 || !threads_.empty()) {
    end_vm(VmEnd{VmEnd::Kind::kVcpuFailure, 0, "running on the caller's thread needs exactly one vCPU and no started threads"});
  } else if (auto w = worker_ ? worker_->start() : tl::expected<void, std::string>{}; !w) {
    end_vm(VmEnd{VmEnd::Kind::kVcpuFailure, 0, w.error()});
  } else {
    runners_[0]->run_loop();
  }
  return join();
}

std::optional<VmEnd> Vmm::wait_for_end(std::chrono::milliseconds timeout) {
  pollfd pfd{end_event_.get(), POLLIN, 0};
  const int n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (n <= 0) return std::nullopt;
  std::lock_guard lock(end_mutex_);
  return end_;
}

bool Vmm::pause(std::chrono::milliseconds timeout) {
  control_.set_request(RunRequest::kPause);
  for (auto& runner : runners_) runner->kick();
  return control_.wait_all_parked(timeout);
}

void Vmm::resume() { control_.set_request(RunRequest::kRun); }

void Vmm::stop(VmEnd reason) { end_vm(std::move(reason)); }

void Vmm::end_vm(VmEnd end) noexcept {
  {
    std::lock_guard lock(end_mutex_);
    if (end_) return;  // the first reason wins; later ones are consequences
    end_ = std::move(end);
  }
  control_.set_request(RunRequest::kStop);
  for (auto& runner : runners_) runner->kick();
  const std::uint64_t one = 1;
  // The eventfd counter cannot overflow from one write; a failure here would only delay waiters
  // until their timeout.
  (void)!::write(end_event_.get(), &one, sizeof one);
}

VmEnd Vmm::join() {
  // Joining a VM that has not ended stops it first.
  bool need_stop = false;
  {
    std::lock_guard lock(end_mutex_);
    need_stop = !end_.has_value();
  }
  if (need_stop) end_vm(VmEnd{VmEnd::Kind::kStopped, 0, {}});
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  std::lock_guard lock(end_mutex_);
  return *end_;  // set by end_vm above at the latest
}

void Vmm::guest_error(std::string_view device, std::string_view what) noexcept {
  const std::uint64_t n = ++guest_errors_;
  try {
    if (n <= kMaxReportedGuestErrors) {
      fmt::print(stderr, "tilehv: guest error: {}: {}\n", device, what);
    } else if (n == kMaxReportedGuestErrors + 1) {
      fmt::print(stderr, "tilehv: guest error: further guest errors are counted, not logged\n");
    }
  } catch (...) {
    // stderr is gone (closed, full disk): the error stays counted, and a guest must not be able to
    // turn its own misbehaviour into a crash of the VMM.
  }
}

bool Vmm::send_msi(std::uint32_t pin, const vdevices::MsiMessage& message) noexcept {
  if (pin < irq_event_of_pin_.size() && irq_event_of_pin_[pin] >= 0) {
    std::lock_guard lock(routes_mutex_);
    // The irqfd injects the pin's route, which route_changed() keeps equal to `message`.
    if (routes_[pin] && routes_[pin]->address == message.address && routes_[pin]->data == message.data) {
      irq_events_[static_cast<std::size_t>(irq_event_of_pin_[pin])].signal();
      return true;
    }
  }
  return vm_.signal_msi(message.address, message.data);
}

void Vmm::route_changed(std::uint32_t pin, const vdevices::MsiMessage& message) noexcept {
  if (pin >= routes_.size()) return;
  std::lock_guard lock(routes_mutex_);
  // A pin the guest never programmed has no route; one it masked keeps its route (msi_sender.hpp).
  if (routes_[pin] && routes_[pin]->address == message.address && routes_[pin]->data == message.data) return;
  std::vector<kvm::Vm::MsiRoute> table;
  for (std::uint32_t p = 0; p < routes_.size(); ++p) {
    if (p == pin) {
      table.push_back({p, message.address, message.data});
    } else if (routes_[p]) {
      table.push_back({p, routes_[p]->address, routes_[p]->data});
    }
  }
  try {
    if (auto set = vm_.set_msi_routes(table); !set) {
      // send_msi() then falls back to KVM_SIGNAL_MSI for this pin.
      fmt::print(stderr, "tilehv: interrupt routes not updated: {}\n", set.error().message);
      routes_[pin].reset();
      return;
    }
  } catch (...) {
    return;
  }
  routes_[pin] = message;
}

void Vmm::guest_exit(std::uint32_t value) noexcept { end_vm(VmEnd{VmEnd::Kind::kGuestExit, value, {}}); }

void Vmm::guest_reset() noexcept { end_vm(VmEnd{VmEnd::Kind::kGuestReset, 0, "i8042 reset line pulsed"}); }

}  // namespace tilehv::vmm
