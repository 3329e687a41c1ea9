#!/usr/bin/env bash
# Scaling and overlap efficiency at 1, 2, … threads (up to the machine's cores), two workloads:
# - cores-bound: the blur + edges + encode pipeline, framepipe (pipeline.threads and decoder
#   threads = N) beside the hand-written oneTBB parallel_pipeline (bench/blur_canny_tbb.cpp,
#   N threads, 2N tokens), interleaved;
# - stage-bound: blur, then x264 with one encoder thread: a serial stage with more work per
#   frame than the rest, which the engine must keep busy.
# From framepipe's report: what limits the run (`limited_by`, the throughput model's tightest
# bound: a stage, the oneTBB threads, the cores or frames in flight) and the overlap
# efficiency, the limit's busy time over its capacity: the stage's busy time per worker, the
# threads' time in stage calls per thread, the process's CPU per core over the run's wall time,
# or the peak frames in flight over the cap (1.0 = the limit never waited). The busiest stage's
# own figure is shown beside it.
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
cores_bound="$work/scaling.yaml"
blur_canny_config "$cores_bound" true
stage_bound="$work/scaling-serial-x264.yaml"
cat > "$stage_bound" <<YAML
pipeline: { name: serial-x264 }
output: { overwrite: true }
stages:
  - { name: decode, type: decode }
  - { name: blur, type: gaussian_blur, concurrency: unlimited, params: { ksize: 5, sigma: 2 } }
  - { name: video, type: encode, params: { codec: libx264, preset: veryfast, threads: 1, path: "{stem}-{stage}.mp4" } }
YAML
# most_common N FILE: the most frequent word in column N of FILE.
most_common() { awk -v c="$1" '{print $c}' "$2" | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}'; }
# overlap REPORT: "busiest busiest_efficiency limited_by limit_efficiency" from a report.json.
overlap() {
  python3 - "$1" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
stage = next(s for s in report["stages"] if s["name"] == report["bottleneck"])
busiest = stage["busy_s"] / max(stage["workers"], 1) / report["wall_s"]
limit = report.get("limited_by")
against = {"stage": busiest, "threads": report["cpu"]["threads_utilization"],
           "cores": report["cpu"]["utilization"],
           "frames_in_flight": report["peak_frames_in_flight"] / report["max_frames_in_flight"]}[limit]
print(stage["name"], f"{busiest:.3f}", limit, f"{against:.3f}")
PY
}
# framepipe_run CONFIG THREADS OUT: one measured run, its overlap figures appended to OUT.overlap.
framepipe_run() {
  measure "$bin" run "$1" --quiet --input "$clip" --output "$work/scaling-out" \
    --set "pipeline.threads=$2" --set "stages.decode.params.threads=$2"
  overlap "$work/scaling-out/report/report.json" >> "$3.overlap"
}
# summarize WORKLOAD THREADS OUT: median efficiencies and the usual limit, as table cells.
summarize() {
  local bottleneck busiest limit against
  bottleneck=$(most_common 1 "$3.overlap")
  busiest=$(column 2 "$3.overlap")
  limit=$(most_common 3 "$3.overlap")
  against=$(column 4 "$3.overlap")
  ratio "overlap efficiency" "$1, threads $2 (limited by $limit)" "$against"
  printf '%s | %.2f | %s | %.2f' "$bottleneck" "$busiest" "$limit" "$against"
}
echo "Cores-bound: blur + gray + canny + MPEG-4."
echo
echo "| threads | framepipe fps | framepipe speed-up vs 1 thread | parallel_pipeline fps | framepipe / parallel_pipeline | busiest stage | its efficiency | limited by | overlap efficiency |"
echo "|---:|---:|---:|---:|---:|---|---:|---|---:|"
base=""
for t in "${counts[@]}"; do
  out="$work/scale-$t"
  : > "$out.fp"; : > "$out.tbb"; : > "$out.overlap"
  for _ in $(seq "$reps"); do
    framepipe_run "$cores_bound" "$t" "$out" >> "$out.fp"
    measure "${framepipe_heap[@]}" "$build/bench/blur_canny_tbb" "$clip" "$work/scaling-tbb.mp4" \
      $((2 * t)) "$t" >> "$out.tbb"
  done
  fp=$(column 1 "$out.fp")
  tbb=$(column 1 "$out.tbb")
  [ -n "$base" ] || base=$fp
  ratio "scaling" "threads $t: vs parallel_pipeline" "$(awk -v f="$fp" -v p="$tbb" 'BEGIN {print p / f}')"
  awk -v t="$t" -v n="$frames" -v fp="$fp" -v b="$base" -v tbb="$tbb" \
      -v rest="$(summarize "cores-bound" "$t" "$out")" 'BEGIN {
    printf "| %d | %.1f | %.2f | %.1f | %.2f | %s |\n", t, n / fp, b / fp, n / tbb, tbb / fp, rest }'
done
echo
echo "Stage-bound: blur, then x264 (veryfast) with one encoder thread."
echo
echo "| threads | framepipe fps | busiest stage | its efficiency | limited by | overlap efficiency |"
echo "|---:|---:|---|---:|---|---:|"
for t in "${counts[@]}"; do
  out="$work/scale-serial-$t"
  : > "$out.fp"; : > "$out.overlap"
  for _ in $(seq "$reps"); do framepipe_run "$stage_bound" "$t" "$out" >> "$out.fp"; done
  awk -v t="$t" -v n="$frames" -v fp="$(column 1 "$out.fp")" \
      -v rest="$(summarize "stage-bound" "$t" "$out")" 'BEGIN {
    printf "| %d | %.1f | %s |\n", t, n / fp, rest }'
done
echo
echo "$frames frames of 1920x1080 H.264, profiling on; median of $reps interleaved runs; whole-process wall time; $(nproc) cores; $(date -u +%Y-%m-%d)."
