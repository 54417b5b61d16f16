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
SECTIONS=(${VIGIL_BENCH_SECTIONS:-storage_ceiling taxii_ingest http_ceiling taxii_read memory startup})

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
}

section_taxii_ingest() {
    log "TAXII ingest: $OBJECTS objects, envelopes of $PER, $INGEST_CONNS clients"
    "$BIN/vigil" --data "$DATA" init >/dev/null
    sed -i 's/^rate_limit = .*/rate_limit = 0/' "$DATA/vigil.conf"
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
    note "Memory: VmHWM counts the store's pages mapped by SQLite (mmap_size 256 MB per connection, 9 connections) as well as the heap: $(grep -E '^(RssAnon|RssFile)' "/proc/$VIGIL_PID/status" | tr -s ' \t' ' ' | paste -sd, -) now; file pages are the OS page cache, shared and reclaimable."
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

# ---- run -------------------------------------------------------------------------------

for f in loadgen mhd_ceiling sqlite_ceiling; do
    [ -x "$BIN/bench/$f" ] || { log "$BIN/bench/$f missing: run 'ninja -C $BUILD' first"; exit 1; }
done
get_load
STARTUPS=
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
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
[ -f "$OUT" ] && awk -v m="$MARK" '$0 == m { keep = 1 } keep' "$OUT" >"$KEPT"
{
    echo "# Benchmarks"
    echo
    echo "Measured by \`make bench\` (bench/run.sh) on $STARTED in ${ELAPSED}s, vigil $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+changes'). Each Vigil figure is printed beside the ceiling of this machine measured in the same run; regenerate with \`make bench\` (sizes: \`VIGIL_BENCH_OBJECTS=… make bench\`, see bench/run.sh)."
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
