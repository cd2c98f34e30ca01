#!/usr/bin/env bash
# fresh-check: do the README's two commands work on a fresh Debian 12?
#
#   sudo scripts/fresh-check.sh > /tmp/fresh-check.log 2>&1
#
# Builds a minimal Debian 12 (bookworm) root with mmdebstrap (variant
# minbase, plus `make` and nothing else) in a temporary directory, copies
# the committed tree into it (`git archive HEAD`: what a clone gets, not the
# work tree's uncommitted edits or build dirs), and in a chroot runs
#   1. `make run` in the background, until 127.0.0.1:7777 answers: a client
#      must get `HELLO ...` and `OK PING` to `PING`; then the server is
#      stopped by its PID (SIGTERM) and must exit;
#   2. `make test`, which must exit 0.
# The last line of the output is `fresh-check: PASS ...` or
# `fresh-check: FAIL: <reason>`; the exit status agrees (0 / 1).
#
# The chroot gets the host's apt sources, apt proxy/auth configuration, CA
# store and npm configuration, so that it reaches the same mirrors as the
# host (this machine has no other way out). Nothing else of the host: no
# compiler, no Python, no Node. The chroot shares the host's network, so the
# server's port 7777 must be free on the host (checked first).
#
# Not part of `make test` (it needs root and takes many minutes: it
# downloads and installs everything a fresh machine would). Environment:
#   FRESH_KEEP=1     keep the temporary root afterwards (for a post mortem)
#   FRESH_TMP=DIR    where to make the temporary root (default /var/tmp)
#   FRESH_RUN_WAIT=S seconds `make run` may take to serve (default 1800)
set -euo pipefail
# shellcheck source=scripts/host-apt.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/host-apt.sh"

SUITE=bookworm
PORT=7777                # the README's `make run` port; not configurable on purpose
RUN_WAIT=${FRESH_RUN_WAIT:-1800}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)

reason=""
verdict_ok=0
tmp=""
root=""
mounts=()                # mount points in the chroot, in mount order

say() { echo "fresh-check: $*" >&2; }
fail() { reason=$1; exit 1; }

# Unmount in reverse order. Lazy (-l) so a straggler holding a file open
# cannot keep the host's /dev or /sys bound into a directory about to be
# removed; rm -rf below runs only when nothing is mounted under the root.
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -R -l "${mounts[i]}" 2>/dev/null || say "could not unmount ${mounts[i]}"
    done
    mounts=()
    if [ -n "$tmp" ] && [ -d "$tmp" ]; then
        if [ "${FRESH_KEEP:-0}" = 1 ]; then
            say "kept $root"
        elif findmnt -rn -o TARGET | grep -q -F "$tmp/"; then
            say "something is still mounted under $tmp: not removing it"
        else
            rm -rf --one-file-system "$tmp"
        fi
    fi
}

finish() {
    local rc=$?
    trap - EXIT ERR
    cleanup
    if [ "$rc" -eq 0 ] && [ "$verdict_ok" = 1 ]; then
        echo "fresh-check: PASS (Debian $SUITE minbase + make: make run answered HELLO and OK PING on 127.0.0.1:$PORT and stopped on SIGTERM; make test exited 0)"
    else
        echo "fresh-check: FAIL: ${reason:-exit status $rc}"
        [ "$rc" -ne 0 ] || rc=1
    fi
    exit "$rc"
}
# ERR: a command that failed without a fail() of its own still gets named.
trap 'rc=$?; [ -n "$reason" ] || reason="line $LINENO: \`$BASH_COMMAND\` exited $rc"' ERR
trap finish EXIT
trap 'reason="interrupted"; exit 1' INT TERM HUP

[ "$(id -u)" -eq 0 ] || fail "must run as root (mmdebstrap, chroot and mounts need it)"
command -v git >/dev/null || fail "git not found"

# Port check first: the chroot shares the host's network namespace, so a
# listener already on 7777 would answer for us (or make ours fail to bind).
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    fail "port $PORT on the host is already in use: the check would talk to that server"
fi

if ! command -v mmdebstrap >/dev/null; then
    say "installing mmdebstrap (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || fail "apt-get update failed on the host"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap \
        >/dev/null || fail "could not install mmdebstrap on the host"
fi

tmp=$(mktemp -d "${FRESH_TMP:-/var/tmp}/tavolo-fresh.XXXXXX")
root=$tmp/root
say "root in $root"

# --- apt: the host's sources and its proxy/auth settings -------------------
# mmdebstrap takes the host's sources files as its MIRROR arguments
# (scripts/host-apt.sh).
host_apt_settings || fail "the host has no apt sources to give the chroot"

