#!/bin/sh
# System calls per move (docs/PERFORMANCE.md, "Cost of a move"): the
# server under `strace -f -c` (every thread), gameload playing MATCHES
# whole briscola matches with PLAYERS players as fast as they can, then
# each system call's count divided by the moves. Extra server options
# (e.g. --durability power) go in EXTRA.
#   bench/movecost/syscalls.sh [BUILD_DIR] [MATCHES] [PLAYERS] [OUT_DIR]
set -eu
B=${1:-build}
M=${2:-300}
N=${3:-100}
OUT=${4:-/tmp/syscalls}
EXTRA=${EXTRA:-}
rm -rf "$OUT" && mkdir -p "$OUT/data"
# shellcheck disable=SC2086
strace -f -c -o "$OUT/strace.txt" \
    "$B/tavolo" --port 0 --bind 127.0.0.1 --data "$OUT/data" \
    --rate 1000000000 --burst 1000000000 --max-per-ip 100000 \
    --conn-rate 0 --max-waiting-per-ip 0 --admin-port 0 $EXTRA 2>"$OUT/server.err" &
PID=$!
PORT=
for _ in $(seq 1 200); do
    PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$OUT/server.err" 2>/dev/null)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "server did not start"; kill "$PID"; exit 1; }
"$B/bench/gameload/gameload" -p "$PORT" -n "$N" -g briscola:2 \
    -m "$M" -d 600 --seed 1 -q >"$OUT/load.txt" || true
# The commits (how many moves each group commit held decides the
# writer's calls per move): the admin port's metrics.
URL=$(sed -n 's/^admin (metrics) on \(http:[^ ]*\)$/\1/p' "$OUT/server.err")
COMMITS=$(python3 -c 'import sys, urllib.request
for l in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines():
    if l.startswith("tavolo_store_commits_total "): print(l.split()[1])' "$URL" || echo 0)
# SIGTERM to the server (strace's child), not to strace: strace exits
# with it and writes its table.
SRV=$(pgrep -P "$PID" || true)
[ -n "$SRV" ] && kill -TERM "$SRV" 2>/dev/null
wait "$PID" || true
MOVES=$(sed -n 's/.*moves=\([0-9]*\).*/\1/p' "$OUT/load.txt" | tail -1)
echo "moves $MOVES commits $COMMITS"
# strace -c: "% time seconds usecs/call calls errors syscall"
awk -v m="$MOVES" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
        name = $NF; calls = $4; err = (NF == 6) ? $5 : 0
        printf "%-16s %8d calls %6d errors %6.2f per move\n", name, calls, err, calls / m
    }
    $NF == "total" { total = $4 }
    END { printf "%-16s %8d calls %6s        %6.2f per move\n", "total", total, "", total / m }' \
    "$OUT/strace.txt" | sort -k6 -g -r | awk '$6 + 0 >= 0.005 || $1 == "total"'

