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

tilehv_run_fuzzers "$build" "$seconds"
echo "==> fuzzing found nothing"
