// Boot info: the PVH start info (command line, memory map, modules), read with bounds.
#include <guest/boot_info.hpp>

#include <cstdint>
#include <xen/arch-x86/hvm/start_info.h>

namespace guest::boot_info {
namespace {

// Only the identity map of the first 4 GiB exists; a pointer beyond it would fault.
constexpr uint64_t mapped_limit = uint64_t{1} << 32;

// The start info as the boot CPU found it; written once before kernel_main and read-only after.
const hvm_start_info* start_info = nullptr;

bool range_is_mapped(uint64_t base, uint64_t size) { return base < mapped_limit && size <= mapped_limit - base; }

template <typename T>
const T* mapped_pointer(uint64_t address, uint64_t count) {
  if (address == 0 || !range_is_mapped(address, count * sizeof(T))) return nullptr;
  // SAFETY: the range lies in the identity-mapped first 4 GiB; its content is only read, with bounds.
  return reinterpret_cast<const T*>(address);
}

StrView mapped_string(uint64_t address) {
  const char* text = mapped_pointer<char>(address, 1);
  if (text == nullptr) return StrView();
  uint64_t room = mapped_limit - address;
  return StrView::bounded(text, room < max_cmdline_length ? room : max_cmdline_length);
}

const hvm_modlist_entry* modules() {
  return mapped_pointer<hvm_modlist_entry>(start_info->modlist_paddr, module_count());
}

const hvm_memmap_table_entry* memory_map() {
  return mapped_pointer<hvm_memmap_table_entry>(start_info->memmap_paddr, memory_region_count());
}

}  // namespace

bool init(uint64_t start_info_address) {
  const auto* info = mapped_pointer<hvm_start_info>(start_info_address, 1);
  if (info == nullptr || info->magic != XEN_HVM_START_MAGIC_VALUE || info->version < 1) return false;
  start_info = info;
  return true;
}

uint64_t start_info_address() { return reinterpret_cast<uintptr_t>(start_info); }

StrView cmdline() { return mapped_string(start_info->cmdline_paddr); }

size_t memory_region_count() {
  const size_t n = start_info->memmap_entries;
  const size_t capped = n < max_memory_regions ? n : max_memory_regions;
  return mapped_pointer<hvm_memmap_table_entry>(start_info->memmap_paddr, capped) == nullptr ? 0 : capped;
}

MemoryRegion memory_region(size_t index) {
  const hvm_memmap_table_entry& entry = memory_map()[index];
  return MemoryRegion{entry.addr, entry.size, static_cast<MemoryType>(entry.type)};
}

size_t module_count() {
  const size_t n = start_info->nr_modules;
  const size_t capped = n < max_modules ? n : max_modules;
  return mapped_pointer<hvm_modlist_entry>(start_info->modlist_paddr, capped) == nullptr ? 0 : capped;
}

Module module(size_t index) {
  const hvm_modlist_entry& entry = modules()[index];
  return Module{entry.paddr, entry.size, mapped_string(entry.cmdline_paddr)};
}

const char* memory_type_name(MemoryType type) {
  switch (type) {
    case MemoryType::ram: return "ram";
    case MemoryType::reserved: return "reserved";
    case MemoryType::acpi: return "acpi";
    case MemoryType::nvs: return "nvs";
    case MemoryType::unusable: return "unusable";
    case MemoryType::disabled: return "disabled";
    case MemoryType::pmem: return "pmem";
  }
  return "unknown";
}

namespace detail {

size_t boot_data_ranges(BootDataRange* ranges, size_t capacity) {
  size_t n = 0;
  auto add = [&](uint64_t base, uint64_t size) {
    if (size != 0 && n < capacity) ranges[n++] = BootDataRange{base, size};
  };
  auto add_string = [&](uint64_t address) {
    const StrView s = mapped_string(address);
    if (s.data() != nullptr) add(address, s.size() + 1);
  };
  add(start_info_address(), sizeof(hvm_start_info));
  add_string(start_info->cmdline_paddr);
  add(start_info->memmap_paddr, memory_region_count() * sizeof(hvm_memmap_table_entry));
  const size_t modules_n = module_count();
  add(start_info->modlist_paddr, modules_n * sizeof(hvm_modlist_entry));
  for (size_t i = 0; i < modules_n; ++i) add_string(modules()[i].cmdline_paddr);
  return n;
}

}  // namespace detail

}  // namespace guest::boot_info
