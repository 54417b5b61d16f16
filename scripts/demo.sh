#!/usr/bin/env bash
# make demo: the server with a SYNTHETIC ceasefire scenario, in the foreground.
# usage: demo.sh VIGIL_BIN DATA_DIR LISTEN
#
# First run (DATA_DIR has no store): `vigil init`, start the server, load data/demo/scenario.py
# (partners, users, groups, the illustrative agreement, three weeks of reports dated
# 2025-10-01..2025-10-21, verified violations), and write the logins to
# DATA_DIR/demo-logins.txt (mode 0600). Later runs start the server on the existing data and
# print the same logins. Ctrl-C stops the server. To start afresh: rm -rf DATA_DIR.
set -euo pipefail
bin=$1 data=$2 listen=$3
root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3                  # Debian's python3 (python3-requests), not a pyenv one
[ -x "$py" ] || py=python3
logins=$data/demo-logins.txt
marker=$data/.demo-loading           # present while the scenario is being loaded
log=$data/demo-serve.log
url=http://$listen
umask 077

case $listen in
  127.0.0.1:*|localhost:*|\[::1\]:*) ;;
  *) echo "demo: refusing to listen on $listen (the demo's logins are printed: loopback only)" >&2
     exit 2 ;;
esac

if [ -f "$marker" ]; then
    # Only this script creates the marker, inside a directory it initialised itself.
    echo "demo: $data holds an interrupted scenario load; recreating it" >&2
    rm -rf -- "$data"
fi
fresh=0
if [ ! -f "$data/vigil.db" ]; then
    if ! out=$("$bin" --data "$data" init 2>&1); then
        echo "$out" >&2
        exit 1
    fi
    touch "$marker"
    fresh=1
fi

"$bin" --data "$data" serve --listen "$listen" 2>>"$log" &
pid=$!
stop() {
    trap - INT TERM
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
trap 'echo; echo "demo: stopping the server"; stop; exit 130' INT TERM
trap 'stop' EXIT

# Wait for /healthz (or for the server to die, e.g. the port is taken).
if ! "$py" - "$url/healthz" "$pid" <<'PY'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
for _ in range(300):
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        if urllib.request.urlopen(url, timeout=1).status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
then
    echo "demo: the server did not start on $listen; its log ($log):" >&2
    tail -n 20 "$log" >&2
    exit 1
fi

if [ "$fresh" = 1 ]; then
    "$py" "$root/data/demo/scenario.py" --url "$url" --data "$data" --vigil "$bin" \
        --logins "$logins"
    rm -f "$marker"
fi

show=(cc.amina cc.lars us.liaison il.liaison eg.monitor qa.liaison id.observer cc.admin)
cat <<MSG

  Vigil demo - SYNTHETIC scenario (placeholder parties, ILLUSTRATIVE zones, fixed dates
  2025-10-01 .. 2025-10-21: set the dashboard's time range there).

  Dashboard and API:  $url/
  TAXII discovery:    $url/taxii2/

  Log in as different partners to see how views differ:
MSG
if [ -f "$logins" ]; then
    for u in "${show[@]}"; do
        awk -F'\t' -v u="$u" '$1 == u {
            printf "    %-12s %-20s %-9s %-22s %s\n", $1, $2, $3, $4, $6 }' "$logins"
    done
    cat <<MSG

  Every user, with an API token each (Authorization: Bearer TOKEN): $logins
MSG
else
    echo "    (no $logins: this data directory was not made by make demo)"
fi
cat <<MSG
  Admin API token (user "admin"): $data/admin.token
  Try: curl -H "Authorization: Bearer \$(cat $data/admin.token)" $url/api/v1/violations
  Server log: $log

  Stop with Ctrl-C.
MSG
wait "$pid"
