// Integration test: virtio queue kicks reach the device through an ioeventfd served by the device
// worker, not through MMIO exits on the vCPU.
#include <gtest/gtest.h>

#include "serial/console_sink.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "vmm/vmm.hpp"

namespace tilehv::vmm {
namespace {

TEST(QueueNotify, KicksDoNotExitToUserspace) {
  TILEHV_REQUIRE_KVM();
  vdevices::RingSink sink(4096);
  VmmConfig config;
  config.kernel_path = testing::guest_kernel("rng");
  config.cmdline = "requests=200";
  config.console = &sink;
  config.entropy_device = true;
  config.entropy_seed = 9;
  auto vmm = Vmm::create(config);
  ASSERT_TRUE(vmm) << vmm.error().message;
  ASSERT_TRUE((*vmm)->start());
  const auto end = (*vmm)->wait_for_end(std::chrono::seconds(30));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(exit_status_for(*end), 0) << sink.contents();
  EXPECT_NE(sink.contents().find("200 requests, 12800 bytes"), std::string::npos) << sink.contents();
  // Initialization takes a few dozen register accesses; 200 kicks through MMIO exits would add 200.
  EXPECT_LT((*vmm)->vcpu_metrics(0).mmio_exits.load(), 100U);
  EXPECT_GE((*vmm)->virtio_transport(0).metrics().notifications.load(), 1U);
}

}  // namespace
}  // namespace tilehv::vmm
