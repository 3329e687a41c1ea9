#!/usr/bin/env bash
# Bounded memory: peak RSS of the blur + edges + encode pipeline (profiling on, its default) on a
# 10 s and a 60 s 1080p clip at max_frames_in_flight 8 and 32. A bounded pipeline's peak does
# not grow with the video's length.
# Usage: bench/memory.sh [REPS]   (default 1; peak RSS varies little between runs)
set -euo pipefail
reps=${1:-1}
source "$(dirname "$0")/lib.sh"
short=$(make_clip 1080p-h264-10s.mp4 1920x1080 10)
long=$(make_clip 1080p-h264-60s.mp4 1920x1080 60)
config="$work/memory.yaml"
blur_canny_config "$config" true
echo "| max_frames_in_flight | peak RSS MiB, 10 s clip | peak RSS MiB, 60 s clip | 60 s / 10 s | fps, 60 s clip |"
echo "|---:|---:|---:|---:|---:|"
for cap in 8 32; do
  : > "$work/mem-short.txt"
  : > "$work/mem-long.txt"
  for _ in $(seq "$reps"); do
    for length in short long; do
      clip=$short
      [ "$length" = short ] || clip=$long
      measure "$bin" run "$config" --quiet --input "$clip" --output "$work/memory-out" \
        --set "pipeline.max_frames_in_flight=$cap" >> "$work/mem-$length.txt"
    done
  done
  rs=$(column 3 "$work/mem-short.txt")
  rl=$(column 3 "$work/mem-long.txt")
  awk -v cap="$cap" -v rs="$rs" -v rl="$rl" -v w="$(column 1 "$work/mem-long.txt")" \
      -v n="$(frame_count "$long")" 'BEGIN {
    printf "| %d | %.0f | %.0f | %.3f | %.1f |\n", cap, rs / 1024, rl / 1024, rl / rs, n / w }'
  ratio "memory" "peak RSS 10 s / 60 s, cap $cap" "$(awk -v rs="$rs" -v rl="$rl" 'BEGIN {print rs / rl}')"
done
echo
echo "1920x1080 H.264 clips (testsrc2, 300 and 1800 frames), MPEG-4 output, profiling on; median of $reps run(s); peak RSS from /usr/bin/time; $(nproc) cores; $(date -u +%Y-%m-%d)."
