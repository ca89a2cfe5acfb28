#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, clang-14 with ASan + UBSan) and
# runs each in turn, one process at a time:
#
#   tools/fuzz.sh [--smoke] [TARGET...]    a fixed number of runs per target (CI)
#   tools/fuzz.sh --time SECONDS [TARGET...]  SECONDS per target
#   tools/fuzz.sh --parallel --time 3600          the targets at once, one process each
#
# Targets: fuzz_load (loader on raw bytes), fuzz_model (structured mutations
# of valid models, then plan + run), fuzz_readers (.npy/.pb/image readers).
# Seeds are generated into BUILD/seeds/ from tests/hostile/, models/digits/,
# a few ONNX node tests (when $ONNXI_MODEL_CACHE/onnx-backend exists, i.e.
# after tools/test.sh) and tests/fuzz/regress/; the growing corpus lives in
# BUILD/corpus/TARGET/, crashes in BUILD/artifacts/TARGET/. A crash fails the
# script: minimize it (the fuzzer's -minimize_crash=1), fix it, and add the
# input to tests/fuzz/regress/TARGET/ (replayed by ctest in every build).
#
# Environment: ONNXI_FUZZ_BUILD_DIR (default build-fuzz/), ONNXI_FUZZ_RUNS
# (smoke runs per target, default 20000), ONNXI_FUZZ_ARGS (extra libFuzzer
# arguments).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode=smoke
seconds=0
parallel=0
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) mode=smoke ;;
    --time) mode=time; seconds=${2:?--time needs SECONDS}; shift ;;
    --parallel) parallel=1 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    fuzz_*) targets+=("$1") ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_load fuzz_model fuzz_readers)

bash "$ONNXI_ROOT/tools/deps.sh" fuzz
build=${ONNXI_FUZZ_BUILD_DIR:-$ONNXI_ROOT/build-fuzz}
# Not -Werror: this build is for finding bugs, clang's warnings are not the gate.
CC=clang-14 ONNXI_BUILD_TARGET=fuzzers onnxi_build "$build" -DONNXI_FUZZ=ON -DONNXI_BUILD_TESTS=OFF -DONNXI_WERROR=OFF \
  -DONNXI_SANITIZE=OFF -DONNXI_TSAN=OFF

# --- seeds ------------------------------------------------------------------------
seeds=$build/seeds
node_dir=$ONNXI_MODEL_CACHE/onnx-backend/node
# A spread of ops with attributes, initializers and runtime inputs.
node_tests=(test_conv_with_strides_padding test_convtranspose test_maxpool_2d_pads
  test_averagepool_2d_strides test_gather_0 test_gather_negative_indices test_slice
  test_slice_neg_steps test_reshape_extended_dims test_reshape_negative_dim test_concat_2d_axis_0
  test_gemm_default_matrix_bias test_matmul_3d test_batchnorm_example test_transpose_default
  test_resize_upsample_scales_nearest test_resize_downsample_scales_linear test_expand_dim_changed
  test_tile test_split_variable_parts_1d test_squeeze test_unsqueeze_axis_0 test_softmax_axis_1
  test_reduce_sum_keepdims_example test_argmax_default_axis_example test_pad test_cast_FLOAT_to_DOUBLE
  test_where_example test_range_float_type_positive_delta test_einsum_batch_matmul
  test_depthtospace_example test_scatternd test_constantofshape_int_zeros test_flatten_axis1
  test_lrn test_instancenorm_example test_clip test_prelu_example test_mod_broadcast test_equal)

