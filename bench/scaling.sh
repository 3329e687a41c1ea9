#!/usr/bin/env bash
# Scaling: the blur + edges + encode pipeline at 1, 2, … threads (up to the machine's cores):
# framepipe (pipeline.threads and decoder threads = N) beside the hand-written oneTBB
# parallel_pipeline (bench/blur_canny_tbb.cpp, N threads, 2N tokens), interleaved. From
# framepipe's report: the bottleneck stage and the overlap efficiency, i.e. the bottleneck's
# busy time per worker over the run's wall time (1.0 = the slowest stage never waited), what
# the report says limits the run (`limited_by`: that stage, or the cores when the process kept
# them ≥ 90% busy while no stage was) and the share of the cores the process used.
# Usage: bench/scaling.sh [REPS] [THREADS...]   (defaults: 3 reps; 1 2 4 8 … up to nproc)
set -euo pipefail
reps=${1:-3}
shift || true
counts=("$@")
source "$(dirname "$0")/lib.sh"
if [ ${#counts[@]} -eq 0 ]; then
  for ((t = 1; t <= $(nproc); t *= 2)); do counts+=("$t"); done
  [ "${counts[-1]}" -eq "$(nproc)" ] || counts+=("$(nproc)")
fi
clip=$(make_clip 1080p-h264-10s.mp4 1920x1080 10)
frames=$(frame_count "$clip")
config="$work/scaling.yaml"
blur_canny_config "$config" true
# most_common N FILE: the most frequent word in column N of FILE.
most_common() { awk -v c="$1" '{print $c}' "$2" | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}'; }
# overlap REPORT: "bottleneck efficiency limited_by cores_busy" from a report.json.
overlap() {
  python3 - "$1" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
stage = next(s for s in report["stages"] if s["name"] == report["bottleneck"])
print(stage["name"], f'{stage["busy_s"] / max(stage["workers"], 1) / report["wall_s"]:.3f}',
      report.get("limited_by"), f'{report["cpu"]["utilization"]:.3f}')
PY
}
echo "| threads | framepipe fps | framepipe speed-up vs 1 thread | parallel_pipeline fps | framepipe / parallel_pipeline | bottleneck | overlap efficiency | limited by | cores busy |"
echo "|---:|---:|---:|---:|---:|---|---:|---|---:|"
base=""
for t in "${counts[@]}"; do
  : > "$work/scale-fp.txt"
  : > "$work/scale-tbb.txt"
  : > "$work/scale-overlap.txt"
  for _ in $(seq "$reps"); do
    measure "$bin" run "$config" --quiet --input "$clip" --output "$work/scaling-out" \
      --set "pipeline.threads=$t" --set "stages.decode.params.threads=$t" >> "$work/scale-fp.txt"
    overlap "$work/scaling-out/report/report.json" >> "$work/scale-overlap.txt"
    measure "$build/bench/blur_canny_tbb" "$clip" "$work/scaling-tbb.mp4" $((2 * t)) "$t" \
      >> "$work/scale-tbb.txt"
  done
  fp=$(column 1 "$work/scale-fp.txt")
  tbb=$(column 1 "$work/scale-tbb.txt")
  [ -n "$base" ] || base=$fp
  bottleneck=$(most_common 1 "$work/scale-overlap.txt")
  efficiency=$(column 2 "$work/scale-overlap.txt")
  limit=$(most_common 3 "$work/scale-overlap.txt")
  cores_busy=$(column 4 "$work/scale-overlap.txt")
  awk -v t="$t" -v n="$frames" -v fp="$fp" -v b="$base" -v tbb="$tbb" -v bn="$bottleneck" \
      -v e="$efficiency" -v l="$limit" -v c="$cores_busy" 'BEGIN {
    printf "| %d | %.1f | %.2f | %.1f | %.2f | %s | %.2f | %s | %.2f |\n", t, n / fp, b / fp, n / tbb, tbb / fp, bn, e, l, c }'
  ratio "scaling" "$t threads: vs parallel_pipeline" "$(awk -v f="$fp" -v p="$tbb" 'BEGIN {print p / f}')"
  ratio "overlap efficiency" "$t threads" "$efficiency"
  ratio "cores busy" "$t threads (limited by $limit)" "$cores_busy"
done
echo
echo "$frames frames of 1920x1080 H.264, MPEG-4 output, profiling on; median of $reps interleaved runs; whole-process wall time; $(nproc) cores; $(date -u +%Y-%m-%d)."
