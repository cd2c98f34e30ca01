#!/usr/bin/env bash
# deb-boot-check: does `apt install ./tavolo_*.deb` give a running service
# on a fresh Debian 12, under a real booted systemd?
#
#   sudo scripts/deb-boot-check.sh [tavolo_VERSION_ARCH.deb] > /tmp/deb-check.log 2>&1
#   tail -n 1 /tmp/deb-check.log
#
# 1. The package: the argument, or `make deb` (build-deb/tavolo_*.deb).
# 2. A fresh Debian 12 (bookworm) root with mmdebstrap: variant minbase plus
#    what a booted machine needs (systemd as init, udev, dbus, the kernel
#    linux-image-amd64 and its initramfs) and nothing of tavolo's: not one
#    of its libraries, not procps. The host's apt sources and Acquire
#    settings go in, so the guest reaches the same mirrors as the host.
#    systemd-networkd takes an address from qemu's user network (DHCP);
#    the guest resolves names with qemu's DNS forwarder (10.0.2.3).
# 3. The root becomes an ext4 image (mkfs.ext4 -d); qemu boots the guest's
#    own kernel and initramfs directly (-kernel/-initrd, root=/dev/vda,
#    virtio), with KVM if /dev/kvm opens and TCG (slower, a longer
#    timeout) if not. The serial console goes to a log file.
# 4. In the guest a oneshot unit (after network-online.target) runs the
#    checks with systemd as PID 1 (the `inner` script below): apt-get update
#    and `apt install ./tavolo_*.deb` from the Debian mirror over qemu's
#    user network; the service active (Type=notify); HELLO and PING on
#    127.0.0.1:7777; the database under /var/lib/tavolo (StateDirectory),
#    owned by the service's dynamic user; reload (SIGHUP) keeps the PID;
#    SIGUSR2 through systemctl with a client connected: the client goes on,
#    MainPID moves to the new process, the service stays active; kill -9 of
#    the main process: Restart=on-failure brings it back; a clean stop;
#    socket activation (tavolo.socket, a connection starts the service);
#    `systemd-analyze security tavolo`. It writes one line
#    `DEB-CHECK-RESULT: PASS|FAIL ...` to the console and powers off.
# The last line of the output is `deb-boot-check: PASS (...)` or
# `deb-boot-check: FAIL (<what>)`; the exit status agrees (0 / 1).
#
# Not part of `make test`: it needs root, downloads a Debian system and
# takes minutes (docs/OPERATIONS.md, "Checking the package on a booted
# Debian 12"). Environment:
#   DEBCHECK_TIMEOUT=S  the whole run, build and debootstrap included
#                       (default 2400; 5400 with TCG)
#   DEBCHECK_VM_TIMEOUT=S  the guest, from qemu's start to its power-off
#                       (default 900 with KVM, 3600 with TCG)
#   DEBCHECK_ACCEL=kvm|tcg  force one (default: kvm if /dev/kvm opens)
#   DEBCHECK_KEEP=1     keep the temporary directory (image, serial log)
#   DEBCHECK_TMP=DIR    where to make it (default /var/tmp)
set -euo pipefail
# shellcheck source=scripts/host-apt.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/host-apt.sh"

SUITE=bookworm
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

reason=""
verdict=""
tmp=""
qemu_pid=""
child_pid=""
watch_pid=""
t_start=$(date +%s)

say() { echo "deb-boot-check: $*" >&2; }
fail() { reason=$1; exit 1; }

cleanup() {
    # Our own processes only, by the PIDs we recorded.
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill -TERM "$qemu_pid" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$qemu_pid" 2>/dev/null || true
    fi
    if [ -n "$child_pid" ] && kill -0 "$child_pid" 2>/dev/null; then
        # started with setsid: its process group is its own
        kill -TERM -- "-$child_pid" 2>/dev/null || kill -TERM "$child_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$child_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || true; fi
    if [ -n "$tmp" ] && [ -d "$tmp" ]; then
        if [ "${DEBCHECK_KEEP:-0}" = 1 ]; then
            say "kept $tmp"
        elif findmnt -rn -o TARGET | grep -q -F "$tmp/"; then
            say "something is still mounted under $tmp: not removing it"
        else
            rm -rf --one-file-system "$tmp"
        fi
    fi
}

