#!/usr/bin/env bash
# Accuracy test of the bundled classifier models/digits/digits.onnx (trained
# by models/digits/train.py on scikit-learn's digits):
#   1. the whole held-out split (models/digits/test_split.npz, 360 images) in
#      one batch through `onnxi run --output-dir`: every prediction must equal
#      PyTorch's, the logits must agree to 1e-3, and the accuracy is printed;
#   2. onnxi's image pipeline: an Identity model carrying digits.onnx's
#      metadata turns each sample PNG into exactly the tensor that
#      models/digits/preprocess.py (the training pipeline) makes of it;
#   3. `onnxi run digits.onnx --input input=samples/digit_K.png` prints K as
#      the top-1 class, with its label.
# The network input is built with numpy by preprocess.py, so torch is not
# needed here.
#
#   bash tests/test_digits.sh ONNXI_BINARY BUILD_DIR SOURCE_DIR   (run by ctest)
#
# Exits 77 (skipped) only when /usr/bin/python3 lacks numpy or onnx.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/script_init.sh" "$@"
dir=$src/models/digits
model=$dir/digits.onnx
work=$build/test_digits

script_need_python numpy onnx
if [ ! -x "$onnxi" ]; then
  echo "FAIL $onnxi is not an executable (build it first)"
  exit 1
fi
rm -rf "$work"
mkdir -p "$work" || exit 1

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# Runs onnxi; output in $work/NAME.{out,err}. Returns onnxi's exit code.
onnxi_run() {
  local name=$1
  shift
  "$onnxi" run "$@" >"$work/$name.out" 2>"$work/$name.err"
  local rc=$?
  if grep -Eq 'Sanitizer|runtime error:' "$work/$name.err"; then
    fail "$name: sanitizer report: $(head -c 600 "$work/$name.err")"
    return 1
  fi
  [ $rc -eq 0 ] || fail "$name: onnxi run $* exited $rc: $(head -c 600 "$work/$name.err")"
  return $rc
}

# py_check ARG... <<'EOF' ... EOF: runs the python on stdin with ARGs and
# counts its "ok ..." / "FAIL ..." lines; other lines are printed as they are.
py_check() {
  local line
  while IFS= read -r line; do
    case $line in
      ok*) pass "${line#ok   }" ;;
      FAIL*) fail "${line#FAIL }" ;;
      *) echo "$line" ;;
    esac
  done < <({ "$python" - "$@" || echo "FAIL python check exited $?"; } 2>&1)
}

size=$(stat -c %s "$model" 2>/dev/null || echo 0)
if [ "$size" -gt 0 ] && [ "$size" -lt 1048576 ]; then
  pass "digits.onnx is $size bytes (< 1 MB)"
else
  fail "digits.onnx is missing or not under 1 MB ($size bytes)"
fi

# 1. The held-out split, batched.
py_check "$dir" "$work/x.npy" <<'EOF'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import preprocess
d = np.load(sys.argv[1] + "/test_split.npz")
np.save(sys.argv[2], preprocess.pixels_to_tensor(d["pixels"]))
print("ok   built the %d-image held-out batch with preprocess.py" % len(d["labels"]))
EOF
if onnxi_run split "$model" --input "input=$work/x.npy" --output-dir "$work/split"; then
  py_check "$dir/test_split.npz" "$work/split/output.npy" <<'EOF'
import sys
import numpy as np
d = np.load(sys.argv[1])
got = np.load(sys.argv[2])
want, labels, torch_pred = d["logits"], d["labels"], d["predictions"]
if got.shape != want.shape:
    print("FAIL onnxi output shape %s, PyTorch's %s" % (got.shape, want.shape))
    sys.exit(0)
pred = got.argmax(1)
n = len(labels)
diff = float(np.abs(got - want).max())
bad = np.flatnonzero(pred != torch_pred)
if len(bad):
    print("FAIL onnxi and PyTorch disagree on %d of %d images, e.g. #%d: onnxi %d, PyTorch %d"
          % (len(bad), n, bad[0], pred[bad[0]], torch_pred[bad[0]]))
else:
    print("ok   onnxi predicts what PyTorch predicts on all %d held-out images" % n)
if diff <= 1e-3:
    print("ok   logits agree with PyTorch's (max |diff| %.2g)" % diff)
else:
    print("FAIL logits differ from PyTorch's by up to %.3g" % diff)
