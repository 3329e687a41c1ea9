#!/usr/bin/env bash
# Issue 21's "peak RSS flat in the number of files": framepipe's peak RSS (/usr/bin/time) on
# folders of COUNTS JPEGs of SIZE (ffmpeg testsrc2 frames, distinct pictures) through the
# images_vs_loop.sh pipeline (gaussian_blur + canny -> JPEG, one graph for all the images),
# with the profiler and all three reports (the default), with them but no trace.json, and with
# pipeline.profile: false; and, for scale, the hand-written parallel_for of the same pipeline
# (bench/images_blur_canny_tbb.cpp), which keeps only its list of names. Interleaved, one
# invocation per variant and count in each round.
# The per-file growth is the slope between the smallest and the largest count.
# Usage: bench/image_rss.sh [REPS] [COUNTS] [SIZE]   (defaults 1, "250 1000 4000", 640x480)
# Extra environment for framepipe (MALLOC_ARENA_MAX=2 …) goes in FRAMEPIPE_ENV.
set -euo pipefail
reps=${1:-1}
read -r -a counts <<< "${2:-250 1000 4000}"
size=${3:-640x480}
source "$(dirname "$0")/lib.sh"
read -r -a extra_env <<< "${FRAMEPIPE_ENV:-}"

folder() { echo "$work/rss-jpegs-$size-$1"; }
for n in "${counts[@]}"; do jpeg_folder "$(folder "$n")" "$n" "$size"; done

config="$work/image-rss.yaml"
images_edges_config "$config" image-rss

variants=("profile, json + html + trace" "profile, json + html" "profile off"
  "hand-written parallel_for")
reference="$build/bench/images_blur_canny_tbb"
out="$work/image-rss-out"
for v in 0 1 2 3; do for n in "${counts[@]}"; do : > "$work/image-rss-$v-$n.txt"; done; done
for _ in $(seq "$reps"); do
  for n in "${counts[@]}"; do
    for v in 0 1 2 3; do
      rm -rf "$out"
      if [ "$v" = 3 ]; then
        measure "$reference" "$(folder "$n")" "$out" >> "$work/image-rss-$v-$n.txt"
        continue
      fi
      args=()
      [ "$v" = 1 ] && args=(--set "report.formats=[json, html]")
      [ "$v" = 2 ] && args=(--set "pipeline.profile=false")
      measure env "${extra_env[@]}" "$bin" run "$config" --quiet -i "$(folder "$n")" -o "$out" \
        "${args[@]}" >> "$work/image-rss-$v-$n.txt"
    done
  done
done
rm -rf "$out"

header="| variant |"
rule="|---|"
for n in "${counts[@]}"; do header+=" MiB, $n files |"; rule+="---:|"; done
echo "$header KiB per file, ${counts[0]} → ${counts[-1]} |"
echo "$rule---:|"
for v in 0 1 2 3; do
  row="| ${variants[$v]} |"
  for n in "${counts[@]}"; do
    row+=$(awk -v r="$(column 3 "$work/image-rss-$v-$n.txt")" 'BEGIN {printf " %.1f |", r / 1024}')
  done
  first=$(column 3 "$work/image-rss-$v-${counts[0]}.txt")
  last=$(column 3 "$work/image-rss-$v-${counts[-1]}.txt")
  row+=$(awk -v a="$first" -v b="$last" -v n="$((counts[-1] - counts[0]))" \
    'BEGIN {printf " %.2f |", (b - a) / n}')
  echo "$row"
done
echo
echo "$size JPEGs (ffmpeg testsrc2, -q:v 3), blur + canny → JPEG; median of $reps interleaved run(s); peak RSS from /usr/bin/time; ${FRAMEPIPE_ENV:-default glibc malloc}; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)."
