// tile-controller: the tile's example control kernel, sensor in, actuator commands and telemetry out
// (docs/design/shadows.md, Example kernels). One source, six images tile-controller-v1..v6.elf, so a
// shadow partition can run a candidate beside the live kernel on the very same inputs.
//
// Input: one sensor stream, the console port sensor.<name> (sensor=NAME; default the first sensor
// port). Every sample of channel 0 is an input: for a thermal sensor the temperature in milli-°C.
// Optionally rate=<mHz> asks the tile for channel 0's rate once the sensor described itself.
//
// For every input (numbered from 1) the controller averages the last W=64 temperatures (fewer at
// first; rounded half away from zero), runs an integer PI step against setpoint= (milli-°C, default
// 21000; pi_controller.hpp has the gains and the integral clamp) and sends ONE actuator command, a UDP
// datagram from ip= (default 10.0.0.1) to peer= (default 10.0.0.2), port actuator_port= (default
// 47808):
//   cmd seq=<input> t=<sample timestamp ns> temp=<milli-°C> avg=<milli-°C> valve=<0..1000>\n
// Every telemetry_every=K inputs (default 10, 1..1000000) one telemetry datagram goes to the same
// peer, port telemetry_port= (default 47809), about the K temperatures since the last one:
//   tel seq=<input> n=<K> min=<milli-°C> max=<milli-°C> mean=<milli-°C> valve=<latest valve>\n
// The payloads are a function of the input samples alone (no clock, no randomness), so two runs on
// the same stream send the same bytes.
//
// count=N: after N inputs it prints a summary and the digest of every payload it sent (FNV-1a 64,
// in the order sent) and exits 0; without count it runs forever. Also: header_ms= (default 10000: how
// long the sensor may take to describe itself), wait_ms= (default 10000: how long the peer may take
// to answer ARP).
//
// Variants (variant.hpp):
//   v1  the reference: sums the whole window for every input (O(W)), then the PI step.
//   v2  the same payloads for every input stream, from a running sum (O(1)).
//   v3  like v1, but while the temperature lies in band=LO:HI (milli-°C, default 21400:21450) the
//       valve it sends is off by +7 (unclamped); it diverges on those inputs only.
//   v4  like v1 for after=N inputs (default 500); input N+1 ends it with a CPU exception (#DE: an
//       integer division by zero), which the SDK reports and turns into exit value 99.
//   v5  like v1 for after=N inputs; then it spins forever, without output.
//   v6  like v1 for after=N inputs; then it floods: sends actuator commands as fast as it can,
//       forever, and reads no more input.
//
// Robustness: a malformed sensor line is skipped and counted, never fatal; the first four are named.
// A bad command-line value is named and ends the kernel with 1 (so do a missing device or sensor
// port, a peer that never answers ARP, and a refused rate); a stream the SDK finds beyond repair, no
// sensor description within header_ms, or "#end" before count= was reached ends it with 2. "#end"
// without count= ends it with 0 after the summary.
#include <guest/kernel.hpp>
#include <guest/net/stack.hpp>
#include <guest/virtio_console.hpp>
#include <guest/virtio_interrupt.hpp>
#include <guest/virtio_net.hpp>

#include "controller.hpp"
#include "faults.hpp"
#include "options.hpp"
#include "output_link.hpp"
#include "payload.hpp"
#include "sensor_input.hpp"
#include "variant.hpp"

using namespace guest;
using namespace tile_controller;

