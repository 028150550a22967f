// BootError: why a kernel image, module or boot parameter was refused.
#pragma once

#include <string>

namespace tilehv::boot {

enum class BootErrc {
  kUnreadable,       // cannot open or read the file
  kNotRegularFile,   // a directory, device, FIFO or socket
  kBadSize,          // empty or larger than the limit
  kChangedWhileRead, // the file shrank while it was being read
  kBadElf,           // malformed or unsupported ELF
  kNoPvhEntry,       // no or malformed XEN_ELFNOTE_PHYS32_ENTRY
  kBadPlacement,     // a segment or module does not fit guest RAM or collides with something
  kBadParameter,     // command line or module list out of bounds
};

struct BootError {
  BootErrc code;
  std::string message;  // one line naming the file and the problem
};

}  // namespace tilehv::boot