say "mmdebstrap $SUITE minbase + make (${#sources[@]} sources file(s) from the host)"
nice mmdebstrap --variant=minbase --include=make --mode=root \
    ${aptopts[@]+"${aptopts[@]}"} --setup-hook="$setup_hook" \
    "$SUITE" "$root" "${sources[@]}" \
    || fail "mmdebstrap could not build the $SUITE root"

host_apt_keyrings "$root"

# --- CA store, DNS, npm configuration ------------------------------------
# The host's CA bundle as a file (it may hold a local CA that the mirrors'
# TLS needs), and its local CAs, so that ca-certificates' postinst (when
# apt installs it later in the chroot) rebuilds a bundle that keeps them.
mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
[ ! -e /etc/ssl/certs/ca-certificates.crt ] \
    || cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
[ ! -d /usr/local/share/ca-certificates ] \
    || cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
[ ! -f /etc/hosts ] || cp -L /etc/hosts "$root/etc/hosts"
# npm: the user config (~/.npmrc, as root in the chroot) and the global
# ones, each at its own path; the host's npm may use a different prefix
# than Debian's, so its globalconfig path is copied too. Never printed
# (they may hold registry tokens).
npmrcs=(/etc/npmrc /usr/etc/npmrc /usr/local/etc/npmrc)
if command -v npm >/dev/null; then
    g=$(npm config get globalconfig 2>/dev/null || true)
    if [ -n "$g" ]; then npmrcs+=("$g"); fi
fi
for f in "${npmrcs[@]}"; do
    if [ -f "$f" ]; then
        mkdir -p "$root$(dirname "$f")"
        cp -L "$f" "$root$f"
    fi
done
[ ! -f "${HOME:-/root}/.npmrc" ] || cp -L "${HOME:-/root}/.npmrc" "$root/root/.npmrc"
# Environment the registries are reached with: proxies, npm_config_*, the
# extra CA file for Node (copied in at the same path). Names only in the log.
passenv=()
while IFS= read -r -d '' kv; do
    name=${kv%%=*}
    case $name in
    http_proxy|https_proxy|no_proxy|HTTP_PROXY|HTTPS_PROXY|NO_PROXY|npm_config_*|NPM_CONFIG_*|NODE_EXTRA_CA_CERTS)
        passenv+=("$kv"); say "passing \$$name" ;;
    esac
done < <(env -0)
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    mkdir -p "$root$(dirname "$NODE_EXTRA_CA_CERTS")"
    cp -L "$NODE_EXTRA_CA_CERTS" "$root$NODE_EXTRA_CA_CERTS"
fi

# --- the committed tree ------------------------------------------------------
mkdir -p "$root/src/tavolo"
git -C "$repo" archive HEAD | tar -x -C "$root/src/tavolo" \
    || fail "git archive HEAD failed"
say "tree: $(git -C "$repo" rev-parse --short HEAD) ($(git -C "$repo" log -1 --format=%s | cut -c1-60))"

# --- mounts ------------------------------------------------------------------
# /proc (nproc, ps-like lookups), /sys and /dev (Chromium), and a private
# tmpfs on /dev/shm (Chromium's shared memory; the host's is not shared).
# rslave: an unmount inside never propagates back to the host.
# Each is recorded before the next is tried, so cleanup undoes exactly
# what was done.
mount -t proc proc "$root/proc" || fail "could not mount /proc in the chroot"
mounts+=("$root/proc")
mount --rbind /sys "$root/sys" || fail "could not bind /sys into the chroot"
mounts+=("$root/sys")
mount --make-rslave "$root/sys" || fail "could not make the chroot's /sys a slave mount"
mount --rbind /dev "$root/dev" || fail "could not bind /dev into the chroot"
mounts+=("$root/dev")
mount --make-rslave "$root/dev" || fail "could not make the chroot's /dev a slave mount"
mkdir -p "$root/dev/shm"
mount -t tmpfs -o mode=1777,size=1g shm "$root/dev/shm" || fail "could not mount /dev/shm in the chroot"
mounts+=("$root/dev/shm")

# --- inside: the README's two commands --------------------------------------
# Written to a file and run with bash inside: python3 does not exist there
# before `make test` installs it, so the client is bash's /dev/tcp.
cat > "$root/src/fresh-inner.sh" <<'INNER'
#!/bin/bash
set -euo pipefail
PORT=$1 RUN_WAIT=$2
cd /src/tavolo
echo "inner: $(. /etc/os-release && echo "$PRETTY_NAME"); make: $(command -v make)"
for t in gcc cmake pkg-config python3 node npm chromium clang; do
    if command -v "$t" >/dev/null; then echo "inner: $t is already here: not a fresh machine"; exit 3; fi
