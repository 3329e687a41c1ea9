#!/usr/bin/env bash
# What one image costs a batch today (issue 21): FILES 16x16 JPEGs through a null pipeline
# (decode → discard), with the profiler and per-file reports (the default) and without
# (pipeline.profile: false), against FEW files so that the start-up drops out of the difference.
# Since issue 21 item 4 a folder's images flow through one graph (no graph, report folder or
# manifest save per image); BUILD=other-build measures another build (the one before).
# Usage: bench/image_file_cost.sh [REPS] [FILES] [FEW]   (default 3, 200, 20)
set -euo pipefail
reps=${1:-3}
files=${2:-200}
few=${3:-20}
source "$(dirname "$0")/lib.sh"
image="$work/image-16x16.jpg"
[ -s "$image" ] || ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=16x16:rate=1 \
  -frames:v 1 "$image"
config="$work/image-null.yaml"
cat > "$config" <<YAML
pipeline: { name: image-file-cost }
output: { overwrite: true }
stages:
  - { type: decode }
  - { type: discard }
YAML
folder() {
  local dir="$work/images-$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  for i in $(seq "$1"); do cp "$image" "$dir/$i.jpg"; done
  echo "$dir"
}
many=$(folder "$files")
some=$(folder "$few")

# median of REPS wall times (s) of one batch
median_wall() {
  local walls=()
  for _ in $(seq "$reps"); do
    rm -rf "$work/images-out"
    walls+=("$(measure "$bin" run "$config" -i "$1" -o "$work/images-out" --quiet "${@:2}" | cut -d' ' -f1)")
  done
  printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((reps + 1) / 2))p"
}

echo "| profile and reports | files at once | s, $few files | s, $files files | ms per file |"
echo "|---|---:|---:|---:|---:|"
for profile in true false; do
  for parallel in 1 2; do
    set_args=(--set "pipeline.profile=$profile" --set "pipeline.files_in_parallel=$parallel")
    small=$(median_wall "$some" "${set_args[@]}")
    large=$(median_wall "$many" "${set_args[@]}")
    per_file=$(awk -v a="$small" -v b="$large" -v n="$((files - few))" 'BEGIN {printf "%.1f", (b - a) * 1000 / n}')
    echo "| $profile | $parallel | $small | $large | $per_file |"
  done
done
