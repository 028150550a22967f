// sensor-logger: reads every sensor the tile gives this partition. It finds the virtio console's
// "sensor.<name>" ports, optionally asks for channel rates (rate=<sensor>:<channel>:<mHz>[,...]),
// collects samples=N samples of every channel (default 100) or what arrives before ms=M passes, and
// prints per channel n, min, mean, max and the first and last timestamps, plus a digest of each
// sensor's sample lines. Exit 0; 1 without a console or sensor port or with a bad command line; 2
// when a stream cannot be interpreted or never describes its sensor (header_ms=, default 10000).
#include <guest/kernel.hpp>
#include <guest/sensor.hpp>
#include <guest/virtio_console.hpp>
#include <guest/virtio_interrupt.hpp>

#include "channel_stats.hpp"
#include "rate_requests.hpp"
#include "sensor_log.hpp"

using namespace guest;
using sensor_logger::SensorLog;

namespace {

// The console driver drives this many ports, the device's console port included.
constexpr size_t kMaxSensors = virtio::ConsoleDevice::kMaxPorts;
// Lines handled per sensor before the loop turns to the next one, so no stream starves the others.
constexpr size_t kLinesPerTurn = 64;
// Waits poll this long before halting: a stream that is flowing is caught without a VM exit, an
// idle one costs a wake-up per LAPIC timer period (at most 10 ms) instead of a spinning CPU.
constexpr uint64_t kSpinNs = 1'000'000;
// The longest single wait, so the loop checks its deadlines and the control queue regularly.
constexpr uint64_t kWaitSliceNs = 100'000'000;

virtio::ConsoleDevice console_device;
SensorLog logs[kMaxSensors];
sensor_logger::RateRequests rate_requests;

struct Options {
  uint64_t samples;
  uint64_t ms;  // 0: no time limit
  uint64_t header_ms;
};

bool parse_options(Options& out) {
  out.samples = cmdline::get_u64("samples", 100);
  out.ms = cmdline::get_u64("ms", 0);
  out.header_ms = cmdline::get_u64("header_ms", 10'000);
  if (out.samples > sensor_logger::kMaxSamplesPerChannel) {
    print("sensor-logger: samples={} is above the limit of {}\n", out.samples, sensor_logger::kMaxSamplesPerChannel);
    return false;
  }
  if (!sensor_logger::parse_rate_requests(cmdline::find("rate").value, rate_requests)) {
    print("sensor-logger: bad rate= item \"{}\": expected <sensor>:<channel>:<mHz>, at most {} of them\n",
          rate_requests.bad_item, sensor_logger::kMaxRateRequests);
    return false;
  }
  return true;
}

// Every rate request must name a sensor that is there: a typo would otherwise go unnoticed.
bool requests_match(size_t sensors) {
  for (size_t r = 0; r < rate_requests.count; ++r) {
    bool found = false;
    for (size_t s = 0; s < sensors; ++s) found = found || logs[s].name() == rate_requests.items[r].sensor;
    if (!found) {
      print("sensor-logger: rate= names sensor {}, which has no port\n", rate_requests.items[r].sensor);
      return false;
    }
  }
  return true;
}

// Collects until every sensor is finished or the time limit passed; false when a stream failed.
bool collect(size_t sensors, const Options& options, virtio::DeviceInterrupt& interrupt) {
  const uint64_t start_ns = time::now_ns();
  for (;;) {
    bool all_finished = true;
    for (size_t s = 0; s < sensors; ++s) {
      logs[s].drain(kLinesPerTurn);
      if (logs[s].failed()) {
        logs[s].print_failure();
        return false;
      }
      all_finished = all_finished && logs[s].finished();
    }
    if (all_finished) return true;
    const uint64_t elapsed_ns = time::now_ns() - start_ns;
    const bool time_up = options.ms != 0 && elapsed_ns >= options.ms * 1'000'000;
    // A sensor that never described itself cannot be reported on: that is a failure, also when the
    // time limit ends the collection first.
    for (size_t s = 0; s < sensors; ++s) {
      if (!logs[s].described() && (time_up || elapsed_ns >= options.header_ms * 1'000'000)) {
        print("sensor-logger: {}: no complete stream header within {} ms\n", logs[s].name(), elapsed_ns / 1'000'000);
        return false;
      }
    }
    if (time_up) return true;
    console_device.poll_control();
    interrupt.wait_until(
        [&] {
          for (size_t s = 0; s < sensors; ++s) {
            if (logs[s].readable()) return true;
          }
          return false;
        },
        time::Deadline::after_ns(kWaitSliceNs));
  }
}

}  // namespace

int kernel_main() {
  Options options{};
  if (!parse_options(options)) return 1;
  virtio::MmioDeviceInfo info{};
  size_t index = 0;
  if (!virtio::find_device(virtio::ConsoleDevice::kDeviceId, info, index)) {
    print("sensor-logger: no virtio console announced, so no sensor ports\n");
    return 1;
  }
  if (!console_device.init(info)) {
    print("sensor-logger: console at {:#x} refused initialization (status {:#x})\n", info.base,
          console_device.status());
    return 1;
  }
  // Port names arrive with DEVICE_ADD (tilehv) or after our PORT_READY (QEMU): wait until it is quiet.
  console_device.settle(200'000'000, 2'000'000'000);
  uint32_t ids[kMaxSensors];
  const size_t sensors = sensor::find_ports(console_device, ids, kMaxSensors);
  if (sensors == 0) {
    print("sensor-logger: no sensor.* port among the console's {} ports\n", console_device.device_ports());
    return 1;
  }
  for (size_t s = 0; s < sensors; ++s) {
    if (!logs[s].open(console_device, ids[s], options.samples, rate_requests)) {
      print("sensor-logger: cannot open port {} ({})\n", ids[s], StrView(console_device.port(ids[s]).name));
      return 1;
    }
  }
  if (!requests_match(sensors)) return 1;

  virtio::DeviceInterrupt interrupt;
  interrupt.enable(info);  // without an IOAPIC pin the waits poll
  interrupt.set_spin_ns(kSpinNs);
  if (!collect(sensors, options, interrupt)) return 2;

  uint32_t channels = 0;
  uint64_t samples = 0;
  for (size_t s = 0; s < sensors; ++s) {
    logs[s].print_report();
    channels += logs[s].channel_count();
    samples += logs[s].samples_collected();
  }
  print("sensor-logger: done, {} sensors, {} channels, {} samples\n", sensors, channels, samples);
  return 0;
}
