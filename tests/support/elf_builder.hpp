// ElfBuilder: writes small PVH ELF images for tests, valid by default, with every field overridable
// so a test can break exactly one thing.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace tilehv::testing {

struct ElfSegment {
  std::uint32_t type = 1;  // PT_LOAD
  std::uint32_t flags = 5;  // PF_R | PF_X
  std::uint64_t guest_address = 0x100000;
  std::vector<std::uint8_t> bytes;
  std::optional<std::uint64_t> memory_size;  // default: bytes.size()
  std::optional<std::uint64_t> file_size;    // default: bytes.size() (override to lie)
  std::optional<std::uint64_t> file_offset;  // default: where the builder puts the bytes
};

struct ElfSpec {
  bool is_64bit = true;
  std::uint8_t ident_class = 0;  // 0: from is_64bit
  std::uint8_t ident_data = 1;   // ELFDATA2LSB
  std::uint8_t ident_version = 1;
  std::uint16_t type = 2;        // ET_EXEC
  std::optional<std::uint16_t> machine;  // default: EM_X86_64 or EM_386
  std::vector<ElfSegment> segments;
  std::optional<std::uint32_t> pvh_entry = 0x100000;  // nullopt: no PVH note
  std::optional<std::vector<std::uint8_t>> raw_note;  // replaces the generated note bytes
  std::optional<std::uint16_t> phnum;       // override the header's count
  std::optional<std::uint64_t> phoff;
  std::optional<std::uint16_t> phentsize;
};

// A kernel that writes `value` to the exit port: mov $value, %eax; out %eax, $0xf4; then hlt.
std::vector<std::uint8_t> exit_code_program(std::uint8_t value);

// A spec that boots and exits with `value`: one code segment at 1 MiB plus the PVH note.
ElfSpec bootable_spec(std::uint8_t value = 42, bool is_64bit = true);

std::vector<std::uint8_t> build_elf(const ElfSpec& spec);

}  // namespace tilehv::testing
