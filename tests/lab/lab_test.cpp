// KVM lab test: tilehv on hardware-KVM semantics (nested KVM in a TCG VM), through scripts/lab/run-lab.sh.
//
// The lab boots once for the whole file (about 10 s); each test then checks one case's LAB lines.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/process.hpp"

namespace tilehv {
namespace {

using testing::run_process;

// run-lab.sh's status when packages are missing and cannot be installed (see scripts/lab/README.md).
constexpr int kLabCannotRun = 77;
// The lab VM has its own 180 s limit inside run-lab.sh; this one also covers installing packages
// and waiting for another lab to finish.
constexpr auto kLabLimit = std::chrono::minutes(15);

// What the lab reported about one case.
struct LabCase {
  std::optional<int> status;  // from LAB-RESULT; empty when the case never reported one
  std::optional<std::string> skipped;  // the reason of a LAB-SKIP
  std::vector<std::string> err;
  std::vector<std::string> out;
};

struct LabRun {
  testing::ProcessResult process;
  std::map<std::string, LabCase> cases;
  bool done = false;  // LAB-DONE was seen
};

// "LAB-<kind> <case> <rest>": the case and the rest, when `line` is of that kind.
std::optional<std::pair<std::string, std::string>> split_lab_line(const std::string& line,
                                                                  const std::string& kind) {
  const std::string prefix = "LAB-" + kind + " ";
  if (!line.starts_with(prefix)) return std::nullopt;
  const std::string tail = line.substr(prefix.size());
  const auto space = tail.find(' ');
  if (space == std::string::npos) return std::pair{tail, std::string{}};
  return std::pair{tail.substr(0, space), tail.substr(space + 1)};
}

std::optional<int> parse_status(const std::string& fields) {
  // "status=<n> seconds=<s>"
  const std::string key = "status=";
  const auto at = fields.find(key);
  if (at == std::string::npos) return std::nullopt;
  const std::string digits = fields.substr(at + key.size(), fields.find(' ', at) - at - key.size());
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoi(digits);
}

LabRun run_lab() {
  LabRun run;
  run.process = run_process({std::string(TILEHV_SOURCE_DIR) + "/scripts/lab/run-lab.sh", "--tilehv",
                             TILEHV_BINARY, "--guests", TILEHV_GUEST_DIR},
                            testing::with_limit(kLabLimit));
  for (const std::string& line : run.process.out_lines()) {
    if (line == "LAB-DONE") run.done = true;
    if (auto r = split_lab_line(line, "RESULT")) run.cases[r->first].status = parse_status(r->second);
    if (auto s = split_lab_line(line, "SKIP")) run.cases[s->first].skipped = s->second;
    if (auto e = split_lab_line(line, "STDERR")) run.cases[e->first].err.push_back(e->second);
    if (auto o = split_lab_line(line, "STDOUT")) run.cases[o->first].out.push_back(o->second);
  }
  return run;
}

// The one lab run of this test binary; booted by the first test that asks for it.
const LabRun& lab() {
  static const LabRun run = run_lab();
  return run;
}

const std::string* find_line_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const std::string& line : lines) {
    if (line.starts_with(prefix)) return &line;
  }
  return nullptr;
}

bool contains_line_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  return find_line_starting(lines, prefix) != nullptr;
}

class Lab : public ::testing::Test {
 protected:
  // The case's report, or a skip/failure explaining why there is none.
  void SetUp() override {
    const testing::ProcessResult& p = lab().process;
    if (p.exited && p.status == kLabCannotRun) {
      const auto lines = p.err_lines();
      GTEST_SKIP() << "the lab cannot run here: " << (lines.empty() ? p.describe() : lines.back());
    }
    ASSERT_TRUE(p.exited && p.status == 0 && lab().done) << "the lab did not complete:\n" << p.describe();
  }

  // The report of `name`; the caller asserts on it. Adds a failure when the case did not report.
  static const LabCase* find_case(const std::string& name) {
    const auto it = lab().cases.find(name);
    if (it == lab().cases.end()) {
      ADD_FAILURE() << "the lab reported nothing for case " << name << ":\n" << lab().process.describe();
      return nullptr;
    }
    return &it->second;
  }
};

std::string describe(const LabCase& c) {
  std::string text = "status " + (c.status ? std::to_string(*c.status) : std::string("none")) + "\nstderr:\n";
  for (const auto& line : c.err) text += "  " + line + "\n";
  text += "stdout:\n";
  for (const auto& line : c.out) text += "  " + line + "\n";
  return text;
}

// On hardware KVM a triple fault is a shutdown exit, reported as 103 with the vCPU's state. The lab
// emulates an AMD CPU, where KVM resets the vCPU on shutdown: tilehv must say the state is lost
// rather than report the reset state as the fault's.
TEST_F(Lab, TripleFaultIsAShutdownExit) {
  const LabCase* c = find_case("triple-fault");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, 103) << describe(*c);
  EXPECT_TRUE(contains_line_starting(c->err, "tilehv: guest triple-faulted: vcpu 0: rip 0x") ||
              contains_line_starting(c->err,
                                     "tilehv: guest triple-faulted: vcpu 0: registers lost: the host's KVM reset "
                                     "the vCPU on shutdown"))
      << describe(*c);
  EXPECT_TRUE(contains_line_starting(c->out, "triple-fault: going down")) << describe(*c);
}

TEST_F(Lab, HelloBootsAndExitsZero) {
  const LabCase* c = find_case("hello");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, 0) << describe(*c);
  ASSERT_FALSE(c->out.empty()) << describe(*c);
  EXPECT_EQ(c->out.front(), "Hello from tilehv guest") << describe(*c);
  EXPECT_TRUE(contains_line_starting(c->out, "cmdline: lab=1")) << describe(*c);
  EXPECT_TRUE(c->err.empty()) << describe(*c);
}

TEST_F(Lab, SmpBringsUpBothCpus) {
  const LabCase* c = find_case("smp");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, 0) << describe(*c);
  EXPECT_TRUE(contains_line_starting(c->out, "smp: 2/2 cpus online")) << describe(*c);
}

TEST_F(Lab, ExceptionIsReportedByTheGuestAndEndsWith99) {
  const LabCase* c = find_case("exception");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, 99) << describe(*c);
  EXPECT_TRUE(contains_line_starting(c->out, "CPU EXCEPTION 6 (#UD")) << describe(*c);
  EXPECT_TRUE(c->err.empty()) << "a guest exit value is not a VMM error\n" << describe(*c);
}

// A jump to memory that is not guest RAM cannot be run or emulated by any KVM: an internal error.
TEST_F(Lab, InternalErrorReportsItsStatus) {
  const LabCase* c = find_case("internal-error");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, 104) << describe(*c);
  EXPECT_TRUE(contains_line_starting(c->err, "tilehv: KVM internal error: vcpu 0: ")) << describe(*c);
}

// SSE arithmetic runs on the CPU under hardware KVM; only an emulating KVM fails it.
TEST_F(Lab, SseChecksumMatches) {
  const LabCase* c = find_case("sse");
  ASSERT_NE(c, nullptr);
  if (c->skipped) GTEST_SKIP() << *c->skipped;
  EXPECT_EQ(c->status, 0) << describe(*c);
  const std::string* checksum = find_line_starting(c->out, "sse: checksum ");
  ASSERT_NE(checksum, nullptr) << describe(*c);
  EXPECT_TRUE(checksum->ends_with(" ok")) << describe(*c);
}

}  // namespace
}  // namespace tilehv
