#!/usr/bin/env bash
# The installed tree is usable from C: installs the build into a
# scratch prefix, builds tests/install/use_einflow.c against it with
# nothing but pkg-config, and checks that it simulates the bundled
# default to the same cycles as the installed `einflow run`.
# Usage: check_install.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(dirname "$(find "$prefix" -name einflow.pc | head -1)")
export PKG_CONFIG_PATH="$pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cc -std=c11 -Wall -Wextra -Werror "$src/tests/install/use_einflow.c" -o "$prefix/use_einflow" \
  $(pkg-config --cflags --libs einflow)
share="$prefix/share/einflow"
arch="$share/configs/eyeriss_like.yaml"
workload="$share/workloads/resnet50_conv3x3.yaml"
mapping="$share/mappings/eyeriss_like__resnet50_conv3x3.yaml"
got=$("$prefix/use_einflow" "$arch" "$workload" "$mapping")
want=$("$prefix/bin/einflow" run "$arch" "$workload" "$mapping" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["summary"]["cycles"])')
if [ "$got" != "$want" ]; then
  echo "the installed library gives $got cycles, einflow run $want" >&2
  exit 1
fi
echo "installed library and einflow agree: $got cycles"
