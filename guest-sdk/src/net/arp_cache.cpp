// ARP cache: a few IPv4-to-MAC mappings, learned from ARP as RFC 826's merge rule allows.
#include <guest/net/arp_cache.hpp>

namespace guest::net {

bool ArpCache::lookup(Ipv4Address ip, MacAddress& out) const {
  for (const Entry& e : entries_) {
    if (e.used && e.ip == ip) {
      out = e.mac;
      return true;
    }
  }
  return false;
}

bool ArpCache::update(Ipv4Address ip, const MacAddress& mac) {
  for (Entry& e : entries_) {
    if (e.used && e.ip == ip) {
      e.mac = mac;
      return true;
    }
  }
  return false;
}

void ArpCache::insert(Ipv4Address ip, const MacAddress& mac) {
  if (update(ip, mac)) return;
  for (Entry& e : entries_) {
    if (!e.used) {
      e = Entry{ip, mac, true};
      return;
    }
  }
  entries_[next_victim_] = Entry{ip, mac, true};
  next_victim_ = (next_victim_ + 1) % kEntries;
}

void ArpCache::clear() {
  for (Entry& e : entries_) e.used = false;
  next_victim_ = 0;
}

size_t ArpCache::size() const {
  size_t n = 0;
  for (const Entry& e : entries_) n += e.used ? 1 : 0;
  return n;
}

}  // namespace guest::net
