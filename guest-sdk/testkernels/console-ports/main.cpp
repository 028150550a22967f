// console-ports: finds the virtio console announced on the command line, lists the named ports it
// offers, and echoes every byte the host sends on the port named "echo" back on it until a line
// "quit" (echoed too) arrives; exits 0, or 1 with the reason. timeout=S (default 60) bounds the wait.
#include <guest/kernel.hpp>
#include <guest/virtio_console.hpp>

using namespace guest;

namespace {

virtio::ConsoleDevice console_device;

}  // namespace

int kernel_main() {
  virtio::MmioDeviceInfo info{};
  size_t index = 0;
  if (!virtio::find_device(virtio::ConsoleDevice::kDeviceId, info, index)) {
    print("console-ports: no virtio console announced\n");
    return 1;
  }
  if (!console_device.init(info)) {
    print("console-ports: device at {:#x} refused initialization (status {:#x})\n", info.base, console_device.status());
    return 1;
  }
  // Names arrive with DEVICE_ADD (tilehv) or after our PORT_READY (QEMU): wait until the device is quiet.
  console_device.settle(200'000'000, 2'000'000'000);
  print("console-ports: device {} at {:#x}: {} ports\n", index, info.base, console_device.device_ports());
  for (uint32_t id = 0; id < virtio::ConsoleDevice::kMaxPorts; ++id) {
    const virtio::ConsoleDevice::Port& port = console_device.port(id);
    if (!port.present) continue;
    print("console-ports: port {} name={}{}\n", id, StrView(port.name), port.console ? " (console)" : "");
  }
  uint32_t echo = 0;
  if (!console_device.find_port("echo", echo)) {
    print("console-ports: no port named echo\n");
    return 1;
  }
  if (!console_device.open(echo)) {
    print("console-ports: cannot open port {}\n", echo);
    return 1;
  }

  const time::Deadline deadline = time::Deadline::after_ns(cmdline::get_u64("timeout", 60) * 1'000'000'000);
  char line[64];
  size_t line_length = 0;
  uint64_t total = 0;
  for (;;) {
    uint8_t bytes[128];
    const size_t n = console_device.read(echo, bytes, sizeof bytes);
    if (n == 0) {
      if (deadline.expired()) {
        print("console-ports: no quit line within the timeout ({} bytes echoed)\n", total);
        return 1;
      }
      console_device.poll_control();
      cpu::pause();
      continue;
    }
    if (!console_device.write(echo, bytes, n)) {
      print("console-ports: the device did not take the echo (status {:#x})\n", console_device.status());
      return 1;
    }
    total += n;
    for (size_t i = 0; i < n; ++i) {
      if (bytes[i] != '\n') {
        if (line_length < sizeof line) line[line_length] = static_cast<char>(bytes[i]);
        ++line_length;
        continue;
      }
      if (StrView(line, line_length < sizeof line ? line_length : sizeof line) == "quit" && line_length == 4) {
        print("console-ports: quit after {} bytes\n", total);
        return 0;
      }
      line_length = 0;
    }
  }
}
