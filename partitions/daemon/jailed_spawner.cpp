// The jailed spawner: see jailed_spawner.hpp.
#include "daemon/jailed_spawner.hpp"

#include <fcntl.h>

#include <cerrno>

#include "jail/spawn.hpp"
#include "util/errno_text.hpp"

namespace tilehv::daemon {

jail::CgroupLimits cgroup_limits(const SpawnRequest& request) {
  jail::CgroupLimits limits;
  limits.cpus = request.cpus;
  limits.cpu_weight = request.cpu_weight;
  limits.memory_bytes = request.memory_limit_bytes;
  limits.pids = request.pids_limit;
  return limits;
}

Spawner make_jailed_spawner(std::shared_ptr<const jail::Cgroups> cgroups) {
  return [cgroups](SpawnRequest& request) -> tl::expected<SpawnedProcess, std::string> {
    jail::JailSpec spec;
    spec.name = request.name;
    spec.new_net = !request.host_network;
    spec.cgroup = cgroup_limits(request);
    spec.keep_fds = {request.plane_link.get()};
    spec.stderr_fd = request.log.get();
    auto process = jail::spawn_jailed(*cgroups, spec, request.argv);
    if (!process) return tl::unexpected(process.error());
    // The supervisor keeps its own pidfd; the JailedProcess closes its copy when it goes.
    util::UniqueFd pidfd(::fcntl(process->pidfd(), F_DUPFD_CLOEXEC, 0));
    if (!pidfd) return tl::unexpected("pidfd: " + util::errno_text(errno));
    return SpawnedProcess{process->pid(), std::move(pidfd)};
  };
}

}  // namespace tilehv::daemon
