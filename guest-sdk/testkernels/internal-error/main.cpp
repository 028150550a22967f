// Internal error: jumps to guest-physical memory with nothing behind it, which KVM cannot run.
//
// 0xd0000000 lies in the 3-4 GiB hole (no RAM, no device), mapped by the SDK's identity map, so the
// fetch is not a page fault the guest could handle: the hypervisor finds no memory to execute.
#include <guest/kernel.hpp>

using namespace guest;

namespace {
constexpr uintptr_t unbacked_address = 0xd0000000;
}

int kernel_main() {
  print("internal-error: jumping to {:#x}\n", unbacked_address);
  // SAFETY: deliberately invalid; this is the behaviour under test.
  auto* target = reinterpret_cast<void (*)()>(unbacked_address);
  target();
  return static_cast<int>(exit_failure);  // not reached
}
