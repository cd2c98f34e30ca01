#!/usr/bin/env bash
# Installs (apt) whatever tavolo's build and tests need and is missing.
# Idempotent: a second run installs nothing and takes well under a second.
#   scripts/deps.sh          build + run dependencies
#   scripts/deps.sh test     also what the tests need (clang for libFuzzer, python3)
set -euo pipefail

pkgs=(build-essential cmake pkg-config libuv1-dev libsqlite3-dev libsodium-dev
      libinih-dev libwslay-dev libh2o-dev nettle-dev)
if [ "${1:-}" = test ]; then
    # clang: libFuzzer; python3: black-box tests; chromium + node/npm: the
    # browser test (playwright-core drives Debian's chromium, no download).
    pkgs+=(clang libclang-rt-14-dev python3 chromium)
    command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi

# libsystemd-dev: sd_notify readiness and socket activation (optional at
# build time; cmake/packaging.cmake). `scripts/deps.sh pkg`: what `make deb`
# and its checks need on top of the build dependencies (not run or test).
pkgs+=(libsystemd-dev)
if [ "${1:-}" = pkg ]; then
    pkgs+=(dpkg-dev debhelper devscripts lintian fakeroot python3)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
