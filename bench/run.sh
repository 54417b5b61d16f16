#!/usr/bin/env bash
# bench/run.sh - runs Vigil's benchmarks (S11) and writes docs/BENCHMARKS.md.
#
# Every figure is printed beside the machine's own ceiling measured in the same run (a raw
# SQLite batched insert of the same rows; a trivial answer from the same HTTP library under
# the same load generator). Bounded in time: about 5 minutes with the defaults on a 2-core
# machine. Data lives in a temporary directory under /tmp that is removed at the end.
#
# The benchmarks are SECTIONS, run in order; each is a function section_NAME that measures
# and calls row/cmd/note to add to the report. To add a benchmark, write a function and add
# its name to SECTIONS. Sections share state through the variables set by earlier sections
# (the TAXII sections leave a running daemon on $PORT with $OBJECTS objects in $DATA).
#
# Sizes and knobs (environment):
#   VIGIL_BENCH_OBJECTS        objects to load                        (1000000)
#   VIGIL_BENCH_PER            objects per envelope                   (100)
#   VIGIL_BENCH_INGEST_CONNS   concurrent ingest clients              (4)
#   VIGIL_BENCH_GET_CONNS      concurrent GET connections             (32)
#   VIGIL_BENCH_GET_SECONDS    measured seconds per GET run           (15)
#   VIGIL_BENCH_CLIENT_THREADS load generator threads                 (2)
#   VIGIL_BENCH_HTTP_THREADS   daemon's `threads` (MHD pool size)     (config default)
#   VIGIL_BENCH_ACLED_ROWS     generated ACLED rows to import         (200000; see below)
#   VIGIL_BENCH_QUERY_CONNS    concurrencies of the bbox+time queries (1 8 32)
#   VIGIL_BENCH_QUERY_SECONDS  measured seconds per query run         (10)
#   VIGIL_BENCH_ALERT_SIZES    stored reports for the alert latency   (10000 100000 ACLED_ROWS)
#   VIGIL_BENCH_ALERT_PAIRS    report pairs (alerts) per store size   (300)
#   VIGIL_SOAK_MINUTES         minutes of the soak (bench/soak.sh)    (2; 10 for the record)
#   (The ACLED sections default to 200,000 rows, not 1M, to keep `make bench` within ~15 minutes
#   on a 2-core machine: at 1M rows the import takes ~5.5 min and the alert service's rebuild
#   of its fusion engine at startup 2.5-6 min, bench/restart.sh. docs/BENCHMARKS.md records
#   a 1M run's figures,
#   made with VIGIL_BENCH_ACLED_ROWS=1000000.)
#   (bench/import_speed.sh [ROWS] measures the import alone: 1M rows by default, with its CPU time.)
#   (bench/import_ceiling.sh [ROWS] adds what SQLite alone takes to write the rows it wrote.)
#   VIGIL_BENCH_OUT            report file                            (docs/BENCHMARKS.md)
#   VIGIL_BENCH_SECTIONS       sections to run, space-separated       (all)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD
OBJECTS=${VIGIL_BENCH_OBJECTS:-1000000}
PER=${VIGIL_BENCH_PER:-100}
INGEST_CONNS=${VIGIL_BENCH_INGEST_CONNS:-4}
GET_CONNS=${VIGIL_BENCH_GET_CONNS:-32}
GET_SECONDS=${VIGIL_BENCH_GET_SECONDS:-15}
CLIENT_THREADS=${VIGIL_BENCH_CLIENT_THREADS:-2}
HTTP_THREADS=${VIGIL_BENCH_HTTP_THREADS:-}
OUT=${VIGIL_BENCH_OUT:-docs/BENCHMARKS.md}
ACLED_ROWS=${VIGIL_BENCH_ACLED_ROWS:-200000}
QUERY_CONNS=${VIGIL_BENCH_QUERY_CONNS:-1 8 32}
QUERY_SECONDS=${VIGIL_BENCH_QUERY_SECONDS:-10}
ALERT_SIZES=${VIGIL_BENCH_ALERT_SIZES:-10000 100000 $ACLED_ROWS}
ALERT_PAIRS=${VIGIL_BENCH_ALERT_PAIRS:-300}
SOAK_MINUTES=${VIGIL_SOAK_MINUTES:-2}
SECTIONS=(${VIGIL_BENCH_SECTIONS:-storage_ceiling taxii_ingest http_ceiling taxii_read memory startup acled_import reports_query alert_latency real_warning soak})

WORK=$(mktemp -d /tmp/vigil-bench.XXXXXX)
DATA=$WORK/data
ROWS=$WORK/rows.md     # the results table
CMDS=$WORK/cmds.md     # commands and raw outputs
NOTES=$WORK/notes.md
PIDS=()
: >"$ROWS"
: >"$CMDS"
: >"$NOTES"

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }

# ---- report helpers --------------------------------------------------------------------

