#!/usr/bin/env bash
# Before/after for one performance change: two framepipe binaries (say, a build of the commit
# before the change and one after) run the same config on the same 1080p clip, interleaved.
# Prints one Markdown row: fps before, fps after, speed-up, CPU seconds, minor page faults.
# Usage: bench/ab.sh BEFORE_BINARY AFTER_BINARY CONFIG [REPS] [--set key=value ...]
# AB_CLIP=bt709 uses a clip converted and tagged as BT.709 (as most HD video is) instead of the
# untagged one.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BEFORE_BINARY AFTER_BINARY CONFIG [REPS] [--set k=v ...]" >&2; exit 2; }
before=$1 after=$2 config=$3
reps=${4:-5}
shift $(($# < 4 ? 3 : 4))
source "$(dirname "$0")/lib.sh"
case ${AB_CLIP:-untagged} in
  untagged) clip=$(make_clip 1080p-h264-10s.mp4 1920x1080 10) ;;
  bt709) clip=$(make_clip 1080p-h264-bt709-10s.mp4 1920x1080 10 -vf scale=out_color_matrix=bt709 \
    -colorspace bt709 -color_primaries bt709 -color_trc bt709) ;;
  *) echo "AB_CLIP is untagged or bt709, not '$AB_CLIP'" >&2; exit 2 ;;
esac
frames=$(frame_count "$clip")
: > "$work/ab-before.txt"
: > "$work/ab-after.txt"
for _ in $(seq "$reps"); do
  measure "$before" run "$config" --quiet --input "$clip" --output "$work/ab-out" "$@" >> "$work/ab-before.txt"
  measure "$after" run "$config" --quiet --input "$clip" --output "$work/ab-out" "$@" >> "$work/ab-after.txt"
done
echo "| config | fps before | fps after | speed-up | cpu s before | cpu s after | minor faults before | minor faults after |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
awk -v name="$(basename "$config") $*" -v n="$frames" -v b="$(column 1 "$work/ab-before.txt")" \
    -v a="$(column 1 "$work/ab-after.txt")" -v cb="$(column 2 "$work/ab-before.txt")" \
    -v ca="$(column 2 "$work/ab-after.txt")" -v fb="$(column 4 "$work/ab-before.txt")" \
    -v fa="$(column 4 "$work/ab-after.txt")" 'BEGIN {
  printf "| %s | %.1f | %.1f | %.3f | %.2f | %.2f | %d | %d |\n", name, n / b, n / a, b / a, cb, ca, fb, fa }'
echo
echo "$frames frames of 1920x1080 H.264 (${AB_CLIP:-untagged}); median of $reps interleaved runs; whole-process wall time; $(nproc) cores; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)."
