#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS]: builds the libFuzzer harnesses with clang, ASan and UBSan (in
# build-fuzz), then runs each for SECONDS (default 30) from seed corpora taken from fixtures/ and
# ../shared/realdata. Exit 1 when a harness finds a crash, a leak or a hang (the input is kept in
# build-fuzz/crashes/ to become a regression fixture).
set -euo pipefail
seconds="${1:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$root/build-fuzz"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DQUARRY_BUILD_TESTS=OFF -DQUARRY_BUILD_BENCH=OFF \
  -DQUARRY_BUILD_FUZZERS=ON \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" >&2
cmake --build "$build" --target fuzz_decode_file fuzz_spl fuzz_time >&2
corpus="$build/corpus"
rm -rf "$corpus" "$build/crashes" && mkdir -p "$corpus"/{decode,spl,time} "$build/crashes"
cp "$root"/fixtures/ingest/*.xml "$root"/fixtures/ingest/*.jsonl "$corpus/decode/"
mapfile -t evtx < <(find "$root/../shared/realdata/evtx" -name '*.evtx' -size -200k | sort)
for f in "${evtx[@]:0:20}"; do cp "$f" "$corpus/decode/$(basename "$f" | tr ' ' _)"; done
for f in "$root"/query/builtin/detections/*.yml; do sed -n "s/^search: '\(.*\)'$/\1/p" "$f"; done \
  > "$corpus/spl/builtin"
printf '%s' '| tstats count from datamodel=Endpoint.Processes where NOT (a=1 OR b!=2) by x | eval y=if(len(x)>3, "a", "b") | where y="a"' > "$corpus/spl/eval"
for t in now -70m@m -10m@m @w1 -7d@d+8h 2026-06-02T10:00:00Z "0 * * * *" "*/30 1-5 * 1,6 MON"; do
  printf '%s' "$t" > "$corpus/time/$(echo "$t" | md5sum | cut -c1-8)"
done
status=0
for harness in decode spl time; do
  binary="$build/tests/fuzz/fuzz_${harness/decode/decode_file}"
  echo "== fuzz_${harness/decode/decode_file}: ${seconds}s" >&2
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
       -artifact_prefix="$build/crashes/$harness-" -print_final_stats=1 "$corpus/$harness" 2>&1 |
       grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|Done)' ; then
    :
  fi
  if ls "$build/crashes/$harness-"* > /dev/null 2>&1; then status=1; fi
done
exit $status
