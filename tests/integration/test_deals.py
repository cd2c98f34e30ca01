"""Black-box tests of protocol version 2's verifiable deals and new
commands (PROTOCOL §11, §13): COMMIT after the SEATED lines and in
snapshots, SEED, REVEAL after END, JOIN of the watched match, the new
error codes; real transcripts checked with tools/verify-deal, and a
tampered one rejected."""
import os
import re
import subprocess
import sys

from bots import Bot, pump_until
from harness import Server, run

FAST = ("--rate", "100000", "--burst", "100000")
TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "tools", "verify-deal")


def verify(lines, *args):
    """Runs tools/verify-deal on a transcript; returns (exit code, output)."""
    p = subprocess.run([sys.executable, TOOL] + list(args), input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def test_seed_syntax_and_gating():
    s = Server()
    try:
        c = s.connect()
        c.ask("SEED 00FF", "OK SEED 00ff")  # no name needed, kept lowercase
        c.ask("SEED", r"ERR BADARG .*")
        c.ask("SEED xyz", r"ERR BADARG .*")
        c.ask("SEED " + "a" * 65, r"ERR BADARG .*")
        c.ask("SEED 1 2", r"ERR BADARG .*")
        c.ask("SEED " + "AbC" * 21 + "d", "OK SEED " + "abc" * 21 + "d")
        c.ask("PASS Ac 2c 3c", r"ERR NONAME .*")  # NICK gating before arguments
        c.ask("PASS", r"ERR NONAME .*")
        c.ask("NICK sam", r"OK NICK sam [0-9a-f]{32}")
        c.ask("PASS", r"ERR BADARG .*")
        c.ask("PASS Ac 2c", r"ERR BADARG .*")
        c.ask("PASS Ac 2c Zz", r"ERR BADARG .*")
        c.ask("PASS Ac 2c 3c", r"ERR NOTPLAYING .*")
        c.ask("PLAY Ac 2c", r"ERR NOTPLAYING .*")
        c.ask("PLAY Ac Zz", r"ERR BADARG .*")
        for n in (8, 9, 12, 13):  # more words than a move names: BADARG, never a crash
            c.ask("PLAY " + " ".join(["Ac"] * n), r"ERR (BADARG|NOTPLAYING) .*")
        c.ask("PLAY " + " ".join(["Ac"] * 9), r"ERR BADARG .*")
        c.ask("SEED 0", "OK SEED 0")
    finally:
        s.stop()


def test_commit_seed_reveal_verified_and_tampered():
    s = Server(*FAST)
    try:
        a, b = Bot(s.connect(), "alice"), Bot(s.connect(), "bob")
        a.nick()
        b.nick()
        a.c.ask("SEED C0FFEE", "OK SEED c0ffee")
        mid = int(a.c.ask("CREATE briscola", r"OK CREATE (\d+)").split()[2])
        a.c.expect_line("SEATED %d 0 alice" % mid)
        commit = a.c.expect_line("COMMIT %d [0-9a-f]{64}" % mid).split()[2]
        # a spectator of the waiting match: SEATED lines, then COMMIT
        w = Bot(s.connect(), "walt", autoplay=False)
        w.c.ask("WATCH %d" % mid, "OK WATCH %d" % mid)
        w.c.expect_line("SEATED %d 0 alice" % mid)
        assert w.c.expect_line("COMMIT %d [0-9a-f]{64}" % mid).split()[2] == commit
        b.c.ask("SEED 1234", "OK SEED 1234")
        b.c.ask("JOIN %d" % mid, "OK JOIN %d 1" % mid)
        b.c.expect_line("SEATED %d 0 alice" % mid)
        b.c.expect_line("SEATED %d 1 bob" % mid)
        assert b.c.expect_line("COMMIT %d [0-9a-f]{64}" % mid).split()[2] == commit
        for x in (a, b, w):
            x.lines.append("COMMIT %d %s" % (mid, commit))  # read above, keep it
        a.c.cmd("SEED ff")  # after START: does not count
        pump_until([a, b, w], lambda: a.end and b.end and w.end, timeout=60)
        pump_until([a, b, w], lambda: all(any(l.startswith("REVEAL ") for l in x.lines)
                                          for x in (a, b, w)))
        reveal = [l for l in a.lines if l.startswith("REVEAL ")]
        assert len(reveal) == 1, reveal
        assert re.fullmatch(r"REVEAL %d [0-9a-f]{64} c0ffee 1234" % mid, reveal[0]), reveal
        # REVEAL comes right after END
        i = a.lines.index(a.end)
        assert a.lines[i + 1] == reveal[0], a.lines[i:i + 2]
        for x in (a, b, w):
            assert reveal[0] in x.lines
        # the transcripts check, a player's and the spectator's
        for x in (a, b):
            rc, out = verify(x.lines, "--name", x.name)
            assert rc == 0 and "HAND" in out and "DRAW" in out, out
        rc, out = verify(w.lines)
        assert rc == 0 and "spectator" in out, out
        # a tampered transcript: a dealt card changed
        lines = list(b.lines)
        k = next(i for i, l in enumerate(lines) if l.startswith("HAND %d " % mid))
        w_ = lines[k].split()
        other = next(c for c in ("Ac", "2c", "3c", "4c") if c not in w_)
        w_[2] = other
        lines[k] = " ".join(w_)
        rc, out = verify(lines, "--name", "bob")
        assert rc == 1, (rc, out)
        # and a tampered commitment
        lines = [l if not l.startswith("COMMIT ") else "COMMIT %d %s" % (mid, "0" * 64)
                 for l in a.lines]
        rc, out = verify(lines)
        assert rc == 1, (rc, out)
    finally:
        s.stop()


def test_join_of_the_watched_match():
    s = Server()
    try:
        a = Bot(s.connect(), "a", autoplay=False)
        w = Bot(s.connect(), "w", autoplay=False)
        x = Bot(s.connect(), "x", autoplay=False)
        for y in (a, w, x):
            y.nick()
        a.c.ask("CREATE briscola", "OK CREATE 1")
        a.c.expect_line("SEATED 1 0 a")
        commit = a.c.expect_line(r"COMMIT 1 [0-9a-f]{64}")
        x.c.ask("CREATE briscola", "OK CREATE 2")
        x.c.expect_line("SEATED 2 0 x")
        x.c.expect_line(r"COMMIT 2 [0-9a-f]{64}")
        w.c.ask("WATCH 1", "OK WATCH 1")
        w.c.expect_line("SEATED 1 0 a")
        assert w.c.line() == commit
        w.c.ask("JOIN 2", r"ERR ALREADY .*")  # watching another match
        w.c.ask("JOIN 1", "OK JOIN 1 1")      # the watched one: takes the seat
        w.c.expect_line("SEATED 1 0 a")
        w.c.expect_line("SEATED 1 1 w")
        assert w.c.line() == commit
        w.c.expect_line(r"START 1 briscola 2 a w")
        w.c.expect_line(r"TRUMP 1 \S\S")
        w.c.expect_line(r"HAND 1 \S\S \S\S \S\S")
        w.c.expect_line(r"TURN 1 0 \d+")
        w.c.no_line(0.3)  # once: no second copy as a spectator
        # a second JOIN: already seated
        w.c.ask("JOIN 1", r"ERR ALREADY .*")
        # a spectator of a match in play cannot take a seat
        x.c.ask("LEAVE", "OK LEAVE 2")
        x.c.ask("WATCH 1", "OK WATCH 1")
        x.c.expect_line("START 1 briscola 2 a w")
        assert x.c.line() == commit  # snapshot: COMMIT right after START
        x.c.expect_line(r"TRUMP 1 \S\S")
        x.c.expect_line(r"TURN 1 0 \d+")
        x.c.ask("JOIN 1", r"ERR FULL .*")
        x.c.ask("WATCH 1", r"ERR ALREADY .*")
    finally:
        s.stop()


def test_error_codes_of_version_2_in_briscola():
    s = Server()
    try:
        a, b = Bot(s.connect(), "a", autoplay=False), Bot(s.connect(), "b", autoplay=False)
        a.nick()
        b.nick()
        a.c.ask("CREATE briscola", "OK CREATE 1")
        b.c.ask("JOIN 1", "OK JOIN 1 1")
        pump_until([a, b], lambda: a.hand and b.hand and getattr(a, "turn", None) == 0)
        a.c.ask("PLAY %s %s" % (a.hand[0], a.hand[1]), r"ERR BADARG .*")  # one card in briscola
        b.c.ask("PLAY %s %s" % (b.hand[0], b.hand[1]), r"ERR BADARG .*")
        a.c.ask("PASS %s %s %s" % tuple(a.hand), r"ERR NOTYOURTURN .*")  # no pass is due
        b.c.ask("PLAY %s" % b.hand[0], r"ERR NOTYOURTURN .*")
        a.c.ask("PLAY %s" % b.hand[0], r"ERR NOTINHAND .*")
        a.c.ask("PLAY %s" % a.hand[0], "OK PLAY %s" % a.hand[0])
        # LEAVE: the leaver hears nothing more (no END, no REVEAL)
        a.c.cmd("LEAVE")
        while a.c.line() != "OK LEAVE 1":
            pass
        a.c.no_line(0.3)
        pump_until([b], lambda: b.end)
        assert b.end.startswith("END 1 team1 forfeit"), b.end
        pump_until([b], lambda: any(l.startswith("REVEAL 1 ") for l in b.lines))
        assert re.fullmatch(r"REVEAL 1 [0-9a-f]{64} - -", b.lines[-1]), b.lines[-1]
    finally:
        s.stop()


if __name__ == "__main__":
    run([test_seed_syntax_and_gating, test_commit_seed_reveal_verified_and_tampered,
         test_join_of_the_watched_match, test_error_codes_of_version_2_in_briscola])
