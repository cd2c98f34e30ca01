#!/bin/sh
# pkg_install: `cmake --install` (what `make install` runs) lays out the
# expected files, for the /usr prefix (the Debian layout) and for
# /usr/local (make install's default), into a DESTDIR; the units name
# the installed binary and config file.
#   check_install.sh BUILD_DIR SOURCE_DIR SYSTEMD_FOUND
set -eu
build=$1 src=$2 systemd=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tavolo-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
has() { [ -f "$1" ] || fail "missing $1"; }

for prefix in /usr /usr/local; do
    d=$tmp/$(echo "$prefix" | tr / _)
    DESTDIR=$d cmake --install "$build" --prefix "$prefix" >"$tmp/log" 2>&1 \
        || { cat "$tmp/log"; fail "cmake --install --prefix $prefix"; continue; }
    [ -x "$d$prefix/sbin/tavolo" ] || fail "$prefix/sbin/tavolo not executable"
    has "$d$prefix/share/man/man8/tavolo.8"
    has "$d$prefix/share/doc/tavolo/tavolo.conf.example"
    has "$d$prefix/share/doc/tavolo/OPERATIONS.md"
    unit=$d$prefix/lib/systemd/system/tavolo.service
    has "$unit"
    etc=$prefix/etc
    [ "$prefix" = /usr ] && etc=/etc
    grep -qx "ExecStart=$prefix/sbin/tavolo --config $etc/tavolo/tavolo.conf --data /var/lib/tavolo" \
        "$unit" || fail "$unit: ExecStart: $(grep ExecStart= "$unit")"
    if [ "$systemd" = 1 ] || [ "$systemd" = TRUE ]; then
        grep -qx 'Type=notify' "$unit" || fail "$unit: not Type=notify"
        has "$d$prefix/lib/systemd/system/tavolo.socket"
    else
        grep -qx 'Type=exec' "$unit" || fail "$unit: not Type=exec without libsystemd"
    fi
    # Nothing else: no static libraries, no headers, nothing in /etc.
    n=$(find "$d" -type f | wc -l)
    want=6
    [ "$systemd" = 1 ] || [ "$systemd" = TRUE ] || want=5
    [ "$n" -eq "$want" ] || fail "$prefix: $n files installed, expected $want: $(cd "$d" && find . -type f)"
    # The example config is one the server accepts.
    "$d$prefix/sbin/tavolo" --config "$d$prefix/share/doc/tavolo/tavolo.conf.example" \
        --help >/dev/null || fail "tavolo --config tavolo.conf.example rejected"
done
"$build/tavolo" --config "$src/packaging/tavolo.conf" --port 99999 >"$tmp/out" 2>&1 \
    && fail "a bad --port was accepted"
grep -q -- '--port: expected' "$tmp/out" || fail "no --port message: $(cat "$tmp/out")"

if [ "$failed" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$failed" -eq 0 ]
