#!/usr/bin/env bash
# KVM lab: runs tilehv on hardware-KVM semantics on a machine whose own KVM is software-assisted.
# Boots Debian's generic kernel in QEMU with a TCG-emulated AMD CPU that has SVM and nested paging,
# loads kvm-amd inside, and runs the lab cases (scripts/lab/init.sh) with tilehv on that nested KVM.
#
#   scripts/lab/run-lab.sh [--tilehv PATH] [--guests DIR] [--keep DIR]
#
#   --tilehv PATH   the tilehv binary (default: build/hypervisor/tilehv)
#   --guests DIR    the guest kernels (default: build/guest)
#   --keep DIR      also write the initramfs and the serial log into DIR
#   LAB_TIMEOUT     seconds before the lab VM is killed (default: 180; a run takes about 10)
#
# Prints the LAB lines of the run (see init.sh for their format). Exit status: 0 when every case ran
# (the LAB lines say how each ended), 1 when the lab failed, 77 when it cannot run on this machine
# because packages are missing and cannot be installed.
set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$LAB_DIR/../.." && pwd)"
readonly LAB_CANNOT_RUN=77

tilehv="$ROOT/build/hypervisor/tilehv"
guests="$ROOT/build/guest"
keep=""
timeout_s="${LAB_TIMEOUT:-180}"

usage() {
  sed -n '6,11s/^# \{0,1\}//p' "$0" >&2
  exit 1
}

die() {
  echo "lab: $*" >&2
  exit 1
}

while (($# > 0)); do
  case "$1" in
    --tilehv) tilehv="${2:?--tilehv needs a path}"; shift 2 ;;
    --guests) guests="${2:?--guests needs a directory}"; shift 2 ;;
    --keep) keep="${2:?--keep needs a directory}"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "lab: unknown argument: $1" >&2; usage ;;
  esac
done

[[ -x "$tilehv" ]] || die "no tilehv binary at $tilehv (build it: cmake --build build --target tilehv)"
[[ -d "$guests" ]] || die "no guest kernel directory at $guests (build it: cmake --build build --target guest-kernels)"

# Installs whichever of the given Debian packages is missing; nothing when all are present.
# Exits with LAB_CANNOT_RUN when they cannot be installed (no root and no sudo, no network).
install_missing() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
      echo "lab: cannot install ${missing[*]}: not root and no sudo" >&2
      exit "$LAB_CANNOT_RUN"
    fi
    sudo=(sudo -n)
  fi
  echo "lab: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get update -q >&2 ||
    ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    echo "lab: cannot install ${missing[*]}: apt-get failed (no network or no permission?)" >&2
    exit "$LAB_CANNOT_RUN"
  fi
}

# The VM's kernel, its modules (kmod runs depmod for them), the VM's userland, the initramfs tools, QEMU.
install_missing linux-image-amd64 kmod busybox-static cpio gzip qemu-system-x86

# The newest installed Debian kernel whose modules include kvm-amd.
kernel_version=""
while IFS= read -r vmlinuz; do
  version="${vmlinuz#/boot/vmlinuz-}"
  if [[ -r "/lib/modules/$version/modules.dep" ]] &&
    grep -q '/kvm-amd\.ko[.a-z]*:' "/lib/modules/$version/modules.dep"; then
    kernel_version="$version"
  fi
done < <(find /boot -maxdepth 1 -name 'vmlinuz-*' | sort -V)
[[ -n "$kernel_version" ]] || die "no kernel under /boot with kvm-amd in /lib/modules/<version>/modules.dep"
vmlinuz="/boot/vmlinuz-$kernel_version"
modules_dir="/lib/modules/$kernel_version"
[[ -r "$vmlinuz" ]] || die "$vmlinuz is not readable by $(id -un)"

# kvm-amd and its dependencies, in load order. modules.dep lists every dependency, transitively,
# so that loading them from last to first satisfies each before it is needed (as modprobe does).
dep_line="$(grep -m1 '/kvm-amd\.ko[.a-z]*:' "$modules_dir/modules.dep")"
read -r -a deps <<<"${dep_line#*:}"
modules=()
for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
  modules+=("${deps[i]}")
done
modules+=("${dep_line%%:*}")

