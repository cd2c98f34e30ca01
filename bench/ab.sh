#!/bin/bash
# One game-load row against a given server binary, for before/after runs
# of two builds in the same minute (docs/PERFORMANCE.md, "Game load"):
#   bench/ab.sh BIN LABEL PLAYERS SECS [gameload options...]
# The server (bench/run.sh's options, its data in a fresh directory) on
# CPU 0, gameload on CPU 1, WARM (default 2) seconds of warm-up before
# SECS measured; prints one line of the summary's main keys.
set -u
BIN=$1 LABEL=$2 N=$3 SECS=$4; shift 4
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GL=$ROOT/build/bench/gameload/gameload
D=$(mktemp -d "${TMPDIR:-/tmp}/ab.XXXXXX")
taskset -c 0 "$BIN" --port 0 --bind 127.0.0.1 --data "$D/data" --admin-port off \
    --rate 1000000000 --burst 1000000000 --max-per-ip 100000 --conn-rate 0 \
    --max-waiting-per-ip 0 --max-conns 100000 --log-level ${LOGLEVEL:-warn} ${SRVOPTS:-} 2> "$D/log" &
P=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$D/log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "ab: server did not start" >&2; kill "$P"; exit 1; }
taskset -c 1 "$GL" -p "$port" --pid "$P" -n "$N" -d "$SECS" --warmup "${WARM:-2}" -q "$@" \
    > "$D/out" 2> "$D/err"
kill -TERM "$P"
wait "$P"
kv=$(grep '^gameload games' "$D/out")
echo "$LABEL n=$N $(echo "$kv" | tr ' ' '\n' | grep -E '^(moves_per_s|turn_p50_us|turn_p99_us|server_cpu_pct|client_cpu_pct|errors|bytes_per_player|loadavg)=' | tr '\n' ' ')"
[ -n "${KEEP:-}" ] && echo "ab: kept $D" || rm -rf "$D"