namespace {

// Inputs handled in a row before the loop looks at the network and the console's control queue, so
// a backlog of samples does not leave an ARP request of the peer unanswered for long.
constexpr size_t kInputsPerTurn = 64;
// Lines looked at per search for the next input: metadata and other channels' samples in between.
constexpr size_t kLinesPerInput = 64;
// Waits poll this long before halting: a flowing stream is caught without a VM exit, an idle one
// costs a wake-up per LAPIC timer period (at most 10 ms) instead of a spinning CPU.
constexpr uint64_t kSpinNs = 1'000'000;
// The longest single wait, so the loop checks its deadline and the control queue regularly.
constexpr uint64_t kWaitSliceNs = 100'000'000;
// The last datagrams may still be in the transmit queue when the controller is done.
constexpr uint64_t kFlushNs = 1'000'000'000;

virtio::NetDevice net_device;
virtio::ConsoleDevice console_device;
SensorInput input;

bool bring_up_network() {
  const virtio::NetDevice::InitError error = net_device.init();
  if (error == virtio::NetDevice::InitError::none) return true;
  if (error == virtio::NetDevice::InitError::no_device) {
    print("{}: no virtio network device announced\n", variant::kName);
  } else {
    print("{}: network device at {:#x} refused initialization (error {})\n", variant::kName, net_device.info().base,
          static_cast<unsigned>(error));
  }
  return false;
}

bool bring_up_console(virtio::MmioDeviceInfo& info) {
  size_t index = 0;
  if (!virtio::find_device(virtio::ConsoleDevice::kDeviceId, info, index)) {
    print("{}: no virtio console announced, so no sensor ports\n", variant::kName);
    return false;
  }
  if (!console_device.init(info)) {
    print("{}: console at {:#x} refused initialization (status {:#x})\n", variant::kName, info.base,
          console_device.status());
    return false;
  }
  // Port names arrive with DEVICE_ADD (tilehv) or after our PORT_READY (QEMU): wait until it is quiet.
  console_device.settle(200'000'000, 2'000'000'000);
  return true;
}

void print_address(const char* label, net::Ipv4Address a) {
  print("{} {}.{}.{}.{}", label, a.octet(0), a.octet(1), a.octet(2), a.octet(3));
}

void print_start(const Options& o) {
  print("{}: sensor {}, setpoint {}, telemetry every {}, ", variant::kName, input.name(), o.controller.setpoint_milli,
        o.controller.telemetry_every);
  print_address("peer", o.peer);
  if (o.count == 0) {
    print(" ports {}/{}, no count\n", o.actuator_port, o.telemetry_port);
  } else {
    print(" ports {}/{}, count {}\n", o.actuator_port, o.telemetry_port, o.count);
  }
}

// The summary: one line of counts, then the digest the tests compare.
void print_summary(const Controller& controller, const OutputLink& output) {
  const OutputCounters& sent = output.counters();
  const sensor::StreamCounters& stream = input.counters();
  print("{}: done, {} inputs, {} commands, {} telemetry, {} unsent, {} malformed lines, {} dropped samples, valve {}\n",
        variant::kName, controller.inputs(), sent.commands, sent.telemetry, sent.unsent, stream.malformed,
        stream.dropped, controller.last_command().valve);
  print("{}: digest {:016x} over {} bytes\n", variant::kName, output.digest(), sent.bytes);
}

void handle_input(const Input& in, Controller& controller, OutputLink& output) {
  output.send_command(command_payload(controller.on_input(in.timestamp_ns, in.milli)));
  Telemetry telemetry;
  if (controller.take_telemetry(telemetry)) output.send_telemetry(telemetry_payload(telemetry));
}

// Runs until count= inputs were handled or the stream ends or fails; returns the exit value.
int run(const Options& options, net::Stack& stack, virtio::DeviceInterrupt& wake) {
  Controller controller(options.controller);
  OutputLink output(stack, options.peer, options.actuator_port, options.telemetry_port);
  const time::Deadline header_deadline = time::Deadline::after_ns(options.header_ms * 1'000'000);
  for (;;) {
    Input in;
    SensorInput::Event event = SensorInput::Event::idle;
    for (size_t handled = 0; handled < kInputsPerTurn; ++handled) {
      event = input.next(in, kLinesPerInput);
      if (event != SensorInput::Event::input) break;
      if constexpr (variant::kFault != variant::Fault::none) {
        if (controller.inputs() == options.after) run_fault(output, controller.last_command());
      }
      handle_input(in, controller, output);
      if (controller.inputs() == options.count) {
        stack.flush(kFlushNs);
        print_summary(controller, output);
        return 0;
      }
    }
    switch (event) {
      case SensorInput::Event::failed: input.print_failure(); return 2;
      case SensorInput::Event::rate_refused: return 1;
      case SensorInput::Event::ended:
        stack.flush(kFlushNs);
        print("{}: {}: end of stream after {} inputs\n", variant::kName, input.name(), controller.inputs());
        print_summary(controller, output);
        return options.count == 0 ? 0 : 2;
      default: break;
    }
    stack.poll();
    console_device.poll_control();
    if (!input.described() && header_deadline.expired()) {
      print("{}: {}: no complete stream header within {} ms\n", variant::kName, input.name(), options.header_ms);
      return 2;
    }
    if (event == SensorInput::Event::idle) {
      wake.wait_until([] { return input.readable(); }, time::Deadline::after_ns(kWaitSliceNs));
    }
  }
}

}  // namespace

int kernel_main() {
  Options options;
  if (!parse_options(options)) return 1;
  if (!bring_up_network()) return 1;
  static net::Stack stack(net_device, options.ip);
  // The peer first: commands are useless until they reach it, and the sensor's samples wait in the
  // tile meanwhile (the port is not open yet).
  net::MacAddress peer_mac{};
  if (!stack.resolve(options.peer, peer_mac, options.wait_ms * 1'000'000)) {
    print("{}: ", variant::kName);
    print_address("peer", options.peer);
    print(" did not answer ARP within {} ms\n", options.wait_ms);
    return 1;
  }
  virtio::MmioDeviceInfo console_info{};
  if (!bring_up_console(console_info)) return 1;
  if (!input.open(console_device, options.sensor, options.rate_mhz)) return 1;
  print_start(options);
  virtio::DeviceInterrupt wake;
  wake.enable(console_info);  // without an IOAPIC pin the waits poll
  wake.set_spin_ns(kSpinNs);
  return run(options, stack, wake);
}
