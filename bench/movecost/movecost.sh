#!/bin/sh
# Instructions per move (docs/PERFORMANCE.md, "Cost of a move"): the server
# under callgrind, gameload playing MATCHES whole briscola matches with
# PLAYERS players (and WATCHERS spectators per match with
# bench/movecost/watchers.py when WATCHERS > 0), then each thread's
# instruction count divided by the moves.
#   bench/movecost/movecost.sh [BUILD_DIR] [MATCHES] [PLAYERS] [OUT_DIR]
set -eu
B=${1:-build}
M=${2:-400}
N=${3:-100}
OUT=${4:-/tmp/movecost}
WATCHERS=${WATCHERS:-0}
rm -rf "$OUT" && mkdir -p "$OUT/data"
nice valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$OUT/cg.out" \
    "$B/tavolo" --port 0 --bind 127.0.0.1 --data "$OUT/data" \
    --rate 1000000000 --burst 1000000000 --max-per-ip 100000 \
    --conn-rate 0 --max-waiting-per-ip 0 --admin-port off --max-watchers 0 2>"$OUT/server.err" &
PID=$!
PORT=
for _ in $(seq 1 200); do
    PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$OUT/server.err")
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "server did not start"; kill "$PID"; exit 1; }
if [ "$WATCHERS" -gt 0 ]; then
    python3 "$(dirname "$0")/watchers.py" "$PORT" "$WATCHERS" "$M" >"$OUT/load.txt"
else
    nice "$B/bench/gameload/gameload" -p "$PORT" -n "$N" -g briscola:2 \
        -m "$M" -d 600 --seed 1 -q >"$OUT/load.txt"
fi
kill -TERM "$PID"
wait "$PID" || true
MOVES=$(sed -n 's/.*moves=\([0-9]*\).*/\1/p' "$OUT/load.txt" | tail -1)
echo "moves $MOVES"
for f in "$OUT"/cg.out-*; do
    IR=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$f")
    [ -n "$IR" ] || IR=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$f")
    echo "$(basename "$f") Ir $IR per_move $((IR / MOVES))"
done
