#!/usr/bin/env bash
# README command 2 (and CI's): set everything up, build with warnings as errors, run every test;
# then build again with AddressSanitizer and UndefinedBehaviorSanitizer and run the suite there
# (docs/reliability.md), and fuzz each parser for 30 s with libFuzzer (clang, tests/fuzz/run.sh).
# QUARRY_SKIP_SANITIZERS=1 skips both extra passes (for quick local runs).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# chromium, chromium-driver and python3-selenium: tests/browser opens the HTML report;
# python3-evtx and libevtx-utils: the EVTX reader's oracles.
QUARRY_EXTRA_PACKAGES="chromium chromium-driver python3-selenium python3-evtx libevtx-utils" \
  scripts/setup.sh build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUARRY_WERROR=ON
ctest --test-dir build-test --output-on-failure -j "$(nproc)"

if [[ "${QUARRY_SKIP_SANITIZERS:-0}" != 1 ]]; then
  # The browser test runs once, above: under the sanitizers it would only test Chromium.
  scripts/setup.sh build-sanitize -DCMAKE_BUILD_TYPE=Debug -DQUARRY_BUILD_BENCH=OFF \
    "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" -E report_browser
  # python3-yaml: run.sh reads the ESCU searches for the SPL seeds.
  QUARRY_EXTRA_PACKAGES="clang libclang-rt-dev python3-yaml" QUARRY_SETUP_ONLY=1 scripts/setup.sh build-fuzz
  bash tests/fuzz/run.sh 30
fi
