#!/usr/bin/env bash
# ONNX's official backend node tests (generated offline from Debian's
# python3-onnx 1.12) through `onnxi test`, checked against the expectations
# file tests/node_expect.txt: a listed pass that fails, a listed skip that now
# passes, or an unlisted case all fail the test, so the file stays current.
# Args: ONNXI_BINARY BUILD_DIR SOURCE_DIR
set -euo pipefail
onnxi=$1 build=$2 src=$3
cache=${ONNXI_MODEL_CACHE:-$build/models}
out=$cache/onnx-backend
if [ ! -f "$out/.complete" ]; then
  rm -rf "$out"
  mkdir -p "$out"
  # numpy 1.24 removed aliases the generator still uses.
  /usr/bin/python3 -c "
import sys, numpy as np
np.float = float; np.int = int; np.bool = bool; np.object = object
from onnx.backend.test import cmd_tools
sys.argv = ['gen', 'generate-data', '-o', sys.argv[1]]
cmd_tools.main()" "$out" >/dev/null
  touch "$out/.complete"
fi
n=$(ls "$out/node" | wc -l)
echo "node tests generated: $n"
"$onnxi" test "$out/node" --quiet --expect "$src/tests/node_expect.txt" ${ONNXI_NODE_TEST_ARGS:-}
