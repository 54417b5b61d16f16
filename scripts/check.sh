#!/usr/bin/env bash
# Builds Vigil twice (plain, and with ASan+UBSan), runs the unit tests (meson/cmocka) and the
# API tests (pytest against the real daemon) in both, the API tests again in the plain build with
# the PostgreSQL store (a throwaway cluster, tests/api/conftest.py), the browser tests
# (tests/web/) in the plain build, and prints the total over all suites as its last line:
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
results=$(mktemp -d)
status=0

build() { # dir, extra meson args...
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >/dev/null || return 1
    fi
    ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
}

suite() { # name, build dir, extra pytest paths...
    local name=$1 dir=$2
    shift 2
    echo "== $name: unit tests"
    meson test -C "$dir" --suite unit --print-errorlogs --no-rebuild >"$results/$name-unit.txt" 2>&1 \
        || { cat "$results/$name-unit.txt"; status=1; }
    cp "$dir/meson-logs/testlog.json" "$results/$name-unit.json"
    echo "== $name: API tests"
    VIGIL_BIN="$PWD/$dir/vigil" "$PY" -m pytest -q -p no:cacheprovider \
        --junitxml="$results/$name-api.xml" tests/api "$@" || status=1
}

echo "== building"
build build || exit 1
build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
suite plain build tests/lint
echo "== plain: API tests on PostgreSQL"
VIGIL_TEST_STORE=postgresql VIGIL_BIN="$PWD/build/vigil" "$PY" -m pytest -q -p no:cacheprovider \
    --junitxml="$results/plain-pg-api.xml" tests/api || status=1
echo "== plain: browser tests"
bash tests/web/run.sh build "$results/plain-web.xml" || status=1
suite sanitized build-asan

echo "== fuzz smoke (each harness briefly; make fuzz runs them longer)"
bash scripts/fuzz.sh "${VIGIL_FUZZ_SECONDS:-5}" --junit "$results/fuzz.xml" || status=1

"$PY" scripts/summary.py "$results" || status=1
rm -rf "$results"
exit $status
