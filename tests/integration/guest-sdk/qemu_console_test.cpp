// Integration test: the SDK's virtio-console driver against QEMU's virtio-serial on microvm. The
// console-ports kernel lists the named ports and echoes what the host sends on the port "echo",
// here a real unix socket, until a line "quit".
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace tilehv {
namespace {

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";

// The flags of QemuCompat plus what virtio needs there: acpi=off (virtio-mmio devices announced on the
// command line) and the modern virtio-mmio interface.
testing::ProcessResult qemu_with_port(const std::string& socket_path, const std::string& cmdline) {
  const std::vector<std::string> argv = {
      kQemu, "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off,acpi=off", "-enable-kvm", "-cpu",
      "host,-arch-capabilities", "-m", "64M", "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-serial",
      "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-global", "virtio-mmio.force-legacy=false",
      "-device", "virtio-serial-device", "-chardev", "socket,id=c1,path=" + socket_path + ",server=on,wait=off",
      "-device", "virtserialport,chardev=c1,name=echo", "-kernel", testing::guest_kernel("console-ports"), "-append",
      cmdline};
  return testing::run_process(argv, testing::with_limit(std::chrono::seconds(120)));
}

// A connected client socket, retried until QEMU has created the listening one; -1 on timeout.
int connect_unix(const std::string& path, std::chrono::seconds limit) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    // SAFETY: sockaddr_un is the sockaddr the AF_UNIX socket expects.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

// Everything the peer sends until it closes the socket (QEMU exited) or `limit` passes.
std::string read_until_closed(int fd, std::chrono::seconds limit) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
  }
  return out;
}

class QemuConsole : public ::testing::Test {
 protected:
  void SetUp() override {
    TILEHV_REQUIRE_KVM();
    if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed (scripts/test.sh installs it)";
  }
};

TEST_F(QemuConsole, EchoesOnTheNamedPort) {
  testing::TempDir dir;
  const std::string socket_path = (dir.path() / "echo.sock").string();
  testing::ProcessResult result;
  std::thread runner([&] { result = qemu_with_port(socket_path, "timeout=60"); });

  // Several receive buffers' worth (the driver's are 128 bytes), then the line that ends the echo.
  std::string message;
  for (int i = 0; i < 40; ++i) message += "line " + std::to_string(i) + " of the echo test, through virtio-serial\n";
  message += "quit\n";
  std::string echoed;
  const int fd = connect_unix(socket_path, std::chrono::seconds(30));
  if (fd >= 0) {
    std::size_t sent = 0;
    while (sent < message.size()) {
      const ssize_t n = ::write(fd, message.data() + sent, message.size() - sent);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    echoed = read_until_closed(fd, std::chrono::seconds(90));
    ::close(fd);
  }
  runner.join();
  ASSERT_GE(fd, 0) << "no connection to " << socket_path << "\n" << result.describe();
  EXPECT_EQ(result.status, 1) << "exit value 0\n" << result.describe();
  EXPECT_NE(result.out.find("console-ports: port 1 name=echo"), std::string::npos) << result.describe();
  EXPECT_NE(result.out.find("console-ports: quit after " + std::to_string(message.size()) + " bytes"),
            std::string::npos)
      << result.describe();
  EXPECT_EQ(echoed, message);
}

}  // namespace
}  // namespace tilehv
