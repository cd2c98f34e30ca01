"""Black-box tests of the store on Redis (--redis; docs/CLUSTER.md, "Store
on Redis"): one tavolo node on a real redis-server (cluster.py) plays to
END with STATS/TOP/HISTORY equal to what the SQLite store answers, comes
back from kill -9 with its match in play restored from Redis, a name
registered on one node logs in on a second node on the same Redis, Redis
down answers ERR UNAVAILABLE and play goes on once it is back; and the
journal's fencing leaves no entry of a stale epoch."""
import os
import re
import signal
import subprocess
import time

from bots import Bot, play_and_wait, pump_until
from cluster import RedisServer
from harness import BINARY, Server, run

FAST = ("--rate", "100000", "--burst", "100000", "--max-per-ip", "1000",
        "--max-waiting-per-ip", "0")


def registered(s, name, password):
    b = Bot(s.connect(), name)
    got = b.c.ask("NICK %s %s" % (name, password), r"OK NICK %s [0-9a-f]{32}" % name)
    b.token = got.split()[3]
    return b


def play_match(bots, seats=None):
    seats = seats or len(bots)
    mid = int(bots[0].c.ask("CREATE briscola %d" % seats, r"OK CREATE \d+").split()[2])
    for b in bots[1:]:
        b.c.ask("JOIN %d" % mid, r"OK JOIN %d \d" % mid)
    pump_until(bots, lambda: all(b.end for b in bots), timeout=60)
    end = bots[0].end
    for b in bots:
        b.reset()
    return mid, end


def records(c, names):
    """STATS of each name (a guest's is BADNAME), TOP, and each name's
    HISTORY, as lines."""
    out = [c.ask("STATS " + n, r"(OK STATS|ERR BADNAME) .*") for n in names]
    out.append(c.ask("TOP", r"OK TOP .*"))
    out += [c.ask("HISTORY " + n, r"OK HISTORY .*") for n in names]
    return out


def scripted_matches(s):
    """The same sequence on any store: three registered players and a
    guest, three matches; returns their records."""
    ann, bob, cat = (registered(s, n, "pw" + n) for n in ("ann", "bob", "cat"))
    gus = Bot(s.connect(), "gus")
    gus.nick()
    for b in (ann, bob, cat, gus):
        b.rng.seed(7)
    play_match([ann, bob])
    play_match([bob, cat])
    play_match([cat, gus])
    return records(ann.c, ("ann", "bob", "cat", "gus"))


def test_registration_and_records_shared_by_a_second_node():
    r = RedisServer()
    try:
        a = Server(*FAST, "--redis", r.addr)
        try:
            assert "store on Redis at %s" % r.addr in a.log_text()
            got = scripted_matches(a)
            # A second node on the same Redis: ann logs in there and sees
            # the same records; dan registers there and is refused as a
            # guest name on the first node, and the other way round.
            b = Server(*FAST, "--redis", r.addr)
            try:
                c = b.connect()
                c.ask("NICK ann wrong", r"ERR BADPASS .*")
                c.ask("NICK ann pwann", r"OK NICK ann [0-9a-f]{32}")
                assert records(c, ("ann", "bob", "cat", "gus")) == got
                d = b.connect()
                d.ask("NICK dan pwdan", r"OK NICK dan [0-9a-f]{32}")
                e = a.connect()
                e.ask("NICK dan", r"ERR BADPASS .*")  # registered elsewhere
                d.ask("QUIT", "OK QUIT")
                d.expect_eof()
                e.ask("NICK dan pwdan", r"OK NICK dan [0-9a-f]{32}")
                f = a.connect()
                f.ask("NICK eve pweve", r"OK NICK eve [0-9a-f]{32}")
                g = b.connect()
                g.ask("NICK eve", r"ERR BADPASS .*")
                g.ask("STATS eve", "OK STATS eve 1500 0 0 0 0")
            finally:
                assert b.stop() == 0
        finally:
            assert a.stop() == 0
        assert r.command("HLEN", "tavolo:accounts") == 5
    finally:
        r.cleanup()


