# `onnxi dump` end to end: a small .onnx written with onnx.helper, dumped in
# every format; JSON must parse, DOT must render; load and usage errors must
# give exit codes 1 and 2.
# Usage: bash test_dump_cli.sh ONNXI_BINARY BUILD_DIR SOURCE_DIR
set -u
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

# run EXPECTED_RC NAME ARGS...: runs the binary, output in $TMP/NAME.{out,err}
run() {
  local want=$1 name=$2
  shift 2
  "$BIN" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
  local rc=$?
  if grep -Eq 'Sanitizer|runtime error:' "$TMP/$name.err"; then
    fail "$name: sanitizer report"
    head -20 "$TMP/$name.err" >&2
  elif [ "$rc" != "$want" ]; then
    fail "$name: 'onnxi $*' exited $rc, expected $want"
    sed 's/^/  stderr: /' "$TMP/$name.err" | head -5 >&2
  fi
}

# expect NAME FILE LITERAL: FILE must contain LITERAL (a fixed string)
expect() {
  grep -qF -- "$3" "$2" || fail "$1: '$3' not found in $(basename "$2")"
}

if ! "$PY" -c 'import onnx' 2>/dev/null; then
  echo "SKIP: $PY cannot import onnx"
  exit 0
fi

"$PY" - "$TMP/tiny.onnx" <<'EOF' || { echo "FAIL: could not write the test model" >&2; exit 1; }
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

f = TensorProto.FLOAT
w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "conv.weight")
b = numpy_helper.from_array(np.zeros((4,), np.float32), "conv.bias")
six = numpy_helper.from_array(np.array(6.0, np.float32), "six")
then_g = helper.make_graph(
    [helper.make_node("Identity", ["y"], ["t_out"], name="then_id")], "then_body", [],
    [helper.make_tensor_value_info("t_out", f, None)])
else_g = helper.make_graph(
    [helper.make_node("Neg", ["y"], ["e_out"], name="else_neg")], "else_body", [],
    [helper.make_tensor_value_info("e_out", f, None)])
nodes = [
    helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="conv0",
                     kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
    helper.make_node("LeakyRelu", ["c"], ["r"], name="leaky \"0\"\nline2", alpha=0.1),
    helper.make_node("Add", ["r", "c"], ["s\u00e9"], name="add0"),
    helper.make_node("Clip", ["s\u00e9", "", "six"], ["y"], name="clip0"),
    helper.make_node("Constant", [], ["flag"], name="const0",
                     value=helper.make_tensor("v", TensorProto.BOOL, [], [True])),
    helper.make_node("If", ["flag"], ["z"], name="if0", then_branch=then_g, else_branch=else_g),
    helper.make_node("Relu", ["y"], ["out2"], name="relu_out"),
]
g = helper.make_graph(
    nodes, "tiny", [helper.make_tensor_value_info("x", f, ["N", 3, 8, 8])],
    [helper.make_tensor_value_info("z", f, ["N", 4, 8, 8]),
     helper.make_tensor_value_info("out2", f, ["N", 4, 8, 8])],
    [w, b, six],
    value_info=[helper.make_tensor_value_info("c", f, ["N", 4, 8, 8])])
m = helper.make_model(g, producer_name="onnxi-test", producer_version="0.1",
                      opset_imports=[helper.make_opsetid("", 13)],
                      doc_string="tiny test model\nsecond line")
helper.set_model_props(m, {"note": "tab\there \"q\""})
onnx.save(m, sys.argv[1])
EOF
M=$TMP/tiny.onnx

# --- text ---
run 0 text dump "$M"
T=$TMP/text.out
expect text "$T" "producer: onnxi-test 0.1"
expect text "$T" "opsets: ai.onnx: 13"
expect text "$T" 'doc: "tiny test model"'
expect text "$T" 'note = "tab\there \"q\""'
expect text "$T" "x: float32[N,3,8,8]"
expect text "$T" "initializers: 3 (452 bytes)"
expect text "$T" "#0 conv0: Conv(x, conv.weight, conv.bias) -> (c)"
expect text "$T" "kernel_shape = [3, 3]"
expect text "$T" "-> c: float32[N,4,8,8]"
expect text "$T" '"leaky \"0\"\nline2": LeakyRelu(c) -> (r)'
expect text "$T" "alpha = 0.1"
expect text "$T" "Clip(sé, -, six) -> (y)"
expect text "$T" "value = bool[] {true}"
expect text "$T" "then_branch = <graph then_body: 1 nodes>"
if grep -q "doc:.*second line" "$T"; then fail "text: doc shows more than its first line"; fi
# histogram: count desc, then name
sed -n '/^op histogram:/,$p' "$T" >"$TMP/hist"
printf 'op histogram:\n  Add: 1\n  Clip: 1\n  Constant: 1\n  Conv: 1\n  If: 1\n  LeakyRelu: 1\n  Relu: 1\n' \
  | cmp -s - "$TMP/hist" || fail "text: op histogram: $(tr '\n' ' ' <"$TMP/hist")"