# row BENCHMARK CEILING VIGIL RATIO TARGET: one line of the results table.
row() { printf '| %s | %s | %s | %s | %s |\n' "$@" >>"$ROWS"; }
# cmd TITLE COMMAND OUTPUT: the command that produced a figure and what it printed.
cmd() { printf '### %s\n\n```\n$ %s\n%s\n```\n\n' "$1" "$2" "$3" >>"$CMDS"; }
note() { printf -- '- %s\n' "$*" >>"$NOTES"; }
# kv KEY LINE: the value of KEY=... in a loadgen/ceiling result line.
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
kv0() { local v; v=$(kv "$@"); echo "${v:-0}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }
fmt() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
now_us() { date +%s%6N; }
# CPU seconds (user+system) used so far by PID.
cpu_of() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }

# run TITLE COMMAND...: runs a benchmark program, records the command, echoes its result.
run() {
    local title=$1
    shift
    local out
    out=$("$@" 2>"$WORK/stderr") || { cat "$WORK/stderr" >&2; log "$title failed"; exit 1; }
    cmd "$title" "$(echo "$@" | sed "s|$WORK|\$WORK|g; s|$ROOT/||g")" "$out"
    echo "$out"
}

# start_server NAME ARGS...: starts a server that prints "listening on http://HOST:PORT/"
# on stderr; sets SERVER_PID and SERVER_PORT.
start_server() {
    local name=$1
    shift
    "$@" 2>"$WORK/$name.log" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    SERVER_PORT=
    for _ in $(seq 1 600); do
        SERVER_PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/$name.log" | head -1)
        [ -n "$SERVER_PORT" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$WORK/$name.log" >&2
    log "$name did not start"
    exit 1
}

stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

start_vigil() {
    start_server vigil "$BIN/vigil" --data "$DATA" serve --listen 127.0.0.1:0
    VIGIL_PID=$SERVER_PID
    PORT=$SERVER_PORT
}

# ---- sections --------------------------------------------------------------------------

# The storage ceiling: the same rows inserted with plain sqlite3 into a store of Vigil's schema.
section_storage_ceiling() {
    log "storage ceiling: raw SQLite insert of $OBJECTS rows"
    local out
    mkdir -p "$WORK/ceiling" "$WORK/ceiling100"
    out=$(run "Storage ceiling: raw SQLite batched insert, $OBJECTS rows, 10000 per transaction" \
        "$BIN/bench/sqlite_ceiling" "$WORK/ceiling" "$OBJECTS" 10000)
    SQLITE_CEILING=$(kv rows_per_s "$out")
    out=$(run "Storage ceiling: raw SQLite insert, one transaction (fsync) per $PER rows" \
        "$BIN/bench/sqlite_ceiling" "$WORK/ceiling100" "$((OBJECTS / 10))" "$PER")
    SQLITE_CEILING_SMALL=$(kv rows_per_s "$out")
    rm -rf "$WORK/ceiling" "$WORK/ceiling100"
    sync # the ceiling's writes reach the disk now, not during the next measurement
}

section_taxii_ingest() {
    log "TAXII ingest: $OBJECTS objects, envelopes of $PER, $INGEST_CONNS clients"
    "$BIN/vigil" --data "$DATA" init >/dev/null
    sed -i -E 's/^(rate_limit|rate_limit_per_partner) = .*/\1 = 0/' "$DATA/vigil.conf"
    [ -n "$HTTP_THREADS" ] && sed -i "s/^threads = .*/threads = $HTTP_THREADS/" "$DATA/vigil.conf"
    start_vigil
    TOKEN_FILE=$DATA/admin.token
    COLL=$(curl -sf -H "Authorization: Bearer $(cat "$TOKEN_FILE")" \
        -H 'Accept: application/taxii+json;version=2.1' \
        "http://127.0.0.1:$PORT/taxii2/api/collections/" |
        python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin)["collections"] if c["title"] == "Reports"][0])')
    OBJ_PATH=/taxii2/api/collections/$COLL/objects/
    INGEST_T0=$(now_us)
    local cpu0 out
    cpu0=$(cpu_of "$VIGIL_PID")
    out=$(run "TAXII ingest: $OBJECTS objects in envelopes of $PER, $INGEST_CONNS clients" \
        "$BIN/bench/loadgen" post --port "$PORT" --path "$OBJ_PATH" --token-file "$TOKEN_FILE" \
        --objects "$OBJECTS" --per "$PER" --conns "$INGEST_CONNS" --threads "$INGEST_CONNS" \
        --connect-gap 20)
    INGEST_T1=$(now_us)
    local secs server_cpu
    secs=$(kv seconds "$out")
    server_cpu=$(awk -v a="$cpu0" -v b="$(cpu_of "$VIGIL_PID")" -v s="$secs" 'BEGIN { printf "%.0f", 100 * (b - a) / s }')
    local rate=$(kv objects_per_s "$out")
    row "TAXII ingest, objects/s (durable, envelopes of $PER, $INGEST_CONNS clients, 0 → $OBJECTS stored)" \
        "$(fmt "$SQLITE_CEILING") (raw SQLite, 10000 rows/txn)" "**$(fmt "$rate")** (slowest tenth: $(fmt "$(kv min_tenth_per_s "$out")"))" \
        "$(ratio "$rate" "$SQLITE_CEILING")" "≥ 50,000"
    row "… ceiling with one fsync per $PER rows" "$(fmt "$SQLITE_CEILING_SMALL")" "" "$(ratio "$rate" "$SQLITE_CEILING_SMALL")" ""
    note "Ingest: the daemon used ${server_cpu}% CPU (of 200%) and the load generator $(kv client_cpu_pct "$out")%; request latency p50 $(kv p50_ms "$out") ms, p99 $(kv p99_ms "$out") ms; objects/s per tenth of the load: $(kv tenths_per_s "$out")."
}

