#!/usr/bin/env bash
# framepipe tune against an exhaustive grid over the same settings, on four deliberately
# mis-tuned pipelines (HOG people at concurrency 1; post_events at max_in_flight 1 against a
# loopback server answering 50 ms late; blur (21 taps, sigma 5: heavy enough that the CPU
# stages outweigh decode and encode) + canny at pipeline.threads 1; a batch of 20 short clips at
# files_in_parallel 1). For each: tune's result, the grid's best, then both measured
# again side by side (interleaved), and every step's prediction against its measurement.
# Prints Markdown tables for bench/RESULTS.md.
# Usage: bench/tune.sh [REPEATS] [CASE...]   (CASE: people events threads batch at-best; all by
# default; about 15 minutes on 2 cores)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
repeats=${1:-3}
cases=${*:2}
cases=${cases:-people events threads batch at-best}
wanted() { [[ " $cases " == *" $1 "* ]]; }
out="$work/tune"
mkdir -p "$out"
rm -rf "$out"/*-tune "$out"/run "$out/port" "$out/server.jsonl"
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; }
trap cleanup EXIT

python3 "$root/tests/support/http_test_server.py" --root "$out" --port-file "$out/port" \
  --log "$out/server.jsonl" --post-delay-ms 50 &
server=$!
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.1; done
port=$(cat "$out/port")

vtest=/usr/share/doc/opencv-doc/examples/data/vtest.avi
[ -f "$vtest" ] || vtest=$(make_clip vtest-like-768x576-10s.mp4 768x576 10)
clip720=$(make_clip 720p-h264-3s.mp4 1280x720 3)
small=$(make_clip 64x48-h264-10s.mp4 64x48 10)
mkdir -p "$out/clips"
for i in $(seq -w 1 20); do
  [ -s "$out/clips/c$i.mp4" ] || ffmpeg -nostdin -v error -y -f lavfi \
    -i "testsrc2=size=320x240:rate=30:duration=1" -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p "$out/clips/c$i.mp4"
done

sed 's/name: people, type: detect_people, concurrency: unlimited/name: people, type: detect_people, concurrency: 1/' \
  "$root/configs/people-overlay.yaml" > "$out/people.yaml"
cat > "$out/events.yaml" <<YAML
stages:
  - { name: decode, type: decode }
  - { name: events, type: post_events, params: { url: "http://127.0.0.1:$port/events", batch_size: 1, max_in_flight: 1 } }
YAML
blur_canny_config "$out/threads.yaml" true
sed -i -e 's/pipeline: { name: blur-canny, profile: true }/pipeline: { name: blur-canny, profile: true, threads: 1 }/' \
  -e 's/ksize: 5, sigma: 2/ksize: 21, sigma: 5/' "$out/threads.yaml"
blur_canny_config "$out/batch.yaml" true

# fps CONFIG INPUT SAMPLE [--set k=v ...]: one run's fps (a batch's: all its files').
fps() {
  local dir="$out/run"
  rm -rf "$dir"
  "$bin" run "$1" --quiet --input "$2" --output "$dir" $3 --set output.overwrite=true \
    --set 'report.formats=[json]' "${@:4}" >/dev/null 2>&1
  python3 - "$dir/report" <<'PY'
import json, os, sys
d = sys.argv[1]
if os.path.exists(f"{d}/batch.json"):
    print(json.load(open(f"{d}/batch.json"))["totals"]["fps"])
else:
    print(json.load(open(f"{d}/report.json"))["fps"])
PY
}

# median_fps CONFIG INPUT SAMPLE [--set ...]: the median of $repeats runs.
median_fps() { for _ in $(seq "$repeats"); do fps "$@"; done | median; }

# sets KEY=V,KEY=V: as --set arguments.
sets() { local IFS=,; for kv in $1; do [ -n "$kv" ] && printf -- '--set\n%s\n' "$kv"; done; }

summary="$out/summary.md"
errors="$out/errors.txt"
: > "$errors"
echo "| pipeline | as given fps | grid best | grid fps | tune's settings | candidates | tuned / grid best (interleaved) | median prediction error |" > "$summary"
echo "|---|---:|---|---:|---|---:|---:|---:|" >> "$summary"

# case NAME CONFIG INPUT SAMPLE GRID...: GRID entries are comma-separated KEY=V lists.
case_() {
  local name=$1 config=$2 input=$3 sample=$4
  shift 4
  "$bin" tune "$config" --input "$input" $sample --output "$out/$name-tune" --quiet \
    > "$out/$name-tune.txt" 2>&1 || { cat "$out/$name-tune.txt"; exit 1; }
  local tuned="$out/$name-tune/tuned.yaml"
  python3 - "$out/$name-tune/tune.json" >> "$errors" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["steps"]:
    if s.get("prediction_error") is not None: print(f"{abs(s['prediction_error']):.6f}")
PY
  local best="" best_fps=0
  for point in "$@"; do
    mapfile -t args < <(sets "$point")
    local f
    f=$(median_fps "$config" "$input" "$sample" "${args[@]}")
    echo "$name grid $point: $f fps" >&2
    if awk -v a="$f" -v b="$best_fps" 'BEGIN {exit !(a > b)}'; then best=$point; best_fps=$f; fi
  done
  # Side by side: tuned config and grid best, interleaved.
  mapfile -t best_args < <(sets "$best")
  local ratios=()
  for _ in $(seq "$repeats"); do
    local t g
    t=$(fps "$tuned" "$input" "$sample")
    g=$(fps "$config" "$input" "$sample" "${best_args[@]}")
    ratios+=("$(awk -v t="$t" -v g="$g" 'BEGIN {print t / g}')")
  done
  local ratio
  ratio=$(printf '%s\n' "${ratios[@]}" | median)
  python3 - "$out/$name-tune/tune.json" "$name" "$best" "$best_fps" "$ratio" >> "$summary" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
name, best, best_fps, ratio = sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
changes = ", ".join(f"{c['key']} {c['from']} -> {c['to']}" for c in t["changes"]) or "none"
err = t["median_prediction_error"]
print(f"| {name} | {t['baseline_fps']:.1f} | {best.replace(',', ', ') or 'as given'} | {best_fps:.1f} | "
      f"{changes} | {t['measured_candidates']} | {ratio:.3f} | "
      f"{'-' if err is None else f'{err * 100:.0f}%'} |")
PY
}

grid_people=()
for c in 1 2 3 4; do for f in 8 16 32; do
  grid_people+=("stages.people.concurrency=$c,pipeline.max_frames_in_flight=$f")
done; done
wanted people && case_ people "$out/people.yaml" "$vtest" "--frames 60" "${grid_people[@]}"

grid_events=()
for m in 1 2 4 8 16 32 64; do for f in 16 32 64; do
  grid_events+=("stages.events.params.max_in_flight=$m,pipeline.max_frames_in_flight=$f")
done; done
wanted events && case_ events "$out/events.yaml" "$small" "--frames 200" "${grid_events[@]}"

grid_threads=()
for t in 1 2; do for f in 8 16 32; do
  grid_threads+=("pipeline.threads=$t,pipeline.max_frames_in_flight=$f")
done; done
wanted threads && case_ threads "$out/threads.yaml" "$clip720" "--frames 60" "${grid_threads[@]}"

grid_batch=()
for p in 1 2 3 4; do for f in 16 32; do
  grid_batch+=("pipeline.files_in_parallel=$p,pipeline.max_frames_in_flight=$f")
done; done
wanted batch && case_ batch "$out/batch.yaml" "$out/clips" "" "${grid_batch[@]}"

cat "$summary"
echo
echo "Median |predicted - measured| / measured over every step: $(median < "$errors" | awk '{printf "%.0f%%", $1 * 100}') ($(wc -l < "$errors") steps)."
# A config already at its best: tune measures it and changes nothing.
if wanted at-best; then
  "$bin" tune "$root/configs/default.yaml" --input "$clip720" --frames 60 \
    --output "$out/at-best-tune" --quiet > "$out/at-best.txt" 2>&1
  echo "configs/default.yaml (already at its best): $(tail -3 "$out/at-best.txt" | head -1)"
fi
