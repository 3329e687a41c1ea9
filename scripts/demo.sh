#!/usr/bin/env bash
# Installs what building and running needs (not the test suite's packages), builds only the
# `framepipe` binary, makes a sample clip, and runs configs/default.yaml on it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" --runtime
"$root/samples/make_sample.sh" "$root/samples/media/sample.mp4"
cd "$root"
./build/app/framepipe run configs/default.yaml --input samples/media/sample.mp4 --output out
