#!/usr/bin/env bash
# People detection (HOG) throughput: framepipe (decode -> detect_people -> write_detections)
# against the loop an OpenCV user writes by hand (bench/hog_loop.cpp: VideoCapture +
# HOGDescriptor::detectMultiScale, same parameters), with OpenCV's threads on and with
# cv::setNumThreads(1), and against the hand-written oneTBB parallel_pipeline
# (bench/hog_tbb.cpp), on the first FRAMES frames of OpenCV's vtest.avi (768x576), interleaved.
# Prints a Markdown table of medians and each variant's speed-up over the sequential loop. The
# OpenCV programs run with framepipe's heap settings (lib.sh's framepipe_heap).
# Usage: bench/hog_vs_loop.sh [REPS] [FRAMES]   (defaults: 5 reps, 100 frames)
#        BUILD=build-other bench/hog_vs_loop.sh   (another build folder; default build/)
set -euo pipefail
reps=${1:-5}
frames=${2:-100}
source "$(dirname "$0")/lib.sh"
loop="$build/bench/hog_loop"
pipeline="$build/bench/hog_tbb"
[ -x "$loop" ] && [ -x "$pipeline" ] || { echo "build first: $loop and $pipeline" >&2; exit 1; }

source_video=/usr/share/doc/opencv-doc/examples/data/vtest.avi
[ -s "$source_video" ] || { echo "needs $source_video (Debian package opencv-doc)" >&2; exit 1; }
clip="$work/vtest-$frames.avi"
if [ ! -s "$clip" ]; then
  ffmpeg -nostdin -v error -y -i "$source_video" -frames:v "$frames" -c copy "$work/.partial.avi"
  mv "$work/.partial.avi" "$clip"
fi
frames=$(frame_count "$clip")

config="$work/hog.yaml"
cat > "$config" <<'EOF'
pipeline: { name: hog-bench, threads: 0, max_frames_in_flight: 16, profile: false }
output: { overwrite: true }
stages:
  - { name: decode, type: decode }
  - { name: people, type: detect_people, concurrency: 2 }
  - { name: json,   type: write_detections, params: { path: "{stem}.jsonl" } }
EOF

names=("loop, cv::setNumThreads(1)" "loop, OpenCV threads on"
       "hand-written oneTBB parallel_pipeline, 4 tokens" "framepipe, concurrency 1"
       "framepipe, concurrency 2")
run_variant() {
  case $1 in
    0) measure "${framepipe_heap[@]}" "$loop" "$clip" --threads 1 ;;
    1) measure "${framepipe_heap[@]}" "$loop" "$clip" ;;
    2) measure "${framepipe_heap[@]}" "$pipeline" "$clip" ;;
    3 | 4) measure "$bin" run "$config" --quiet --input "$clip" --output "$work/hog-out" \
         --set "stages.people.concurrency=$(($1 - 2))" ;;
  esac
}
for v in 0 1 2 3 4; do : > "$work/hog-$v.txt"; done
for _ in $(seq "$reps"); do
  for v in 0 1 2 3 4; do run_variant "$v" >> "$work/hog-$v.txt"; done
done

# Detections found, as a check that both sides do the same work: the loop's own count, and the
# lines framepipe wrote (its decoder converts YUV to BGR itself, so a box may differ).
loop_count=$("$loop" "$clip" | awk '{print $4}')
pipeline_count=$("$pipeline" "$clip" | awk '{print $4}')
fp_count=$(wc -l < "$work/hog-out/vtest-$frames.jsonl")

base=$(column 1 "$work/hog-0.txt")
echo "| variant | wall s | fps | speed-up vs sequential loop | cpu s | peak RSS MiB | detections |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for v in 0 1 2 3 4; do
  counts=("$loop_count" "$loop_count" "$pipeline_count" "$fp_count" "$fp_count")
  count=${counts[$v]}
  awk -v name="${names[$v]}" -v n="$frames" -v w="$(column 1 "$work/hog-$v.txt")" -v b="$base" \
      -v c="$(column 2 "$work/hog-$v.txt")" -v r="$(column 3 "$work/hog-$v.txt")" -v d="$count" \
      'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.2f | %.0f | %d |\n", name, w, n / w, b / w, c, r / 1024, d }'
done
fp=$(column 1 "$work/hog-4.txt")
for v in 0 1 2; do
  ratio "HOG people detection" "vs ${names[$v]}" \
    "$(awk -v w="$(column 1 "$work/hog-$v.txt")" -v f="$fp" 'BEGIN {print w / f}')"
done
echo
echo "$frames frames of vtest.avi (768x576 MPEG-4), HOG scale 1.05, win_stride 8, group_threshold 2; median of $reps interleaved runs each; whole-process wall time, start-up included; the OpenCV programs with framepipe's heap settings; $(nproc) cores; $(date -u +%Y-%m-%d)."
