#!/usr/bin/env bash
# bench/detect.sh: detection latency on a big case (docs/performance.md, "Detection latency").
# 1. Builds a case deterministically: EVENTS synthetic Sysmon EID 1 events (default 10,000,000)
#    from quarry_gen_sysmon_xml, every AT_EVERY-th one a remote at.exe run, streamed through
#    `split` into files of CHUNK events that `quarry ingest` loads one at a time (each file is
#    deleted once loaded, so generation, ingest memory and the work folder's input stay flat).
# 2. Times the built-in at.exe detection: its compiled SQL alone (quarry_bench_detect: cold
#    first run with the case's pages dropped from the page cache, then warm runs; median and
#    max), its EXPLAIN QUERY PLAN, the row count against the generator's count, and
#    `quarry detect --only ID` end to end (dry run and real run).
# 3. Times every detection of the ESCU library that compiles, one by one, on the same case:
#    a TSV in the work folder and a table sorted slowest first.
#
# Usage:
#   bench/detect.sh [EVENTS]
# Environment:
#   QUARRY_BENCH_DIR    work folder (default /tmp/quarry-detbench): the case, logs, TSV, plans
#   QUARRY_BENCH_BUILD  a Release CMake build (brought up to date here) or any directory with
#                       cli/quarry, bench/quarry_gen_sysmon_xml and bench/quarry_bench_detect
#                       (default: build-bench, configured here when missing)
#   CHUNK               events per ingested file (default 1000000)
#   AT_EVERY            every K-th event is a remote at.exe run (default 10000)
#   SEED                generator seed (default 1)
#   REPEAT              runs of the at.exe SQL (default 5) and of `quarry detect` (default 3)
#   ESCU                the ESCU library, with detections/ and macros/
#                       (default ../shared/realdata/security_content/escu)
#   TIMEOUT             seconds after which one ESCU detection's query is interrupted and
#                       reported as a timeout (default 0: no limit)
#   ESCU_ONLY           a file of detection ids (or names), one a line, # comments: time only
#                       these of the library (for a case too big to time all of it on)
#   SKIP_ESCU=1         stop after the at.exe measurements
#   REUSE=1             reuse the case of the same EVENTS, SEED, AT_EVERY in the work folder if a
#                       complete one is there (else it is rebuilt)
#   RESUME=1            continue an interrupted case build (whole files already loaded stay)
#   KEEP_CASE=1         keep the case database at the end (it is deleted otherwise)
# Exit status: 0 measured, 1 a step failed or the at.exe count is wrong, 2 usage error.
set -euo pipefail
# The whole script is one block, read before it runs: editing this file during a run (which can
# take hours) does not change the run.
{

usage() {
  echo "usage: bench/detect.sh [EVENTS]   (EVENTS: a positive number; default 10000000)" >&2
  exit 2
}
events="${1:-10000000}"
if [[ ! "$events" =~ ^[0-9]+$ || "$events" -eq 0 || $# -gt 1 ]]; then usage; fi
chunk="${CHUNK:-1000000}"
at_every="${AT_EVERY:-10000}"
seed="${SEED:-1}"
repeat="${REPEAT:-5}"
timeout="${TIMEOUT:-0}"
for n in "$chunk" "$at_every" "$seed" "$repeat"; do
  [[ "$n" =~ ^[0-9]+$ ]] || usage
done
(( chunk > 0 && at_every > 0 && repeat > 0 )) || usage
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${QUARRY_BENCH_BUILD:-$root/build-bench}"
work="${QUARRY_BENCH_DIR:-/tmp/quarry-detbench}"
escu="${ESCU:-$root/../shared/realdata/security_content/escu}"
at_id=4be54858-432f-11ec-8209-3e22fbd008af  # Scheduled Task Creation on Remote Endpoint using At

# Build: configure once (Release) when the build folder is ours to configure, then let ninja
# decide what is out of date.
if [[ -z "${QUARRY_BENCH_BUILD:-}" ]] && { [[ ! -f "$build/build.ninja" ]] ||
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; }; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUARRY_WERROR=ON
fi
if [[ -f "$build/build.ninja" ]]; then
  cmake --build "$build" --target quarry quarry_gen_sysmon_xml quarry_bench_detect > /dev/null
fi
quarry="$build/cli/quarry"
gen="$build/bench/quarry_gen_sysmon_xml"
bench="$build/bench/quarry_bench_detect"
for program in "$quarry" "$gen" "$bench"; do
  [[ -x "$program" ]] || { echo "bench/detect.sh: $program is missing" >&2; exit 1; }
done

mkdir -p "$work"
name="detect-${events}-s${seed}-k${at_every}"
db="$work/$name.db"
log="$work/$name.log"
tsv="$work/$name-escu.tsv"
exec > >(tee "$log") 2>&1

# Disk: the case (about 4.4 KB per Sysmon event with the raw XML), plus while a file loads its
# XML (about 2.2 KB per event) and the WAL of its one transaction (up to the file's share of the
# database again): 5 KB per event plus 8 KB per event of one chunk, with some margin.
need_kb=$(( events * 5 + (events < chunk ? events : chunk) * 8 ))
if [[ "${REUSE:-0}" == 1 && -f "$db.complete" ]]; then need_kb=0; fi
if [[ "${RESUME:-0}" == 1 && -f "$db" ]]; then  # what is already loaded is already on the disk
  need_kb=$(( need_kb - ($(stat -c %s "$db") + $(stat -c %s "$db-wal" 2>/dev/null || echo 0)) / 1024 ))
fi
free_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if (( free_kb < need_kb )); then
  echo "bench/detect.sh: $work has $(( free_kb / 1024 )) MiB free; about $(( need_kb / 1024 ))" \
       "MiB needed for $events events (a smaller EVENTS, or QUARRY_BENCH_DIR elsewhere)" >&2
  exit 1
fi

source "$root/bench/machine.sh"
print_machine "$work"
echo "busy:     $(busy)"
echo "compiler: $(c++ --version | head -1)"
echo "sqlite:   $(dpkg-query -W -f='${Version}' libsqlite3-0 2>/dev/null || echo unknown)"
echo "commit:   $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
  git -C "$root" diff --quiet HEAD -- ingest schema query 2>/dev/null ||
    echo ' (ingest/, schema/ or query/ modified)')"
echo "build:    $build ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || echo 'not a CMake build'))"
if [[ -f "$build/COMMIT" ]]; then echo "          its programs were built at $(cat "$build/COMMIT")"; fi
echo

# One value from the case (CSV output ends its lines with CR LF).
scalar() { "$quarry" query --db "$db" --format csv "$1" | tail -1 | tr -d '\r'; }
# Milliseconds since the epoch, from bash's own clock.
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- 1. The case
known_at=$(( events / at_every ))
if [[ "${REUSE:-0}" == 1 && -f "$db.complete" ]]; then
  echo "== case: reusing $db ($(cat "$db.complete"))"
else
  # RESUME=1 continues an interrupted build: the files already committed stay, and the events
  # after them are generated again (the generator's first N events never depend on N).
  skip=0
  if [[ "${RESUME:-0}" == 1 && -f "$db" ]]; then
    skip=$(scalar "SELECT coalesce(sum(events_loaded), 0) FROM input_files")
    if (( skip % chunk != 0 )); then
      echo "bench/detect.sh: cannot resume: $db holds $skip events, not whole files of $chunk" >&2
      exit 1
    fi
  else
    rm -f "$db" "$db"-wal "$db"-shm
  fi
  rm -f "$db.complete" "$work/$name"-part-*
  trap 'rm -f "$work/$name"-part-*' EXIT  # an interrupted load leaves no input behind
  echo "== case: $events Sysmon EID 1 events (seed $seed, at.exe every $at_every: $known_at), in" \
       "files of $chunk events, into $db"
  if (( skip > 0 )); then echo "resuming after the $skip events already in the case"; fi
  echo "busy before: $(busy)"
  start=$(now_ms)
  # split hands each CHUNK lines to the filter as they come: the generator waits while a file
  # is loaded. Each file is one transaction; it is deleted once loaded.
  export QUARRY_BIN="$quarry" QUARRY_DB="$db" QUARRY_INGEST_LOG="$work/$name-ingest.log" \
         QUARRY_EVENTS="$events" QUARRY_CHUNK="$chunk"
  if (( skip == 0 )); then : > "$QUARRY_INGEST_LOG"; fi
  "$gen" --events "$events" --seed "$seed" --at-every "$at_every" --format sysmon-xml \
      --out /dev/stdout 2> "$work/$name-gen.log" | tail -n +$(( skip + 1 )) |
    SHELL=/bin/bash split -l "$chunk" --numeric-suffixes=$(( skip / chunk )) -a 4 --additional-suffix=.xml \
      --filter='set -e; cat > "$FILE"
                part=${FILE##*-part-}; part=$(( 10#${part%.xml} ))
                want=$(( QUARRY_EVENTS - part * QUARRY_CHUNK )); want=$(( want < QUARRY_CHUNK ? want : QUARRY_CHUNK ))
                have=$(wc -l < "$FILE")
                if (( have != want )); then  # the generator was stopped: never load a cut file
                  echo "$(basename "$FILE"): $have events, not $want: not loaded" >&2; rm -f "$FILE"; exit 1
                fi
                t0=${EPOCHREALTIME/./}
                /usr/bin/time -f "%e s, max RSS %M KB" "$QUARRY_BIN" ingest --db "$QUARRY_DB" "$FILE" \
                  >> "$QUARRY_INGEST_LOG" 2> "$FILE.time"
                t1=${EPOCHREALTIME/./}
                echo "ingested $(basename "$FILE"): $(( (t1 - t0) / 1000 )) ms ($(tail -1 "$FILE.time")), case $(stat -c %s "$QUARRY_DB") bytes"
                rm -f "$FILE" "$FILE.time"' \
      - "$work/$name-part-"
  seconds=$(( ($(now_ms) - start) / 1000 ))
  cat "$work/$name-gen.log"
  generated_at=$(sed -n 's/.* \([0-9][0-9]*\) at\.exe events.*/\1/p' "$work/$name-gen.log")
  if [[ "$generated_at" != "$known_at" ]]; then
    echo "bench/detect.sh: the generator reports ${generated_at:-no} at.exe events, expected $known_at" >&2
    exit 1
  fi
  echo "generated and ingested in $seconds s ($(( (events - skip) / (seconds > 0 ? seconds : 1) )) events/s, generation included$(
    (( skip == 0 )) || echo "; $(( events - skip )) events after resuming"))"
  echo "busy after: $(busy)"
  echo "events $events, seed $seed, at-every $at_every, built $(date -u '+%Y-%m-%d %H:%M UTC'), $seconds s$(
    (( skip == 0 )) || echo " for the last $(( events - skip )) (resumed)")" \
    > "$db.complete"
