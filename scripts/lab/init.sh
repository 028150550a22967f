#!/bin/sh
# Lab init: the /init of the lab VM's initramfs. Loads KVM, runs every lab case with tilehv on the
# VM's nested KVM, and reports on the serial console in lines the host parses:
#
#   LAB-BEGIN kernel=<release> cpus=<n>
#   LAB-RESULT <case> status=<n> seconds=<s>     tilehv's exit status and wall time (137: the
#                                                 case outlived LAB_CASE_LIMIT and was killed)
#   LAB-STDERR <case> <line>                      tilehv's stderr (first 20 lines)
#   LAB-STDOUT <case> <line>                      the guest console (first 20 lines)
#   LAB-SKIP <case> <reason>                      the case's guest kernel is not in the lab
#   LAB-ERROR <reason>                            the lab cannot run; followed by the kernel log
#   LAB-DONE                                      every case ran
#
# Runs under busybox sh as PID 1; it must never exit (the kernel would panic), so it ends with a
# forced power-off.

export PATH=/bin

# The lab cases: one per line, the name, the guest kernel in /lab/guest, then tilehv's arguments
# after `run --kernel <kernel>`. Every case has a --timeout so a hung guest cannot stall the lab.
LAB_CASES='
triple-fault    triple-fault.elf    --timeout 20
hello           hello.elf           --cmdline lab=1 --timeout 20
smp             smp.elf             --vcpus 2 --timeout 20
exception       exception.elf       --timeout 20
internal-error  internal-error.elf  --timeout 20
sse             sse.elf             --timeout 20
'

# A case that outlives its own --timeout by this much is killed, so one stuck case cannot stall the
# rest of the lab.
LAB_CASE_LIMIT=60

# Lines of a case's output are capped so a flooding guest cannot drown the serial console.
LAB_MAX_LINES=20

power_off() {
  sync
  poweroff -f
  # poweroff -f does not return; if it ever does, idle rather than let PID 1 exit.
  while :; do sleep 3600; done
}

fail() {
  echo "LAB-ERROR $*"
  dmesg | tail -n 30 | while IFS= read -r line; do echo "LAB-LOG $line"; done
  power_off
}

# Seconds since boot with centisecond resolution, from /proc/uptime.
uptime_s() {
  read -r up _ </proc/uptime
  echo "$up"
}

# prefix_lines PREFIX FILE: the first LAB_MAX_LINES lines of FILE, each after PREFIX; a last line
# without its newline is printed too.
prefix_lines() {
  n=0
  while [ "$n" -lt "$LAB_MAX_LINES" ] && { IFS= read -r line || [ -n "$line" ]; }; do
    echo "$1 $line"
    n=$((n + 1))
  done <"$2"
}

run_case() {
  name=$1
  kernel=$2
  shift 2
  if [ ! -e "/lab/guest/$kernel" ]; then
    echo "LAB-SKIP $name $kernel is not among the guest kernels"
    return
  fi
  start=$(uptime_s)
  # stdin from /dev/null: the case table is read from stdin of the calling loop.
  timeout -s KILL "$LAB_CASE_LIMIT" /lab/tilehv run --kernel "/lab/guest/$kernel" "$@" </dev/null >"/tmp/$name.out" 2>"/tmp/$name.err"
  status=$?
  end=$(uptime_s)
  echo "LAB-RESULT $name status=$status seconds=$(echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }')"
  prefix_lines "LAB-STDERR $name" "/tmp/$name.err"
  prefix_lines "LAB-STDOUT $name" "/tmp/$name.out"
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# Only emergencies reach the console, so kernel messages cannot split a LAB line.
echo 1 >/proc/sys/kernel/printk

# A fresh line first: the firmware and the kernel leave terminal control sequences on the current one.
echo
echo "LAB-BEGIN kernel=$(uname -r) cpus=$(nproc)"

# /lab/modules.order lists the modules dependencies first, as the host resolved them.
while IFS= read -r module; do
  [ -n "$module" ] || continue
  insmod "/lab/modules/$module" || fail "insmod $module failed"
done </lab/modules.order

# devtmpfs creates the node when kvm registers its misc device.
[ -c /dev/kvm ] || fail "/dev/kvm is missing after loading the KVM modules"

echo "$LAB_CASES" | while read -r name kernel args; do
  [ -n "$name" ] || continue
  # $args unquoted on purpose: it is split into tilehv's arguments.
  # shellcheck disable=SC2086
  run_case "$name" "$kernel" $args
done

echo "LAB-DONE"
power_off