def test_records_same_as_sqlite_for_the_same_results():
    """Records after one match follow the rating rule on Redis as on
    SQLite (test_store.py's test_stats_top_history...). Deals are random,
    so the two stores are compared job for job by the C test
    (tests/unit/test_store_redis.c), not here."""
    r = RedisServer()
    try:
        s = Server(*FAST, "--redis", r.addr)
        try:
            ann, bob = registered(s, "ann", "pa"), registered(s, "bob", "pb")
            mid, end = play_match([ann, bob])
            w = end.split()
            p0, p1 = int(w[4]), int(w[5])
            st = {n: ann.c.ask("STATS " + n, r"OK STATS %s \d+ 1 [01] [01] [01]" % n)
                  for n in ("ann", "bob")}
            if w[2] == "draw":
                assert st["ann"].endswith(" 1500 1 0 0 1"), st
            else:
                winner, loser = ("ann", "bob") if w[2] == "team0" else ("bob", "ann")
                assert st[winner] == "OK STATS %s 1516 1 1 0 0" % winner, st
                assert st[loser] == "OK STATS %s 1484 1 0 1 0" % loser, st
                ann.c.ask("TOP", "OK TOP 2 %s:1516 %s:1484" % (winner, loser))
            ann.c.ask("HISTORY", "OK HISTORY 1 %d:briscola:%s:%d" % (mid, w[2], p0))
            ann.c.ask("HISTORY bob", "OK HISTORY 1 %d:briscola:%s:%d" % (mid, w[2], p1))
            ann.c.ask("STATS nobody", r"ERR BADNAME .*")
            assert r.command("EXISTS", "tavolo:match:{%d}:log" % mid) == 1
            assert r.command("ZCARD", "tavolo:playing") == 0
        finally:
            assert s.stop() == 0
        # --check-data on Redis
        out = subprocess.run([BINARY, "--check-data", "/nonexistent", "--redis",
                              r.addr], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "ok: 2 accounts, 0 in play" in out.stdout, out.stdout
        out = subprocess.run([BINARY, "--backup", "/nonexistent/x", "--redis",
                              r.addr], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
    finally:
        r.cleanup()


def test_match_in_play_restored_from_redis_after_kill9():
    r = RedisServer()
    try:
        # the same --node-id after the restart: the node takes its own
        # matches back at once (docs/CLUSTER.md; a new id would get them
        # through a claim once the old lease expires)
        s = Server(*FAST, "--redis", r.addr, "--node-id", "solo")
        a, b = registered(s, "ann", "pa"), Bot(s.connect(), "bob")
        b.nick()
        for x in (a, b):
            x.autoplay = False
        mid = int(a.c.ask("CREATE briscola", r"OK CREATE \d+").split()[2])
        b.c.ask("JOIN %d" % mid, r"OK JOIN %d 1" % mid)
        pump_until([a, b], lambda: a.hand and b.hand and all(
            getattr(x, "turn", None) is not None for x in (a, b)))
        for _ in range(7):  # three tricks, then one card into the fourth
            play_and_wait([a, b])
        assert len(b.trick) == 1
        hands = {x.name: list(x.hand) for x in (a, b)}
        trick = list(b.trick)
        os.kill(s.proc.pid, signal.SIGKILL)
        s.proc.wait(5)
        s.stop()
        # every acknowledged move is in the stream: START + 7 moves
        n = r.command("XLEN", "tavolo:match:{%d}:log" % mid)
        assert n >= 8, n
        s = Server(*FAST, "--grace-ms", "5000", "--redis", r.addr,
                   "--node-id", "solo")
        try:
            assert "match %d restored after 7 moves" % mid in s.log_text(), s.log_text()
            na, nb = Bot(s.connect(), "ann"), Bot(s.connect(), "bob")
            turn = None
            for old, new in ((a, na), (b, nb)):
                new.resumed = True
                new.c.ask("RESUME " + old.token, r"OK RESUME %s [0-9a-f]{32} %d" % (old.name, mid))
                new.c.expect_line("START %d briscola 2 ann bob" % mid)
                new.c.expect_line("COMMIT %d [0-9a-f]{64}" % mid)
                new.c.expect_line("TRUMP %d %s" % (mid, a.trump))
                new.c.expect_line("HAND %d %s" % (mid, " ".join(hands[old.name])))
                for seat, card in trick:
                    new.c.expect_line("PLAYED %d %d %s" % (mid, seat, card))
                turn = int(new.c.expect_line(r"TURN %d \d \d+" % mid).split()[2])
                new.match, new.seat, new.n_seats = mid, old.seat, 2
                new.hand, new.trump, new.trick = hands[old.name], a.trump, list(trick)
                new.taken = {0: 0, 1: 0}
            for x in (na, nb):
                x.autoplay = True
            first = na if na.seat == turn else nb
            first.play(first.hand[0])
            pump_until([na, nb], lambda: na.end and nb.end, timeout=30)
            assert na.end == nb.end and " score " in na.end, na.end
            assert sum(int(p) for p in na.end.split()[4:]) == 120
            na.c.ask("STATS ann", r"OK STATS ann \d+ 1 [01] [01] [01]")
            na.c.ask("HISTORY ann", r"OK HISTORY 1 %d:briscola:\w+:\d+" % mid)
            # ids go on (a cluster hands them out in blocks: above, not next)
            got = na.c.ask("CREATE briscola", r"OK CREATE (\d+)")
            assert int(got.split()[2]) > mid, got
        finally:
            assert s.stop() == 0
        assert r.command("ZCARD", "tavolo:playing") == 0  # the match ended
    finally:
        r.cleanup()


def test_durability_mismatch_is_logged():
    r = RedisServer(appendfsync="everysec")
    try:
        s = Server("--redis", r.addr, "--durability", "power")
        try:
            assert "--durability power needs Redis's appendfsync always, it " \
                   "has everysec" in s.log_text(), s.log_text()
        finally:
            assert s.stop() == 0
        s = Server("--redis", r.addr, "--durability", "process")
        try:
            assert "appendfsync" not in s.log_text().replace(
                "(Redis's AOF with appendfsync everysec", ""), s.log_text()
        finally:
            assert s.stop() == 0
    finally:
        r.cleanup()
    # No Redis there at all: the server says so and exits 1.
    p = subprocess.run([BINARY, "--port", "0", "--redis", r.addr, "--admin-port",
                        "off"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "cannot use Redis: cannot connect to Redis at " + r.addr in p.stderr, p.stderr


def test_redis_down_is_unavailable_then_play_goes_on():
    r = RedisServer()
    try:
        s = Server(*FAST, "--redis", r.addr, "--redis-timeout-ms", "300")
        try:
            ann, bob = registered(s, "ann", "pa"), registered(s, "bob", "pb")
            r.stop()
            t0 = time.monotonic()
            ann.c.ask("STATS bob", r"ERR UNAVAILABLE .*")
            assert time.monotonic() - t0 < 3
            c = s.connect()
            c.ask("NICK zed pz", r"ERR UNAVAILABLE .*")  # cannot ask who has it
            r.start()
            # back: the next job reconnects (the back-off is at most 1 s)
            deadline = time.monotonic() + 10
            while True:
                got = ann.c.ask("STATS bob", r"(OK STATS bob .*|ERR UNAVAILABLE .*)")
                if got.startswith("OK"):
                    break
                assert time.monotonic() < deadline, "Redis never came back"
                time.sleep(0.2)
            play_match([ann, bob])
            ann.c.ask("STATS ann", r"OK STATS ann \d+ 1 .*")
            c.ask("NICK zed pz", r"OK NICK zed .*")
        finally:
            assert s.stop() == 0
    finally:
        r.cleanup()


if __name__ == "__main__":
    run([test_records_same_as_sqlite_for_the_same_results,
         test_match_in_play_restored_from_redis_after_kill9,
         test_redis_down_is_unavailable_then_play_goes_on,
         test_durability_mismatch_is_logged,
         test_registration_and_records_shared_by_a_second_node])
