#!/usr/bin/env bash
# deb-check: does the .deb install and start on a fresh Debian 12?
#
#   make deb && sudo scripts/deb-check.sh [build-deb/tavolo_*.deb] > /tmp/deb-check.log 2>&1
#
# Builds a minimal Debian 12 (bookworm) root with mmdebstrap (minbase plus
# systemd, for systemd-analyze and deb-systemd-helper), installs the
# package in it (apt resolves its Depends from the archive, as for
# `apt install ./tavolo_*.deb` on a user's machine), and checks:
#   1. the files, and /etc/tavolo/tavolo.conf registered as a conffile;
#   2. `systemd-analyze verify` accepts the installed units (--man=no: the
#      root has no man-db);
#   3. the unit's ExecStart line, run by hand, serves: systemd does not run
#      in a chroot, so the script does what the unit would: a private
#      network namespace (port 7777 of the host is not touched), an
#      unprivileged user (nobody, standing for DynamicUser), the state
#      directory /var/lib/tavolo mode 0700 owned by it (StateDirectory=),
#      no new privileges. A client must get HELLO and OK PING; SIGHUP must
#      keep it serving; SIGTERM must stop it with exit status 0; the
#      database must exist in /var/lib/tavolo.
# The last line is `deb-check: PASS ...` or `deb-check: FAIL: <reason>`,
# and the exit status agrees. Needs root (mmdebstrap, chroot, mounts,
# unshare). Not part of `make test`: it downloads a Debian system.
#   DEB_CHECK_KEEP=1  keep the root afterwards;  DEB_CHECK_TMP=DIR  where (/var/tmp)
set -euo pipefail
# shellcheck source=scripts/host-apt.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/host-apt.sh"

SUITE=bookworm
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
deb=${1:-}
if [ -z "$deb" ]; then
    deb=$(ls -1 "$repo"/build-deb/tavolo_*.deb 2>/dev/null | head -n 1 || true)
fi
reason="" tmp="" root="" mounts=() ok=0

say() { echo "deb-check: $*" >&2; }
fail() { reason=$1; exit 1; }
finish() {
    local rc=$? i
    trap - EXIT
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -l "${mounts[i]}" 2>/dev/null || say "could not unmount ${mounts[i]}"
    done
    if [ -n "$tmp" ] && [ -d "$tmp" ]; then
        if [ "${DEB_CHECK_KEEP:-0}" = 1 ]; then say "kept $root"
        elif findmnt -rn -o TARGET | grep -q -F "$tmp/"; then say "still mounted under $tmp: not removed"
        else rm -rf --one-file-system "$tmp"; fi
    fi
    if [ "$rc" -eq 0 ] && [ "$ok" = 1 ]; then
        echo "deb-check: PASS ($(basename "$deb") on Debian $SUITE: installed, units verified, ExecStart served HELLO and stopped with 0 on SIGTERM)"
    else
        echo "deb-check: FAIL: ${reason:-exit status $rc}"
        [ "$rc" -ne 0 ] || rc=1
    fi
    exit "$rc"
}
trap 'rc=$?; [ -n "$reason" ] || reason="line $LINENO: \`$BASH_COMMAND\` exited $rc"' ERR
trap finish EXIT

[ "$(id -u)" -eq 0 ] || fail "must run as root"
[ -n "$deb" ] && [ -f "$deb" ] || fail "no .deb (run make deb first, or name it)"
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
command -v mmdebstrap >/dev/null || fail "mmdebstrap not installed (apt-get install mmdebstrap)"
command -v unshare >/dev/null && command -v ip >/dev/null || fail "needs unshare and ip on the host"

tmp=$(mktemp -d "${DEB_CHECK_TMP:-/var/tmp}/tavolo-deb.XXXXXX")
root=$tmp/root

# The host's apt sources and the settings that say how to reach them
# (proxies, snapshot mirrors), as scripts/fresh-check.sh does.
host_apt_settings || fail "the host has no apt sources"

