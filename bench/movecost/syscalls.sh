#!/bin/sh
# System calls per move (docs/PERFORMANCE.md, "Cost of a move"): gameload
# plays MATCHES whole briscola matches with PLAYERS players as fast as
# they can against the server, then each system call's count (every
# thread) is divided by the moves. Two ways to count:
#   strace (default): `strace -f -c`, every system call; but strace slows
#     each call several times over, so the server runs at a few thousand
#     moves per second and its group commits are not those of a real run;
#   TOOL=perf: `perf stat` on the syscall tracepoints of the calls a move
#     makes, attached to the running server: nearly free, so the commits
#     group as they do without it.
# Extra server options (e.g. --durability power) go in EXTRA.
#   [TOOL=perf] bench/movecost/syscalls.sh [BUILD_DIR] [MATCHES] [PLAYERS] [OUT_DIR]
set -eu
B=${1:-build}
M=${2:-300}
N=${3:-100}
OUT=${4:-/tmp/syscalls}
EXTRA=${EXTRA:-}
TOOL=${TOOL:-strace}
CALLS="write read pwrite64 fcntl epoll_ctl epoll_wait futex newfstatat clock_nanosleep writev"
rm -rf "$OUT" && mkdir -p "$OUT/data"
SRV_ARGS="--port 0 --bind 127.0.0.1 --data $OUT/data --rate 1000000000 --burst 1000000000
    --max-per-ip 100000 --conn-rate 0 --max-waiting-per-ip 0 --admin-port 0 --log-level warn"
if [ "$TOOL" = strace ]; then
    # shellcheck disable=SC2086
    strace -f -c -o "$OUT/strace.txt" "$B/tavolo" $SRV_ARGS $EXTRA 2>"$OUT/server.err" &
else
    # shellcheck disable=SC2086
    "$B/tavolo" $SRV_ARGS $EXTRA 2>"$OUT/server.err" &
fi
PID=$!
PORT=
for _ in $(seq 1 200); do
    PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$OUT/server.err" 2>/dev/null)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "server did not start"; kill "$PID"; exit 1; }
# The server itself: strace's child, or the process started above.
SRV=$PID
[ "$TOOL" = strace ] && SRV=$(pgrep -P "$PID")
if [ "$TOOL" = perf ]; then
    EVENTS=$(for c in $CALLS; do printf 'syscalls:sys_enter_%s,' "$c"; done)
    perf stat -x, -o "$OUT/perf.txt" -e "${EVENTS}raw_syscalls:sys_enter" -p "$SRV" &
    PERF=$!
    sleep 0.5
fi
"$B/bench/gameload/gameload" -p "$PORT" -n "$N" -g briscola:2 \
    -m "$M" -d 600 --seed 1 -q >"$OUT/load.txt" || true
# The commits (how many moves each group commit held decides the
# writer's calls per move): the admin port's metrics.
URL=$(sed -n 's/^admin (metrics) on \(http:[^ ]*\)$/\1/p' "$OUT/server.err")
COMMITS=$(python3 -c 'import sys, urllib.request
for l in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines():
    if l.startswith("tavolo_store_commits_total "): print(l.split()[1])' "$URL" || echo 0)
if [ "$TOOL" = perf ]; then
    kill -INT "$PERF"
    wait "$PERF" || true
fi
kill -TERM "$SRV" 2>/dev/null || true
wait "$PID" || true
MOVES=$(sed -n 's/.*moves=\([0-9]*\).*/\1/p' "$OUT/load.txt" | tail -1)
echo "moves $MOVES commits $COMMITS ($(awk -v m="$MOVES" -v c="$COMMITS" 'BEGIN { printf "%.1f", m / c }') moves a commit), $(sed -n 's/.*\(moves_per_s=[0-9.]*\).*/\1/p' "$OUT/load.txt")"
if [ "$TOOL" = perf ]; then
    # perf stat -x,: "count,,event,..."
    awk -F, -v m="$MOVES" '$3 ~ /sys_enter/ {
            name = $3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "total"
            printf "%-16s %8d calls        %6.2f per move\n", name, $1, $1 / m
        }' "$OUT/perf.txt" | sort -k4 -g -r
    exit 0
fi
# strace -c: "% time seconds usecs/call calls errors syscall"
awk -v m="$MOVES" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
        name = $NF; calls = $4; err = (NF == 6) ? $5 : 0
        printf "%-16s %8d calls %6d errors %6.2f per move\n", name, calls, err, calls / m
    }
    $NF == "total" { total = $4 }
    END { printf "%-16s %8d calls %6s        %6.2f per move\n", "total", total, "", total / m }' \
    "$OUT/strace.txt" | sort -k6 -g -r | awk '$6 + 0 >= 0.005 || $1 == "total"'
