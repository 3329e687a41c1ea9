#!/usr/bin/env bash
# What pipeline.isolation: process costs per file: the same batch of FILES tiny clips (64x48,
# 10 frames) with each file on a thread of the batch and with each file in a worker process
# (start, config load and check, report sent back), interleaved in one run. Tiny files make
# the per-file cost stand out; on real videos it is the same few milliseconds per file.
# Usage: bench/isolation_cost.sh [REPS] [FILES]   (default 5 and 20)
set -euo pipefail
reps=${1:-5}
files=${2:-20}
source "$(dirname "$0")/lib.sh"
clip="$work/isolation-64x48-10f.mp4"
[ -s "$clip" ] || ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48:rate=10:duration=1 \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$clip"
inputs="$work/isolation-in"
rm -rf "$inputs"
mkdir -p "$inputs"
for i in $(seq "$files"); do cp "$clip" "$inputs/clip$i.mp4"; done
config="$work/isolation.yaml"
cat > "$config" <<YAML
pipeline: { name: isolation-cost }
output: { overwrite: true }
stages:
  - { type: decode }
  - { type: gaussian_blur }
  - { type: encode, params: { codec: mpeg4, path: "{stem}.avi" } }
YAML

echo "| files at once | s, thread | s, process | process / thread | ms per file, thread | ms per file, process | extra ms per file | cpu s thread | cpu s process |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for parallel in 1 2; do
  : > "$work/thread.txt"
  : > "$work/process.txt"
  for _ in $(seq "$reps"); do
    for mode in thread process; do
      rm -rf "$work/isolation-out-$mode"
      measure "$bin" run "$config" --quiet --input "$inputs" --output "$work/isolation-out-$mode" \
        --set "pipeline.isolation=$mode" --set "pipeline.files_in_parallel=$parallel" \
        >> "$work/$mode.txt"
    done
  done
  awk -v p="$parallel" -v n="$files" -v t="$(column 1 "$work/thread.txt")" \
      -v s="$(column 1 "$work/process.txt")" -v ct="$(column 2 "$work/thread.txt")" \
      -v cs="$(column 2 "$work/process.txt")" 'BEGIN {
    printf "| %d | %.2f | %.2f | %.2f | %.1f | %.1f | %.1f | %.2f | %.2f |\n",
      p, t, s, s / t, 1000 * t / n, 1000 * s / n, 1000 * (s - t) / n, ct, cs }'
done
echo
echo "$files files of 64x48 H.264, 10 frames each (decode → gaussian_blur → MPEG-4 encode, report written), median of $reps interleaved runs; whole-process wall time; $(nproc) cores; $(date -u +%Y-%m-%d)."
