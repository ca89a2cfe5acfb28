#!/usr/bin/env bash
# AArch64 check: cross-builds onnxi with tools/aarch64-linux-gnu.cmake into
# build-arm64/ and runs it under qemu-user:
#   1. every cmocka unit test (ctest; the toolchain's emulator runs them),
#      test_api_models on two interpreter cases (C API, shape switching);
#   2. the script tests (tests/test_*.sh) with a qemu wrapper as ONNXI_BINARY,
#      which includes all ONNX backend node tests against tests/node_expect.txt,
#      except the heavy ones (test_zoo, test_interp_models: see 3);
#   3. a subset of the model zoo (models/export.py entries, CI resolution),
#      one or two networks per family, with 1 thread and some with 2.
# Prints the counts and exits non-zero on any failure.
#
#   tools/test_arm64.sh
#
# Installs what is missing first (fast when present): the cross compiler,
# qemu-user and the :arm64 -dev packages. Debian's libxnnpack0 and
# libpthreadpool0 are not Multi-Arch: same (their :arm64 packages would remove
# the amd64 ones and python3-torch), so their arm64 .debs are unpacked into
# BUILD/sysroot instead (ONNXI_ARM64_SYSROOT of the toolchain file).
#
# Environment: ONNXI_ARM64_BUILD_DIR (default build-arm64/), ONNXI_MODEL_CACHE
# (default build/models), ONNXI_ARM64_ZOO (zoo entries to run, space separated,
# or "all"), ONNXI_ARM64_INTERP_FILTER (glob of the interpreter cases that
# tests/test_api_models.c runs, default mobilenet_v3_small_op13_dyn*),
# ONNXI_ARM64_SKIP_SCRIPTS (script tests not to run, default "test_zoo
# test_interp_models test_torchvision"), ONNXI_ZOO_JOBS (export processes, default 2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

build=${ONNXI_ARM64_BUILD_DIR:-$ONNXI_ROOT/build-arm64}
sysroot=$build/sysroot
zoo=$ONNXI_MODEL_CACHE/zoo
skip_scripts=${ONNXI_ARM64_SKIP_SCRIPTS:-test_zoo test_interp_models test_torchvision}
# Smallest network of each zoo family plus the BN-kept, dynamic-batch,
# external-data and opset 11/17 variants of a few.
zoo_default="resnet18_op13 resnet18_op13_bn resnet18_op13_dyn resnet18_op11 resnet18_op17
  resnext18_32x4d_op13 se_inception_op13 res2net50_26w_4s_op13 resnest50_op13
  shufflenet_v1_g3_x0_5_op13 shufflenet_v2_x0_5_op13 shufflenet_v2_x1_0_se_op13_bn
  regnet_y_400mf_op13 bit_s_r50x1_op13 mobilenet_v1_0_5_160_op13_ext mobilenet_v2_op13_bn
  mobilenet_v3_small_op13 mobilenet_v3_small_op13_dyn efficientnet_b0_op13
  efficientnet_lite0_op13"
interp_filter=${ONNXI_ARM64_INTERP_FILTER:-mobilenet_v3_small_op13_dyn*}
zoo_threads2="resnet18_op13 shufflenet_v2_x0_5_op13 mobilenet_v3_small_op13 efficientnet_b0_op13"

# Host tools, then arm64 libraries. libcpuinfo-dev:arm64 clashes with the
# amd64 one on a cmake file; XNNPACK only needs the runtime library.
PKGS=(gcc-aarch64-linux-gnu qemu-user libc6-dev:arm64 libprotobuf-c-dev:arm64
      libcmocka-dev:arm64 libpng-dev:arm64 libjpeg62-turbo-dev:arm64 libcpuinfo0:arm64)
SYSROOT_DEBS=(libxnnpack0:arm64 libxnnpack-dev:arm64 libpthreadpool0:arm64 libpthreadpool-dev:arm64)

log() { echo "test_arm64.sh: $*" >&2; }
stage() { printf '\n== arm64: %s (%ds)\n' "$1" "$SECONDS"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "not root and no sudo: cannot run $*"
    return 1
  fi
}

arm64_missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || echo "$p"
  done
}

