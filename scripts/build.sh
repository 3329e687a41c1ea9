#!/usr/bin/env bash
# Installs missing packages, then configures and builds framepipe in build/ (or $BUILD_DIR).
#   scripts/build.sh [CMAKE_ARGS...]            everything, the test suite included
#   scripts/build.sh --runtime [CMAKE_ARGS...]  only the `framepipe` binary and what it needs
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-"$root/build"}
if [ "${1:-}" = "--runtime" ]; then
  shift
  "$root/scripts/install-deps.sh" --runtime
  # A unity build without debug information: the sources compile in a few large files, so the
  # headers every file includes (OpenCV, oneTBB, nlohmann/json) are parsed a few times instead
  # of 80 (bench/RESULTS.md, "Demo from a fresh clone": half the CPU time).
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} -DCMAKE_UNITY_BUILD=ON \
    -DFRAMEPIPE_BUILD_TESTS=OFF "$@" >/dev/null
  cmake --build "$build" -j "$(nproc)" --target framepipe
else
  "$root/scripts/install-deps.sh"
  # A unity build too (the tests' files as well), with debug information: CI builds from scratch
  # three times (here, scripts/sanitize.sh, scripts/tsan.sh), and this halves each.
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
    -DCMAKE_UNITY_BUILD=ON -DFRAMEPIPE_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$build" -j "$(nproc)"
fi
