// The spawner that puts each partition's VMM in its jail (hypervisor/jail/, docs/jail.md): fresh
// namespaces, its own cgroup with the partition's limits, and `tilehv run --jail ...` to finish the
// job from inside once its VM exists.
#pragma once

#include <memory>

#include "daemon/vmm_process.hpp"
#include "jail/cgroup.hpp"

namespace tilehv::daemon {

[[nodiscard]] Spawner make_jailed_spawner(std::shared_ptr<const jail::Cgroups> cgroups);
[[nodiscard]] jail::CgroupLimits cgroup_limits(const SpawnRequest& request);

}  // namespace tilehv::daemon