# The GET load: $GET_CONNS connections, 2 s of warm-up, then $GET_SECONDS measured.
get_load() { GET_LOAD=(--conns "$GET_CONNS" --threads "$CLIENT_THREADS" --duration "$GET_SECONDS" --warmup 2 --connect-gap 2); }

section_http_ceiling() {
    local threads=${HTTP_THREADS:-$(sed -n 's/^threads = //p' "$DATA/vigil.conf" 2>/dev/null)}
    threads=${threads:-4}
    log "HTTP ceiling: trivial libmicrohttpd answer, $GET_CONNS connections"
    start_server mhd "$BIN/bench/mhd_ceiling" "$threads"
    local pid=$SERVER_PID cpu0 out
    cpu0=$(cpu_of "$pid")
    out=$(run "HTTP ceiling: fixed 100-byte answer, $threads MHD threads, $GET_CONNS connections" \
        "$BIN/bench/loadgen" get --port "$SERVER_PORT" --path / "${GET_LOAD[@]}")
    HTTP_CEILING_OUT=$out
    HTTP_CEILING_SERVER_CPU=$(awk -v a="$cpu0" -v b="$(cpu_of "$pid")" -v s="$(kv seconds "$out")" -v w=2 'BEGIN { printf "%.0f", 100 * (b - a) / (s + w) }')
    stop_server "$pid"
}

section_taxii_read() {
    log "TAXII reads: 100-object pages spread through $OBJECTS objects, $GET_CONNS connections"
    local cpu0 out c=$HTTP_CEILING_OUT
    cpu0=$(cpu_of "$VIGIL_PID")
    out=$(run "TAXII reads: GET $OBJ_PATH?limit=100&added_after=<random in the load window>" \
        "$BIN/bench/loadgen" get --port "$PORT" --path "$OBJ_PATH" "${GET_LOAD[@]}" --token-file "$TOKEN_FILE" --limit 100 \
        --after "$INGEST_T0:$INGEST_T1")
    local server_cpu
    server_cpu=$(awk -v a="$cpu0" -v b="$(cpu_of "$VIGIL_PID")" -v s="$(kv seconds "$out")" 'BEGIN { printf "%.0f", 100 * (b - a) / (s + 2) }')
    row "TAXII reads, requests/s (100-object pages, $GET_CONNS connections, $OBJECTS stored)" \
        "$(fmt "$(kv rps "$c")") (trivial MHD answer)" "**$(fmt "$(kv rps "$out")")**" \
        "$(ratio "$(kv rps "$out")" "$(kv rps "$c")")" ""
    row "TAXII reads, p50 latency" "$(kv p50_ms "$c") ms" "**$(kv p50_ms "$out") ms**" "" ""
    row "TAXII reads, p99 latency" "$(kv p99_ms "$c") ms" "**$(kv p99_ms "$out") ms**" "" "≤ 20 ms"
    note "Reads: answers averaged $(kv bytes_per_resp "$out") bytes of body (the ceiling's: 100). The daemon used ${server_cpu}% CPU (of 200%) and the load generator $(kv client_cpu_pct "$out")%; against the ceiling server: ${HTTP_CEILING_SERVER_CPU}% and $(kv client_cpu_pct "$c")%. Client and server share the same cores, so every figure here is lower than either would reach alone."
}

section_memory() {
    local hwm rss
    hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$VIGIL_PID/status")
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$VIGIL_PID/status")
    row "Peak RSS of the daemon after loading and reading $OBJECTS objects (VmHWM)" "" \
        "**$((hwm / 1024)) MiB** (now $((rss / 1024)) MiB)" "" ""
    cmd "Peak RSS" "grep -E 'VmHWM|VmRSS' /proc/\$VIGIL_PID/status" \
        "$(grep -E 'VmHWM|VmRSS' "/proc/$VIGIL_PID/status")"
    note "Memory: $(grep -E '^(RssAnon|RssFile)' "/proc/$VIGIL_PID/status" | tr -s ' \t' ' ' | paste -sd, -) now (no SQLite connection maps the store's file: RssFile is the program and its libraries); SQLite's page caches are 32 MiB per connection at most."
    note "Store size on disk with $OBJECTS objects: $(du -sh "$DATA" | cut -f1) (vigil.db $(du -h "$DATA/vigil.db" | cut -f1))."
}

