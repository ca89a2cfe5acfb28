#!/usr/bin/env bash
# Inference speed side by side: onnxi vs onnxruntime-node, in the same run.
#
#   tools/bench_compare.sh [options] [MODEL...]
#
# Without MODELs: torchvision resnet50, resnet18, resnext50_32x4d, mobilenet_v2,
# mobilenet_v3_large, shufflenet_v2_x1_0, efficientnet_b0 and regnet_y_400mf,
# exported at 224x224, opset 13, into $ONNXI_MODEL_CACHE/bench/ (default
# build/models/bench/; --batch B > 1 exports them with a symbolic batch).
# For every model and thread count, `onnxi bench --json` and
# tools/ort_bench.js (intraOpNumThreads N, interOpNumThreads 1, sequential,
# all graph optimizations) run alternately, each in a fresh process, on the
# same model file and the same input (saved once by onnxi as .npy), with the
# same warm-up and runs. Prints a markdown table of the median latencies, load
# times and peak RSS, and writes it to --out FILE too.
#
#   --threads "1 2"  thread counts (default "1 2")
#   --runs N         timed runs per measurement (default 20)
#   --warmup N       untimed runs before them (default 3)
#   --warmup-ms T    ... and more until they took T ms, for both engines
#                    (default 500, TFLite's warmup_min_secs: on this VM both
#                    engines' runs in their first few hundred ms are slower)
#   --rounds R       alternating repetitions per model and thread count; the
#                    table shows the median over rounds (default 1)
#   --batch B        batch size (default 1)
#   --out FILE       also write the report to FILE
#   --torchvision    every classifier models/export.py --torchvision --full
#                    exported into $ONNXI_MODEL_CACHE/torchvision_full/ (all 77
#                    when nothing was exported yet; export takes ~30 min)
#   --smoke          CI check: one small model (mobilenet_v2 unless given), 1
#                    thread, 3 runs, 1 warm-up; no timing assertions
#
# Environment: ONNXI_BINARY (default: build/onnxi, built if needed),
# ONNXI_BUILD_DIR, ONNXI_MODEL_CACHE, ONNXI_NPM_DIR (onnxruntime-node,
# installed by tools/deps.sh ort). Exit status 1 when any measurement failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEFAULT_MODELS=(resnet50 resnet18 resnext50_32x4d mobilenet_v2 mobilenet_v3_large
                shufflenet_v2_x1_0 efficientnet_b0 regnet_y_400mf)

log() { echo "bench_compare.sh: $*" >&2; }
usage() { sed -n '2,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

threads="1 2" runs=20 warmup=3 warmup_ms=500 rounds=1 batch=1 out="" smoke=0 tv=0 models=()
is_count() { [[ $1 =~ ^[0-9]+$ ]]; }
while [ $# -gt 0 ]; do
  case $1 in
    --threads|--runs|--warmup|--warmup-ms|--rounds|--batch|--out)
      [ $# -ge 2 ] || { log "$1 needs a value"; usage; }
      case $1 in
        --threads) threads=$2 ;;
        --runs) runs=$2 ;;
        --warmup) warmup=$2 ;;
        --warmup-ms) warmup_ms=$2 ;;
        --rounds) rounds=$2 ;;
        --batch) batch=$2 ;;
        --out) out=$2 ;;
      esac
      shift 2 ;;
    --smoke) smoke=1; shift ;;
    --torchvision) tv=1; shift ;;
    -h|--help) usage ;;
    -*) log "unknown option '$1'"; usage ;;
    *) models+=("$1"); shift ;;
  esac
done
if [ $smoke -eq 1 ]; then
  threads=1 runs=3 warmup=1 warmup_ms=0 rounds=1
fi
is_positive() { is_count "$1" && [ "$1" -ge 1 ]; }
for v in "$runs" "$rounds" "$batch"; do
  is_positive "$v" || { log "--runs, --rounds and --batch take positive integers"; exit 2; }
