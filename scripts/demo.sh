#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine: installs what is missing, builds tilehv and the guest
# SDK's example kernels, and boots each of them in its own KVM partition, showing its console and
# how it ended.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

tilehv_install_deps
if problem=$(tilehv_kvm_problem) && [[ -n "$problem" ]]; then
  echo "tilehv demo: $problem" >&2
  exit 1
fi
echo "==> building tilehv and the guest kernels"
cmake -S "$TILEHV_ROOT" -B "$TILEHV_ROOT/build" -G Ninja >/dev/null
cmake --build "$TILEHV_ROOT/build" --parallel "$(nproc)" --target tilehv guest-kernels >/dev/null

tilehv="$TILEHV_ROOT/build/hypervisor/tilehv"
guests="$TILEHV_ROOT/build/guest"
module="$(mktemp)"
trap 'rm -f "$module"' EXIT
echo "sensor calibration table for the demo tile" >"$module"

boot() {
  local title="$1"
  shift
  echo
  echo "==> $title"
  echo "    \$ tilehv run $*"
  local status=0
  "$tilehv" run "$@" --timeout 30 || status=$?
  echo "    [partition ended with status $status]"
}

boot "hello: command line, memory map and a module" --kernel "$guests/hello.elf" --memory 64M \
  --cmdline "tile=demo role=hello verbose=1" --module "$module"
boot "exit-status: the guest's exit value becomes tilehv's status" --kernel "$guests/exit-status.elf" \
  --cmdline "status=7"
boot "smp: four vCPUs brought up by the guest through INIT/SIPI" --kernel "$guests/smp.elf" --vcpus 4
boot "compute: a CPU-bound kernel with a deterministic checksum" --kernel "$guests/compute.elf" --vcpus 2
boot "memtest: fill and verify all RAM the start info reports, on every vCPU" --kernel "$guests/memtest.elf" \
  --memory 64M --vcpus 2