section_startup() {
    stop_server "$VIGIL_PID"
    log "startup of vigil serve on the $OBJECTS-object store"
    local t0 t1 best=
    for i in 1 2 3; do
        t0=$(now_us)
        start_vigil
        until curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; do sleep 0.005; done
        t1=$(now_us)
        local ms=$(((t1 - t0) / 1000))
        [ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
        stop_server "$VIGIL_PID"
        STARTUPS+="$ms ms; "
    done
    row "Startup of \`vigil serve\` until /healthz answers ($OBJECTS stored)" "" "**$best ms** (best of 3)" "" ""
    cmd "Startup" "vigil --data \$DATA serve --listen 127.0.0.1:0; poll /healthz" "runs: $STARTUPS"
}

# ---- ACLED import, report queries, ingest -> alert latency, soak ------------------------------
# These use their own data directories: $ACLED_DATA holds the $ACLED_ROWS imported reports.

ACLED_DATA=$WORK/acled
ACLED_CSV=$WORK/acled.csv

# acled_store DIR: a fresh data directory with partners alpha and bravo (a reporter each, with a
# token in DIR/tok_alpha, DIR/tok_bravo) besides the coordination center.
acled_store() {
    "$BIN/vigil" --data "$1" init >/dev/null 2>&1
    sed -i -E 's/^(rate_limit|rate_limit_per_partner) = .*/\1 = 0/' "$1/vigil.conf"
    [ -n "$HTTP_THREADS" ] && sed -i "s/^threads = .*/threads = $HTTP_THREADS/" "$1/vigil.conf"
    local p
    for p in alpha bravo; do
        "$BIN/vigil" --data "$1" partner add "$p" >/dev/null
        "$BIN/vigil" --data "$1" user add "$p" "rep_$p" --role reporter >/dev/null
        "$BIN/vigil" --data "$1" token create "rep_$p" >"$1/tok_$p"
    done
}

# The import of $ACLED_ROWS generated rows with `vigil import acled FILE --as admin`.
section_acled_import() {
    log "ACLED import: generating $ACLED_ROWS rows"
    "$BIN/bench/acledgen" rows "$ACLED_ROWS" >"$ACLED_CSV"
    cmd "ACLED rows: generated (deterministic)" "build/bench/acledgen rows $ACLED_ROWS > \$WORK/acled.csv" \
        "$(ls -l "$ACLED_CSV" | awk '{ print $5 }') bytes; first row: $(sed -n 2p "$ACLED_CSV" | cut -c1-240)…"
    local out
    out=$(run "CSV ceiling: the file read by a trivial RFC 4180 reader (records and fields only)" \
        "$BIN/bench/acledgen" parse "$ACLED_CSV")
    CSV_CEILING=$(kv rows_per_s "$out")
    acled_store "$ACLED_DATA"
    log "ACLED import: vigil import acled ($ACLED_ROWS rows, one transaction)"
    sync
    local t0 t1 secs rate
    t0=$(now_us)
    out=$(/usr/bin/time -f "%U %S" -o "$WORK/import.cpu" "$BIN/vigil" --data "$ACLED_DATA" \
        import acled "$ACLED_CSV" --as admin 2>"$WORK/import.err") ||
        { cat "$WORK/import.err" >&2; log "import failed"; exit 1; }
    t1=$(now_us)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
    rate=$(awk -v n="$ACLED_ROWS" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
    # CPU time (user+system) too: on a shared machine elapsed time follows the others' load.
    local cpu
    cpu=$(awk -v n="$ACLED_ROWS" \
        '{ c = $1 + $2; printf "cpu_seconds=%.2f cpu_rows_per_s=%.0f", c, n / c }' "$WORK/import.cpu")
    ACLED_IMPORT_RATE=$rate
    cmd "ACLED import: $ACLED_ROWS rows" "vigil --data \$WORK/acled import acled \$WORK/acled.csv --as admin" \
        "$out
seconds=$secs rows_per_s=$rate $cpu"
    local ceil_note="$(fmt "$CSV_CEILING") (CSV read only)"
    [ -n "${SQLITE_CEILING:-}" ] && ceil_note="$(fmt "$SQLITE_CEILING") (raw SQLite, 10000 rows/txn); $ceil_note"
    row "ACLED import, rows/s (\`vigil import acled\`, $ACLED_ROWS generated rows, one transaction, durable)" \
        "$ceil_note" "**$(fmt "$rate")**" \
        "$([ -n "${SQLITE_CEILING:-}" ] && ratio "$rate" "$SQLITE_CEILING" || ratio "$rate" "$CSV_CEILING")" ""
    note "ACLED import: $(fmt "$rate") rows/s ($secs s for $ACLED_ROWS rows; each row becomes a STIX report with its location and the reports index and R-tree entries, in one transaction). The file: $(du -h "$ACLED_CSV" | cut -f1), the store afterwards: $(du -sh "$ACLED_DATA" | cut -f1)."
}

# Early warning on the real data (tests/data/real): the back-test of the shipped detectors
# against the known ceasefires, and the cost of replaying ~100,000 real events (the Syria GED
# file six times over, event ids shifted so that each copy is a distinct event).
section_real_warning() {
    local real=$ROOT/tests/data/real c d out t0 t1 secs
    for c in ukraine-donbas syria israel-gaza israel-hezbollah; do
        d=$WORK/real-$c
        "$BIN/vigil" --data "$d" init >/dev/null 2>&1
        case $c in
        ukraine-donbas) "$BIN/vigil" --data "$d" import ucdp "$real/ucdp_ged_ukraine_2014_2022.csv" --as admin >/dev/null ;;
        syria) zcat "$real/ucdp_ged_syria_2016_2019.csv.gz" >"$WORK/syria.csv"
            "$BIN/vigil" --data "$d" import ucdp "$WORK/syria.csv" --as admin >/dev/null ;;
        israel-gaza) "$BIN/vigil" --data "$d" import casualties "$real/tfp_gaza_casualties_daily.csv" --area "$c" --as admin >/dev/null 2>&1 ;;
        israel-hezbollah) "$BIN/vigil" --data "$d" import casualties "$real/tfp_lebanon_casualties_daily.csv" --area "$c" --as admin >/dev/null 2>&1 ;;
        esac
        out=$("$BIN/vigil" --data "$d" replay --as admin --evaluate "$real/ceasefires.csv" --conflict "$c")
        cmd "Back-test: $c" "vigil replay --as admin --evaluate tests/data/real/ceasefires.csv --conflict $c" "$out"
    done
    python3 - "$WORK/syria.csv" "$WORK/syria6.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
