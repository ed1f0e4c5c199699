#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [HARNESS...]: builds the libFuzzer harnesses with clang, ASan and
# UBSan (in build-fuzz, or $QUARRY_FUZZ_BUILD), then runs each for SECONDS (default 30) from seed
# corpora taken from fixtures/ and ../shared/realdata, and archives of the fixtures made here
# with tar, gzip and Python's zipfile. HARNESS is decode, archive, spl or time (default: all).
# Exit 1 when a harness finds a crash, a leak or a hang (the input is kept in BUILD/crashes/ to
# become a regression fixture).
set -euo pipefail
seconds="${1:-30}"
shift $(($# > 0 ? 1 : 0))
harnesses=("$@")
if ((${#harnesses[@]} == 0)); then harnesses=(decode archive spl time); fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${QUARRY_FUZZ_BUILD:-$root/build-fuzz}"
targets=()
for harness in "${harnesses[@]}"; do targets+=("fuzz_${harness/decode/decode_file}"); done
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DQUARRY_BUILD_TESTS=OFF -DQUARRY_BUILD_BENCH=OFF \
  -DQUARRY_BUILD_FUZZERS=ON \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" >&2
cmake --build "$build" --target "${targets[@]}" >&2
corpus="$build/corpus"
rm -rf "$corpus" "$build/crashes" && mkdir -p "$corpus"/{decode,archive,spl,time} "$build/crashes"
cp "$root"/fixtures/ingest/*.xml "$root"/fixtures/ingest/*.jsonl "$corpus/decode/"
mapfile -t evtx < <(find "$root/../shared/realdata/evtx" -name '*.evtx' -size -200k | sort)
for f in "${evtx[@]:0:20}"; do cp "$f" "$corpus/decode/$(basename "$f" | tr ' ' _)"; done

# Archive seeds, made now from the fixtures (no binary seeds in the repository): every kind of
# member the walker meets (event files, a nested zip, a nested tar.gz, a streamed .gz inside a
# .gz, links, a folder) in the containers and compressions ingest reads.
seeds="$build/archive-seeds"
rm -rf "$seeds" && mkdir -p "$seeds/tree/logs"
ingest="$root/fixtures/ingest"
cp "$ingest/sysmon_evtrender_lines.xml" "$ingest/crowdstrike_fdr_events.jsonl" \
  "$ingest/sysmon_utf16le_bom.xml" "$seeds/tree/logs/"
ln -s sysmon_evtrender_lines.xml "$seeds/tree/logs/symlink.xml"
ln "$seeds/tree/logs/crowdstrike_fdr_events.jsonl" "$seeds/tree/logs/hardlink.jsonl"
a="$corpus/archive"
tar -C "$seeds/tree" --format=ustar -cf "$a/logs.tar" logs
tar -C "$seeds/tree" --format=gnu -czf "$a/logs.tar.gz" logs
gzip -9nc "$ingest/sysmon_damaged.xml" > "$a/sysmon_damaged.xml.gz"
gzip -nc "$a/logs.tar.gz" > "$a/logs.tar.gz.gz"  # the inner archive has no declared size
if command -v bzip2 > /dev/null; then bzip2 -c "$ingest/nxlog_windows_events.jsonl" > "$a/nxlog.jsonl.bz2"; fi
if command -v xz > /dev/null; then xz -c "$ingest/security_4688_versions.xml" > "$a/4688.xml.xz"; fi
if command -v zstd > /dev/null; then zstd -qc "$ingest/security_4688_versions.xml" > "$a/4688.xml.zst"; fi
/usr/bin/python3 - "$ingest" "$a" <<'EOF'
import sys, zipfile
ingest, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out + "/inner.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write(ingest + "/sysmon_wevtutil_concatenated.xml", "inner/sysmon.xml")
for name, method in [("deflated", zipfile.ZIP_DEFLATED), ("stored", zipfile.ZIP_STORED),
                     ("bzip2", zipfile.ZIP_BZIP2), ("lzma", zipfile.ZIP_LZMA)]:
    with zipfile.ZipFile(f"{out}/{name}.zip", "w", method) as z:
        z.write(ingest + "/security_4688_splunk_rendering.xml", "Security/4688.xml")
        z.write(ingest + "/crowdstrike_aidmaster.jsonl", "fdr/aidmaster.jsonl")
        z.writestr("folder/", "")
        if name == "deflated":
            z.write(out + "/inner.zip", "nested/inner.zip")
            z.write(out + "/logs.tar.gz", "nested/logs.tar.gz")
            z.write(out + "/sysmon_damaged.xml.gz", "nested/sysmon_damaged.xml.gz")
EOF
if command -v zip > /dev/null; then
  (cd "$seeds/tree/logs" && zip -q -P infected "$a/encrypted.zip" sysmon_evtrender_lines.xml)
fi

for f in "$root"/query/builtin/detections/*.yml; do sed -n "s/^search: '\(.*\)'$/\1/p" "$f"; done \
  > "$corpus/spl/builtin"
# The ESCU library's searches (read from ../shared, not copied), with its macros loaded by the
# harness (QUARRY_FUZZ_MACROS), so that the compiler sees every construct the library uses.
escu="$root/../shared/realdata/security_content/escu"
if [[ -d "$escu/detections" ]]; then
  python3 - "$escu/detections" "$corpus/spl" <<'PY'
import hashlib, pathlib, sys, yaml
out = pathlib.Path(sys.argv[2])
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.yml")):
    search = (yaml.safe_load(f.read_text()) or {}).get("search")
    if isinstance(search, str):
        (out / ("escu-" + hashlib.md5(search.encode()).hexdigest()[:12])).write_text(search)
PY
  export QUARRY_FUZZ_MACROS="$escu/macros"
fi
printf '%s' '| tstats count from datamodel=Endpoint.Processes where NOT (a=1 OR b!=2) by x | eval y=if(len(x)>3, "a", "b") | where y="a"' > "$corpus/spl/eval"
for t in now -70m@m -10m@m @w1 -7d@d+8h 2026-06-02T10:00:00Z "0 * * * *" "*/30 1-5 * 1,6 MON"; do
  printf '%s' "$t" > "$corpus/time/$(echo "$t" | md5sum | cut -c1-8)"
done
status=0
for harness in "${harnesses[@]}"; do
  binary="$build/tests/fuzz/fuzz_${harness/decode/decode_file}"
  # An LZMA dictionary is allocated as the archive declares it (up to 4 GB of address space)
  # before the walker refuses it; memory actually used is still held to -rss_limit_mb.
  extra=()
  if [[ "$harness" == archive ]]; then extra=(-malloc_limit_mb=8192); fi
  echo "== fuzz_${harness/decode/decode_file}: ${seconds}s, $(ls "$corpus/$harness" | wc -l) seeds" >&2
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
       "${extra[@]}" \
       -artifact_prefix="$build/crashes/$harness-" -print_final_stats=1 "$corpus/$harness" 2>&1 |
       grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|Done)' ; then
    :
  fi
  if ls "$build/crashes/$harness-"* > /dev/null 2>&1; then status=1; fi
done
exit $status
