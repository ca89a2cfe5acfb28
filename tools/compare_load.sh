#!/usr/bin/env bash
# Compares model load time: onnxi vs onnxruntime-node, in the same run.
#
#   tools/compare_load.sh MODEL [RUNS]     (RUNS defaults to 5)
#
# onnxi: `onnxi dump --time --format json MODEL`, its "load_ms: X" (stderr).
# onnxruntime: InferenceSession.create on one thread (tools/ort_load.js).
# Every measurement is a fresh process; the two engines alternate, after one
# untimed warm-up each so both read the file from the page cache. Prints a
# markdown table of the medians (and fastest runs) and the ratio of the medians.
#
# Environment: ONNXI_BINARY (default: build/onnxi, built if needed),
# ONNXI_BUILD_DIR, ONNXI_NPM_DIR (onnxruntime-node, default build/npm).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
model=$1
runs=${2:-5}
[ -r "$model" ] || { echo "compare_load.sh: cannot read $model" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "compare_load.sh: RUNS must be a positive integer" >&2; exit 2; }

bash "$ONNXI_ROOT/tools/deps.sh" build ort
if [ -z "${ONNXI_BINARY:-}" ]; then
  build=${ONNXI_BUILD_DIR:-$ONNXI_ROOT/build}
  ONNXI_BUILD_QUIET=1 ONNXI_BUILD_TARGET=onnxi_cli onnxi_build "$build"
  ONNXI_BINARY=$build/onnxi
fi

# Prints the number after "KEY: " in a command's output (stdin).
value_of() { sed -n "s/^$1: *\([0-9.][0-9.]*\).*/\1/p" | head -n 1; }

onnxi_load_ms() {
  local out
  out=$("$ONNXI_BINARY" dump --time --format json "$model" 2>&1 >/dev/null) ||
    { echo "compare_load.sh: onnxi failed: $out" >&2; return 1; }
  value_of load_ms <<<"$out"
}

ort_load_ms() {
  local out
  out=$(node "$ONNXI_ROOT/tools/ort_load.js" "$model" 2>&1) ||
    { echo "compare_load.sh: onnxruntime failed: $out" >&2; return 1; }
  value_of create_ms <<<"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); printf "%.1f", (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2 }'; }

onnxi_load_ms >/dev/null
ort_load_ms >/dev/null
onnxi_ms=() ort_ms=()
for ((i = 0; i < runs; i++)); do
  onnxi_ms+=("$(onnxi_load_ms)")
  ort_ms+=("$(ort_load_ms)")
done
for v in "${onnxi_ms[@]}" "${ort_ms[@]}"; do
  [ -n "$v" ] || { echo "compare_load.sh: a run printed no time" >&2; exit 1; }
done
echo "onnxi ms: ${onnxi_ms[*]}" >&2
echo "onnxruntime ms: ${ort_ms[*]}" >&2

onnxi_med=$(printf '%s\n' "${onnxi_ms[@]}" | median)
ort_med=$(printf '%s\n' "${ort_ms[@]}" | median)
onnxi_min=$(printf '%s\n' "${onnxi_ms[@]}" | sort -g | awk 'NR == 1 { printf "%.1f", $1 }')
ort_min=$(printf '%s\n' "${ort_ms[@]}" | sort -g | awk 'NR == 1 { printf "%.1f", $1 }')
ort_version=$(node -p "require('${ONNXI_NPM_DIR:-$ONNXI_ROOT/build/npm}/node_modules/onnxruntime-node/package.json').version")
size_mb=$(awk -v b="$(stat -c %s "$model")" 'BEGIN { printf "%.1f", b / 1e6 }')

echo "Load time of $(basename "$model") ($size_mb MB), median of $runs runs, file in page cache"
echo
echo "| engine | median load (ms) | fastest (ms) |"
echo "|---|---:|---:|"
echo "| onnxi (dump --time, load_ms) | $onnxi_med | $onnxi_min |"
echo "| onnxruntime-node $ort_version (InferenceSession.create, 1 thread) | $ort_med | $ort_min |"
echo
awk -v a="$ort_med" -v b="$onnxi_med" 'BEGIN { if (b > 0) printf "onnxruntime / onnxi (medians): %.2fx\n", a / b }'
