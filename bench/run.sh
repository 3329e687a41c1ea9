#!/usr/bin/env bash
# The whole benchmark suite in one run, on the same inputs: decode only, blur + canny + encode,
# HOG people detection, memory, scaling, profiling cost, batch. Rewrites the generated part of
# bench/RESULTS.md (between its markers) and bench/results.svg; the rest of RESULTS.md (the
# performance work and its history) is kept. Takes about 25 minutes on 2 cores at the defaults.
# Usage: bench/run.sh [REPS]   (default 3; BUILD=build-other picks another build folder)
set -euo pipefail
reps=${1:-3}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
[ -x "$build/bench/blur_canny_tbb" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
: > "$work/ratios.tsv"
# section TITLE COMMAND [ENVIRONMENT]: COMMAND is a bench/ script and its arguments;
# ENVIRONMENT, NAME=value words it runs with.
section() {
  echo "### $1"
  echo
  echo "Command: \`${3:+$3 }$2\`."
  echo
  env ${3:-} "$here"/$2
  echo
}
generated=$(mktemp)
{
  echo "## Latest full run: \`bench/run.sh $reps\`"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$root" rev-parse --short HEAD)"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- software: ffmpeg $(ffmpeg -version | awk 'NR == 1 {print $3}'), OpenCV $(pkg-config --modversion opencv4), oneTBB $(dpkg-query -W -f='${Version}' libtbb-dev), $(c++ --version | head -1)"
  echo "- load average when it started: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  section "Decode only: framepipe (decode → discard) vs \`ffmpeg -threads N -i IN -f null -\`" "decode_vs_ffmpeg.sh $reps 1 $(nproc) default"
  section "Blur + canny + encode: framepipe vs the ffmpeg CLI, the OpenCV loop and a hand-written parallel_pipeline" "blur_canny.sh $reps"
  section "Blur + canny + encode at 720p" "blur_canny.sh $reps" BC_INPUT=720p
  section "Blur + canny + encode on vtest.avi" "blur_canny.sh $reps" BC_INPUT=vtest
  section "HOG people detection on vtest.avi" "hog_vs_loop.sh $reps 200"
  section "Memory: peak RSS on a 10 s and a 60 s 1080p clip" "memory.sh 1"
  section "Scaling and overlap efficiency" "scaling.sh $reps"
  section "Profiling cost: pipeline.profile on vs off" "profiling_cost.sh $reps"
  section "Batch: a folder of 720p clips vs the ffmpeg CLI per file" "batch_vs_ffmpeg.sh 40 1"
  echo "### Targets"
  echo
  python3 "$here/summarize.py" "$work/ratios.tsv" "$here/results.svg"
  echo
  echo "![framepipe's ratios in this run](results.svg)"
} > "$generated"
python3 - "$here/RESULTS.md" "$generated" <<'PY'
import sys
results, generated = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
begin, end = "<!-- bench/run.sh: begin -->", "<!-- bench/run.sh: end -->"
text = open(results, encoding="utf-8").read()
head, rest = text.split(begin)
tail = rest.split(end)[1]
open(results, "w", encoding="utf-8").write(f"{head}{begin}\n{generated}{end}{tail}")
PY
rm -f "$generated"
echo "wrote $here/RESULTS.md and $here/results.svg"