# Decompressors for the module files that need one.
for module in "${modules[@]}"; do
  case "$module" in
    *.ko.xz) install_missing xz-utils ;;
    *.ko.zst) install_missing zstd ;;
    *.ko.gz | *.ko) ;;
    *) die "unexpected module file name in modules.dep: $module" ;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/tilehv-lab.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lab/modules,lab/guest}

# Busybox and the applets init.sh uses.
cp /bin/busybox "$root/bin/busybox"
for applet in sh mount insmod cat head tail sed awk echo sleep sync poweroff uname nproc dmesg timeout; do
  ln -s busybox "$root/bin/$applet"
done

# The modules, uncompressed: busybox insmod does not read every compression the kernel packages use.
: >"$root/lab/modules.order"
for module in "${modules[@]}"; do
  source_path="$modules_dir/$module"
  name="$(basename "$module")"
  case "$module" in
    *.ko.xz) xz -dc "$source_path" >"$root/lab/modules/${name%.xz}"; name="${name%.xz}" ;;
    *.ko.zst) zstd -qdc "$source_path" >"$root/lab/modules/${name%.zst}"; name="${name%.zst}" ;;
    *.ko.gz) gzip -dc "$source_path" >"$root/lab/modules/${name%.gz}"; name="${name%.gz}" ;;
    *) cp "$source_path" "$root/lab/modules/$name" ;;
  esac
  echo "$name" >>"$root/lab/modules.order"
done

# tilehv and every shared library it loads, at the paths the dynamic loader looks them up by.
cp "$tilehv" "$root/lab/tilehv"
if ldd_out="$(ldd "$tilehv" 2>&1)"; then
  if grep -q 'not found' <<<"$ldd_out"; then
    die "tilehv needs libraries this machine lacks: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t\n' ' ')"
  fi
  while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out")
elif ! grep -q 'not a dynamic executable' <<<"$ldd_out"; then
  die "ldd $tilehv failed: $ldd_out"
fi

shopt -s nullglob
kernels=("$guests"/*.elf)
shopt -u nullglob
((${#kernels[@]} > 0)) || die "no guest kernels (*.elf) in $guests"
cp "${kernels[@]}" "$root/lab/guest/"

install -m 0755 "$LAB_DIR/init.sh" "$root/init"

initramfs="$work/initramfs.cpio.gz"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -1 >"$initramfs"

log="$work/serial.log"
echo "lab: booting $vmlinuz (kvm-amd from $modules_dir) with $(basename "$tilehv") and ${#kernels[@]} guest kernels" >&2
# One lab at a time: two TCG VMs sharing a small host slow each other down, and on a 2-CPU host a
# contended lab VM has been seen to stall in the middle of a case.
exec {lock_fd}>"${TMPDIR:-/tmp}/tilehv-lab.lock"
if ! flock -n "$lock_fd"; then
  echo "lab: another lab is running; waiting for it" >&2
  flock "$lock_fd"
fi
started=$SECONDS
qemu_status=0
# No network card: the lab needs none, and without one the firmware does not try a network boot.
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -accel tcg -cpu EPYC,+svm,+npt -m 1G -smp "${LAB_CPUS:-1}" \
  -nographic -no-reboot -nic none \
  -kernel "$vmlinuz" -initrd "$initramfs" \
  -append "console=ttyS0 panic=-1 quiet" \
  </dev/null >"$log" 2>&1 || qemu_status=$?
elapsed=$((SECONDS - started))

if [[ -n "$keep" ]]; then
  mkdir -p "$keep"
  cp "$initramfs" "$log" "$keep/"
fi

# The serial console ends lines with CR LF.
tr '\r' '\n' <"$log" | grep -a '^LAB-' || true

if ! tr '\r' '\n' <"$log" | grep -aqx 'LAB-DONE'; then
  if ((qemu_status == 124 || qemu_status == 137)); then
    reason="the lab VM did not finish within ${timeout_s} s (LAB_TIMEOUT)"
  else
    reason="the lab VM ended (qemu status $qemu_status) before LAB-DONE"
  fi
  echo "lab: FAILED: $reason; last lines of the serial log:" >&2
  # Without the firmware's terminal control sequences.
  tr '\r' '\n' <"$log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' | tail -n 40 | sed 's/^/lab:   /' >&2
  exit 1
fi
echo "lab: done in ${elapsed} s" >&2
