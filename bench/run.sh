#!/usr/bin/env bash
# make bench: ../shared/bench/compare.sh with tavolo beside the peers, on
# loopback only; the table (with the command that made it) is written into
# docs/PERFORMANCE.md between the BENCH markers. Then a short game load
# (bench/gameload, docs/PERFORMANCE.md "Game load"): whole matches of
# briscola, tavolo pinned to CPU 0 and gameload to CPU 1; its table goes
# between the GAMELOAD markers. With DURABILITY=1, bench/durability.sh
# follows (both --durability levels side by side; its own markers).
#   bench/run.sh [compare.sh options...]   e.g. --duration 6 --idle-conns 19000
#   bench/run.sh --gameload-only           the game load alone (~30 s)
#   bench/run.sh --no-gameload [...]       the PING comparison alone
# Environment: GAMELOAD_SECS (seconds per game-load row, default 5), measured
# after GAMELOAD_WARMUP (default 2) seconds of play.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KIT=${BENCH_KIT:-$ROOT/../shared/bench}
DOC=$ROOT/docs/PERFORMANCE.md
DO_COMPARE=1
DO_GAMELOAD=1
case "${1:-}" in
--gameload-only) DO_COMPARE=0; shift ;;
--no-gameload) DO_GAMELOAD=0; shift ;;
esac

# Replaces the lines between "<!-- NAME BEGIN" and "<!-- NAME END" in DOC
# with the file TABLE (which carries both markers), or appends it.
put_table() {
    local name=$1 table=$2
    if [ -f "$DOC" ] && grep -q "$name BEGIN" "$DOC"; then
        awk -v table="$table" -v b="$name BEGIN" -v e="$name END" '
            index($0, b) { while ((getline l < table) > 0) print l; skip = 1; next }
            index($0, e) { skip = 0; next }
            !skip' "$DOC" > "$DOC.new" && mv "$DOC.new" "$DOC"
    else
        cat "$table" >> "$DOC"
    fi
}

# tavolo's own limits are lifted for the run (see the kit's README).
CMD=("$ROOT/build/tavolo" --port '{PORT}' --bind 127.0.0.1 --data '{RUNDIR}/data'
     --rate 1000000000 --burst 1000000000 --max-per-ip 100000 --conn-rate 0
     --max-waiting-per-ip 0 --log-level warn)

if [ "$DO_COMPARE" = 1 ]; then
    [ -x "$KIT/compare.sh" ] || { echo "bench: no kit at $KIT (set BENCH_KIT)" >&2; exit 1; }
    "$KIT/setup.sh"
    OUT=$(mktemp)
    "$KIT/compare.sh" "$@" -- "${CMD[@]}" | tee "$OUT"
    {
        echo '<!-- BENCH BEGIN: written by bench/run.sh -->'
        echo '```'
        echo "\$ make bench    # = bench/run.sh $*"
        echo "#   compare.sh $* -- ${CMD[*]}"
        sed -n '/^scenario/,$p' "$OUT"
        echo '```'
        echo '<!-- BENCH END -->'
    } > "$OUT.table"
    put_table BENCH "$OUT.table"
    rm -f "$OUT" "$OUT.table"
    echo "bench: table written to docs/PERFORMANCE.md"

    # Bytes per idle connection, TCP beside WebSocket, and RSS after they close.
    python3 "$ROOT/bench/wsmem.py" --bin "$ROOT/build/tavolo" --conns "${WSMEM_CONNS:-10000}" \
        | tee "$ROOT/build/bench-wsmem.txt"

    # What each attack costs a quiet client (the "Attacks" table).
    "$ROOT/bench/attacks.sh" "${ATTACK_SECS:-5}"

    # tavolo's WebSocket against Colyseus (the kit's peers/colyseus; needs node
    # and its npm packages: copied to a writable place, installed once).
    COLY=${COLYSEUS_DIR:-$ROOT/build/colyseus}
    if command -v node >/dev/null && command -v npm >/dev/null; then
        [ -d "$COLY" ] || cp -r "$KIT/peers/colyseus" "$COLY"
        [ -d "$COLY/node_modules" ] || (cd "$COLY" && npm ci --no-audit --no-fund)
        # The kit starts tavolo with its own options; the wrapper adds the one
        # its 10 000 connections from one address need (exec: same PID).
        printf '#!/bin/sh\nexec "%s" --conn-rate 0 "$@"\n' "$ROOT/build/tavolo" \
            > "$ROOT/build/tavolo-bench"
        chmod +x "$ROOT/build/tavolo-bench"
        TAVOLO="$ROOT/build/tavolo-bench" bash "$COLY/bench.sh" "${COLYSEUS_REPS:-1}" \
            | tee "$ROOT/build/bench-colyseus.txt"
    else
        echo "bench: no node/npm: the Colyseus comparison is skipped"
    fi
