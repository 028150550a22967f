// tilehvd: the tile daemon. Turns a policy into running, jailed partitions, supervises them, hosts
// the I/O plane and serves the control API on a unix socket (docs/api.yaml).
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "api/http_server.hpp"
#include "daemon/api_routes.hpp"
#include "daemon/jailed_spawner.hpp"
#include "daemon/tile.hpp"

namespace {

using tilehv::daemon::PolicySource;

int fail(const std::string& message) {
  fmt::print(stderr, "tilehvd: error: {}\n", message);
  return 1;
}

// tilehv next to tilehvd (an installation), or where the build tree puts it.
std::string default_vmm_binary() {
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "tilehv";
  self[n] = '\0';
  const std::filesystem::path dir = std::filesystem::path(self).parent_path();
  for (const auto& candidate : {dir / "tilehv", dir / ".." / ".." / "hypervisor" / "tilehv"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return std::filesystem::weakly_canonical(candidate).string();
  }
  return (dir / "tilehv").string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tilehvd: the tile daemon: policies, jailed partitions, the I/O plane and the control API"};
  std::string socket_path, state_dir, policy_file, vmm_binary = default_vmm_binary(), socket_group;
  bool no_jail = false, stop_on_exit = false;
  uid_t uid_base = tilehv::daemon::TileOptions{}.uid_base;
  app.add_option("--socket", socket_path, "The control API's unix socket")->required();
  app.add_option("--state-dir", state_dir, "Where the journal, events and partitions' files live")->required();
  app.add_option("--policy", policy_file, "Apply this policy at start (JSON, or YAML by extension)");
  app.add_option("--vmm", vmm_binary, "The tilehv executable")->capture_default_str();
  app.add_option("--socket-group", socket_group, "Group that owns the API socket (mode 0660)");
  app.add_option("--uid-base", uid_base,
                 "Partitions' uids and gids start here, one per partition; give each daemon on a host its own range")
      ->capture_default_str()
      ->check(CLI::Range(static_cast<uid_t>(1000), static_cast<uid_t>(0x7fff0000)));
  app.add_flag("--no-jail", no_jail, "Development: run VMMs without their jail (only policies that allow it apply)");
  app.add_flag("--stop-on-exit", stop_on_exit,
               "Stop every partition when the daemon exits (by default they keep running and a restarted daemon re-adopts them)");
  app.set_version_flag("--version", "tilehvd 0.1.0");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  // Termination signals are read from a signalfd by the main thread; every other thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const int signals = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (signals < 0) return fail("signalfd failed");

  try {
    tilehv::daemon::TileOptions options;
    options.state_dir = std::filesystem::absolute(state_dir);
    options.vmm_binary = vmm_binary;
    options.jailed = !no_jail;
    options.uid_base = uid_base;
    if (no_jail) {
      options.spawner = tilehv::daemon::spawn_unjailed;
    } else {
      if (::geteuid() != 0) return fail("the jail needs root (use --no-jail for development without it)");
      auto cgroups = tilehv::jail::Cgroups::open();
      if (!cgroups) return fail("cgroups: " + cgroups.error());
      options.cgroups = std::make_shared<const tilehv::jail::Cgroups>(std::move(*cgroups));
      options.spawner = tilehv::daemon::make_jailed_spawner(options.cgroups);
    }
    auto tile = tilehv::daemon::Tile::open(std::move(options));
    if (!tile) return fail(tile.error());

    // /run/tilehv (tilectl's default) does not survive a reboot: the daemon makes its socket's folder.
    if (const auto folder = std::filesystem::path(socket_path).parent_path(); !folder.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(folder, ec);
      if (ec) return fail(fmt::format("cannot create {}: {}", folder.string(), ec.message()));
    }
    tilehv::api::UnixListenOptions listen;
    listen.path = socket_path;
    listen.group = socket_group;
    auto server = tilehv::api::HttpServer::listen(listen);
    if (!server) return fail(server.error());
    tilehv::daemon::install_routes(**server, **tile);
    if (auto started = (*server)->start(); !started) return fail(started.error());
    fmt::print(stderr, "tilehvd: serving on {} (state in {}{})\n", socket_path, state_dir, no_jail ? ", no jail" : "");

    if (!policy_file.empty()) {
      std::ifstream in(policy_file);
      if (!in) return fail("cannot read " + policy_file);
      std::stringstream text;
      text << in.rdbuf();
      const std::filesystem::path path = std::filesystem::absolute(policy_file);
      const std::string ext = path.extension().string();
      PolicySource source{text.str(), ext == ".yaml" || ext == ".yml" ? "yaml" : "json", path.filename().string(),
                          path.parent_path().string()};
      auto applied = (*tile)->apply(source);
      if (!applied) {
        fmt::print(stderr, "tilehvd: policy {} not applied: {}\n", policy_file, applied.error().message);
        if (applied.error().details.contains("errors")) {
          for (const auto& e : applied.error().details["errors"]) fmt::print(stderr, "  {}\n", e.value("message", e.dump()));
        }
      }
    }

    signalfd_siginfo info{};
    while (::read(signals, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
    }
    fmt::print(stderr, "tilehvd: signal {} received, exiting\n", info.ssi_signo);
    (*server)->stop();
    if (stop_on_exit) (void)(*tile)->stop_all();
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
