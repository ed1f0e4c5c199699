#!/usr/bin/env bash
# bench/report.sh: the report benchmark (docs/performance.md). Generates a Sysmon case in which
# every 5th event is a remote at.exe run, so that the built-in detection gives about NOTABLES
# notables (default 10,000); then times ingest, detect and report, prints the report's size,
# and opens it in headless Chromium to time loading, filtering and sorting the notables table.
#
# Usage:
#   bench/report.sh [NOTABLES]
# Environment:
#   QUARRY_BENCH_DIR  work folder (default /tmp/quarry-bench)
# Needs chromium, chromium-driver and python3-selenium (scripts/test.sh installs them).
set -euo pipefail
notables="${1:-10000}"
if [[ ! "$notables" =~ ^[0-9]+$ || "$notables" -eq 0 ]]; then
  echo "usage: bench/report.sh [NOTABLES]" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-bench"
work="${QUARRY_BENCH_DIR:-/tmp/quarry-bench}"
if [[ ! -f "$build/build.ninja" ]] ||
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUARRY_WERROR=ON
fi
cmake --build "$build" --target quarry quarry_gen_sysmon_xml
quarry="$build/cli/quarry"
mkdir -p "$work"
input="$work/report-bench.xml"
db="$work/report-bench.db"
html="$work/report-bench.html"
trap 'rm -f "$input" "$db" "$db"-wal "$db"-shm' EXIT
rm -f "$db" "$html"

echo "== machine"
echo "cpu:    $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)"
echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "chromium: $(chromium --version 2>/dev/null | head -1)"

seconds() { /usr/bin/time -f '%e s, max RSS %M KB' "$@"; }
events=$(( notables * 5 ))
"$build/bench/quarry_gen_sysmon_xml" --events "$events" --at-every 5 --out "$input"
echo "== ingest $events events"
seconds "$quarry" ingest --db "$db" "$input" > /dev/null
echo "== detect"
seconds "$quarry" detect --db "$db" > /dev/null
"$quarry" query --db "$db" "SELECT count(*) AS notables FROM notables"
echo "== report"
seconds "$quarry" report --db "$db" -o "$html"
echo "report size: $(du -h "$html" | cut -f1)"
echo "== browser"
/usr/bin/python3 "$root/bench/report_open.py" "$html"
