# Guest kernel build: tilehv_add_guest_kernel() and the freestanding flags every guest object gets.
#
# The flags live on an INTERFACE target rather than in CMAKE_CXX_FLAGS because the host side of the
# project may be configured with sanitizers or hardening that must never reach a freestanding kernel.

set(TILEHV_GUEST_SDK_DIR "${CMAKE_CURRENT_LIST_DIR}/.." CACHE INTERNAL "Guest SDK source directory")
set(TILEHV_GUEST_LINKER_SCRIPT "${TILEHV_GUEST_SDK_DIR}/kernel.ld" CACHE INTERNAL "Guest kernel linker script")

if(NOT TARGET tilehv_guest_flags)
  add_library(tilehv_guest_flags INTERFACE)
  target_compile_options(tilehv_guest_flags INTERFACE
    -ffreestanding -nostdlib -static -fno-pie
    -mno-red-zone -fno-stack-protector -fcf-protection=none
    # The nested KVM this runs on cannot emulate cmpxchg16b or xrstor; plain x86-64 keeps both out.
    -march=x86-64 -mno-cx16
    -O2 -fno-asynchronous-unwind-tables -fno-unwind-tables
    # Sanitizer or hardening flags from the host configuration must not leak into a kernel.
    -fno-sanitize=all -U_FORTIFY_SOURCE
    -fno-omit-frame-pointer
    -Wall -Wextra -Werror -Wshadow -Wimplicit-fallthrough
    $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti -fno-threadsafe-statics -Wold-style-cast>)
  target_include_directories(tilehv_guest_flags INTERFACE "${TILEHV_GUEST_SDK_DIR}/include")
  target_link_options(tilehv_guest_flags INTERFACE
    -nostdlib -static -no-pie -fno-sanitize=all
    "-Wl,-T,${TILEHV_GUEST_LINKER_SCRIPT}"
    -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--build-id=none)
endif()

# tilehv_guest_integer_only(<files...>): compiles the C++ files among them without SSE registers.
#
# Guest code is integer-only unless a file opts in to floating point: a hypervisor may have to emulate
# any guest instruction (MMIO accesses, and on a shadow-paging host whole stretches of guest code),
# and emulators cover general-register instructions but not SSE arithmetic. It also keeps interrupt
# handlers from touching the SSE state of the code they interrupt.
function(tilehv_guest_integer_only)
  foreach(file IN LISTS ARGN)
    if(file MATCHES "\\.(cpp|cc|cxx)$")
      set_property(SOURCE ${file} APPEND PROPERTY COMPILE_OPTIONS -mgeneral-regs-only)
    endif()
  endforeach()
endfunction()

# tilehv_add_guest_kernel(NAME <name> SOURCES <files...> [SSE_SOURCES <files...>])
# Builds ${CMAKE_BINARY_DIR}/guest/<name>.elf as target guest-<name> and records the target in the
# global property TILEHV_GUEST_KERNELS. SOURCES are integer-only; SSE_SOURCES may use floating point.
function(tilehv_add_guest_kernel)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME" "SOURCES;SSE_SOURCES")
  if(NOT arg_NAME OR NOT arg_SOURCES)
    message(FATAL_ERROR "tilehv_add_guest_kernel needs NAME and SOURCES")
  endif()
  set(target guest-${arg_NAME})
  tilehv_guest_integer_only(${arg_SOURCES})
  add_executable(${target} ${arg_SOURCES} ${arg_SSE_SOURCES})
  target_link_libraries(${target} PRIVATE tilehv_guest_sdk)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${arg_NAME}
    SUFFIX .elf
    RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/guest"
    LINK_DEPENDS "${TILEHV_GUEST_LINKER_SCRIPT}")
  set_property(GLOBAL APPEND PROPERTY TILEHV_GUEST_KERNELS ${target})
endfunction()

# tilehv_guest_kernel_targets(<out-var>): every target made by tilehv_add_guest_kernel so far.
function(tilehv_guest_kernel_targets out_var)
  get_property(targets GLOBAL PROPERTY TILEHV_GUEST_KERNELS)
  set(${out_var} "${targets}" PARENT_SCOPE)
endfunction()
