#!/usr/bin/env bash
# Installs what Quarry needs from Debian 12's archive (when missing), then configures and builds.
# Usage: scripts/setup.sh BUILD_DIR [extra cmake arguments...]
set -euo pipefail

build_dir=${1:?usage: scripts/setup.sh BUILD_DIR [cmake args...]}
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(g++ cmake ninja-build pkg-config sqlite3 libsqlite3-dev libsqlitecpp-dev libpugixml-dev
          libsimdjson-dev libcli11-dev libssl-dev libyaml-cpp-dev libpcre2-dev libarchive-dev libzstd-dev libgtest-dev
          libgmock-dev)

# Tests also drive a real browser over the HTML report (scripts/test.sh sets this).
read -r -a extra <<< "${QUARRY_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  echo "setup: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}"
fi

# QUARRY_SETUP_ONLY=1: install the packages only (tests/fuzz/run.sh configures its own build).
if [[ "${QUARRY_SETUP_ONLY:-0}" == 1 ]]; then exit 0; fi
cmake -S "$root" -B "$build_dir" -G Ninja "$@" >&2
cmake --build "$build_dir" -j "$(nproc)" >&2
