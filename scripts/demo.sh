#!/usr/bin/env bash
# The main job of `make demo`: train the default model (logistic regression
# on the embedded digits) with `kiln train`, writing its log, curves, summary
# and checkpoint to OUT_DIR, score the checkpoint with `kiln eval`, and draw
# every model in examples/graphs as the compiler first sees it (kiln dot
# --stage input), one SVG per model.
#   scripts/demo.sh [BUILD_DIR] [OUT_DIR]     (defaults: build out)
set -euo pipefail
cd "$(dirname "$0")/.."

build="${1:-build}"
out="${2:-out}"
kiln="$build/kiln"
if [[ ! -x "$kiln" ]]; then
  echo "demo: $kiln is not built; run 'make demo'" >&2
  exit 1
fi

shopt -s nullglob
graphs=(examples/graphs/*.json)
if [[ ${#graphs[@]} -eq 0 ]]; then
  echo "demo: no graph files in examples/graphs" >&2
  exit 1
fi

mkdir -p "$out"
pictures=()
for graph in "${graphs[@]}"; do
  model="$(basename "$graph" .json)"
  "$kiln" dot "$graph" --stage input -o "$out/$model.svg"
  pictures+=("$(cd "$out" && pwd)/$model.svg")
done

echo
"$kiln" train --log "$out/digits-log.csv" --plot "$out/digits-curves.svg" \
  --summary-json "$out/digits-summary.json" --save "$out/digits.safetensors"
echo
"$kiln" eval --load "$out/digits.safetensors"

echo
echo "demo: ${#pictures[@]} graph pictures (open them in a browser):"
printf '  %s\n' "${pictures[@]}"
echo "demo: training run on the digits:"
for f in digits-log.csv digits-curves.svg digits-summary.json digits.safetensors; do
  echo "  $(cd "$out" && pwd)/$f"
done
