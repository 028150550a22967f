#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what is missing, builds, runs the
# unit and integration tests (real KVM guests), the unit and hostile-input tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer, and each libFuzzer target for a bounded time.
#
#   scripts/test.sh            everything except tests labelled "slow"
#   TILEHV_TEST_SLOW=1 scripts/test.sh   also the slow ones
set -euo pipefail
source "$(dirname "$0")/lib.sh"

tilehv_install_deps

if problem=$(tilehv_kvm_problem) && [[ -n "$problem" ]]; then
  echo "==> note: $problem; tests that need KVM will be skipped"
fi

exclude=(-LE slow)
if [[ "${TILEHV_TEST_SLOW:-0}" == 1 ]]; then
  exclude=()
fi

echo "==> build (release with debug info)"
tilehv_build "$TILEHV_ROOT/build"
echo "==> unit and integration tests"
ctest --test-dir "$TILEHV_ROOT/build" --output-on-failure --parallel "$(nproc)" --timeout 300 "${exclude[@]}"

echo "==> build (clang: AddressSanitizer + UndefinedBehaviorSanitizer, and the libFuzzer targets)"
# One instrumented build serves the sanitizer tests and the fuzzers; it uses the guest kernels built above.
sanitize="$TILEHV_ROOT/build-sanitize"
CC=clang CXX=clang++ tilehv_build "$sanitize" -DTILEHV_SANITIZE=ON -DTILEHV_FUZZ_TARGETS=ON \
  -DTILEHV_BUILD_BENCHMARKS=OFF -DTILEHV_GUEST_KERNELS_FROM="$TILEHV_ROOT/build/guest" \
  -- tilehv unit_hypervisor unit_vdevices unit_partitions unit_shadow integration_hostile_images integration_hostile_guests \
  integration_partitions "${TILEHV_FUZZ_TARGETS[@]/#/fuzz_}"
echo "==> unit tests and hostile inputs under the sanitizers"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$sanitize" --output-on-failure --parallel "$(nproc)" --timeout 300 \
  -L sanitize "${exclude[@]}"
echo "==> fuzzing: each libFuzzer target for ${TILEHV_FUZZ_SECONDS:-10}s (scripts/fuzz.sh runs longer)"
tilehv_run_fuzzers "$sanitize" "${TILEHV_FUZZ_SECONDS:-10}"
echo "==> all tests passed"
