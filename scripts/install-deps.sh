#!/usr/bin/env bash
# Installs the Debian 12 packages Vigil needs to build, test and run: only those that are
# missing, and quietly when nothing is. Idempotent; needs root (or sudo) only when it installs.
set -euo pipefail

PKGS=(
  build-essential pkg-config meson ninja-build clang
  libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 libsodium-dev libargon2-dev
  libpq-dev postgresql  # the PostgreSQL store; make check runs the API tests on a throwaway cluster
  libcurl4-openssl-dev libcmocka-dev zlib1g-dev
  python3 python3-pytest python3-requests openssl
  groff-base  # renders the man pages in tests/api/test_install.py
)
# Browser tests and the dashboard bundle (npm packages are installed by web/'s own build).
if [ "${VIGIL_WITH_WEB:-1}" = 1 ]; then
  PKGS+=(nodejs npm chromium)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# Node and npm may come from elsewhere on a developer machine; accept the commands themselves.
filtered=()
for p in "${missing[@]}"; do
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  filtered+=("$p")
done
missing=("${filtered[@]+"${filtered[@]}"}")
[ "${#missing[@]}" -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
