#!/usr/bin/env bash
# Builds the dashboard into web/dist with npm (Vite) when dist is missing or older than its
# sources; otherwise does nothing, quickly. Meson runs it on every build (web/meson.build), so
# `make build`, `make demo` and `make check` all get a current dashboard.
#   usage: web/build.sh [STAMP]   (STAMP: a file touched on success, for meson)
# VIGIL_WITH_WEB=0 skips the dashboard (the daemon then answers 404 at /).
set -euo pipefail
stamp=${1:-}
[ -z "$stamp" ] || stamp=$(realpath -m "$stamp")
cd "$(dirname "$0")"
done_() { [ -z "$stamp" ] || touch "$stamp"; exit 0; }

if [ "${VIGIL_WITH_WEB:-1}" = 0 ]; then
    done_
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "web: npm not found; the dashboard is not built (scripts/install-deps.sh installs it)" >&2
    done_
fi

# One build at a time (the plain and sanitizer build trees share web/).
exec 9<build.sh
flock 9

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
sources=(src index.html vite.config.js package.json package-lock.json public
    ../data/geo/gaza_governorates.geojson)
if [ ! -f dist/index.html ] || [ -n "$(find "${sources[@]}" -newer dist/index.html -print -quit)" ]; then
    npm run --silent build -- --logLevel warn
    touch dist/index.html
fi
done_