acc, torch_acc = (pred == labels).mean(), (torch_pred == labels).mean()
print("digits accuracy on the held-out split: onnxi %d/%d = %.2f%%, PyTorch %.2f%%"
      % ((pred == labels).sum(), n, 100 * acc, 100 * torch_acc))
EOF
fi

# 2. The image pipeline: PNG -> tensor, via Identity + digits.onnx's metadata.
py_check "$model" "$work/identity.onnx" <<'EOF'
import sys
import onnx
from onnx import TensorProto, helper
meta = {p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}
shape = ["N", 1, int(meta["onnxi.image_size"]), int(meta["onnxi.image_size"])]
graph = helper.make_graph([helper.make_node("Identity", ["input"], ["output"], name="identity")],
                          "digits_input", [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)])
m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
helper.set_model_props(m, meta)
onnx.save(m, sys.argv[2])
print("ok   Identity model with digits.onnx's %d metadata entries" % len(meta))
EOF
for png in "$dir"/samples/digit_*.png; do
  name=$(basename "$png" .png)
  onnxi_run "pipe_$name" "$work/identity.onnx" --input "input=$png" --output-dir "$work/pipe_$name" ||
    continue
  py_check "$dir" "$png" "$work/pipe_$name/output.npy" <<'EOF'
import os, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import preprocess
want = preprocess.pixels_to_tensor(preprocess.png_read(sys.argv[2])[None])
got = np.load(sys.argv[3])
name = os.path.basename(sys.argv[2])
if got.shape != want.shape:
    print("FAIL %s: onnxi makes a %s tensor, training used %s" % (name, got.shape, want.shape))
else:
    diff = float(np.abs(got - want).max())
    if diff <= 1e-5:
        print("ok   %s: onnxi's input tensor is the training pipeline's (max |diff| %.2g)" % (name, diff))
    else:
        print("FAIL %s: onnxi's input tensor differs from the training pipeline's by up to %.3g"
              % (name, diff))
EOF
done

# 3. Top-1 of each sample PNG through the CLI, as a user runs it.
for png in "$dir"/samples/digit_*.png; do
  name=$(basename "$png" .png)
  want=${name#digit_}
  onnxi_run "top_$name" "$model" --input "input=$png" --top 1 || continue
  line=$(grep -E '^ *1\. class' "$work/top_$name.out" | head -1)
  read -r _ _ cls _ label <<<"$line"
  if [ "$cls" = "$want" ] && [ "$label" = "$want" ]; then
    pass "$name.png: top-1 is class $cls, label '$label'"
  else
    fail "$name.png: expected class $want, onnxi printed '$line'"
  fi
done

# 4. The same through JPEG and PPM files, top-5 printed (PIL comes with torchvision).
for fmt in jpg ppm; do
  img=$work/digit_7.$fmt
  if /usr/bin/python3 -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').resize((64, 64)).save(sys.argv[2])" \
      "$dir/samples/digit_7.png" "$img" 2>/dev/null; then
    onnxi_run "top5_$fmt" "$model" --input "input=$img" || continue
    n=$(grep -cE '^ *[1-5]\. class' "$work/top5_$fmt.out" || true)
    cls=$(grep -E '^ *1\. class' "$work/top5_$fmt.out" | awk '{print $3}')
    if [ "$n" = 5 ] && [ "$cls" = 7 ]; then pass "digit_7.$fmt: top-5 printed, top-1 is 7"
    else fail "digit_7.$fmt: expected 5 classes with 7 first, got $n lines, top-1 '$cls'"; fi
  else
    echo "skip $fmt check: PIL cannot write it"
  fi
done

# 5. `onnxi run` with no model: the demo classifies every bundled sample.
if ONNXI_DEMO_DIR=$dir "$onnxi" run >"$work/demo.out" 2>"$work/demo.err"; then
  n=$(grep -c '^digit_.*\.png:$' "$work/demo.out" || true)
  ok=$(awk '/^digit_/ {want = substr($1, 7, 1)} /^ *1\. class/ {if ($3 == want) n++} END {print n + 0}' "$work/demo.out")
  if [ "$n" = 10 ] && [ "$ok" = 10 ]; then
    pass "onnxi run (demo): top-1 right on all $n samples"
  else
    fail "onnxi run (demo): $ok of $n samples right"
  fi
else
  fail "onnxi run (demo) exited non-zero: $(head -c 300 "$work/demo.err")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
