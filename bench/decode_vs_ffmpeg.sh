#!/usr/bin/env bash
# Decode-only throughput: framepipe (decode -> discard) against `ffmpeg -threads N -i IN -f null -`
# on the same 1080p H.264 clip, at the same decoder thread counts, interleaved in one run.
# Prints a Markdown table of medians and the framepipe/ffmpeg fps ratio, whole-process and
# without each program's start-up (its wall time on a 3-frame clip of the same kind).
# Usage: bench/decode_vs_ffmpeg.sh [REPS] [THREADS...]   (defaults: 5 reps; threads 1 2)
#        THREADS "default": framepipe's config as shipped (decoder threads 0, libav's choice)
#        against `ffmpeg -threads $(nproc)`, the comparison issue 22 sets a target for.
set -euo pipefail
reps=${1:-5}
shift || true
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
source "$(dirname "$0")/lib.sh"
clip=$(make_clip 1080p-h264-10s.mp4 1920x1080 10)
frames=$(frame_count "$clip")
tiny=$(make_clip 1080p-h264-3f.mp4 1920x1080 0.1)

echo "| decoder threads | ffmpeg fps | framepipe fps | ratio | ffmpeg cpu s | framepipe cpu s | ffmpeg peak RSS MiB | framepipe peak RSS MiB | start-up s, ffmpeg / framepipe | ratio without start-up |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
# ffmpeg_run CLIP THREADS, framepipe_run CLIP THREADS: one measured decode.
ffmpeg_run() {
  local threads=$2
  [ "$threads" != default ] || threads=$(nproc)
  measure ffmpeg -nostdin -v error -threads "$threads" -i "$1" -f null -
}
framepipe_run() {
  local settings=(--set "stages.decode.params.threads=$2")
  [ "$2" != default ] || settings=()
  measure "$bin" run "$root/configs/decode-only.yaml" --quiet --input "$1" --output "$work/out" \
    "${settings[@]}"
}
for t in "${threads[@]}"; do
  : > "$work/ff.txt"
  : > "$work/fp.txt"
  : > "$work/ff-start.txt"
  : > "$work/fp-start.txt"
  for _ in $(seq "$reps"); do
    ffmpeg_run "$clip" "$t" >> "$work/ff.txt"
    framepipe_run "$clip" "$t" >> "$work/fp.txt"
    ffmpeg_run "$tiny" "$t" >> "$work/ff-start.txt"
    framepipe_run "$tiny" "$t" >> "$work/fp-start.txt"
  done
  ff_start=$(column 1 "$work/ff-start.txt")
  fp_start=$(column 1 "$work/fp-start.txt")
  ff_wall=$(column 1 "$work/ff.txt")
  fp_wall=$(column 1 "$work/fp.txt")
  ff_cpu=$(column 2 "$work/ff.txt")
  fp_cpu=$(column 2 "$work/fp.txt")
  ff_rss=$(column 3 "$work/ff.txt")
  fp_rss=$(column 3 "$work/fp.txt")
  label="vs ffmpeg -threads $t"
  shown=$t
  if [ "$t" = default ]; then
    label="framepipe's default vs ffmpeg -threads $(nproc)"
    shown="framepipe 0 (its default) / ffmpeg $(nproc)"
  fi
  awk -v t="$shown" -v n="$frames" -v fw="$ff_wall" -v pw="$fp_wall" -v fc="$ff_cpu" -v pc="$fp_cpu" \
      -v fr="$ff_rss" -v pr="$fp_rss" -v fs="$ff_start" -v ps="$fp_start" 'BEGIN {
    printf "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.0f | %.0f | %.2f / %.2f | %.2f |\n",
      t, n / fw, n / pw, fw / pw, fc, pc, fr / 1024, pr / 1024, fs, ps, (fw - fs) / (pw - ps) }'
  ratio "decode only" "$label" "$(awk -v f="$ff_wall" -v p="$fp_wall" 'BEGIN {print f / p}')"
  ratio "decode only, start-up excluded" "$label" \
    "$(awk -v f="$ff_wall" -v p="$fp_wall" -v fs="$ff_start" -v ps="$fp_start" 'BEGIN {print (f - fs) / (p - ps)}')"
done
echo
echo "$frames frames of 1920x1080 H.264 (testsrc2), median of $reps interleaved runs each; whole-process wall time, so start-up is included (the last column takes each program's wall time on a 3-frame clip off); $(nproc) cores; $(date -u +%Y-%m-%d)."