fi

[ "$DO_GAMELOAD" = 1 ] || exit 0

# ---------- game load ----------
GL=$ROOT/build/bench/gameload/gameload
[ -x "$GL" ] || cmake --build "$ROOT/build" --target gameload >/dev/null
SECS=${GAMELOAD_SECS:-5}
WARMUP=${GAMELOAD_WARMUP:-2}
RUN=$(mktemp -d "${TMPDIR:-/tmp}/gameload.XXXXXX")
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

# One row: a fresh server (pinned to CPU 0, limits lifted, its store in the
# run's directory), gameload (pinned to CPU 1) with the given options.
gl_row() {
    local label=$1; shift
    local dir=$RUN/$label port=
    mkdir -p "$dir"
    # taskset execs the server, so $! is the server's own PID.
    "${PIN_S[@]}" "$ROOT/build/tavolo" --port 0 --bind 127.0.0.1 --data "$dir/data" \
        --admin-port off --rate 1000000000 --burst 1000000000 --max-per-ip 100000 \
        --conn-rate 0 --max-waiting-per-ip 0 --log-level warn 2> "$dir/server.log" &
    SRV_PID=$!
    for _ in $(seq 100); do
        port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$dir/server.log" | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "bench: server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }
    echo "\$ gameload -p PORT --pid PID -d $SECS --warmup $WARMUP $*" >> "$RUN/commands"
    "${PIN_L[@]}" "$GL" -p "$port" --pid "$SRV_PID" -d "$SECS" --warmup "$WARMUP" -q "$@" \
        > "$dir/out" 2> "$dir/err" || true
    cat "$dir/out"
    stop_server
    local kv
    kv=$(grep '^gameload games=' "$dir/out" | tail -1)
    [ -n "$kv" ] || { echo "bench: gameload printed no summary:" >&2; cat "$dir/err" >&2; exit 1; }
    echo "$label $kv" >> "$RUN/rows"
}

: > "$RUN/rows"
: > "$RUN/commands"
gl_row "fast-100"    -n 100  -g briscola:2
gl_row "fast-100x4"  -n 100  -g briscola:4
gl_row "fast-1000"   -n 1000 -g briscola:2
gl_row "think-2000"  -n 2000 -g briscola:2 --think-ms 0-2000

{
    echo '<!-- GAMELOAD BEGIN: written by bench/run.sh -->'
    echo '```'
    echo "\$ bench/run.sh --gameload-only    # GAMELOAD_SECS=$SECS GAMELOAD_WARMUP=$WARMUP; $(uptime | sed 's/^ *//'); server: taskset -c 0, gameload: taskset -c 1"
    echo "#   tavolo --port 0 --bind 127.0.0.1 --admin-port off --rate 1000000000 --burst 1000000000 --max-per-ip 100000 --max-waiting-per-ip 0 --log-level warn"
    sed 's/^/#   /' "$RUN/commands"
    awk '
        function v(k,   i, a) { for (i = 2; i <= NF; i++) { split($i, a, "=");
            if (a[1] == k) return substr($i, length(k) + 2) } return "?" }
        BEGIN { printf "%-11s %-11s %7s %9s %8s %9s %9s %9s %10s %6s %8s %6s %6s %5s\n",
            "row", "game", "players", "think ms", "moves/s", "matches/s", "turn p50",
            "turn p99", "turn p99.9", "cpu %", "B/player", "errors", "gl cpu", "load" }
        { printf "%-11s %-11s %7s %9s %8s %9s %9s %9s %10s %6s %8s %6s %6s %5s\n",
            $1, v("games"), v("players"), v("think_ms"), v("moves_per_s"),
            v("matches_per_s"),
            v("turn_p50_us"), v("turn_p99_us"), v("turn_p999_us"),
            v("server_cpu_pct"), v("bytes_per_player"), v("errors"),
            v("client_cpu_pct"), v("loadavg") }
        END { print "turn latencies in us: a PLAY written to the next TURN read (one clock);"
              print "cpu % = the server, gl cpu = gameload itself, load = 1-minute load average at the end" }' \
        "$RUN/rows"
    echo '```'
    echo '<!-- GAMELOAD END -->'
} > "$RUN/table"
cat "$RUN/table"
put_table GAMELOAD "$RUN/table"
echo "bench: game-load table written to docs/PERFORMANCE.md (raw output in $RUN)"
stop_server
if [ "${DURABILITY:-0}" = 1 ]; then
    "$ROOT/bench/durability.sh"
fi
