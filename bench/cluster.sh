#!/usr/bin/env bash
# Cross-node vs same-node turn latency and Redis commands per move
# (docs/CLUSTER.md, "Figures"); about 20 s. Extra arguments go to
# bench/cluster.py (--moves N, --doc docs/CLUSTER.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$ROOT/build/tavolo" ] || cmake --build "$ROOT/build" --target tavolo >/dev/null
exec python3 "$ROOT/bench/cluster.py" "$@"
