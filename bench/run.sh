#!/usr/bin/env bash
# make bench: ../shared/bench/compare.sh with tavolo beside the peers, on
# loopback only; the table (with the command that made it) is written into
# docs/PERFORMANCE.md between the BENCH markers.
#   bench/run.sh [compare.sh options...]   e.g. --duration 6 --idle-conns 19000
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KIT=${BENCH_KIT:-$ROOT/../shared/bench}
[ -x "$KIT/compare.sh" ] || { echo "bench: no kit at $KIT (set BENCH_KIT)" >&2; exit 1; }
"$KIT/setup.sh"

# tavolo's own limits are lifted for the run (see the kit's README).
CMD=("$ROOT/build/tavolo" --port '{PORT}' --bind 127.0.0.1 --data '{RUNDIR}/data'
     --rate 1000000000 --burst 1000000000 --max-per-ip 100000 --conn-rate 0
     --log-level warn)
OUT=$(mktemp)
"$KIT/compare.sh" "$@" -- "${CMD[@]}" | tee "$OUT"

DOC=$ROOT/docs/PERFORMANCE.md
{
    echo '<!-- BENCH BEGIN: written by bench/run.sh -->'
    echo '```'
    echo "\$ make bench    # = bench/run.sh $*"
    echo "#   compare.sh $* -- ${CMD[*]}"
    sed -n '/^scenario/,$p' "$OUT"
    echo '```'
    echo '<!-- BENCH END -->'
} > "$OUT.table"
if [ -f "$DOC" ] && grep -q 'BENCH BEGIN' "$DOC"; then
    awk -v table="$OUT.table" '
        /BENCH BEGIN/ { while ((getline l < table) > 0) print l; skip = 1; next }
        /BENCH END/ { skip = 0; next }
        !skip' "$DOC" > "$DOC.new" && mv "$DOC.new" "$DOC"
else
    cat "$OUT.table" >> "$DOC"
fi
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