fi
loaded=$(scalar "SELECT count(*) FROM process_events")
db_bytes=$(stat -c %s "$db")
echo "case: $loaded events, $db_bytes bytes ($(( db_bytes / (loaded > 0 ? loaded : 1) )) bytes/event)," \
     "WAL $(stat -c %s "$db-wal" 2>/dev/null || echo 0) bytes"
if [[ "$loaded" != "$events" ]]; then
  echo "bench/detect.sh: the case holds $loaded events, expected $events" >&2
  exit 1
fi
echo "indexes on process_events:"
"$quarry" query --db "$db" --format csv \
  "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'process_events' ORDER BY name" |
  tail -n +2 | tr -d '\r' | sed 's/^/  /'
echo "sqlite_stat1 (ANALYZE) present: $(scalar "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")"
echo

# ---- 2. The at.exe detection
echo "== at.exe detection ($at_id)"
"$quarry" detections show "$at_id" --sql > "$work/$name-atexe-sql.txt"
echo "compiled SQL: $work/$name-atexe-sql.txt"
echo "-- SQL alone (quarry_bench_detect): first run cold (case file dropped from the page cache), then warm"
at_out=$("$bench" --db "$db" --only "$at_id" --repeat "$repeat" --evict --plans "$work/$name-atexe-plan.txt")
echo "$at_out"
echo "-- EXPLAIN QUERY PLAN"
sed -n '2,/^WITH/p' "$work/$name-atexe-plan.txt" | grep -v '^WITH'
at_rows=$(echo "$at_out" | sed -n 's/^ok .* rows \([0-9]*\) .*/\1/p' | head -1)
at_first=$(echo "$at_out" | sed -n 's/.*first \([0-9.]*\), median.*/\1/p')
at_median=$(echo "$at_out" | sed -n 's/.*median \([0-9.]*\), max.*/\1/p')
at_max=$(echo "$at_out" | sed -n 's/.*, max \([0-9.]*\) ms.*/\1/p')
if [[ -z "$at_first" ]]; then  # one run: no summary line
  at_first=$(echo "$at_out" | sed -n 's/^ok  *\([0-9.]*\) ms.*/\1/p' | head -1)
  at_median=$at_first at_max=$at_first
