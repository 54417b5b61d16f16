#!/usr/bin/env bash
# bench/restart.sh - the daemon's start with a large store (issue #20): how long from the start
# until alerts flow again, and its memory after the start and after ingesting more.
#
#   bench/restart.sh build DIR [ROWS]
#       Builds, once, a store of ROWS (1,000,000) generated ACLED rows (bench/acledgen, events
#       of 2018-2025) imported with `vigil import acled`, with the partners alpha and bravo the
#       probe posts as. Reuse it: building takes minutes.
#   bench/restart.sh measure DIR [FIRST] [MORE]
#       Starts `vigil serve` on DIR and prints, one "key=value" line each:
#         start: http_ms (until /healthz answers), alerts_ready_ms (until the first alert of a
#           probe pair posted every 50-250 ms shows on the live stream: bench/alert_latency.py
#           probe), the daemon's CPU seconds and disk reads by then (on a shared machine the
#           elapsed time follows the others' load: the 1-minute load average is printed), then
#           VmHWM, VmRSS (kB) and the engine's own count of reports and bytes, and whether the
#           engine started from its saved state (from_state=1: the state a clean stop, or the
#           running daemon once a minute, saved; 0: rebuilt from every report);
#         after: the same once MORE (100,000) further generated rows (another seed: history,
#           2018-2025, arriving late) were imported by `vigil import acled` while the daemon
#           runs, and 300 pairs of present-day reports posted (bench/alert_latency.py measure);
#       FIRST is the probe's first place (places are never reused in a store: pass the `next`
#       printed by the previous run).
#   VIGIL_BIN (build/vigil) is the daemon measured; BUILD (build) has bench/acledgen.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
VIGIL=${VIGIL_BIN:-$ROOT/$BUILD/vigil}
cmd=${1:?usage: bench/restart.sh build|measure DIR ...}
DIR=${2:?the store directory}

now_us() { date +%s%6N; }
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
cpu() { # PID: CPU seconds (user + system) the process used so far, and what it read from disk
    awk '{ printf "cpu_s=%.1f ", ($14 + $15) / 100 }' "/proc/$1/stat"
    awk '$1 == "read_bytes:" { printf "read_MB=%d", $2 / 1048576 }' "/proc/$1/io"
}
mem() { # PID PORT: the daemon's memory and the engine's own figures
    local st m
    st=$(grep -E '^(VmHWM|VmRSS)' "/proc/$1/status" | awk '{ printf "%s=%s ", $1, $2 }' |
        tr -d ':')
    m=$(curl -sf -H "Authorization: Bearer $(cat "$DIR/admin.token")" \
        "http://127.0.0.1:$2/metrics" |
        awk '$1 == "vigil_fusion_reports" || $1 == "vigil_fusion_memory_bytes" { printf "%s=%s ", $1, $2 }')
    echo "$st$m"
}

case $cmd in
build)
    rows=${3:-1000000}
    [ -e "$DIR" ] && { echo "bench: $DIR exists" >&2; exit 1; }
    "$ROOT/$BUILD/bench/acledgen" rows "$rows" >"$DIR.csv"
    "$VIGIL" --data "$DIR" init >/dev/null 2>&1
    sed -i -E 's/^(rate_limit|rate_limit_per_partner) = .*/\1 = 0/' "$DIR/vigil.conf"
    for p in alpha bravo; do
        "$VIGIL" --data "$DIR" partner add "$p" >/dev/null
        "$VIGIL" --data "$DIR" user add "$p" "rep_$p" --role reporter >/dev/null
        "$VIGIL" --data "$DIR" token create "rep_$p" >"$DIR/tok_$p"
    done
    /usr/bin/time -f "import_seconds=%e cpu_user=%U cpu_sys=%S" \
        "$VIGIL" --data "$DIR" import acled "$DIR.csv" --as admin
    rm -f "$DIR.csv"
    ;;
measure)
    first=${3:-0}
    more=${4:-100000}
    log=$(mktemp /tmp/vigil-restart.XXXXXX)
    t0=$(now_us)
    "$VIGIL" --data "$DIR" serve --listen 127.0.0.1:0 2>"$log" &
    pid=$!
    trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log" "$log.csv"' EXIT
    port=
    until [ -n "$port" ]; do
        kill -0 $pid || { cat "$log" >&2; exit 1; }
        port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log" | head -1)
        sleep 0.01
    done
    until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do sleep 0.005; done
    http_ms=$((($(now_us) - t0) / 1000))
    probe=(--port "$port" --stream-token "$DIR/admin.token" --token-a "$DIR/tok_alpha"
        --token-b "$DIR/tok_bravo")
    out=$(/usr/bin/python3 "$ROOT/bench/alert_latency.py" probe "${probe[@]}" --t0-us "$t0" \
        --first "$first")
    # from_state: 1 when the engine started from its saved state (no history read), 0 when
    # it rebuilt from every report (none saved yet, or not usable)
    echo "start: http_ms=$http_ms alerts_ready_ms=$(kv alerts_ready_ms "$out") $(cpu $pid)" \
        "$(mem $pid "$port") load=$(cut -d' ' -f1 /proc/loadavg)" \
        "from_state=$(grep -c 'engine started from its saved state' "$log" || true)"
    next=$(kv next "$out")
    "$ROOT/$BUILD/bench/acledgen" rows "$more" "$((first + 7))" >"$log.csv"
    t1=$(now_us)
    /usr/bin/time -f "%e" -o "$log.time" "$VIGIL" --data "$DIR" import acled "$log.csv" \
        --as admin >/dev/null 2>&1
    out=$(/usr/bin/python3 "$ROOT/bench/alert_latency.py" probe "${probe[@]}" --t0-us "$t1" \
        --first "$next")
    next=$(kv next "$out")
    echo "import: rows=$more import_s=$(cat "$log.time") alerts_after_ms=$(kv alerts_ready_ms "$out")"
    out=$(/usr/bin/python3 "$ROOT/bench/alert_latency.py" measure "${probe[@]}" --first "$next" \
        --pairs 300)
    echo "live: $out"
    echo "after: $(mem $pid "$port") next=$(($(kv next "$out") + 0))"
    rm -f "$log.time"
    ;;
*)
    echo "usage: bench/restart.sh build|measure DIR ..." >&2
    exit 2
    ;;
esac
