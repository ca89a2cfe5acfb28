#!/usr/bin/env bash
# Model-level acceptance test for the loader and `onnxi dump`, on real
# PyTorch exports: torchvision ResNet-50, MobileNetV2, ShuffleNetV2 1.0
# (opset 13, BatchNorm folded) and ResNet-18 with BatchNormalization kept.
# For each model and each format (text, json, dot): onnxi exits 0; the JSON
# parses and has as many nodes as python onnx counts; the text lists every
# node name; the DOT renders with graphviz; the BN-kept dump shows
# BatchNormalization.
#
#   bash tests/test_models.sh ONNXI_BINARY BUILD_DIR SOURCE_DIR   (run by ctest)
#
# Models are exported once into ONNXI_MODEL_CACHE (default BUILD_DIR/models;
# tools/test.sh points it at build/models). Exits 77 (skipped) only when
# python's torch/torchvision/onnx are missing: tools/deps.sh test installs them.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/script_init.sh" "$@"
cache=${ONNXI_MODEL_CACHE:-$build/models}
work=$build/test_models

script_need_python torch torchvision onnx
mkdir -p "$cache" "$work" || exit 1

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# model_export FILE NAME [ARG...]: exports unless the cache has it.
model_export() {
  local file=$1 name=$2
  shift 2
  [ -s "$cache/$file" ] && return 0
  echo "exporting $name $* -> $cache/$file"
  "$python" "$src/models/export_torchvision.py" --model "$name" --out "$cache/$file" "$@"
}

# Checks of the three dumps against what python onnx reads from the model.
# Prints one "ok ..." or "FAIL ..." line per check.
dump_check_py='
import json, sys
import onnx

model_path, text_path, json_path = sys.argv[1:4]
graph = onnx.load(model_path, load_external_data=False).graph
want = len(graph.node)

def nodes_of(doc):
    """The imported graph node list: doc["nodes"], or under "graph"/"graphs"."""
    if isinstance(doc, dict):
        if isinstance(doc.get("nodes"), list):
            return doc["nodes"]
        for key in ("graph", "graphs", "imported"):
            if key in doc:
                found = nodes_of(doc[key])
                if found is not None:
                    return found
    if isinstance(doc, list) and doc:
        return nodes_of(doc[0])
    return None

try:
    with open(json_path) as f:
        doc = json.load(f)
    print("ok   json parses")
except ValueError as e:
    print("FAIL json does not parse: %s" % e)
    doc = None
if doc is not None:
    nodes = nodes_of(doc)
    if nodes is None:
        print("FAIL json has no \"nodes\" list")
    elif len(nodes) != want:
        print("FAIL json lists %d nodes, python onnx counts %d" % (len(nodes), want))
    else:
        print("ok   json lists %d nodes, as python onnx counts" % want)

with open(text_path) as f:
    text = f.read()
missing = [n.name for n in graph.node if n.name and n.name not in text]
if missing:
    print("FAIL text dump misses %d of %d node names, e.g. %s" % (len(missing), want, missing[:3]))
else:
    print("ok   text dump names all %d nodes" % want)
'

# model_check FILE [EXPECT_OP]: dumps FILE in every format and checks them.
model_check() {
  local file=$1 expect_op=${2:-} model=$cache/$1 base=$work/${1%.onnx} fmt line
  echo "== $file"
  for fmt in text json dot; do
    if "$onnxi" dump --format "$fmt" "$model" >"$base.$fmt" 2>"$base.$fmt.err"; then
      pass "dump --format $fmt exits 0"
    else
      fail "dump --format $fmt exits $?: $(head -c 600 "$base.$fmt.err")"
    fi
  done
  while IFS= read -r line; do
    case $line in
      ok*) pass "${line#ok   }" ;;
      *) fail "${line#FAIL }" ;;
    esac
  done < <("$python" -c "$dump_check_py" "$model" "$base.text" "$base.json" 2>&1 ||
           echo "FAIL python check crashed")
  if ! grep -q digraph "$base.dot"; then
    fail "dot dump has no digraph"
  elif dot -Tsvg "$base.dot" -o "$base.svg" 2>"$base.dot.err"; then
    pass "dot -Tsvg renders the dot dump"
  else
    fail "dot -Tsvg: $(head -c 600 "$base.dot.err")"
  fi
  if [ -n "$expect_op" ]; then
    if grep -q "$expect_op" "$base.text"; then
      pass "text dump shows $expect_op"
    else
      fail "text dump has no $expect_op"
    fi
  fi
}

models=(
  "resnet50_op13.onnx resnet50 --opset 13"
  "mobilenet_v2_op13.onnx mobilenet_v2 --opset 13"
  "shufflenet_v2_x1_0_op13.onnx shufflenet_v2_x1_0 --opset 13"
  "resnet18_op13_bnkept.onnx resnet18 --opset 13 --bn-kept"
)
for spec in "${models[@]}"; do
  read -r -a args <<<"$spec"
  if ! model_export "${args[@]}"; then
    fail "export ${args[*]}"
    continue
  fi
  case ${args[0]} in
    *bnkept*) model_check "${args[0]}" BatchNormalization ;;
    *) model_check "${args[0]}" ;;
  esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