finish() {
    local rc=$?
    trap - EXIT ERR INT TERM HUP
    cleanup
    if [ "$rc" -eq 0 ] && [ -n "$verdict" ]; then
        echo "deb-boot-check: PASS ($verdict)"
    else
        echo "deb-boot-check: FAIL (${reason:-exit status $rc})"
        [ "$rc" -ne 0 ] || rc=1
    fi
    exit "$rc"
}
trap 'rc=$?; [ -n "$reason" ] || reason="line $LINENO: \`$BASH_COMMAND\` exited $rc"' ERR
trap finish EXIT
trap '[ -n "$reason" ] || reason="interrupted"; exit 1' INT HUP
trap '[ -n "$reason" ] || reason="overall timeout (${overall}s) reached"; exit 1' TERM

# A long step runs in the background in its own session, so that the
# timeout's SIGTERM interrupts `wait` at once and cleanup can stop it.
run() {
    setsid "$@" &
    child_pid=$!
    local rc=0
    wait "$child_pid" || rc=$?
    child_pid=""
    return "$rc"
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (mmdebstrap and the image's file ownership need it)"
[ $# -le 1 ] || fail "usage: $0 [tavolo_VERSION_ARCH.deb]"

# --- accelerator and timeouts -----------------------------------------------
accel=${DEBCHECK_ACCEL:-}
if [ -z "$accel" ]; then
    if [ -c /dev/kvm ] && (exec 9<>/dev/kvm) 2>/dev/null; then accel=kvm; else accel=tcg; fi
fi
case $accel in
kvm) overall=${DEBCHECK_TIMEOUT:-2400}; vm_timeout=${DEBCHECK_VM_TIMEOUT:-900} ;;
tcg) overall=${DEBCHECK_TIMEOUT:-5400}; vm_timeout=${DEBCHECK_VM_TIMEOUT:-3600} ;;
*)   fail "DEBCHECK_ACCEL must be kvm or tcg, not $accel" ;;
esac
( sleep "$overall"; kill -TERM $$ 2>/dev/null ) &
watch_pid=$!
say "accelerator $accel; overall timeout ${overall}s, guest ${vm_timeout}s"

