#!/usr/bin/env bash
# Acceptance test of the interpreter on torchvision models: resnet18/50,
# mobilenet_v2, mobilenet_v3_large/small, shufflenet_v2_x1_0, efficientnet_b0,
# resnext50_32x4d and regnet_y_400mf exported at opsets 11, 13 and 17 with a
# fixed and a symbolic batch (plus symbolic H/W at opset 13) must give
# PyTorch's outputs within rtol 1e-3, atol 1e-4 x max|output|:
#   1. models/export_interp_cases.py writes the cases (backend-test layout;
#      _dyn cases run batch 1 then batch 2, _dynhw cases 64, 96 then 80 px,
#      all on one loaded model);
#   2. `onnxi test` runs every case with 1 and with 2 threads;
#   3. `onnxi run --output-dir` runs every data set of a few cases and the
#      written .npy is compared with the expected output in python.
#
#   bash tests/test_interp_models.sh ONNXI_BINARY BUILD_DIR SOURCE_DIR [--export-only]
#
# Cases live in $ONNXI_INTERP_CASES, default ${ONNXI_MODEL_CACHE:-BUILD_DIR/models}/interp,
# and are exported only when missing or out of date; tests/test_api_models.c
# runs the same cases through the C API (it reads ONNXI_INTERP_CASES too).
# --export-only stops after step 1 (the ctest fixture that creates the
# cases). Exits 77 (skipped) only when python's torch/torchvision/onnx/numpy
# are missing.
set -uo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ] || { [ $# -eq 4 ] && [ "$4" != --export-only ]; }; then
  echo "usage: $0 ONNXI_BINARY BUILD_DIR SOURCE_DIR [--export-only]" >&2
  exit 2
fi
onnxi=$1 build=$2 src=$3 export_only=${4:-}
python=/usr/bin/python3
cases=${ONNXI_INTERP_CASES:-${ONNXI_MODEL_CACHE:-$build/models}/interp}
work=$build/test_interp_models
rtol=1e-3 atol_scale=1e-4

if ! "$python" -c 'import torch, torchvision, onnx, numpy' 2>/dev/null; then
  echo "SKIP: $python lacks torch, torchvision, onnx or numpy (run tools/deps.sh test)"
  exit 77
fi
mkdir -p "$cases" "$work" || exit 1

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- 1. export -----------------------------------------------------------------
t0=$(now)
if "$python" "$src/models/export_interp_cases.py" "$cases" 2>"$work/export.err"; then
  pass "export into $cases ($(since "$t0") s)"
else
  grep -v -i warning "$work/export.err" | tail -n 20
  fail "models/export_interp_cases.py $cases (stderr: $work/export.err)"
fi
mapfile -t names < <("$python" "$src/models/export_interp_cases.py" "$cases" --list)
missing=0
for n in "${names[@]}"; do
  if [ ! -s "$cases/$n/model.onnx" ] || [ ! -s "$cases/$n/test_data_set_0/output_0.pb" ]; then
    missing=$((missing + 1))
    echo "missing case $n"
  fi
done
if [ ${#names[@]} -gt 0 ] && [ $missing -eq 0 ]; then
  pass "all ${#names[@]} cases present"
else
  fail "$missing of ${#names[@]} cases missing"
fi
if [ -n "$export_only" ]; then
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi

# --- 2. onnxi test, 1 and 2 threads ----------------------------------------------
for threads in 1 2; do
  t0=$(now)
  "$onnxi" test "$cases" --rtol $rtol --atol-scale $atol_scale --threads $threads \
    >"$work/test_t$threads.log" 2>&1
  rc=$?
  grep -v '^PASS ' "$work/test_t$threads.log"
  summary=$(tail -n 1 "$work/test_t$threads.log")
  if [ $rc -eq 0 ] && [ "$summary" = "${#names[@]} passed, 0 failed, 0 skipped" ]; then
    pass "onnxi test --threads $threads: $summary ($(since "$t0") s)"
  else
    fail "onnxi test --threads $threads exits $rc: $summary (log: $work/test_t$threads.log)"
  fi
done

# --- 3. onnxi run --output-dir on a few cases ------------------------------------
# pb_to_npy SET_DIR OUT_DIR: input_K.pb -> OUT_DIR/input_K.npy
pb_to_npy_py='
import sys, glob, os
import numpy as np, onnx, onnx.numpy_helper as nh
set_dir, out_dir = sys.argv[1:3]
for p in sorted(glob.glob(os.path.join(set_dir, "input_*.pb"))):
    base = os.path.basename(p)[:-3]
    np.save(os.path.join(out_dir, base + ".npy"), nh.to_array(onnx.load_tensor(p)))
'
# compare GOT.npy WANT.pb: the onnxi test tolerance; prints ok/FAIL detail
compare_py='
import sys
import numpy as np, onnx, onnx.numpy_helper as nh
rtol, atol_scale = float(sys.argv[3]), float(sys.argv[4])
got = np.load(sys.argv[1])
want = nh.to_array(onnx.load_tensor(sys.argv[2]))
if got.dtype != want.dtype or got.shape != want.shape:
    print("FAIL %s %s, expected %s %s" % (got.dtype, got.shape, want.dtype, want.shape))
    sys.exit()
g, w = got.astype(np.float64), want.astype(np.float64)
tol = atol_scale * np.abs(w).max() + rtol * np.abs(w)
excess = np.abs(g - w) - tol
if not np.all(np.isfinite(g)) or excess.max() > 0:
    i = int(np.nanargmax(np.where(np.isfinite(excess), excess, np.inf)))
    print("FAIL %s element %d got %.9g expected %.9g (max abs err %.3g, atol %.3g)"
          % (want.shape, i, g.flat[i], w.flat[i], np.abs(g - w).max(), tol.flat[i] - rtol * abs(w.flat[i])))
else:
    print("ok %s, %.2f of the tolerance used" % (want.shape, (np.abs(g - w) / tol).max()))
'
run_cases=(resnet18_op11 regnet_y_400mf_op17 mobilenet_v3_large_op17_dyn
           shufflenet_v2_x1_0_op13_dynhw efficientnet_b0_op13_dynhw)
for c in "${run_cases[@]}"; do
  for set in "$cases/$c"/test_data_set_*; do
    [ -d "$set" ] || { fail "$c: no data set"; continue; }
    sw=$work/$c/$(basename "$set")
    mkdir -p "$sw"
    if ! "$python" -c "$pb_to_npy_py" "$set" "$sw"; then
      fail "$c/$(basename "$set"): input .pb -> .npy conversion"
      continue
    fi
    for threads in 1 2; do
      rm -rf "$sw/out_t$threads"
      if ! "$onnxi" run "$cases/$c/model.onnx" --input "input=$sw/input_0.npy" \
           --output-dir "$sw/out_t$threads" --threads $threads >"$sw/run_t$threads.log" 2>&1; then
        fail "$c/$(basename "$set") run --threads $threads: $(head -c 600 "$sw/run_t$threads.log")"
        continue
      fi
      line=$("$python" -c "$compare_py" "$sw/out_t$threads/output.npy" "$set/output_0.pb" \
             $rtol $atol_scale 2>&1 | tail -n 1)
      case $line in
        ok*) pass "$c/$(basename "$set") onnxi run --threads $threads: ${line#ok }" ;;
        *) fail "$c/$(basename "$set") onnxi run --threads $threads: ${line#FAIL }" ;;
      esac
    done
  done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
