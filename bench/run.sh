#!/usr/bin/env bash
# bench/run.sh: the ingest benchmark in one command (docs/performance.md). Builds the benchmark
# programs (Release, in build-bench) when needed, generates EVENTS synthetic Sysmon EID 1 events
# (default 1,000,000, about 2.2 GB), runs quarry_bench_ingest on them and prints the machine.
#
# Usage:
#   bench/run.sh [EVENTS]
# Environment:
#   QUARRY_BENCH_DIR  work folder for the input and the case databases (default /tmp/quarry-bench)
#   KEEP=1            keep the generated input (it is deleted at the end otherwise)
#   SEED              generator seed (default 1)
# Exit status: 0 measured (read the PASS/FAIL lines), non-zero when building or a phase failed.
set -euo pipefail

events="${1:-1000000}"
if [[ ! "$events" =~ ^[0-9]+$ || "$events" -eq 0 ]]; then
  echo "usage: bench/run.sh [EVENTS]   (EVENTS: a positive number; default 1000000)" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-bench"
work="${QUARRY_BENCH_DIR:-/tmp/quarry-bench}"
seed="${SEED:-1}"
input="$work/sysmon_eid1_${events}.xml"

# Build: configure once (Release), then let ninja decide what is out of date.
if [[ ! -f "$build/build.ninja" ]] ||
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUARRY_WERROR=ON
fi
cmake --build "$build" --target quarry_gen_sysmon_xml quarry_bench_ingest

mkdir -p "$work"
cleanup() {
  if [[ "${KEEP:-0}" != 1 ]]; then rm -f "$input"; fi
  rm -f "$work"/quarry-bench-{insert,e2e}.db{,-wal,-shm,-journal}
}
trap cleanup EXIT

# Input (~2.2 KB/event) + case database (~4.4 KB/event) + its WAL while the one transaction
# is open (up to the database's size again).
need_kb=$(( events * 11 ))
free_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if (( free_kb < need_kb )); then
  echo "bench/run.sh: $work has $(( free_kb / 1024 )) MiB free; about $(( need_kb / 1024 )) MiB needed" >&2
  exit 1
fi

echo "== machine"
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:      $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)"
echo "memory:   $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "os:       $(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release), kernel $(uname -r)"
echo "disk:     $work on $(df -PhT "$work" | awk 'NR == 2 { print $1 " (" $2 ", " $3 " total, " $5 " free)" }')"
device="$(df -P "$work" | awk 'NR == 2 { print $1 }')"
if [[ -b "$device" ]]; then
  echo "          $(lsblk -dno NAME,ROTA,MODEL "$device" 2>/dev/null | awk '{ printf "%s rotational=%s %s", $1, $2, $3 }')"
fi
# Other work on the machine skews the figures: show the load, and CPU pressure where the kernel has it.
busy() {
  echo -n "load $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
  if [[ -r /proc/pressure/cpu ]]; then
    echo -n ", CPU pressure $(sed -n 's/^some avg10=\([^ ]*\) avg60=\([^ ]*\) avg300=\([^ ]*\).*/\1% \2% \3%/p' /proc/pressure/cpu) (10 s, 60 s, 300 s)"
  fi
  echo
}
echo "busy:     $(busy)"
echo "compiler: $(c++ --version | head -1)"
echo "sqlite:   $(dpkg-query -W -f='${Version}' libsqlite3-0 2>/dev/null || echo unknown)," \
     "pugixml $(dpkg-query -W -f='${Version}' libpugixml1v5 2>/dev/null || echo unknown)"
echo "commit:   $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
  git -C "$root" diff --quiet HEAD -- ingest schema 2>/dev/null || echo ' (ingest/ or schema/ modified)')"
echo

echo "== generating $events events into $input (seed $seed)"
start=$SECONDS
"$build/bench/quarry_gen_sysmon_xml" --events "$events" --out "$input" --seed "$seed"
echo "generated in $(( SECONDS - start )) s"
echo

echo "== benchmark"
"$build/bench/quarry_bench_ingest" "$input" --work-dir "$work"
echo "busy after: $(busy)"
