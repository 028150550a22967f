#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 300),
# starting from the seed corpus in tests/fuzz/corpus/<target>/. New inputs go to build-fuzz/corpus/;
# a crash leaves its input in build-fuzz/ and fails the script.
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

seconds="${1:-300}"
tilehv_install_deps
build="$TILEHV_ROOT/build-fuzz"
CC=clang CXX=clang++ cmake -S "$TILEHV_ROOT" -B "$build" -G Ninja -DTILEHV_FUZZ=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"

for target in elf_image device_state split_queue mmio_transport message_ring virtio_net virtio_vsock virtio_console sensor_trace; do
  work="$build/corpus/$target"
  mkdir -p "$work"
  echo "==> fuzz_$target for ${seconds}s"
  (cd "$build" && "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=65536 \
    -print_final_stats=1 "$work" "$TILEHV_ROOT/tests/fuzz/corpus/$target" 2>&1 | grep -E "^(Done|stat::number_of_executed_units|INFO: Seed)|ERROR|SUMMARY" || true)
  if ls "$build"/crash-* "$build"/leak-* "$build"/timeout-* >/dev/null 2>&1; then
    echo "fuzz_$target found a failing input:" "$build"/crash-* "$build"/leak-* "$build"/timeout-* 2>/dev/null
    exit 1
  fi
done
echo "==> fuzzing found nothing"
