#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for SECONDS on a
# copy of its seed corpus. Crashes are saved under build-fuzz/crashes/. With --junit FILE it
# also writes one JUnit test case per harness (make check counts them).
# usage: scripts/fuzz.sh [SECONDS] [--junit FILE]
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
junit=""
[ "${2:-}" = "--junit" ] && junit=$3
dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized >/dev/null || exit 1
fi
ninja -C "$dir" >/dev/null || { ninja -C "$dir"; exit 1; }
mkdir -p "$dir/crashes"
cases="" fails=0 n=0
for bin in "$dir"/tests/fuzz/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=${bin##*/fuzz_}
    work=$(mktemp -d)
    cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
    echo "== fuzz $name: ${secs}s"
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$dir/crashes/$name-" "$work" >"$dir/fuzz-$name.log" 2>&1; then
        cases+="<testcase classname=\"fuzz\" name=\"$name\"/>"
        tail -n 1 "$dir/fuzz-$name.log"
    else
        fails=$((fails + 1))
        cases+="<testcase classname=\"fuzz\" name=\"$name\"><failure message=\"crash\"/></testcase>"
        tail -n 30 "$dir/fuzz-$name.log"
    fi
    n=$((n + 1))
    rm -rf "$work"
done
if [ -n "$junit" ]; then
    printf '<testsuite name="fuzz" tests="%d" failures="%d">%s</testsuite>\n' \
        "$n" "$fails" "$cases" >"$junit"
fi
[ "$fails" = 0 ]
