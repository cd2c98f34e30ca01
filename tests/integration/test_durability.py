"""Durability levels (issue 10; docs/OPERATIONS.md, "Durability"): kill -9
under load at each --durability loses no move any client saw acknowledged;
a simulated power cut (tests/powercut/powercut.c: only what was fsynced
survives) loses nothing acknowledged at `power`, and at `process` only
moves acknowledged within the last --fsync-ms (plus slack) before the cut;
the database is consistent (--check-data clean) and every match in play
restores, whatever was lost."""
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

from bots import Bot, pump_until
from harness import BINARY, Server, run

FAST = ("--rate", "100000", "--burst", "100000", "--max-per-ip", "1000",
        "--turn-ms", "60000", "--grace-ms", "60000")
POWERCUT_LIB = os.environ.get("POWERCUT_LIB") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "tests", "libpowercut.so")
N_MATCHES = 30
# A move acknowledged this long before the cut must be on disk at
# `process`, on top of --fsync-ms: one fsync (p99 34 ms on this disk)
# and the scheduling of a busy 2-core machine.
SLACK_S = 0.4


class Player(Bot):
    """A bot that keeps each `OK PLAY` it read, with when it read it."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.acked = []  # (time read, match, card)

    def on_line(self, line):
        if line.startswith("OK PLAY "):
            self.acked.append((time.monotonic(), self.match, line.split()[2]))
        super().on_line(line)


def check_data(data_dir):
    r = subprocess.run([BINARY, "--check-data", data_dir], capture_output=True,
                       timeout=30, text=True)
    return r.returncode, r.stdout


def start_server(args, powercut_dir=None):
    """A server; with powercut_dir, under the shim, its data there."""
    if powercut_dir is None:
        return Server(*FAST, *args)
    assert os.path.exists(POWERCUT_LIB), "build the powercut target: " + POWERCUT_LIB
    old = {k: os.environ.get(k) for k in ("LD_PRELOAD", "POWERCUT_DIR", "ASAN_OPTIONS")}
    os.environ["LD_PRELOAD"] = os.path.abspath(POWERCUT_LIB)
    os.environ["POWERCUT_DIR"] = powercut_dir
    # Under ASan the shim is not the first library; it needs no ASan.
    os.environ["ASAN_OPTIONS"] = (old["ASAN_OPTIONS"] + ":" if old["ASAN_OPTIONS"]
                                  else "") + "verify_asan_link_order=0"
    try:
        return Server(*FAST, *args, data_dir=powercut_dir)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def play_then_kill(s, rng, seconds):
    """N_MATCHES matches of 2-seat briscola at random paces, for about
    `seconds`; then PLAYs are sent and the server is killed while they
    are in flight. Returns (players, time of the kill)."""
    pairs = []
    for i in range(N_MATCHES):
        a = Player(s.connect(), "a%d" % i, autoplay=False)
        b = Player(s.connect(), "b%d" % i, autoplay=False)
        a.nick()
        b.nick()
        mid = int(a.c.ask("CREATE briscola", r"OK CREATE \d+").split()[2])
        b.c.ask("JOIN %d" % mid, "OK JOIN %d 1" % mid)
        pairs.append((a, b))
    everyone = [x for p in pairs for x in p]
    pump_until(everyone, lambda: all(getattr(x, "turn", None) is not None for x in everyone))
    # A match lasts 40 moves: pace them so that most are in play at the kill.
    pace = [rng.uniform(0.15, 0.45) for _ in pairs]
    t_end = time.monotonic() + seconds
    while True:
        movers = []
        for (a, b), p in zip(pairs, pace):
            if a.end or b.end or rng.random() > p:
                continue
            x = a if a.turn == a.seat else b
            if x.hand:
                x.play(rng.choice(x.hand))
                movers.append((x, len(x.acked)))
        if time.monotonic() >= t_end:
            break  # these PLAYs are in flight when the server dies
        pump_until(everyone, lambda: all(len(x.acked) > n for x, n in movers))
        for x in everyone:
            x.pump(0)
        time.sleep(rng.uniform(0.02, 0.04))
    time.sleep(rng.uniform(0, 0.005))
    t_kill = time.monotonic()
    os.kill(s.proc.pid, signal.SIGKILL)
    s.proc.wait(5)
    s.stop()
    for x in everyone:  # what reached the clients before the kill
        try:
            for _ in range(20):
                x.pump(0.005)
        except (AssertionError, OSError):
            pass
    return everyone, t_kill


def moves_on_disk(data):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "tavolo.db"), uri=True)
    got = {}
    for mid, card in db.execute("SELECT match_id, card FROM moves ORDER BY match_id, seq"):
        got.setdefault(mid, []).append(card)
    in_play = {r[0] for r in db.execute("SELECT id FROM matches WHERE state = 'playing'")}
    db.close()
    return got, in_play


def lost_moves(players, data):
    """Acknowledged moves not on disk: [(time read, match, card)]. Also
    checks that what is on disk of each match is a prefix of its play:
    every acknowledged move before a lost one is there."""
    got, _ = moves_on_disk(data)
    lost = []
    by_match = {}
    for x in players:
        for t, mid, card in x.acked:
            by_match.setdefault(mid, []).append((t, card))
    for mid, acked in by_match.items():
        acked.sort()
        on_disk = [card in got.get(mid, []) for _, card in acked]
        # a prefix: once one is missing, every later one is missing too
        assert on_disk == sorted(on_disk, reverse=True), (mid, acked, got.get(mid))
        lost += [(t, mid, card) for (t, card), d in zip(acked, on_disk) if not d]
    return sorted(lost)


def restores(data):
    """--check-data clean, and a fresh server (no shim) resumes every
    match in play on disk."""
    code, report = check_data(data)
    assert code == 0, report
    _, in_play = moves_on_disk(data)
    s = Server(*FAST, data_dir=data)
    try:
        log = s.log_text()
        assert "could not be restored" not in log, log[-1500:]
        restored = {int(l.split()[l.split().index("match") + 1])
                    for l in log.splitlines() if " restored after " in l}
        assert restored == in_play, (sorted(restored), sorted(in_play))
    finally:
        assert s.stop() == 0
    code, report = check_data(data)
    assert code == 0, report
    return len(in_play)


def durable_image(root):
    """What the simulated power cut left: a copy of durable/ as a data
    directory (no -shm: SQLite rebuilds it from the WAL)."""
    image = os.path.join(root, "after-cut")
    shutil.copytree(os.path.join(root, "durable"), image)
    assert os.path.exists(os.path.join(image, "tavolo.db")), os.listdir(image)
    return image


def kill9(level):
    rng = random.Random(os.getpid())
    s = start_server(("--durability", level))
    data = s.data_dir
    players, _ = play_then_kill(s, rng, 2.0)
    n_acked = sum(len(x.acked) for x in players)
    lost = lost_moves(players, data)
    assert not lost, "%d of %d acknowledged moves lost at %s: %r" % (
        len(lost), n_acked, level, lost[:5])
    n = restores(data)
    print("  %s: kill -9 after %d acknowledged moves: none lost, %d matches restored"
          % (level, n_acked, n))


def test_kill9_under_load_loses_nothing_at_power():
    kill9("power")


def test_kill9_under_load_loses_nothing_at_process():
    kill9("process")


def power_cut(level, fsync_ms, extra=()):
    rng = random.Random(os.getpid() + fsync_ms)
    root = tempfile.mkdtemp(prefix="tavolo-powercut-")
    try:
        s = start_server(("--durability", level, "--fsync-ms", fsync_ms) + tuple(extra),
                         powercut_dir=os.path.join(root, "data"))
        players, t_kill = play_then_kill(s, rng, 3.0)
        n_acked = sum(len(x.acked) for x in players)
        image = durable_image(root)
        lost = lost_moves(players, image)
        n = restores(image)
        return lost, [t_kill - t for t, _, _ in lost], n_acked, n
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_power_cut_at_power_loses_nothing_acknowledged():
    lost, _, n_acked, n = power_cut("power", 50, ("--checkpoint-ms", "300"))
    assert not lost, "%d of %d acknowledged moves lost: %r" % (len(lost), n_acked, lost[:5])
    print("  power: cut after %d acknowledged moves: none lost, %d matches restored"
          % (n_acked, n))


def test_power_cut_at_process_loses_at_most_the_fsync_window():
    lost, ages, n_acked, n = power_cut("process", 50, ("--checkpoint-ms", "300"))
    window = 0.050 + SLACK_S
    assert all(a < window for a in ages), (
        "moves acknowledged up to %.0f ms before the cut were lost (window %.0f ms)"
        % (max(ages) * 1000, window * 1000))
    # An age below 0: an OK PLAY sent before the cut and read after it.
    print("  process, --fsync-ms 50: cut after %d acknowledged moves: %d lost, "
          "the oldest read %.0f ms before it; %d matches restored"
          % (n_acked, len(lost), max(ages, default=0) * 1000, n))


def test_power_cut_model_loses_what_was_never_fsynced():
    # The shim's own check, and what a server that acknowledges before
    # fsync looks like: with no fsync of ours for 10 s and no periodic
    # checkpoint (SQLite's own, every 1000 WAL pages, still fsyncs), the
    # cut must lose moves acknowledged well outside the 50 ms window, so
    # the 50 ms window's promise would not hold for such a server; and the
    # database is still consistent. (On a loaded machine SQLite's own
    # checkpoint, every 1000 WAL pages, may sync most of it: seen here, 76
    # of 948 lost, the oldest 0.28 s before the cut; so only the window
    # itself, not the window plus the scheduling slack, is asserted.)
    lost, ages, n_acked, n = power_cut("process", 10000, ("--checkpoint-ms", "60000"))
    assert lost and max(ages) > 0.050, (len(lost), n_acked, max(ages, default=0))
    print("  process, --fsync-ms 10000: %d of %d acknowledged moves lost, up to "
          "%.1f s before the cut; %d matches restored" % (
              len(lost), n_acked, max(ages), n))


if __name__ == "__main__":
    run([v for k, v in sorted(globals().items()) if k.startswith("test_")])
