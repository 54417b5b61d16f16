#!/usr/bin/env bash
# Runs the browser tests (node --test, playwright-core driving Debian's chromium) against the
# vigil binary of a build directory. Spec output on stdout; with a second argument, a JUnit
# report there too (scripts/summary.py counts it). Installs playwright-core from
# package-lock.json when missing (never a browser: /usr/bin/chromium is used).
#   usage: tests/web/run.sh [BUILD_DIR=build] [JUNIT_FILE]
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
junit=${2:-}

fail() { # message: record one failed test case so the summary cannot miss it
    echo "browser tests: $1" >&2
    if [ -n "$junit" ]; then
        printf '<?xml version="1.0"?>\n<testsuites><testcase name="browser tests" classname="web">'`
              `'<failure message="%s"/></testcase></testsuites>\n' "$1" >"$junit"
    fi
    exit 1
}

command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh)"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || fail "chromium is not installed (scripts/install-deps.sh)"
[ -f web/dist/index.html ] || fail "the dashboard is not built (web/build.sh)"
if [ ! -f tests/web/node_modules/.package-lock.json ] ||
    [ tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]; then
    (cd tests/web && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi

args=(--test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout)
[ -z "$junit" ] || args+=(--test-reporter=junit --test-reporter-destination="$junit")
VIGIL_BIN="$PWD/$build/vigil" node "${args[@]}" tests/web/*.test.mjs
