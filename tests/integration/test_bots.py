"""Bots and quick play (PROTOCOL §14, docs/PROTOCOL.md §10 "Bots and quick
play"): a person against hard bots to END in every game; BOT's errors;
quick play of two clients; the bot fill after --quick-bot-ms; the queue's
LEAVE and ALREADY; --away-bot and --abandon bot taking a seat over."""
import os
import random
import subprocess
import sys
import time

from harness import Server, run
from bots import GameBot, pump_until

FAST = ["--bot-delay-ms", "0", "--bot-think-ms", "15", "--turn-ms", "20000"]
TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "verify-deal")


def verify(lines, *args):
    p = subprocess.run([sys.executable, TOOL] + list(args), input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def against_bots(game, n, level, think_ms=15, timeout=150):
    # The bots answer within think_ms (--bot-think-ms reaches the search):
    # the person plays as fast, past the default command rate.
    s = Server("--bot-delay-ms", "0", "--bot-think-ms", str(think_ms),
               "--turn-ms", "20000", "--rate", "1000000000", "--burst", "1000000000")
    try:
        ann = GameBot(s.connect(), "ann", rng=random.Random(game))
        ann.nick()
        got = ann.c.ask("CREATE %s %d" % (game, n), r"OK CREATE (\d+)")
        ann.lines.append(got)
        mid = int(got.split()[2])
        for seat in range(1, n):
            ann.send("BOT " + level)
        pump_until([ann], lambda: ann.reveal, timeout=timeout)
        oks = [l for l in ann.lines if l.startswith("OK BOT")]
        assert oks == ["OK BOT %d ~%s%d" % (i, level, i) for i in range(1, n)], oks
        assert any(l.startswith("START %d %s %d ann" % (mid, game, n)) for l in ann.lines)
        assert ann.end is not None and not ann.errors, (ann.end, ann.errors[:3])
        end = [l for l in ann.lines if l.startswith("END ")][0]
        assert end.split()[3] == "score", end
        # The bots' seeds are empty (§13), and the deal verifies.
        reveal = [l for l in ann.lines if l.startswith("REVEAL ")][0]
        assert reveal.split()[3:] == ["-"] * n, reveal
        rc, out = verify(ann.lines, "--name", "ann")
        assert rc == 0, out
    finally:
        assert s.stop() == 0
    assert "ERROR" not in s.log_text()


def test_person_against_hard_briscola():
    against_bots("briscola", 2, "hard")


def test_person_against_hard_scopa():
    against_bots("scopa", 2, "hard")


def test_person_and_easy_bots_briscola_4():
    against_bots("briscola", 4, "easy")


def test_bot_errors():
    s = Server(*FAST)
    try:
        c = s.connect()
        c.ask("BOT", r"ERR NONAME .*")
        c.ask("NICK ann", r"OK NICK ann \S+")
        c.ask("BOT", r"ERR NOTPLAYING .*")
        c.ask("CREATE briscola", r"OK CREATE 1")
        c.expect_line(r"SEATED 1 0 ann")
        c.expect_line(r"COMMIT 1 [0-9a-f]{64}")
        c.ask("BOT smart", r"ERR BADARG .*")
        c.ask("BOT hard hard", r"ERR BADARG .*")
        c.ask("BOT easy", r"OK BOT 1 ~easy1")
        c.expect_line(r"SEATED 1 1 ~easy1")
        c.expect_line(r"START 1 briscola 2 ann ~easy1")
        read_until(c, r"TURN 1 0 \d+")
        c.ask("BOT", r"ERR NOTPLAYING .*")  # the match has started
        c.ask("LEAVE", r"OK LEAVE 1")
        # A waiting match whose people leave goes, bots and all.
        c.ask("CREATE scopa 4", r"OK CREATE 2")
        c.expect_line(r"SEATED 2 0 ann")
        c.expect_line(r"COMMIT 2 .*")
        c.ask("BOT", r"OK BOT 1 ~normal1")
        c.expect_line(r"SEATED 2 1 ~normal1")
        c.ask("BOT hard", r"OK BOT 2 ~hard2")
        c.expect_line(r"SEATED 2 2 ~hard2")
        c.ask("LIST", r"OK LIST 1 2:scopa:3/4:waiting")
        c.ask("LEAVE", r"OK LEAVE 2")
        c.ask("LIST", r"OK LIST 0")
    finally:
        assert s.stop() == 0


def read_until(c, pattern, limit=400):
    import re
    seen = []
    for _ in range(limit):
        line = c.line(timeout=10)
        seen.append(line)
        if re.fullmatch(pattern, line):
            return seen
    raise AssertionError("no %s in %r" % (pattern, seen[-10:]))


def test_quick_play_of_two_clients():
    s = Server(*FAST)
    try:
        a, b = s.connect(), s.connect()
        a.ask("NICK ann", r"OK NICK ann \S+")
        b.ask("NICK bob", r"OK NICK bob \S+")
        a.ask("QUICK briscola", r"OK QUICK briscola 2")
        a.no_line(0.2)
        b.ask("QUICK briscola 2", r"OK QUICK briscola 2")
        for c in (a, b):
            c.expect_line(r"SEATED (\d+) 0 ann")
            c.expect_line(r"SEATED (\d+) 1 bob")
            c.expect_line(r"COMMIT \d+ [0-9a-f]{64}")
            c.expect_line(r"START \d+ briscola 2 ann bob")
        read_until(b, r"TURN \d+ 0 \d+")
        b.ask("LEAVE", r"OK LEAVE \d+")
        read_until(a, r"END \d+ team0 forfeit .*")
        read_until(a, r"REVEAL .*")
        # Different games or seat counts do not meet.
        a.ask("QUICK scopa 2", r"OK QUICK scopa 2")
        b.ask("QUICK scopa 4", r"OK QUICK scopa 4")
        a.no_line(0.3)
        b.no_line(0.0)
    finally:
        assert s.stop() == 0


def test_quick_errors_and_leaving_the_queue():
    s = Server(*FAST)
    try:
        a = s.connect()
        a.ask("QUICK briscola", r"ERR NONAME .*")
        a.ask("NICK ann", r"OK NICK ann \S+")
        a.ask("QUICK", r"ERR BADARG .*")
        a.ask("QUICK poker", r"ERR NOGAME .*")
        a.ask("QUICK hearts 2", r"ERR BADARG .*")
        a.ask("QUICK briscola x", r"ERR BADARG .*")
        a.ask("QUICK hearts", r"OK QUICK hearts 4")
        a.ask("CREATE briscola", r"ERR ALREADY .*")
        a.ask("JOIN 1", r"ERR ALREADY .*")
        a.ask("WATCH 1", r"ERR ALREADY .*")
        a.ask("QUICK hearts", r"ERR ALREADY .*")
        a.ask("BOT", r"ERR NOTPLAYING .*")
        a.ask("LEAVE", r"OK LEAVE")
        a.ask("LEAVE", r"ERR NOTPLAYING .*")
        a.ask("CREATE briscola", r"OK CREATE \d+")
        # A queued player who drops loses its place and its name (§10).
        q = s.connect()
        tok = q.ask("NICK quinn", r"OK NICK quinn (\S+)").split()[3]
        q.ask("QUICK scopa 4", r"OK QUICK scopa 4")
        q.close()
        time.sleep(0.2)
        r = s.connect()
        r.ask("RESUME " + tok, r"ERR BADTOKEN .*")
        r.ask("NICK quinn", r"OK NICK quinn \S+")
    finally:
        assert s.stop() == 0


def test_quick_bot_fill_and_dropping_leaves_the_queue():
    s = Server(*(FAST + ["--quick-bot-ms", "400"]))
    try:
        x = s.connect()
        x.ask("NICK xan", r"OK NICK xan \S+")
        x.ask("QUICK scopa", r"OK QUICK scopa 2")
        x.close()  # dropped: out of the queue, no table with it
        a = s.connect()
        a.ask("NICK ann", r"OK NICK ann \S+")
        t0 = time.monotonic()
        a.ask("QUICK scopa", r"OK QUICK scopa 2")
        a.expect_line(r"SEATED (\d+) 0 ann", timeout=5)
        assert time.monotonic() - t0 >= 0.35
        a.expect_line(r"SEATED \d+ 1 ~normal1")
        a.expect_line(r"COMMIT \d+ [0-9a-f]{64}")
        a.expect_line(r"START \d+ scopa 2 ann ~normal1")
        # Never with 0.
        s2 = Server(*(FAST + ["--quick-bot-ms", "0"]))
        try:
            b = s2.connect()
            b.ask("NICK bob", r"OK NICK bob \S+")
            b.ask("QUICK briscola", r"OK QUICK briscola 2")
            b.no_line(0.8)
        finally:
            assert s2.stop() == 0
    finally:
        assert s.stop() == 0


def stats(c, name):
    w = c.ask("STATS " + name, r"OK STATS .*").split()
    return int(w[3]), int(w[4])


def test_quick_window_widens_with_waiting():
    s = Server(*(FAST + ["--quick-bot-ms", "0"]))
    try:
        a, b = s.connect(), s.connect()
        a.ask("NICK ann pw-ann-1", r"OK NICK ann \S+")
        b.ask("NICK bob pw-bob-1", r"OK NICK bob \S+")
        # Rated forfeits until the ratings are more than 100 apart.
        for k in range(20):
            ra, _ = stats(a, "ann")
            rb, _ = stats(a, "bob")
            if ra - rb > 110:
                break
            mid = int(a.ask("CREATE briscola", r"OK CREATE (\d+)").split()[2])
            b.ask("JOIN %d" % mid, r"OK JOIN %d 1" % mid)
            read_until(b, r"TURN %d 0 \d+" % mid)
            b.ask("LEAVE", r"OK LEAVE %d" % mid)
            read_until(a, r"REVEAL %d .*" % mid)
            deadline = time.monotonic() + 5
            while stats(a, "ann")[1] <= k and time.monotonic() < deadline:
                time.sleep(0.05)
        ra, _ = stats(a, "ann")
        rb, _ = stats(a, "bob")
        assert 110 < ra - rb < 190, (ra, rb)
        t0 = time.monotonic()
        a.ask("QUICK briscola", r"OK QUICK briscola 2")
        b.ask("QUICK briscola", r"OK QUICK briscola 2")
        a.no_line(1.0)  # ±100 at first: too far apart
        a.expect_line(r"SEATED \d+ 0 ann", timeout=8)
        waited = time.monotonic() - t0
        assert 4.5 < waited < 7, waited  # ±200 after 5 s
        a.expect_line(r"SEATED \d+ 1 bob")
    finally:
        assert s.stop() == 0


def two_humans(s, game="briscola"):
    a, b = s.connect(), s.connect()
    a.ask("NICK ann", r"OK NICK ann \S+")
    tok = b.ask("NICK bob", r"OK NICK bob (\S+)").split()[3]
    a.ask("CREATE %s" % game, r"OK CREATE 1")
    b.ask("JOIN 1", r"OK JOIN 1 1")
    return a, b, tok


def test_away_bot_plays_an_away_seat_at_once():
    s = Server("--away-bot", "easy", "--turn-ms", "60000", "--grace-ms", "60000",
               "--bot-delay-ms", "5000")
    try:
        a, b, tok = two_humans(s)
        lines = read_until(a, r"TURN 1 0 \d+")
        hand = [l for l in lines if l.startswith("HAND ")][0].split()[2:]
        b.close()
        read_until(a, r"AWAY 1 1")
        t0 = time.monotonic()
        a.ask("PLAY " + hand[0], r"OK PLAY .*")
        got = read_until(a, r"PLAYED 1 1 \S\S")
        # At once: no bot delay, no TIMEOUT, no turn clock.
        assert time.monotonic() - t0 < 3, time.monotonic() - t0
        assert not any(l.startswith("TIMEOUT") for l in got), got
        # RESUME takes the seat back.
        c = s.connect()
        c.ask("RESUME " + tok, r"OK RESUME bob \S+ 1")
        read_until(c, r"TURN 1 \d \d+")
        read_until(a, r"BACK 1 1")
    finally:
        assert s.stop() == 0


def test_abandon_bot_replaces_and_the_match_goes_on():
    s = Server("--abandon", "bot", "--grace-ms", "300", "--bot-delay-ms", "0",
               "--turn-ms", "60000")
    try:
        ann = GameBot(s.connect(), "ann")
        ann.nick()
        bob = s.connect()
        bob.ask("NICK bob pw-bob-1", r"OK NICK bob \S+")
        ann.lines.append(ann.c.ask("CREATE briscola", r"OK CREATE 1"))
        bob.ask("JOIN 1", r"OK JOIN 1 1")
        bob.close()
        pump_until([ann], lambda: ann.reveal, timeout=60)
        assert "AWAY 1 1" in ann.lines
        assert "REPLACED 1 1 ~normal1" in ann.lines, ann.lines[-20:]
        end = [l for l in ann.lines if l.startswith("END ")][0]
        assert end.split()[3] == "score", end
        assert not ann.errors, ann.errors
        # Unrated, but the replaced player has it as played and lost.
        deadline = time.monotonic() + 5
        while True:
            got = ann.c.ask("STATS bob", r"OK STATS bob .*")
            if got != "OK STATS bob 1500 0 0 0 0" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert got == "OK STATS bob 1500 1 0 1 0", got
    finally:
        assert s.stop() == 0


def test_bot_matches_are_unrated_and_in_history():
    s = Server(*FAST)
    try:
        ann = GameBot(s.connect(), "ann")
        ann.c.ask("NICK ann pw-ann-1", r"OK NICK ann \S+")
        ann.lines.append(ann.c.ask("CREATE briscola", r"OK CREATE 1"))
        ann.send("BOT easy")
        pump_until([ann], lambda: ann.reveal, timeout=60)
        c = ann.c
        c.ask("STATS ann", r"OK STATS ann 1500 0 0 0 0")
        deadline = time.monotonic() + 5
        while True:
            got = c.ask("HISTORY ann")
            if got.startswith("OK HISTORY 1 ") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert got.startswith("OK HISTORY 1 1:briscola:"), got
    finally:
        assert s.stop() == 0


if __name__ == "__main__":
    run([test_person_against_hard_briscola, test_person_against_hard_scopa,
         test_person_and_easy_bots_briscola_4,
         test_bot_errors, test_quick_play_of_two_clients,
         test_quick_errors_and_leaving_the_queue,
         test_quick_bot_fill_and_dropping_leaves_the_queue,
         test_quick_window_widens_with_waiting,
         test_away_bot_plays_an_away_seat_at_once,
         test_abandon_bot_replaces_and_the_match_goes_on,
         test_bot_matches_are_unrated_and_in_history])
