#!/usr/bin/env bash
# Builds framepipe with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and runs
# the whole test suite under them; any report fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build="$root/build-asan"
cmake -S "$root" -B "$build" -DFRAMEPIPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --output-on-failure -j "$(nproc)" --timeout 600
