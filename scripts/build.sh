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
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
    -DFRAMEPIPE_BUILD_TESTS=OFF "$@" >/dev/null
  cmake --build "$build" -j "$(nproc)" --target framepipe
else
  "$root/scripts/install-deps.sh"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
    -DFRAMEPIPE_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$build" -j "$(nproc)"
fi
