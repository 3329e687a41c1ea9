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
  "$bin" run "$1" --quiet --input "$2" --output "$dir" --set 'report.formats=[json]' "${@:3}" \
    >/dev/null 2>&1
  echo "$dir/report/report.json"
}

# row LABEL CONFIG INPUT [--set k=v ...]: one row of the table.
row() {
  local label=$1 config=$2 input=$3
  local first; first=$(report_of "$config" "$input" "${@:4}")
  local summary; summary=$(python3 - "$first" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
model = r.get("throughput_model") or {}
limit = model.get("limit", "-") + (" " + model["limit_stage"] if model.get("limit_stage") else "")
bound = "%.1f" % model.get("bound_fps", 0)
if r["advice"]:
    a = r["advice"][0]
    print("\t".join([limit, bound, a["key"], a["from"], a["to"], "%.1f" % a["predicted_fps"], "%.1f" % r["fps"]]))
else:
    print("\t".join([limit, bound, "-", "-", "-", "-", "%.1f" % r["fps"]]))
PY
)
  IFS=$'\t' read -r limit bound key from to predicted before <<< "$summary"
  if [ "$key" = "-" ]; then
    printf '| %s | %s | %s | none | %s | - | - | - |\n' "$label" "$limit" "$bound" "$before"
    return
  fi
  local second; second=$(report_of "$config" "$input" "${@:4}" --set "$key=$to")
  local measured
  measured=$(python3 -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["fps"])' "$second")
  awk -v l="$label" -v lim="$limit" -v bd="$bound" -v c="\`$key\` $from → $to" -v b="$before" \
      -v p="$predicted" -v m="$measured" 'BEGIN {
    e = 100 * (m - p) / p
    printf "| %s | %s | %s | %s | %.1f | %.1f | %.1f | %+.0f%% |\n", l, lim, bd, c, b, p, m, e }'
}

echo "| pipeline | limited by | model bound fps | advice | fps before | predicted fps | measured fps with the advice | error |"
echo "|---|---|---:|---|---:|---:|---:|---:|"
# The ready configs as they are (on 2 cores the cores limit them: no advice), then mis-tuned.
row "default.yaml" "$root/configs/default.yaml" "$clip"
row "faces-anonymize.yaml" "$root/configs/faces-anonymize.yaml" "$small"
row "people-overlay.yaml" "$root/configs/people-overlay.yaml" "$small"
row "default.yaml, pipeline.threads 1" "$root/configs/default.yaml" "$clip" --set pipeline.threads=1
row "resize-gray.yaml, pipeline.threads 1" "$root/configs/resize-gray.yaml" "$clip" --set pipeline.threads=1
row "decode-only.yaml, decode threads 1" "$root/configs/decode-only.yaml" "$clip" \
  --set stages.decode.params.threads=1
row "people-overlay.yaml, people concurrency 1" "$root/configs/people-overlay.yaml" "$small" \
  --set stages.people.concurrency=1
row "faces-anonymize.yaml, pipeline.max_frames_in_flight 1" "$root/configs/faces-anonymize.yaml" "$small" \
  --set pipeline.max_frames_in_flight=1
row "synthetic: slow serial stage" "$(synthetic serial '{ threads: 2 }' \
  '{ name: light, type: spin, concurrency: 2, params: { ms: 1 } }' \
  '{ name: heavy, type: spin, concurrency: 1, params: { ms: 8 } }')" "$small"
row "synthetic: io stage at in-flight 1" "$(synthetic io '{ threads: 2 }' \
  '{ name: upload, type: sleep, concurrency: 1, params: { ms: 10 } }')" "$small"
row "synthetic: too few threads" "$(synthetic threads '{ threads: 1 }' \
  '{ name: first, type: spin, concurrency: unlimited, params: { ms: 3 } }' \
  '{ name: second, type: spin, concurrency: unlimited, params: { ms: 3 } }')" "$small"
row "synthetic: frames-in-flight cap" "$(synthetic flight '{ threads: 2, max_frames_in_flight: 2 }' \
  '{ name: upload, type: sleep, concurrency: 8, params: { ms: 20 } }')" "$small"
echo
echo "Model bound: the tightest bound for the config as it is. Predicted: the first advice's \`predicted_fps\`; measured: a second run with that advice applied; error: (measured - predicted) / predicted. $(nproc) cores; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)."