# The .deb is one of mmdebstrap's --include items: apt installs it with its
# Depends from the archive, as `apt install ./tavolo_*.deb` would, and runs
# its maintainer scripts (mmdebstrap then empties the package lists, so a
# later apt-get in the root would need an update and DNS).
say "mmdebstrap $SUITE minbase + systemd + $(basename "$deb") in $root"
# file-mirror-automount: dpkg runs in the root and must see the .deb's
# path there too; mmdebstrap's own hook copies it in and out again.
nice mmdebstrap --variant=minbase --include=systemd --include="$deb" --mode=root \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    ${aptopts[@]+"${aptopts[@]}"} --setup-hook="$setup_hook" \
    "$SUITE" "$root" "${sources[@]}" >&2 || fail "mmdebstrap failed"
host_apt_keyrings "$root"
[ -f /etc/ssl/certs/ca-certificates.crt ] && mkdir -p "$root/etc/ssl/certs" \
    && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"

for m in proc dev; do
    mount --bind "/$m" "$root/$m"
    mounts+=("$root/$m")
done
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

# --- 1. install, files, conffile ------------------------------------------
for f in /usr/sbin/tavolo /etc/tavolo/tavolo.conf /lib/systemd/system/tavolo.service \
         /lib/systemd/system/tavolo.socket /usr/share/man/man8/tavolo.8.gz; do
    [ -e "$root$f" ] || fail "$f not installed"
done
grep -qx '/etc/tavolo/tavolo.conf' "$root/var/lib/dpkg/info/tavolo.conffiles" \
    || fail "/etc/tavolo/tavolo.conf is not a conffile"
[ -L "$root/etc/systemd/system/multi-user.target.wants/tavolo.service" ] \
    || fail "tavolo.service not enabled by the postinst"
[ ! -e "$root/etc/systemd/system/sockets.target.wants/tavolo.socket" ] \
    || fail "tavolo.socket enabled (it should be optional)"
say "installed; tavolo.service enabled, tavolo.socket not; conffile registered"

# --- 2. systemd-analyze verify --------------------------------------------
out=$(in_root systemd-analyze verify --man=no /lib/systemd/system/tavolo.service \
      /lib/systemd/system/tavolo.socket 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
say "systemd-analyze verify: clean"

# --- 3. the ExecStart line, by hand ---------------------------------------
exec_start=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/tavolo.service")
say "ExecStart: $exec_start"
mkdir -p "$root/var/lib/tavolo"
in_root chown nobody:nogroup /var/lib/tavolo
chmod 0700 "$root/var/lib/tavolo"
# A private network namespace with loopback up, then the chroot; inside:
# start as nobody, wait for "listening on", talk, reload, stop.
# shellcheck disable=SC2016
check='
log=/tmp/tavolo.log
setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
    '"$exec_start"' 2>$log &
pid=$!
for i in $(seq 100); do grep -q "^listening on" $log && break; sleep 0.1; done
grep -q "^listening on \[::\]:7777$" $log || { cat $log; echo "not listening on [::]:7777"; exit 1; }
exec 3<>/dev/tcp/127.0.0.1/7777
read -r -t 5 hello <&3; echo "got: $hello"
case $hello in "HELLO tavolo 2 "*) ;; *) echo "no HELLO"; exit 1;; esac
echo PING >&3; read -r -t 5 pong <&3; echo "got: $pong"
[ "$pong" = "OK PING" ] || { echo "no OK PING"; exit 1; }
exec 3>&-
kill -HUP $pid; sleep 0.3
kill -0 $pid || { cat $log; echo "died on SIGHUP"; exit 1; }
exec 3<>/dev/tcp/::1/7777; read -r -t 5 hello <&3; exec 3>&-
case $hello in "HELLO tavolo 2 "*) echo "after SIGHUP, over IPv6: $hello";; *) echo "no HELLO after SIGHUP"; exit 1;; esac
kill -TERM $pid; wait $pid; rc=$?
cat $log
[ $rc -eq 0 ] || { echo "exit status $rc on SIGTERM"; exit 1; }
ls -l /var/lib/tavolo/tavolo.db
[ "$(stat -c %U /var/lib/tavolo/tavolo.db)" = nobody ] || { echo "db not owned by the service user"; exit 1; }
'
unshare --net sh -c 'ip link set lo up && exec chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c "$2"' \
    sh "$root" "$check" >&2 || fail "the ExecStart line did not serve as expected (log above)"
ok=1
