// GuestErrorReporter: where a device reports what a guest did wrong to it (a malformed queue, a
// forbidden access), so the VMM can log it while the partition carries on.
#pragma once

#include <string_view>

namespace tilehv::vdevices {

class GuestErrorReporter {
 public:
  virtual ~GuestErrorReporter() = default;
  // `device` names the device ("virtio-mmio 0 (entropy)"), `what` the guest's action and its consequence.
  virtual void guest_error(std::string_view device, std::string_view what) noexcept = 0;
};

}  // namespace tilehv::vdevices
