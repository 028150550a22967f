// IoPlane: the tile's I/O plane (ARCHITECTURE.md): it hands VMMs their ports over plane links and
// moves frames between the ports of its L2 switch, on one thread of its own.
//
// A VMM is never trusted: a malformed request is refused, a port whose ring the VMM corrupts is cut
// off (and counted), and a VMM that goes away takes only its own ports with it.
#pragma once

#include <atomic>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "ioplane/channel_router.hpp"
#include "ioplane/host_channel.hpp"
#include "ioplane/l2_switch.hpp"
#include "ioplane/sensor_feed.hpp"
#include "ioplane/uplink_tap.hpp"
#include "port/plane_link.hpp"
#include "port/port_endpoint.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::ioplane {

// A network port the plane will grant: its name, the address the switch enforces, its MTU, and
// whom it may talk to.
struct PlaneNetPort {
  std::string name;
  MacAddress mac;
  std::uint16_t mtu = 1500;
  AllowList allow;
};

// A channel port (virtio-vsock) the plane will grant, with the partition's CID.
struct PlaneVsockPort {
  std::string name;
  std::uint64_t cid = 0;
};

// Rate bounds a partition's policy narrows sensors to, by console port name ("sensor.<name>").
using SensorRateBounds = std::map<std::string, RateBoundsMhz>;

struct PlaneConfig {
  std::vector<PlaneNetPort> net_ports;
  std::vector<PlaneVsockPort> vsock_ports;
  std::vector<ChannelDeclaration> channels;
  std::vector<PlaneSensor> sensors;  // each served on the console port sensor.<name>
  std::optional<PlaneUplink> uplink;  // the switch's port "uplink", on a host TAP
  vdevices::port::PortConfig ring;  // for network ports
};

struct PlaneMetrics {
  std::atomic<std::uint64_t> links_accepted{0};
  std::atomic<std::uint64_t> requests_refused{0};
  std::atomic<std::uint64_t> ports_cut_off{0};  // a VMM corrupted the port's ring
  std::atomic<std::uint64_t> ports_reattached{0};  // handed back by VMMs of an earlier plane
};

class IoPlane {
 public:
  [[nodiscard]] static tl::expected<std::unique_ptr<IoPlane>, std::string> create(PlaneConfig config);
  ~IoPlane();
  IoPlane(const IoPlane&) = delete;
  IoPlane& operator=(const IoPlane&) = delete;

  // Accepts plane links on a unix socket at `path` (created; an existing socket file is replaced).
  [[nodiscard]] tl::expected<void, std::string> listen(const std::string& path);
  // A plane link for one VMM without a filesystem path: returns the VMM's end of a socket pair.
  [[nodiscard]] tl::expected<util::UniqueFd, std::string> open_link();
  // The same for one partition, which may be granted only the ports in `grants` ("net:NAME",
  // "vsock:NAME", "console:NAME"): what its policy gives it, whatever its VMM asks for.
  [[nodiscard]] tl::expected<util::UniqueFd, std::string> open_link(std::set<std::string> grants);
  // The same, with the rate bounds its policy gives the partition's sensor streams.
  [[nodiscard]] tl::expected<util::UniqueFd, std::string> open_link(std::set<std::string> grants, SensorRateBounds rates);
  // While held, ports are granted and handed back but not served: a restarted daemon holds the
  // plane until every re-adopted VMM has handed its ports back, so that a frame queued for a
  // partition whose port is not back yet is not dropped. Release serves them all.
  void hold_traffic();
  void release_traffic();
  // Replaces what the plane grants from now on (a policy was applied). Live ports keep running;
  // network ports take their new allow-lists, and the channel declarations are replaced. An uplink
  // is added, removed, or moved to another TAP (opened before the old one is let go); if its TAP
  // cannot be opened nothing changes and the error says why.
  [[nodiscard]] tl::expected<void, std::string> reconfigure(PlaneConfig config);

  // Counters of a switch port: live while a VMM holds it, its last values after the VMM left;
  // nullopt if no VMM ever held it.
  [[nodiscard]] std::optional<SwitchPortCounters> counters(const std::string& port) const;
  // What the uplink dropped itself (its switch port's counters are counters("uplink")): live, or
  // the last values after it was removed; nullopt if the plane never had one.
  [[nodiscard]] std::optional<UplinkCounters> uplink_counters() const;
  // Counters of a channel port (live, or the last values after its VMM left).
  [[nodiscard]] std::optional<EndpointCounters> channel_counters(const std::string& port) const;
  // The tile's own end of its channels (CID 2, "host" in channel declarations): `use` runs on the
  // caller's thread with the plane held still; packets it leaves to send go out when it returns.
  void with_host_channel(const std::function<void(HostChannel&)>& use);
  // Counters of a sensor's port (live, or the last values after its VMM left).
  [[nodiscard]] std::optional<vdevices::sensors::PortMetrics> sensor_counters(const std::string& port) const;
  // The allow-list of a port, now and for later grants.
  void set_allow_list(const std::string& port, AllowList allow);
  [[nodiscard]] const PlaneMetrics& metrics() const noexcept { return metrics_; }

