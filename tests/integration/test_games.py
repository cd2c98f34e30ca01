"""Black-box tests of the games of PROTOCOL §12 on the real binary:
whole matches of briscola (2, 4), scopa (2, 4) and hearts (4) played by
bots that choose legal moves from their own hand and the public events
and recompute every trick, capture, sweep and score; spectators and
opponents never see a hand; the new error codes; drop and RESUME mid-hand
with the exact snapshot; kill -9 and restore for each game; every
player's transcript checked by tools/verify-deal."""
import os
import random
import re
import signal
import subprocess
import sys
import time

from bots import GameBot, pump_until
from harness import Server, run

FAST = ("--rate", "100000", "--burst", "100000")
TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "tools", "verify-deal")
NAMES = ["ann", "bob", "cat", "dan"]


def verify(lines, *args):
    p = subprocess.run([sys.executable, TOOL] + list(args), input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def seat_players(s, game, n, seed=1, terse=False, autoplay=True, names=NAMES,
                 password=None):
    rng = random.Random(seed)
    bots = [GameBot(s.connect(), names[i], rng=random.Random(rng.random()),
                    terse=terse, autoplay=autoplay) for i in range(n)]
    for i, b in enumerate(bots):
        if password:  # registered names (rated)
            got = b.c.ask("NICK %s %s" % (b.name, password),
                          r"OK NICK %s [0-9a-f]{32}" % b.name)
            b.lines.append(got)
            b.token = got.split()[3]
        else:
            b.nick()
        if i % 2 == 0:
            b.c.ask("SEED %x" % rng.getrandbits(32), r"OK SEED [0-9a-f]+")
    got = bots[0].c.ask("CREATE %s %d" % (game, n), r"OK CREATE (\d+)")
    bots[0].lines.append(got)
    mid = int(got.split()[2])
    for i, b in enumerate(bots[1:], 1):
        b.lines.append(b.c.ask("JOIN %d" % mid, "OK JOIN %d %d" % (mid, i)))
    return mid, bots


def whole_match(game, n, seed, terse=False, after=None):
    s = Server(*FAST)
    try:
        mid, bots = seat_players(s, game, n, seed, terse=terse)
        spec = GameBot(s.connect(), "spec", spectator=True)
        spec.lines.append(spec.c.ask("WATCH %d" % mid, "OK WATCH %d" % mid))
        everyone = bots + [spec]
        pump_until(everyone, lambda: all(b.reveal for b in everyone), timeout=120)
        ends = {b.end for b in everyone}
        assert len(ends) == 1, ends
        for b in bots:
            assert not b.errors, (b.name, b.errors[:3])
        # no hand ever reached a spectator (asserted as lines come) or an
        # opponent: each player saw only cards dealt to its own seat
        seen = [c for b in bots for c in b.seen_cards]
        # (per hand: verify-deal checks every HAND against its seat's cards)
        assert len(seen) == len(set(seen)) or game != "briscola", "a card reached two players"
        for b in bots:
            rc, out = verify(b.lines, "--name", b.name)
            assert rc == 0, out
        rc, out = verify(spec.lines)
        assert rc == 0, out
        if after:
            after(mid, bots)
        return ends.pop(), bots
    finally:
        s.stop()


def test_briscola_2_and_4():
    for n, seed in ((2, 1), (4, 2)):
        end, _ = whole_match("briscola", n, seed)
        assert re.fullmatch(r"END \d+ (team0|team1|draw) score" + r" \d+" * n, end), end


def test_scopa_2():
    end, bots = whole_match("scopa", 2, 3, terse=True)
    assert re.fullmatch(r"END \d+ (team0|team1) score \d+ \d+", end), end


def test_scopa_4():
    end, _ = whole_match("scopa", 4, 4, terse=True)
    assert re.fullmatch(r"END \d+ (team0|team1) score \d+ \d+ \d+ \d+", end), end


def test_scopa_ambiguous_capture_lists_the_options():
    # Over a few matches some turn offers more than one capture; the bot
    # then sends the card alone and expects the list (PROTOCOL §12).
    seen = []
    for seed in range(10, 16):
        _, bots = whole_match("scopa", 2, seed, terse=True)
        seen += [l for b in bots for l in b.ambiguous_seen]
        if seen:
            break
    assert seen, "no ambiguous capture in six matches"
    assert re.fullmatch(r"ERR BADARG choose a capture: .+ \| .+", seen[0]), seen[0]


def test_hearts_4():
    def history(mid, bots):
        # HISTORY: the seat's own points (each plays for itself), the result as in END
        res = bots[0].end.split()[2]
        for b in bots:
            got = b.c.ask("HISTORY")
            assert got == "OK HISTORY 1 %d:hearts:%s:%d" % (mid, res, b.totals[b.seat]), got
    end, _ = whole_match("hearts", 4, 5, after=history)
    assert re.fullmatch(r"END \d+ (seat[0-3]|draw) score( \d+){4}", end), end


def test_hearts_errors():
    s = Server()
    try:
        mid, bots = seat_players(s, "hearts", 4, 6, autoplay=False)
        pump_until(bots, lambda: all(b.passing for b in bots))
        a, b = bots[0], bots[1]
        a.c.cmd("PLAY " + a.hand[0])
        pump_until(bots, lambda: any(l.startswith("ERR") for l in a.lines))
        assert a.lines[-1].startswith("ERR NOTYOURTURN"), a.lines[-1]  # PLAY while passing
        for cmd, code in (("PASS %s %s" % tuple(a.hand[:2]), "BADARG"),
                          ("PASS %s %s %s" % (a.hand[0], a.hand[0], a.hand[1]), "BADARG"),
                          ("PASS %s %s %s" % (a.hand[0], a.hand[1], b.hand[0]), "NOTINHAND"),
                          ("PLAY %s %s" % (a.hand[0], a.hand[1]), "BADARG")):
            got = a.c.ask(cmd)
            assert got.startswith("ERR %s " % code), (cmd, got)
        assert a.c.ask("PASS %s %s %s" % tuple(a.hand[:3])) == "OK PASS"
        got = a.c.ask("PASS %s %s %s" % tuple(a.hand[3:6]))
        while got.startswith("PASSED"):
            got = a.c.line()
        assert got.startswith("ERR ALREADY "), got
        for x in bots[1:]:
            x.pass_cards()
        pump_until(bots, lambda: all(x.turn is not None for x in bots))
        # a card in hand that the rules forbid now: the lead must be 2c
        holder = next(x for x in bots if x.seat == x.turn)
        other = next(c for c in holder.hand if c != "2c")
        holder.send("PLAY " + other)
        pump_until(bots, lambda: holder.errors)
        assert holder.errors[-1].startswith("ERR ILLEGAL "), holder.errors
        # someone else's turn
        nxt = next(x for x in bots if x.seat != x.turn)
        nxt.send("PLAY " + nxt.hand[0])
        pump_until(bots, lambda: nxt.errors)
        assert nxt.errors[-1].startswith("ERR NOTYOURTURN "), nxt.errors
        # in briscola and scopa no pass is ever due
        s2 = GameBot(s.connect(), "eve")
        s2.nick()
        s2.c.ask("PASS Ac 2c 3c", r"ERR NOTPLAYING .*")
    finally:
        s.stop()


def resume_snapshot(game, n, seed, while_passing=False):
    """Plays a few moves, drops seat 1, RESUMEs it and checks the snapshot
    line by line against what the bot knew."""
    s = Server(*FAST, "--turn-ms", "60000")
    try:
        mid, bots = seat_players(s, game, n, seed, autoplay=False)
        pump_until(bots, lambda: all(b.hand for b in bots))
        if not while_passing:
            if game == "hearts":
                for b in bots:
                    b.pass_cards()
                pump_until(bots, lambda: all(b.turn is not None for b in bots))
            for _ in range(n + 1):  # a trick and one card more
                x = next(b for b in bots if b.seat == b.turn)
                before = x.n_moves
                x.play_some()
                pump_until(bots, lambda: x.n_moves > before and all(
                    b.lines[-1].startswith("TURN") for b in bots))
        else:
            bots[0].pass_cards()
            pump_until(bots, lambda: all("PASSED %d 0" % mid in b.lines for b in bots))
        pump_until(bots, lambda: False if any(b.c.has_buffered() for b in bots) else True)
        old = bots[1]
        old.c.close()
        pump_until([bots[0]], lambda: "AWAY %d 1" % mid in bots[0].lines)
        new = s.connect()
        got = new.ask("RESUME " + old.token, r"OK RESUME %s [0-9a-f]{32} %d" % (old.name, mid))
        lines = []
        while True:
            l = new.line()
            lines.append(l)
            if l.startswith(("TURN", "PASSED", "PASSING")) and not new.has_buffered():
                new.no_line(0.3) if False else None
                break
        lines += new.poll_lines(0.3)
        want = ["START %d %s %d %s" % (mid, game, n, " ".join(NAMES[:n])),
                [l for l in old.lines if l.startswith("COMMIT")][0]]
        if game != "briscola":
            want += ["DEAL %d %d" % (mid, old.hand_no),
                     "SCORE %d %s" % (mid, " ".join(str(t) for t in old.totals))]
        if game == "briscola":
            want.append("TRUMP %d %s" % (mid, old.trump))
        if game == "scopa":
            want.append("TABLE %d %s" % (mid, " ".join(old.table)) if old.table else "TABLE %d" % mid)
        want.append(("HAND %d %s" % (mid, " ".join(old.hand))).rstrip())
        if game != "scopa":
            want += ["PLAYED %d %d %s" % (mid, seat, card) for seat, card in old.trick]
        if while_passing:
            assert re.fullmatch(r"PASSING %d left \d+" % mid, lines[len(want)]), lines
            want.append(lines[len(want)])
            want.append("PASSED %d 0" % mid)
        else:
            t = lines[len(want)] if len(lines) > len(want) else ""
            assert re.fullmatch(r"TURN %d %d \d+" % (mid, old.turn), t), (t, lines)
            want.append(t)
        assert lines == want, "\n%r\n%r" % (lines, want)
        pump_until([bots[0]], lambda: "BACK %d 1" % mid in bots[0].lines)
    finally:
        s.stop()


def test_drop_and_resume_mid_hand_in_each_game():
    resume_snapshot("briscola", 2, 7)
    resume_snapshot("scopa", 2, 8)
    resume_snapshot("scopa", 4, 9)
    resume_snapshot("hearts", 4, 10)
    resume_snapshot("hearts", 4, 11, while_passing=True)


def kill_and_restore(game, n, seed):
    s = Server(*FAST, "--turn-ms", "60000", "--grace-ms", "60000")
    data = s.data_dir
    try:
        mid, bots = seat_players(s, game, n, seed, autoplay=False)
        pump_until(bots, lambda: all(b.hand for b in bots))
        if game == "hearts":
            for b in bots:
                b.pass_cards()
            pump_until(bots, lambda: all(b.turn is not None for b in bots))
        for _ in range(3 * n):
            x = next(b for b in bots if b.seat == b.turn)
            before = x.n_moves
            x.play_some()
            pump_until(bots, lambda: x.n_moves > before and all(
                b.lines[-1].startswith("TURN") for b in bots))
        s.signal(signal.SIGKILL)
        s.proc.wait(timeout=5)
    finally:
        s.stop()
    s2 = Server(*FAST, "--turn-ms", "60000", data_dir=data)
    try:
        assert "restored after %d moves" % (3 * n + (4 if game == "hearts" else 0)) in s2.log_text(), s2.log_text()
        new = []
        for b in bots:
            c = s2.connect()
            b.c = c
            b.lines.append(c.ask("RESUME " + b.token, r"OK RESUME %s [0-9a-f]{32} %d" % (b.name, mid)))
            b.autoplay = True
            b.resumed = True
            b.old_hand = list(b.hand)
            new.append(b)
        pump_until(new, lambda: all(b.turn is not None and b.lines[-1].startswith(("TURN", "BACK"))
                                    for b in new) and False or all(b.end for b in new) or all(
            any(l.startswith("TURN") for l in b.lines[-8:]) for b in new), timeout=30)
        pump_until(new, lambda: all(b.reveal for b in new), timeout=120)
        for b in new:
            assert not b.errors, b.errors
        assert len({b.end for b in new}) == 1
    finally:
        s2.stop()


def test_kill_9_and_restore_in_each_game():
    kill_and_restore("briscola", 2, 12)
    kill_and_restore("scopa", 2, 13)
    kill_and_restore("hearts", 4, 14)


SCHEMA_2 = [
    "CREATE TABLE accounts(name TEXT PRIMARY KEY, hash TEXT NOT NULL,"
    " rating REAL NOT NULL DEFAULT 1500, played INTEGER NOT NULL DEFAULT 0,"
    " won INTEGER NOT NULL DEFAULT 0, lost INTEGER NOT NULL DEFAULT 0,"
    " drawn INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL)",
    "CREATE INDEX accounts_by_rating ON accounts(rating DESC, name)",
    "CREATE TABLE matches(id INTEGER PRIMARY KEY, game TEXT NOT NULL,"
    " n_seats INTEGER NOT NULL, state TEXT NOT NULL CHECK (state IN ('playing', 'over')),"
    " deal TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,"
    " result TEXT, reason TEXT, log TEXT)",
    "CREATE INDEX matches_playing ON matches(state) WHERE state = 'playing'",
    "CREATE TABLE seats(match_id INTEGER NOT NULL REFERENCES matches(id),"
    " seat INTEGER NOT NULL, name TEXT NOT NULL, token TEXT NOT NULL,"
    " registered INTEGER NOT NULL, points INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (match_id, seat))",
    "CREATE INDEX seats_by_name ON seats(name, match_id)",
    "CREATE TABLE moves(match_id INTEGER NOT NULL REFERENCES matches(id),"
    " seq INTEGER NOT NULL, seat INTEGER NOT NULL, card TEXT NOT NULL,"
    " timeout INTEGER NOT NULL, PRIMARY KEY (match_id, seq))",
]


def test_a_version_1_database_restores_its_match_in_play():
    """A schema-2 journal (version 1: a briscola deal of recorded draws)
    migrates, and its match in play restores with the very cards those
    draws dealt; it has no COMMIT, and ends without REVEAL."""
    import sqlite3
    import tempfile
    tmp = tempfile.mkdtemp(prefix="tavolo-v1-")
    os.makedirs(os.path.join(tmp, "data"))
    db = sqlite3.connect(os.path.join(tmp, "data", "tavolo.db"))
    for sql in SCHEMA_2:
        db.execute(sql)
    db.execute("PRAGMA user_version = 2")
    rng = random.Random(21)
    draws = [rng.randrange(1 << 31) for _ in range(39)]
    # version 1's deal: card_shuffle (Fisher-Yates from the top, j =
    # draw mod i) over the 40 cards in the canonical order
    deck = [r + s for s in "cdhs" for r in "A234567JQK"]
    for k, i in enumerate(range(40, 1, -1)):
        j = draws[k] % i
        deck[i - 1], deck[j] = deck[j], deck[i - 1]
    t0, t1 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
    db.execute("INSERT INTO matches(id, game, n_seats, state, deal, started_at)"
               " VALUES (4, 'briscola', 2, 'playing', ?, 0)", (",".join(map(str, draws)),))
    db.execute("INSERT INTO seats VALUES (4, 0, 'ann', ?, 0, 0)", (t0,))
    db.execute("INSERT INTO seats VALUES (4, 1, 'bob', ?, 0, 0)", (t1,))
    db.execute("INSERT INTO moves VALUES (4, 1, 0, ?, 0)", (deck[0],))
    db.commit()
    db.close()
    s = Server(*FAST, data_dir=os.path.join(tmp, "data"))
    try:
        assert "match 4 restored after 1 moves" in s.log_text(), s.log_text()
        a, b = GameBot(s.connect(), "ann"), GameBot(s.connect(), "bob")
        a.c.ask("RESUME " + t0, r"OK RESUME ann [0-9a-f]{32} 4")
        b.c.ask("RESUME " + t1, r"OK RESUME bob [0-9a-f]{32} 4")
        b.c.expect_line("START 4 briscola 2 ann bob")
        b.c.expect_line("TRUMP 4 %s" % deck[6])            # no COMMIT: nothing to prove
        b.c.expect_line("HAND 4 %s" % " ".join(deck[3:6]))  # the recorded deal
        b.c.expect_line("PLAYED 4 0 %s" % deck[0])
        b.c.expect_line(r"TURN 4 1 \d+")
        a.c.expect_line("START 4 briscola 2 ann bob")
        a.c.expect_line("TRUMP 4 %s" % deck[6])
        a.c.expect_line("HAND 4 %s" % " ".join(deck[1:3]))
        b.c.ask("LEAVE", "OK LEAVE 4")
        lines = []
        while not any(l.startswith("END 4") for l in lines):
            lines.append(a.c.line())
        a.c.no_line(0.3)  # no REVEAL
        assert not any(l.startswith("REVEAL") for l in lines), lines
    finally:
        s.stop()


def elo_delta(side, other, score):
    return 32.0 * (score - 1.0 / (1.0 + 10.0 ** ((other - side) / 400.0)))


def test_ratings_per_game():
    """PROTOCOL §14: a registered name's record is per game; hearts is
    rated pair by pair from END's totals, each move scaled by 1/3."""
    s = Server(*FAST)
    data = s.data_dir
    try:
        # hearts: 4 registered names, from 1500 each
        mid, bots = seat_players(s, "hearts", 4, 21, password="pw")
        pump_until(bots, lambda: all(b.reveal for b in bots), timeout=120)
        w = bots[0].end.split()
        assert w[3] == "score", w
        res, totals = w[2], [int(x) for x in w[4:8]]
        low = min(totals)
        c = bots[0].c
        for i, b in enumerate(bots):
            d = sum(elo_delta(1500, 1500, 1.0 if totals[i] < totals[j] else
                              0.5 if totals[i] == totals[j] else 0.0)
                    for j in range(4) if j != i) / 3
            won = res == "seat%d" % i
            drawn = res == "draw" and totals[i] == low
            assert won == (res != "draw" and totals[i] == low)
            want = "OK STATS %s %.0f 1 %d %d %d" % (b.name, 1500 + d, won,
                                                   not won and not drawn, drawn)
            assert c.ask("STATS %s hearts" % b.name) == want, (want, totals, res)
        hearts_top = c.ask("TOP hearts")
        assert hearts_top.startswith("OK TOP 4 "), hearts_top
        # not in the other games' records
        c.ask("STATS ann", "OK STATS ann 1500 0 0 0 0")
        c.ask("STATS ann briscola", "OK STATS ann 1500 0 0 0 0")
        c.ask("STATS ann scopa", "OK STATS ann 1500 0 0 0 0")
        for b in bots:
            b.c.ask("QUIT", "OK QUIT")
        time.sleep(0.2)
        # briscola, then scopa: ann (seat 0) against bob (seat 1)
        ends = {}
        for game, seed in (("briscola", 22), ("scopa", 23)):
            mid, two = seat_players(s, game, 2, seed, password="pw")
            pump_until(two, lambda: all(b.reveal for b in two), timeout=120)
            ends[game] = two[0].end.split()[2]
            for b in two:
                b.c.ask("QUIT", "OK QUIT")
            time.sleep(0.2)
        c = s.connect()
        for game, res in ends.items():
            ann = {"team0": "1516 1 1 0 0", "team1": "1484 1 0 1 0",
                   "draw": "1500 1 0 0 1"}[res]
            bob = {"team0": "1484 1 0 1 0", "team1": "1516 1 1 0 0",
                   "draw": "1500 1 0 0 1"}[res]
            c.ask("STATS ann %s" % game, "OK STATS ann %s" % ann)
            c.ask("STATS bob %s" % game, "OK STATS bob %s" % bob)
        top = c.ask("TOP scopa")
        want = {"team0": "ann:1516 cat:1500 dan:1500 bob:1484",
                "team1": "bob:1516 cat:1500 dan:1500 ann:1484",
                "draw": "ann:1500 bob:1500 cat:1500 dan:1500"}[ends["scopa"]]
        assert top == "OK TOP 4 " + want, top
        c.ask("TOP", c.ask("TOP briscola"))  # the default is briscola
        c.ask("STATS ann", c.ask("STATS ann briscola"))
        # the same hearts record after these games
        c.ask("TOP hearts", hearts_top)
        # HISTORY is across games, newest first
        c.ask("STATS", r"ERR NONAME .*")
        c.ask("NICK zed", r"OK NICK zed \S+")
        got = c.ask("HISTORY ann")
        assert re.fullmatch(r"OK HISTORY 3 \d+:scopa:\S+ \d+:briscola:\S+ \d+:hearts:\S+",
                            got), got
        # errors: unknown game, too many words; one word is always a name
        c.ask("STATS ann chess", r"ERR NOGAME .*")
        c.ask("TOP chess", r"ERR NOGAME .*")
        c.ask("STATS ann hearts x", r"ERR BADARG .*")
        c.ask("TOP hearts x", r"ERR BADARG .*")
        c.ask("STATS hearts", r"ERR BADNAME .*")
        c.ask("STATS nobody hearts", r"ERR BADNAME .*")
        c.ask("STATS zed hearts", r"ERR BADNAME .*")  # guests have no record
    finally:
        assert s.stop() == 0
    from test_store import check_data
    code, report = check_data(data)
    assert code == 0 and "4 accounts, 3 finished" in report, report


if __name__ == "__main__":
    run([test_briscola_2_and_4, test_scopa_2, test_scopa_4,
         test_scopa_ambiguous_capture_lists_the_options, test_hearts_4,
         test_hearts_errors, test_drop_and_resume_mid_hand_in_each_game,
         test_kill_9_and_restore_in_each_game,
         test_a_version_1_database_restores_its_match_in_play,
         test_ratings_per_game])