done

# 1. make run, in its own session so that every process it starts can be
# found and stopped.
setsid make run > /src/make-run.log 2>&1 &
make_pid=$!
stop_group() { kill -TERM -- "-$make_pid" 2>/dev/null || true; }
trap stop_group EXIT

# Wait for the port while make is alive (a fresh `make run` first installs
# packages and compiles).
waited=0
until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    if ! kill -0 "$make_pid" 2>/dev/null; then
        echo "inner: make run exited before serving; its log:"; tail -n 40 /src/make-run.log
        exit 10
    fi
    [ "$waited" -lt "$RUN_WAIT" ] || { echo "inner: no listener on $PORT after ${RUN_WAIT}s"; tail -n 40 /src/make-run.log; exit 11; }
    sleep 2; waited=$((waited + 2))
done
echo "inner: port $PORT open after ~${waited}s"

# The server's PID: the process named tavolo in make's session (setsid
# made make the session leader; make runs the recipe's command directly or
# through sh). /proc, since procps (pgrep) is not in minbase.
srv_pid=""
for s in /proc/[0-9]*/stat; do
    read -r pid comm _ _ _ sid _ < "$s" 2>/dev/null || continue
    if [ "$comm" = "(tavolo)" ] && [ "$sid" = "$make_pid" ]; then srv_pid=$pid; fi
done
[ -n "$srv_pid" ] || { echo "inner: no tavolo process under make (pid $make_pid)"; exit 12; }
echo "inner: server pid $srv_pid"

exec 3<>"/dev/tcp/127.0.0.1/$PORT"
IFS= read -r -t 10 hello <&3 || { echo "inner: no line from the server"; exit 13; }
hello=${hello%$'\r'}
echo "inner: < $hello"
[[ $hello == "HELLO "* ]] || { echo "inner: expected HELLO, got: $hello"; exit 13; }
printf 'PING fresh\r\n' >&3
echo "inner: > PING fresh"
IFS= read -r -t 10 pong <&3 || { echo "inner: no reply to PING"; exit 14; }
pong=${pong%$'\r'}
echo "inner: < $pong"
[ "$pong" = "OK PING fresh" ] || { echo "inner: expected 'OK PING fresh', got: $pong"; exit 14; }
exec 3<&- 3>&-

# Stop it by its PID; OPERATIONS.md promises an exit within 2 s.
kill -TERM "$srv_pid"
for _ in $(seq 1 50); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$srv_pid" 2>/dev/null; then echo "inner: server still running 5 s after SIGTERM"; exit 15; fi
wait "$make_pid" 2>/dev/null || true   # make reports the recipe's end; not ours to judge
trap - EXIT
echo "inner: server stopped; what make run installed, and its last lines:"
grep '^deps:' /src/make-run.log || echo "(make run installed nothing?)"
tail -n 5 /src/make-run.log

# 2. make test, its output straight into the log.
echo "inner: make test"
rc=0; make test || rc=$?
# What the tests ran with (Debian 12's Node is 18: play.mjs must work on it).
echo "inner: node $(node --version), npm $(npm --version), $(chromium --version 2>/dev/null | head -n 1)," \
     "playwright-core $(sed -n 's/^ *"version": *"\(.*\)".*/\1/p' tests/browser/node_modules/playwright-core/package.json | head -n 1)"
echo "inner: make test exit $rc"
[ "$rc" -eq 0 ] || exit 20
INNER
chmod +x "$root/src/fresh-inner.sh"

say "chroot: make run, then make test"
set +e
nice chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb ${passenv[@]+"${passenv[@]}"} \
    /bin/bash /src/fresh-inner.sh "$PORT" "$RUN_WAIT"
inner=$?
set -e
case $inner in
0)  verdict_ok=1 ;;
3)  fail "the chroot was not fresh (a build or test tool was already there)" ;;
10) fail "make run exited before serving (see make run's log above)" ;;
11) fail "make run did not serve on 127.0.0.1:$PORT within ${RUN_WAIT}s" ;;
12) fail "port $PORT answered but no tavolo process was found under make run" ;;
13) fail "a client on 127.0.0.1:$PORT did not get HELLO" ;;
14) fail "PING on 127.0.0.1:$PORT did not get OK PING" ;;
15) fail "the server did not exit on SIGTERM" ;;
20) fail "make test failed (see its summary above)" ;;
*)  fail "the chroot run ended with status $inner" ;;
esac
