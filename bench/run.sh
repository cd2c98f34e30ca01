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
     --rate 1000000000 --burst 1000000000 --max-per-ip 100000 --log-level warn)
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
