#!/usr/bin/env bash
# Makes the sample clip the default config reads: 10 s of 1280x720 30 fps H.264 from ffmpeg's
# testsrc2 pattern. Usage: samples/make_sample.sh [OUT] (default samples/media/sample.mp4).
set -euo pipefail
out=${1:-"$(dirname "$0")/media/sample.mp4"}
if [ -s "$out" ]; then exit 0; fi
mkdir -p "$(dirname "$out")"
partial="$(dirname "$out")/.partial-$$-$(basename "$out")"
ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30:duration=10 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p "$partial"
mv "$partial" "$out"
