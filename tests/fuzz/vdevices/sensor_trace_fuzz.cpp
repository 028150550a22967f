// Fuzz target: the sensors' hostile inputs: trace files (CSV and JSON lines), the commands a guest
// writes to a sensor port, and sensor port state records (a snapshot file or a migration peer).
// Nothing may crash; an accepted trace must round-trip and replay record for record; the stream
// stays well-formed lines whatever the guest writes; a refused state leaves the port unchanged.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/command.hpp"
#include "sensors/sensor_port.hpp"
#include "sensors/synthetic_source.hpp"
#include "sensors/trace.hpp"
#include "sensors/trace_source.hpp"

namespace {

using namespace tilehv::vdevices::sensors;

// Small bounds so that the fuzzer reaches them.
constexpr TraceLimits kLimits{256, 512, 64 * 1024};

std::string drain(SensorPort& port) {
  std::string out;
  std::uint8_t buf[512];
  while (const std::size_t n = port.read(buf)) out.append(buf, buf + n);
  return out;
}

// Every line is complete and is metadata ('#') or a sample (a digit first).
void check_stream(std::string_view stream) {
  if (!stream.empty() && stream.back() != '\n') __builtin_trap();
  std::size_t start = 0;
  while (start < stream.size()) {
    const std::size_t end = stream.find('\n', start);
    const char first = stream[start];
    if (end == start || (first != '#' && (first < '0' || first > '9'))) __builtin_trap();
    start = end + 1;
  }
}

void fuzz_trace(std::string_view text, TraceFormat format) {
  auto trace = parse_trace(text, format, "fuzz", kLimits);
  if (!trace) {
    if (trace.error().kind != ErrorKind::trace || trace.error().message.find('\n') != std::string::npos) __builtin_trap();
    return;
  }
  for (std::size_t i = 0; i < trace->records.size(); ++i) {
    const TraceRecord& r = trace->records[i];
    const Channel& c = trace->sensor.channel(r.channel);
    if (r.value_milli < c.min_milli || r.value_milli > c.max_milli) __builtin_trap();
    if (i > 0 && r.timestamp_ns < trace->records[i - 1].timestamp_ns) __builtin_trap();
  }
  for (const TraceFormat again_format : {TraceFormat::csv, TraceFormat::jsonl}) {
    auto again = parse_trace(format_trace(*trace, again_format), again_format, "again", TraceLimits{});
    if (!again || again->records != trace->records || trace_digest(*again) != trace_digest(*trace)) __builtin_trap();
  }
  const std::size_t records = trace->records.size();
  auto port = SensorPort::create(TraceSource::create(std::move(*trace)), PortOptions{1 << 16});
  if (!port || !(*port)->advance_to(UINT64_MAX)) __builtin_trap();
  const std::string stream = drain(**port);
  check_stream(stream);
  if ((*port)->metrics().samples_delivered != records) __builtin_trap();
}

void fuzz_commands(std::span<const std::uint8_t> bytes) {
  auto port = SensorPort::create(*SyntheticSource::create(*Sensor::create(SensorSpec{"p0", SensorKind::piezo, 4}), {}),
                                 PortOptions{64});
  std::string stream;
  std::uint64_t now = 0;
  // The input is both the guest's bytes and, through its values, the fragment sizes.
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t piece = std::min<std::size_t>(bytes.size() - pos, bytes[pos] % 64 + 1);
    const std::size_t taken = (*port)->write(bytes.subspan(pos, piece));
    if (taken > piece) __builtin_trap();
    pos += taken;
    now += 3'000'000;
    if (!(*port)->advance_to(now)) __builtin_trap();
    stream += drain(**port);
  }
  check_stream(stream);
  // Each line on its own through the parser too; its error must be one printable line.
  // SAFETY: the fuzz input viewed as chars, same storage and length.
  std::string_view rest(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    auto command = parse_command(rest.substr(0, end));
    if (!command && command.error().find('\n') != std::string::npos) __builtin_trap();
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  }
}

void fuzz_state(std::span<const std::uint8_t> bytes) {
  auto port = SensorPort::create(*SyntheticSource::create(*Sensor::create(SensorSpec{"thermal0", SensorKind::thermal, 4}), {}),
                                 PortOptions{64});
  if (!(*port)->advance_to(5'000'000'000)) __builtin_trap();
  const tilehv::vdevices::DeviceState before = (*port)->save_state();
  tilehv::vdevices::DeviceState state{"sensor-port", 1, std::vector<std::uint8_t>(bytes.begin(), bytes.end())};
  if (!(*port)->restore_state(state)) {
    if ((*port)->save_state().payload != before.payload) __builtin_trap();
    return;
  }
  const tilehv::vdevices::DeviceState again = (*port)->save_state();
  if (!(*port)->restore_state(again)) __builtin_trap();
  // A hostile record may carry any text as queued lines; reading it back must still be safe.
  (void)(*port)->advance_to(10'000'000'000);
  (void)drain(**port);
}

}  // namespace

// Input: byte 0 picks the target (trace CSV, trace JSON lines, guest commands, port state).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  // SAFETY: the fuzz input viewed as chars, same storage and length.
  const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
  switch (data[0] % 4) {
    case 0: fuzz_trace(text, TraceFormat::csv); break;
    case 1: fuzz_trace(text, TraceFormat::jsonl); break;
    case 2: fuzz_commands(rest); break;
    default: fuzz_state(rest); break;
  }
  return 0;
}