# --- host tools ----------------------------------------------------------------
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
if [ ${#need[@]} -gt 0 ]; then
    say "installing on the host (apt): ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || fail "apt-get update failed on the host"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
        >/dev/null || fail "could not install ${need[*]} on the host"
fi

# --- the package -----------------------------------------------------------------
if [ $# -eq 1 ]; then
    deb=$(realpath -e "$1" 2>/dev/null) || fail "no such file: $1"
else
    say "make deb"
    run make -C "$repo" deb >&2 || fail "make deb failed"
    debs=("$repo"/build-deb/tavolo_*.deb)
    [ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "make deb did not leave exactly one build-deb/tavolo_*.deb"
    deb=${debs[0]}
fi
dpkg-deb --field "$deb" Package 2>/dev/null | grep -qx tavolo || fail "$deb is not a tavolo package"
deb_version=$(dpkg-deb --field "$deb" Version)
say "package $(basename "$deb") (version $deb_version)"

tmp=$(mktemp -d "${DEBCHECK_TMP:-/var/tmp}/tavolo-debcheck.XXXXXX")
root=$tmp/root
guest=$tmp/guest         # files for the guest, copied into the root by the customize hook
say "work directory $tmp"

# --- the guest's root ----------------------------------------------------------
# Sources and Acquire settings as in scripts/fresh-check.sh: mmdebstrap
# copies the sources into the root, and the --aptopt files too.
host_apt_settings || fail "the host has no apt sources to give the guest"

# The boot: a DHCP network on the first ethernet, qemu's DNS, the root
# file system, the check unit enabled, the serial getty off (the console
# is the check's), a hostname. Single quotes: mmdebstrap's sh expands $1.
# shellcheck disable=SC2016
customize_hook='set -e
cp -a "'"$tmp/guest"'/." "$1/"
mkdir -p "$1/etc/systemd/network"
printf "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n" > "$1/etc/systemd/network/80-qemu.network"
rm -f "$1/etc/resolv.conf"; echo "nameserver 10.0.2.3" > "$1/etc/resolv.conf"
echo "/dev/vda / ext4 defaults 0 1" > "$1/etc/fstab"
echo debcheck > "$1/etc/hostname"
printf "127.0.0.1 localhost\n127.0.1.1 debcheck\n::1 localhost\n" > "$1/etc/hosts"
chroot "$1" systemctl enable systemd-networkd.service systemd-networkd-wait-online.service deb-check.service
chroot "$1" systemctl mask serial-getty@ttyS0.service getty@tty1.service
: > "$1/etc/machine-id"'

mkdir -p "$guest/etc/systemd/system" "$guest/root/deb-check"
# under its canonical name, whatever the file given was called
cp "$deb" "$guest/root/deb-check/tavolo_${deb_version}_$(dpkg-deb --field "$deb" Architecture).deb"
cat > "$guest/etc/systemd/system/deb-check.service" <<'UNIT'
[Unit]
Description=deb-boot-check: install tavolo's package and check the service
Wants=network-online.target
After=network-online.target multi-user.target

[Service]
# simple, not oneshot: the boot is finished (systemd-analyze time) while
# the check runs
Type=simple
ExecStart=/bin/bash /root/deb-check/inner.sh
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
UNIT

# ---------------------------------------------------------------- the guest
cat > "$guest/root/deb-check/inner.sh" <<'INNER'
#!/bin/bash
# Runs in the booted guest as root, systemd as PID 1. Every line starts with
# "inner:"; the last one is DEB-CHECK-RESULT. Clients are bash's /dev/tcp.
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
PORT=7777
step="start"
figures=""
say() { echo "inner: $*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
result() {
    echo "DEB-CHECK-RESULT: $1"
    sync
    systemctl poweroff --no-block
    exit 0
}
die() {
    say "FAILED at: $step: $*"
    say "--- systemctl status tavolo tavolo.socket"
    systemctl --no-pager status tavolo.service tavolo.socket 2>&1 | sed 's/^/inner:   /' | tail -n 40
    say "--- journal of tavolo"
    journalctl --no-pager -o short-monotonic -u tavolo.service -u tavolo.socket 2>&1 | sed 's/^/inner:   /' | tail -n 60
    result "FAIL $step: $*"
}
mainpid() { systemctl show -p MainPID --value tavolo.service; }
prop() { systemctl show -p "$1" --value "$2"; }
# until TIMEOUT_S CMD...: poll CMD every 0.1 s.
until_ok() {
    local t=$1; shift
    local n=$((t * 10))
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}
# hello FD: connect FD to the port and read HELLO.
hello() {
    local fd=$1 line
    eval "exec $fd<>/dev/tcp/127.0.0.1/$PORT" || return 1
    IFS= read -r -t 10 line <&"$fd" || { say "no HELLO on fd $fd"; return 1; }
    line=${line%$'\r'}
    [[ $line == "HELLO "* ]] || { say "expected HELLO, got: $line"; return 1; }
    say "< $line"
}
# ping FD WORD: PING WORD on FD must get exactly OK PING WORD.
ping() {
    local fd=$1 word=$2 line
    printf 'PING %s\r\n' "$word" >&"$fd" || { say "cannot write on fd $fd"; return 1; }
    IFS= read -r -t 10 line <&"$fd" || { say "no reply to PING $word"; return 1; }
    line=${line%$'\r'}
    [ "$line" = "OK PING $word" ] || { say "PING $word got: $line"; return 1; }
    say "PING $word -> $line"
}
# nick FD NAME: a name, so that --nick-timeout-ms (30 s) does not close a
# client kept open across a slow step.
nick() {
    local fd=$1 name=$2 line
    printf 'NICK %s\r\n' "$name" >&"$fd" || return 1
    IFS= read -r -t 10 line <&"$fd" || { say "no reply to NICK $name"; return 1; }
    line=${line%$'\r'}
    [[ $line == "OK NICK $name "* ]] || { say "NICK $name got: $line"; return 1; }
    say "NICK $name -> OK NICK $name ..."
}
close() { eval "exec $1<&- $1>&-"; }
# A fresh client: HELLO, PING, close.
probe() { hello 3 && ping 3 "$1" && close 3; }
active() { [ "$(systemctl is-active "$1")" = active ]; }
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

read -r up _ < /proc/uptime
say "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), PID 1: $(cat /proc/1/comm), uptime ${up}s"
[ "$(cat /proc/1/comm)" = systemd ] || die "PID 1 is not systemd"
figures="boot ${up}s"
boot_state=$(timeout 120 systemctl is-system-running --wait 2>/dev/null)
say "system state: $boot_state"
[ "$boot_state" = running ] || systemctl --no-pager --failed 2>&1 | sed 's/^/inner:   /'
sa=$(systemd-analyze time 2>/dev/null | head -n 1)
say "systemd-analyze time: $sa"
for p in tavolo libuv1 libsodium23 procps; do
    if dpkg -s "$p" >/dev/null 2>&1; then die "$p is already installed: not a fresh system"; fi
done

step="apt-get update"
t0=$(now)
apt-get update -q 2>&1 | sed 's/^/inner:   /' | tail -n 8
[ "${PIPESTATUS[0]}" -eq 0 ] || die "apt-get update failed"
t1=$(now)
step="apt install ./tavolo_*.deb"
cd /root/deb-check || die "no /root/deb-check"
apt-get install -y ./tavolo_*.deb > /root/deb-check/apt.log 2>&1
rc=$?
t2=$(now)
grep -E '^(The following NEW|  |Setting up|Created symlink)' /root/deb-check/apt.log | sed 's/^/inner:   /' | head -n 40
[ "$rc" -eq 0 ] || { tail -n 30 /root/deb-check/apt.log | sed 's/^/inner:   /'; die "apt install exited $rc"; }
new=$(grep -c '^Setting up' /root/deb-check/apt.log)
say "apt-get update $(secs "$t0" "$t1") s; apt install $(secs "$t1" "$t2") s ($new packages set up)"
figures="$figures, apt-get update $(secs "$t0" "$t1")s, apt install $(secs "$t1" "$t2")s ($new packages)"

step="service active after install"
enabled=$(systemctl is-enabled tavolo.service)
[ "$enabled" = enabled ] || die "tavolo.service is $enabled after install, not enabled"
until_ok 20 active tavolo.service || die "tavolo.service is $(systemctl is-active tavolo.service)"
[ "$(prop Type tavolo.service)" = notify ] || die "Type is $(prop Type tavolo.service)"
[ "$(systemctl is-enabled tavolo.socket)" = disabled ] || die "tavolo.socket is $(systemctl is-enabled tavolo.socket) after install"
pid=$(mainpid)
[ "$pid" -gt 0 ] || die "no MainPID"
say "tavolo.service active (enabled, Type=notify), MainPID $pid, status: $(prop StatusText tavolo.service)"
[ "$(prop StatusText tavolo.service)" = serving ] || die "status text is not serving"

step="HELLO and PING on 127.0.0.1:$PORT"
probe one || die "the port does not answer"

step="state directory"
[ -L /var/lib/tavolo ] || die "/var/lib/tavolo is not the DynamicUser symlink"
db=/var/lib/tavolo/tavolo.db
until_ok 10 test -f "$db" || die "no $db"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
owner=$(stat -c %u "$db")
mode=$(stat -c %a "$(readlink -f /var/lib/tavolo)")
say "$db: $(readlink -f "$db"), owner uid $owner, directory mode $mode; service uid $uid ($(prop User tavolo.service))"
[ "$uid" = "$owner" ] || die "the database's owner $owner is not the service's uid $uid"
[ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ] || die "uid $uid is not a dynamic user"
[ "$mode" = 700 ] || die "state directory mode $mode, not 700"

step="reload (SIGHUP)"
systemctl reload tavolo.service || die "systemctl reload failed"
active tavolo.service || die "not active after reload"
[ "$(mainpid)" = "$pid" ] || die "MainPID moved from $pid to $(mainpid) on reload"
probe reloaded || die "no answer after reload"
say "reload: still active, same MainPID $pid"

step="package upgrade (apt reinstall) with a client connected"
# dpkg runs the upgrade path of the maintainer scripts (prerm upgrade,
# postinst configure OLD-VERSION): the running service must be left alone
# (no restart, which would drop every client); SIGUSR2 comes next.
hello 5 || die "no HELLO"
nick 5 kept || die "client before the reinstall"
ping 5 pre-reinstall || die "client before the reinstall"
apt-get install -y --reinstall ./tavolo_*.deb > /root/deb-check/reinstall.log 2>&1 \
    || { tail -n 20 /root/deb-check/reinstall.log | sed 's/^/inner:   /'; die "apt reinstall failed"; }
active tavolo.service || die "not active after the package upgrade"
[ "$(mainpid)" = "$pid" ] || die "the package upgrade restarted the service (MainPID $pid -> $(mainpid)): every client dropped"
ping 5 post-reinstall || die "the connected client was dropped by the package upgrade"
close 5
say "package upgrade: service not restarted (MainPID $pid), the connected client went on"

step="upgrade (SIGUSR2) with a client connected"
# Three upgrades in a row, one client connected throughout: the race
# between the old main process's exit and systemd learning the new
# MAINPID (fixed in app/sdnotify.c) lost one run in two before the fix.
hello 4 || die "upgrade client: no HELLO"
nick 4 across || die "upgrade client"
ping 4 before || die "upgrade client"
kw=--kill-whom; systemctl --help 2>/dev/null | grep -q -- --kill-whom || kw=--kill-who
up_times=""
for round in 1 2 3; do
    old=$pid
    tu=$(now)
    systemctl kill -s USR2 "$kw=main" tavolo.service || die "systemctl kill -s USR2 failed"
    until_ok 30 bash -c '[ "$(systemctl show -p MainPID --value tavolo.service)" != '"$old"' ]' \
        || die "MainPID still $old 30 s after SIGUSR2 (round $round)"
    new=$(mainpid)
    until_ok 30 pid_gone "$old" || die "the old process $old is still running (round $round)"
    tu2=$(now)
    # systemd must not count the old main process's exit as the service's end
    for _ in $(seq 1 20); do
        active tavolo.service || die "not active after the upgrade (round $round): $(systemctl is-active tavolo.service)"
        sleep 0.1
    done
    [ "$new" -gt 0 ] || die "no MainPID after the upgrade (round $round)"
    grep -q '/system.slice/tavolo.service' "/proc/$new/cgroup" || die "new main process $new is not in tavolo.service's cgroup"
    ping 4 "after$round" || die "the connected client does not work after upgrade $round"
    say "upgrade $round: MainPID $old -> $new in $(secs "$tu" "$tu2") s, service active, the connected client went on"
    up_times="$up_times${up_times:+/}$(secs "$tu" "$tu2")"
    pid=$new
done
close 4
probe upgraded || die "no answer to a new client after the upgrades"
journalctl --no-pager -u tavolo.service -o cat | grep -E 'upgrade\.(done|took_over)' | sed 's/^/inner:   /' | tail -n 2
figures="$figures, 3 upgrades ${up_times}s"

step="kill -9 (Restart=on-failure)"
restarts=$(prop NRestarts tavolo.service)
kill -9 "$pid" || die "kill -9 $pid failed"
until_ok 30 bash -c 'p=$(systemctl show -p MainPID --value tavolo.service); [ "$p" != 0 ] && [ "$p" != '"$pid"' ] && [ "$(systemctl is-active tavolo.service)" = active ]' \
    || die "not restarted 30 s after kill -9 (state $(systemctl is-active tavolo.service))"
[ "$(prop NRestarts tavolo.service)" -gt "$restarts" ] || die "NRestarts did not grow"
pid=$(mainpid)
probe restarted || die "no answer after the restart"
say "kill -9: restarted as $pid (NRestarts $(prop NRestarts tavolo.service))"

step="systemctl stop tavolo"
systemctl stop tavolo.service || die "systemctl stop failed"
st=$(systemctl is-active tavolo.service)
[ "$st" = inactive ] || die "state $st after stop"
pid_gone "$pid" || die "process $pid still running after stop"
res=$(prop Result tavolo.service); code=$(prop ExecMainCode tavolo.service); status=$(prop ExecMainStatus tavolo.service)
say "stop: inactive, Result=$res ExecMainCode=$code ExecMainStatus=$status"
[ "$res" = success ] && [ "$code" = 1 ] && [ "$status" = 0 ] || die "not a clean exit (Result=$res code=$code status=$status)"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then die "port $PORT still answers with the service stopped"; fi

step="socket activation"
systemctl enable --now tavolo.socket 2>&1 | sed 's/^/inner:   /' || die "enable --now tavolo.socket failed"
active tavolo.socket || die "tavolo.socket is $(systemctl is-active tavolo.socket)"
st=$(systemctl is-active tavolo.service)
[ "$st" = inactive ] || die "tavolo.service is $st before any connection"
ta=$(now)
probe activated || die "a connection to the socket got no service"
until_ok 10 active tavolo.service || die "tavolo.service not active after the connection"
pid=$(mainpid)
[ "$(prop TriggeredBy tavolo.service)" = tavolo.socket ] || die "TriggeredBy is $(prop TriggeredBy tavolo.service)"
tr '\0' '\n' < "/proc/$pid/environ" | grep -qx 'LISTEN_FDS=1' || die "the service was not given LISTEN_FDS=1"
say "socket activation: the first connection started tavolo.service (pid $pid) in $(secs "$ta" "$(now)") s"
systemctl stop tavolo.socket tavolo.service || die "stop of socket and service failed"
res=$(prop Result tavolo.service); status=$(prop ExecMainStatus tavolo.service)
[ "$res" = success ] && [ "$status" = 0 ] || die "socket-activated service did not stop cleanly (Result=$res status=$status)"
systemctl disable tavolo.socket 2>/dev/null
systemctl start tavolo.service || die "could not start the service again"
probe again || die "no answer after starting again"

step="journal"
# What systemd and the server said at warning level or worse: for the
# record (systemd warns, for example, when MAINPID names a process that
# is not its child).
journalctl --no-pager -o cat -p warning -u tavolo.service -u tavolo.socket 2>&1 \
    | sed 's/^/inner:   journal: /' | tail -n 20

step="systemd-analyze security"
sec=$(systemd-analyze security --no-pager tavolo.service 2>&1)
echo "$sec" | sed 's/^/inner:   /' | grep -E 'Overall exposure|✗' | tail -n 40
score=$(echo "$sec" | sed -n 's/.*Overall exposure level for tavolo.service: \([0-9.]*\) \(.*\)/\1 \2/p')
[ -n "$score" ] || die "no exposure score from systemd-analyze security"
score=$(echo "$score" | sed 's/[^A-Za-z0-9. ]//g; s/  */ /g; s/ $//')
say "systemd-analyze security: $score"
figures="$figures, systemd-analyze security $score"
systemctl stop tavolo.service || die "final stop failed"

result "PASS $figures"
INNER

say "mmdebstrap $SUITE minbase + systemd, udev, dbus, linux-image-amd64"
t_b0=$(date +%s)
run nice mmdebstrap --variant=minbase --mode=root \
    --include=systemd,systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,zstd \
    ${aptopts[@]+"${aptopts[@]}"} --setup-hook="$setup_hook" \
    --customize-hook="$customize_hook" \
    "$SUITE" "$root" "${sources[@]}" >&2 \
    || fail "mmdebstrap could not build the $SUITE root"
t_b1=$(date +%s)
kernel=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
initrd=$(ls "$root"/boot/initrd.img-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] && [ -n "$initrd" ] || fail "the root has no kernel or initramfs in /boot"
cp "$kernel" "$tmp/vmlinuz"; cp "$initrd" "$tmp/initrd.img"
say "root built in $((t_b1 - t_b0)) s: $(du -sh --one-file-system "$root" | cut -f1), kernel $(basename "$kernel")"

img=$tmp/root.img
run mkfs.ext4 -q -F -L debcheck -d "$root" "$img" 4G >&2 || fail "mkfs.ext4 -d could not make the image"
rm -rf --one-file-system "$root"

# --- boot ------------------------------------------------------------------------
serial=$tmp/serial.log
# The check's lines on the console (systemd prefixes them with the time
# and "bash[PID]: ").
guest_lines() { grep -a -o 'inner: .*' "$serial" | tr -d '\r'; }
# boot ACCEL: starts qemu in the background (qemu_pid), the console to
# $serial (emptied first).
boot() {
    local a=$1 args
    args=(-nodefaults -display none -no-reboot -m 1536 -smp 2
        -kernel "$tmp/vmlinuz" -initrd "$tmp/initrd.img"
        -append "root=/dev/vda rw console=ttyS0,115200 panic=-1 systemd.show_status=auto"
        -drive "file=$img,format=raw,if=virtio,cache=unsafe"
        -netdev user,id=n0 -device virtio-net-pci,netdev=n0
        -device virtio-rng-pci
        -serial "file:$serial")
    if [ "$a" = kvm ]; then args+=(-accel kvm -cpu host); else args+=(-accel tcg -cpu max); fi
    : > "$serial"
    qemu-system-x86_64 "${args[@]}" 2> "$tmp/qemu.err" &
    qemu_pid=$!
}
stop_qemu() {
    kill -TERM "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
}
say "booting (qemu, $accel), serial console in $serial"
t_q0=$(date +%s)
boot "$accel"
# KVM that opens is not always KVM that runs: nested under another
# hypervisor it can crawl (here: still in the kernel's decompressor after
# minutes). No kernel banner within DEBCHECK_KVM_PROBE seconds (default
# 60): KVM is unusable, boot again with TCG and its timeouts.
if [ "$accel" = kvm ] && [ -z "${DEBCHECK_ACCEL:-}" ]; then
    probe=${DEBCHECK_KVM_PROBE:-60}
    while kill -0 "$qemu_pid" 2>/dev/null && ! grep -a -q 'Linux version' "$serial" \
          && [ $(( $(date +%s) - t_q0 )) -lt "$probe" ]; do
        sleep 1
    done
    if ! grep -a -q 'Linux version' "$serial"; then
        say "KVM: no kernel banner on the console after $(( $(date +%s) - t_q0 ))s: unusable here; falling back to TCG"
        stop_qemu
        accel=tcg
        vm_timeout=${DEBCHECK_VM_TIMEOUT:-3600}
        extra=$(( 5400 - overall )); [ "$extra" -le 0 ] || { kill "$watch_pid" 2>/dev/null || true; overall=5400
            ( sleep "$(( overall - ($(date +%s) - t_start) ))"; kill -TERM $$ 2>/dev/null ) & watch_pid=$!; }
        t_q0=$(date +%s)
        boot tcg
    else
        say "KVM: kernel banner after $(( $(date +%s) - t_q0 ))s"
    fi
fi
while kill -0 "$qemu_pid" 2>/dev/null; do
    if [ $(( $(date +%s) - t_q0 )) -ge "$vm_timeout" ]; then
        say "the guest is still running after ${vm_timeout}s: stopping qemu (pid $qemu_pid)"
        guest_lines | tail -n 30 >&2 || true
        fail "guest timeout (${vm_timeout}s, $accel) at: $(guest_lines | tail -n 1 | cut -c1-120)"
    fi
    sleep 1
done
qrc=0; wait "$qemu_pid" || qrc=$?
qemu_pid=""
t_q1=$(date +%s)
[ ! -s "$tmp/qemu.err" ] || sed 's/^/qemu: /' "$tmp/qemu.err" >&2

guest_lines >&2 || true
line=$(grep -a -o 'DEB-CHECK-RESULT: .*' "$serial" | tail -n 1 | tr -d '\r' || true)
if [ -z "$line" ]; then
    say "no result line from the guest; the serial console's last lines:"
    tail -n 40 "$serial" | tr -d '\r' >&2
    fail "the guest powered off without a result (qemu exit $qrc)"
fi
case $line in
"DEB-CHECK-RESULT: PASS "*)
    verdict="Debian $SUITE booted with systemd under qemu/$accel: apt install ./$(basename "$deb") from the mirror, service active (Type=notify), HELLO/PING, DynamicUser state dir, reload, SIGUSR2 upgrade with a client kept, kill -9 restart, clean stop, socket activation; ${line#DEB-CHECK-RESULT: PASS }; guest ran $((t_q1 - t_q0))s, root built in $((t_b1 - t_b0))s, total $(( $(date +%s) - t_start ))s" ;;
*)  fail "guest: ${line#DEB-CHECK-RESULT: FAIL }" ;;
esac
