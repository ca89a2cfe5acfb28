# shellcheck shell=bash
# Sourced by the tests/test_*.sh scripts that ctest runs as
# `bash SCRIPT ONNXI_BINARY BUILD_DIR SOURCE_DIR`: checks the arguments, sets
# onnxi, build, src and python, and skips (exit 77) when python lacks a module
# the script needs. Not a test itself (ctest globs tests/test_*.sh only).
#
#   source "$(dirname "${BASH_SOURCE[0]}")/script_init.sh" "$@"
#   script_need_python torch torchvision onnx

if [ $# -ne 3 ]; then
  echo "usage: $0 ONNXI_BINARY BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
onnxi=$1 build=$2 src=$3
python=/usr/bin/python3 # the interpreter that has torch, onnx and numpy

script_need_python() {
  local imports
  imports=$(IFS=,; echo "$*")
  if ! "$python" -c "import $imports" 2>/dev/null; then
    echo "SKIP: $python lacks one of: $* (run tools/deps.sh test)"
    exit 77
  fi
}
