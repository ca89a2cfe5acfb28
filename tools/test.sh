#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test.
#
#   tools/test.sh              build/ (RelWithDebInfo, -Werror), then ctest
#   tools/test.sh --sanitize   the same in build-asan/ with ASan + UBSan
#   tools/test.sh --tsan       build-tsan/ with ThreadSanitizer, then the
#                              threading subset (ONNXI_TSAN_TESTS, a ctest -R
#                              regex): API misuse/threads, hostile models,
#                              planner, conv/gemm kernels, node suite, digits
#
# Environment: ONNXI_BUILD_DIR (default build/), ONNXI_ASAN_BUILD_DIR (default
# build-asan/), ONNXI_TSAN_BUILD_DIR (default build-tsan/), ONNXI_CMAKE_ARGS (extra cmake arguments), ONNXI_MODEL_CACHE
# (exported models, default build/models, shared by both builds),
# ONNXI_TEST_JOBS (ctest parallelism, default 2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

sanitize=0
tsan=0
for arg in "$@"; do
  case $arg in
    --sanitize) sanitize=1 ;;
    --tsan) tsan=1 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (--sanitize, --tsan)" >&2; exit 2 ;;
  esac
done

bash "$ONNXI_ROOT/tools/deps.sh" test

cmake_args=()
ctest_args=()
if [ $tsan = 1 ]; then
  build=${ONNXI_TSAN_BUILD_DIR:-$ONNXI_ROOT/build-tsan}
  cmake_args+=(-DONNXI_SANITIZE=OFF -DONNXI_TSAN=ON)
  ctest_args+=(-R "${ONNXI_TSAN_TESTS:-^(test_api_misuse|test_hostile|test_plan|test_ops_conv|test_ops_gemm|test_ops_pool|test_node_suite|test_digits)\$}")
  # Any report fails the test. The suppressions name only Debian's XNNPACK
  # and pthreadpool (not instrumented: TSan cannot see their synchronisation);
  # history_size=7 keeps the stacks of writes made inside their pool tasks,
  # which the suppressions need to match (the default loses them).
  # suppress_equal_addresses=0: the dedup list of racy addresses is searched
  # linearly for every suppressed report; the conv tests' larger cases
  # (XNNPACK pool tasks: the own kernels are off under TSan) made
  # test_ops_conv take 28 min, 25 s without it. Reports still halt at the
  # first unsuppressed race.
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1:history_size=7:suppress_equal_addresses=0:suppressions=$ONNXI_ROOT/tests/tsan.supp}
elif [ $sanitize = 1 ]; then
  build=${ONNXI_ASAN_BUILD_DIR:-$ONNXI_ROOT/build-asan}
  cmake_args+=(-DONNXI_SANITIZE=ON -DONNXI_TSAN=OFF)
  # Leaks fail the run; a UBSan report stops it (the code is built with
  # -fno-sanitize-recover) with a stack trace.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  build=${ONNXI_BUILD_DIR:-$ONNXI_ROOT/build}
  cmake_args+=(-DONNXI_SANITIZE=OFF -DONNXI_TSAN=OFF)
fi

onnxi_build "$build" "${cmake_args[@]}"
mkdir -p "$ONNXI_MODEL_CACHE"
ctest --test-dir "$build" --output-on-failure -j "${ONNXI_TEST_JOBS:-2}" "${ctest_args[@]}"
