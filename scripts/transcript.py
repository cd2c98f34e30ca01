"""Plays one real 2-player match of briscola against build/tavolo and
prints both terminals, as docs/PLAYING.md shows them (commands typed are
marked "> "). Usage: python3 scripts/transcript.py"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from bots import Bot, auto_card, pump_until  # noqa: E402
from harness import Server  # noqa: E402


class Typist(Bot):
    """A bot that logs what it types and plays its lowest card."""

    def __init__(self, c, name):
        super().__init__(c, name)
        self.transcript = []

    def on_line(self, line):
        self.transcript.append(line)
        super().on_line(line)

    def play(self, card):
        self.transcript.append("> PLAY " + card)
        super().play(card)

    def type(self, cmd):
        self.transcript.append("> " + cmd)
        self.c.cmd(cmd)


s = Server("--turn-ms", "60000")
a, b = Typist(s.connect(greet=False), "alice"), Typist(s.connect(greet=False), "bob")
for t in (a, b):
    t.transcript.append(t.c.line())
a.type("NICK alice")
pump_until([a], lambda: len(a.transcript) >= 3)
a.type("CREATE briscola")
pump_until([a], lambda: any(l.startswith("SEATED") for l in a.transcript))
b.type("NICK bob")
pump_until([b], lambda: len(b.transcript) >= 3)
b.type("LIST")
pump_until([b], lambda: b.transcript[-1].startswith("OK LIST"))
b.type("JOIN 1")
for t in (a, b):
    t.rng.seed(1)
    t.play = (lambda self: (lambda card: Typist.play(self, auto_card(self.hand))))(t)
pump_until([a, b], lambda: all(t.end and t.transcript[-1].startswith("REVEAL")
                                 for t in (a, b)), timeout=60)
s.stop()
for t in (a, b):
    print("=== %s ===" % t.name)
    print("\n".join(t.transcript))
