#!/usr/bin/env bash
# bench/attacks.sh [SECS]: what each attack costs a quiet client. One
# tavolo (CPU 0, default limits but the per-connection command rate, a
# 100 000-line blacklist) and one quiet client (lineload, 1 connection,
# PING at depth 1, CPU 1): its p99 idle, then under each attack of
# bench/attack.py, each measured SECS seconds (default 5). The attacker
# runs on the server's CPU, niced (ATTACK_CPU=1 puts it beside the quiet
# client instead): the kernel's work for its loopback traffic then lands
# where a real attack's would, on the server's machine, and not on the
# CPU that measures.
# The table is written into docs/PERFORMANCE.md between the ATTACKS
# markers. Loopback only; every process is stopped by its PID.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TAVOLO_BIN:-$ROOT/build/tavolo}
KIT=${BENCH_KIT:-$ROOT/../shared/bench}
LL=$ROOT/build/bench/lineload
SECS=${1:-5}
PORT=${ATTACK_PORT:-17391}
[ -x "$BIN" ] || { echo "attacks: no binary at $BIN" >&2; exit 1; }
if [ ! -x "$LL" ]; then
    mkdir -p "$(dirname "$LL")"
    cc -O2 -pthread -o "$LL" "$KIT/lineload.c" -lm
fi
RUN=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$RUN"
}
trap cleanup EXIT

python3 - "$RUN/blacklist.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(100000):
        f.write("10.%d.%d.%d\n" % (i >> 16, (i >> 8) & 255, i & 255))
EOF
SERVER=("$BIN" --port "$PORT" --bind 127.0.0.1 --data "$RUN/data" --admin-port off
        --rate 1000000000 --burst 1000000000 --blacklist "$RUN/blacklist.txt"
        --log-level warn)
taskset -c 0 "${SERVER[@]}" 2> "$RUN/server.log" &
SPID=$!
PIDS+=("$SPID")
for _ in $(seq 100); do
    grep -q "^listening on" "$RUN/server.log" 2>/dev/null && break
    sleep 0.05
done
grep -q "^listening on" "$RUN/server.log" || { cat "$RUN/server.log" >&2; exit 1; }

p99() { # the quiet client's p99 in us, for SECS seconds
    taskset -c 1 "$LL" -p "$PORT" -c 1 -P 1 -d "$SECS" -w 1 --greeting 1 \
        -e "OK PING" -q | sed -n 's/.*p99_us=\([0-9.]*\).*errors=\([0-9]*\).*/\1 \2/p'
}

TABLE=$RUN/table
printf '| attack | idle p99 µs | under attack p99 µs | ratio | attack command |\n' > "$TABLE"
printf '|---|---|---|---|---|\n' >> "$TABLE"
for kind in ${ATTACKS:-slowread sighup connflood slowloris}; do
    read -r idle idle_err < <(p99)
    taskset -c "${ATTACK_CPU:-0}" nice -n 10 python3 "$ROOT/bench/attack.py" "$kind" --port "$PORT" \
        --pid "$SPID" --secs $((SECS + 6)) > "$RUN/attack.out" 2> "$RUN/attack.err" &
    APID=$!
    PIDS+=("$APID")
    for _ in $(seq 600); do
        grep -q ready "$RUN/attack.out" 2>/dev/null && break
        sleep 0.05
    done
    sleep 1 # let it reach its steady state
    read -r hot hot_err < <(p99)
    kill "$APID" 2>/dev/null || true
    wait "$APID" 2>/dev/null || true
    kill -0 "$SPID" || { echo "attacks: the server died" >&2; exit 1; }
    ratio=$(awk -v a="$hot" -v b="$idle" 'BEGIN { printf "%.2f", a / b }')
    note=""
    [ "$idle_err$hot_err" = "00" ] || note=" (lineload errors: $idle_err/$hot_err)"
    printf '| %s | %s | %s | %s%s | `bench/attack.py %s --port %s --pid SERVER --secs %s` |\n' \
        "$kind" "$idle" "$hot" "$ratio" "$note" "$kind" "$PORT" $((SECS + 6)) | tee -a "$TABLE"
    sleep 2 # the attack's connections time out or are closed
done

DOC=$ROOT/docs/PERFORMANCE.md
{
    echo '<!-- ATTACKS BEGIN: written by bench/attacks.sh -->'
    echo "\$ bench/attacks.sh $SECS    # $(date -u +%Y-%m-%d), server: ${SERVER[*]}"
    echo "# quiet client: lineload -p PORT -c 1 -P 1 -d $SECS -w 1 --greeting 1 -e 'OK PING' (CPU 1); attacker on CPU ${ATTACK_CPU:-0}, nice 10"
    echo
    cat "$TABLE"
    echo '<!-- ATTACKS END -->'
} > "$RUN/section"
if grep -q 'ATTACKS BEGIN' "$DOC"; then
    awk -v sec="$RUN/section" '
        /ATTACKS BEGIN/ { while ((getline l < sec) > 0) print l; skip = 1; next }
        /ATTACKS END/ { skip = 0; next }
        !skip' "$DOC" > "$DOC.new" && mv "$DOC.new" "$DOC"
else
    cat "$RUN/section" >> "$DOC"
fi
echo "attacks: table written to docs/PERFORMANCE.md"
