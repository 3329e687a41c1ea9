#!/usr/bin/env bash
# `run --mpi`: 20 clips with 1 worker rank at 2 threads (mpirun -n 2) against 2 worker ranks at
# 1 thread each (mpirun -n 3); rank 0 only hands files out. Prints both times and the ratio.
# On a 2-core machine the gain is bounded by the cores; shared machines are noisy: only the
# ratio of the interleaved runs means anything.
# Usage: bench/mpi_ranks.sh [REPS] [CLIPS]   (default 3 reps, 20 clips)
set -euo pipefail
reps=${1:-3}
clips=${2:-20}
source "$(dirname "$0")/lib.sh"
if "$bin" run --help | grep -q "built without MPI"; then echo "framepipe was built without MPI" >&2; exit 1; fi
folder="$work/mpi-$clips"
if [ ! -d "$folder" ]; then
  mkdir -p "$folder.partial"
  for i in $(seq -w 1 "$clips"); do
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=640x360:rate=30:duration=$((1 + 10#$i % 3))" \
      -c:v libx264 -preset veryfast -pix_fmt yuv420p "$folder.partial/clip$i.mp4"
  done
  mv "$folder.partial" "$folder"
fi
cat > "$work/mpi.yaml" <<YAML
pipeline: { files_in_parallel: 1, profile: false }
output: { overwrite: true }
stages:
  - { name: decode, type: decode, params: { threads: 1 } }
  - { name: blur, type: gaussian_blur, params: { ksize: 0, sigma: 2 } }
  - { name: edges, type: canny }
  - { name: video, type: encode, params: { codec: mpeg4, quality: 5, path: "{stem}.mp4" } }
YAML
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
one="$work/mpi-one.txt"
two="$work/mpi-two.txt"
: >"$one"
: >"$two"
for _ in $(seq "$reps"); do
  measure mpirun -n 2 --oversubscribe "$bin" run "$work/mpi.yaml" --mpi -q -i "$folder" \
    -o "$work/mpi-out-1" --set pipeline.threads=2 >>"$one"
  measure mpirun -n 3 --oversubscribe "$bin" run "$work/mpi.yaml" --mpi -q -i "$folder" \
    -o "$work/mpi-out-2" --set pipeline.threads=1 >>"$two"
done
t1=$(column 1 "$one")
t2=$(column 1 "$two")
awk -v c="$clips" -v n="$(nproc)" -v r="$reps" -v a="$t1" -v b="$t2" 'BEGIN {
  printf "%s clips, %s cores, median of %s: 1 rank x 2 threads %.2f s, 2 ranks x 1 thread %.2f s; speed-up %.2fx\n", c, n, r, a, b, a / b }'
