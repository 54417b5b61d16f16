#!/usr/bin/env bash
# make demo: a data directory (created once), then the server in the foreground.
# usage: demo.sh VIGIL_BIN DATA_DIR LISTEN
set -euo pipefail
bin=$1 data=$2 listen=$3
if [ ! -f "$data/vigil.db" ]; then
    "$bin" --data "$data" init
fi
cat <<MSG

  Vigil is starting.
  Dashboard and API:  http://$listen/
  TAXII discovery:    http://$listen/taxii2/
  Login:              user "admin", API token in $data/admin.token:
                      $(cat "$data/admin.token")
  Try:                curl -H "Authorization: Bearer \$(cat $data/admin.token)" http://$listen/taxii2/

  Stop with Ctrl-C.
MSG
exec "$bin" --data "$data" serve --listen "$listen"
