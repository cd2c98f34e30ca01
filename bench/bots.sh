#!/usr/bin/env bash
# make bench-bots: the bots' strength and cost (docs/BOTS.md). Per game,
# hard against normal and normal against easy, MATCHES matches each
# (default 2000), offline through build/bot-tournament; at most JOBS
# pairings at once, under nice. The table, with the commands that made
# it, goes into $DOC (docs/BOTS.md) between the BOTS BENCH markers.
#   bench/bots.sh [MATCHES] [extra bot-tournament options...]
# Environment:
#   HARD_BUDGETS="briscola:3000 scopa:1000 hearts:400"
#       hard's iterations per game in the hard-vs-normal pairings, with
#       --time-ms 1000000 so that only iterations count (reproducible on
#       a loaded machine). A game not listed: the server's budget (3000
#       iterations, 700 ms). At the server's budget the 2000-match hard
#       pairings cost CPU hours (docs/BOTS.md).
#   SHORT="scopa:100 hearts:100"
#       after those, hard vs normal for that many matches at 3000
#       iterations (--time-ms 1000000), to compare with the reduced budget.
#   RUN_DIR=dir  keep each pairing's output there (default: a temp dir,
#       removed); a pairing's file is complete once its tool exits.
#   JOBS=n (default 2), NICE=n (default 10), DOC=file, TOOL=binary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MATCHES=${1:-2000}
shift || true
EXTRA=("$@")
JOBS=${JOBS:-2}
NICE=${NICE:-10}
DOC=${DOC:-$ROOT/docs/BOTS.md}
HARD_BUDGETS=${HARD_BUDGETS:-}
SHORT=${SHORT:-}
TOOL=${TOOL:-$ROOT/build/bot-tournament} # a copy, to rebuild meanwhile
[ -x "$TOOL" ] || { echo "bench-bots: build first (make build)" >&2; exit 1; }
if [ -n "${RUN_DIR:-}" ]; then
    OUT=$RUN_DIR
    mkdir -p "$OUT"
    KEEP=1
else
    OUT=$(mktemp -d)
    KEEP=0
fi

budget_of() { # game -> iterations from HARD_BUDGETS, or empty
    local kv
    for kv in $HARD_BUDGETS; do
        [ "${kv%%:*}" = "$1" ] && { echo "${kv#*:}"; return; }
    done
    echo ""
}

i=0
run() { # file, then the tool's arguments
    local file=$1
    shift
    local cmd=("$TOOL" "$@" ${EXTRA[@]+"${EXTRA[@]}"})
    echo "\$ build/bot-tournament $*${EXTRA[*]+ ${EXTRA[*]}}" > "$file.part"
    ( nice -n "$NICE" "${cmd[@]}" >> "$file.part" && mv "$file.part" "$file" ) &
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
}

for pair in "normal easy" "hard normal"; do
    read -r a b <<< "$pair"
    for game in briscola scopa hearts; do
        i=$((i + 1))
        args=(--game "$game" --a "$a" --b "$b" --matches "$MATCHES" --seed 1)
        it=$(budget_of "$game")
        if [ "$a" = hard ] && [ -n "$it" ]; then
            args+=(--iterations "$it" --time-ms 1000000)
        fi
        run "$OUT/$(printf %02d $i).txt" "${args[@]}"
    done
done
for kv in $SHORT; do
    i=$((i + 1))
    run "$OUT/$(printf %02d $i).txt" --game "${kv%%:*}" --a hard --b normal \
        --matches "${kv#*:}" --seed 2 --iterations 3000 --time-ms 1000000
done
wait

{
    echo '<!-- BOTS BENCH BEGIN: written by bench/bots.sh -->'
    echo '```'
    echo "# bench/bots.sh $MATCHES on $(nproc) cores, $(date -u +%Y-%m-%d)," \
         "JOBS=$JOBS HARD_BUDGETS='$HARD_BUDGETS' SHORT='$SHORT'"
    cat "$OUT"/[0-9]*.txt
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
[ "$KEEP" = 1 ] || rm -rf "$OUT"
