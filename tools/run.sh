#!/usr/bin/env bash
# The main command: builds onnxi if needed (quietly, into build/) and runs it.
#
#   tools/run.sh [ONNXI_ARG...]      same as build/onnxi ONNXI_ARG...
#   tools/run.sh                     the default demo (run_default below)
#
# Environment: ONNXI_BUILD_DIR (default build/), ONNXI_CMAKE_ARGS,
# ONNXI_MODEL_CACHE (default build/models).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What `tools/run.sh` with no arguments does: `onnxi run` with no model
# classifies the bundled digit samples with the bundled trained model.
run_default() {
  run_args=(run)
}

bash "$ONNXI_ROOT/tools/deps.sh" build
build=${ONNXI_BUILD_DIR:-$ONNXI_ROOT/build}
[ -x "$build/onnxi" ] || echo "run.sh: first build of onnxi in $build (log: $build/build.log)" >&2
ONNXI_BUILD_QUIET=1 ONNXI_BUILD_TARGET=onnxi_cli onnxi_build "$build"

run_args=("$@")
if [ $# -eq 0 ]; then
  run_default
fi
exec "$build/onnxi" "${run_args[@]}"
