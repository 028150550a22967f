// FloorVm: the least a VMM can do to boot a PVH image: raw KVM ioctls, no device model, no checks
// beyond what keeps it from crashing. The benchmarks' floor for boot time and exit round trips.
#include "floor/floor_vm.hpp"

#include <elf.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

#include <cstring>

namespace tilehv::bench {
namespace {

// See hypervisor/kvm/kvm_abi.hpp: the uapi flexible-array structs have the wrong size in C++.
struct CpuidHeader {
  std::uint32_t nent, padding;
};
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);
constexpr int kMaxEntries = 100;
struct CpuidBuffer {
  CpuidHeader header;
  kvm_cpuid_entry2 entries[kMaxEntries];
};

constexpr std::uint64_t kStartInfo = 0x7000, kMemmap = 0x7040, kCmdline = 0x8000;

}  // namespace

bool FloorVm::create(const std::string& kernel, std::uint64_t memory_bytes, const std::string& cmdline,
                     std::string& error) {
  const int fd = ::open(kernel.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    error = "cannot open " + kernel;
    return false;
  }
  void* file = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (file == MAP_FAILED) {
    error = "cannot map " + kernel;
    return false;
  }
  auto* bytes = static_cast<const std::uint8_t*>(file);
  ram_size_ = memory_bytes;
  ram_ = static_cast<std::uint8_t*>(
      ::mmap(nullptr, ram_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));

  // Trusting ELF64 load: copy PT_LOAD segments, find the PVH note.
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes, sizeof eh);
  std::uint32_t entry = 0;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, bytes + eh.e_phoff + static_cast<std::size_t>(i) * sizeof ph, sizeof ph);
    if (ph.p_type == PT_LOAD) {
      std::memcpy(ram_ + ph.p_paddr, bytes + ph.p_offset, ph.p_filesz);
    } else if (ph.p_type == PT_NOTE) {
      for (std::uint64_t pos = 0; pos + 12 <= ph.p_filesz;) {
        std::uint32_t n[3];
        std::memcpy(n, bytes + ph.p_offset + pos, 12);
        const std::uint64_t name_at = pos + 12, desc_at = name_at + ((n[0] + 3) & ~3U);
        if (n[2] == 18 && n[0] == 4) std::memcpy(&entry, bytes + ph.p_offset + desc_at, 4);
        pos = desc_at + ((n[1] + 3) & ~3U);
      }
    }
  }
  ::munmap(file, static_cast<std::size_t>(st.st_size));

  hvm_memmap_table_entry memmap[2] = {{0, 0x9fc00, 1, 0}, {0x100000, ram_size_ - 0x100000, 1, 0}};
  std::memcpy(ram_ + kMemmap, memmap, sizeof memmap);
  std::memcpy(ram_ + kCmdline, cmdline.c_str(), cmdline.size() + 1);
  hvm_start_info info{};
  info.magic = XEN_HVM_START_MAGIC_VALUE;
  info.version = 1;
  info.cmdline_paddr = kCmdline;
  info.memmap_paddr = kMemmap;
  info.memmap_entries = 2;
  std::memcpy(ram_ + kStartInfo, &info, sizeof info);

  kvm_ = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  vm_ = ::ioctl(kvm_, KVM_CREATE_VM, 0);
  kvm_enable_cap cap{};
  cap.cap = KVM_CAP_SPLIT_IRQCHIP;
  cap.args[0] = 24;
  ::ioctl(vm_, KVM_ENABLE_CAP, &cap);
  ::ioctl(vm_, KVM_SET_TSS_ADDR, 0xfffbd000UL);
  kvm_userspace_memory_region region{0, 0, 0, ram_size_, reinterpret_cast<std::uintptr_t>(ram_)};
  ::ioctl(vm_, KVM_SET_USER_MEMORY_REGION, &region);
  vcpu_ = ::ioctl(vm_, KVM_CREATE_VCPU, 0);
  run_size_ = static_cast<std::size_t>(::ioctl(kvm_, KVM_GET_VCPU_MMAP_SIZE, 0));
  run_ = static_cast<kvm_run*>(::mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_, 0));

  // The guest SDK reads the TSC frequency from the timing leaf; everything else is the host's.
  static CpuidBuffer cpuid;
  cpuid.header.nent = kMaxEntries;
  ::ioctl(kvm_, kGetSupportedCpuid, &cpuid);
  for (std::uint32_t i = 0; i < cpuid.header.nent; ++i) {
    if (cpuid.entries[i].function == 0x40000000) cpuid.entries[i].eax = 0x40000010;
  }
  if (cpuid.header.nent < kMaxEntries) {
    kvm_cpuid_entry2& t = cpuid.entries[cpuid.header.nent++];
    t = {};
    t.function = 0x40000010;
    t.eax = static_cast<std::uint32_t>(::ioctl(vcpu_, KVM_GET_TSC_KHZ, 0));
    t.ebx = 1000000;
  }
  ::ioctl(vcpu_, kSetCpuid2, &cpuid);

  kvm_sregs s{};
  ::ioctl(vcpu_, KVM_GET_SREGS, &s);
  kvm_segment code{0, 0xffffffff, 0x10, 0xb, 1, 0, 1, 1, 0, 1, 0, 0, 0};
  kvm_segment data{0, 0xffffffff, 0x18, 0x3, 1, 0, 1, 1, 0, 1, 0, 0, 0};
  s.cs = code;
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.cr0 = 0x11;
  s.cr4 = 0;
  s.efer = 0;
  ::ioctl(vcpu_, KVM_SET_SREGS, &s);
  kvm_regs r{};
  r.rip = entry;
  r.rbx = kStartInfo;
  r.rflags = 2;
  ::ioctl(vcpu_, KVM_SET_REGS, &r);
  if (vcpu_ < 0 || run_ == MAP_FAILED || entry == 0) {
    error = "KVM setup failed";
    return false;
  }
  return true;
}

FloorVm::~FloorVm() {
  if (run_ != nullptr && run_ != MAP_FAILED) ::munmap(run_, run_size_);
  if (vcpu_ >= 0) ::close(vcpu_);
  if (vm_ >= 0) ::close(vm_);
  if (kvm_ >= 0) ::close(kvm_);
  if (ram_ != nullptr) ::munmap(ram_, ram_size_);
}

int FloorVm::run_once() {
  if (::ioctl(vcpu_, KVM_RUN, 0) != 0) return -1;
  return static_cast<int>(run_->exit_reason);
}

std::uint8_t* FloorVm::io_data() const { return reinterpret_cast<std::uint8_t*>(run_) + run_->io.data_offset; }

}  // namespace tilehv::bench
