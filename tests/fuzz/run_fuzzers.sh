#!/usr/bin/env bash
# Runs every libFuzzer harness built in BUILD_DIR for SECONDS seconds each,
# starting from the seed corpus in tests/fuzz/corpus/<reader>/ (copied into
# BUILD_DIR/fuzz-corpus/<reader>/ so that what a run discovers does not
# pollute the repository). Crash, leak, timeout and out-of-memory reproducers
# land in BUILD_DIR/fuzz-artifacts/<reader>/; the script exits 1 when any
# harness failed, naming it.
#
#   tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]
set -uo pipefail
build_dir="${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]}"
seconds="${2:?usage: run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]}"
shift 2
here="$(cd "$(dirname "$0")" && pwd)"
harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  harnesses=(graph_json npy csv idx checkpoint)
  # fuzz_onnx exists where kiln was built with ONNX import
  [[ -x "$build_dir/tests/fuzz/fuzz_onnx" ]] && harnesses+=(onnx)
fi

failed=()
for h in "${harnesses[@]}"; do
  exe="$build_dir/tests/fuzz/fuzz_$h"
  if [[ ! -x "$exe" ]]; then
    echo "run_fuzzers.sh: $exe is not built (make fuzz builds it)" >&2
    exit 2
  fi
  corpus="$build_dir/fuzz-corpus/$h"
  artifacts="$build_dir/fuzz-artifacts/$h"
  mkdir -p "$corpus" "$artifacts"
  cp -n "$here/corpus/$h"/* "$corpus"/ 2>/dev/null || true
  dict=()
  [[ -f "$here/$h.dict" ]] && dict=(-dict="$here/$h.dict")
  echo "== fuzz_$h for ${seconds}s (corpus $corpus)"
  # -rss_limit_mb: a reader must refuse a hostile size before allocating it;
  # -timeout: no input may take seconds.
  if ! "$exe" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" 2>&1 | tail -n 40; then
    failed+=("$h")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run_fuzzers.sh: these harnesses found a failure: ${failed[*]} (reproducers in $build_dir/fuzz-artifacts/)" >&2
  exit 1
fi
echo "run_fuzzers.sh: every harness ran ${seconds}s without a failure"
