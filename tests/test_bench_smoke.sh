#!/usr/bin/env bash
# `onnxi bench` end to end, no timing assertions: on a small CNN written with
# onnx.helper (symbolic batch; Conv+Relu, Conv+Clip, pooling, Gemm), the
# --json output parses and has every documented key with sane values (also
# with --batch 3 and --profile), the --profile table has one row per step,
# usage errors exit 2, and tools/bench_compare.sh --smoke produces its table
# (skipped, saying why, only when onnxruntime-node cannot be installed).
#
#   bash tests/test_bench_smoke.sh ONNXI_BINARY BUILD_DIR SOURCE_DIR   (run by ctest)
set -u

if [ $# -ne 3 ]; then
  echo "usage: $0 ONNXI_BINARY BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$3
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0

fail() {
  echo "FAIL: $*" >&2
  FAILS=$((FAILS + 1))
}
ok() { echo "ok   $*"; }

if ! "$PY" -c 'import onnx, numpy' 2>/dev/null; then
  echo "SKIP: $PY cannot import onnx and numpy (run tools/deps.sh test)"
  exit 0
fi

# --- the model ------------------------------------------------------------------
"$PY" - "$TMP/small.onnx" <<'EOF' || { echo "FAIL: cannot write the model" >&2; exit 1; }
import sys
import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save

rng = np.random.default_rng(0)
def init(name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.1, name)

nodes = [
    helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
    helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
    helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"], name="relu6"),
    helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
    helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
    helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], name="fc", transB=1),
]
inits = [init("w1", 8, 3, 3, 3), init("b1", 8), init("w2", 16, 8, 3, 3), init("b2", 16),
         init("w3", 10, 16), init("b3", 10),
         numpy_helper.from_array(np.array(0, np.float32), "lo"),
         numpy_helper.from_array(np.array(6, np.float32), "hi")]
graph = helper.make_graph(
    nodes, "bench_small",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 32, 32])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
checker.check_model(model)
save(model, sys.argv[1])
EOF
MODEL=$TMP/small.onnx

# --- JSON ---------------------------------------------------------------------------
check_json_py='
import json, sys
path, batch, runs, profile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
doc = json.load(open(path))
errors = []
def want(cond, what):
    if not cond:
        errors.append(what)
for k in ("load_ms", "first_run_ms", "peak_rss_bytes", "arena_bytes", "threads", "batch",
          "throughput_ips", "runs", "latency_ms", "steps", "model_load_ms", "session_create_ms"):
    want(k in doc, "key %s missing" % k)
lat = doc.get("latency_ms", {})
for k in ("min", "median", "p90"):
    want(isinstance(lat.get(k), (int, float)) and lat[k] > 0, "latency_ms.%s not a positive number" % k)
if all(isinstance(lat.get(k), (int, float)) for k in ("min", "median", "p90")):
    want(lat["min"] <= lat["median"] <= lat["p90"], "min <= median <= p90 does not hold")
want(doc.get("batch") == batch, "batch %r, expected %d" % (doc.get("batch"), batch))
want(doc.get("runs") == runs, "runs %r, expected %d" % (doc.get("runs"), runs))
want(doc.get("threads") == 1, "threads %r, expected 1" % doc.get("threads"))
want(doc.get("peak_rss_bytes", 0) > 1 << 20, "peak_rss_bytes implausible")
want(doc.get("arena_bytes", 0) > 0, "arena_bytes is 0")
want(doc.get("load_ms", -1) >= 0 and doc.get("first_run_ms", 0) > 0, "times not positive")
want(doc.get("throughput_ips", 0) > 0, "throughput_ips not positive")
if profile:
    prof = doc.get("profile", [])
    want(len(prof) == doc.get("steps") and len(prof) > 0, "profile has %d rows for %r steps" % (len(prof), doc.get("steps")))
    ops = [p.get("op") for p in prof]
    want("Conv+Relu" in ops, "no Conv+Relu step in %s" % ops)
    want(any(o.startswith("Conv+Clip") for o in ops), "no Conv+Clip step in %s" % ops)
    want(any(p.get("op") == "Gemm" and p.get("gflops", 0) > 0 for p in prof), "Gemm has no GFLOP/s")
    share = sum(p.get("share", 0) for p in prof)
    want(abs(share - 1) < 0.01, "shares sum to %g" % share)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
'

