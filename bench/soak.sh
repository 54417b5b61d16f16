#!/usr/bin/env bash
# bench/soak.sh - a soak of the daemon under mixed load (S12 "Reliability and hardening").
#
# Starts `vigil serve` on a fresh data directory (two partners besides the coordination
# center, each with a reporter), then for VIGIL_SOAK_MINUTES minutes runs at once:
#   - TAXII POSTs: envelopes of 100 generated STIX objects (bench/loadgen post), in bursts of
#     VIGIL_SOAK_TAXII_OBJECTS objects (2,000) with a pause of 1 s between bursts; the bursts
#     go round VIGIL_SOAK_TAXII_SEEDS sets of objects (20, so 40,000 objects), each round
#     posting a new version of every object;
#   - TAXII GETs: 100-object pages (bench/loadgen get, 4 connections, 5 s runs, 1 s apart);
#   - REST: report POSTs by the two partners (~20/s, attacks, warnings and troop movements,
#     which feed the fusion engine): VIGIL_SOAK_REPORTS source records (1,000), each sent once
#     and then corrected over and over; bbox+time queries and alert lists; SSE subscribers
#     connecting, reading 1-8 s and disconnecting, half of them abruptly
#     (bench/soak_client.py).
# The data held is steady once every object and report was sent once (within the first
# minute): what the load does after that is what a long-running hub does all day (new
# versions, corrections, reads, subscribers coming and going) without more to hold, so any
# memory or descriptor that grows is a leak. What memory the data held takes (per report, per
# object) is measured apart (bench/fusion_memory, and RSS at a million objects in bench/run.sh).
#
# Every VIGIL_SOAK_SAMPLE seconds (10) it samples the daemon's VmRSS, RssAnon, its peak RSS
# since the last sample (VmHWM of /proc/PID/status, then reset) and its open file descriptors
# (ls /proc/PID/fd | wc -l). It prints the series and compares a baseline window (the second
# minute; for runs of less than 4 minutes, the second quarter) with the last window of the same
# length: the mean VmRSS and descriptors, and the highest peak RSS in each window: "flat" when
# each grew by less than VIGIL_SOAK_TOLERANCE percent (10). It also samples, from /metrics, the
# store's memory (vigil_store_memory_bytes: SQLite's page caches, which fill up to their
# configured sizes, and the filter of the stored ids), the fusion engine's
# (vigil_fusion_memory_bytes), and RssAnon less both ("outside the data"), and the allocator's
# view (vigil_heap_in_use_bytes and vigil_heap_free_bytes: what the process holds, and what it
# freed but the heap keeps).
#
# The last line is "key=value ..." for bench/run.sh. Servers listen on 127.0.0.1 only; the data
# directory (under /tmp) is removed at the end unless VIGIL_SOAK_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/${BUILD:-build}
MINUTES=${VIGIL_SOAK_MINUTES:-10}
SAMPLE=${VIGIL_SOAK_SAMPLE:-10}
TOL=${VIGIL_SOAK_TOLERANCE:-10}
TAXII_OBJECTS=${VIGIL_SOAK_TAXII_OBJECTS:-2000}
TAXII_SEEDS=${VIGIL_SOAK_TAXII_SEEDS:-20}
REPORTS=${VIGIL_SOAK_REPORTS:-1000}
SECONDS_TOTAL=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')

WORK=$(mktemp -d /tmp/vigil-soak.XXXXXX)
DATA=$WORK/data
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ "${VIGIL_SOAK_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "soak: $*" >&2; }

"$BIN/vigil" --data "$DATA" init >/dev/null 2>&1
sed -i -E 's/^(rate_limit|rate_limit_per_partner) = .*/\1 = 0/' "$DATA/vigil.conf"
for p in alpha bravo; do
    "$BIN/vigil" --data "$DATA" partner add "$p" >/dev/null 2>&1
    "$BIN/vigil" --data "$DATA" user add "$p" "rep_$p" --role reporter >/dev/null 2>&1
    "$BIN/vigil" --data "$DATA" token create "rep_$p" >"$WORK/tok_$p"
done
TOKEN=$DATA/admin.token

"$BIN/vigil" --data "$DATA" serve --listen 127.0.0.1:0 2>"$WORK/vigil.log" &
VPID=$!
PIDS+=("$VPID")
PORT=
for _ in $(seq 1 600); do
    PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/vigil.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || { cat "$WORK/vigil.log" >&2; log "vigil did not start"; exit 1; }
