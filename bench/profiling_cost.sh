#!/usr/bin/env bash
# What profiling costs: the same pipelines with pipeline.profile on (every call recorded, the
# run sampled 40 times a second, report.json + trace.json + report.html written) and off
# (totals only, no report), interleaved in one run on the same 1080p clip.
# decode-only runs take under a second, where the machine's noise is a few percent of a run,
# so it gets 5 × REPS pairs of runs; the default config's take several seconds and get 3 × REPS
# (3 pairs varied by more than the 3% they were to show). The on / off ratio is the median of
# each pair's own ratio, so a drift in the machine's load between pairs cancels out.
# Usage: bench/profiling_cost.sh [REPS]   (default 5)
set -euo pipefail
reps=${1:-5}
source "$(dirname "$0")/lib.sh"
clip=$(make_clip 1080p-h264-10s.mp4 1920x1080 10)
frames=$(frame_count "$clip")

echo "| pipeline | fps, profile on | fps, profile off | on / off (wall) | on / off (cpu) | cpu s on | cpu s off |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for config in decode-only default; do
  : > "$work/on.txt"
  : > "$work/off.txt"
  runs=$((3 * reps))
  [ "$config" != decode-only ] || runs=$((5 * reps))
  for _ in $(seq "$runs"); do
    for mode in on off; do
      flag=true
      [ "$mode" = on ] || flag=false
      measure "$bin" run "$root/configs/$config.yaml" --quiet --input "$clip" \
        --output "$work/out-$mode" --set "pipeline.profile=$flag" >> "$work/$mode.txt"
    done
  done
  # Each pair's off / on: wall time, then CPU time.
  pair_ratio() { paste -d' ' "$work/on.txt" "$work/off.txt" | awk -v c="$1" '{print $(c + 4) / $c}' | median; }
  wall_ratio=$(pair_ratio 1)
  awk -v name="$config" -v n="$frames" -v on="$(column 1 "$work/on.txt")" \
      -v off="$(column 1 "$work/off.txt")" -v con="$(column 2 "$work/on.txt")" \
      -v coff="$(column 2 "$work/off.txt")" -v r="$wall_ratio" -v cr="$(pair_ratio 2)" 'BEGIN {
    printf "| %s | %.1f | %.1f | %.3f | %.3f | %.2f | %.2f |\n", name, n / on, n / off, r, cr, con, coff }'
  ratio "profiling cost" "$config: profile on / off" "$wall_ratio"
done
echo
echo "$frames frames of 1920x1080 H.264, $((5 * reps)) (decode-only) and $((3 * reps)) (default) interleaved pairs of runs; fps and CPU seconds are medians, on / off the median of each pair's ratio; whole-process wall time; $(nproc) cores; $(date -u +%Y-%m-%d)."
