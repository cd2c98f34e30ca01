"""Bot seats survive a restart (PROTOCOL §14; docs/BOTS.md "Restarts"):
the journal's START names who plays each seat (a person, or a bot and its
level) and REPLACED records a bot taking a dropped player's seat, so that
after kill -9 the restored match has its bots again: they move on their
own (even before anybody RESUMEs) and the match goes on to END; the
replaced player's STATS count the match as played and lost, as without
the restart; the data checks clean."""
import random
import signal
import subprocess
import time

from bots import GameBot, pump_until
from harness import BINARY, Server, run

FAST = ["--bot-think-ms", "15", "--turn-ms", "60000", "--grace-ms", "60000",
        "--rate", "1000000000", "--burst", "1000000000"]


def check_data(data_dir):
    r = subprocess.run([BINARY, "--check-data", data_dir], capture_output=True,
                       timeout=30, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def kill9(s):
    s.signal(signal.SIGKILL)
    s.proc.wait(timeout=5)
    s.stop()


def resume(s, bot, mid):
    """bot takes its seat back on a new connection, then plays on."""
    bot.c = s.connect()
    got = bot.c.ask("RESUME " + bot.token,
                    r"OK RESUME %s [0-9a-f]{32} %d" % (bot.name, mid))
    bot.lines.append(got)
    bot.resumed = True
    bot.autoplay = True


def restore_with_bots(game, levels):
    """ann against bots of levels; the server dies (kill -9) right after
    ann's first move, while the bots' moves are still due (a long
    --bot-delay-ms holds them), and comes back with --bot-delay-ms 0."""
    n = len(levels) + 1
    s = Server("--bot-delay-ms", "30000", *FAST)
    data = s.data_dir
    try:
        ann = GameBot(s.connect(), "ann", rng=random.Random(game), autoplay=False)
        ann.nick()
        got = ann.c.ask("CREATE %s %d" % (game, n), r"OK CREATE (\d+)")
        ann.lines.append(got)
        mid = int(got.split()[2])
        for level in levels:
            ann.send("BOT " + level)
        names = ["ann"] + ["~%s%d" % (lv, i + 1) for i, lv in enumerate(levels)]
        pump_until([ann], lambda: ann.match is not None)
        oks = [l for l in ann.lines if l.startswith("OK BOT")]
        assert oks == ["OK BOT %d %s" % (i + 1, x) for i, x in enumerate(names[1:])], oks
        if game == "hearts":
            pump_until([ann], lambda: ann.passing and ann.hand)
            ann.pass_cards()
            pump_until([ann], lambda: "OK PASS" in " ".join(ann.lines[-3:]))
        else:
            pump_until([ann], lambda: ann.turn == 0 and ann.hand)
            ann.play_some()
            pump_until([ann], lambda: any(l.startswith("PLAYED %d 0 " % mid)
                                          for l in ann.lines))
        # Acknowledged: on disk. No bot has moved yet (30 s of delay).
        assert not any(l.startswith(("PLAYED %d 1" % mid, "PASSED %d 1" % mid))
                       for l in ann.lines), ann.lines[-6:]
        kill9(s)
    finally:
        s.stop()

    s2 = Server("--bot-delay-ms", "0", *FAST, data_dir=data)
    try:
        log = s2.log_text()
        assert "match %d restored after 1 moves" % mid in log, log
        # The bots move while ann is still away: a watcher sees ann's turn
        # come round again (after ann's one move, a bot was due: in
        # hearts, TURN comes only once every seat has passed).
        w = s2.connect()
        w.ask("NICK eve", r"OK NICK eve \S+")
        w.ask("WATCH %d" % mid, r"OK WATCH %d" % mid)
        want = "TURN %d 0 " % mid
        deadline = time.monotonic() + 30
        seen = []
        while not any(l.startswith(want) for l in seen):
            assert time.monotonic() < deadline, seen[-10:]
            seen += w.poll_lines(0.2)
        resume(s2, ann, mid)
        pump_until([ann], lambda: ann.reveal, timeout=240)
        start = [l for l in ann.lines if l.startswith("START ")][-1]
        assert start == "START %d %s %d %s" % (mid, game, n, " ".join(names)), start
        assert ann.end is not None and not ann.errors, (ann.end, ann.errors[:3])
        assert ann.end.split()[3] == "score", ann.end
    finally:
        assert s2.stop() == 0
    assert "could not be restored" not in s2.log_text()
    assert "ok: " in check_data(data)


def test_briscola_against_hard_survives_kill9():
    restore_with_bots("briscola", ["hard"])


def test_scopa_against_easy_survives_kill9():
    restore_with_bots("scopa", ["easy"])


def test_hearts_against_hard_and_easy_survives_kill9():
    restore_with_bots("hearts", ["hard", "easy", "hard"])


def stats(c, name, want, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        got = c.ask("STATS " + name, r"OK STATS %s .*" % name)
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def test_replaced_seat_survives_kill9():
    """bob drops, --abandon bot gives his seat to ~normal1 (REPLACED); the
    server dies; restored, ~normal1 plays on and bob has the match as
    played and lost."""
    args = ["--abandon", "bot", "--bot-delay-ms", "0", "--bot-think-ms", "15",
            "--rate", "1000000000", "--burst", "1000000000",
            "--turn-ms", "60000"]
    s = Server(*args, "--grace-ms", "300")
    data = s.data_dir
    try:
        ann = GameBot(s.connect(), "ann", autoplay=False)
        ann.nick()
        bob = s.connect()
        bob.ask("NICK bob pw-bob-1", r"OK NICK bob \S+")
        ann.lines.append(ann.c.ask("CREATE briscola", r"OK CREATE 1"))
        bob.ask("JOIN 1", r"OK JOIN 1 1")
        bob.close()
        pump_until([ann], lambda: "REPLACED 1 1 ~normal1" in ann.lines, timeout=30)
        # A trick with the bot, then kill -9 at ann's turn.
        pump_until([ann], lambda: ann.turn == 0 and ann.hand)
        ann.play_some()
        # (the bot may win the trick and lead again: wait for ann's turn)
        pump_until([ann], lambda: any(l.startswith("PLAYED 1 1 ") for l in ann.lines)
                   and ann.lines[-1].startswith("TURN 1 0 "))
        n_played = sum(1 for l in ann.lines if l.startswith("PLAYED 1 "))
        kill9(s)
    finally:
        s.stop()

    s2 = Server(*args, "--grace-ms", "60000", data_dir=data)
    try:
        log = s2.log_text()
        assert "match 1 restored after %d moves" % n_played in log, log
        resume(s2, ann, 1)
        pump_until([ann], lambda: ann.reveal, timeout=120)
        start = [l for l in ann.lines if l.startswith("START ")][-1]
        assert start == "START 1 briscola 2 ann ~normal1", start
        assert ann.end.split()[3] == "score", ann.end
        assert not ann.errors, ann.errors
        # Unrated, but bob has it as played and lost, as without a restart.
        got = stats(ann.c, "bob", "OK STATS bob 1500 1 0 1 0")
        assert got == "OK STATS bob 1500 1 0 1 0", got
    finally:
        assert s2.stop() == 0
    assert "could not be restored" not in s2.log_text()
    assert "ok: 1 accounts, 1 finished matches, 0 in play" in check_data(data)


if __name__ == "__main__":
    run([test_briscola_against_hard_survives_kill9,
         test_scopa_against_easy_survives_kill9,
         test_hearts_against_hard_and_easy_survives_kill9,
         test_replaced_seat_survives_kill9])
