# shellcheck shell=bash
# Shared by tools/run.sh, tools/test.sh and tools/compare_load.sh (sourced, not run).
# Defines ONNXI_ROOT, the default directories, and onnxi_build.

ONNXI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Exported models are cached once per checkout and shared by every build
# (normal and sanitizer), so CI exports each model only once.
export ONNXI_MODEL_CACHE=${ONNXI_MODEL_CACHE:-$ONNXI_ROOT/build/models}
ONNXI_PYTHON=/usr/bin/python3 # the interpreter that has torch, onnx and numpy

# onnxi_build DIR [CMAKE_ARG...]: configures (RelWithDebInfo; -Werror is on by
# default) and builds DIR. Extra cmake arguments also come from ONNXI_CMAKE_ARGS
# (split on spaces). With ONNXI_BUILD_QUIET=1 the output goes to DIR/build.log
# and is shown only on failure; ONNXI_BUILD_TARGET limits the build to one
# target (e.g. onnxi_cli: the CLI without the tests).
onnxi_build() {
  local dir=$1
  shift
  local extra=()
  [ -z "${ONNXI_CMAKE_ARGS:-}" ] || read -r -a extra <<<"$ONNXI_CMAKE_ARGS"
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  mkdir -p "$dir"
  if [ "${ONNXI_BUILD_QUIET:-0}" = 1 ]; then
    if ! onnxi_build_steps "$dir" "$jobs" "$@" "${extra[@]}" >"$dir/build.log" 2>&1; then
      tail -n 60 "$dir/build.log" >&2
      echo "build failed: full log in $dir/build.log" >&2
      return 1
    fi
  else
    onnxi_build_steps "$dir" "$jobs" "$@" "${extra[@]}"
  fi
}

onnxi_build_steps() {
  local dir=$1 jobs=$2
  shift 2
  local target=()
  [ -z "${ONNXI_BUILD_TARGET:-}" ] || target=(--target "$ONNXI_BUILD_TARGET")
  cmake -S "$ONNXI_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
    cmake --build "$dir" -j "$jobs" "${target[@]}"
}

# onnxi_model_export NAME OUT [ARG...]: exports torchvision NAME to OUT unless
# OUT already exists (see models/export_torchvision.py for ARGs).
onnxi_model_export() {
  local name=$1 out=$2
  shift 2
  [ -s "$out" ] && return 0
  echo "exporting $name -> $out" >&2
  "$ONNXI_PYTHON" "$ONNXI_ROOT/models/export_torchvision.py" --model "$name" --out "$out" "$@" >&2
}
