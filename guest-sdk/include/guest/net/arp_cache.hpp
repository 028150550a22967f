// ARP cache: a few IPv4-to-MAC mappings, learned from ARP as RFC 826's merge rule allows.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>

namespace guest::net {

class ArpCache {
 public:
  static constexpr size_t kEntries = 8;

  [[nodiscard]] bool lookup(Ipv4Address ip, MacAddress& out) const;
  // Refreshes the entry of ip if there is one (RFC 826 "merge"); returns whether there was.
  bool update(Ipv4Address ip, const MacAddress& mac);
  // Refreshes or adds; when full, the entry added longest ago makes room.
  void insert(Ipv4Address ip, const MacAddress& mac);
  void clear();
  [[nodiscard]] size_t size() const;

 private:
  struct Entry {
    Ipv4Address ip;
    MacAddress mac;
    bool used;
  };
  Entry entries_[kEntries] = {};
  size_t next_victim_ = 0;
};

}  // namespace guest::net
