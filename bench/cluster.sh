#!/usr/bin/env bash
# The cluster's figures (docs/CLUSTER.md, "Figures").
#   bench/cluster.sh [--moves N] [--doc docs/CLUSTER.md]
#       cross-node vs same-node turn latency and Redis commands per move
#       (bench/cluster.py; about 20 s)
#   bench/cluster.sh --load [--secs S] [--think MIN-MAX] [--ladder N,N,...]
#                    [--repeat R] [--limits-ms 5,10,20]
#       players carried at p99 turn latency under 5 ms: gameload through
#       HAProxy against one node, then three nodes, row by row in the same
#       run (bench/cluster_load.py; about 3 min per repeat)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$ROOT/build/tavolo" ] || cmake --build "$ROOT/build" --target tavolo >/dev/null
if [ "${1:-}" = --load ]; then
    shift
    [ -x "$ROOT/build/bench/gameload/gameload" ] ||
        cmake --build "$ROOT/build" --target gameload >/dev/null
    exec python3 "$ROOT/bench/cluster_load.py" "$@"
fi
exec python3 "$ROOT/bench/cluster.py" "$@"
