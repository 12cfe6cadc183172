#!/usr/bin/env bash
# One command from a fresh checkout to a full test run: installs the
# dependencies, builds with warnings as errors under AddressSanitizer and
# UndefinedBehaviorSanitizer, runs every unit and end-to-end test, then
# again in a plain release build and in one that verifies the tile
# classes (EF_TILES_VERIFY), and fuzzes each
# libFuzzer target briefly (EF_FUZZ_SECONDS each, default 15; 0 skips;
# docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEF_WERROR=ON -DEF_SANITIZE=ON -DEF_TESTS=ON >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure --no-tests=error -j"$jobs")
# EF_TESTS=ON: scripts/run.sh configures the same build/ without tests
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEF_WERROR=ON -DEF_TESTS=ON >/dev/null
cmake --build build -j"$jobs" >/dev/null
(cd build && ctest --output-on-failure --no-tests=error -j"$jobs")
# The tile classes checked against a fresh computation of every repeated
# event (EF_TILES_VERIFY aborts on any difference), on the random engine
# comparisons and the bundled, fused and online runs.
cmake -S . -B build-verify -DCMAKE_BUILD_TYPE=Release -DEF_WERROR=ON -DEF_TESTS=ON \
  -DEF_BENCH=OFF -DEF_TILES_VERIFY=ON >/dev/null
cmake --build build-verify -j"$jobs" >/dev/null
(cd build-verify && EF_DIFF_SEEDS=1000 ctest --output-on-failure --no-tests=error -j"$jobs" \
  -R 'check_differential|check_e2e_(fused_random|bundled|fusion|online)')
fuzz_seconds=${EF_FUZZ_SECONDS:-15}
if [ "$fuzz_seconds" -gt 0 ]; then
  EF_FUZZ_JOBS=$jobs scripts/fuzz.sh all "$fuzz_seconds"
fi
