// ElfImage: what a PVH kernel image asks to be loaded, parsed from a hostile file.
#include "boot/elf_image.hpp"

#include <elf.h>
#include <xen/elfnote.h>

#include <array>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace tilehv::boot {
namespace {

// One program header, normalized from either ELF class.
struct ProgramHeader {
  std::uint32_t type, flags;
  std::uint64_t offset, paddr, filesz, memsz;
};

struct Header {
  bool is_64bit;
  std::uint16_t type, machine, phentsize, phnum;
  std::uint64_t phoff;
};

BootError elf_error(const ImageFile& f, const std::string& what) {
  return BootError{BootErrc::kBadElf, fmt::format("kernel {}: {}", f.path(), what)};
}

tl::expected<Header, BootError> read_header(const ImageFile& f) {
  std::array<std::uint8_t, EI_NIDENT> ident{};
  if (f.size() < ident.size()) {
    return tl::unexpected(elf_error(f, fmt::format("{} bytes is too small to be an ELF image", f.size())));
  }
  if (auto r = f.read_at(0, ident); !r) return tl::unexpected(r.error());
  if (std::memcmp(ident.data(), ELFMAG, SELFMAG) != 0) {
    return tl::unexpected(elf_error(
        f, fmt::format("not an ELF image (magic {:02x} {:02x} {:02x} {:02x})", ident[0], ident[1], ident[2], ident[3])));
  }
  if (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64) {
    return tl::unexpected(elf_error(f, fmt::format("unsupported ELF class {}", ident[EI_CLASS])));
  }
  if (ident[EI_DATA] != ELFDATA2LSB) {
    return tl::unexpected(elf_error(f, "not a little-endian ELF image; x86 kernels are little-endian"));
  }
  if (ident[EI_VERSION] != EV_CURRENT) {
    return tl::unexpected(elf_error(f, fmt::format("unsupported ELF version {}", ident[EI_VERSION])));
  }
  Header h{};
  h.is_64bit = ident[EI_CLASS] == ELFCLASS64;
  const std::size_t ehsize = h.is_64bit ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  if (f.size() < ehsize) {
    return tl::unexpected(elf_error(f, fmt::format("truncated: the ELF header needs {} bytes, the file has {}",
                                                   ehsize, f.size())));
  }
  if (h.is_64bit) {
    Elf64_Ehdr e{};
    // SAFETY: Elf64_Ehdr is plain data; every byte pattern is a value we then check field by field.
    if (auto r = f.read_at(0, {reinterpret_cast<std::uint8_t*>(&e), sizeof e}); !r) return tl::unexpected(r.error());
    h.type = e.e_type, h.machine = e.e_machine, h.phentsize = e.e_phentsize, h.phnum = e.e_phnum;
    h.phoff = e.e_phoff;
  } else {
    Elf32_Ehdr e{};
    // SAFETY: as above, for the 32-bit header.
    if (auto r = f.read_at(0, {reinterpret_cast<std::uint8_t*>(&e), sizeof e}); !r) return tl::unexpected(r.error());
    h.type = e.e_type, h.machine = e.e_machine, h.phentsize = e.e_phentsize, h.phnum = e.e_phnum;
    h.phoff = e.e_phoff;
  }
  if (h.type != ET_EXEC) {
    return tl::unexpected(elf_error(f, fmt::format("ELF type {} is not an executable (ET_EXEC)", h.type)));
  }
  const std::uint16_t want_machine = h.is_64bit ? EM_X86_64 : EM_386;
  if (h.machine != want_machine) {
    return tl::unexpected(elf_error(f, fmt::format("ELF machine {} is not {} ({})", h.machine,
                                                   h.is_64bit ? "x86-64" : "i386", want_machine)));
  }
  const std::size_t want_phentsize = h.is_64bit ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
  if (h.phentsize != want_phentsize) {
    return tl::unexpected(elf_error(f, fmt::format("program header entry size {} is not {}", h.phentsize,
                                                   want_phentsize)));
  }
  if (h.phnum == 0) {
    return tl::unexpected(elf_error(f, "no program headers"));
  }
  if (h.phnum > kMaxProgramHeaders) {
    return tl::unexpected(elf_error(
        f, fmt::format("{} program headers, more than the limit of {}", h.phnum, kMaxProgramHeaders)));
  }
  const std::uint64_t table_bytes = std::uint64_t{h.phnum} * h.phentsize;
  if (h.phoff > f.size() || table_bytes > f.size() - h.phoff) {
    return tl::unexpected(elf_error(
        f, fmt::format("program headers at offset {:#x} ({} bytes) lie beyond the end of the file ({} bytes)",
                       h.phoff, table_bytes, f.size())));
  }
  return h;
}

tl::expected<std::vector<ProgramHeader>, BootError> read_program_headers(const ImageFile& f, const Header& h) {
  std::vector<ProgramHeader> out;
  out.reserve(h.phnum);
  for (std::uint16_t i = 0; i < h.phnum; ++i) {
    const std::uint64_t at = h.phoff + std::uint64_t{i} * h.phentsize;
    if (h.is_64bit) {
      Elf64_Phdr p{};
      // SAFETY: plain data read from the file, checked below.
      if (auto r = f.read_at(at, {reinterpret_cast<std::uint8_t*>(&p), sizeof p}); !r) return tl::unexpected(r.error());
      out.push_back({p.p_type, p.p_flags, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz});
    } else {
      Elf32_Phdr p{};
      // SAFETY: plain data read from the file, checked below.
      if (auto r = f.read_at(at, {reinterpret_cast<std::uint8_t*>(&p), sizeof p}); !r) return tl::unexpected(r.error());
      out.push_back({p.p_type, p.p_flags, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz});
    }
  }
  return out;
}

tl::expected<LoadSegment, BootError> check_load(const ImageFile& f, const ProgramHeader& p, std::uint32_t index) {
  if (p.filesz > p.memsz) {
    return tl::unexpected(elf_error(f, fmt::format("segment {}: file size {:#x} exceeds memory size {:#x}",
                                                   index, p.filesz, p.memsz)));
  }
  if (p.offset > f.size() || p.filesz > f.size() - p.offset) {
    return tl::unexpected(elf_error(
        f, fmt::format("segment {}: file bytes [{:#x}, {:#x}) lie beyond the end of the file ({} bytes)",
                       index, p.offset, p.offset + p.filesz, f.size())));
  }
  if (p.memsz > UINT64_MAX - p.paddr) {
    return tl::unexpected(elf_error(
        f, fmt::format("segment {}: address {:#x} + size {:#x} overflows", index, p.paddr, p.memsz)));
  }
  return LoadSegment{index, p.offset, p.filesz, p.paddr, p.memsz, (p.flags & PF_X) != 0};
}

// Walks one PT_NOTE segment; returns the PVH entry if this segment has one.
tl::expected<std::optional<std::uint32_t>, BootError> find_pvh_note(const ImageFile& f, const ProgramHeader& p,
                                                                    std::uint32_t index) {
  if (p.filesz > kMaxNoteSegmentBytes) {
    return tl::unexpected(elf_error(f, fmt::format("note segment {} is {} bytes, more than the limit of {}",
                                                   index, p.filesz, kMaxNoteSegmentBytes)));
  }
  if (p.offset > f.size() || p.filesz > f.size() - p.offset) {
    return tl::unexpected(elf_error(f, fmt::format("note segment {} lies beyond the end of the file", index)));
  }
  std::vector<std::uint8_t> notes(p.filesz);
  if (auto r = f.read_at(p.offset, notes); !r) return tl::unexpected(r.error());

  std::optional<std::uint32_t> entry;
  std::size_t pos = 0;
  constexpr std::size_t kNoteHeader = 12;  // namesz, descsz, type: three 32-bit words in both classes
  const auto align4 = [](std::uint64_t n) { return (n + 3) & ~std::uint64_t{3}; };
  while (notes.size() - pos >= kNoteHeader) {
    std::uint32_t namesz = 0, descsz = 0, type = 0;
    std::memcpy(&namesz, &notes[pos], 4);
    std::memcpy(&descsz, &notes[pos + 4], 4);
    std::memcpy(&type, &notes[pos + 8], 4);
    const std::size_t remaining = notes.size() - pos - kNoteHeader;
    // In 64-bit arithmetic the aligned sizes cannot wrap.
    if (align4(namesz) > remaining || align4(descsz) > remaining - align4(namesz)) {
      return tl::unexpected(elf_error(
          f, fmt::format("malformed note in segment {} at offset {:#x}: name size {} and descriptor size {} "
                         "exceed the segment",
                         index, p.offset + pos, namesz, descsz)));
    }
    const std::uint8_t* name = &notes[pos + kNoteHeader];
    const std::uint8_t* desc = name + align4(namesz);
    const bool is_xen = namesz == 4 && std::memcmp(name, "Xen", 4) == 0;
    if (is_xen && type == XEN_ELFNOTE_PHYS32_ENTRY) {
      std::uint64_t value = 0;
      if (descsz == 4) {
        std::uint32_t v32 = 0;
        std::memcpy(&v32, desc, 4);
        value = v32;
      } else if (descsz == 8) {
        std::memcpy(&value, desc, 8);
      } else {
        return tl::unexpected(BootError{
            BootErrc::kNoPvhEntry,
            fmt::format("kernel {}: malformed PVH entry note: descriptor of {} bytes, expected 4", f.path(), descsz)});
      }
      if (value > UINT32_MAX) {
        return tl::unexpected(BootError{
            BootErrc::kNoPvhEntry,
            fmt::format("kernel {}: PVH entry {:#x} is beyond 4 GiB; the entry runs in 32-bit mode", f.path(), value)});
      }
      if (entry && *entry != value) {
        return tl::unexpected(BootError{BootErrc::kNoPvhEntry,
                                        fmt::format("kernel {}: two PVH entry notes disagree ({:#x} and {:#x})",
                                                    f.path(), *entry, value)});
      }
      entry = static_cast<std::uint32_t>(value);
    }
    pos += kNoteHeader + align4(namesz) + align4(descsz);
  }
  return entry;
}

}  // namespace

