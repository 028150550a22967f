# Shared helpers for the scripts in this folder: dependency installation and the build.
# Sourced, not run.

TILEHV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian packages the build, the tests, the demo and the benchmarks need.
TILEHV_APT_PACKAGES=(
  build-essential cmake ninja-build binutils
  libfmt-dev libexpected-dev libcli11-dev libxen-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  qemu-system-x86
  clang libclang-rt-14-dev
  libhttp-parser-dev nlohmann-json3-dev
  libyaml-cpp-dev libssl-dev
  libseccomp-dev libcap-dev
)

# Installs whatever of TILEHV_APT_PACKAGES is missing; does nothing when all are present.
tilehv_install_deps() {
  local missing=()
  for pkg in "${TILEHV_APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "==> installing: ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# tilehv_build DIR [cmake options...] [-- targets...]: configures and builds DIR (everything unless
# targets are named).
tilehv_build() {
  local dir="$1"
  shift
  local options=() targets=()
  while (($#)); do
    if [[ "$1" == "--" ]]; then
      shift
      targets=("$@")
      break
    fi
    options+=("$1")
    shift
  done
  cmake -S "$TILEHV_ROOT" -B "$dir" -G Ninja "${options[@]}" >/dev/null
  if ((${#targets[@]})); then
    cmake --build "$dir" --parallel "$(nproc)" --target "${targets[@]}"
  else
    cmake --build "$dir" --parallel "$(nproc)"
  fi
}

# Explains why KVM tests cannot run here, or prints nothing.
tilehv_kvm_problem() {
  if [[ ! -e /dev/kvm ]]; then
    echo "/dev/kvm does not exist (no KVM on this machine)"
  elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
    echo "/dev/kvm is not accessible to $(id -un); add the user to the kvm group"
  fi
}

# The libFuzzer targets, in the order scripts/fuzz.sh and scripts/test.sh run them.
TILEHV_FUZZ_TARGETS=(elf_image device_state split_queue mmio_transport message_ring virtio_net virtio_vsock
  virtio_console sensor_trace http_request policy shadow_records)

# Runs every fuzz target of build directory DIR for SECONDS each, from its seed corpus; new inputs go to
# DIR/corpus/. Fails, naming the input, if a target crashes, leaks or times out.
tilehv_run_fuzzers() {
  local build seconds="$2" target work
  build="$(cd "$1" && pwd)"
  for target in "${TILEHV_FUZZ_TARGETS[@]}"; do
    work="$build/corpus/$target"
    mkdir -p "$work"
    echo "==> fuzz_$target for ${seconds}s"
    (cd "$build" && "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=65536 \
      -print_final_stats=1 "$work" "$TILEHV_ROOT/tests/fuzz/corpus/$target" 2>&1 |
      grep -E "^(Done|stat::number_of_executed_units|INFO: Seed)|ERROR|SUMMARY" || true)
    # Each kind of artifact on its own: one glob that matches nothing must not hide another's file.
    local found=()
    shopt -s nullglob
    found=("$build"/crash-* "$build"/leak-* "$build"/timeout-* "$build"/oom-*)
    shopt -u nullglob
    if ((${#found[@]} > 0)); then
      echo "fuzz_$target found a failing input: ${found[*]}"
      return 1
    fi
  done
}