i = rows[0].index("id")
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0])
    for k in range(6):
        for r in rows[1:]:
            w.writerow(r[:i] + [str(int(r[i]) + k * 10000000)] + r[i + 1:])
PY
    d=$WORK/real-100k
    "$BIN/vigil" --data "$d" init >/dev/null 2>&1
    "$BIN/vigil" --data "$d" import ucdp "$WORK/syria6.csv" --as admin >/dev/null
    t0=$(now_us)
    out=$( { /usr/bin/time -f "cpu_user_s=%U cpu_sys_s=%S" "$BIN/vigil" --data "$d" replay --as admin >/dev/null; } 2>&1 | tail -2)
    t1=$(now_us)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
    cmd "Replay of 99,396 real events (Syria GED x6)" "vigil replay --as admin" "$out
wall_s=$secs"
    row "Replay of 99,396 real events (\`vigil replay\`, default rules and detectors)" "" \
        "**$secs s**" "" "<= 10 s"
}

# start_acled_daemon DIR FIRST: starts vigil on DIR and measures startup: until /healthz
# answers, and until the alert service, which rebuilds its fusion engine from every stored
# report first, turns a new pair of reports into an alert on the stream (bench/alert_latency.py
# probe posts a pair every 50 ms for 2 s, then every 250 ms, until one does). Sets ADAEMON_PID, APORT, STARTUP_HTTP_MS,
# STARTUP_ALERTS_MS, PROBE_NEXT (the next free place index) and PROBE_OUT.
start_acled_daemon() {
    local dir=$1 t0 t1
    t0=$(now_us)
    start_server "acled-vigil" "$BIN/vigil" --data "$dir" serve --listen 127.0.0.1:0
    ADAEMON_PID=$SERVER_PID
    APORT=$SERVER_PORT
    until curl -sf -o /dev/null "http://127.0.0.1:$APORT/healthz"; do sleep 0.005; done
    t1=$(now_us)
    STARTUP_HTTP_MS=$(((t1 - t0) / 1000))
    PROBE_OUT=$(python3 "$ROOT/bench/alert_latency.py" probe --port "$APORT" \
        --stream-token "$dir/admin.token" --token-a "$dir/tok_alpha" --token-b "$dir/tok_bravo" \
        --t0-us "$t0" --first "${2:-0}") || { log "alerts never came: $PROBE_OUT"; exit 1; }
    STARTUP_ALERTS_MS=$(kv alerts_ready_ms "$PROBE_OUT")
    PROBE_NEXT=$(kv next "$PROBE_OUT")
}

