#!/usr/bin/env bash
# Installs what einflow needs to build and test, from Debian's packages,
# when it is missing. Safe to run again: it installs nothing that is there.
set -euo pipefail
# clang and its runtime libraries (libFuzzer, a recommend only) build
# the fuzz harnesses (scripts/fuzz.sh); parallel runs sweep shards;
# python3-matplotlib draws scripts/plot.py's figures (and its test);
# chromium renders the HTML report in its test (tests/html/check_html.py).
pkgs=(build-essential cmake pkg-config libyaml-dev libcjson-dev check python3
      python3-matplotlib parallel clang libclang-rt-14-dev chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
