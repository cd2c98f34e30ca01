#!/usr/bin/env bash
# The journal's durability levels side by side (issue 10; docs/OPERATIONS.md
# "Durability", docs/PERFORMANCE.md "Durability"): for each row, a fresh
# server at --durability power and then at process (--fsync-ms 50), its
# data on the real disk (the run's directory, under $TMPDIR or /tmp),
# pinned to CPU 0; bench/gameload pinned to CPU 1. The table replaces the
# one between the DURABILITY markers of docs/PERFORMANCE.md.
#
#   bench/durability.sh                 DUR_SECS=10 seconds of play a row,
#                                       measured after DUR_WARMUP=5 s of play
#                                       (the seating burst is not measured)
#   DUR_ROWS="fast-1000" bench/durability.sh    only some rows
#   DUR_PROCS=2 bench/durability.sh     gameload split over 2 processes
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DOC=$ROOT/docs/PERFORMANCE.md
SECS=${DUR_SECS:-10}
WARMUP=${DUR_WARMUP:-5}
PROCS=${DUR_PROCS:-1}
ROWS=${DUR_ROWS:-"fast-1000 think-2000 think-18000"}
GL=$ROOT/build/bench/gameload/gameload
[ -x "$ROOT/build/tavolo" ] || cmake --build "$ROOT/build" --target tavolo >/dev/null
[ -x "$GL" ] || cmake --build "$ROOT/build" --target gameload >/dev/null
RUN=$(mktemp -d "${TMPDIR:-/tmp}/durability.XXXXXX")
PIN_S=() PIN_L=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_S=(taskset -c 0) PIN_L=(taskset -c 1)
fi
# 18 000 players: one descriptor each, on both sides.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

SRV_PID=
stop_server() {
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID"
        for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
    fi
    SRV_PID=
}
trap stop_server EXIT

SRV_ARGS=(--port 0 --bind 127.0.0.1 --admin-port off --rate 1000000000
          --burst 1000000000 --max-per-ip 100000 --conn-rate 0 --max-waiting-per-ip 0
          --max-conns 100000 --log-level warn)

# row LABEL LEVEL gameload-options...
row() {
    local label=$1 level=$2; shift 2
    local dir=$RUN/$label-$level port=
    mkdir -p "$dir"
    "${PIN_S[@]}" "$ROOT/build/tavolo" "${SRV_ARGS[@]}" --data "$dir/data" \
        --durability "$level" 2> "$dir/server.log" &
    SRV_PID=$!
    for _ in $(seq 200); do
        port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$dir/server.log" | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "bench: server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }
    "${PIN_L[@]}" "$GL" -p "$port" --pid "$SRV_PID" -d "$SECS" --warmup "$WARMUP" \
        --procs "$PROCS" -q "$@" \
        > "$dir/out" 2> "$dir/err" || true
    stop_server
    local kv
    kv=$(grep '^gameload games=' "$dir/out" | tail -1)
    [ -n "$kv" ] || { echo "bench: gameload printed no summary:" >&2; cat "$dir/err" >&2; exit 1; }
    echo "$label $level $kv" >> "$RUN/rows"
    echo "$label $level: $(echo "$kv" | tr ' ' '\n' | grep -E '^(moves_per_s|turn_p50_us|turn_p99_us|errors)=' | tr '\n' ' ')"
}

: > "$RUN/rows"
: > "$RUN/commands"
for r in $ROWS; do
    case $r in
    fast-1000)   opts=(-n 1000 -g briscola:2) ;;
    think-2000)  opts=(-n 2000 -g briscola:2,briscola:4 --think-ms 0-2000) ;;
    think-18000) opts=(-n 18000 -g briscola:2,briscola:4 --think-ms 0-2000) ;;
    *) echo "bench: unknown row $r" >&2; exit 2 ;;
    esac
    echo "\$ gameload -p PORT --pid PID -d $SECS --warmup $WARMUP --procs $PROCS ${opts[*]}" >> "$RUN/commands"
    for level in power process; do
        row "$r" "$level" "${opts[@]}"
    done
done

{
    echo '<!-- DURABILITY BEGIN: written by bench/durability.sh -->'
    echo '```'
    echo "\$ bench/durability.sh    # DUR_SECS=$SECS DUR_WARMUP=$WARMUP DUR_PROCS=$PROCS; $(uptime | sed 's/^ *//'); server: taskset -c 0, gameload: taskset -c 1; data in $(df -P "$RUN" | awk 'NR==2 {print $1}') ($(stat -f -c %T "$RUN"))"
    echo "#   tavolo ${SRV_ARGS[*]} --data DIR --durability LEVEL"
    sed 's/^/#   /' "$RUN/commands"
    awk '
        function v(k,   i, a) { for (i = 3; i <= NF; i++) { split($i, a, "=");
            if (a[1] == k) return substr($i, length(k) + 2) } return "?" }
        BEGIN { printf "%-11s %-8s %7s %8s %9s %9s %10s %6s %8s %6s %6s %5s\n",
            "row", "level", "players", "moves/s", "turn p50", "turn p99",
            "turn p99.9", "cpu %", "B/player", "errors", "gl cpu", "load" }
        { printf "%-11s %-8s %7s %8s %9s %9s %10s %6s %8s %6s %6s %5s\n",
            $1, $2, v("players"), v("moves_per_s"), v("turn_p50_us"),
            v("turn_p99_us"), v("turn_p999_us"), v("server_cpu_pct"),
            v("bytes_per_player"), v("errors"), v("client_cpu_pct"), v("loadavg") }
        END { print "turn latencies in us (a PLAY written to the next TURN read); process = --fsync-ms 50;"
              print "cpu % = the server, gl cpu = gameload itself, load = 1-minute load average at the end" }' \
        "$RUN/rows"
    echo '```'
    echo '<!-- DURABILITY END -->'
} > "$RUN/table"
cat "$RUN/table"
if [ -f "$DOC" ] && grep -q "DURABILITY BEGIN" "$DOC"; then
    awk -v table="$RUN/table" '
        index($0, "DURABILITY BEGIN") { while ((getline l < table) > 0) print l; skip = 1; next }
        index($0, "DURABILITY END") { skip = 0; next }
        !skip' "$DOC" > "$DOC.new" && mv "$DOC.new" "$DOC"
    echo "bench: durability table written to docs/PERFORMANCE.md (raw output in $RUN)"
else
    echo "bench: no DURABILITY markers in docs/PERFORMANCE.md; the table is in $RUN/table"
fi
