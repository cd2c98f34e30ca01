"""Behind a real HAProxy (TCP mode, health checks) in front of three
tavolo nodes on one redis-server (docs/CLUSTER.md): clients that know only
HAProxy's port play a whole match of each game, seated on different nodes,
and resume through HAProxy after the owner of their match is killed; and
Redis restarted mid-play (SIGTERM, started again on its AOF): play goes on."""
import random
import re
import signal
import time

from bots import Bot, GameBot, pump_until
from cluster import HAProxy, RedisServer
from harness import Client, Server, run
from test_cluster import FAST, bot_reply, healthz, until, wait_ready
from test_cluster_failover import acked, play_moves, resume_anywhere, stream

LEASE_MS = 1500


class Via:
    """Connects through HAProxy, like a client that knows only its port."""

    def __init__(self, port):
        self.port = port

    def connect(self, greet=True):
        c = Client("127.0.0.1", self.port)
        if greet:
            c.expect_line(r"HELLO tavolo 2 (\S+)")
        return c


def hello_node(c):
    return c.node if hasattr(c, "node") else None


def start(n=3, lease_ms=LEASE_MS):
    redis = RedisServer()
    nodes = [Server(*FAST, "--redis", redis.addr, "--node-id", "h%d" % i,
                    "--lease-ms", str(lease_ms), "--redis-timeout-ms", "800")
             for i in range(n)]
    wait_ready(*nodes)
    return redis, nodes


def connect_distinct(via, k):
    """k clients through HAProxy whose HELLO names k different nodes."""
    out, seen = [], set()
    for _ in range(50):
        c = Client("127.0.0.1", via.port)
        hello = c.line()
        node = hello.split()[3]
        if node in seen:
            c.close()
            continue
        seen.add(node)
        out.append(c)
        if len(out) == k:
            return out
    raise AssertionError("HAProxy did not spread connections: %r" % seen)


def test_a_match_of_each_game_through_haproxy():
    redis, nodes = start()
    proxy = HAProxy([("127.0.0.1", s.port) for s in nodes])
    try:
        via = Via(proxy.port)
        for game, n_seats in (("briscola", 2), ("scopa", 2), ("hearts", 4)):
            clients = connect_distinct(via, 2) + [via.connect() for _ in range(n_seats - 2)]
            rng = random.Random(game)
            bots = [GameBot(c, "%s%d" % (game[:3], i), rng=random.Random(rng.random()))
                    for i, c in enumerate(clients)]
            for b in bots:
                b.nick()
            got = bots[0].c.ask("CREATE %s %d" % (game, n_seats), r"OK CREATE (\d+)")
            bots[0].lines.append(got)
            mid = int(got.split()[2])
            for i, b in enumerate(bots[1:], 1):
                b.send("JOIN %d" % mid)
            pump_until(bots, lambda: all(b.reveal for b in bots), timeout=120)
            assert len({b.end for b in bots}) == 1, {b.end for b in bots}
            for b in bots:
                assert not b.errors, (b.name, b.errors[:3])
                b.c.close()
    finally:
        proxy.stop()
        for s in nodes:
            s.stop()
        redis.cleanup()


def test_resume_through_haproxy_after_the_owner_is_killed():
    redis, nodes = start()
    proxy = HAProxy([("127.0.0.1", s.port) for s in nodes], check_ms=100)
    try:
        via = Via(proxy.port)
        ca, cb = connect_distinct(via, 2)
        a, b = Bot(ca, "ha", autoplay=False), Bot(cb, "hb", autoplay=False)
        a.nick()
        b.nick()
        mid = int(bot_reply(a, "CREATE briscola", r"OK CREATE (\d+)").split()[2])
        bot_reply(b, "JOIN %d" % mid, "OK JOIN %d 1" % mid)
        play_moves([a, b], 7)
        seen = acked(a) + acked(b)
        owner = redis.command("GET", "tavolo:match:{%d}:owner" % mid)
        victim = next(s for s, i in zip(nodes, range(3)) if "h%d" % i == owner)
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=5)
        deadline = time.monotonic() + LEASE_MS / 1000 + 6
        back = [resume_anywhere([via], p.token, p.name, deadline) for p in (a, b)]
        for nb in back:
            while not any(l.startswith("TURN") for l in nb.lines):
                nb.on_line(nb.c.line())
            nb.autoplay = True
            if nb.turn == nb.seat and nb.hand:
                nb.play(nb.rng.choice(nb.hand))
        pump_until(back, lambda: all(nb.end for nb in back), timeout=60)
        assert sum(int(v) for v in back[0].end.split()[4:]) == 120
        moves = [f["cards"] for _, k, f in stream(redis, mid) if k == "move"]
        assert all(c in moves for c in seen), (seen, moves)
    finally:
        proxy.stop()
        for s in nodes:
            if s.proc.poll() is None:
                s.stop()
        redis.cleanup()


def test_redis_restarted_mid_play():
    # a lease longer than a Redis restart: the nodes keep their matches
    redis, nodes = start(2, lease_ms=6000)
    try:
        a = Bot(nodes[0].connect(), "ra", autoplay=False)
        b = Bot(nodes[1].connect(), "rb", autoplay=False)
        a.nick()
        b.nick()
        mid = int(bot_reply(a, "CREATE briscola", r"OK CREATE (\d+)").split()[2])
        bot_reply(b, "JOIN %d" % mid, "OK JOIN %d 1" % mid)
        play_moves([a, b], 6)
        before = acked(a) + acked(b)
        redis.restart()  # SIGTERM, then again on the same AOF
        # play goes on: every later move is acknowledged and journaled
        until(lambda: redis.command("PING") == "PONG", what="redis back")
        # both nodes back on Redis (their /healthz says so), as a load
        # balancer would wait for
        until(lambda: all(healthz(s) == 200 for s in nodes), what="nodes back")
        a.autoplay = b.autoplay = True
        x = a if a.turn == a.seat else b
        x.play(x.hand[0])
        pump_until([a, b], lambda: a.end and b.end, timeout=60)
        assert a.end == b.end
        assert sum(int(v) for v in a.end.split()[4:]) == 120
        moves = [f["cards"] for _, k, f in stream(redis, mid) if k == "move"]
        assert len(moves) == 40 and all(c in moves for c in before)
        for s in nodes:
            assert s.proc.poll() is None, s.log_text()[-2000:]
    finally:
        for s in nodes:
            if s.proc.poll() is None:
                s.stop()
        redis.cleanup()


if __name__ == "__main__":
    run([test_a_match_of_each_game_through_haproxy,
         test_resume_through_haproxy_after_the_owner_is_killed,
         test_redis_restarted_mid_play])
