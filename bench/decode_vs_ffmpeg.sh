#!/usr/bin/env bash
# Decode-only throughput: framepipe (decode -> discard) against `ffmpeg -threads N -i IN -f null -`
# on the same 1080p H.264 clip, at the same decoder thread counts, interleaved in one run.
# Prints a Markdown table of medians and the framepipe/ffmpeg fps ratio.
# Usage: bench/decode_vs_ffmpeg.sh [REPS] [THREADS...]   (defaults: 5 reps; threads 1 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
reps=${1:-5}
shift || true
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
bin="$root/build/app/framepipe"
work="$root/bench/work"
clip="$work/1080p-h264-10s.mp4"
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
[ -x "$bin" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
if [ ! -s "$clip" ]; then
  ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=10 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$work/.partial.mp4"
  mv "$work/.partial.mp4" "$clip"
fi
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$clip")

# One measured run: prints "wall_s cpu_s peak_rss_kib".
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" >/dev/null 2>&1
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/time.txt"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "| decoder threads | ffmpeg fps | framepipe fps | ratio | ffmpeg cpu s | framepipe cpu s | ffmpeg peak RSS MiB | framepipe peak RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in "${threads[@]}"; do
  : > "$work/ff.txt"
  : > "$work/fp.txt"
  for _ in $(seq "$reps"); do
    measure ffmpeg -nostdin -v error -threads "$t" -i "$clip" -f null - >> "$work/ff.txt"
    measure "$bin" run "$root/configs/decode-only.yaml" --quiet --input "$clip" \
      --output "$work/out" --set "stages.decode.params.threads=$t" >> "$work/fp.txt"
  done
  ff_wall=$(awk '{print $1}' "$work/ff.txt" | median)
  fp_wall=$(awk '{print $1}' "$work/fp.txt" | median)
  ff_cpu=$(awk '{print $2}' "$work/ff.txt" | median)
  fp_cpu=$(awk '{print $2}' "$work/fp.txt" | median)
  ff_rss=$(awk '{print $3}' "$work/ff.txt" | median)
  fp_rss=$(awk '{print $3}' "$work/fp.txt" | median)
  awk -v t="$t" -v n="$frames" -v fw="$ff_wall" -v pw="$fp_wall" -v fc="$ff_cpu" -v pc="$fp_cpu" \
      -v fr="$ff_rss" -v pr="$fp_rss" 'BEGIN {
    printf "| %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.0f | %.0f |\n",
      t, n / fw, n / pw, fw / pw, fc, pc, fr / 1024, pr / 1024 }'
done
echo
echo "$frames frames of 1920x1080 H.264 (testsrc2), median of $reps interleaved runs each; whole-process wall time, so start-up is included; $(nproc) cores; $(date -u +%Y-%m-%d)."