# Queries by place and time with $ACLED_ROWS reports stored, at several concurrencies, beside
# the trivial libmicrohttpd answer at the same concurrencies.
section_reports_query() {
    [ -f "$ACLED_DATA/vigil.db" ] || section_acled_import
    log "reports query: bbox + since/until on the $ACLED_ROWS-report store"
    "$BIN/bench/acledgen" queries 10000 >"$WORK/queries.txt"
    start_acled_daemon "$ACLED_DATA" 3000
    ACLED_STARTUP_HTTP_MS=$STARTUP_HTTP_MS
    ACLED_STARTUP_ALERTS_MS=$STARTUP_ALERTS_MS
    ACLED_PROBE_OUT=$PROBE_OUT
    ACLED_NEXT=$PROBE_NEXT
    local threads=${HTTP_THREADS:-$(sed -n 's/^threads = //p' "$ACLED_DATA/vigil.conf")}
    threads=${threads:-4}
    start_server mhd "$BIN/bench/mhd_ceiling" "$threads"
    local mpid=$SERVER_PID mport=$SERVER_PORT c out cout
    for c in $QUERY_CONNS; do
        local load=(--conns "$c" --threads "$((c < CLIENT_THREADS ? c : CLIENT_THREADS))" --duration "$QUERY_SECONDS" --warmup 2 --connect-gap 2)
        cout=$(run "HTTP ceiling: fixed 100-byte answer, $threads MHD threads, $c connections" \
            "$BIN/bench/loadgen" get --port "$mport" --path / "${load[@]}")
        out=$(run "Reports query: GET /api/v1/reports?bbox=<0.5° box>&since=&until=<30 days>, $c connections" \
            "$BIN/bench/loadgen" get --port "$APORT" --paths-file "$WORK/queries.txt" \
            --token-file "$ACLED_DATA/admin.token" "${load[@]}")
        row "Reports by bbox + time, $c connection(s) ($ACLED_ROWS stored): p50 / p99 latency, requests/s" \
            "$(kv p50_ms "$cout") / $(kv p99_ms "$cout") ms, $(fmt "$(kv rps "$cout")")/s (trivial MHD answer)" \
            "**$(kv p50_ms "$out") / $(kv p99_ms "$out") ms**, $(fmt "$(kv rps "$out")")/s" \
            "$(ratio "$(kv rps "$out")" "$(kv rps "$cout")") of req/s" ""
        QUERY_BYTES=$(kv bytes_per_resp "$out")
    done
    stop_server "$mpid"
    note "Reports query: 10,000 generated request paths (bench/acledgen queries), each a 0.5° × 0.5° box (~55 km) around a place the rows are generated at and a 30-day window in 2018–2025, requested in random order (loadgen --paths-file); answers averaged $QUERY_BYTES bytes (up to 100 reports, the default page)."
}

# Ingest -> alert latency at several store sizes (S7, S11).
section_alert_latency() {
    [ -f "$ACLED_CSV" ] || section_acled_import
    local n dir out first rows_out=()
    for n in $ALERT_SIZES; do
        if [ "$n" = "$ACLED_ROWS" ]; then
            dir=$ACLED_DATA
            if [ -n "${APORT:-}" ] && kill -0 "${ADAEMON_PID:-0}" 2>/dev/null; then
                first=$ACLED_NEXT
            else
                start_acled_daemon "$dir" 3000
                ACLED_STARTUP_HTTP_MS=$STARTUP_HTTP_MS ACLED_STARTUP_ALERTS_MS=$STARTUP_ALERTS_MS
                ACLED_PROBE_OUT=$PROBE_OUT
                first=$PROBE_NEXT
            fi
            STARTUP_HTTP_MS=$ACLED_STARTUP_HTTP_MS STARTUP_ALERTS_MS=$ACLED_STARTUP_ALERTS_MS
            PROBE_OUT=$ACLED_PROBE_OUT
        else
            log "alert latency: a store of $n imported reports"
            dir=$WORK/acled$n
            acled_store "$dir"
            head -n "$((n + 1))" "$ACLED_CSV" >"$WORK/acled$n.csv"
            "$BIN/vigil" --data "$dir" import acled "$WORK/acled$n.csv" --as admin >/dev/null
            rm -f "$WORK/acled$n.csv"
            start_acled_daemon "$dir" 0
            first=$PROBE_NEXT
        fi
        cmd "Alert service startup, $n reports stored" \
            "vigil serve (t0); poll /healthz; bench/alert_latency.py probe --t0-us t0 (a pair every 50 ms for 2 s, then every 250 ms, until an alert arrives)" \
            "healthz_ms=$STARTUP_HTTP_MS $PROBE_OUT"
        log "alert latency: $ALERT_PAIRS pairs with $n reports stored"
        out=$(run "Ingest → alert: $ALERT_PAIRS pairs with $n reports stored" \
            python3 "$ROOT/bench/alert_latency.py" measure --port "$APORT" \
            --stream-token "$dir/admin.token" --token-a "$dir/tok_alpha" --token-b "$dir/tok_bravo" \
            --pairs "$ALERT_PAIRS" --first "$first")
        rows_out+=("$n|$(kv p50_ms "$out")|$(kv p99_ms "$out")|$(kv max_ms "$out")|$(kv missed "$out")|$STARTUP_HTTP_MS|$STARTUP_ALERTS_MS")
        if [ "$dir" = "$ACLED_DATA" ]; then
            note "With $n reports stored and the fusion engine rebuilt, the daemon's memory: $(grep -E '^(VmRSS|RssAnon|VmHWM)' "/proc/$ADAEMON_PID/status" | tr -s ' \t' ' ' | paste -sd, -)."
        fi
        stop_server "$ADAEMON_PID"
        [ "$dir" = "$ACLED_DATA" ] || rm -rf "$dir"
    done
    local r
    for r in "${rows_out[@]}"; do
        IFS='|' read -r n p50 p99 max missed hms ams <<<"$r"
        row "Ingest → alert latency, $n reports stored: p50 / p99 (max) from the 2nd report's 201 to the alert on the SSE stream" \
            "" "**$p50 / $p99 ms** ($max ms; $missed missed)" "" "p99 ≤ 50 ms"
    done
    for r in "${rows_out[@]}"; do
        IFS='|' read -r n p50 p99 max missed hms ams <<<"$r"
        row "Startup, $n reports stored: /healthz answers / alert service ready (engine rebuilt from the stored reports)" \
            "" "**$hms ms / $ams ms**" "" ""
    done
    note "Ingest → alert: each pair is a warning of a planned attack (ASSAULT, future) from partner alpha and a troop movement (MOBILIZE troops) 1 km away from partner bravo, at a fresh place each time (11 km grid over eastern Ukraine, where the generated rows are densest), which rule planned-attack-corroborated (data/rules/default.rules) turns into a new alert; the latency runs from the moment the second POST's 201 was read to the moment the alert citing that report was read from /api/v1/stream?kinds=alert (a reader thread stamps events on arrival; bench/alert_latency.py). One pair at a time, 20 ms apart. The stores are the first N rows of the generated file, imported."
}

