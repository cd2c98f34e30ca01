#!/usr/bin/env bash
# The store on SQLite and on Redis side by side (docs/CLUSTER.md, "Store on
# Redis"): the same gameload row against a node with --data, then a node
# with --redis (a fresh redis-server on a free loopback port, AOF on,
# appendfsync everysec: --durability process on both). tavolo pinned to
# CPU 0 and gameload to CPU 1 when taskset exists; Redis is not pinned.
# Prints one line per store and Redis's per-command statistics.
#
#   bench/store_redis.sh            SECS=10 N=1000 (players)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GL=$ROOT/build/bench/gameload/gameload
SECS=${SECS:-10}
N=${N:-1000}
[ -x "$ROOT/build/tavolo" ] || cmake --build "$ROOT/build" --target tavolo >/dev/null
[ -x "$GL" ] || cmake --build "$ROOT/build" --target gameload >/dev/null
RUN=$(mktemp -d "${TMPDIR:-/tmp}/store_redis.XXXXXX")
PIN_S=() PIN_L=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_S=(taskset -c 0) PIN_L=(taskset -c 1)
fi
RPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$RUN/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$RUN/redis" --appendonly yes \
    --appendfsync everysec --save "" > "$RUN/redis.log" 2>&1 &
RPID=$! SPID=
stop() {
    for p in $SPID $RPID; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}
trap stop EXIT
for _ in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
ARGS=(--port 0 --bind 127.0.0.1 --admin-port off --rate 1000000000 --burst 1000000000
      --max-per-ip 100000 --conn-rate 0 --max-waiting-per-ip 0 --max-conns 100000
      --log-level warn --durability process)
echo "\$ gameload -p PORT --pid PID -d $SECS -q -n $N -g briscola:2; load $(cut -d' ' -f1 /proc/loadavg)"
for store in sqlite redis; do
    extra=(--data "$RUN/data-$store")
    [ "$store" = redis ] && extra+=(--redis "127.0.0.1:$RPORT")
    "${PIN_S[@]}" "$ROOT/build/tavolo" "${ARGS[@]}" "${extra[@]}" 2> "$RUN/$store.log" &
    SPID=$! port=
    for _ in $(seq 200); do
        port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$RUN/$store.log" | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "bench: server did not start:" >&2; cat "$RUN/$store.log" >&2; exit 1; }
    "${PIN_L[@]}" "$GL" -p "$port" --pid "$SPID" -d "$SECS" -q -n "$N" -g briscola:2 \
        > "$RUN/$store.out" 2>&1 || true
    kill -TERM "$SPID"; wait "$SPID" || true; SPID=
    echo "$store: $(grep '^gameload games=' "$RUN/$store.out" | tr ' ' '\n' |
        grep -E '^(moves_per_s|turn_p50_us|turn_p99_us|errors|server_cpu_pct|loadavg)=' | tr '\n' ' ')"
done
echo "redis: $(redis-cli -p "$RPORT" info commandstats | grep -E 'evalsha|xrange' | tr -d '\r' | tr '\n' ' ')"
echo "redis: a finished 2-seat match's stream: $(redis-cli -p "$RPORT" memory usage 'tavolo:match:{1}:log') bytes, $(redis-cli -p "$RPORT" xlen 'tavolo:match:{1}:log') entries"
