// The tile benchmark's processes: see tile_bench_processes.hpp.
#include "tile_bench_processes.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace tilehv::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses):
// [0] is field 3 (state).
std::optional<std::vector<std::string>> stat_fields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return std::nullopt;
  std::istringstream text(stat.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string f; text >> f;) fields.push_back(f);
  if (fields.size() < 20) return std::nullopt;
  return fields;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null < 0 || log < 0) ::_exit(127);
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

std::optional<WatchedProcess> watch(pid_t pid) {
  const auto fields = stat_fields(pid);
  if (!fields) return std::nullopt;
  return WatchedProcess{pid, std::stoull((*fields)[19])};  // field 22: start time
}

bool gone(const WatchedProcess& p) {
  const auto fields = stat_fields(p.pid);
  return !fields || (*fields)[0] == "Z" || std::stoull((*fields)[19]) != p.start_ticks;
}

std::optional<std::uint64_t> cpu_ticks(const WatchedProcess& p) {
  const auto fields = stat_fields(p.pid);
  if (!fields || std::stoull((*fields)[19]) != p.start_ticks) return std::nullopt;
  return std::stoull((*fields)[11]) + std::stoull((*fields)[12]);  // fields 14 and 15: utime, stime
}

std::optional<std::uint64_t> cpu_ns(const WatchedProcess& p) {
  if (gone(p)) return std::nullopt;
  std::uint64_t sum = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(p.pid) + "/task", ec)) {
    std::ifstream in(task.path() / "schedstat");
    std::uint64_t ns = 0;
    if (in >> ns) sum += ns;
  }
  return sum;
}

std::vector<pid_t> wait_gone(const std::vector<WatchedProcess>& processes, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  std::vector<pid_t> killed;
  for (const WatchedProcess& p : processes) {
    while (!gone(p) && Clock::now() < deadline) {
      reap_zombie_children();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!gone(p)) {
      ::kill(p.pid, SIGKILL);
      killed.push_back(p.pid);
    }
  }
  reap_zombie_children();
  return killed;
}

void reap_zombie_children() {
  const pid_t self = ::getpid();
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return;
  std::vector<pid_t> zombies;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    const auto fields = stat_fields(static_cast<pid_t>(pid));
    if (fields && (*fields)[0] == "Z" && std::stol((*fields)[1]) == self) zombies.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  for (const pid_t pid : zombies) ::waitpid(pid, nullptr, WNOHANG);
}

Daemon::Daemon(std::string tilehvd, std::string tilehv, std::filesystem::path dir, bool jailed)
    : tilehvd_(std::move(tilehvd)), tilehv_(std::move(tilehv)), dir_(std::move(dir)), jailed_(jailed) {}

bool Daemon::jailed() const { return jailed_ && ::geteuid() == 0; }

Daemon::~Daemon() { shut_down(); }

bool Daemon::start() {
  std::filesystem::create_directories(dir_);
  std::vector<std::string> args = {tilehvd_, "--socket", socket(), "--state-dir", state().string(), "--vmm", tilehv_,
                                   "--stop-on-exit"};
  if (!jailed()) args.push_back("--no-jail");
  pid_ = spawn(args, (dir_ / "tilehvd.log").string());
  for (int i = 0; i < 400; ++i) {
    if (auto r = call("GET", "/v1/health", {}, std::chrono::milliseconds(500)); r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

std::optional<double> Daemon::shut_down() {
  if (pid_ <= 0) return 0.0;
  for (const WatchedProcess& p : vmm_processes()) {
    if (std::none_of(seen_vmms_.begin(), seen_vmms_.end(), [&](const auto& s) { return s.pid == p.pid; })) seen_vmms_.push_back(p);
  }
  const auto t0 = Clock::now();
  const auto stopped = call("POST", "/v1/partitions/stop");
  const double stop_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const auto left_by_stop = wait_gone(seen_vmms_, std::chrono::seconds(20));
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = 0;
  const auto left_by_daemon = wait_gone(seen_vmms_, std::chrono::seconds(5));
  seen_vmms_.clear();
  if (!stopped || stopped->status != 200 || !left_by_stop.empty() || !left_by_daemon.empty()) return std::nullopt;
  return stop_ms;
}

tl::expected<api::HttpResponse, std::string> Daemon::call(const std::string& method, const std::string& target,
                                                          const std::string& body, std::chrono::milliseconds timeout) {
  api::HttpClient client(socket());
  return client.request(method, target, body, "application/json", timeout);
}

nlohmann::json Daemon::partitions() {
  const auto r = call("GET", "/v1/partitions");
  if (!r || r->status != 200) return nlohmann::json::array();
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  return j.is_array() ? j : nlohmann::json::array();
}

std::vector<WatchedProcess> Daemon::vmm_processes() {
  std::vector<WatchedProcess> out;
  for (const auto& p : partitions()) {
    const pid_t pid = p.value("pid", 0);
    if (pid <= 0) continue;
    if (auto w = watch(pid)) {
      out.push_back(*w);
      if (std::none_of(seen_vmms_.begin(), seen_vmms_.end(), [&](const auto& s) { return s.pid == pid; })) seen_vmms_.push_back(*w);
    }
  }
  return out;
}

std::string Daemon::log_tail() const {
  std::ifstream in(dir_ / "tilehvd.log");
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

BareVmm::BareVmm(const std::string& tilehv, const std::string& kernel, const std::string& memory,
                 const std::filesystem::path& dir)
    : control_(dir / "control.sock") {
  std::filesystem::create_directories(dir);
  std::filesystem::remove(control_);
  pid_ = spawn({tilehv, "run", "--kernel", kernel, "--memory", memory, "--console", "file:" + (dir / "console.log").string(),
                "--control", control_.string()},
               (dir / "vmm.log").string());
}

BareVmm::BareVmm(BareVmm&& other) noexcept : control_(std::move(other.control_)), pid_(other.pid_) { other.pid_ = 0; }

BareVmm::~BareVmm() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

bool BareVmm::ready() const { return control_answers(control_); }

bool BareVmm::failed() const {
  const auto w = watch(pid_);
  return !w || gone(*w);
}

bool control_answers(const std::filesystem::path& socket) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = socket.string();
  if (path.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  std::string answer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, "status\n", 7, MSG_NOSIGNAL) == 7) {
    char buffer[1024];
    pollfd p{fd, POLLIN, 0};
    while (answer.find('\n') == std::string::npos && ::poll(&p, 1, 1000) > 0) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto j = nlohmann::json::parse(answer.substr(0, answer.find('\n')), nullptr, false);
  return j.is_object() && j.value("ok", false);
}

}  // namespace tilehv::bench
