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


def seat_players(s, game, n, seed=1, terse=False, autoplay=True, names=NAMES):
    rng = random.Random(seed)
    bots = [GameBot(s.connect(), names[i], rng=random.Random(rng.random()),
                    terse=terse, autoplay=autoplay) for i in range(n)]
    for i, b in enumerate(bots):
        b.nick()
        if i % 2 == 0:
            b.c.ask("SEED %x" % rng.getrandbits(32), r"OK SEED [0-9a-f]+")
    got = bots[0].c.ask("CREATE %s %d" % (game, n), r"OK CREATE (\d+)")
    bots[0].lines.append(got)
    mid = int(got.split()[2])
    for i, b in enumerate(bots[1:], 1):
        b.lines.append(b.c.ask("JOIN %d" % mid, "OK JOIN %d %d" % (mid, i)))
    return mid, bots


def whole_match(game, n, seed, terse=False):
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
    end, _ = whole_match("hearts", 4, 5)
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
                    b.lines[-1].startswith(("TURN", "DEAL", "HAND")) for b in bots))
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
                b.lines[-1].startswith(("TURN", "HAND", "TABLE")) for b in bots))
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


if __name__ == "__main__":
    run([test_briscola_2_and_4, test_scopa_2, test_scopa_4,
         test_scopa_ambiguous_capture_lists_the_options, test_hearts_4,
         test_hearts_errors, test_drop_and_resume_mid_hand_in_each_game,
         test_kill_9_and_restore_in_each_game])