# --- json ---
run 0 json dump "$M" --format json
"$PY" -m json.tool "$TMP/json.out" >/dev/null || fail "json: does not parse"
"$PY" - "$TMP/json.out" <<'EOF' || fail "json: content check"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for k in ["file", "producer", "ir_version", "opsets", "inputs", "outputs", "nodes",
          "initializers", "op_histogram"]:
    assert k in d, k
assert d["producer"] == {"name": "onnxi-test", "version": "0.1"}, d["producer"]
assert d["opsets"] == [{"domain": "", "version": 13}], d["opsets"]
assert d["initializers"] == {"count": 3, "bytes": 452}, d["initializers"]
assert d["inputs"][0] == {"name": "x", "dtype": "float32", "shape": ["N", 3, 8, 8]}
assert d["metadata"] == [{"key": "note", "value": "tab\there \"q\""}]
nodes = {n["name"]: n for n in d["nodes"]}
assert len(d["nodes"]) == 7
assert "leaky \"0\"\nline2" in nodes
alpha = nodes["leaky \"0\"\nline2"]["attributes"][0]
assert alpha["name"] == "alpha" and abs(alpha["value"] - 0.1) < 1e-7, alpha
assert nodes["clip0"]["inputs"] == ["s\u00e9", None, "six"]
assert nodes["if0"]["attributes"][0]["value"]["nodes"] == 1
assert d["op_histogram"]["Conv"] == 1 and len(d["op_histogram"]) == 7
EOF

# --- dot ---
run 0 dot dump --format=dot "$M"
expect dot "$TMP/dot.out" "digraph"
expect dot "$TMP/dot.out" 'kernel_shape=[3,3]'
if command -v dot >/dev/null; then
  dot -Tsvg "$TMP/dot.out" >"$TMP/out.svg" 2>"$TMP/dot.err" || fail "dot: does not render"
  [ -s "$TMP/dot.err" ] && fail "dot: graphviz warnings: $(head -3 "$TMP/dot.err")"
else
  echo "note: graphviz not installed, DOT output not rendered"
fi

# --- golden files must be valid too ---
for j in "$SRC"/tests/golden/*.json; do
  "$PY" -m json.tool "$j" >/dev/null || fail "golden $(basename "$j") does not parse"
done
if command -v dot >/dev/null; then
  for g in "$SRC"/tests/golden/*.dot; do
    dot -Tsvg "$g" >/dev/null 2>&1 || fail "golden $(basename "$g") does not render"
  done
fi

# --- --time ---
run 0 time dump "$M" --time
grep -Eq '^load_ms: [0-9]+\.[0-9]+$' "$TMP/time.err" || fail "time: no load_ms line on stderr"
cmp -s "$TMP/time.out" "$TMP/text.out" || fail "time: stdout differs from the plain dump"

# --- load errors: exit 1, loader's message prefixed "onnxi: " ---
run 1 missing dump "$TMP/does-not-exist.onnx"
grep -q '^onnxi: .*does-not-exist.onnx' "$TMP/missing.err" || fail "missing: message does not name the file"
head -c 4096 /dev/urandom >"$TMP/garbage.onnx"
printf 'this is not a protobuf\n' >"$TMP/text.onnx"
run 1 garbage dump "$TMP/garbage.onnx"
grep -q '^onnxi: ' "$TMP/garbage.err" || fail "garbage: no 'onnxi: ' message"
run 1 garbage_text dump "$TMP/text.onnx" --format json
[ -s "$TMP/garbage_text.out" ] && fail "garbage_text: printed output for a bad file"
run 1 empty dump /dev/null

# --- usage errors: exit 2 ---
run 2 noargs
run 2 nomodel dump
run 2 badflag dump "$M" --bogus
grep -q "unknown option '--bogus'" "$TMP/badflag.err" || fail "badflag: message"
run 2 badfmt dump "$M" --format xml
grep -q "text, json or dot" "$TMP/badfmt.err" || fail "badfmt: message"
run 2 nofmt dump "$M" --format
run 2 twomodels dump "$M" "$M"
run 2 badcmd frobnicate
[ -s "$TMP/badflag.out" ] && fail "usage errors must not write to stdout"

# --- help and version ---
run 0 help --help
expect help "$TMP/help.out" "dump"
run 0 dumphelp dump --help
expect dumphelp "$TMP/dumphelp.out" "--format"
run 0 version --version
grep -Eq '^onnxi [0-9]+\.[0-9]+\.[0-9]+' "$TMP/version.out" || fail "version: $(cat "$TMP/version.out")"

# a model path that looks like an option, after --
cp "$M" "$TMP/-dash.onnx"
(cd "$TMP" && "$BIN" dump -- -dash.onnx >/dev/null 2>&1) || fail "dump -- -dash.onnx"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "test_dump_cli: all checks passed"