seeds_make() {
  rm -rf "$seeds"
  mkdir -p "$seeds"/{models,fuzz_load,fuzz_model,fuzz_readers}
  cp "$ONNXI_ROOT"/tests/hostile/*.onnx "$ONNXI_ROOT/models/digits/digits.onnx" "$seeds/models/"
  local t n=0
  for t in "${node_tests[@]}"; do
    [ -f "$node_dir/$t/model.onnx" ] || continue
    cp "$node_dir/$t/model.onnx" "$seeds/models/$t.onnx"
    local pb=$node_dir/$t/test_data_set_0/input_0.pb
    [ -f "$pb" ] && { printf '\001'; cat "$pb"; } >"$seeds/fuzz_readers/$t.pb"
    n=$((n + 1))
  done
  echo "fuzz.sh: seeds from $n node tests (of ${#node_tests[@]})" >&2
  local f
  for f in "$seeds"/models/*.onnx; do
    cp "$f" "$seeds/fuzz_load/"
    { printf '\000\000'; cat "$f"; } >"$seeds/fuzz_model/$(basename "$f" .onnx)"
  done
  # reader selector byte: 0 npy, 1 pb, 2 png, 3 jpg, 4 ppm, 5 pgm (+0x80: grayscale)
  for f in "$ONNXI_ROOT"/models/digits/samples/digit_[0-3].png; do
    { printf '\002'; cat "$f"; } >"$seeds/fuzz_readers/$(basename "$f")"
  done
  { printf '\004P6\n2 2\n255\n'; printf '\001\002\003\004\005\006\007\010\011\012\013\014'; } \
    >"$seeds/fuzz_readers/rgb.ppm"
  { printf '\205P5\n3 1\n255\n'; printf '\001\002\003'; } >"$seeds/fuzz_readers/gray.pgm"
  "$ONNXI_PYTHON" - "$seeds/fuzz_readers" <<'EOF' || echo "fuzz.sh: no numpy/PIL seeds" >&2
import io, sys
import numpy as np
out = sys.argv[1]
for i, a in enumerate([np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, -2], np.int64),
                       np.zeros((1, 1, 2, 2), np.uint8), np.array(3.5, np.float64),
                       np.asfortranarray(np.ones((2, 2), np.float32))]):
    b = io.BytesIO()
    np.save(b, a)
    open(f"{out}/a{i}.npy", "wb").write(b"\x00" + b.getvalue())
from PIL import Image
b = io.BytesIO()
Image.new("RGB", (4, 3), (200, 10, 30)).save(b, "JPEG")
open(f"{out}/small.jpg", "wb").write(b"\x03" + b.getvalue())
EOF
  for t in fuzz_load fuzz_model fuzz_readers; do
    [ -d "$ONNXI_ROOT/tests/fuzz/regress/$t" ] && cp "$ONNXI_ROOT/tests/fuzz/regress/$t/"* "$seeds/$t/"
  done
  return 0
}
seeds_make

# --- runs -----------------------------------------------------------------------
runs=${ONNXI_FUZZ_RUNS:-20000}
failed=()
# One target: libFuzzer into BUILD/TARGET.log; the summary goes to stderr.
fuzz_target_run() {
  local t=$1 corpus=$build/corpus/$1 artifacts=$build/artifacts/$1
  mkdir -p "$corpus" "$artifacts"
  local args=(-rss_limit_mb=2048 -max_len=400000 -print_final_stats=1 "-artifact_prefix=$artifacts/")
  # Long runs flag anything over 30 s (found two hangs); the smoke run in CI
  # only real hangs, so a slow shared machine does not make it flaky.
  if [ $mode = smoke ]; then
    args+=(-runs="$runs" -seed=1 -timeout=120)
  else
    args+=(-max_total_time="$seconds" -timeout=30)
  fi
  local extra
  read -r -a extra <<<"${ONNXI_FUZZ_ARGS:-}"
  echo "==== $t: $([ $mode = smoke ] && echo "$runs runs" || echo "${seconds}s")" >&2
  local log=$build/$t.log start=$SECONDS
  if "$build/tests/fuzz/$t" "${args[@]}" "${extra[@]}" "$corpus" "$seeds/$t" >"$log" 2>&1; then
    echo "$t: $(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' ')" \
      "($((SECONDS - start))s, corpus $(ls "$corpus" | wc -l) files)" >&2
  else
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" >&2 || tail -n 30 "$log" >&2
    echo "fuzz.sh: $t FAILED: full log in $log, inputs in $artifacts" >&2
    return 1
  fi
}
if [ $parallel = 1 ]; then
  pids=()
  for t in "${targets[@]}"; do fuzz_target_run "$t" & pids+=($!); done
  for i in "${!targets[@]}"; do wait "${pids[$i]}" || failed+=("${targets[$i]}"); done
else
  for t in "${targets[@]}"; do fuzz_target_run "$t" || failed+=("$t"); done
fi
[ ${#failed[@]} -eq 0 ] || { echo "fuzz.sh: crashes in ${failed[*]}" >&2; exit 1; }
echo "fuzz.sh: no crashes" >&2
