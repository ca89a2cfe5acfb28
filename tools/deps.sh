#!/usr/bin/env bash
# Installs what onnxi needs, idempotently: apt-get runs (update once, then
# install) only when a Debian package is missing, so a ready machine returns
# in well under a second.
#
#   tools/deps.sh [GROUP...]   groups: build, export, test, fuzz, ort, all (default: test)
#     build   compiler, cmake, protobuf-c, ONNX schema, XNNPACK, cmocka, libpng/jpeg
#     export  PyTorch + torchvision + onnx + numpy (models/export_torchvision.py)
#     test    build + export + graphviz (what tools/test.sh needs)
#     fuzz    build + clang 14 and its libFuzzer/sanitizer runtimes (tools/fuzz.sh)
#     ort     node + npm, and onnxruntime-node in build/npm (tools/compare_load.sh)
#     all     test + ort
#
# Environment: ONNXI_NPM_DIR (default build/npm), ONNXI_ORT_VERSION (default 1.30).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NPM_DIR=${ONNXI_NPM_DIR:-$ROOT/build/npm}
ORT_VERSION=${ONNXI_ORT_VERSION:-1.30}

PKGS_BUILD=(build-essential cmake pkg-config libprotobuf-c-dev protobuf-c-compiler libonnx-dev
            libxnnpack-dev libpthreadpool-dev libcpuinfo-dev libcmocka-dev libpng-dev libjpeg-dev)
# x86-64: serial BLIS for the dense conv path (CMake option ONNXI_BLAS)
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then PKGS_BUILD+=(libblis-serial-dev); fi
PKGS_EXPORT=(python3-torch python3-torchvision python3-onnx python3-numpy)
PKGS_TEST=(graphviz)
PKGS_TRAIN=(python3-sklearn) # only to retrain models/digits
PKGS_FUZZ=(clang-14 libclang-rt-14-dev python3-pil) # PIL: a JPEG seed for fuzz_readers

log() { echo "deps.sh: $*" >&2; }

# Prints the packages among "$@" that dpkg does not have fully installed.
deps_missing() {
  local installed
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null |
              awk '$NF == "installed" { print $1 }' || true)
  local p
  for p in "$@"; do
    grep -qxF "$p" <<<"$installed" || echo "$p"
  done
}

deps_apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      log "not root and no sudo: install these by hand: $*"
      return 1
    fi
  fi
  log "installing: $*"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "$@" </dev/null
}

# Newest onnxruntime-node matching ORT_VERSION, else the newest 1.x release.
deps_ort_spec() {
  if [ -n "$(npm view "onnxruntime-node@$ORT_VERSION" version 2>/dev/null)" ]; then
    echo "onnxruntime-node@$ORT_VERSION"
  else
    log "onnxruntime-node@$ORT_VERSION not in the registry; using the newest 1.x"
    echo "onnxruntime-node@^1"
  fi
}

deps_ort_install() {
  if [ -f "$NPM_DIR/node_modules/onnxruntime-node/package.json" ]; then
    return 0
  fi
  mkdir -p "$NPM_DIR"
  local spec
  spec=$(deps_ort_spec)
  log "npm: installing $spec into $NPM_DIR"
  # --ignore-scripts: the install script only fetches GPU extras (and fails
  # offline); the CPU runtime ships inside the package.
  # A package.json of its own keeps npm from looking for one further up.
  [ -f "$NPM_DIR/package.json" ] || echo '{"private": true}' >"$NPM_DIR/package.json"
  npm install --prefix "$NPM_DIR" --ignore-scripts --no-audit --no-fund "$spec" </dev/null >&2
}

main() {
  local groups=("$@") want=() ort=0 g
  [ ${#groups[@]} -gt 0 ] || groups=(test)
  for g in "${groups[@]}"; do
    case $g in
      build) want+=("${PKGS_BUILD[@]}") ;;
      export) want+=("${PKGS_EXPORT[@]}") ;;
      test) want+=("${PKGS_BUILD[@]}" "${PKGS_EXPORT[@]}" "${PKGS_TEST[@]}") ;;
      train) want+=("${PKGS_EXPORT[@]}" "${PKGS_TRAIN[@]}") ;;
      fuzz) want+=("${PKGS_BUILD[@]}" "${PKGS_FUZZ[@]}") ;;
      ort) ort=1 ;;
      all) want+=("${PKGS_BUILD[@]}" "${PKGS_EXPORT[@]}" "${PKGS_TEST[@]}"); ort=1 ;;
      -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return 0 ;;
      *) log "unknown group '$g' (build, export, test, train, fuzz, ort, all)"; return 2 ;;
    esac
  done
  # node and npm may come from outside Debian (e.g. nodesource): only add
  # Debian's when the command itself is missing.
  if [ $ort -eq 1 ]; then
    command -v node >/dev/null 2>&1 || want+=(nodejs)
    command -v npm >/dev/null 2>&1 || want+=(npm)
  fi
  local missing=()
  if [ ${#want[@]} -gt 0 ]; then
    local unique
    mapfile -t unique < <(printf '%s\n' "${want[@]}" | sort -u)
    mapfile -t missing < <(deps_missing "${unique[@]}")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    deps_apt_install "${missing[@]}"
  fi
  if [ $ort -eq 1 ]; then
    deps_ort_install
  fi
}

main "$@"
