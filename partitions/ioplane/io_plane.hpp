// IoPlane: the tile's I/O plane (ARCHITECTURE.md): it hands VMMs their ports over plane links and
// moves frames between the ports of its L2 switch, on one thread of its own.
//
// A VMM is never trusted: a malformed request is refused, a port whose ring the VMM corrupts is cut
// off (and counted), and a VMM that goes away takes only its own ports with it.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
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

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "ioplane/channel_router.hpp"
#include "ioplane/host_channel.hpp"
#include "ioplane/l2_switch.hpp"
#include "ioplane/sensor_feed.hpp"
#include "ioplane/shadow_session.hpp"
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
  // The same, with the rate bounds its policy gives the partition's sensor streams. `held`: its
  // ports start held (their inputs queued) until begin_mirroring() or release_partition(): a
  // partition started with a shadow gets its first input when its shadow does.
  [[nodiscard]] tl::expected<util::UniqueFd, std::string> open_link(std::set<std::string> grants, SensorRateBounds rates,
                                                                    bool held = false);
  // Releases the held ports among `grants` (a partition's shadow did not start).
  void release_partition(const std::set<std::string>& grants);
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

  // --- Shadow partitions (io_plane_shadow.cpp; docs/design/shadows.md) ---
  // A plane link for a shadow's VMM. It may ask for the ports in `grants` (its live partition's);
  // the plane installs them as mirrors of the live partition's ports: never on the switch, the
  // router or a sensor, and what the shadow sends goes to its comparator only.
  [[nodiscard]] tl::expected<util::UniqueFd, std::string> open_shadow_link(policy::Shadow spec, std::set<std::string> grants);
  // Holds the live partition's inputs until it reaches an input boundary (its rings read, its
  // outputs quiet), at most `timeout`, then mirrors and compares from there.
  [[nodiscard]] tl::expected<void, std::string> begin_mirroring(const std::string& shadow, std::chrono::milliseconds timeout);
  // Ends the comparison with a fault the daemon saw (the shadow's VMM ended) or an operator's abort.
  void shadow_fault(const std::string& shadow, const std::string& kind, const std::string& detail);
  void stop_shadow(const std::string& shadow, const std::string& why);
  // At an input boundary of both sides: the shadow's records beyond the live partition's are
  // released, the live partition's beyond the shadow's are owed (the new live partition's next
  // ones are not sent), and the shadow's ports take the live partition's places. Returns what was
  // settled per stream.
  [[nodiscard]] tl::expected<nlohmann::json, std::string> promote_shadow(const std::string& shadow,
                                                                         std::chrono::milliseconds timeout);
  // After a promotion: the previous live partition's ports take their places back, at an input
  // boundary of the promoted one.
  [[nodiscard]] tl::expected<void, std::string> roll_back_shadow(const std::string& shadow, std::chrono::milliseconds timeout);
  // Drops the session (after its VMM and evidence are no longer needed).
  void forget_shadow(const std::string& shadow);
  // Runs `use` with the session while the plane holds still; false if there is no such shadow.
  bool with_shadow(const std::string& shadow, const std::function<void(ShadowSession&)>& use);
  [[nodiscard]] const PlaneMetrics& metrics() const noexcept { return metrics_; }

 private:
  struct Connection {
    util::UniqueFd socket;
    std::vector<std::uint64_t> ports;
    std::optional<std::set<std::string>> grants;  // "kind:name" this link may hold; nullopt: any
    SensorRateBounds rates;                        // its sensor streams' rate bounds
    std::string shadow;                            // a shadow's VMM: its ports are mirrors
    bool held = false;                             // its ports start held
  };
  struct LivePort {
    enum class Kind { kNet, kChannel, kSensor };
    std::uint64_t connection;
    Kind kind;
    SwitchPortId switch_port;  // kNet
    EndpointId endpoint_id;    // kChannel
    std::string name;
    vdevices::port::PortEndpoint endpoint;
    std::unique_ptr<SensorFeed> feed;  // kSensor
    std::chrono::steady_clock::time_point epoch{};
    // A live partition's port: its shadow's mirror of it, the inputs queued while the partition is
    // held at an input boundary, and records it owes since a promotion (not sent).
    std::optional<std::uint64_t> mirror{};
    bool held = false;
    std::deque<std::vector<std::uint8_t>> held_inputs{};
    std::uint64_t owed = 0;
    // Mirrored inputs its partition has not read yet: where each ends in the ring, and the number of
    // inputs delivered with it (bounded: the oldest are forgotten).
    std::deque<std::pair<std::uint64_t, std::uint64_t>> unread_inputs{};
    std::uint64_t inputs_read = 0;  // the number of inputs delivered with the last of them it read
    // A shadow's mirror port: its session (null once forgotten), mirrored inputs its ring had no
    // room for, whether it waits for the next line of a sensor stream it joined mid-line, and
    // whether its outputs are no longer read.
    bool is_mirror = false;
    ShadowSession* session = nullptr;
    std::deque<std::vector<std::uint8_t>> backlog{};
    std::size_t backlog_bytes = 0;
    bool skip_to_line = false;
    bool muted = false;
    std::uint64_t last_output_ns = 0;  // while held or mirrored: the boundary waits for quiet
  };
  struct Uplink {
    UplinkTap tap;
    SwitchPortId port;
    bool watched = false;
  };
  static constexpr std::uint64_t kUplinkToken = 4;  // epoll token of the uplink's TAP
  static constexpr std::uint64_t kPortBase = 1ULL << 48;  // epoll tokens of ports: this plus their ids
  // A busy port (or the uplink) yields to the others after this many frames; it is looked at again
  // next round.
  static constexpr int kFramesPerTurn = 256;
  explicit IoPlane(PlaneConfig config);
  [[nodiscard]] tl::expected<void, std::string> start();
  void run() noexcept;
  [[nodiscard]] tl::expected<util::UniqueFd, std::string> open_link_for(std::optional<std::set<std::string>> grants,
                                                                        SensorRateBounds rates, bool held = false);
  // Watches a plane link's socket and keeps it; its id, or nullopt if it cannot be watched.
  std::optional<std::uint64_t> add_connection(util::UniqueFd socket, std::optional<std::set<std::string>> grants,
                                              SensorRateBounds rates, bool held = false);
  // The two ends of a new plane link: the plane's and the VMM's.
  [[nodiscard]] static tl::expected<std::pair<util::UniqueFd, util::UniqueFd>, std::string> link_pair();
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
  // Shadows (io_plane_shadow.cpp); all with mutex_ held.
  static constexpr std::size_t kMaxHeldInputs = 4096;  // per port while its partition is held
  // An input record for a port: queued while it is held; once in its ring, mirrored to its shadow.
  [[nodiscard]] tl::expected<vdevices::port::PushResult, vdevices::port::RingError> deliver(LivePort& port,
                                                                                            std::span<const std::uint8_t> bytes);
  void mirror_input(LivePort& live, std::span<const std::uint8_t> bytes);
  void record_live_output(LivePort& live, std::span<const std::uint8_t> bytes);
  void serve_mirror(std::uint64_t id, LivePort& mirror);
  void flush_backlog(std::uint64_t id, LivePort& mirror);
  void link_mirror(std::uint64_t mirror_id);
  [[nodiscard]] std::optional<std::uint64_t> live_port_named(LivePort::Kind kind, const std::string& name,
                                                             std::uint64_t connection) const;
  // The live partition's plane link: the link of no shadow whose grants are the session's.
  [[nodiscard]] std::optional<std::uint64_t> find_live_connection(const ShadowSession& session) const;
  [[nodiscard]] ShadowSession* session_named(const std::string& shadow);
  // The ports of a session: pairs of (live port, its mirror) linked now.
  [[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint64_t>> mirror_pairs(const ShadowSession& session) const;
  [[nodiscard]] std::vector<std::uint64_t> hold_partition_ports(const ShadowSession& session);
  void release_ports(const std::vector<std::uint64_t>& ids);
  // Polls (taking and leaving mutex_) until every port in `ids` has its inbound ring read, its
  // backlog empty and its outputs quiet; the caller does not hold mutex_.
  [[nodiscard]] tl::expected<void, std::string> wait_for_boundary(const std::vector<std::uint64_t>& ids,
                                                                 std::chrono::milliseconds timeout);
  void swap_ports(std::uint64_t a, std::uint64_t b);
  void tick_shadows();
  [[nodiscard]] std::uint64_t now_ns() const;

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
  std::map<std::string, std::unique_ptr<ShadowSession>> shadows_;
  std::chrono::steady_clock::time_point plane_epoch_ = std::chrono::steady_clock::now();
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
