#!/usr/bin/env bash
# bench/evtx.sh: EVTX decoding (docs/performance.md). On the same files (default: every .evtx
# under ../shared/realdata/evtx): Quarry's decoding alone (best of 3 passes), libevtx's
# evtxexport (Debian libevtx-utils) writing XML to /dev/null, and `quarry ingest` end to end.
#
# Usage: bench/evtx.sh [FOLDER]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
folder="${1:-$root/../shared/realdata/evtx}"
build="$root/build-bench"
work="${QUARRY_BENCH_DIR:-/tmp/quarry-bench}"
if [[ ! -f "$build/build.ninja" ]] ||
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUARRY_WERROR=ON
fi
cmake --build "$build" --target quarry quarry_bench_evtx > /dev/null
mkdir -p "$work"
mapfile -d '' files < <(find "$folder" -name '*.evtx' -print0 | sort -z)
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)"
echo "== quarry"
"$build/bench/quarry_bench_evtx" 3 "${files[@]}"
echo "== evtxexport $(evtxexport -V 2>/dev/null | head -1)"
start=$(date +%s.%N)
for f in "${files[@]}"; do evtxexport -f xml "$f" > /dev/null 2>&1 || true; done
end=$(date +%s.%N)
echo "evtxexport: $(echo "$end - $start" | bc) s"
echo "== quarry ingest end to end"
rm -f "$work/evtx-bench.db"
start=$(date +%s.%N)
"$build/cli/quarry" ingest --db "$work/evtx-bench.db" "$folder" > /dev/null 2>&1 || true
end=$(date +%s.%N)
events=$("$build/cli/quarry" query --db "$work/evtx-bench.db" --format csv "SELECT count(*) FROM process_events" | tail -1)
echo "ingest: $(echo "$end - $start" | bc) s, $events process events"
rm -f "$work/evtx-bench.db"