 private:
  struct Connection;
  struct LivePort;
  struct Uplink {
    UplinkTap tap;
    SwitchPortId port;
    bool watched = false;
  };
  static constexpr std::uint64_t kUplinkToken = 4;  // epoll token of the uplink's TAP
  // A busy port (or the uplink) yields to the others after this many frames; it is looked at again
  // next round.
  static constexpr int kFramesPerTurn = 256;
  explicit IoPlane(PlaneConfig config);
  [[nodiscard]] tl::expected<void, std::string> start();
  void run() noexcept;
  [[nodiscard]] tl::expected<util::UniqueFd, std::string> open_link_for(std::optional<std::set<std::string>> grants,
                                                                        SensorRateBounds rates);
  void add_connection(util::UniqueFd socket, std::optional<std::set<std::string>> grants, SensorRateBounds rates);
  void serve_connection(std::uint64_t id);
  void close_connection(std::uint64_t id);
  void serve_port(std::uint64_t id);
  // What a port request may have: its configuration, attributes, ring geometry and sensor feed.
  struct Admission {
    const PlaneNetPort* net = nullptr;
    const PlaneVsockPort* channel = nullptr;
    std::unique_ptr<SensorFeed> feed;
    std::map<std::string, std::string> attributes;
    vdevices::port::PortConfig ring;
  };
  [[nodiscard]] tl::expected<Admission, std::string> admit(const Connection& connection,
                                                           const vdevices::port::PortRequest& request);
  // Puts an admitted port's plane endpoint on the switch, the router or its sensor; returns its id.
  [[nodiscard]] tl::expected<std::uint64_t, std::string> install(Connection& connection, std::uint64_t connection_id,
                                                                 const vdevices::port::PortRequest& request,
                                                                 Admission& admission, vdevices::port::PortEndpoint endpoint);
  void grant(Connection& connection, std::uint64_t connection_id, const vdevices::port::PortRequest& request);
  // A port a VMM held with an earlier plane, handed back with its descriptors.
  void reattach(Connection& connection, std::uint64_t connection_id, const vdevices::port::PortRequest& request,
                std::vector<util::UniqueFd> fds);
  // One turn of a port: false if it was cut off.
  [[nodiscard]] bool forward_frame(SwitchPortId in, std::span<const std::uint8_t> frame);
  [[nodiscard]] bool route_packet(std::uint64_t id, LivePort& in, std::span<const std::uint8_t> packet);
  void cut_off(std::uint64_t port_id, const std::string& why);
  void remove_port(std::uint64_t port_id);
  void tick();
  void flush_host_channel();
  void update_timer();
  void serve_sensor(std::uint64_t id, LivePort& port);
  [[nodiscard]] bool watch(int fd, std::uint64_t token);
  // The uplink (io_plane_uplink.cpp); all with mutex_ held.
  [[nodiscard]] tl::expected<void, std::string> configure_uplink(const std::optional<PlaneUplink>& wanted,
                                                                 const std::vector<PlaneNetPort>& net_ports);
  void install_uplink(UplinkTap tap);
  void remove_uplink();
  void cut_off_uplink(const std::string& why);
  void watch_uplink(bool on);
  void serve_uplink();
  void send_to_uplink(std::span<const std::uint8_t> frame);

  PlaneConfig config_;
  util::UniqueFd epoll_;
  util::UniqueFd stop_;
  util::UniqueFd listener_;
  util::UniqueFd timer_;  // paces the sensors
  std::thread thread_;

  mutable std::mutex mutex_;  // guards the switch and the tables below against the API's readers
  L2Switch switch_;
  ChannelRouter router_;
  std::optional<HostChannel> host_;
  EndpointId host_endpoint_ = 0;
  std::map<EndpointId, std::uint64_t> port_of_endpoint_;
  std::map<std::string, EndpointCounters> retired_channels_;
  std::map<std::string, vdevices::sensors::PortMetrics> retired_sensors_;
  std::map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::map<std::uint64_t, std::unique_ptr<LivePort>> ports_;
  std::map<SwitchPortId, std::uint64_t> port_of_switch_port_;
  std::map<std::string, SwitchPortCounters> retired_;  // ports whose VMM left, by name
  std::optional<Uplink> uplink_;
  std::optional<UplinkCounters> retired_uplink_;
  std::uint64_t next_id_ = 1;
  bool timer_armed_ = false;
  bool traffic_held_ = false;
  std::vector<std::uint64_t> unwatched_ports_;  // installed while traffic was held
  std::vector<util::UniqueFd> pending_links_;  // links opened by open_link() before the thread picks them up
  std::vector<std::uint8_t> frame_;
  std::vector<SwitchPortId> egress_;
  PlaneMetrics metrics_;
};

}  // namespace tilehv::ioplane
