#!/usr/bin/env bash
# Runs the benchmarks behind docs/PERFORMANCE.md and prints their results; raw output is kept in
# build/bench-results/. Run on an idle machine: every target is a ratio within one run.
#
#   scripts/bench.sh [--runs N]      N cold starts per contender in the boot comparison (default 15)
#   scripts/bench.sh tile            only the tile daemon's benchmark (apply, idle CPU, API)
#   scripts/bench.sh shadow          only the shadow benchmark (the live path with and without a shadow)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=15
only=""
if [[ "${1:-}" == "--runs" ]]; then
  runs="$2"
elif [[ "${1:-}" == "tile" || "${1:-}" == "shadow" ]]; then
  only="$1"
fi

tilehv_install_deps
build="$TILEHV_ROOT/build"
echo "==> building"
cmake -S "$TILEHV_ROOT" -B "$build" -G Ninja -DTILEHV_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target tilehv guest-kernels bench_hypervisor tilehv-floor tilehv-bench-boot tilehv-bench-net tilehv-bench-channel-path \
  tilehvd tilehv-bench-tile tilehv-bench-shadow
results="$build/bench-results"
mkdir -p "$results"

run_tile() {
  echo
  echo "==> tile: apply of 100 partitions against 100 bare VMMs started at once, CPU of 200 idle partitions,"
  echo "    API requests/s against a bare unix socket (jailed when run as root)"
  "$build/tests/bench/tilehv-bench-tile" --tilehvd "$build/partitions/daemon/tilehvd" --tilehv "$build/hypervisor/tilehv" \
    --guest-dir "$build/guest" | tee "$results/tile.md" || true
}
run_shadow() {
  echo
  echo "==> shadow: the live partition's throughput and round trip on the I/O plane, without and with a shadow"
  "$build/tests/bench/tilehv-bench-shadow" 5 | tee "$results/shadow.txt" || true
}
if [[ "$only" == "tile" ]]; then
  run_tile
  exit 0
fi
if [[ "$only" == "shadow" ]]; then
  run_shadow
  exit 0
fi

echo "==> boot: tilehv vs QEMU microvm vs floor, $runs cold starts each, alternating"
"$build/tests/bench/tilehv-bench-boot" --runs "$runs" --kernel "$build/guest/hello.elf" \
  --tilehv "$build/hypervisor/tilehv" --floor "$build/tests/bench/tilehv-floor" \
  --qemu "$(command -v qemu-system-x86_64)" | tee "$results/boot.md" || true

echo
echo "==> Google Benchmark: PIO exit round trip and guest-memory accessor"
"$build/tests/bench/bench_hypervisor" --benchmark_counters_tabular=true \
  --benchmark_out="$results/bench_hypervisor.json" --benchmark_out_format=json | tee "$results/bench_hypervisor.txt"

echo
echo "==> PIO exit round trip: tilehv loop / bare KVM_RUN loop (medians)"
pio_ratio() {
  # Median wall time per 100k-exit run of each loop, from the repetitions' aggregate rows (ms).
  local bare tilehv
  bare=$(grep -E '^BM_PioExit_BareKvmRun.*_median ' "$results/bench_hypervisor.txt" | awk '{print $2}')
  tilehv=$(grep -E '^BM_PioExit_TilehvLoop.*_median ' "$results/bench_hypervisor.txt" | awk '{print $2}')
  awk -v a="$tilehv" -v b="$bare" 'BEGIN {
    printf "tilehv %.2f us per exit, bare KVM_RUN %.2f us per exit, ratio %.3f (target <= 1.15)\n",
      a / 100, b / 100, a / b }'
}
pio_ratio | tee "$results/pio_ratio.txt"

echo
echo "==> partitions' I/O: datagrams/s and round trips against QEMU's socket netdev, channel round trips"
echo "    against an eventfd floor with as many wakeups, sensor samples delivered"
"$build/tests/bench/tilehv-bench-net" --runs "$(( runs < 5 ? runs : 5 ))" --tilehv "$build/hypervisor/tilehv" \
  --qemu "$(command -v qemu-system-x86_64)" --guest-dir "$build/guest" | tee "$results/io.md" || true

echo
echo "==> channel data path without guest code (device, port, plane, router) against the eventfd floor"
"$build/tests/bench/tilehv-bench-channel-path" 5 | tee "$results/channel_path.md" || true

run_tile
run_shadow
