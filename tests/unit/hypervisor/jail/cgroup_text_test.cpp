// Cgroup text: CPU lists, cpu.max, /proc/PID/cgroup and the weight/shares mapping.
#include "jail/cgroup_text.hpp"

#include <gtest/gtest.h>

#include "jail/cgroup.hpp"

namespace tilehv::jail {
namespace {

TEST(CgroupTextTest, CpuListsRoundTripInTheKernelsSyntax) {
  EXPECT_EQ(format_cpu_list({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(format_cpu_list({3}), "3");
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_EQ(parse_cpu_list("0-2,5,7-8\n").value(), (std::set<std::uint32_t>{0, 1, 2, 5, 7, 8}));
  EXPECT_EQ(parse_cpu_list("\n").value(), std::set<std::uint32_t>{});
}

TEST(CgroupTextTest, MalformedOrHugeCpuListsAreRefusedWithTheReason) {
  for (const char* bad : {"a", "1-", "-1", "3-1", "1,,2", "1 2", "0-4096", "99999999999"}) {
    const auto parsed = parse_cpu_list(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().find(bad), std::string::npos) << parsed.error();
  }
}

TEST(CgroupTextTest, WeightMapsToSharesAndBack) {
  EXPECT_EQ(weight_to_shares(100), 1024u);
  EXPECT_EQ(weight_to_shares(1), 10u);
  EXPECT_EQ(weight_to_shares(10000), 102400u);
  for (std::uint32_t weight : {1u, 7u, 50u, 100u, 333u, 10000u}) EXPECT_EQ(shares_to_weight(weight_to_shares(weight)), weight);
  EXPECT_EQ(shares_to_weight(2), 1u);                // the kernel's minimum shares
  EXPECT_EQ(shares_to_weight(UINT64_MAX), 10000u);   // clamped, no overflow
}

TEST(CgroupTextTest, LimitsAndCpuMaxParse) {
  EXPECT_EQ(parse_limit("12345\n").value(), std::optional<std::uint64_t>{12345});
  EXPECT_EQ(parse_limit("max\n").value(), std::nullopt);
  EXPECT_FALSE(parse_limit("-1"));
  EXPECT_FALSE(parse_limit(""));
  EXPECT_EQ(parse_cpu_max("max 100000\n").value(), std::nullopt);
  EXPECT_EQ(parse_cpu_max("50000 100000\n").value(), std::optional<std::uint64_t>{50000});
  EXPECT_EQ(parse_cpu_max("25000 50000").value(), std::optional<std::uint64_t>{50000});  // per 100 ms
  EXPECT_FALSE(parse_cpu_max("50000"));
  EXPECT_FALSE(parse_cpu_max("50000 0"));
  EXPECT_EQ(format_cpu_max(std::nullopt), "max 100000");
  EXPECT_EQ(format_cpu_max(20000), "20000 100000");
}

TEST(CgroupTextTest, ProcCgroupOfV1AndV2Hierarchies) {
  const auto groups = parse_proc_cgroup(
      "12:pids:/a\n4:cpu,cpuacct:/b/c\n3:cpuset:/\n1:name=systemd:/user.slice\n0::/init.scope\n");
  ASSERT_TRUE(groups) << groups.error();
  EXPECT_EQ(groups->at("pids"), "/a");
  EXPECT_EQ(groups->at("cpu"), "/b/c");
  EXPECT_EQ(groups->at("cpuacct"), "/b/c");
  EXPECT_EQ(groups->at("cpuset"), "/");
  EXPECT_EQ(groups->at("name=systemd"), "/user.slice");
  EXPECT_EQ(groups->at(""), "/init.scope");
  EXPECT_FALSE(parse_proc_cgroup("garbage\n"));
  EXPECT_FALSE(parse_proc_cgroup("1:cpu:relative\n"));
}

TEST(CgroupLimitsTest, OutOfRangeLimitsAndNamesAreRefused) {
  CgroupLimits good;
  good.memory_bytes = 64 << 20;
  good.pids = 16;
  EXPECT_TRUE(check_limits(good));
  auto bad = good;
  bad.cpu_weight = 0;
  EXPECT_FALSE(check_limits(bad));
  bad = good;
  bad.cpu_weight = 10001;
  EXPECT_FALSE(check_limits(bad));
  bad = good;
  bad.cpu_quota_us = 10;
  EXPECT_FALSE(check_limits(bad));
  bad = good;
  bad.memory_bytes = 0;
  EXPECT_FALSE(check_limits(bad));
  bad = good;
  bad.pids = 0;
  EXPECT_FALSE(check_limits(bad));
  bad = good;
  bad.cpus = {5000};
  EXPECT_FALSE(check_limits(bad));
  EXPECT_TRUE(check_group_name("web-1.shadow_A"));
  for (const char* name : {"", ".", "..", "a/b", "a b", "../x", "x\n"}) EXPECT_FALSE(check_group_name(name)) << name;
  EXPECT_FALSE(check_group_name(std::string(65, 'a')));
}

}  // namespace
}  // namespace tilehv::jail
