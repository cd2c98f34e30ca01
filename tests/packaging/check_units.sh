#!/bin/sh
# pkg_unit_verify: systemd-analyze verify accepts tavolo.service and
# tavolo.socket as installed. verify checks that ExecStart's binary exists
# and that Documentation=man:tavolo(8) resolves, so the units are
# installed under a temporary prefix (the binary and the page are there)
# rather than checked in place: packaging/tavolo.service names
# /usr/sbin/tavolo, which a build machine does not have. This needs no
# running systemd (no PID 1, no bus).
#   check_units.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tavolo-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/usr" >/dev/null
units=$tmp/usr/lib/systemd/system
set -- "$units/tavolo.service"
[ ! -f "$units/tavolo.socket" ] || set -- "$@" "$units/tavolo.socket"
failed=0
out=$(MANPATH=$tmp/usr/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$@" 2>&1) || failed=1
[ -z "$out" ] || { echo "systemd-analyze verify: $out"; failed=1; }
echo "systemd-analyze verify $(basename -a "$@" | tr '\n' ' ')-> ${out:-clean}"
if [ "$failed" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$failed" -eq 0 ]
