#!/usr/bin/env bash
# bench/evtx.sh: EVTX decoding (docs/performance.md). On the same files (default: every .evtx
# under ../shared/realdata/evtx), then on the 4 largest of them alone:
# - Quarry's decoding as `quarry ingest` does it, short of SQLite (quarry_bench_evtx),
# - Quarry's full decoding of every record rendered as event XML (quarry_bench_evtx --xml),
# - libevtx's evtxexport (Debian libevtx-utils) writing XML to /dev/null, one process a file,
# each the best of N passes, and the ratios; then `quarry ingest` of the folder end to end.
#
# Usage: bench/evtx.sh [FOLDER]
# Environment: QUARRY_BENCH_BUILD  where bench/quarry_bench_evtx and cli/quarry are: a Release
#                                  CMake build (brought up to date here) or any directory with
#                                  the two programs (default: build-bench, configured here)
#              QUARRY_BENCH_PASSES passes per measurement (default 3)
#              QUARRY_BENCH_DIR    scratch directory (default /tmp/quarry-bench)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
folder="${1:-$root/../shared/realdata/evtx}"
build="${QUARRY_BENCH_BUILD:-$root/build-bench}"
passes="${QUARRY_BENCH_PASSES:-3}"
work="${QUARRY_BENCH_DIR:-/tmp/quarry-bench}"
if [[ -z "${QUARRY_BENCH_BUILD:-}" ]] && { [[ ! -f "$build/build.ninja" ]] ||
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; }; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUARRY_WERROR=ON
fi
if [[ -f "$build/build.ninja" ]]; then
  cmake --build "$build" --target quarry quarry_bench_evtx > /dev/null
fi
mkdir -p "$work"
mapfile -d '' all < <(find "$folder" -name '*.evtx' -print0 | sort -z)
mapfile -d '' largest < <(find "$folder" -name '*.evtx' -printf '%s %p\0' | sort -z -n -r |
                          head -z -n 4 | cut -z -d' ' -f2-)

# Best of `passes` runs of evtxexport over the files given: "WALL CPU" in seconds, CPU being
# user + system time of the evtxexport processes.
evtxexport_best() {
  local best="" best_cpu="" t cpu out
  for ((pass = 0; pass < passes; ++pass)); do
    out=$(/usr/bin/time -f '%e %U %S' bash -c \
      'for f in "$@"; do evtxexport -f xml "$f" > /dev/null 2>&1 || true; done' _ "$@" 2>&1 |
      tail -1)
    t=$(echo "$out" | cut -d' ' -f1)
    cpu=$(echo "$out" | awk '{print $2 + $3}')
    if [[ -z "$best" ]] || (($(echo "$t < $best" | bc))); then best=$t; fi
    if [[ -z "$best_cpu" ]] || (($(echo "$cpu < $best_cpu" | bc))); then best_cpu=$cpu; fi
  done
  echo "$best $best_cpu"
}

# Runs quarry_bench_evtx [--xml] on the files given; prints its lines; leaves its best wall and
# CPU seconds in $s and $cpu.
quarry_best() {
  local out
  out=$("$build/bench/quarry_bench_evtx" "$@")
  echo "$out"
  s=$(echo "$out" | sed -n '/CPU time/!s/.*(best of [0-9]*): \([0-9.]*\) s,.*/\1/p')
  cpu=$(echo "$out" | sed -n 's/.*CPU time (best of [0-9]*): \([0-9.]*\) s,.*/\1/p')
}

ratio() { echo "scale=1; $1 / $2" | bc; }

compare() {  # NAME FILE...
  local name="$1" s cpu decode decode_cpu full full_cpu theirs theirs_cpu
  shift
  echo "== $name: $# files"
  quarry_best "$passes" "$@"
  decode=$s decode_cpu=$cpu
  quarry_best --xml "$passes" "$@"
  full=$s full_cpu=$cpu
  read -r theirs theirs_cpu < <(evtxexport_best "$@")
  echo "evtxexport -f xml (best of $passes): $theirs s, CPU time $theirs_cpu s"
  echo "ratio to evtxexport, wall: decode $(ratio "$theirs" "$decode")x," \
       "full decode + XML $(ratio "$theirs" "$full")x"
  echo "ratio to evtxexport, CPU:  decode $(ratio "$theirs_cpu" "$decode_cpu")x," \
       "full decode + XML $(ratio "$theirs_cpu" "$full_cpu")x"
}

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)," \
     "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== evtxexport $(evtxexport -V 2>/dev/null | head -1)"
compare "all" "${all[@]}"
compare "the 4 largest" "${largest[@]}"
echo "== quarry ingest end to end"
rm -f "$work/evtx-bench.db"
start=$(date +%s.%N)
"$build/cli/quarry" ingest --db "$work/evtx-bench.db" "$folder" > /dev/null 2>&1 || true
end=$(date +%s.%N)
events=$("$build/cli/quarry" query --db "$work/evtx-bench.db" --format csv "SELECT count(*) FROM process_events" | tail -1)
echo "ingest: $(echo "$end - $start" | bc) s, $events process events"
rm -f "$work/evtx-bench.db"
