#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine: installs what is missing, builds tilehv, tilehvd,
# tilectl and the guest SDK's example kernels, starts the tile daemon on the demo policy
# (policies/examples/demo-tile.template.json, filled in with the images built here and their
# hashes), and shows the partitions running with their sensor and network activity. Ctrl-C, or the
# end of --duration SECONDS, stops every partition and the daemon.
#
#   scripts/demo.sh [--duration SECONDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

duration=0
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    *) echo "usage: scripts/demo.sh [--duration SECONDS]" >&2; exit 64 ;;
  esac
done

tilehv_install_deps
if problem=$(tilehv_kvm_problem) && [[ -n "$problem" ]]; then
  echo "tilehv demo: $problem" >&2
  exit 1
fi
echo "==> building tilehv, tilehvd, tilectl and the guest kernels"
tilehv_build "$TILEHV_ROOT/build" -- tilehv tilehvd tilectl guest-kernels >/dev/null

build="$TILEHV_ROOT/build"
work="$(mktemp -d /tmp/tilehv-demo-XXXXXX)"
socket="$work/tilehvd.sock"
policy="$work/demo-tile.json"
tilectl=("$build/partitions/tilectl/tilectl" --socket "$socket")
daemon_pid=""

shutdown() {
  trap - INT TERM EXIT
  echo
  echo "==> stopping every partition and the daemon"
  "${tilectl[@]}" stop --all >/dev/null 2>&1 || true
  if [[ -n "$daemon_pid" ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  echo "    the tile's state and logs stay in $work"
  exit 0
}
trap shutdown INT TERM EXIT

"$TILEHV_ROOT/policies/render-template.sh" "$TILEHV_ROOT/policies/examples/demo-tile.template.json" "$build/guest" >"$policy"
jail=()
if [[ $(id -u) -ne 0 ]]; then
  # Without root there is no jail: the demo policy then says so in its own words.
  jail=(--no-jail)
  sentence='I understand that unjailed partitions run with the full rights of tilehvd on this host.'
  sed -i "0,/{/s|{|{\n  \"development\": { \"unjailed\": \"$sentence\" },|" "$policy"
fi
echo "==> starting tilehvd (state in $work/state)"
"$build/partitions/daemon/tilehvd" --socket "$socket" --state-dir "$work/state" "${jail[@]}" 2>"$work/tilehvd.log" &
daemon_pid=$!
for _ in $(seq 100); do
  [[ -S "$socket" ]] && break
  sleep 0.1
done

echo "==> tilectl apply $policy"
"${tilectl[@]}" apply "$policy" --yes

started=$SECONDS
while ((duration == 0 || SECONDS - started < duration)); do
  sleep 3
  echo
  echo "==> tilectl get partitions   ($((SECONDS - started)) s)"
  "${tilectl[@]}" get partitions
  for name in sensor-logger aggregator; do
    "${tilectl[@]}" describe "$name" -o json 2>/dev/null |
      python3 -c 'import json,sys; d=json.load(sys.stdin).get("devices",{}); n=d.get("network",{}); s=d.get("sensors",{});
print("    %-14s network rx %s tx %s frames; sensor samples %s" % (sys.argv[1], n.get("rx_frames","-"), n.get("tx_frames","-"),
      sum(v.get("samples_delivered",0) for v in s.values()) if s else "-"))' "$name" || true
  done
done
