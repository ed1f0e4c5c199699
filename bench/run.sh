#!/usr/bin/env bash
# bench/run.sh: the ingest benchmark in one command (docs/performance.md). Builds the benchmark
# programs (Release, in build-bench) when needed, prints the machine, then for each FORMAT in
# turn generates EVENTS synthetic process-creation events (default 1,000,000) and runs
# quarry_bench_ingest on them. FORMAT is sysmon-xml (Sysmon EID 1 event XML, about 2.2 GB per
# million events), security-xml (Security 4688 event XML, about 1.5 GB) or fdr-jsonl
# (CrowdStrike FDR ProcessRollup2 JSON lines, about 1.4 GB); default: all three, in that order.
# sysmon-evtx and security-evtx (the same Sysmon and Security events as EVTX files, about 2.9
# and 1.8 GB) run only when named.
#
# Usage:
#   bench/run.sh [EVENTS] [FORMAT...]
# Environment:
#   QUARRY_BENCH_DIR  work folder for the input and the case databases (default /tmp/quarry-bench)
#   KEEP=1            keep each generated input (each is deleted after its run otherwise)
#   SEED              generator seed (default 1)
#   FILES=K           also cut each XML or JSON-lines input into K files at line ends and ingest
#                     them end to end, reading the next file ahead (as quarry ingest does) and
#                     one file at a time (quarry_bench_ingest --files; needs the input's size
#                     again on disk)
# Exit status: 0 measured (read the PASS/FAIL lines), non-zero when building or a phase failed.
set -euo pipefail

usage() {
  echo "usage: bench/run.sh [EVENTS] [FORMAT...]   (EVENTS: a positive number; default 1000000;" >&2
  echo "       FORMAT: sysmon-xml, security-xml, fdr-jsonl, sysmon-evtx or security-evtx;" >&2
  echo "       default the first three)" >&2
  exit 2
}
events="${1:-1000000}"
if [[ -n "${FILES:-}" && ! "${FILES}" =~ ^[1-9][0-9]*$ ]]; then usage; fi
if [[ ! "$events" =~ ^[0-9]+$ || "$events" -eq 0 ]]; then usage; fi
shift $(( $# > 0 ? 1 : 0 ))
formats=("$@")
if (( ${#formats[@]} == 0 )); then formats=(sysmon-xml security-xml fdr-jsonl); fi
for format in "${formats[@]}"; do
  case "$format" in sysmon-xml | security-xml | fdr-jsonl | sysmon-evtx | security-evtx) ;; *) usage ;; esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-bench"
work="${QUARRY_BENCH_DIR:-/tmp/quarry-bench}"
seed="${SEED:-1}"
input=""

# Build: configure once (Release), then let ninja decide what is out of date.
if [[ ! -f "$build/build.ninja" ]] ||
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUARRY_WERROR=ON
fi
cmake --build "$build" --target quarry_gen_sysmon_xml quarry_bench_ingest

mkdir -p "$work"
cleanup() {
  if [[ "${KEEP:-0}" != 1 && -n "$input" ]]; then rm -f "$input"; fi
  rm -f "$work"/quarry-bench-{insert,e2e}.db{,-wal,-shm,-journal}
  rm -rf "$work/quarry-bench-parts"
}
trap cleanup EXIT

# Disk space per format: input + case database + its WAL while the one transaction is open (up
# to the database's size again). With raw records compressed (1,000,000 events at 2efd653):
# Sysmon XML ~2.2 KB/event input and ~1.5 KB/event database; Security 4688 ~1.5 and ~0.9; FDR
# JSON lines ~1.4 and ~1.4; Sysmon EVTX ~2.9 and ~1.5. Formats run one after the other and each
# input is deleted after its run (unless KEEP=1), so the largest one counts.
need_kb_per_event() {
  case "$1" in
    sysmon-xml) echo 6 ;;
    security-xml) echo 4 ;;
    fdr-jsonl) echo 5 ;;
    sysmon-evtx) echo 7 ;;
    security-evtx) echo 5 ;;
  esac
}
need_kb=0
for format in "${formats[@]}"; do
  kb=$(( events * $(need_kb_per_event "$format") ))
  if [[ -n "${FILES:-}" && "$format" != *-evtx ]]; then kb=$(( kb + events * 3 )); fi  # the parts
  if [[ "${KEEP:-0}" == 1 ]]; then need_kb=$(( need_kb + kb )); elif (( kb > need_kb )); then need_kb=$kb; fi
done
free_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if (( free_kb < need_kb )); then
  echo "bench/run.sh: $work has $(( free_kb / 1024 )) MiB free; about $(( need_kb / 1024 )) MiB needed" >&2
  exit 1
fi

source "$root/bench/machine.sh"
print_machine "$work"
echo "busy:     $(busy)"
echo "compiler: $(c++ --version | head -1)"
echo "sqlite:   $(dpkg-query -W -f='${Version}' libsqlite3-0 2>/dev/null || echo unknown)," \
     "pugixml $(dpkg-query -W -f='${Version}' libpugixml1v5 2>/dev/null || echo unknown)"
echo "commit:   $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
  git -C "$root" diff --quiet HEAD -- ingest schema 2>/dev/null || echo ' (ingest/ or schema/ modified)')"
echo

for format in "${formats[@]}"; do
  case "$format" in
    sysmon-xml) input="$work/sysmon_eid1_${events}.xml" ;;
    security-xml) input="$work/security_4688_${events}.xml" ;;
    fdr-jsonl) input="$work/fdr_processrollup2_${events}.jsonl" ;;
    sysmon-evtx) input="$work/sysmon_eid1_${events}.evtx" ;;
    security-evtx) input="$work/security_4688_${events}.evtx" ;;
  esac
  echo "== $format: generating $events events into $input (seed $seed)"
  start=$SECONDS
  "$build/bench/quarry_gen_sysmon_xml" --events "$events" --out "$input" --seed "$seed" \
    --format "$format"
  echo "generated in $(( SECONDS - start )) s"
  echo

  echo "== $format: benchmark"
  echo "busy before: $(busy)"
  files=()
  if [[ -n "${FILES:-}" && "$format" != *-evtx ]]; then files=(--files "$FILES"); fi
  "$build/bench/quarry_bench_ingest" "$input" --work-dir "$work" "${files[@]}"
  echo "busy after: $(busy)"
  echo
  cleanup
done