# bench_json NAME BATCH RUNS PROFILE ARGS...: runs onnxi bench --json and checks it
bench_json() {
  local name=$1 batch=$2 runs=$3 profile=$4
  shift 4
  if ! "$BIN" bench "$MODEL" --json --threads 1 "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"; then
    fail "$name: onnxi bench $* exited non-zero: $(head -c 400 "$TMP/$name.err")"
  elif grep -Eq 'Sanitizer|runtime error:' "$TMP/$name.err"; then
    fail "$name: sanitizer report: $(head -c 400 "$TMP/$name.err")"
  elif ! "$PY" -c "$check_json_py" "$TMP/$name.json" "$batch" "$runs" "$profile" >"$TMP/$name.check"; then
    fail "$name: $(tr '\n' ';' <"$TMP/$name.check")"
  else
    ok "$name"
  fi
}
bench_json json 1 2 0 --runs 2 --warmup 1
bench_json json_batch3 3 2 0 --runs 2 --warmup 0 --batch 3
bench_json json_profile 1 3 1 --runs 3 --warmup 1 --profile

# --- the text profile: one row per step ----------------------------------------------
if "$BIN" bench "$MODEL" --profile --threads 1 --runs 2 --warmup 1 >"$TMP/prof.txt" 2>"$TMP/prof.err"; then
  steps=$(sed -n 's/^profile: \([0-9][0-9]*\) steps.*/\1/p' "$TMP/prof.txt")
  # rows: the lines between the table header and the blank line after it
  rows=$(awk '/^ *step  node/ { on = 1; next } on && /^$/ { exit } on { n++ } END { print n + 0 }' "$TMP/prof.txt")
  numbered=$(awk '/^ *step  node/ { on = 1; next } on && /^$/ { exit } on && $1 == n { n++ } END { print n + 0 }' "$TMP/prof.txt")
  if [ -z "$steps" ] || [ "$steps" -lt 1 ]; then
    fail "profile: no 'profile: N steps' line"
  elif [ "$rows" != "$steps" ] || [ "$numbered" != "$steps" ]; then
    fail "profile: $rows rows ($numbered numbered 0..) for $steps steps"
  elif ! grep -q 'Conv+Relu' "$TMP/prof.txt" || ! grep -q 'GFLOP/s' "$TMP/prof.txt"; then
    fail "profile: no Conv+Relu row or no GFLOP/s column"
  else
    ok "profile text ($steps steps)"
  fi
  grep -q '^latency: .*median' "$TMP/prof.txt" || fail "text output lacks the latency line"
else
  fail "profile: onnxi bench --profile exited non-zero: $(head -c 400 "$TMP/prof.err")"
fi

# --- inputs saved and read back ------------------------------------------------------------
if "$BIN" bench "$MODEL" --runs 1 --warmup 0 --threads 1 --batch 2 --save-inputs "$TMP/in" >/dev/null 2>&1 &&
   [ -s "$TMP/in/x.npy" ] && "$BIN" bench "$MODEL" --runs 1 --warmup 0 --threads 1 --inputs "$TMP/in" --json >"$TMP/in.json" 2>&1 &&
   "$PY" -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["batch"] != 2)' "$TMP/in.json"; then
  ok "--save-inputs / --inputs"
else
  fail "--save-inputs then --inputs did not round-trip a batch of 2"
fi

# --- usage errors ----------------------------------------------------------------------------
for args in "" "--runs 0 $MODEL" "--runs x $MODEL" "--bogus $MODEL" "$MODEL --batch 2 --inputs $TMP/in"; do
  # shellcheck disable=SC2086
  "$BIN" bench $args >/dev/null 2>&1
  rc=$?
  if [ $rc -eq 2 ]; then ok "usage error: bench $args"; else fail "'onnxi bench $args' exited $rc, expected 2"; fi
done
"$BIN" bench "$TMP/missing.onnx" >/dev/null 2>&1
rc=$?
if [ $rc -eq 1 ]; then ok "missing model exits 1"; else fail "missing model exited $rc, expected 1"; fi

# --- the comparison script ----------------------------------------------------------------------
if ! bash "$SRC/tools/deps.sh" ort >"$TMP/deps.log" 2>&1; then
  echo "SKIP bench_compare.sh --smoke: onnxruntime-node could not be installed:"
  tail -n 5 "$TMP/deps.log" | sed 's/^/  /'
else
  if ONNXI_BINARY=$BIN bash "$SRC/tools/bench_compare.sh" --smoke --out "$TMP/cmp.md" "$MODEL" \
      >"$TMP/cmp.out" 2>"$TMP/cmp.err"; then
    if grep -q '^| small | 1 | [0-9.]* | [0-9.]* | [0-9.]* |' "$TMP/cmp.md" && cmp -s "$TMP/cmp.md" "$TMP/cmp.out"; then
      ok "bench_compare.sh --smoke"
    else
      fail "bench_compare.sh --smoke: no numeric row for the model, or --out differs from stdout"
      cat "$TMP/cmp.out" >&2
    fi
  else
    fail "bench_compare.sh --smoke failed: $(tail -c 600 "$TMP/cmp.err")"
  fi
fi

[ $FAILS -eq 0 ] || { echo "$FAILS check(s) failed" >&2; exit 1; }
echo "all bench checks passed"
