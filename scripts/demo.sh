#!/usr/bin/env bash
# README command 1: set everything up, then ingest the bundled demo triage package into
# demo-case.db and show what a responder asks first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup.sh build-release -DCMAKE_BUILD_TYPE=Release -DQUARRY_BUILD_TESTS=OFF
quarry=build-release/cli/quarry

rm -f demo-case.db demo-case.db-wal demo-case.db-shm
"$quarry" ingest --db demo-case.db fixtures/demo

echo
echo "Process events per host and source:"
"$quarry" query --db demo-case.db \
  "SELECT dest, sourcetype, count(*) AS events, min(_time) AS first, max(_time) AS last
   FROM processes GROUP BY dest, sourcetype ORDER BY dest"
echo
echo "at.exe with a \\\\host argument (MITRE T1053.002, the logic of ESCU's remote-at detection):"
"$quarry" query --db demo-case.db \
  "SELECT _time, dest, user, parent_process_name, process FROM processes
   WHERE (process_name = 'at.exe' OR original_file_name = 'at.exe') AND instr(process, '\\\\') > 0"
echo
echo "Case database: $root/demo-case.db (see docs/schema.md; try: $quarry query --db demo-case.db \"SELECT * FROM processes\")"