done
is_count "$warmup" || { log "--warmup takes an integer >= 0"; exit 2; }
is_count "$warmup_ms" || { log "--warmup-ms takes an integer >= 0"; exit 2; }
for t in $threads; do
  is_positive "$t" || { log "--threads takes positive integers ('$threads')"; exit 2; }
done

bash "$ONNXI_ROOT/tools/deps.sh" ort
if [ -z "${ONNXI_BINARY:-}" ]; then
  bash "$ONNXI_ROOT/tools/deps.sh" build
  build=${ONNXI_BUILD_DIR:-$ONNXI_ROOT/build}
  ONNXI_BUILD_QUIET=1 onnxi_build "$build"
  ONNXI_BINARY=$build/onnxi
fi
npm_dir=${ONNXI_NPM_DIR:-$ONNXI_ROOT/build/npm}
export ONNXI_NPM_DIR=$npm_dir

if [ $tv -eq 1 ]; then
  tv_dir=$ONNXI_MODEL_CACHE/torchvision_full
  bash "$ONNXI_ROOT/tools/deps.sh" export
  mapfile -t tv_names < <("$ONNXI_PYTHON" "$ONNXI_ROOT/models/export.py" --torchvision --list)
  "$ONNXI_PYTHON" "$ONNXI_ROOT/models/export.py" --torchvision --full --out "$tv_dir" --jobs 2 \
    "${tv_names[@]}" || { log "the torchvision export failed"; exit 1; }
  for name in "${tv_names[@]}"; do models+=("$tv_dir/$name/model.onnx"); done
