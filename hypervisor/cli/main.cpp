// tilehv: the VMM process of one partition. `tilehv run` boots a kernel stand-alone.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/run_command.hpp"
#include "cli/run_options.hpp"
#include "jail/jail_options.hpp"
#include "vmm/exit_status.hpp"

namespace {

int usage_error(const std::string& message) {
  fmt::print(stderr, "tilehv: error: {}\n", message);
  return tilehv::vmm::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tilehv: the tile hypervisor's VMM; runs one partition"};
  app.set_version_flag("--version", "tilehv 0.1.0");
  app.require_subcommand(1);

  std::string kernel, memory = "64M", cmdline, console = "stdout", console_limit = "64M", timeout;
  std::uint32_t vcpus = 1;
  std::vector<std::string> modules;
  bool rng = false;
  std::optional<std::uint64_t> rng_seed;
  std::vector<std::string> nets;
  std::string plane;
  std::string vsock;
  std::vector<std::string> console_ports;
  std::string control, end_report;
  std::string jail;
  CLI::App* run = app.add_subcommand("run", "Boot a PVH kernel and stream its console until it exits");
  run->add_option("--kernel", kernel, "PVH ELF kernel image")->required();
  run->add_option("--memory", memory, "Guest RAM: 64M, 1G, ... (a bare number is MiB)")->capture_default_str();
  run->add_option("--vcpus", vcpus, "Number of vCPUs (1-254)")->capture_default_str();
  run->add_option("--cmdline", cmdline, "Kernel command line");
  run->add_option("--module", modules, "A file handed to the guest as a PVH module (repeatable)");
  run->add_option("--console", console, "Console output: stdout or file:PATH")->capture_default_str();
  run->add_option("--console-limit", console_limit, "A console file stops growing at this size (4K to 1G)")
      ->capture_default_str();
  run->add_option("--timeout", timeout, "Stop the guest after this many seconds");
  run->add_flag("--rng", rng, "Attach a virtio entropy device (bytes from the host's CSPRNG)");
  run->add_option("--rng-seed", rng_seed, "Attach a virtio entropy device with a deterministic stream from this seed");
  run->add_option("--net", nets, "Attach a virtio network device: port:NAME (the tile switch) or tap:NAME[,mac=..][,mtu=..] (repeatable)");
  run->add_option("--vsock", vsock, "Attach a virtio socket device on a channel port of the tile: port:NAME");
  run->add_option("--console-port", console_ports,
                  "Attach a virtio console with this named port from the I/O plane, e.g. sensor.thermal0 (repeatable)");
  run->add_option("--plane", plane, "The I/O plane's socket PATH, or fd:N for an inherited plane link");
  run->add_option("--control", control, "Serve a control socket at PATH (status, pause, resume, stop)");
  run->add_option("--end-report", end_report, "Write why the VM ended to PATH, as JSON");
  run->add_option("--jail", jail,
                  "uid=N,gid=N: started jailed by tilehvd in fresh namespaces; enter the jail once the VM is made");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::puts("tilehv 0.1.0");
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }

  try {
    tilehv::cli::RunRequest request;
    request.vmm.kernel_path = kernel;
    request.vmm.vcpus = vcpus;
    request.vmm.cmdline = cmdline;
    request.vmm.module_paths = modules;
    request.vmm.entropy_device = rng || rng_seed.has_value();
    request.vmm.entropy_seed = rng_seed;
    for (const std::string& text : nets) {
      auto net = tilehv::cli::parse_net(text);
      if (!net) return usage_error(net.error());
      request.vmm.net_devices.push_back(*net);
    }
    request.plane = plane;
    request.control_path = control;
    request.end_report_path = end_report;
    if (!jail.empty()) {
      auto options = tilehv::jail::parse_jail_ids(jail);
      if (!options) return usage_error(options.error());
      request.jail = *options;
    }
    request.vmm.console_ports = console_ports;
    if (!vsock.empty()) {
      if (!vsock.starts_with("port:") || vsock.size() == 5) return usage_error("vsock '" + vsock + "' is not 'port:NAME'");
      request.vmm.vsock_port = vsock.substr(5);
    }
    auto mem = tilehv::cli::parse_memory_size(memory);
    if (!mem) return usage_error(mem.error());
    request.vmm.memory_bytes = *mem;
    auto target = tilehv::cli::parse_console(console);
    if (!target) return usage_error(target.error());
    request.console = *target;
    auto limit = tilehv::cli::parse_console_limit(console_limit);
    if (!limit) return usage_error(limit.error());
    request.console_limit_bytes = *limit;
    if (!timeout.empty()) {
      auto t = tilehv::cli::parse_timeout(timeout);
      if (!t) return usage_error(t.error());
      request.timeout_seconds = *t;
    }
    return tilehv::cli::run_partition(std::move(request));
  } catch (const std::exception& e) {
    fmt::print(stderr, "tilehv: error: {}\n", e.what());
    return tilehv::vmm::kExitHostError;
  }
}
