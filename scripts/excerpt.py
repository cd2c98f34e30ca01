"""Prints parts of a saved terminal (scripts/transcript_games.py) verbatim,
the rest replaced by "[... N lines cut ...]". Usage:
    python3 scripts/excerpt.py FILE 1-40,120-130,500-
(1-based line ranges, inclusive; "500-" is to the end)."""
import sys

lines = open(sys.argv[1]).read().splitlines()
keep = set()
for r in sys.argv[2].split(","):
    a, _, b = r.partition("-")
    keep.update(range(int(a), (int(b) if b else len(lines)) + 1))
cut = 0
for i, l in enumerate(lines, 1):
    if i in keep:
        if cut:
            print("[... %d lines cut ...]" % cut)
            cut = 0
        print(l)
    else:
        cut += 1
if cut:
    print("[... %d lines cut ...]" % cut)
