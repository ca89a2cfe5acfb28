#!/usr/bin/env bash
# Model-zoo conformance: exports every network of docs/networks.md in the
# default (CI) variants (models/export.py --list) at CI resolution, with
# PyTorch's outputs as references, then runs `onnxi test` on them with 1 and
# with 2 threads, and once more (1 thread) with every graph pass disabled, so
# results with all passes and with none both match PyTorch. Fails if any
# export fails or any case fails or is skipped.
#
#   bash tests/test_zoo.sh ONNXI_BINARY BUILD_DIR SOURCE_DIR   (run by ctest)
#
# The export is cached in ${ONNXI_MODEL_CACHE:-BUILD_DIR/models}/zoo (an
# entry is re-exported only when its options or the model sources change).
# ONNXI_ZOO_JOBS sets the export processes (default 2). Exits 77 (skipped)
# only when python's torch/torchvision/onnx are missing.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/script_init.sh" "$@"
zoo=${ONNXI_MODEL_CACHE:-$build/models}/zoo

script_need_python torch torchvision onnx

mapfile -t entries < <("$python" "$src/models/export.py" --list)
if [ ${#entries[@]} -eq 0 ]; then
  echo "FAIL: models/export.py --list printed no entries"
  exit 1
fi

failed=0
start=$SECONDS
if ! "$python" "$src/models/export.py" --out "$zoo" --jobs "${ONNXI_ZOO_JOBS:-2}"; then
  echo "FAIL: models/export.py could not export every entry (see above)"
  failed=1
fi
echo "export: ${#entries[@]} entries in $((SECONDS - start)) s"

# Only the listed entries: the cache may also hold benchmark-only ones.
cases=()
for e in "${entries[@]}"; do
  [ -d "$zoo/$e" ] && cases+=("$zoo/$e")
done
if [ ${#cases[@]} -ne ${#entries[@]} ]; then
  echo "FAIL: only ${#cases[@]} of ${#entries[@]} entries were exported"
  failed=1
fi

for run in 1 2 nopass; do
  threads=${run/nopass/1}
  extra=()
  [ "$run" = nopass ] && extra=(--disable-pass all)
  what="$threads thread(s)${extra[*]:+, passes disabled}"
  echo "== onnxi test, $what"
  out=$build/test_zoo_$run.txt
  "$onnxi" test "${cases[@]}" --atol-scale 1e-4 --rtol 1e-3 --threads "$threads" "${extra[@]}" \
    >"$out" 2>&1
  rc=$?
  grep -v '^PASS' "$out"
  if [ $rc -ne 0 ]; then
    echo "FAIL: onnxi test exited $rc with $what"
    failed=1
  fi
  if grep -q '^SKIP' "$out"; then
    echo "FAIL: skipped cases with $what"
    failed=1
  fi
done
exit $failed
