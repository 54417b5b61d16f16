#!/usr/bin/env bash
# bench/import_ceiling.sh - what SQLite alone takes to write the rows of an ACLED import (#21).
#
#   bench/import_ceiling.sh [ROWS]    (default 1000000; BUILD=build-dir, default build;
#                                      PAGE=page size of the copies, default SQLite's 4096)
#
# Imports ROWS generated rows (build/bench/acledgen) with `vigil import acled`, as
# bench/import_speed.sh does, and prints
#   model=import rows=N page=4096 seconds=S cpu_seconds=C store_bytes=B
# Then copies the rows that import wrote into
# a fresh store with the sqlite3 shell, in one transaction as the import does (rollback
# journal, synchronous=FULL, the import's 512 MiB page cache, the report index's secondary
# indexes dropped first and built at the end), and prints one line per model:
#   model=M rows=N page=P seconds=S read_seconds=R write_seconds=W store_bytes=B
# full: every row the import wrote: both objects of each row (report and location), their id
#       rows, the report index row (with its REST document and search text) and its event;
# lean: what a row would cost with no location object and no second document: the report
#       object, its id row, the index row without doc and text, the event;
# index: a row stored once: the index row (with its document) and its event, no STIX object
#       (one that TAXII would build from the index row when read).
# No parsing, no JSON, no statement per row: INSERT ... SELECT from the imported store. The
# R*Tree is left out (the import packs it, src/store/sqlite/geo_pack.c) and so are the id
# index's merges (the id rows go in already sorted): both make the figure lower, so it is a
# floor for any import into this schema on this machine. read_seconds is the same SELECTs
# counted without writing; write_seconds = seconds - read_seconds. Data lives in a temporary
# directory under /tmp, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
PAGE=${PAGE:-4096}
BIN=$PWD/${BUILD:-build}
WORK=$(mktemp -d /tmp/vigil-import-ceiling.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$BIN/bench/acledgen" rows "$ROWS" >"$WORK/acled.csv"
"$BIN/vigil" --data "$WORK/src" init >/dev/null 2>&1
sync
/usr/bin/time -f "%e %U %S" -o "$WORK/time" \
    "$BIN/vigil" --data "$WORK/src" import acled "$WORK/acled.csv" --as admin >"$WORK/out"
grep -q "^imported $ROWS report(s)" "$WORK/out" || { cat "$WORK/out" >&2; exit 1; }
rm "$WORK/acled.csv"
read -r secs user sys <"$WORK/time"
awk -v n="$ROWS" -v s="$secs" -v u="$user" -v y="$sys" \
    -v b="$(stat -c %s "$WORK/src/vigil.db")" 'BEGIN {
    printf "model=import rows=%d page=4096 seconds=%.2f cpu_seconds=%.2f store_bytes=%s\n", n, s,
           u + y, b
}'

NOT_LOC="type <> 'location'"
LEAN_REPORT="seq, stix_id, owner, tlp, grp, event, mode, future, start, end, lat, lon, \
precision_m, area, reliability, credibility, source_ref, '', '', added, target"

# The SELECTs of one model: objects, id rows, report index rows, events. The store's own rows
# (from init) have the same seqs in both stores and are left out.
selects() {
    local where=1 report="*"
    case $1 in
    lean)
        where=$NOT_LOC
        report=$LEAN_REPORT
        ;;
    index) where=0 ;;
    esac
    echo "SELECT * FROM s.objects WHERE $where AND seq > (SELECT COALESCE(MAX(seq), 0) FROM main.objects) ORDER BY seq"
    echo "SELECT * FROM s.object_ids WHERE seq IN (SELECT seq FROM s.objects WHERE $where) AND seq > (SELECT COALESCE(MAX(seq), 0) FROM main.objects) ORDER BY idh, seq"
    echo "SELECT $report FROM s.reports"
    echo "SELECT * FROM s.events WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM main.events)"
}

# Seconds the sqlite3 shell takes over the SQL on its input, on a fresh store's file.
timed_sql() {
    rm -rf "$WORK/dst"
    "$BIN/vigil" --data "$WORK/dst" init >/dev/null 2>&1
    if [ "$PAGE" != 4096 ]; then
        sqlite3 "$WORK/dst/vigil.db" "PRAGMA journal_mode = DELETE; PRAGMA page_size = $PAGE; VACUUM;" >/dev/null
    fi
    cat >"$WORK/run.sql"
    sync
    /usr/bin/time -f %e -o "$WORK/time" sqlite3 "$WORK/dst/vigil.db" <"$WORK/run.sql" >/dev/null
    cat "$WORK/time"
}

INDEXES="reports_source reports_event reports_start reports_unlocated"
for model in full lean index; do
    mapfile -t q < <(selects "$model")
    read_s=$( {
        echo "ATTACH '$WORK/src/vigil.db' AS s;"
        for s in "${q[@]}"; do echo "SELECT COUNT(*) FROM ($s);"; done
    } | timed_sql)
    total_s=$( {
        echo "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;"
        echo "PRAGMA cache_size = -524288; PRAGMA temp_store = MEMORY;"
        echo "ATTACH '$WORK/src/vigil.db' AS s;"
        echo "BEGIN;"
        for i in $INDEXES; do
            sqlite3 "$WORK/src/vigil.db" "SELECT sql FROM sqlite_schema WHERE name = '$i'" >"$WORK/$i.sql"
            echo "DROP INDEX $i;"
        done
        echo "INSERT INTO main.objects ${q[0]};"
        echo "INSERT INTO main.object_ids ${q[1]};"
        echo "INSERT INTO main.reports ${q[2]};"
        echo "INSERT INTO main.events ${q[3]};"
        for i in $INDEXES; do echo "$(cat "$WORK/$i.sql");"; done
        echo "COMMIT;"
    } | timed_sql)
    awk -v m="$model" -v n="$ROWS" -v p="$PAGE" -v s="$total_s" -v r="$read_s" \
        -v b="$(stat -c %s "$WORK/dst/vigil.db")" 'BEGIN {
        printf "model=%s rows=%d page=%d seconds=%.2f read_seconds=%.2f write_seconds=%.2f store_bytes=%s\n",
               m, n, p, s, r, s - r, b
    }'
done