COLL=$(curl -sf -H "Authorization: Bearer $(cat "$TOKEN")" \
    -H 'Accept: application/taxii+json;version=2.1' "http://127.0.0.1:$PORT/taxii2/api/collections/" |
    python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin)["collections"] if c["title"] == "Reports"][0])')
OBJ_PATH=/taxii2/api/collections/$COLL/objects/
log "daemon $VPID on 127.0.0.1:$PORT; ${MINUTES} min of mixed load, samples every ${SAMPLE}s"

T0=$(date +%s)
END=$((T0 + SECONDS_TOTAL))

# TAXII POST bursts, round the object sets: a new version of each object every round.
(
    burst=0 n=0 errs=0
    while [ "$(date +%s)" -lt "$END" ]; do
        if "$BIN/bench/loadgen" post --port "$PORT" --path "$OBJ_PATH" --token-file "$TOKEN" \
            --objects "$TAXII_OBJECTS" --per 100 --conns 1 --threads 1 \
            --seed $((1000 + burst % TAXII_SEEDS)) --version $((burst / TAXII_SEEDS)) \
            >/dev/null 2>>"$WORK/taxii_post.err"; then
            n=$((n + TAXII_OBJECTS))
        else
            errs=$((errs + 1))
        fi
        burst=$((burst + 1))
        sleep 1
    done
    echo "taxii_objects_posted=$n taxii_post_failed_bursts=$errs" >"$WORK/taxii_post.out"
) &
PIDS+=($!)

