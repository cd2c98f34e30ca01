#!/usr/bin/env bash
# Installs (apt) whatever tavolo's build and tests need and is missing.
# Idempotent: a second run installs nothing and takes well under a second.
#   scripts/deps.sh          build + run: what `make run` / `make build` need
#   scripts/deps.sh test     also what `make test` needs (python3, node, npm, chromium, man-db, systemd,
#                            redis-server, haproxy)
#   scripts/deps.sh fuzz     also what `make fuzz` needs (clang + libFuzzer runtime)
#   scripts/deps.sh pkg      also what `make deb` needs (debhelper, lintian...)
# Assumes only Debian 12 (or Ubuntu) with `make`, and root or sudo.
set -euo pipefail

mode=${1:-run}
case $mode in run|test|fuzz|pkg) ;; *) echo "usage: $0 [test|fuzz|pkg]" >&2; exit 2;; esac

# Exactly what the server's build uses, listed one by one instead of
# build-essential: the project is C only (no g++), and gcc only *recommends*
# libc6-dev, which apt's --no-install-recommends would leave out.
pkgs=(gcc libc6-dev cmake pkg-config libuv1-dev libsqlite3-dev libsodium-dev
      libinih-dev libwslay-dev libh2o-dev nettle-dev libssl-dev libhiredis-dev)
# Tools that may come from outside Debian (pyenv's python3, NodeSource's
# node): the tests only need them on PATH, so a command found there is
# enough; the package is installed only when the command is missing.
tools=()
case $mode in
test)
    # python3: black-box tests; chromium + node/npm: the browser test
    # (playwright-core drives Debian's /usr/bin/chromium, no download).
    # The ASan/UBSan build uses gcc, whose runtimes come with gcc itself.
    # man-db and systemd: the packaging tests (tavolo(8) renders, and
    # systemd-analyze verify, which also resolves man:tavolo(8); and
    # systemd-socket-activate), so that they run on every machine rather
    # than only where something else happened to bring them.
    pkgs+=(chromium man-db systemd)
    # redis-server and haproxy: the cluster tests start real ones on free
    # loopback ports (tests/integration/cluster.py); no mocks.
    pkgs+=(redis-server haproxy)
    tools+=(python3:python3 node:nodejs npm:npm)
    ;;
fuzz)
    # libFuzzer: clang and its runtime (not in the clang package itself).
    pkgs+=(clang libclang-rt-14-dev)
    ;;
esac

# libsystemd-dev: sd_notify readiness and socket activation (optional at
# build time; cmake/packaging.cmake). `scripts/deps.sh pkg`: what `make deb`
# and its checks need on top of the build dependencies (not run or test).
# build-essential: what every Debian package build may assume.
pkgs+=(libsystemd-dev)
if [ "$mode" = pkg ]; then
    pkgs+=(build-essential dpkg-dev debhelper devscripts lintian fakeroot python3)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
for t in ${tools[@]+"${tools[@]}"}; do
    command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
echo "deps: installing ${missing[*]}" >&2
# env, not export: sudo drops the caller's environment by default.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
