#!/usr/bin/env bash
# One command from a fresh checkout to a result: installs the build
# dependencies, builds einflow, and runs the bundled default — an
# Eyeriss-like accelerator running a ResNet-50 3x3 convolution layer.
# Extra arguments go to `einflow run` (e.g. --check-values).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEF_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/einflow run configs/eyeriss_like.yaml workloads/resnet50_conv3x3.yaml \
  mappings/eyeriss_like__resnet50_conv3x3.yaml -o result.json "$@"
