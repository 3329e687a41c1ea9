#!/usr/bin/env bash
# Issue 21's acceptance: FILES JPEGs of 640x480 (testsrc2 frames made with the ffmpeg CLI)
# through a 5x5 σ 2 Gaussian blur and Canny(50, 150) to JPEGs of the same names: framepipe (the
# folder's images through one graph) against the hand-written oneTBB parallel_for over
# cv::imread / blur / canny / cv::imwrite (bench/images_blur_canny_tbb.cpp) and a shell loop of
# the ffmpeg CLI (gblur + edgedetect, one process per file), interleaved. The ffmpeg loop runs
# over the first FFMPEG_FILES files only (one process per file takes minutes for thousands);
# its per-file time is compared. Then framepipe's peak RSS on the first SMALL files against all
# FILES: flat when memory does not grow with the number of files. BEFORE=path/to/framepipe adds
# that build of framepipe (an earlier commit) to the interleaved runs: a before/after ratio
# measured under the same load. Each run starts with the dirty pages of the one before written
# out (`sync`), so no program pays for another's writeback, and writes into a folder of its own,
# all removed only at the end: ext4 skips inodes freed in the last minute when it makes a file
# (`recently_deleted`), a scan that grew to 14% of a run's CPU samples when each run's outputs
# were deleted just before the next run made its own.
# framepipe's outputs are on disk when it exits (each group synced before it is renamed into
# place); the other programs' are still in the page cache, written out later by the kernel's
# threads, outside their measured time. So each run is also timed to the end of a `sync` after
# it: the time until the outputs are on disk, the same state for every program.
# INPUT_CACHE sets where each run finds its inputs: `cached` (the default: all read into the
# page cache just before, as when a folder is processed again) or `evicted` (all dropped from
# the page cache just before, as a folder of photos not read recently is: each read waits on
# the disk unless the program reads ahead).
# Usage: [BEFORE=BIN] [INPUT_CACHE=cached|evicted] bench/images_vs_loop.sh [REPS] [FILES] [SMALL] [FFMPEG_FILES]
#   (defaults 3, 2000, 500, 200)
set -euo pipefail
reps=${1:-3}
files=${2:-2000}
small=${3:-500}
ffmpeg_files=${4:-200}
source "$(dirname "$0")/lib.sh"
reference="$build/bench/images_blur_canny_tbb"
[ -x "$reference" ] || { echo "build first: scripts/build.sh (builds $reference)" >&2; exit 1; }

# One folder of FILES distinct pictures, one of the first SMALL and one of the first
# FFMPEG_FILES, made once.
folder() { echo "$work/jpegs-640x480-$1"; }
for n in "$files" "$small" "$ffmpeg_files"; do jpeg_folder "$(folder "$n")" "$n" 640x480; done

config="$work/images-blur-canny.yaml"
images_edges_config "$config" images-edges
out="$work/images-out"

names=("framepipe" "hand-written oneTBB parallel_for" "ffmpeg CLI loop (gblur + edgedetect)"
       "framepipe, the BEFORE build")
counts=("$files" "$files" "$ffmpeg_files" "$files")
variants=(0 1 2)
[ -n "${BEFORE:-}" ] && variants+=(3)
rm -rf "$out"
input_cache=${INPUT_CACHE:-cached}
case $input_cache in
  cached | evicted) ;;
  *) echo "INPUT_CACHE must be cached or evicted, not '$input_cache'" >&2; exit 2 ;;
