#!/usr/bin/env bash
# Builds Vigil twice (plain, and with ASan+UBSan), runs the unit tests (meson/cmocka) and the
# API tests (pytest against the real daemon) in both, the API tests again in the plain build with
# the PostgreSQL store (a throwaway cluster, tests/api/conftest.py), a subset of them on
# PostgreSQL in the sanitized build, the browser tests (tests/web/) in the plain build, and
# prints the total over all suites as its last line: "N passed, N failed".
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
# The PostgreSQL store's code under ASan/UBSan (and LeakSanitizer at each process's exit). The
# whole suite on PostgreSQL would add ~20 min sanitized, so a subset of 34 tests that goes
# through most of src/store/pg: test_store_pg (several front-ends, the listener, leadership
# and kill -9, store copy, the status race), the report index (test_reports: imports,
# corrections, withdrawals, sorted lists), the alert lifecycles stored and restored
# (test_alerts), and of TAXII and compliance the tests that reach the most of pg_objects.c and
# pg_compliance.c (paging under concurrent writes, versions, deletes, the leak rule;
# violations' steps, opinions, tallies, re-evaluation). Measured: 40 tests (these and 6 more
# of test_alerts) took 11 min on a 2-core machine at load average ~17; CI's plain run on
# PostgreSQL takes ~4.4 s a test, which puts this one near 3-4 min. A sanitizer's report goes
# to a file of its own (log_path), so that one at a process's exit, which no request sees,
# fails the run too.
echo "== sanitized: API tests on PostgreSQL (a subset)"
sanlogs=$(mktemp -d)
T=tests/api
ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$sanlogs/asan" \
UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$sanlogs/ubsan" \
VIGIL_TEST_STORE=postgresql VIGIL_BIN="$PWD/build-asan/vigil" "$PY" -m pytest -q \
    -p no:cacheprovider --junitxml="$results/sanitized-pg-api.xml" \
    $T/test_store_pg.py $T/test_reports.py $T/test_alerts.py::test_lifecycle_and_persistence \
    $T/test_alerts.py::test_two_status_changes_decided_on_one_version_one_wins_the_other_gets_409 \
    $T/test_alerts.py::test_corrected_and_deleted_reports_leave_the_alerts \
    $T/test_alerts.py::test_an_alert_whose_trigger_is_withdrawn_comes_back_with_its_lifecycle \
    $T/test_taxii.py::test_pagination_with_concurrent_writes_skips_and_repeats_nothing \
    $T/test_taxii.py::test_match_version_on_objects_object_and_manifest \
    $T/test_taxii.py::test_versions_endpoint_pages $T/test_taxii.py::test_delete_many_versions \
    $T/test_taxii.py::test_red_object_of_another_partner_is_invisible_everywhere \
    $T/test_compliance.py::test_every_transition_allowed_and_refused \
    $T/test_compliance.py::test_a_corrected_report_re_evaluates_its_candidates \
    $T/test_compliance.py::test_opinions_and_evidence \
    $T/test_compliance.py::test_tallies_match_the_hand_computed_fixture || status=1
if compgen -G "$sanlogs/*" >/dev/null; then
    echo "sanitizer reports (PostgreSQL subset):"
    cat "$sanlogs"/*
    status=1
fi
rm -rf "$sanlogs"

echo "== fuzz smoke (each harness briefly; make fuzz runs them longer)"
bash scripts/fuzz.sh "${VIGIL_FUZZ_SECONDS:-5}" --junit "$results/fuzz.xml" || status=1

"$PY" scripts/summary.py "$results" || status=1
rm -rf "$results"
exit $status