section_soak() {
    log "soak: $SOAK_MINUTES minutes of mixed load (bench/soak.sh)"
    local out last
    out=$(VIGIL_SOAK_MINUTES=$SOAK_MINUTES BUILD=$BUILD bash "$ROOT/bench/soak.sh" 2>"$WORK/soak.err") ||
        { cat "$WORK/soak.err" >&2; log "soak failed"; exit 1; }
    cmd "Soak: $SOAK_MINUTES minutes of mixed load" "VIGIL_SOAK_MINUTES=$SOAK_MINUTES bench/soak.sh" "$out"
    last=$(tail -1 <<<"$out")
    row "Soak, $SOAK_MINUTES min mixed load on a steady data set (TAXII POST of new versions/GET, REST report corrections/queries, SSE churn): VmRSS, highest peak RSS (VmHWM) within each window, open fds (baseline window → last window)" \
        "" "**$(kv rss_base_mb "$last") → $(kv rss_last_mb "$last") MiB ($(kv rss_growth_pct "$last")%), peak $(kv peak_base_mb "$last") → $(kv peak_last_mb "$last") MiB ($(kv peak_growth_pct "$last")%), $(kv fds_base "$last") → $(kv fds_last "$last") fds; flat: $(kv flat "$last")**" "" "flat (±10%)"
    note "Soak: RssAnon $(kv anon_base_mb "$last") → $(kv anon_last_mb "$last") MiB ($(kv anon_growth_pct "$last")%); the fusion engine's memory $(kv fusion_first_mb "$last") → $(kv fusion_last_mb "$last") MiB ($(kv fusion_reports "$last") reports held); heap freed but kept (fragmentation) $(kv heap_free_base_mb "$last") → $(kv heap_free_last_mb "$last") MiB; outside the data (RssAnon less vigil_store_memory_bytes and vigil_fusion_memory_bytes) $(kv other_base_mb "$last") → $(kv other_last_mb "$last") MiB ($(kv other_growth_pct "$last")%), flat: $(kv flat_outside_data "$last"); windows of $(kv window_s "$last") s (the second minute vs the last minute when the run is 4 minutes or more, else the second vs the last quarter). Load done: $(kv0 taxii_objects_posted "$last") TAXII objects posted, $(kv0 taxii_gets "$last") TAXII pages read, $(kv0 report_posts "$last") REST reports posted and $(kv0 report_corrections "$last") corrections of them, $(kv0 report_queries "$last") report queries, $(kv0 alert_queries "$last") alert lists, $(kv0 stream_sessions "$last") SSE sessions; errors: taxii_get $(kv0 taxii_get_errors "$last"), report posts $(kv0 report_post_errors "$last"), queries $(kv0 report_queries_errors "$last"), streams $(kv0 stream_errors "$last")."
}

# ---- run -------------------------------------------------------------------------------

for f in loadgen mhd_ceiling sqlite_ceiling acledgen; do
    [ -x "$BIN/bench/$f" ] || { log "$BIN/bench/$f missing: run 'ninja -C $BUILD' first"; exit 1; }
