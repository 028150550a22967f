// PlaneBinding: what a policy asks of the I/O plane: the ports it may grant (network ports named after
// their partitions, channel ports, sensor streams), the declared channels, and for each partition
// the ports its VMM may hold and ask for.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "ioplane/io_plane.hpp"
#include "policy/policy.hpp"

namespace tilehv::daemon {

struct PartitionPorts {
  std::set<std::string> grants;            // for IoPlane::open_link
  ioplane::SensorRateBounds sensor_rates;  // the policy's rateHz of its sensors
  std::vector<std::string> vmm_arguments;  // --net port:..., --vsock port:..., --console-port ...
};

struct PlaneBinding {
  ioplane::PlaneConfig config;
  std::map<std::string, PartitionPorts> partitions;
};

// The switch port, channel port and MAC of a partition are derived from its name, so they stay the
// same across applies that do not touch the partition.
[[nodiscard]] vdevices::MacAddress derived_mac(const std::string& partition);
[[nodiscard]] std::uint64_t derived_cid(const std::string& partition);

// Fails if two partitions would share a derived MAC or CID (then one must set its own).
[[nodiscard]] tl::expected<PlaneBinding, std::string> bind_plane(const policy::Policy& policy);
// The plane while an apply moves from `before` to `after`: it must grant the ports of both.
[[nodiscard]] ioplane::PlaneConfig merged(const ioplane::PlaneConfig& before, const ioplane::PlaneConfig& after);

}  // namespace tilehv::daemon
