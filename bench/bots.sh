#!/usr/bin/env bash
# make bench-bots: the bots' strength and cost (docs/BOTS.md). Per game,
# hard against normal and normal against easy, MATCHES matches each
# (default 2000: hours with hard; see docs/BOTS.md), offline through
# build/bot-tournament; at most JOBS pairings at once, under nice. The
# table, with the commands that made it, goes into docs/BOTS.md between
# the BOTS BENCH markers.
#   bench/bots.sh [MATCHES] [extra bot-tournament options...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MATCHES=${1:-2000}
shift || true
EXTRA=("$@")
JOBS=${JOBS:-2}
TOOL=$ROOT/build/bot-tournament
[ -x "$TOOL" ] || { echo "bench-bots: build first (make build)" >&2; exit 1; }
OUT=$(mktemp -d)
i=0
for game in briscola scopa hearts; do
    for pair in "hard normal" "normal easy"; do
        read -r a b <<< "$pair"
        i=$((i + 1))
        cmd=("$TOOL" --game "$game" --a "$a" --b "$b" --matches "$MATCHES" --seed 1 ${EXTRA[@]+"${EXTRA[@]}"})
        echo "\$ ${cmd[*]#$ROOT/}" > "$OUT/$i.txt"
        nice "${cmd[@]}" >> "$OUT/$i.txt" &
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
    done
done
wait
DOC=$ROOT/docs/BOTS.md
{
    echo '<!-- BOTS BENCH BEGIN: written by bench/bots.sh -->'
    echo '```'
    echo "# bench/bots.sh $MATCHES on $(nproc) cores, $(date -u +%Y-%m-%d)"
    cat "$OUT"/*.txt
    echo '```'
    echo '<!-- BOTS BENCH END -->'
} > "$OUT/table"
if [ -f "$DOC" ] && grep -q 'BOTS BENCH BEGIN' "$DOC"; then
    awk -v table="$OUT/table" '
        /BOTS BENCH BEGIN/ { while ((getline l < table) > 0) print l; skip = 1; next }
        /BOTS BENCH END/ { skip = 0; next }
        !skip' "$DOC" > "$DOC.new" && mv "$DOC.new" "$DOC"
else
    cat "$OUT/table" >> "$DOC"
fi
cat "$OUT/table"
rm -rf "$OUT"
