#!/usr/bin/env bash
# README command 2 (and CI's): set everything up, build with warnings as errors, run every test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# chromium, chromium-driver and python3-selenium: tests/browser opens the HTML report.
QUARRY_EXTRA_PACKAGES="chromium chromium-driver python3-selenium python3-evtx libevtx-utils" \
  scripts/setup.sh build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUARRY_WERROR=ON
ctest --test-dir build-test --output-on-failure -j "$(nproc)"
