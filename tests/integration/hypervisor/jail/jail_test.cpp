// The jail, checked from outside: tilehv started through spawn_jailed runs its guest confined to
// what it declared (status, namespaces, root, cgroup), and a forbidden system call kills that VMM
// alone.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "jail/cgroup.hpp"
#include "jail/cgroup_text.hpp"
#include "jail/jail_options.hpp"
#include "jail/spawn.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::jail {
namespace {

std::string fmt_path(pid_t pid, const std::string& leaf) { return "/proc/" + std::to_string(pid) + "/" + leaf; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// /proc/PID/status as key -> value (tabs collapsed to single spaces).
std::map<std::string, std::string> proc_status(pid_t pid) {
  std::map<std::string, std::string> fields;
  std::istringstream in(read_text(fmt_path(pid, "status")));
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    for (char& c : value) c = c == '\t' ? ' ' : c;
    value.erase(0, value.find_first_not_of(' '));
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

std::string link_target(const std::string& path) {
  char buf[256] = {};
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("(unreadable)");
}

// A jailed tilehv running a guest kernel, its console on a pipe.
struct Partition {
  std::string name;
  util::UniqueFd console;  // read end of the VMM's stdout
  std::optional<JailedProcess> process;
  CgroupLimits limits;
  uid_t uid = 0;

  // Reads the console until `text` appeared; false after `limit`.
  bool wait_for_console(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (output.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd fd{console.get(), POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(console.get(), buf, sizeof buf);
      if (n <= 0) return false;
      output.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  std::string output;
};

class JailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the jail needs root (namespaces, cgroups, setuid)";
    TILEHV_REQUIRE_KVM();
    auto opened = open_cgroups();
    if (!opened) GTEST_SKIP() << "no usable cgroup hierarchy: " << opened.error();
    cgroups_.emplace(std::move(*opened));
  }
  void TearDown() override {
    for (auto& p : partitions_) {
      if (p->process && p->process->send_signal(SIGKILL)) (void)p->process->wait();
      if (cgroups_) (void)cgroups_->remove(p->name);
    }
  }

  // v1: groups under the test's own groups. v2: next to the test's own group, whose parent holds no
  // process (v2 delegates controllers only from groups without processes of their own).
  static tl::expected<Cgroups, std::string> open_cgroups() {
    auto probe = Cgroups::open();
    if (!probe || probe->version() == CgroupVersion::kV1) return probe;
    auto own = parse_proc_cgroup(read_text("/proc/self/cgroup"));
    if (!own || !own->contains("")) return tl::unexpected(std::string("no v2 line in /proc/self/cgroup"));
    std::string parent = own->at("").substr(0, own->at("").find_last_of('/'));
    return Cgroups::open(parent.empty() ? std::string("/") : parent);
  }

  Partition& spawn(const std::string& kernel, std::uint32_t weight = 100) {
    auto p = std::make_unique<Partition>();
    const int serial = static_cast<int>(partitions_.size());
    p->name = "jailtest-" + std::to_string(::getpid()) + "-" + std::to_string(serial);
    p->uid = static_cast<uid_t>(61000 + (::getpid() % 1000) * 4 + serial);
    p->limits.cpus = {0};
    p->limits.cpu_weight = weight;
    p->limits.cpu_quota_us = 50'000;
    p->limits.memory_bytes = 256ULL << 20;
    p->limits.pids = 16;
    int out[2];
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    p->console.reset(out[0]);
    util::UniqueFd write_end(out[1]);
    JailSpec spec;
    spec.name = p->name;
    spec.cgroup = p->limits;
    spec.stdout_fd = write_end.get();
    spec.stderr_fd = write_end.get();
    auto started = spawn_jailed(*cgroups_, spec,
                                {TILEHV_BINARY, "run", "--kernel", testing::guest_kernel(kernel), "--jail",
                                 format_jail_ids(p->uid, p->uid)});
    EXPECT_TRUE(started) << started.error();
    if (started) p->process.emplace(std::move(*started));
    partitions_.push_back(std::move(p));
    return *partitions_.back();
  }

  std::optional<Cgroups> cgroups_;
  std::vector<std::unique_ptr<Partition>> partitions_;
};

TEST_F(JailTest, JailedVmmRunsItsGuestConfinedAsDeclared) {
  Partition& p = spawn("spin", 250);
  ASSERT_TRUE(p.process);
  ASSERT_TRUE(p.wait_for_console("spinning")) << "console so far: " << p.output;
  const pid_t pid = p.process->pid();

  const auto status = proc_status(pid);
  EXPECT_EQ(status.at("Seccomp"), "2");
  EXPECT_EQ(status.at("NoNewPrivs"), "1");
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(status.at(set), "0000000000000000") << set;
  }
  const std::string id = std::to_string(p.uid);
  EXPECT_EQ(status.at("Uid"), id + " " + id + " " + id + " " + id);
  EXPECT_EQ(status.at("Gid"), id + " " + id + " " + id + " " + id);
  EXPECT_EQ(status.at("Groups"), "");
  // pid 1 of a pid namespace of its own, leading a session and process group of its own.
  EXPECT_EQ(status.at("NSpid"), std::to_string(pid) + " 1");
  const std::string stat = read_text(fmt_path(pid, "stat"));
  std::istringstream after_name(stat.substr(stat.rfind(')') + 2));
  std::string state;
  pid_t parent = 0, group = 0, session = 0;
  after_name >> state >> parent >> group >> session;
  EXPECT_EQ(parent, ::getpid());
  EXPECT_EQ(group, pid);
  EXPECT_EQ(session, pid);

  for (const char* ns : {"mnt", "pid", "ipc", "uts", "net"}) {
    EXPECT_NE(link_target(fmt_path(pid, "ns/") + ns), link_target(std::string("/proc/self/ns/") + ns)) << ns;
  }
  // Its root is the empty tmpfs: nothing of the host's filesystem.
  std::vector<std::string> entries;
  if (DIR* dir = ::opendir(fmt_path(pid, "root").c_str())) {
    while (const dirent* e = ::readdir(dir)) {
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") entries.push_back(e->d_name);
    }
    ::closedir(dir);
  } else {
    ADD_FAILURE() << "cannot read /proc/PID/root";
  }
  EXPECT_TRUE(entries.empty()) << "first entry: " << entries.front();
  EXPECT_NE(read_text(fmt_path(pid, "mountinfo")).find(" / / ro,"), std::string::npos) << read_text(fmt_path(pid, "mountinfo"));

  // The cgroup holds the declared values and the VMM.
  const auto limits = cgroups_->read_limits(p.name);
  ASSERT_TRUE(limits) << limits.error();
  EXPECT_EQ(*limits, p.limits);
  EXPECT_NE(read_text(cgroups_->group_dir("pids", p.name) + "/cgroup.procs").find(std::to_string(pid)), std::string::npos);
  EXPECT_EQ(read_text(cgroups_->group_dir("cpuset", p.name) + "/cpuset.cpus"), "0\n");
  if (cgroups_->version() == CgroupVersion::kV1) {
    EXPECT_EQ(read_text(cgroups_->group_dir("cpu", p.name) + "/cpu.shares"), "2560\n");
    EXPECT_EQ(read_text(cgroups_->group_dir("cpu", p.name) + "/cpu.cfs_quota_us"), "50000\n");
    EXPECT_EQ(read_text(cgroups_->group_dir("memory", p.name) + "/memory.limit_in_bytes"), "268435456\n");
  } else {
    EXPECT_EQ(read_text(cgroups_->group_dir("cpu", p.name) + "/cpu.weight"), "250\n");
    EXPECT_EQ(read_text(cgroups_->group_dir("cpu", p.name) + "/cpu.max"), "50000 100000\n");
    EXPECT_EQ(read_text(cgroups_->group_dir("memory", p.name) + "/memory.max"), "268435456\n");
  }
  EXPECT_EQ(read_text(cgroups_->group_dir("pids", p.name) + "/pids.max"), "16\n");

  // Limits change in place while it runs.
  CgroupLimits wider = p.limits;
  wider.cpu_weight = 40;
  wider.cpu_quota_us.reset();
  wider.memory_bytes = 512ULL << 20;
  ASSERT_TRUE(cgroups_->update_limits(p.name, wider));
  EXPECT_EQ(cgroups_->read_limits(p.name).value(), wider);

  // SIGTERM reaches it (it is pid 1 of its namespace, yet handles the signal) and it ends cleanly.
  ASSERT_TRUE(p.process->send_signal(SIGTERM));
  const auto end = p.process->wait();
  ASSERT_TRUE(end) << end.error();
  EXPECT_TRUE(end->exited) << "signal " << end->signal;
  p.process.reset();
  EXPECT_TRUE(cgroups_->remove(p.name));
}

// Makes the stopped thread `tid` execute socket(AF_INET, SOCK_STREAM, 0) from the system call
// instruction it is blocked behind.
void inject_socket_call(pid_t tid) {
  user_regs_struct regs{};
  ASSERT_EQ(::ptrace(PTRACE_GETREGS, tid, nullptr, &regs), 0);
  errno = 0;
  const long code = ::ptrace(PTRACE_PEEKTEXT, tid, reinterpret_cast<void*>(regs.rip - 2), nullptr);
  ASSERT_EQ(errno, 0);
  ASSERT_EQ(code & 0xffff, 0x050f) << "the thread is not stopped behind a syscall instruction";
  regs.orig_rax = ~0ULL;  // no restart of the interrupted call
  regs.rip -= 2;
  regs.rax = SYS_socket;
  regs.rdi = AF_INET;
  regs.rsi = SOCK_STREAM;
  regs.rdx = 0;
  ASSERT_EQ(::ptrace(PTRACE_SETREGS, tid, nullptr, &regs), 0);
}

TEST_F(JailTest, AForbiddenSystemCallKillsOnlyThatVmm) {
  Partition& victim = spawn("spin");
  Partition& neighbour = spawn("spin");
  ASSERT_TRUE(victim.process && neighbour.process);
  ASSERT_TRUE(victim.wait_for_console("spinning")) << victim.output;
  ASSERT_TRUE(neighbour.wait_for_console("spinning")) << neighbour.output;

  // The VMM's main thread waits in poll(); stop it there and make it call socket() instead.
  const pid_t pid = victim.process->pid();
  ASSERT_EQ(::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr), 0) << std::strerror(errno);
  ASSERT_EQ(::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, __WALL), pid);
  ASSERT_TRUE(WIFSTOPPED(status));
  inject_socket_call(pid);
  ASSERT_EQ(::ptrace(PTRACE_CONT, pid, nullptr, nullptr), 0);
  do {
    ASSERT_EQ(::waitpid(pid, &status, __WALL), pid);
    if (WIFSTOPPED(status)) (void)::ptrace(PTRACE_CONT, pid, nullptr, nullptr);
  } while (!WIFEXITED(status) && !WIFSIGNALED(status));
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
  victim.process.reset();  // reaped above

  // The neighbour runs on: not ended, and its guest still executes (its vCPU keeps using CPU time).
  const auto still = neighbour.process->try_wait();
  ASSERT_TRUE(still) << still.error();
  EXPECT_FALSE(still->has_value());
  EXPECT_EQ(proc_status(neighbour.process->pid()).at("Seccomp"), "2");
}

TEST_F(JailTest, BadSpecsAndMissingProgramsLeaveNothingBehind) {
  JailSpec spec;
  spec.name = "../escape";
  spec.cgroup.memory_bytes = 64ULL << 20;
  spec.cgroup.pids = 4;
  const auto bad_name = spawn_jailed(*cgroups_, spec, {"/bin/true"});
  ASSERT_FALSE(bad_name);
  EXPECT_NE(bad_name.error().find("../escape"), std::string::npos) << bad_name.error();

  spec.name = "jailtest-" + std::to_string(::getpid()) + "-missing";
  EXPECT_FALSE(spawn_jailed(*cgroups_, spec, {"relative/path"}));
  spec.keep_fds = {987};
  EXPECT_FALSE(spawn_jailed(*cgroups_, spec, {"/bin/true"}));
  spec.keep_fds.clear();

  const auto missing = spawn_jailed(*cgroups_, spec, {"/nonexistent/tilehv"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("No such file"), std::string::npos) << missing.error();
  EXPECT_NE(::access(cgroups_->group_dir("pids", spec.name).c_str(), F_OK), 0) << "the cgroup was left behind";
}

}  // namespace
}  // namespace tilehv::jail
