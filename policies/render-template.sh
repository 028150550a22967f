#!/usr/bin/env bash
# Renders a policy template (policies/examples/*.template.*) into a policy: every @GUEST_DIR@ becomes
# the guest kernel folder (absolute), every @SHA256:NAME@ the sha256 of GUEST_DIR/NAME. Templates exist
# because a policy fixes its images' hashes and kernel builds are not bit-for-bit reproducible across
# compilers; the rendered policy is what gets validated and applied.
#
#   policies/render-template.sh TEMPLATE GUEST_DIR > policy.json
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 TEMPLATE GUEST_DIR" >&2
  exit 2
fi
template="$1"
guest_dir="$(cd "$2" && pwd)"

text="$(cat "$template")"
text="${text//@GUEST_DIR@/$guest_dir}"
# Each distinct placeholder once, in order of appearance.
for name in $(grep -o '@SHA256:[^@]*@' "$template" | sed 's/^@SHA256:\(.*\)@$/\1/' | sort -u); do
  case "$name" in
    */* | .* | "") echo "$0: image name '$name' must be a plain file name in GUEST_DIR" >&2; exit 1 ;;
  esac
  if [[ ! -f "$guest_dir/$name" ]]; then
    echo "$0: $guest_dir/$name: no such image" >&2
    exit 1
  fi
  sum="$(sha256sum "$guest_dir/$name" | cut -d' ' -f1)"
  text="${text//@SHA256:$name@/$sum}"
done
printf '%s\n' "$text"
