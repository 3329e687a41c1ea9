#!/usr/bin/env bash
# A folder of short 720p clips: framepipe with files_in_parallel 2 against a shell loop running
# the ffmpeg CLI per file and against `xargs -P 2` running it, same filters (Gaussian blur
# sigma 2 + edge detection) and encoder (mpeg4 -q:v 5), interleaved in one run.
# Usage: bench/batch_vs_ffmpeg.sh [CLIPS] [REPS]   (default 40 clips, 1 rep)
set -euo pipefail
clips=${1:-40}
reps=${2:-1}
source "$(dirname "$0")/lib.sh"
folder="$work/batch-$clips"
if [ ! -d "$folder" ]; then
  mkdir -p "$folder.partial"
  for i in $(seq -w 1 "$clips"); do
    seconds=$((2 + 10#$i % 2))
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=$seconds" \
      -c:v libx264 -preset veryfast -pix_fmt yuv420p "$folder.partial/clip$i.mp4"
  done
  mv "$folder.partial" "$folder"
fi
frames=0
for clip in "$folder"/*.mp4; do frames=$((frames + $(frame_count "$clip"))); done
cat > "$work/batch.yaml" <<YAML
pipeline: { files_in_parallel: 2, profile: false }
output: { overwrite: true }
stages:
  - { name: decode, type: decode }
  - { name: blur, type: gaussian_blur, params: { ksize: 0, sigma: 2 } }
  - { name: edges, type: canny }
  - { name: video, type: encode, params: { codec: mpeg4, quality: 5, path: "{stem}.mp4" } }
YAML
ffmpeg_one() {
  ffmpeg -nostdin -v error -y -i "$1" -vf gblur=sigma=2,edgedetect -c:v mpeg4 -q:v 5 "$2/$(basename "$1")"
}
export -f ffmpeg_one
loop() { for clip in "$folder"/*.mp4; do ffmpeg_one "$clip" "$1"; done; }
export -f loop
export folder

: > "$work/fp.txt"; : > "$work/loop.txt"; : > "$work/xargs.txt"
for _ in $(seq "$reps"); do
  rm -rf "$work"/out-*; mkdir -p "$work/out-loop" "$work/out-xargs"
  measure "$bin" run "$work/batch.yaml" --quiet --input "$folder" --output "$work/out-fp" >> "$work/fp.txt"
  measure bash -c "loop $work/out-loop" >> "$work/loop.txt"
  measure bash -c "ls $folder/*.mp4 | xargs -P 2 -I{} bash -c 'ffmpeg_one {} $work/out-xargs'" >> "$work/xargs.txt"
done
fp=$(column 1 "$work/fp.txt"); lp=$(column 1 "$work/loop.txt"); xa=$(column 1 "$work/xargs.txt")
echo "| what | wall s | fps | framepipe speed-up |"
echo "|---|---:|---:|---:|"
awk -v n="$frames" -v fp="$fp" -v lp="$lp" -v xa="$xa" 'BEGIN {
  printf "| framepipe, files_in_parallel 2 | %.2f | %.1f | 1.00 |\n", fp, n / fp
  printf "| shell loop of ffmpeg CLI | %.2f | %.1f | %.2f |\n", lp, n / lp, lp / fp
  printf "| xargs -P 2 ffmpeg CLI | %.2f | %.1f | %.2f |\n", xa, n / xa, xa / fp }'
echo
echo "$clips clips of 1280x720 (2-3 s, $frames frames), median of $reps run(s); $(nproc) cores; $(date -u +%Y-%m-%d)."
