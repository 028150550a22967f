// Tests for cpuid_for_vcpu: the per-vCPU CPUID table (APIC id, topology, hypervisor and timing leaves).
#include "cpu/cpuid.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace tilehv::cpu {
namespace {

using kvm::CpuidEntry;
using kvm::kCpuidIndexSignificant;

constexpr std::uint32_t kTscKhz = 2'995'200;

constexpr std::uint32_t kHostLeaf1Ecx = 0x7ffafbffU;  // no hypervisor bit, as on bare metal
constexpr std::uint32_t kHostLeaf1Edx = 0xbfebfbffU;  // HTT set
constexpr std::uint32_t kHostLeaf1Ebx = 0x07100803U;  // host APIC id 7, 16 logical, brand index 3

// What KVM_GET_SUPPORTED_CPUID returns on an Intel host, trimmed to the leaves that matter here.
std::vector<CpuidEntry> host_table(bool with_v2_topology = true, bool with_hypervisor_leaf = true) {
  std::vector<CpuidEntry> t;
  t.push_back({0, 0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69});  // "GenuineIntel"
  t.push_back({1, 0, 0, 0x000906ea, kHostLeaf1Ebx, kHostLeaf1Ecx, kHostLeaf1Edx});
  // Leaf 4: L1d, L1i, L2, L3 (cache type and level in EAX[7:0], host core and sharing counts above).
  t.push_back({4, 0, kCpuidIndexSignificant, 0x1c004121, 0x01c0003f, 0x0000003f, 0});
  t.push_back({4, 1, kCpuidIndexSignificant, 0x1c004122, 0x01c0003f, 0x0000003f, 0});
  t.push_back({4, 2, kCpuidIndexSignificant, 0x1c004143, 0x00c0003f, 0x000003ff, 0});
  t.push_back({4, 3, kCpuidIndexSignificant, 0x1c03c163, 0x03c0003f, 0x00002fff, 6});
  // The host's own topology, stale for any partition.
  t.push_back({0xb, 0, kCpuidIndexSignificant, 1, 2, 0x100, 7});
  t.push_back({0xb, 1, kCpuidIndexSignificant, 4, 16, 0x201, 7});
  if (with_v2_topology) {
    t.push_back({0x1f, 0, kCpuidIndexSignificant, 1, 2, 0x100, 7});
    t.push_back({0x1f, 1, kCpuidIndexSignificant, 4, 16, 0x201, 7});
  }
  if (with_hypervisor_leaf) {
    t.push_back({0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d});  // "KVMKVMKVM"
    t.push_back({0x40000001, 0, 0, 0x01007afb, 0, 0, 0});
  }
  t.push_back({0x80000000, 0, 0, 0x80000008, 0, 0, 0});
  t.push_back({0x80000008, 0, 0, 0x00003027, 0, 0x00037007, 0});
  return t;
}

std::vector<const CpuidEntry*> all_of(const std::vector<CpuidEntry>& t, std::uint32_t function) {
  std::vector<const CpuidEntry*> out;
  for (const CpuidEntry& e : t) {
    if (e.function == function) out.push_back(&e);
  }
  return out;
}

// The one entry for (function, index); fails the test if there is not exactly one.
const CpuidEntry& entry(const std::vector<CpuidEntry>& t, std::uint32_t function, std::uint32_t index = 0) {
  const CpuidEntry* found = nullptr;
  int matches = 0;
  for (const CpuidEntry& e : t) {
    if (e.function == function && e.index == index) {
      found = &e;
      ++matches;
    }
  }
  EXPECT_EQ(matches, 1) << std::hex << "leaf " << function << " subleaf " << index;
  static const CpuidEntry kMissing{};
  return found != nullptr ? *found : kMissing;
}

bool same(const CpuidEntry& a, const CpuidEntry& b) {
  return a.function == b.function && a.index == b.index && a.flags == b.flags && a.eax == b.eax &&
         a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

std::vector<CpuidEntry> for_vcpu(std::uint32_t index, std::uint32_t count,
                                 const std::vector<CpuidEntry>& host = host_table()) {
  return cpuid_for_vcpu(host, VcpuTopology{index, count}, kTscKhz);
}

TEST(CpuidTest, Leaf1CarriesEachVcpusApicIdAndTheLogicalCount) {
  for (std::uint32_t index = 0; index < 4; ++index) {
    const auto t = for_vcpu(index, 4);
    const CpuidEntry& e = entry(t, 1);
    EXPECT_EQ(e.ebx >> 24, index) << "APIC id";
    EXPECT_EQ((e.ebx >> 16) & 0xff, 4U) << "logical processors per package";
    EXPECT_EQ((e.ebx >> 8) & 0xff, 8U) << "CLFLUSH line size in 8-byte units";
    EXPECT_EQ(e.ebx & 0xff, kHostLeaf1Ebx & 0xff) << "brand index kept";
    EXPECT_EQ(e.eax, 0x000906eaU) << "signature kept";
  }
}

TEST(CpuidTest, Leaf1ApicIdForLargePartitions) {
  const auto t = for_vcpu(253, 254);
  EXPECT_EQ(entry(t, 1).ebx >> 24, 253U);
  EXPECT_EQ((entry(t, 1).ebx >> 16) & 0xff, 254U);
}

TEST(CpuidTest, Leaf1LogicalCountSaturatesAt255) {
  const auto t = for_vcpu(0, 300);
  EXPECT_EQ((entry(t, 1).ebx >> 16) & 0xff, 255U);
}

TEST(CpuidTest, Leaf1SetsTheHypervisorBitAndKeepsOtherFeatures) {
  for (std::uint32_t count : {1U, 2U}) {
    const auto t = for_vcpu(0, count);
    const CpuidEntry& e = entry(t, 1);
    EXPECT_EQ(e.ecx, kHostLeaf1Ecx | (1U << 31)) << count;
    EXPECT_EQ(e.edx & ~(1U << 28), kHostLeaf1Edx & ~(1U << 28)) << count;
  }
}

TEST(CpuidTest, HttOnlyWithMoreThanOneVcpu) {
  EXPECT_EQ(entry(for_vcpu(0, 1), 1).edx & (1U << 28), 0U) << "host HTT cleared for a single vCPU";
  EXPECT_NE(entry(for_vcpu(0, 2), 1).edx & (1U << 28), 0U);
  auto host = host_table();
  for (CpuidEntry& e : host) {
    if (e.function == 1) e.edx &= ~(1U << 28);
  }
  EXPECT_NE(entry(for_vcpu(1, 8, host), 1).edx & (1U << 28), 0U) << "set even when the host lacks it";
}

TEST(CpuidTest, Leaf4ReportsThePartitionsCoresAndL3Sharing) {
  const auto host = host_table();
  for (std::uint32_t count : {1U, 2U, 3U, 8U, 64U, 65U, 254U}) {
    SCOPED_TRACE(count);
    const auto t = for_vcpu(0, count);
    ASSERT_EQ(all_of(t, 4).size(), 4U);
    for (std::uint32_t sub = 0; sub < 4; ++sub) {
      const CpuidEntry& e = entry(t, 4, sub);
      const CpuidEntry& h = entry(host, 4, sub);
      // A 6-bit field: counts beyond 64 saturate at 63 rather than wrap.
      EXPECT_EQ(e.eax >> 26, std::min(count - 1, 63U)) << "cores per package - 1, subleaf " << sub;
      const std::uint32_t sharing = (e.eax >> 14) & 0xfff;
      EXPECT_EQ(sharing, sub == 3 ? count - 1 : 0U) << "threads sharing the cache - 1, subleaf " << sub;
      EXPECT_EQ(e.eax & 0x3fff, h.eax & 0x3fff) << "cache type, level and flags kept";
      EXPECT_EQ(e.ebx, h.ebx);
      EXPECT_EQ(e.ecx, h.ecx);
      EXPECT_EQ(e.edx, h.edx);
      EXPECT_EQ(e.flags, kCpuidIndexSignificant);
    }
  }
}

TEST(CpuidTest, TopologyLeafBIsRebuiltPerVcpu) {
  struct Case {
    std::uint32_t count;
    std::uint32_t shift;  // APIC id bits needed for count - 1
  };
  for (const Case c : {Case{1, 0}, Case{2, 1}, Case{3, 2}, Case{8, 3}, Case{254, 8}}) {
    for (std::uint32_t index : {0U, c.count - 1}) {
      SCOPED_TRACE(::testing::Message() << "count " << c.count << " index " << index);
      const auto t = for_vcpu(index, c.count);
      ASSERT_EQ(all_of(t, 0xb).size(), 3U) << "the host's subleaves are replaced, not kept";

      const CpuidEntry& smt = entry(t, 0xb, 0);
      EXPECT_EQ(smt.eax & 0x1f, 0U) << "one thread per core";
      EXPECT_EQ(smt.ebx & 0xffff, 1U);
      EXPECT_EQ(smt.ecx & 0xff, 0U);
      EXPECT_EQ((smt.ecx >> 8) & 0xff, 1U) << "level type SMT";
      EXPECT_EQ(smt.edx, index) << "x2APIC id";
      EXPECT_EQ(smt.flags, kCpuidIndexSignificant);

      const CpuidEntry& core = entry(t, 0xb, 1);
      EXPECT_EQ(core.eax & 0x1f, c.shift);
      EXPECT_EQ(core.ebx & 0xffff, c.count);
      EXPECT_EQ(core.ecx & 0xff, 1U);
      EXPECT_EQ((core.ecx >> 8) & 0xff, 2U) << "level type core";
      EXPECT_EQ(core.edx, index);
      EXPECT_EQ(core.flags, kCpuidIndexSignificant);

      const CpuidEntry& end = entry(t, 0xb, 2);
      EXPECT_EQ(end.eax, 0U);
      EXPECT_EQ(end.ebx, 0U);
      EXPECT_EQ(end.ecx & 0xff, 2U);
      EXPECT_EQ((end.ecx >> 8) & 0xff, 0U) << "level type invalid ends the enumeration";
      EXPECT_EQ(end.edx, index);
    }
  }
}

TEST(CpuidTest, TopologyLeafBIsAddedEvenIfTheHostLacksIt) {
  std::vector<CpuidEntry> host;
  for (const CpuidEntry& e : host_table(false, false)) {
    if (e.function != 0xb) host.push_back(e);
  }
  const auto t = for_vcpu(2, 4, host);
  ASSERT_EQ(all_of(t, 0xb).size(), 3U);
  EXPECT_EQ(entry(t, 0xb, 1).ebx & 0xffff, 4U);
  EXPECT_EQ(entry(t, 0xb, 1).edx, 2U);
}

TEST(CpuidTest, TopologyLeaf1FMirrorsLeafBWhenTheHostHasIt) {
  for (std::uint32_t count : {1U, 3U, 254U}) {
    const auto t = for_vcpu(count - 1, count);
    ASSERT_EQ(all_of(t, 0x1f).size(), 3U) << count;
    for (std::uint32_t sub = 0; sub < 3; ++sub) {
      const CpuidEntry& v1 = entry(t, 0xb, sub);
      const CpuidEntry& v2 = entry(t, 0x1f, sub);
      EXPECT_EQ(v2.index, sub);
      EXPECT_EQ(v2.flags, v1.flags);
      EXPECT_EQ(v2.eax, v1.eax);
      EXPECT_EQ(v2.ebx, v1.ebx);
      EXPECT_EQ(v2.ecx, v1.ecx);
      EXPECT_EQ(v2.edx, v1.edx);
    }
  }
}

TEST(CpuidTest, NoLeaf1FWhenTheHostLacksIt) {
  const auto t = for_vcpu(0, 4, host_table(false, true));
  EXPECT_TRUE(all_of(t, 0x1f).empty());
  EXPECT_EQ(all_of(t, 0xb).size(), 3U);
}

TEST(CpuidTest, AmdSizeLeafCarriesCoreCountAndApicIdBits) {
  struct Case {
    std::uint32_t count;
    std::uint32_t bits;
  };
  for (const Case c : {Case{1, 0}, Case{2, 1}, Case{3, 2}, Case{8, 3}, Case{254, 8}}) {
    const auto t = for_vcpu(0, c.count);
    const CpuidEntry& e = entry(t, 0x80000008);
    EXPECT_EQ(e.ecx & 0xff, c.count - 1) << c.count;
    EXPECT_EQ((e.ecx >> 12) & 0xf, c.bits) << c.count;
    EXPECT_EQ(e.ecx & ~0xf0ffU, 0x00037007U & ~0xf0ffU) << "other ECX bits kept";
    EXPECT_EQ(e.eax, 0x00003027U) << "address sizes kept";
  }
}

TEST(CpuidTest, TimingLeafWhenTheHostHasTheHypervisorLeaf) {
  const auto t = for_vcpu(0, 2);
  const CpuidEntry& timing = entry(t, kTimingLeaf);
  EXPECT_EQ(timing.eax, kTscKhz);
  EXPECT_EQ(timing.ebx, 1'000'000U);
  EXPECT_EQ(timing.ebx, kLapicBusKhz);
  EXPECT_EQ(timing.ecx, 0U);
  EXPECT_EQ(timing.edx, 0U);

  const CpuidEntry& hv = entry(t, 0x40000000);
  EXPECT_EQ(hv.eax, kTimingLeaf) << "the hypervisor range must reach the timing leaf";
  EXPECT_EQ(hv.ebx, 0x4b4d564bU) << "signature kept";
  EXPECT_EQ(hv.ecx, 0x564b4d56U);
  EXPECT_EQ(hv.edx, 0x4dU);
  EXPECT_EQ(entry(t, 0x40000001).eax, 0x01007afbU) << "KVM features kept";
}

TEST(CpuidTest, HypervisorRangeAboveTheTimingLeafIsKept) {
  auto host = host_table();
  for (CpuidEntry& e : host) {
    if (e.function == 0x40000000) e.eax = 0x40000020;
  }
  EXPECT_EQ(entry(for_vcpu(0, 1, host), 0x40000000).eax, 0x40000020U);
}

TEST(CpuidTest, NoTimingLeafWithoutTheHypervisorLeaf) {
  const auto t = for_vcpu(0, 2, host_table(true, false));
  EXPECT_TRUE(all_of(t, kTimingLeaf).empty());
  EXPECT_TRUE(all_of(t, 0x40000000).empty());
}

TEST(CpuidTest, StaleHostTimingLeafIsReplaced) {
  auto host = host_table();
  host.push_back({kTimingLeaf, 0, 0, 123, 456, 7, 8});
  const auto t = for_vcpu(0, 2, host);
  ASSERT_EQ(all_of(t, kTimingLeaf).size(), 1U);
  EXPECT_EQ(entry(t, kTimingLeaf).eax, kTscKhz);
  EXPECT_EQ(entry(t, kTimingLeaf).ebx, kLapicBusKhz);

  EXPECT_TRUE(all_of(for_vcpu(0, 2, [] {
                       auto h = host_table(true, false);
                       h.push_back({kTimingLeaf, 0, 0, 123, 456, 7, 8});
                       return h;
                     }()),
                     kTimingLeaf)
                  .empty())
      << "without the hypervisor leaf a host timing leaf is dropped too";
}

TEST(CpuidTest, UnrelatedLeavesPassThroughUnchanged) {
  const auto host = host_table();
  const auto t = for_vcpu(3, 4, host);
  for (std::uint32_t leaf : {0U, 0x40000001U, 0x80000000U}) {
    EXPECT_TRUE(same(entry(t, leaf), entry(host, leaf))) << std::hex << leaf;
  }
}

TEST(CpuidTest, SameInputsGiveTheSameTable) {
  const auto a = for_vcpu(5, 8);
  const auto b = for_vcpu(5, 8);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(same(a[i], b[i])) << i;
}

TEST(CpuidTest, VcpusOfOnePartitionDifferOnlyInApicIds) {
  const auto a = for_vcpu(0, 4);
  const auto b = for_vcpu(3, 4);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CpuidEntry x = a[i];
    CpuidEntry y = b[i];
    if (x.function == 1) {
      EXPECT_EQ(y.ebx >> 24, 3U);
      x.ebx &= 0x00ffffff;
      y.ebx &= 0x00ffffff;
    }
    if (x.function == 0xb || x.function == 0x1f) {
      EXPECT_EQ(y.edx, 3U);
      x.edx = y.edx = 0;
    }
    EXPECT_TRUE(same(x, y)) << std::hex << "leaf " << x.function << " subleaf " << x.index;
  }
}

TEST(CpuidTest, EmptyHostTableStillGetsTopology) {
  const auto t = cpuid_for_vcpu({}, VcpuTopology{0, 1}, kTscKhz);
  EXPECT_EQ(all_of(t, 0xb).size(), 3U);
  EXPECT_TRUE(all_of(t, kTimingLeaf).empty());
  EXPECT_TRUE(all_of(t, 1).empty());
}

}  // namespace
}  // namespace tilehv::cpu
