#!/usr/bin/env bash
# Bots under load (issue 11, docs/BOTS.md "Load", docs/PERFORMANCE.md):
# how many bot-vs-bot matches one core sustains while human-like players'
# turn latency stays low. Per row, a fresh server pinned to CPU 0 (its
# loop, its store thread and libuv's pool, where the bots think) keeps N
# matches of bots alone in play (--bench-bot-matches N:GAME:SEATS:LEVEL,
# a bench-only option; the server's --bot-delay-ms 800 and --bot-think-ms
# 700), and bench/gameload, pinned to CPU 1, plays PLAYERS human-like
# players (--think-ms THINK) for SECS seconds. From the server's /metrics
# before and after: bot moves per second, pool milliseconds per bot move
# (hard's search: 3000 iterations or 700 ms, whichever first), the mean
# wait for a pool thread, the loop's worst lag.
#   bench/botload.sh [N...]          default: 0 10 20 40 80
# Environment: GAME (briscola:2), LEVEL (hard), PLAYERS (100),
# THINK (300-1500), SECS (20), DOC=file to write the table between the
# BOTLOAD markers (default: print only).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GAME=${GAME:-briscola:2}
LEVEL=${LEVEL:-hard}
PLAYERS=${PLAYERS:-100}
THINK=${THINK:-300-1500}
SECS=${SECS:-20}
DOC=${DOC:-}
ROWS=("$@")
[ ${#ROWS[@]} -gt 0 ] || ROWS=(0 10 20 40 80)
GL=$ROOT/build/bench/gameload/gameload
[ -x "$GL" ] || cmake --build "$ROOT/build" --target gameload >/dev/null
command -v curl >/dev/null || { echo "botload: needs curl for /metrics" >&2; exit 1; }
RUN=$(mktemp -d "${TMPDIR:-/tmp}/botload.XXXXXX")
PIN_S=() PIN_L=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_S=(taskset -c 0) PIN_L=(taskset -c 1)
fi
SRV_PID=
stop_server() {
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID"
        for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
    fi
    SRV_PID=
}
trap stop_server EXIT

# metric NAME FILE: the value of the sample NAME (with its labels) in FILE.
metric() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

row() {
    local n=$1 dir=$RUN/n$1 port= admin= game=${GAME%%:*} seats=${GAME##*:}
    local bench=off
    [ "$n" -gt 0 ] && bench="$n:$game:$seats:$LEVEL"
    mkdir -p "$dir"
    "${PIN_S[@]}" "$ROOT/build/tavolo" --port 0 --bind 127.0.0.1 --data "$dir/data" \
        --admin-port 0 --rate 1000000000 --burst 1000000000 --max-per-ip 100000 \
        --conn-rate 0 --max-waiting-per-ip 0 --log-level warn \
        --bench-bot-matches "$bench" 2> "$dir/server.log" &
    SRV_PID=$!
    for _ in $(seq 100); do
        port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$dir/server.log" | head -1)
        admin=$(sed -n 's|^admin (metrics) on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$dir/server.log" | head -1)
        [ -n "$port" ] && [ -n "$admin" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "botload: server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }
    sleep 2 # the bot matches under way
    curl -s "http://127.0.0.1:$admin/metrics" > "$dir/m0"
    "${PIN_L[@]}" "$GL" -p "$port" --pid "$SRV_PID" -d "$SECS" -q -n "$PLAYERS" \
        -g "$GAME" --think-ms "$THINK" > "$dir/out" 2> "$dir/err" || true
    curl -s "http://127.0.0.1:$admin/metrics" > "$dir/m1"
    stop_server
    local kv
    kv=$(grep '^gameload games=' "$dir/out" | tail -1)
    [ -n "$kv" ] || { echo "botload: gameload printed no summary:" >&2; cat "$dir/err" >&2; exit 1; }
    local lv="{level=\"$LEVEL\"}"
    local mv0 mv1 th0 th1 q0 q1 mn0 mn1 all0 all1
    mv0=$(metric "tavolo_bot_moves_total$lv" "$dir/m0"); mv1=$(metric "tavolo_bot_moves_total$lv" "$dir/m1")
    th0=$(metric "tavolo_bot_think_seconds_total$lv" "$dir/m0"); th1=$(metric "tavolo_bot_think_seconds_total$lv" "$dir/m1")
    q0=$(metric tavolo_bot_queue_seconds_total "$dir/m0"); q1=$(metric tavolo_bot_queue_seconds_total "$dir/m1")
    local c0 c1
    c0=$(metric "tavolo_bot_cpu_seconds_total$lv" "$dir/m0"); c1=$(metric "tavolo_bot_cpu_seconds_total$lv" "$dir/m1")
    all0=$(awk '$1 ~ /^tavolo_bot_moves_total/ { s += $2 } END { print s + 0 }' "$dir/m0")
    all1=$(awk '$1 ~ /^tavolo_bot_moves_total/ { s += $2 } END { print s + 0 }' "$dir/m1")
    mn1=$(metric 'tavolo_event_loop_lag_milliseconds{which="max"}' "$dir/m1")
    echo "$n $kv bot_moves=$((mv1 - mv0)) bot_think_s=$(awk -v a="$th0" -v b="$th1" 'BEGIN { print b - a }')" \
         "bot_cpu_s=$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
         "bot_queue_s=$(awk -v a="$q0" -v b="$q1" 'BEGIN { print b - a }') bot_all=$((all1 - all0))" \
         "lag_max_ms=$mn1 secs=$SECS" >> "$RUN/rows"
    tail -1 "$RUN/rows"
}

: > "$RUN/rows"
for n in "${ROWS[@]}"; do row "$n"; done

{
    echo '<!-- BOTLOAD BEGIN: written by bench/botload.sh -->'
    echo '```'
    echo "\$ bench/botload.sh ${ROWS[*]}    # GAME=$GAME LEVEL=$LEVEL PLAYERS=$PLAYERS THINK=$THINK SECS=$SECS; $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "#   taskset -c 0 tavolo ... --bench-bot-matches N:${GAME%%:*}:${GAME##*:}:$LEVEL (--bot-delay-ms 800, --bot-think-ms 700)"
    echo "#   taskset -c 1 gameload -p PORT --pid PID -d $SECS -n $PLAYERS -g $GAME --think-ms $THINK"
    awk '
        function v(k,   i, a) { for (i = 2; i <= NF; i++) { split($i, a, "=");
            if (a[1] == k) return substr($i, length(k) + 2) } return "?" }
        BEGIN { printf "%5s %9s %8s %8s %9s %8s %10s %9s %9s %8s %6s %6s %5s\n",
            "bot N", "bot mv/s", "cpu ms", "wall ms", "pool wait", "lag max", "people mv/s",
            "turn p50", "turn p99", "p99.9", "cpu %", "errors", "load" }
        { s = v("secs"); m = v("bot_moves"); a = v("bot_all")
          printf "%5s %9.1f %8.1f %8.1f %9.1f %8.1f %10s %9.2f %9.2f %8.2f %6s %6s %5s\n",
            $1, m / s, (m + 0) ? 1000 * v("bot_cpu_s") / m : 0, (m + 0) ? 1000 * v("bot_think_s") / m : 0, (a + 0) ? 1000 * v("bot_queue_s") / a : 0,
            v("lag_max_ms"), v("moves_per_s"), v("turn_p50_us") / 1000, v("turn_p99_us") / 1000,
            v("turn_p999_us") / 1000, v("server_cpu_pct"), v("errors"), v("loadavg") }
        END { print "bot mv/s: bot moves a second; cpu ms, wall ms: CPU and wall time of a bot move on its pool"
              print "thread (hard: 3000 iterations or 700 ms wall); pool wait: mean ms an ask"
              print "waited for a pool thread; lag max: the loop'"'"'s worst lag (ms, whole run); turn: ms from a"
              print "person'"'"'s PLAY to the next TURN (gameload, one clock); cpu %: the server'"'"'s, of one core" }' \
        "$RUN/rows"
    echo '```'
    echo '<!-- BOTLOAD END -->'
} > "$RUN/table"
cat "$RUN/table"
if [ -n "$DOC" ]; then
    if grep -q "BOTLOAD BEGIN" "$DOC"; then
        awk -v table="$RUN/table" '
            index($0, "BOTLOAD BEGIN") { while ((getline l < table) > 0) print l; skip = 1; next }
            index($0, "BOTLOAD END") { skip = 0; next }
            !skip' "$DOC" > "$DOC.new" && mv "$DOC.new" "$DOC"
    else
        cat "$RUN/table" >> "$DOC"
    fi
fi
echo "botload: raw output in $RUN"