esac
# set_input_cache VARIANT: its input folder read into the page cache, or dropped from it.
set_input_cache() {
  local from; from=$(folder "${counts[$1]}")
  if [ "$input_cache" = cached ]; then
    cat "$from"/*.jpg > /dev/null
  else
    python3 -c 'import os, sys
for name in os.listdir(sys.argv[1]):
    fd = os.open(os.path.join(sys.argv[1], name), os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)' "$from"
  fi
}
# run_variant VARIANT ROUND: one run, into $out/VARIANT-ROUND: measure's figures and the
# seconds of the `sync` after it.
run_variant() {
  sync
  set_input_cache "$1"
  run_program "$@"
  local start end
  start=$(date +%s.%N)
  sync
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN {printf "%.3f\n", e - s}'
}
run_program() {
  local to="$out/$1-$2"
  case $1 in
    0) measure "$bin" run "$config" --quiet -i "$(folder "$files")" -o "$to" ;;
    1) measure "$reference" "$(folder "$files")" "$to" ;;
    2) mkdir -p "$to"
       measure bash -c 'for f in "$1"/*.jpg; do
           ffmpeg -nostdin -v error -y -i "$f" -vf gblur=sigma=2,edgedetect -q:v 2 "$2/${f##*/}" || exit 1
         done' loop "$(folder "$ffmpeg_files")" "$to" ;;
    3) measure "$BEFORE" run "$config" --quiet -i "$(folder "$files")" -o "$to" ;;
  esac
}
for v in "${variants[@]}"; do : > "$work/images-$v.txt"; done
for round in $(seq "$reps"); do
  for v in "${variants[@]}"; do
    run_variant "$v" "$round" | paste -d' ' - - >> "$work/images-$v.txt"
  done
done
# The same work: framepipe's JPEGs are cv::imwrite's bytes.
cmp -s "$out/0-1/000001.jpg" "$out/1-1/000001.jpg" && same=yes || same=no

# Each run's wall time plus its sync's: column 6.
for v in "${variants[@]}"; do
  awk '{print $0, $1 + $5}' "$work/images-$v.txt" > "$work/images-$v-disk.txt"
done
per_file() { awk -v w="$(column "$1" "$work/images-0-disk.txt")" -v n="$files" 'BEGIN {print w / n}'; }
fp_per_file=$(per_file 1)
fp_disk_per_file=$(per_file 6)
echo "| program | files | wall s | ms per file | framepipe speed-up | wall s, outputs on disk | framepipe speed-up, outputs on disk | cpu s | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for v in "${variants[@]}"; do
  t="$work/images-$v-disk.txt"
  awk -v name="${names[$v]}" -v n="${counts[$v]}" -v w="$(column 1 "$t")" -v d="$(column 6 "$t")" \
      -v c="$(column 2 "$t")" -v r="$(column 3 "$t")" -v f="$fp_per_file" \
      -v fd="$fp_disk_per_file" 'BEGIN {
    printf "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f |\n", name, n, w,
      w * 1000 / n, w / n / f, d, d / n / fd, c, r / 1024 }'
done
echo
echo "framepipe's first output byte-identical to the parallel_for's: $same."
echo

# Peak RSS against the number of files, interleaved.
: > "$work/images-rss-small.txt"
: > "$work/images-rss-large.txt"
for _ in $(seq "$reps"); do
  rm -rf "$out/rss" && measure "$bin" run "$config" --quiet -i "$(folder "$small")" -o "$out/rss" >> "$work/images-rss-small.txt"
  rm -rf "$out/rss" && measure "$bin" run "$config" --quiet -i "$(folder "$files")" -o "$out/rss" >> "$work/images-rss-large.txt"
done
echo "| framepipe | files | wall s | peak RSS MiB |"
echo "|---|---:|---:|---:|"
for size in small large; do
  n=$([ "$size" = small ] && echo "$small" || echo "$files")
  awk -v n="$n" -v w="$(column 1 "$work/images-rss-$size.txt")" \
      -v r="$(column 3 "$work/images-rss-$size.txt")" 'BEGIN {
    printf "| blur + canny → JPEG | %d | %.2f | %.0f |\n", n, w, r / 1024 }'
done
echo
echo "640x480 JPEGs (ffmpeg testsrc2, -q:v 3); inputs $input_cache (INPUT_CACHE) before each run; median of $reps interleaved runs each; whole-process wall time, start-up included; $(nproc) cores; $(date -u +%Y-%m-%d)."
rm -rf "$out"
