#!/usr/bin/env bash
# Blur + edges + encode on a 1080p clip: framepipe against the ffmpeg CLI (gblur + edgedetect),
# the sequential OpenCV loop (bench/blur_canny_loop.cpp, with OpenCV's threads on and with
# cv::setNumThreads(1)) and the hand-written oneTBB parallel_pipeline (bench/blur_canny_tbb.cpp),
# all writing MPEG-4 at about the same bitrate, interleaved in one run.
# Prints a Markdown table of medians: fps, CPU seconds, peak RSS, output size, minor page faults,
# framepipe's speed-up over each, and each output's PSNR against the parallel_pipeline's (a check
# that all do the same work).
# Usage: bench/blur_canny.sh [REPS] [SECONDS]   (defaults: 5 reps, a 10 s clip)
# BC_INPUT=720p uses a 1280x720 clip instead; BC_INPUT=vtest OpenCV's vtest.avi (768x576
# MPEG-4, 795 frames; SECONDS is then ignored).
# The OpenCV programs run with framepipe's heap settings (lib.sh's framepipe_heap).
set -euo pipefail
reps=${1:-5}
seconds=${2:-10}
source "$(dirname "$0")/lib.sh"
case ${BC_INPUT:-1080p} in
  1080p) clip=$(make_clip "1080p-h264-${seconds}s.mp4" 1920x1080 "$seconds")
    described="1920x1080 H.264 (testsrc2)" section="blur+canny+encode" ;;
  720p) clip=$(make_clip "720p-h264-${seconds}s.mp4" 1280x720 "$seconds")
    described="1280x720 H.264 (testsrc2)" section="blur+canny+encode 720p" ;;
  vtest) clip=/usr/share/doc/opencv-doc/examples/data/vtest.avi
    [ -f "$clip" ] || { echo "BC_INPUT=vtest needs $clip (Debian package opencv-doc)" >&2; exit 1; }
    described="vtest.avi (768x576 MPEG-4)" section="blur+canny+encode vtest" ;;
  *) echo "BC_INPUT is 1080p, 720p or vtest, not '$BC_INPUT'" >&2; exit 2 ;;
esac
frames=$(frame_count "$clip")
out="$work/blur-canny"
mkdir -p "$out"

config="$work/blur-canny.yaml"
blur_canny_config "$config" false

names=("ffmpeg CLI (gblur + edgedetect)" "OpenCV loop, cv::setNumThreads(1)"
       "OpenCV loop, OpenCV threads on" "hand-written oneTBB parallel_pipeline, 4 tokens"
       "framepipe")
outputs=("$out/ffmpeg.mp4" "$out/loop1.mp4" "$out/loop.mp4" "$out/tbb.mp4"
         "$out/$(basename "${clip%.*}")-video.mp4")
run_variant() {
  case $1 in
    0) measure ffmpeg -nostdin -v error -y -i "$clip" -vf gblur=sigma=2,edgedetect -c:v mpeg4 \
         -q:v 3 "${outputs[0]}" ;;
    1) measure "${framepipe_heap[@]}" "$build/bench/blur_canny_loop" "$clip" "${outputs[1]}" --threads 1 ;;
    2) measure "${framepipe_heap[@]}" "$build/bench/blur_canny_loop" "$clip" "${outputs[2]}" ;;
    3) measure "${framepipe_heap[@]}" "$build/bench/blur_canny_tbb" "$clip" "${outputs[3]}" ;;
    4) measure "$bin" run "$config" --quiet --input "$clip" --output "$out" ;;
  esac
}
for v in 0 1 2 3 4; do : > "$work/bc-$v.txt"; done
for _ in $(seq "$reps"); do
  for v in 0 1 2 3 4; do run_variant "$v" >> "$work/bc-$v.txt"; done
done

psnr() {
  ffmpeg -nostdin -v info -i "$1" -i "${outputs[3]}" -lavfi psnr -f null - 2>&1 |
    sed -n 's/.*average:\([0-9.inf]*\).*/\1/p'
}
fp=$(column 1 "$work/bc-4.txt")
echo "| program | wall s | fps | framepipe speed-up | cpu s | peak RSS MiB | minor faults | output MB | PSNR vs parallel_pipeline dB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for v in 0 1 2 3 4; do
  wall=$(column 1 "$work/bc-$v.txt")
  awk -v name="${names[$v]}" -v n="$frames" -v w="$wall" -v f="$fp" \
      -v c="$(column 2 "$work/bc-$v.txt")" -v r="$(column 3 "$work/bc-$v.txt")" \
      -v pf="$(column 4 "$work/bc-$v.txt")" -v size="$(stat -c %s "${outputs[$v]}")" \
      -v p="$(psnr "${outputs[$v]}")" 'BEGIN {
    printf "| %s | %.2f | %.1f | %.2f | %.2f | %.0f | %d | %.1f | %s |\n",
      name, w, n / w, w / f, c, r / 1024, pf, size / 1e6, p }'
  ratio "$section" "vs ${names[$v]}" "$(awk -v w="$wall" -v f="$fp" 'BEGIN {print w / f}')"
  if [ "$v" = 3 ]; then
    ratio "$section" "cpu vs ${names[$v]}" "$(awk -v c="$(column 2 "$work/bc-$v.txt")" \
      -v f="$(column 2 "$work/bc-4.txt")" 'BEGIN {print c / f}')"
  fi
done
echo
echo "$frames frames of $described, MPEG-4 output; median of $reps interleaved runs each; whole-process wall time, start-up included; the OpenCV programs with framepipe's heap settings; $(nproc) cores; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)."
