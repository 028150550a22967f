// ElfBuilder: writes small PVH ELF images for tests, valid by default, with every field overridable
// so a test can break exactly one thing.
#include "support/elf_builder.hpp"

#include <elf.h>

#include <cstring>

namespace tilehv::testing {
namespace {

template <typename T>
void put(std::vector<std::uint8_t>& out, std::size_t at, const T& value) {
  if (out.size() < at + sizeof(T)) out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

std::vector<std::uint8_t> pvh_note(std::uint32_t entry) {
  std::vector<std::uint8_t> note;
  put<std::uint32_t>(note, 0, 4);   // namesz ("Xen\0")
  put<std::uint32_t>(note, 4, 4);   // descsz
  put<std::uint32_t>(note, 8, 18);  // XEN_ELFNOTE_PHYS32_ENTRY
  note.insert(note.end(), {'X', 'e', 'n', 0});
  put<std::uint32_t>(note, 16, entry);
  return note;
}

}  // namespace

std::vector<std::uint8_t> exit_code_program(std::uint8_t value) {
  // Valid in 32-bit protected mode, where PVH enters: b8 imm32 / e7 ib / f4.
  return {0xb8, value, 0x00, 0x00, 0x00, 0xe7, 0xf4, 0xf4, 0xeb, 0xfd};
}

ElfSpec bootable_spec(std::uint8_t value, bool is_64bit) {
  ElfSpec spec;
  spec.is_64bit = is_64bit;
  ElfSegment code;
  code.bytes = exit_code_program(value);
  spec.segments.push_back(code);
  spec.pvh_entry = 0x100000;
  return spec;
}

std::vector<std::uint8_t> build_elf(const ElfSpec& spec) {
  const bool b64 = spec.is_64bit;
  const std::size_t ehsize = b64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  const std::size_t phsize = b64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

  struct Ph {
    std::uint32_t type, flags;
    std::uint64_t offset, paddr, filesz, memsz;
  };
  std::vector<Ph> phdrs;
  std::vector<std::vector<std::uint8_t>> payloads;
  for (const ElfSegment& s : spec.segments) {
    phdrs.push_back({s.type, s.flags, 0, s.guest_address, s.file_size.value_or(s.bytes.size()),
                     s.memory_size.value_or(s.bytes.size())});
    payloads.push_back(s.bytes);
  }
  if (spec.raw_note || spec.pvh_entry) {
    std::vector<std::uint8_t> note = spec.raw_note ? *spec.raw_note : pvh_note(*spec.pvh_entry);
    phdrs.push_back({PT_NOTE, PF_R, 0, 0, note.size(), note.size()});
    payloads.push_back(note);
  }

  std::vector<std::uint8_t> out(ehsize + phdrs.size() * phsize, 0);
  std::size_t cursor = out.size();
  for (std::size_t i = 0; i < phdrs.size(); ++i) {
    cursor = (cursor + 15) & ~std::size_t{15};
    phdrs[i].offset = cursor;
    if (out.size() < cursor + payloads[i].size()) out.resize(cursor + payloads[i].size());
    std::memcpy(out.data() + cursor, payloads[i].data(), payloads[i].size());
    cursor += payloads[i].size();
  }
  for (std::size_t i = 0; i < spec.segments.size(); ++i) {
    if (spec.segments[i].file_offset) phdrs[i].offset = *spec.segments[i].file_offset;
  }

  unsigned char ident[EI_NIDENT] = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3};
  ident[EI_CLASS] = spec.ident_class != 0 ? spec.ident_class : (b64 ? ELFCLASS64 : ELFCLASS32);
  ident[EI_DATA] = spec.ident_data;
  ident[EI_VERSION] = spec.ident_version;
  const std::uint16_t machine = spec.machine.value_or(b64 ? EM_X86_64 : EM_386);
  const std::uint16_t phnum = spec.phnum.value_or(static_cast<std::uint16_t>(phdrs.size()));
  const std::uint64_t phoff = spec.phoff.value_or(ehsize);
  const std::uint16_t phentsize = spec.phentsize.value_or(static_cast<std::uint16_t>(phsize));
  if (b64) {
    Elf64_Ehdr e{};
    std::memcpy(e.e_ident, ident, EI_NIDENT);
    e.e_type = spec.type, e.e_machine = machine, e.e_version = EV_CURRENT;
    e.e_entry = spec.pvh_entry.value_or(0x100000);
    e.e_phoff = phoff, e.e_ehsize = static_cast<std::uint16_t>(ehsize), e.e_phentsize = phentsize, e.e_phnum = phnum;
    put(out, 0, e);
    for (std::size_t i = 0; i < phdrs.size(); ++i) {
      Elf64_Phdr p{};
      p.p_type = phdrs[i].type, p.p_flags = phdrs[i].flags, p.p_offset = phdrs[i].offset;
      p.p_vaddr = p.p_paddr = phdrs[i].paddr, p.p_filesz = phdrs[i].filesz, p.p_memsz = phdrs[i].memsz;
      p.p_align = 16;
      put(out, ehsize + i * phsize, p);
    }
  } else {
    Elf32_Ehdr e{};
    std::memcpy(e.e_ident, ident, EI_NIDENT);
    e.e_type = spec.type, e.e_machine = machine, e.e_version = EV_CURRENT;
    e.e_entry = spec.pvh_entry.value_or(0x100000);
    e.e_phoff = static_cast<Elf32_Off>(phoff), e.e_ehsize = static_cast<std::uint16_t>(ehsize);
    e.e_phentsize = phentsize, e.e_phnum = phnum;
    put(out, 0, e);
    for (std::size_t i = 0; i < phdrs.size(); ++i) {
      Elf32_Phdr p{};
      p.p_type = phdrs[i].type, p.p_flags = phdrs[i].flags, p.p_offset = static_cast<Elf32_Off>(phdrs[i].offset);
      p.p_vaddr = p.p_paddr = static_cast<Elf32_Addr>(phdrs[i].paddr);
      p.p_filesz = static_cast<Elf32_Word>(phdrs[i].filesz), p.p_memsz = static_cast<Elf32_Word>(phdrs[i].memsz);
      p.p_align = 16;
      put(out, ehsize + i * phsize, p);
    }
  }
  return out;
}

}  // namespace tilehv::testing
