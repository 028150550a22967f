// InterruptLine: a device's wire to an interrupt controller input.
#pragma once

namespace tilehv::vdevices {

class InterruptLine {
 public:
  virtual ~InterruptLine() = default;
  virtual void set_level(bool asserted) noexcept = 0;
};

// A line connected to nothing: the device works polled. Used until a userspace IOAPIC is wired in.
class UnconnectedLine final : public InterruptLine {
 public:
  void set_level(bool /*asserted*/) noexcept override {}
};

}  // namespace tilehv::vdevices
