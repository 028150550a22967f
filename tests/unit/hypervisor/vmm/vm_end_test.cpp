// Tests for VmEnd and the exit status table: how a partition's end becomes a process exit status and a message.
#include "vmm/vm_end.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "vmm/exit_status.hpp"

namespace tilehv::vmm {
namespace {

using Kind = VmEnd::Kind;

// Every kind except kGuestExit, whose status is the guest's value.
const std::vector<Kind> kVmmKinds = {Kind::kGuestReset,    Kind::kGuestCrash,  Kind::kTripleFault,
                                     Kind::kInternalError, Kind::kVcpuFailure, Kind::kTimeout,
                                     Kind::kStopped};

const std::vector<int> kAllVmmStatuses = {
    kExitGuestValueOutOfRange, kExitGuestReset, kExitTripleFault, kExitInternalError,
    kExitVcpuFailure,          kExitTimeout,    kExitBadImage,    kExitUsage,
    kExitHostError,            kExitStopped,    kExitGuestCrash,
};

VmEnd end_of(Kind kind, std::uint32_t guest_value = 0, std::string detail = {}) {
  VmEnd e;
  e.kind = kind;
  e.guest_value = guest_value;
  e.detail = std::move(detail);
  return e;
}

TEST(ExitStatusTest, VmmStatusesAreDistinctAndBetween101And124) {
  std::set<int> seen;
  for (int s : kAllVmmStatuses) {
    EXPECT_GE(s, 101);
    EXPECT_LE(s, 124) << "125 and above look like a failed exec or a signal to a shell";
    EXPECT_TRUE(seen.insert(s).second) << "status " << s << " used twice";
  }
  EXPECT_GT(101, kMaxGuestExitValue);
}

TEST(VmEndTest, EachKindMapsToItsOwnStatus) {
  std::set<int> seen;
  for (Kind k : kVmmKinds) {
    const int s = exit_status_for(end_of(k));
    EXPECT_GE(s, 101) << static_cast<int>(k);
    EXPECT_LE(s, 124) << static_cast<int>(k);
    EXPECT_NE(s, kExitGuestValueOutOfRange) << static_cast<int>(k);
    EXPECT_TRUE(seen.insert(s).second) << "kind " << static_cast<int>(k) << " shares status " << s;
  }
  EXPECT_EQ(seen.size(), kVmmKinds.size());
}

TEST(VmEndTest, KindsMapToTheDocumentedStatuses) {
  EXPECT_EQ(exit_status_for(end_of(Kind::kGuestReset)), kExitGuestReset);
  EXPECT_EQ(exit_status_for(end_of(Kind::kGuestCrash)), kExitGuestCrash);
  EXPECT_EQ(exit_status_for(end_of(Kind::kTripleFault)), kExitTripleFault);
  EXPECT_EQ(exit_status_for(end_of(Kind::kInternalError)), kExitInternalError);
  EXPECT_EQ(exit_status_for(end_of(Kind::kVcpuFailure)), kExitVcpuFailure);
  EXPECT_EQ(exit_status_for(end_of(Kind::kTimeout)), kExitTimeout);
  EXPECT_EQ(exit_status_for(end_of(Kind::kStopped)), kExitStopped);
}

TEST(VmEndTest, PowerOffIsSuccess) {
  EXPECT_EQ(exit_status_for(end_of(Kind::kGuestPowerOff)), 0);
  EXPECT_EQ(exit_status_for(end_of(Kind::kGuestPowerOff, 77)), 0) << "guest_value only counts for kGuestExit";
}

TEST(VmEndTest, DefaultEndIsStopped) {
  EXPECT_EQ(exit_status_for(VmEnd{}), kExitStopped);
}

TEST(VmEndTest, GuestValuesUpTo100PassThrough) {
  for (std::uint32_t v = 0; v <= 100; ++v) {
    EXPECT_EQ(exit_status_for(end_of(Kind::kGuestExit, v)), static_cast<int>(v));
  }
}

TEST(VmEndTest, GuestValuesAbove100AreOutOfRange) {
  for (std::uint32_t v : {101U, 102U, 110U, 124U, 125U, 255U, 256U, 0x7fffffffU, 0x80000000U, 0xffffffffU}) {
    EXPECT_EQ(exit_status_for(end_of(Kind::kGuestExit, v)), kExitGuestValueOutOfRange) << v;
  }
}

TEST(VmEndTest, CleanEndsHaveNoDescription) {
  EXPECT_EQ(describe(end_of(Kind::kGuestExit, 0)), "");
  EXPECT_EQ(describe(end_of(Kind::kGuestExit, 100)), "");
  EXPECT_EQ(describe(end_of(Kind::kGuestExit, 42)), "") << "a guest failure value is the guest's own report";
  EXPECT_EQ(describe(end_of(Kind::kGuestPowerOff)), "");
}

TEST(VmEndTest, OutOfRangeGuestValueIsDescribed) {
  const std::string d = describe(end_of(Kind::kGuestExit, 4242));
  EXPECT_NE(d.find("4242"), std::string::npos) << d;
  EXPECT_NE(d.find("101"), std::string::npos) << "names the status it was reported as: " << d;
}

TEST(VmEndTest, ProblemsAreDescribedByName) {
  struct Case {
    Kind kind;
    const char* word;
  };
  std::set<std::string> seen;
  for (const Case c : {Case{Kind::kGuestReset, "reset"}, Case{Kind::kGuestCrash, "crash"},
                       Case{Kind::kTripleFault, "triple"}, Case{Kind::kInternalError, "internal"},
                       Case{Kind::kVcpuFailure, "vCPU"}, Case{Kind::kTimeout, "timeout"},
                       Case{Kind::kStopped, "stopped"}}) {
    const std::string d = describe(end_of(c.kind));
    EXPECT_NE(d.find(c.word), std::string::npos) << d;
    EXPECT_TRUE(seen.insert(d).second) << "two kinds described alike: " << d;
  }
}

TEST(VmEndTest, DescriptionCarriesTheDetail) {
  for (Kind k : kVmmKinds) {
    const std::string d = describe(end_of(k, 0, "vcpu 1 rip=0xfff0"));
    EXPECT_NE(d.find("vcpu 1 rip=0xfff0"), std::string::npos) << d;
    EXPECT_EQ(d.find('\n'), std::string::npos) << "one line: " << d;
  }
}

}  // namespace
}  // namespace tilehv::vmm
