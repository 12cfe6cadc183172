#!/usr/bin/env bash
# Runs einflow's libFuzzer harnesses (fuzz/, docs/fuzzing.md).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
#
# TARGET is one of arch workload network mapping dataflow einsum
# pipeline, or all (the default), each run for SECONDS (default 600).
# Builds build-fuzz/ with clang (-DEF_FUZZ=ON) first. Each target keeps
# its growing corpus in fuzz/out/TARGET/corpus, seeded from the bundled
# specs and fuzz/corpus/TARGET, and writes any crash, timeout or leak
# input to fuzz/out/TARGET/crashes/. Exits 1 when a target found one.
#
# Environment: EF_FUZZ_JOBS (build jobs, default nproc), EF_FUZZ_ARGS
# (more libFuzzer flags, e.g. "-only_ascii=1").
set -euo pipefail
cd "$(dirname "$0")/.."
all=(arch workload network mapping dataflow einsum pipeline)
target=${1:-all}
seconds=${2:-600}
if [ "$target" = all ]; then
  targets=("${all[@]}")
elif [[ " ${all[*]} " == *" $target "* ]]; then
  targets=("$target")
else
  echo "usage: scripts/fuzz.sh [$(IFS='|'; echo "${all[*]}")|all] [SECONDS]" >&2
  exit 2
fi
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "SECONDS must be a whole number, found \"$seconds\"" >&2; exit 2; }
command -v clang >/dev/null || { echo "scripts/fuzz.sh needs clang (Debian: apt-get install clang)" >&2; exit 2; }

cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEF_WERROR=ON -DEF_FUZZ=ON -DEF_TESTS=OFF -DEF_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"${EF_FUZZ_JOBS:-$(nproc)}" >/dev/null

# The bundled files each target starts from (besides fuzz/corpus/TARGET).
seeds() {
  case "$1" in
    arch) ls configs/*.yaml tests/data/vector_small.yaml tests/data/scalesim_32x32_??.yaml \
             tests/model_examples/*.arch.yaml tests/golden/arch_*.yaml tests/reference/*/arch.yaml ;;
    workload) ls workloads/*.yaml tests/data/gemm_resnet_3x3.yaml tests/data/causal_small.yaml \
                 tests/model_examples/*.workload.yaml tests/golden/workload_*.yaml ;;
    network) ls workloads/*.yaml tests/data/tiny_net.yaml tests/data/param_net.yaml \
                tests/data/causal_small.yaml tests/golden/network_*.yaml ;;
    mapping) ls mappings/*.yaml tests/model_examples/*.mapping.yaml tests/data/*__*.yaml \
                tests/golden/mapping_*.yaml tests/reference/*/mapping.yaml ;;
    dataflow) ls dataflows/*.yaml tests/golden/dataflow_*.yaml ;;
    *) ;;
  esac 2>/dev/null || true
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=()
for t in "${targets[@]}"; do
  out=fuzz/out/$t
  mkdir -p "$out/corpus" "$out/crashes"
  for f in $(seeds "$t"); do
    cp -n "$f" "$out/corpus/seed_$(echo "$f" | tr / _)"
  done
  dirs=("$out/corpus")
  [ -d "fuzz/corpus/$t" ] && dirs+=("fuzz/corpus/$t")
  echo "== fuzz_$t for ${seconds}s (corpus $out/corpus, crashes $out/crashes/)"
  # -timeout: an input that runs for 10 s is a hang to fix, not to wait out
  if ! build-fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=16384 -dict=fuzz/einflow.dict -artifact_prefix="$out/crashes/" \
      -print_final_stats=1 ${EF_FUZZ_ARGS:-} "${dirs[@]}" >"$out/log.txt" 2>&1; then
    failed+=("$t")
    tail -n 60 "$out/log.txt" >&2
    echo "fuzz_$t FAILED: the input is in $out/crashes/, the log in $out/log.txt" >&2
  fi
  grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|^Done" "$out/log.txt" || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  exit 1
fi
