#!/usr/bin/env bash
# torchvision classifiers beyond the zoo: exports a representative subset of
# the 77 that models/export.py --torchvision knows (every family the zoo
# test does not cover: AlexNet, SqueezeNet, GoogLeNet, Inception v3,
# DenseNet, MNASNet, Wide ResNet, ResNeXt-101 64x4d, RegNetX, ConvNeXt, and
# the transformers ViT-B/32, Swin-T and MaxViT-T at their native 224 px)
# with PyTorch's outputs as references, then runs `onnxi test` on them with
# 1 and 2 threads, tolerance relative to each output's largest value.
# Fails if any export fails or any case fails or is skipped.
#
#   bash tests/test_torchvision.sh ONNXI_BINARY BUILD_DIR SOURCE_DIR   (run by ctest)
#   ONNXI_TV_ALL=1 bash tests/test_torchvision.sh build/onnxi build .  (all 77)
#
# The export is cached in ${ONNXI_MODEL_CACHE:-BUILD_DIR/models}/torchvision
# (an entry is re-exported only when its options or the model sources
# change). ONNXI_TV_JOBS sets the export processes (default 2). Exits 77
# (skipped) only when python's torch/torchvision/onnx are missing.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/script_init.sh" "$@"
cache=${ONNXI_MODEL_CACHE:-$build/models}/torchvision

script_need_python torch torchvision onnx

# The CI subset: >= 20 cheap members of the families the zoo lacks.
subset=(alexnet squeezenet1_0 squeezenet1_1 googlenet inception_v3 densenet121 densenet169
  mnasnet0_5 mnasnet0_75 mnasnet1_0 mnasnet1_3 wide_resnet50_2 resnext101_64x4d
  regnet_x_800mf regnet_x_1_6gf regnet_x_3_2gf regnet_y_3_2gf convnext_tiny vit_b_32 swin_t
  maxvit_t)
if [ "${ONNXI_TV_ALL:-0}" = 1 ]; then
  mapfile -t entries < <("$python" "$src/models/export.py" --torchvision --list)
else
  entries=("${subset[@]}")
fi

failed=0
start=$SECONDS
if ! "$python" "$src/models/export.py" --torchvision --out "$cache" \
    --jobs "${ONNXI_TV_JOBS:-2}" "${entries[@]}"; then
  echo "FAIL: models/export.py could not export every entry (see above)"
  failed=1
fi
echo "export: ${#entries[@]} entries in $((SECONDS - start)) s"

cases=()
for e in "${entries[@]}"; do
  [ -d "$cache/$e" ] && cases+=("$cache/$e")
done
if [ ${#cases[@]} -ne ${#entries[@]} ]; then
  echo "FAIL: only ${#cases[@]} of ${#entries[@]} entries were exported"
  failed=1
fi

for threads in 1 2; do
  echo "== onnxi test, $threads thread(s)"
  out=$build/test_torchvision_threads$threads.txt
  start=$SECONDS
  "$onnxi" test "${cases[@]}" --atol-scale 1e-4 --rtol 1e-3 --threads "$threads" >"$out" 2>&1
  rc=$?
  grep -v '^PASS' "$out"
  echo "$((SECONDS - start)) s"
  if [ $rc -ne 0 ]; then
    echo "FAIL: onnxi test exited $rc with $threads thread(s)"
    failed=1
  fi
  if grep -q '^SKIP' "$out"; then
    echo "FAIL: skipped cases with $threads thread(s)"
    failed=1
  fi
done
exit $failed
