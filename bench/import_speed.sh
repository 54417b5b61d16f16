#!/usr/bin/env bash
# bench/import_speed.sh - rows/s of `vigil import acled` on generated ACLED rows (issue #21).
#
#   bench/import_speed.sh [ROWS]      (default 1000000; BUILD=build-dir, default build)
#
# Generates ROWS deterministic rows (build/bench/acledgen), makes a fresh store, imports them
# as admin (one transaction, durable) and prints one line:
#   rows=N seconds=S rows_per_s=R cpu_seconds=C cpu_rows_per_s=RC max_rss_kb=K store_bytes=B
# cpu_* count user+system time of the import process (/usr/bin/time): on a machine shared
# with other work the elapsed figure varies with the load, the CPU figure much less. Data
# lives in a temporary directory under /tmp, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
BIN=$PWD/${BUILD:-build}
WORK=$(mktemp -d /tmp/vigil-import-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$BIN/bench/acledgen" rows "$ROWS" >"$WORK/acled.csv"
"$BIN/vigil" --data "$WORK/data" init >/dev/null 2>&1
sync
/usr/bin/time -f "%e %U %S %M" -o "$WORK/time" \
    "$BIN/vigil" --data "$WORK/data" import acled "$WORK/acled.csv" --as admin >"$WORK/out" ||
    { cat "$WORK/out" >&2; echo "import failed" >&2; exit 1; }
grep -q "^imported $ROWS report(s)" "$WORK/out" || { cat "$WORK/out" >&2; exit 1; }
read -r secs user sys rss <"$WORK/time"
bytes=$(stat -c %s "$WORK/data/vigil.db")
awk -v n="$ROWS" -v s="$secs" -v u="$user" -v y="$sys" -v m="$rss" -v b="$bytes" 'BEGIN {
    c = u + y
    printf "rows=%d seconds=%.2f rows_per_s=%.0f cpu_seconds=%.2f cpu_rows_per_s=%.0f", n, s,
           n / s, c, n / c
    printf " max_rss_kb=%d store_bytes=%s\n", m, b
}'
