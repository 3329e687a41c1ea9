#!/usr/bin/env bash
# Builds framepipe and runs the whole test suite (fixtures are generated with the ffmpeg CLI).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
cd "${BUILD_DIR:-"$root/build"}"
ctest --output-on-failure -j "$(nproc)" --timeout 300