tl::expected<ElfImage, BootError> parse_elf_image(const ImageFile& f) {
  auto header = read_header(f);
  if (!header) return tl::unexpected(header.error());
  auto phdrs = read_program_headers(f, *header);
  if (!phdrs) return tl::unexpected(phdrs.error());

  ElfImage image;
  image.is_64bit = header->is_64bit;
  std::optional<std::uint32_t> entry;
  for (std::uint32_t i = 0; i < phdrs->size(); ++i) {
    const ProgramHeader& p = (*phdrs)[i];
    if (p.type == PT_LOAD && p.memsz > 0) {
      auto seg = check_load(f, p, i);
      if (!seg) return tl::unexpected(seg.error());
      for (const LoadSegment& other : image.segments) {
        if (seg->guest_address < other.end() && other.guest_address < seg->end()) {
          return tl::unexpected(elf_error(
              f, fmt::format("segments {} and {} overlap: [{:#x}, {:#x}) and [{:#x}, {:#x})", other.index, i,
                             other.guest_address, other.end(), seg->guest_address, seg->end())));
        }
      }
      image.segments.push_back(*seg);
    } else if (p.type == PT_NOTE) {
      auto found = find_pvh_note(f, p, i);
      if (!found) return tl::unexpected(found.error());
      if (*found) {
        if (entry && *entry != **found) {
          return tl::unexpected(BootError{BootErrc::kNoPvhEntry,
                                          fmt::format("kernel {}: two PVH entry notes disagree", f.path())});
        }
        entry = *found;
      }
    }
  }
  if (image.segments.empty()) {
    return tl::unexpected(elf_error(f, "no loadable segments"));
  }
  if (!entry) {
    return tl::unexpected(BootError{
        BootErrc::kNoPvhEntry,
        fmt::format("kernel {}: no PVH entry note (Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY); tilehv boots PVH "
                    "images",
                    f.path())});
  }
  bool inside = false;
  for (const LoadSegment& s : image.segments) {
    // The entry must be file-backed code, not zero-filled memory.
    if (*entry >= s.guest_address && *entry - s.guest_address < s.file_size) {
      inside = true;
    }
  }
  if (!inside) {
    return tl::unexpected(BootError{
        BootErrc::kNoPvhEntry,
        fmt::format("kernel {}: PVH entry {:#x} lies outside every loadable segment's file bytes", f.path(), *entry)});
  }
  image.pvh_entry = *entry;
  return image;
}

}  // namespace tilehv::boot
