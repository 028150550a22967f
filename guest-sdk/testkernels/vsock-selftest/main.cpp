// vsock-selftest: the SDK's vsock stream sockets without a device. Two socket tables (CIDs 3 and 4)
// talk over an in-memory loop transport: connections must be refused, established, carry data
// exactly under credit-based flow control, stall and resume when the receiver does not read, shut
// down half and whole, time out, and survive resets; hostile and malformed packets fed into one table
// must be answered with RST or dropped as virtio 1.2 spec 5.10.6 says, and counted. Prints each
// failed check and "vsock-selftest: <n> checks, <k> failed"; exits 0 when none failed.
#include <guest/kernel.hpp>

#include "selftest.hpp"

using namespace guest;

namespace selftest {

LoopTransport transport_a(kCidA), transport_b(kCidB);
vsock::Sockets a(transport_a), b(transport_b);

namespace {
unsigned checks = 0, failures = 0;
}  // namespace

void check(bool ok, const char* what) {
  ++checks;
  if (!ok) {
    ++failures;
    print("vsock-selftest: FAILED {}\n", what);
  }
}

}  // namespace selftest

int kernel_main() {
  selftest::transport_a.connect(selftest::transport_b);
  selftest::transport_b.connect(selftest::transport_a);
  selftest::run_stream_tests();
  selftest::run_hostile_tests();
  print("vsock-selftest: {} checks, {} failed\n", selftest::checks, selftest::failures);
  return selftest::failures == 0 ? 0 : 1;
}
