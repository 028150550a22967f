// The HTML report: self-contained (no script, no external asset), the verdict, counts, two plots, the
// divergences; and whatever a hostile guest printed is escaped, never markup.
#include "shadow/report_html.hpp"

#include <gtest/gtest.h>

#include "shadow/verdict.hpp"

namespace tilehv::shadow {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

nlohmann::json report_with(const std::string& shadow_output) {
  policy::Shadow s;
  s.name = "next";
  s.live = "controller";
  Comparator c(s, 0);
  c.input("sensor.wall", bytes("t=1 temp=21000"), 0);
  c.output(policy::OutputStream::kNetwork, Side::kLive, bytes("valve=1"), 1000);
  c.output(policy::OutputStream::kNetwork, Side::kShadow, bytes(shadow_output), 3'000'000'000ULL);
  const Verdict v = judge(s.promotion, c, Evidence{});
  return {{"shadow", "next"}, {"live", "controller"}, {"candidate", "v3.elf"}, {"verdict", to_json(v)}, {"summary", c.summary()}};
}

TEST(ShadowReport, IsOneSelfContainedPage) {
  const std::string html = render_report_html(report_with("valve=2"));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
  EXPECT_NE(html.find("Verdict: failed"), std::string::npos);
  EXPECT_NE(html.find("byte 6: live 0x31, shadow 0x32"), std::string::npos);
  EXPECT_NE(html.find("#1 sensor.wall: t=1 temp=21000"), std::string::npos) << "the input before the divergence";
  EXPECT_EQ(std::count(html.begin(), html.end(), '\0'), 0);
  size_t plots = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++plots;
  EXPECT_EQ(plots, 2U);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no external asset";
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
}

TEST(ShadowReport, GuestOutputIsEscaped) {
  const std::string html = render_report_html(report_with("<script>alert(1)</script><img src=x onerror=y>"));
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST(ShadowReport, TextSummary) {
  const std::string text = render_report_text(report_with("valve=2"));
  EXPECT_EQ(text.rfind("shadow next of controller: failed\n", 0), 0U) << text;
  EXPECT_NE(text.find("first divergence (network): byte 6: live 0x31, shadow 0x32"), std::string::npos) << text;
}

}  // namespace
}  // namespace tilehv::shadow