# Unpacks SYSROOT_DEBS into $sysroot; the stamp lists the .deb files used.
arm64_sysroot_fill() {
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download "${SYSROOT_DEBS[@]}" >/dev/null 2>&1) ||
    { log "apt-get download ${SYSROOT_DEBS[*]} failed"; rm -rf "$tmp"; return 1; }
  rm -rf "$sysroot"
  mkdir -p "$sysroot"
  local deb
  for deb in "$tmp"/*.deb; do
    dpkg-deb -x "$deb" "$sysroot"
  done
  (cd "$tmp" && ls ./*.deb) >"$sysroot/.debs"
  rm -rf "$tmp"
}

arm64_deps() {
  local update=0 missing
  bash "$ONNXI_ROOT/tools/deps.sh" test
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root dpkg --add-architecture arm64
    update=1
  fi
  mapfile -t missing < <(arm64_missing "${PKGS[@]}")
  [ ${#missing[@]} -eq 0 ] || update=1
  [ -s "$sysroot/.debs" ] || update=1
  [ $update = 1 ] || return 0
  log "installing: ${missing[*]:-nothing}; arm64 XNNPACK and pthreadpool into $sysroot"
  as_root apt-get update >/dev/null
  if [ ${#missing[@]} -gt 0 ]; then
    # Never let an :arm64 package push out an amd64 one (python3-torch needs
    # the amd64 XNNPACK): refuse any plan that removes something.
    local plan
    plan=$(apt-get install -s --no-install-recommends "${missing[@]}" 2>&1) ||
      { echo "$plan" >&2; return 1; }
    if grep -q '^Remv' <<<"$plan"; then
      log "installing ${missing[*]} would remove packages:"
      grep '^Remv' <<<"$plan" >&2
      return 1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      -o DPkg::Lock::Timeout=300 "${missing[@]}" </dev/null >/dev/null
  fi
  [ -s "$sysroot/.debs" ] || arm64_sysroot_fill
}

# A toolchain-less cache in $build would build for the host: start over.
arm64_build() {
  local cache=$build/CMakeCache.txt
  if [ -f "$cache" ] && ! grep -q '^CMAKE_TOOLCHAIN_FILE:.*aarch64-linux-gnu.cmake$' "$cache"; then
    log "$build was configured without the aarch64 toolchain: reconfiguring"
    rm -rf "$cache" "$build/CMakeFiles"
  fi
  local args=(-DONNXI_ARM64_SYSROOT="$sysroot")
  [ -f "$cache" ] || args+=(-DCMAKE_TOOLCHAIN_FILE="$ONNXI_ROOT/tools/aarch64-linux-gnu.cmake")
  ONNXI_BUILD_QUIET=1 onnxi_build "$build" "${args[@]}"
  echo "build log: $build/build.log"
  if ! readelf -h "$build/onnxi" | grep -q 'Machine:.*AArch64'; then
    log "$build/onnxi is not an AArch64 executable"
    return 1
  fi
  if ! grep -q 'onnxi: target architecture aarch64' "$build/build.log"; then
    log "CMake did not set ONNXI_ARCH to aarch64 (see $build/build.log)"
    return 1
  fi
}

# $build/onnxi-qemu runs the arm64 onnxi with the toolchain's qemu settings.
arm64_wrapper() {
  local prefix
  prefix=$(sed -n 's/^ONNXI_QEMU_LD_PREFIX:PATH=//p' "$build/CMakeCache.txt")
  cat >"$build/onnxi-qemu" <<EOF
#!/bin/sh
exec qemu-aarch64 -L ${prefix:-/} "$build/onnxi" "\$@"
EOF
  chmod +x "$build/onnxi-qemu"
  "$build/onnxi-qemu" --version
  echo "linked: $(readelf -d "$build/onnxi" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
}

# Prints "P F S" from the last "N passed, N failed, N skipped" line of a log.
summary_counts() {
  sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p' "$1" | tail -1
}

failures=()
fail() { failures+=("$*"); echo "FAIL: $*"; }

unit_tests() {
  local scripts=() s
  for s in "$ONNXI_ROOT"/tests/test_*.sh; do
    scripts+=("$(basename "$s" .sh)")
  done
  local exclude
  exclude="^($(IFS='|'; echo "${scripts[*]}"))\$"
  # test_api_models runs the interpreter cases through the C API: only a
  # few (batch and image size switching on a live session) under qemu.
  local cases=$ONNXI_MODEL_CACHE/interp
  if ! "$ONNXI_PYTHON" "$ONNXI_ROOT/models/export_interp_cases.py" "$cases" \
       --only "$interp_filter" >"$build/interp_export.log" 2>&1; then
    tail -20 "$build/interp_export.log"
    fail "models/export_interp_cases.py --only '$interp_filter' failed"
  fi
  local out=$build/unit_tests.log rc=0
  ONNXI_INTERP_CASES=$cases ONNXI_INTERP_FILTER=$interp_filter \
    ctest --test-dir "$build" -E "$exclude" --output-on-failure \
    -j "${ONNXI_TEST_JOBS:-2}" --timeout 900 >"$out" 2>&1 || rc=$?
  grep -E 'tests passed|Failed|\*\*\*|Not Run|Timeout' "$out" || true
  unit_total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$out")
  unit_failed=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$out")
  unit_total=${unit_total:-0}
  unit_failed=${unit_failed:-$unit_total}
  if [ $rc -ne 0 ] || [ "$unit_total" -eq 0 ]; then
    sed -n '/The following tests FAILED/,$p' "$out"
    fail "ctest (unit tests) exited $rc: log in $out"
  fi
}

script_tests() {
  local s name rc t0 out
  scripts_run=0 scripts_passed=0
  node_counts="0 0 0"
  for s in "$ONNXI_ROOT"/tests/test_*.sh; do
    name=$(basename "$s" .sh)
    if [[ " $skip_scripts " == *" $name "* ]]; then
      echo "skip $name (ONNXI_ARM64_SKIP_SCRIPTS)"
      continue
    fi
    out=$build/$name.log
    t0=$SECONDS
    rc=0
    bash "$s" "$build/onnxi-qemu" "$build" "$ONNXI_ROOT" </dev/null >"$out" 2>&1 || rc=$?
    if [ $rc -eq 77 ]; then
      echo "skip $name (exit 77): $(tail -1 "$out")"
      continue
    fi
    scripts_run=$((scripts_run + 1))
    if [ $rc -eq 0 ]; then
      scripts_passed=$((scripts_passed + 1))
      echo "ok   $name ($((SECONDS - t0)) s)"
    else
      grep -E 'FAIL|mismatch|rror' "$out" | head -20 || tail -20 "$out"
      fail "$name exited $rc under qemu ($((SECONDS - t0)) s): log in $out"
    fi
    [ "$name" != test_node_suite ] || node_counts=$(summary_counts "$out")
  done
}

zoo_entries() {
  local all want e
  mapfile -t all < <("$ONNXI_PYTHON" "$ONNXI_ROOT/models/export.py" --list)
  want=${ONNXI_ARM64_ZOO:-$zoo_default}
  [ "$want" != all ] || want="${all[*]}"
  for e in $want; do
    if printf '%s\n' "${all[@]}" | grep -qxF "$e"; then
      echo "$e"
    else
      log "zoo entry '$e' is not in models/export.py --list: ignored"
    fi
  done
}

# zoo_run THREADS ENTRY...: one `onnxi test` over the entries' directories.
zoo_run() {
  local threads=$1 out=$build/zoo_threads$1.log rc=0 counts p f s
  shift
  local dirs=() e
  for e in "$@"; do dirs+=("$zoo/$e"); done
  "$build/onnxi-qemu" test "${dirs[@]}" --atol-scale 1e-4 --rtol 1e-3 --threads "$threads" \
    >"$out" 2>&1 || rc=$?
  grep -v '^PASS' "$out" || true
  counts=$(summary_counts "$out")
  read -r p f s <<<"${counts:-0 0 0}"
  zoo_cases=$((zoo_cases + p + f + s))
  zoo_passed=$((zoo_passed + p))
  if [ $rc -ne 0 ] || [ "$f" -ne 0 ] || [ "$s" -ne 0 ] || [ "$p" -ne $# ]; then
    fail "zoo with $threads thread(s): $p of $# passed (exit $rc): log in $out"
  fi
}

zoo_tests() {
  local entries=() e
  zoo_cases=0 zoo_passed=0 zoo_two_run=none
  mapfile -t entries < <(zoo_entries)
  [ ${#entries[@]} -gt 0 ] || { fail "no zoo entries to run"; return; }
  if ! "$ONNXI_PYTHON" "$ONNXI_ROOT/models/export.py" --out "$zoo" \
       --jobs "${ONNXI_ZOO_JOBS:-2}" "${entries[@]}" >"$build/zoo_export.log" 2>&1; then
    tail -20 "$build/zoo_export.log"
    fail "models/export.py could not export ${entries[*]}"
    return
  fi
  zoo_run 1 "${entries[@]}"
  local two=()
  for e in $zoo_threads2; do
    [[ " ${entries[*]} " == *" $e "* ]] && two+=("$e")
  done
  zoo_two_run=${two[*]:-none}
  [ ${#two[@]} -eq 0 ] || zoo_run 2 "${two[@]}"
}

main() {
  stage "dependencies"
  arm64_deps
  stage "cross build into $build"
  arm64_build
  arm64_wrapper
  stage "unit tests (ctest under qemu)"
  unit_tests
  stage "script tests under qemu (node tests included)"
  script_tests
  stage "model zoo subset under qemu"
  zoo_tests

  read -r node_p node_f node_s <<<"$node_counts"
  stage "summary"
  echo "unit tests:   $((unit_total - unit_failed)) of $unit_total passed"
  echo "script tests: $scripts_passed of $scripts_run passed (skipped: $skip_scripts)"
  echo "node tests:   $node_p passed, $node_f failed, $node_s skipped of $((node_p + node_f + node_s))" \
       "(checked against tests/node_expect.txt)"
  echo "zoo cases:    $zoo_passed of $zoo_cases passed (also with 2 threads: $zoo_two_run)"
  echo "time:         $SECONDS s"
  if [ ${#failures[@]} -gt 0 ]; then
    printf 'arm64 FAILED:\n' >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
  fi
  echo "arm64 passed"
}

main