fi
# A second cold run to see how much the cold figure moves.
at_cold2=$("$bench" --db "$db" --only "$at_id" --evict --quiet --tsv "$work/$name-atexe-cold2.tsv" > /dev/null &&
           tail -1 "$work/$name-atexe-cold2.tsv" | cut -f6)

detect_runs() {  # label, extra flags...: REPEAT runs of quarry detect --only, wall ms each
  local label=$1 times=() t0 t1 rows
  shift
  for ((run = 0; run < (repeat < 3 ? repeat : 3); ++run)); do
    t0=$(now_ms)
    "$quarry" detect --db "$db" --only "$at_id" --format csv "$@" > "$work/$name-atexe-detect.csv" \
      2> "$work/$name-atexe-detect.err"
    t1=$(now_ms)
    times+=($(( t1 - t0 )))
  done
  rows=$(( $(wc -l < "$work/$name-atexe-detect.csv") - 1 ))
  echo "quarry detect --only $label: ${times[*]} ms (median $(printf '%s\n' "${times[@]}" | median) ms), $rows rows"
  detect_rows=$rows
}
echo "-- quarry detect end to end (process start, catalog, both searches, writing the results)"
detect_runs "(dry run)" --dry-run
detect_dry_rows=$detect_rows
detect_runs "(writes results)"
notables=$(scalar "SELECT count(*) FROM notables WHERE detection_id = '$at_id'")
echo "notables recorded: $notables"

