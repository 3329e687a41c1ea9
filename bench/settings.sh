#!/usr/bin/env bash
# One framepipe build, one config, several settings, interleaved on the same 1080p clip: for
# choosing defaults (decoder threads, oneTBB arena size, frames in flight) by measurement.
# Each VARIANT is a space-separated list of key=value overrides ("-" for none). Prints a
# Markdown table: fps, speed-up over the first variant, CPU seconds.
# Usage: bench/settings.sh CONFIG REPS VARIANT...
#   e.g. bench/settings.sh bench/work/blur-canny.yaml 5 - stages.decode.params.threads=1
# SETTINGS_INPUT=720p uses a 1280x720 clip of the same kind instead.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 CONFIG REPS VARIANT..." >&2; exit 2; }
config=$1 reps=$2
shift 2
variants=("$@")
source "$(dirname "$0")/lib.sh"
case ${SETTINGS_INPUT:-1080p} in
  1080p) clip=$(make_clip 1080p-h264-10s.mp4 1920x1080 10) described="1920x1080 H.264" ;;
  720p) clip=$(make_clip 720p-h264-10s.mp4 1280x720 10) described="1280x720 H.264" ;;
  *) echo "SETTINGS_INPUT is 1080p or 720p, not '$SETTINGS_INPUT'" >&2; exit 2 ;;
esac
frames=$(frame_count "$clip")
for v in "${!variants[@]}"; do : > "$work/settings-$v.txt"; done
for _ in $(seq "$reps"); do
  for v in "${!variants[@]}"; do
    sets=()
    [ "${variants[$v]}" = - ] || for kv in ${variants[$v]}; do sets+=(--set "$kv"); done
    measure "$bin" run "$config" --quiet --input "$clip" --output "$work/settings-out" "${sets[@]}" \
      >> "$work/settings-$v.txt"
  done
done
base=$(column 1 "$work/settings-0.txt")
echo "| settings | fps | speed-up | cpu s |"
echo "|---|---:|---:|---:|"
for v in "${!variants[@]}"; do
  awk -v name="${variants[$v]}" -v n="$frames" -v w="$(column 1 "$work/settings-$v.txt")" -v b="$base" \
      -v c="$(column 2 "$work/settings-$v.txt")" 'BEGIN {
    if (name == "-") name = "(config as written)"
    printf "| %s | %.1f | %.3f | %.2f |\n", name, n / w, b / w, c }'
done
echo
echo "$(basename "$config") on $frames frames of $described; median of $reps interleaved runs; $(nproc) cores; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)."
