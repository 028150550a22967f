// tilehv-floor: boots a PVH kernel with FloorVm and copies its COM1 output to stdout until it
// writes the exit port. Usage: tilehv-floor KERNEL [MEMORY_MIB] [CMDLINE]
#include <linux/kvm.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "floor/floor_vm.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: tilehv-floor KERNEL [MEMORY_MIB] [CMDLINE]\n", stderr);
    return 2;
  }
  const std::uint64_t mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64;
  tilehv::bench::FloorVm vm;
  std::string error;
  if (!vm.create(argv[1], mib << 20, argc > 3 ? argv[3] : "", error)) {
    std::fprintf(stderr, "tilehv-floor: %s\n", error.c_str());
    return 1;
  }
  for (;;) {
    const int reason = vm.run_once();
    if (reason == KVM_EXIT_IO) {
      kvm_run* run = vm.run_struct();
      if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x3f8) {
        const ssize_t n = ::write(STDOUT_FILENO, vm.io_data(), std::size_t{run->io.size} * run->io.count);
        (void)n;
      } else if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0xf4) {
        return vm.io_data()[0];
      } else if (run->io.direction == KVM_EXIT_IO_IN) {
        // The SDK polls the UART's line status: report the transmitter empty, and 0xff elsewhere.
        const std::uint8_t value = run->io.port == 0x3fd ? 0x60 : 0xff;
        for (std::uint32_t i = 0; i < std::uint32_t{run->io.size} * run->io.count; ++i) vm.io_data()[i] = value;
      }
    } else if (reason == KVM_EXIT_MMIO) {
      continue;
    } else {
      std::fprintf(stderr, "tilehv-floor: exit reason %d\n", reason);
      return 1;
    }
  }
}
