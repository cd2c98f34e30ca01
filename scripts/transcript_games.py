"""Plays one real match of scopa (2 players) or hearts (4 players) against
build/tavolo and prints every terminal as a person with nc would see it
(what the person typed is marked "> "), then runs tools/verify-deal on
each saved terminal. Usage:

    python3 scripts/transcript_games.py scopa|hearts [--seed N] [--out DIR]

The players choose legal moves at random (tests/integration/bots.py,
GameBot). In scopa the first player sometimes types an ambiguous PLAY
(one card, several captures) to show the ERR BADARG with the options and
then names one; in hearts each player once tries a card of another suit
while holding the suit led, to show the ERR ILLEGAL. Every terminal is
written whole to DIR/<name>.txt."""
import argparse
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from bots import GameBot, pump_until  # noqa: E402
from harness import Server  # noqa: E402


class Person(GameBot):
    """A GameBot whose terminal is kept as nc shows it."""

    def __init__(self, c, name, **kw):
        super().__init__(c, name, **kw)
        self.tried_illegal = False
        self.lines.append(c.line())  # HELLO

    def type(self, cmd):
        self.send(cmd)

    def on_line(self, line):
        super().on_line(line)
        w = line.split()
        if w[:2] == ["OK", "NICK"]:
            self.token = w[3]
        if w[:2] == ["ERR", "ILLEGAL"] and self.game == "hearts":
            self.play_some()  # now a legal card

    def play_some(self, named=False):
        if self.game == "hearts" and not self.tried_illegal and self.trick:
            led = self.trick[0][1][1]
            other = [c for c in self.hand if c[1] != led]
            if other and any(c[1] == led for c in self.hand):
                self.tried_illegal = True
                self.send("PLAY " + other[0])  # does not follow suit
                return
        super().play_some(named)


def wait_reply(p, bots, prefix):
    n = len(p.lines)
    pump_until(bots, lambda: any(l.startswith(prefix) for l in p.lines[n:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("game", choices=["scopa", "hearts"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    n = 2 if a.game == "scopa" else 4
    names = ["alice", "bob", "carol", "dave"][:n]
    rng = random.Random(a.seed)
    s = Server("--rate", "100000", "--burst", "100000")
    try:
        ps = [Person(s.connect(greet=False), nm, rng=random.Random(rng.random()),
                     terse=(a.game == "scopa" and i == 0))
              for i, nm in enumerate(names)]
        for p in ps:
            p.type("NICK " + p.name)
            wait_reply(p, ps, "OK NICK")
        ps[0].type("SEED %08x" % rng.getrandbits(32))
        wait_reply(ps[0], ps, "OK SEED")
        ps[0].type("CREATE %s %d" % (a.game, n) if a.game == "hearts" else "CREATE scopa")
        wait_reply(ps[0], ps, "OK CREATE")
        mid = next(l for l in ps[0].lines if l.startswith("OK CREATE")).split()[2]
        for p in ps[1:]:
            p.type("LIST")
            wait_reply(p, ps, "OK LIST")
            p.type("JOIN " + mid)
            wait_reply(p, ps, "OK JOIN")
        pump_until(ps, lambda: all(p.reveal for p in ps), timeout=300)
    finally:
        s.stop()
    out = a.out or os.path.join("build", "transcripts", a.game)
    os.makedirs(out, exist_ok=True)
    for p in ps:
        path = os.path.join(out, p.name + ".txt")
        with open(path, "w") as f:
            f.write("\n".join(p.lines) + "\n")
        print("=== %s's terminal (%s, %d lines) ===" % (p.name, path, len(p.lines)))
        print("\n".join(p.lines))
    for p in ps:
        cmd = ["tools/verify-deal", os.path.join(out, p.name + ".txt")]
        r = subprocess.run([sys.executable] + cmd, capture_output=True, text=True)
        print("=== $ %s  (exit %d) ===" % (" ".join(cmd), r.returncode))
        print((r.stdout + r.stderr).rstrip())


if __name__ == "__main__":
    main()