status=0
if [[ "$at_rows" == "$known_at" && "$detect_rows" == "$known_at" && "$detect_dry_rows" == "$known_at" && "$notables" == "$known_at" ]]; then
  echo "at.exe rows: $at_rows = the generator's $known_at: OK"
else
  echo "at.exe rows: SQL $at_rows, detect $detect_rows (dry run $detect_dry_rows), notables $notables;" \
       "the generator wrote $known_at: MISMATCH"
  status=1
fi
echo "at.exe SQL: cold ${at_first} ms (again: ${at_cold2} ms), warm median ${at_median} ms, max ${at_max} ms of $repeat runs"
echo

# ---- 3. The ESCU library, one detection at a time
if [[ "${SKIP_ESCU:-0}" != 1 ]]; then
  echo "== ESCU library: $escu (timeout per detection: ${timeout} s, 0 = none)"
  # Start from a known cache state: a case that fits in the page cache is read into it once, so
  # that no detection pays for reading what an earlier one would have read; a larger one cannot
  # stay cached, and every full scan then reads it from disk.
  available_kb=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo)
  if (( db_bytes / 1024 < available_kb * 8 / 10 )); then
    cat "$db" > /dev/null
    echo "the case ($(( db_bytes >> 20 )) MiB) fits in the page cache (MemAvailable $(( available_kb >> 10 )) MiB):" \
         "read once before the pass, so the pass runs warm"
  else
    echo "the case ($(( db_bytes >> 20 )) MiB) is larger than the page cache can hold (MemAvailable" \
         "$(( available_kb >> 10 )) MiB): full scans read it from disk"
  fi
  echo "busy before: $(busy)"
  start=$(now_ms)
  only=()
  if [[ -n "${ESCU_ONLY:-}" ]]; then
    while read -r line; do
      line="${line%%#*}"; line="${line%"${line##*[![:space:]]}"}"
      if [[ -n "$line" ]]; then only+=(--only "$line"); fi
    done < "$ESCU_ONLY"
    echo "only the $(( ${#only[@]} / 2 )) detections of $ESCU_ONLY"
  fi
  "$bench" --db "$db" --detections "$escu/detections" --macros "$escu/macros" "${only[@]}" \
    --timeout "$timeout" --tsv "$tsv" --plans "$work/$name-escu-plans.txt" \
    > "$work/$name-escu-progress.log" || status=1
  seconds=$(( ($(now_ms) - start) / 1000 ))
  tail -1 "$work/$name-escu-progress.log"
  echo "wall time of the whole pass: $seconds s"
  echo "busy after: $(busy)"
  echo "TSV: $tsv; plans and SQL: $work/$name-escu-plans.txt"
  echo
  echo "-- every detection that compiles, slowest first (ms: wall time of its one run; cpu: its CPU"
  echo "   time; access: how the plan reads process_events; lw: LIKE values with a leading %;"
  echo "   re: regex calls)"
  tail -n +2 "$tsv" | awk -F'\t' '$4 != "not-compiled"' | sort -t$'\t' -k6,6gr |
    awk -F'\t' 'BEGIN { printf "%4s %10s %10s %9s %-7s %3s %2s  %-44s %s\n", "#", "ms", "cpu ms", "rows", "status", "lw", "re", "access", "detection" }
                { printf "%4d %10.1f %10.1f %9s %-7s %3s %2s  %-44s %s\n", NR, $6, $16, $5, $4, $12, $14, substr($10, 1, 44), $2 }'
  echo
  echo "-- summary"
  tail -n +2 "$tsv" | awk -F'\t' '
    $4 == "not-compiled" { nc++; next }
    { n++; total += $6; cpu += $16; if ($4 == "ok") ok++; if ($10 ~ /^scan/ || $10 ~ /\+ scan/) scans++
      if ($6 < 100) fast++; else if ($6 < 1000) mid++; else slow++ }
    END { printf "%d detections compile (%d ran to the end), %d do not; %.1f s in all (CPU %.1f s);\n", n, ok, nc, total / 1000, cpu / 1000
          printf "under 100 ms: %d, 100 ms to 1 s: %d, 1 s and more: %d; plans with a full scan of process_events: %d\n", fast, mid, slow, scans }'
fi

if [[ "${KEEP_CASE:-0}" != 1 ]]; then
  rm -f "$db" "$db"-wal "$db"-shm "$db.complete"
  echo "case deleted (KEEP_CASE=1 keeps it); logs and TSV stay in $work"
fi
exit $status
}