fi
# Default models: exported once into the cache.
if [ ${#models[@]} -eq 0 ]; then
  names=("${DEFAULT_MODELS[@]}")
  [ $smoke -eq 0 ] || names=(mobilenet_v2)
  suffix="" export_args=(--opset 13 --size 224)
  if [ "$batch" -gt 1 ]; then suffix=_dynbatch; export_args+=(--dynamic-batch); fi
  for name in "${names[@]}"; do
    file=$ONNXI_MODEL_CACHE/bench/$name$suffix.onnx
    onnxi_model_export "$name" "$file" "${export_args[@]}"
    models+=("$file")
  done
fi
for m in "${models[@]}"; do
  [ -r "$m" ] || { log "cannot read $m"; exit 1; }
done
# Models just exported leave dirty pages whose write-back would land in the
# first measurements (session 13: ResNet-50 read 1.03-1.06 right after an
# export, 0.90-0.93 a minute later).
sync

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One table row from the JSON results of both engines (files of all rounds).
row_js='
const fs = require("fs");
const [model, threads, ...files] = process.argv.slice(1);
const load = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch (e) { return null; } };
const rs = files.map(load);
const half = rs.length / 2, mine = rs.slice(0, half).filter(Boolean), ort = rs.slice(half).filter(Boolean);
const med = (v) => { v = [...v].sort((a, b) => a - b); const n = v.length;
  return n ? (n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : NaN; };
const pick = (list, f) => list.length === half ? med(list.map(f)) : NaN;
const fmt = (x, d) => Number.isFinite(x) ? x.toFixed(d) : "failed";
const a = pick(mine, (r) => r.latency_ms.median), b = pick(ort, (r) => r.latency_ms.median);
const cells = [model, threads, fmt(a, 2), fmt(b, 2), fmt(a / b, 2),
  fmt(pick(mine, (r) => r.load_ms), 0), fmt(pick(ort, (r) => r.load_ms), 0),
  fmt(pick(mine, (r) => r.peak_rss_bytes / 1e6), 0), fmt(pick(ort, (r) => r.peak_rss_bytes / 1e6), 0)];
console.log("| " + cells.join(" | ") + " |");
if (cells.includes("failed")) process.exitCode = 3;
'

run_onnxi() { # MODEL INPUTS THREADS OUT
  "$ONNXI_BINARY" bench "$1" --json --inputs "$2" --threads "$3" --runs "$runs" --warmup "$warmup" \
    --warmup-ms "$warmup_ms" \
    >"$4" 2>"$4.err" || { log "onnxi failed on $1: $(head -c 600 "$4.err")"; rm -f "$4"; }
}
run_ort() { # MODEL INPUTS THREADS OUT
  node "$ONNXI_ROOT/tools/ort_bench.js" "$1" --inputs "$2" --threads "$3" --runs "$runs" \
    --warmup "$warmup" --warmup-ms "$warmup_ms" >"$4" 2>"$4.err" || { log "onnxruntime failed on $1: $(head -c 600 "$4.err")"; rm -f "$4"; }
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
ort_version=$(node -p "require('$npm_dir/node_modules/onnxruntime-node/package.json').version")
onnxi_version=$("$ONNXI_BINARY" --version)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rows=() failed=0 mi=0
for m in "${models[@]}"; do
  mi=$((mi + 1))
  name=$(basename "$m" .onnx)
  # backend-test layout (DIR/model.onnx, as models/export.py writes): the directory names it
  [ "$name" != model ] || name=$(basename "$(dirname "$m")")
  inputs=$work/inputs$mi
  # untimed: writes the shared input, and puts the file in the page cache
  if ! "$ONNXI_BINARY" bench "$m" --runs 1 --warmup 0 --threads 1 --batch "$batch" \
      --save-inputs "$inputs" --json >/dev/null 2>"$work/save.err"; then
    log "onnxi cannot run $m: $(head -c 600 "$work/save.err")"
    rows+=("| $name | - | failed | - | - | - | - | - | - |")
    failed=1
    continue
  fi
  for t in $threads; do
    mine=() theirs=()
    for ((r = 0; r < rounds; r++)); do
      a=$work/m$mi.t$t.r$r.onnxi.json b=$work/m$mi.t$t.r$r.ort.json
      log "$name, $t thread(s), round $((r + 1))/$rounds"
      if [ $((r % 2)) -eq 0 ]; then
        run_onnxi "$m" "$inputs" "$t" "$a"; run_ort "$m" "$inputs" "$t" "$b"
      else
        run_ort "$m" "$inputs" "$t" "$b"; run_onnxi "$m" "$inputs" "$t" "$a"
      fi
      mine+=("$a") theirs+=("$b")
    done
    row=$(node -e "$row_js" "$name" "$t" "${mine[@]}" "${theirs[@]}") || failed=1
    rows+=("$row")
    echo "$row" >&2
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
# node's own RSS before ORT loads a model, over every ORT run
# shellcheck disable=SC2016
node_rss=$(node -e '
const fs = require("fs"), v = [];
for (const f of process.argv.slice(1)) { try { v.push(JSON.parse(fs.readFileSync(f, "utf8")).baseline_rss_bytes / 1e6); } catch (e) {} }
console.log(v.length ? `${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)} MB` : "unknown");
' "$work"/*.ort.json 2>/dev/null || echo unknown)

report() {
  echo "## onnxi vs onnxruntime-node $ort_version: inference latency"
  echo
  echo "$onnxi_version; $cpu, $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Load average (1, 5, 15 min): $load_start at the start, $load_end at the end."
  echo "Batch $batch; median of $runs timed runs after at least $warmup warm-up run(s) and ${warmup_ms} ms of them$([ "$rounds" -gt 1 ] && echo ", median over $rounds alternating rounds")."
  echo "ratio = onnxi ms / ORT ms (below 1: onnxi faster). Load = parse + graph passes +"
  echo "session creation (onnxi) / InferenceSession.create (ORT). Peak RSS of each process;"
  echo "ORT's includes node itself ($node_rss before the model is loaded)."
  echo
  echo "| model | threads | onnxi ms | ORT ms | ratio | onnxi load ms | ORT load ms | onnxi peak RSS MB | ORT peak RSS MB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
}
report
[ -z "$out" ] || report >"$out"
exit $failed