# TAXII GET pages.
(
    reqs=0 errs=0
    while [ "$(date +%s)" -lt $((END - 5)) ]; do
        out=$("$BIN/bench/loadgen" get --port "$PORT" --path "$OBJ_PATH" --token-file "$TOKEN" \
            --limit 100 --conns 4 --threads 1 --duration 5 --warmup 0 2>>"$WORK/taxii_get.err") || true
        reqs=$((reqs + $(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out" | head -1)))
        errs=$((errs + $(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out" | head -1)))
        sleep 1
    done
    echo "taxii_gets=$reqs taxii_get_errors=$errs" >"$WORK/taxii_get.out"
) &
PIDS+=($!)

# REST posts and queries, SSE subscribers.
python3 "$ROOT/bench/soak_client.py" --port "$PORT" --seconds "$SECONDS_TOTAL" \
    --read-token "$TOKEN" --post-tokens "$WORK/tok_alpha" "$WORK/tok_bravo" \
    --report-keys "$REPORTS" >"$WORK/rest.out" \
    2>"$WORK/rest.err" &
PIDS+=($!)

# Samples: seconds since the start, VmRSS, RssAnon (kB), open fds, and from /metrics (kB): the
# memory the store holds, the heap in use and freed but kept by the allocator (fragmentation),
# the fusion engine's memory, and the reports it holds (a count); then the peak RSS since the
# previous sample (kB: VmHWM, reset after every sample by writing 5 to /proc/PID/clear_refs).
SERIES=$WORK/series
: >"$SERIES"
next=$((T0 + SAMPLE))
while :; do
    now=$(date +%s)
    [ "$now" -ge "$next" ] || { sleep 0.2; continue; }
    kill -0 "$VPID" 2>/dev/null || { log "the daemon died"; cat "$WORK/vigil.log" >&2; exit 1; }
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$VPID/status")
    anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$VPID/status")
    hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$VPID/status")
    echo 5 >"/proc/$VPID/clear_refs"
    fds=$(ls "/proc/$VPID/fd" | wc -l)
    metrics=$(curl -sf -H "Authorization: Bearer $(cat "$TOKEN")" "http://127.0.0.1:$PORT/metrics")
    kb() { awk -v k="$1" '$1 == k { printf "%d", $2 / 1024 }' <<<"$metrics"; }
    store_kb=$(kb vigil_store_memory_bytes) use_kb=$(kb vigil_heap_in_use_bytes)
    free_kb=$(kb vigil_heap_free_bytes) fusion_kb=$(kb vigil_fusion_memory_bytes)
    reports=$(awk '$1 == "vigil_fusion_reports" { print $2 }' <<<"$metrics")
    echo "$((now - T0)) $rss $anon $fds ${store_kb:-0} ${use_kb:-0} ${free_kb:-0} ${fusion_kb:-0} ${reports:-0} $hwm" >>"$SERIES"
    printf 't=%4ss VmRSS=%6d kB VmHWM=%6d kB RssAnon=%6d kB fds=%d store=%6d kB heap_in_use=%6d kB heap_free=%6d kB fusion=%6d kB (%d reports)\n' \
        "$((now - T0))" "$rss" "$hwm" "$anon" "$fds" "${store_kb:-0}" "${use_kb:-0}" \
        "${free_kb:-0}" "${fusion_kb:-0}" "${reports:-0}"
    next=$((next + SAMPLE))
    [ "$now" -lt "$END" ] || break
done
wait "${PIDS[@]:1}" 2>/dev/null || true
sleep 1
rss_end=$(awk '/^VmRSS/ { print $2 }' "/proc/$VPID/status")
hwm=$(sort -n -k10 "$SERIES" | awk 'END { print $10 }') # the run's peak

# The verdict: baseline window [W, 2W) vs the last W seconds, W = 60 s (or a quarter of the
# run when it is shorter than 4 minutes): the means of VmRSS, and the highest peak RSS of each
# window. Each window's own peak, not the peak so far: the highest of a noisy series grows with
# the time watched, so the peak so far at 10 minutes is above the one at 2 minutes even when
# nothing grows.
VERDICT=$(awk -v total="$SECONDS_TOTAL" -v tol="$TOL" '
    { t[NR] = $1; rss[NR] = $2; anon[NR] = $3; fd[NR] = $4; other[NR] = $3 - $5 - $8; use[NR] = $6; fr[NR] = $7; fu[NR] = $8; rep[NR] = $9; hwm[NR] = $10 }
    END {
        w = total >= 240 ? 60 : total / 4
        for (i = 1; i <= NR; i++) {
            if (t[i] > w && t[i] <= 2 * w) { nb++; br += rss[i]; ba += anon[i]; bf += fd[i]; bo += other[i]; bu += use[i]; bh += fr[i]; if (hwm[i] > hb) hb = hwm[i] }
            if (t[i] > total - w) { nl++; lr += rss[i]; la += anon[i]; lf += fd[i]; lo += other[i]; lu += use[i]; lh += fr[i]; if (hwm[i] > hl) hl = hwm[i] }
        }
        if (!nb || !nl) { print "flat=unknown"; exit }
        br /= nb; ba /= nb; bf /= nb; bo /= nb; lr /= nl; la /= nl; lf /= nl; lo /= nl
        bu /= nb; bh /= nb; lu /= nl; lh /= nl
        gr = 100 * (lr - br) / br; ga = 100 * (la - ba) / ba; gf = 100 * (lf - bf) / bf
        go = 100 * (lo - bo) / bo; gp = 100 * (hl - hb) / hb
        flat = (gr < tol && gp < tol && gf < tol) ? "yes" : "no"
        # Outside the data: RssAnon less what the store and the fusion engine hold.
        flat_other = (go < tol && gf < tol) ? "yes" : "no"
        printf "window_s=%d rss_base_mb=%.1f rss_last_mb=%.1f rss_growth_pct=%.1f peak_base_mb=%.1f peak_last_mb=%.1f peak_growth_pct=%.1f anon_base_mb=%.1f anon_last_mb=%.1f anon_growth_pct=%.1f other_base_mb=%.1f other_last_mb=%.1f other_growth_pct=%.1f heap_in_use_base_mb=%.1f heap_in_use_last_mb=%.1f heap_free_base_mb=%.1f heap_free_last_mb=%.1f fusion_first_mb=%.1f fusion_last_mb=%.1f fusion_reports=%d fds_base=%.1f fds_last=%.1f fds_growth_pct=%.1f flat=%s flat_outside_data=%s",
            w, br / 1024, lr / 1024, gr, hb / 1024, hl / 1024, gp, ba / 1024, la / 1024, ga, bo / 1024, lo / 1024, go, bu / 1024, lu / 1024, bh / 1024, lh / 1024, fu[1] / 1024, fu[NR] / 1024, rep[NR], bf, lf, gf, flat, flat_other
    }' "$SERIES")
echo "series (t_s VmRSS_kB RssAnon_kB fds store_kB heap_in_use_kB heap_free_kB fusion_kB fusion_reports peak_kB): $(paste -sd';' "$SERIES")"
for f in taxii_post.err taxii_get.err rest.err; do
    [ ! -s "$WORK/$f" ] || { log "$f:"; sort "$WORK/$f" | uniq -c | sort -rn | head -5 >&2; }
done
store=$(du -sh "$DATA" | cut -f1)
echo "minutes=$MINUTES samples=$(wc -l <"$SERIES") $VERDICT rss_end_mb=$((rss_end / 1024)) hwm_mb=$((hwm / 1024)) store=$store $(cat "$WORK/taxii_post.out" 2>/dev/null) $(cat "$WORK/taxii_get.out" 2>/dev/null) $(cat "$WORK/rest.out")"
