"""The relay's gap path for real (docs/CLUSTER.md, "How a command crosses
nodes"): the subscriptions of the nodes are cut on the real redis-server
(CLIENT KILL TYPE pubsub) while a chat flows from one node's player to
the other node's player and spectator, so relay messages published during
the resubscription reach no one. The receiving node sees the hole in the
sender's sequence: its connections homed on the sender get ERR UNAVAILABLE
and close, having seen the chat with no line missing before that; the
player RESUMEs and the match plays on to END."""
import re
import time
import urllib.request

from bots import Bot, pump_until
from cluster import RedisServer
from harness import run
from test_cluster import bot_reply, node, until, wait_ready
from test_cluster_failover import resume_anywhere


def gaps(s):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % s.admin_port,
                                timeout=2) as r:
        text = r.read().decode()
    return int(re.search(r"^tavolo_cluster_relay_gaps_total (\d+)$", text,
                         re.M).group(1))


def read_until_closed(c, timeout=10):
    """Every line c gets until its connection closes."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got += c.poll_lines(0.1)
        except (OSError, EOFError):
            return got
        if got and got[-1].startswith("ERR UNAVAILABLE"):
            try:
                c.expect_eof(timeout=3)
            except (OSError, EOFError):
                pass
            return got
    raise AssertionError("still open; last lines %r" % got[-5:])


def test_lost_relay_messages_restart_shared_sessions():
    redis = RedisServer()
    g = [node(redis, "g%d" % i, "--grace-ms", "60000") for i in range(2)]
    try:
        wait_ready(*g)
        p0 = Bot(g[0].connect(), "p0", autoplay=False)
        p1 = Bot(g[1].connect(), "p1", autoplay=False)
        p0.nick()
        p1.nick()
        mid = int(bot_reply(p0, "CREATE briscola", r"OK CREATE (\d+)").split()[2])
        spec = Bot(g[1].connect(), "spec", autoplay=False)
        bot_reply(spec, "WATCH %d" % mid, "OK WATCH %d" % mid)
        bot_reply(p1, "JOIN %d" % mid, r"OK JOIN %d 1" % mid)
        pump_until([p0, p1, spec], lambda: p1.hand and spec.lines and
                   any(l.startswith("TURN") for l in spec.lines), timeout=10)
        assert gaps(g[1]) == 0
        # p0 (at home on g0) chats; each line reaches g1 in a relay message.
        # The subscriptions are cut while it flows, until g1 sees a gap.
        said = 0
        for attempt in range(20):
            for _ in range(5):
                bot_reply(p0, "SAY m%d" % said, "OK SAY")
                said += 1
            redis.command("CLIENT", "KILL", "TYPE", "pubsub")
            t_end = time.monotonic() + 0.4
            while time.monotonic() < t_end:
                bot_reply(p0, "SAY m%d" % said, "OK SAY")
                said += 1
                time.sleep(0.005)
            if gaps(g[1]) > 0:
                break
        else:
            raise AssertionError("no relay message lost in 20 cuts")
        # the next message from g0 (at latest the empty one of its next
        # lease tick) shows the hole: g1's sessions homed on g0 start over
        for who in (p1, spec):
            got = who.lines + read_until_closed(who.c)
            chats = [l.split()[3] for l in got if l.startswith("CHAT %d p0 " % mid)]
            assert chats == ["m%d" % i for i in range(len(chats))], chats
            assert len(chats) < said, (len(chats), said)  # something was lost
            assert re.fullmatch(r"ERR UNAVAILABLE .*", got[-1]), got[-3:]
        # g0 hears the connections are gone: p1's seat is away
        pump_until([p0], lambda: "AWAY %d 1" % mid in p0.lines, timeout=10)
        # p1 comes back through either node and the match goes on to END
        p1b = resume_anywhere(g, p1.token, "p1", time.monotonic() + 15)
        pump_until([p0, p1b], lambda: "BACK %d 1" % mid in p0.lines and
                   any(l.startswith("TURN") for l in p1b.lines), timeout=10)
        p0.autoplay = True
        if p0.turn == p0.seat:
            p0.play(p0.rng.choice(p0.hand))
        pump_until([p0, p1b], lambda: p0.end and p1b.end, timeout=60)
        assert p0.end == p1b.end, (p0.end, p1b.end)
        assert sum(int(v) for v in p0.end.split()[4:]) == 120
        assert "BACK %d 1" % mid in p0.lines
    finally:
        for s in g:
            s.stop()
        redis.cleanup()


if __name__ == "__main__":
    run([test_lost_relay_messages_restart_shared_sessions])
