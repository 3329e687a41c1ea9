#!/usr/bin/env bash
# Builds framepipe, makes a sample clip, and runs configs/default.yaml on it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
"$root/samples/make_sample.sh" "$root/samples/media/sample.mp4"
cd "$root"
./build/app/framepipe run configs/default.yaml --input samples/media/sample.mp4 --output out
