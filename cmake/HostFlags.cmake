# Host code flags: every host (non-guest) target links tilehv::host_flags.
# Guest kernels are freestanding and get their own flags (guest-sdk/cmake), so nothing here is global.
add_library(tilehv_host_flags INTERFACE)
add_library(tilehv::host_flags ALIAS tilehv_host_flags)
target_compile_options(tilehv_host_flags INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wconversion -Wnon-virtual-dtor -Wold-style-cast
  -Wsuggest-override -Wcast-align -Wimplicit-fallthrough
  -fstack-protector-strong -D_FORTIFY_SOURCE=2)
target_link_options(tilehv_host_flags INTERFACE -Wl,-z,relro,-z,now)
if(TILEHV_FUZZ)
  # Coverage instrumentation for libFuzzer plus the sanitizers that turn silent corruption into a crash.
  target_compile_options(tilehv_host_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -U_FORTIFY_SOURCE)
  target_link_options(tilehv_host_flags INTERFACE -fsanitize=address,undefined)
elseif(TILEHV_SANITIZE)
  # GCC's -Wmaybe-uninitialized is unreliable under the sanitizers' instrumentation (GCC's manual says
  # so) and fires inside libstdc++'s <regex>; the ordinary build keeps it as an error.
  target_compile_options(tilehv_host_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -U_FORTIFY_SOURCE
    $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>
    # Clang's -Wconversion also warns on sign changes, which GCC's does not; the GCC build defines the
    # warning policy, the sanitizer build only adds instrumentation.
    $<$<CXX_COMPILER_ID:Clang>:-Wno-sign-conversion>)
  target_link_options(tilehv_host_flags INTERFACE -fsanitize=address,undefined)
  if(TILEHV_FUZZ_TARGETS)
    # Coverage for libFuzzer as well: the same instrumented libraries serve the tests and the fuzzers.
    target_compile_options(tilehv_host_flags INTERFACE -fsanitize=fuzzer-no-link)
  endif()
endif()
