#!/usr/bin/env bash
# The throughput model's predictions against measurement. For each pipeline, a first run's
# report gives the model's bound and its advice with `predicted_fps`; a second run with that
# advice applied (`--set key=to`) measures the fps it predicted. Prints one Markdown table:
# pipeline, what limits it, the advice, predicted fps, measured fps and the error. A pipeline
# with no advice shows the model's bound for the config as it is against its measured fps.
# Usage: bench/predictions.sh   (about 5 minutes on 2 cores)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
clip=$(make_clip 720p-h264-5s.mp4 1280x720 5)
small=$(make_clip 320x240-h264-10s.mp4 320x240 10)
synthetic="$work/predictions"
mkdir -p "$synthetic"

# synthetic NAME PIPELINE STAGES...: a config of a decode followed by the given stage lines.
synthetic() {
  local file="$synthetic/$1.yaml"
  { echo "pipeline: $2"; echo "stages:"; echo "  - { name: decode, type: decode, params: { threads: 1 } }"
    for line in "${@:3}"; do echo "  - $line"; done
    echo "  - { name: sink, type: discard }"; } > "$file"
  echo "$file"
}

# report_of CONFIG INPUT [--set k=v ...]: runs once; prints the report.json path.
report_of() {
  local dir="$work/predictions-out"
  rm -rf "$dir"
  "$bin" run "$1" --quiet --input "$2" --output "$dir" --set report.formats='[json]' "${@:3}" \
    >/dev/null 2>&1
  echo "$dir/report/report.json"
}

# case LABEL CONFIG INPUT: one row of the table.
row() {
  local label=$1 config=$2 input=$3
  local first; first=$(report_of "$config" "$input")
  local summary; summary=$(python3 - "$first" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
model = r.get("throughput_model") or {}
limit = model.get("limit", "-") + (" " + model["limit_stage"] if model.get("limit_stage") else "")
if r["advice"]:
    a = r["advice"][0]
    print("\t".join([limit, a["key"], a["from"], a["to"], "%.1f" % a["predicted_fps"], "%.1f" % r["fps"]]))
else:
    print("\t".join([limit, "-", "-", "-", "%.1f" % model.get("bound_fps", 0), "%.1f" % r["fps"]]))
PY
)
  IFS=$'\t' read -r limit key from to predicted before <<< "$summary"
  local measured change
  if [ "$key" = "-" ]; then
    change="none (the bound as it is)"
    measured=$before
  else
    change="\`$key\` $from → $to"
    local second; second=$(report_of "$config" "$input" --set "$key=$to")
    measured=$(python3 -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["fps"])' "$second")
  fi
  awk -v l="$label" -v lim="$limit" -v c="$change" -v b="$before" -v p="$predicted" -v m="$measured" 'BEGIN {
    printf "| %s | %s | %s | %.1f | %.1f | %.1f | %+.0f%% |\n", l, lim, c, b, p, m, 100 * (m - p) / p }'
}

echo "| pipeline | limited by | advice | fps before | predicted fps | measured fps | error |"
echo "|---|---|---|---:|---:|---:|---:|"
row "default.yaml, 720p" "$root/configs/default.yaml" "$clip"
row "resize-gray.yaml, 720p" "$root/configs/resize-gray.yaml" "$clip"
row "faces-anonymize.yaml, 320×240" "$root/configs/faces-anonymize.yaml" "$small"
row "people-overlay.yaml, 320×240" "$root/configs/people-overlay.yaml" "$small"
row "decode-only.yaml, 720p" "$root/configs/decode-only.yaml" "$clip"
row "slow serial stage" "$(synthetic serial '{ threads: 2 }' \
  '{ name: light, type: spin, concurrency: 2, params: { ms: 1 } }' \
  '{ name: heavy, type: spin, concurrency: 1, params: { ms: 8 } }')" "$small"
row "io stage at in-flight 1" "$(synthetic io '{ threads: 2 }' \
  '{ name: upload, type: sleep, concurrency: 1, params: { ms: 10 } }')" "$small"
row "too few threads" "$(synthetic threads '{ threads: 1 }' \
  '{ name: first, type: spin, concurrency: unlimited, params: { ms: 3 } }' \
  '{ name: second, type: spin, concurrency: unlimited, params: { ms: 3 } }')" "$small"
row "frames-in-flight cap" "$(synthetic flight '{ threads: 2, max_frames_in_flight: 2 }' \
  '{ name: upload, type: sleep, concurrency: 8, params: { ms: 20 } }')" "$small"
echo
echo "Predicted: the advice's \`predicted_fps\` from the first run; measured: a second run with the advice applied. $(nproc) cores; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)."
