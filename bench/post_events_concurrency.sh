#!/usr/bin/env bash
# post_events against a loopback server that answers each POST 50 ms late: the sink's wall time
# with max_in_flight 1 and 16 (one event per frame, one event per request), and their ratio.
#   bench/post_events_concurrency.sh [FRAMES] [REPS]     (FRAMEPIPE=path/to/framepipe to pick a build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${FRAMEPIPE:-$root/build/app/framepipe}
frames=${1:-100}
reps=${2:-3}
[ -x "$bin" ] || { echo "build first: scripts/build.sh (or set FRAMEPIPE)" >&2; exit 1; }
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v "$frames" \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$work/clip.mp4"
python3 "$root/tests/support/http_test_server.py" --root "$work" --port-file "$work/port" \
  --log "$work/log.jsonl" --post-delay-ms 50 &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

# wall N: the events stage's busy seconds with max_in_flight N (the median of the reps).
wall() {
  for _ in $(seq "$reps"); do
    cat >"$work/events.yaml" <<YAML
stages:
  - { type: decode }
  - { name: events, type: post_events, params: { url: "http://127.0.0.1:$port/events", batch_size: 1, max_in_flight: $1 } }
YAML
    rm -rf "$work/out"
    "$bin" run "$work/events.yaml" --quiet --input "$work/clip.mp4" --output "$work/out" >/dev/null
    python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(next(s["busy_s"] for s in r["stages"] if s["name"] == "events"))' "$work/out/report/report.json"
  done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

one=$(wall 1)
sixteen=$(wall 16)
echo "| max_in_flight | events stage wall (busy) s |"
echo "|---:|---:|"
echo "| 1 | $one |"
echo "| 16 | $sixteen |"
awk -v a="$one" -v b="$sixteen" 'BEGIN {printf "ratio (1 / 16): %.1fx, %d frames, 50 ms per request\n", a / b, '"$frames"'}'