done
get_load
STARTUPS=
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# The code measured: what is checked out when the run starts (it builds first).
MEASURED="$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet -- . ':!docs' 2>/dev/null || echo '+changes')"
T_START=$(date +%s)
for s in "${SECTIONS[@]}"; do
    "section_$s"
done
ELAPSED=$(($(date +%s) - T_START))

sqlite_v=$(python3 -c 'import ctypes,ctypes.util; l=ctypes.CDLL(ctypes.util.find_library("sqlite3")); l.sqlite3_libversion.restype=ctypes.c_char_p; print(l.sqlite3_libversion().decode())' 2>/dev/null || pkg-config --modversion sqlite3)
disk_dev=$(df --output=source /tmp | tail -1)
# A hand-written analysis after the marker line of the old report is kept.
MARK='<!-- analysis: kept by bench/run.sh -->'
KEPT=$WORK/kept.md
: >"$KEPT"
# (up to the escalation detector's section, which is appended afresh below)
[ -f "$OUT" ] && awk -v m="$MARK" '$0 == m { keep = 1 } /^## Escalation detector \(bench\/escalation_eval\)$/ { keep = 0 } keep' "$OUT" >"$KEPT"
{
    echo "# Benchmarks"
    echo
    echo "Measured by \`make bench\` (bench/run.sh) on $STARTED in ${ELAPSED}s, vigil $MEASURED. Each Vigil figure is printed beside the ceiling of this machine measured in the same run; regenerate with \`make bench\` (sizes: \`VIGIL_BENCH_OBJECTS=… make bench\`, see bench/run.sh)."
    echo
    echo "| benchmark | ceiling (same run) | Vigil | Vigil / ceiling | target (S11) |"
    echo "|---|---|---|---|---|"
    cat "$ROWS"
    echo
    echo "## Notes"
    echo
    cat "$NOTES"
    echo "- The load generator (bench/loadgen.c) is C: epoll, keep-alive HTTP/1.1, one request in flight per connection, exact percentiles from every latency; it runs on the same machine and the same cores as the server."
    echo "- Clients open their connections a few milliseconds apart (loadgen --connect-gap), as independent clients do. Opened in one burst, libmicrohttpd's thread pool gives them all to the one worker that accepts first, and since a TAXII POST holds its worker until the commit, 4 burst-connected ingest clients are served one at a time (11,000–16,000 objects/s measured on this machine, instead of the figure above)."
    echo "- Durable means the daemon answers 202 only after the commit holding the objects was fsync'd (SQLite WAL, synchronous=FULL)."
    echo
    echo "## Machine"
    echo
    echo "- CPUs: $(nproc) × $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
    echo "- Memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- Disk (/tmp): $disk_dev, $(lsblk -dno ROTA,MODEL "$(echo "$disk_dev" | sed 's/[0-9]*$//')" 2>/dev/null | awk '{ print ($1 == 1 ? "rotational" : "non-rotational") ($2 ? ", " $2 : "") }')$(mount | awk -v d="$disk_dev" '$1 == d { print ", " $5; exit }')"
    echo "- Kernel: $(uname -sr)"
    echo "- SQLite $sqlite_v, libmicrohttpd $(pkg-config --modversion libmicrohttpd), jansson $(pkg-config --modversion jansson), $(cc --version | head -1)"
    echo
    echo "## Commands and raw results"
    echo
    echo "\$WORK is a temporary directory under /tmp; \$DATA a fresh \`vigil init\` data directory in it."
    echo
    cat "$CMDS"
    cat "$KEPT"
} >"$OUT"
log "wrote $OUT"
cat "$ROWS"

# ---- fusion: the escalation detector (bench/escalation_eval) --------------------------------
# Appended after the report: no daemon needed, a few seconds. Calibrates the NB CUSUM threshold
# for an in-control ARL of a year on generated series and prints detection delays and false
# alarms per month. VIGIL_BENCH_ESCALATION=0 skips it; VIGIL_BENCH_ESC_YEARS (300) and
# VIGIL_BENCH_ESC_RUNS (400) size it.
if [ "${VIGIL_BENCH_ESCALATION:-1}" != 0 ] && [ -x "$BIN/bench/escalation_eval" ]; then
    log "escalation detector: calibration and detection delays on generated NB series"
    ESC_OUT=$("$BIN/bench/escalation_eval" "${VIGIL_BENCH_ESC_YEARS:-300}" "${VIGIL_BENCH_ESC_RUNS:-400}")
    {
        echo
        echo "## Escalation detector (bench/escalation_eval)"
        echo
        echo "Generated negative-binomial daily counts, fixed seeds; see docs/FUSION.md."
        echo
        echo '```'
        echo "\$ bench/escalation_eval ${VIGIL_BENCH_ESC_YEARS:-300} ${VIGIL_BENCH_ESC_RUNS:-400}"
        echo "$ESC_OUT"
        echo '```'
    } >>"$OUT"
    echo "$ESC_OUT"
fi
