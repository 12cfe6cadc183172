#!/usr/bin/env bash
# Builds einflow and its benchmark in Release (no tests) into
# build-bench/ and runs the benchmark; arguments go to einflow_bench
# (--case SUBSTR, --reps N, --engine step|event, --csv, --root DIR, ...).
# The commit measured is printed to stderr: record it with the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DEF_TESTS=OFF -DEF_BENCH=ON >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
if commit=$(git rev-parse --short HEAD 2>/dev/null); then
  git diff --quiet HEAD 2>/dev/null || commit="$commit (plus uncommitted changes)"
  echo "# commit $commit, $(date -u +%Y-%m-%d), $(nproc) cores" >&2
fi
exec build-bench/bench/einflow_bench "$@"
