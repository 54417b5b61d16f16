#!/bin/bash
# The back-test of the shipped detectors on the real data (docs/FUSION.md, Back-testing): each
# file of tests/data/real imported into a store of its own, then `vigil replay --evaluate` on
# tests/data/real/ceasefires.csv for its conflict. Prints each conflict's table.
# Usage: bench/backtest_real.sh [VIGIL_BIN]   (default build/vigil)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/vigil}
real=$here/tests/data/real
for c in ukraine-donbas syria israel-gaza israel-hezbollah; do
    d=$(mktemp -d /tmp/vigil-backtest-XXXX)
    trap 'rm -rf "$d"' EXIT
    v() { "$bin" --data "$d" "$@"; }
    v init >/dev/null
    v partner add observers >/dev/null
    v user add observers ana --role analyst >/dev/null
    case $c in
    ukraine-donbas) v import ucdp "$real/ucdp_ged_ukraine_2014_2022.csv" --as ana >/dev/null ;;
    syria)
        zcat "$real/ucdp_ged_syria_2016_2019.csv.gz" >"$d/syria.csv"
        v import ucdp "$d/syria.csv" --as ana >/dev/null
        ;;
    israel-gaza | israel-hezbollah)
        f=tfp_gaza_casualties_daily.csv
        [ "$c" = israel-hezbollah ] && f=tfp_lebanon_casualties_daily.csv
        # rows without a daily figure are reported on stderr and skipped
        v import casualties "$real/$f" --area "$c" --as ana >/dev/null 2>&1
        ;;
    esac
    v replay --as ana --evaluate "$real/ceasefires.csv" --conflict "$c"
    echo
    rm -rf "$d"
done
