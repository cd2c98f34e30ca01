"""Three tavolo nodes on one real redis-server (docs/CLUSTER.md, PROTOCOL
§15): one lobby, matches whose seats and spectators sit on different
nodes, relayed commands and events, names and resume tokens valid across
the cluster, /healthz and the node lease."""
import re
import signal
import time
import urllib.error
import urllib.request

from bots import Bot, DECK, pump_until
from cluster import RedisServer
from harness import Server, run

FAST = ("--rate", "100000", "--burst", "100000", "--max-per-ip", "100000",
        "--conn-rate", "0", "--max-waiting-per-ip", "0")


def node(redis, name, *extra):
    return Server(*FAST, "--redis", redis.addr, "--node-id", name,
                  "--lease-ms", "1500", "--redis-timeout-ms", "800", *extra)


def until(cond, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timeout waiting for " + what)


def reply(c, line, pattern=r"(OK|ERR) .*"):
    """Sends line; returns its reply, skipping the events before it."""
    c.cmd(line)
    while True:
        got = c.line()
        if got.split()[0] in ("OK", "ERR"):
            assert re.fullmatch(pattern, got), (line, pattern, got)
            return got


def bot_reply(b, line, pattern=r"(OK|ERR) .*", timeout=10):
    """A Bot sends line; the events before the reply go to the bot."""
    b.c.cmd(line)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = b.c.line()
        if got.split()[0] in ("OK", "ERR"):
            b.on_line(got)
            assert re.fullmatch(pattern, got), (line, pattern, got)
            return got
        b.on_line(got)
    raise AssertionError("no reply to " + line)


def wait_ready(*nodes):
    """Every node holds its lease and has ids at hand: CREATE works."""
    for s in nodes:
        c = s.connect()
        c.ask("NICK probe%d" % s.port, r"OK NICK .*")
        until(lambda: reply(c, "CREATE briscola").startswith("OK CREATE"),
              what="node %d ready" % s.port)
        reply(c, "LEAVE", r"OK LEAVE \d+")
        c.close()


def healthz(s):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % s.admin_port,
                                    timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class Cluster:
    def __init__(self, n=3, *extra):
        self.redis = RedisServer()
        self.nodes = [node(self.redis, "n%d" % i, *extra) for i in range(n)]
        wait_ready(*self.nodes)

    def stop(self):
        for s in self.nodes:
            if s.proc.poll() is None:
                s.stop()
        self.redis.cleanup()


def test_hello_names_the_node_and_healthz():
    cl = Cluster(2)
    try:
        for i, s in enumerate(cl.nodes):
            c = s.connect(greet=False)
            c.expect_line("HELLO tavolo 2 n%d" % i)
            c.close()
            assert healthz(s) == 200
        # the lease is in Redis, with a TTL below --lease-ms
        assert cl.redis.command("PTTL", "tavolo:node:n0") <= 1500
        assert set(cl.redis.command("SMEMBERS", "tavolo:nodes")) >= {"n0", "n1"}
        # Redis gone: /healthz 503, and commands that need it UNAVAILABLE
        cl.redis.stop()
        until(lambda: healthz(cl.nodes[0]) == 503, what="503 without redis")
        c = cl.nodes[0].connect()
        t0 = time.monotonic()
        c.ask("NICK lonely", r"ERR UNAVAILABLE .*")
        assert time.monotonic() - t0 < 3
        c.ask("LIST", r"ERR UNAVAILABLE .*")
        c.ask("PING", "OK PING")
        cl.redis.start()
        until(lambda: healthz(cl.nodes[0]) == 200, what="200 with redis back")
        until(lambda: c.ask("NICK lonely").startswith("OK NICK"), what="NICK back")
    finally:
        cl.stop()


def test_names_unique_across_nodes_and_list_equal():
    cl = Cluster(3)
    try:
        a = cl.nodes[0].connect()
        b = cl.nodes[1].connect()
        a.ask("NICK alice", r"OK NICK alice [0-9a-f]{32}")
        b.ask("NICK alice", r"ERR NAMETAKEN .*")
        b.ask("NICK bob", r"OK NICK bob [0-9a-f]{32}")
        a.ask("CREATE briscola", r"OK CREATE \d+")
        b.ask("CREATE scopa", r"OK CREATE \d+")
        lists = until(lambda: (lambda ls: ls if len(set(ls)) == 1 and
                               ls[0].startswith("OK LIST 2 ") else None)(
            [s.connect().ask("LIST") for s in cl.nodes]), what="equal LIST")
        assert re.fullmatch(r"OK LIST 2 \d+:(briscola|scopa):1/2:waiting "
                            r"\d+:(briscola|scopa):1/2:waiting", lists[0]), lists
        # a name is freed when its player goes (any node may take it then)
        reply(a, "QUIT", "OK QUIT")
        c = cl.nodes[2].connect()
        until(lambda: c.ask("NICK alice").startswith("OK NICK"),
              what="alice free again")
    finally:
        cl.stop()


def test_four_seats_on_three_nodes_with_spectators_chat_and_resume():
    cl = Cluster(3)
    try:
        n = cl.nodes
        names = ["p0", "p1", "p2", "p3"]
        homes = [n[0], n[1], n[2], n[1]]
        bots = [Bot(h.connect(), nm) for h, nm in zip(homes, names)]
        for b in bots:
            b.nick()
        mid = int(bot_reply(bots[0], "CREATE briscola 4", r"OK CREATE (\d+)").split()[2])
        # one spectator on every node
        specs = [Bot(s.connect(), "spec%d" % i, autoplay=False)
                 for i, s in enumerate(n)]
        for sp in specs:
            bot_reply(sp, "WATCH %d" % mid, "OK WATCH %d" % mid)
        for b in bots[1:3]:
            bot_reply(b, "JOIN %d" % mid, r"OK JOIN %d \d" % mid)
        # chat across nodes, before the match fills
        bot_reply(bots[1], "SAY ciao a tutti", "OK SAY")
        for x in [bots[0], bots[2]] + specs:
            pump_until([x], lambda x=x: any(l == "CHAT %d p1 ciao a tutti" % mid
                                            for l in x.lines), timeout=5)
        # p3 plays by hand until mid-trick, then resumes on another node
        bots[3].autoplay = True
        bot_reply(bots[3], "JOIN %d" % mid, "OK JOIN %d 3" % mid)
        everyone = bots + specs
        # wait for a trick in progress with p3 to play next
        p3 = bots[3]
        p3.autoplay = False
        pump_until(everyone, lambda: p3.trick and getattr(p3, "turn", None) == 3
                   and p3.hand, timeout=30)
        trick_before = list(p3.trick)
        hand_before = sorted(p3.hand)
        p3.c.close()
        for b in bots[:3]:
            pump_until([b], lambda b=b: "AWAY %d 3" % mid in b.lines, timeout=5)
        c = n[2].connect()  # another node than p3's first
        got = c.ask("RESUME " + p3.token, r"OK RESUME p3 [0-9a-f]{32} %d" % mid)
        snap = []
        while not snap or not snap[-1].startswith("TURN"):
            snap.append(c.line())
        kinds = [l.split()[0] for l in snap]
        assert kinds[:2] == ["START", "COMMIT"], snap
        assert "TRUMP" in kinds and "HAND" in kinds, snap
        hand = next(l for l in snap if l.startswith("HAND")).split()[2:]
        assert sorted(hand) == hand_before, (hand, hand_before)
        played = [(int(l.split()[2]), l.split()[3]) for l in snap
                  if l.startswith("PLAYED")]
        assert played == trick_before, (played, trick_before)
        assert snap[-1].startswith("TURN %d 3 " % mid), snap
        for b in bots[:3]:
            pump_until([b], lambda b=b: "BACK %d 3" % mid in b.lines, timeout=5)
        # the resumed player plays on from the snapshot
        p3b = Bot(c, "p3")
        p3b.resumed = True
        p3b.token = got.split()[3]
        for l in snap:
            p3b.on_line(l)
        everyone = bots[:3] + [p3b] + specs
        pump_until(everyone, lambda: all(x.end for x in everyone), timeout=60)
        ends = {x.end for x in everyone}
        assert len(ends) == 1, ends
        pts = [int(x) for x in ends.pop().split()[4:]]
        assert sum(pts) == 120
        for sp in specs:
            assert sorted(sp.public_played) == sorted(DECK)
            assert not [l for l in sp.lines if l.split()[0] in ("HAND", "DRAW")]
        # gone from the directory everywhere
        until(lambda: all(s.connect().ask("LIST") == "OK LIST 0" for s in n),
              what="empty LIST")
        # relayed messages were batched: fewer messages than lines
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % n[0].admin_port,
                                    timeout=2) as r:
            text = r.read().decode()
        msgs = int(re.search(r'tavolo_cluster_relayed_messages_total\{dir="out"\} (\d+)', text).group(1))
        lines = int(re.search(r'tavolo_cluster_relayed_lines_total\{dir="out"\} (\d+)', text).group(1))
        assert 0 < msgs < lines, (msgs, lines)
    finally:
        cl.stop()


def test_sigusr1_drains_a_node():
    cl = Cluster(2)
    try:
        n0, n1 = cl.nodes
        a = Bot(n0.connect(), "da", autoplay=False)
        b = Bot(n1.connect(), "db", autoplay=False)
        a.nick()
        b.nick()
        mid = int(bot_reply(a, "CREATE briscola", r"OK CREATE (\d+)").split()[2])
        bot_reply(b, "JOIN %d" % mid, "OK JOIN %d 1" % mid)
        n0.signal(signal.SIGUSR1)
        until(lambda: healthz(n0) == 503, what="503 while draining")
        c = n0.connect()
        c.ask("NICK dc", r"OK NICK .*")
        c.ask("CREATE briscola", r"ERR UNAVAILABLE .*draining.*")
        # the match in play goes on to its end, then the node exits
        pump_until([a, b], lambda: getattr(a, "turn", None) is not None and
                   getattr(b, "turn", None) is not None)
        a.autoplay = b.autoplay = True
        x = a if a.turn == a.seat else b
        x.play(x.hand[0])
        pump_until([a, b], lambda: a.end and b.end, timeout=60)
        assert n0.proc.wait(timeout=10) == 0
        assert "drained" in n0.log_text()
        # the other node serves on (SIGUSR2 upgrades a cluster node:
        # test_cluster_upgrade.py)
        assert n1.proc.poll() is None
        d = n1.connect()
        d.ask("NICK dd", r"OK NICK .*")
        reply(d, "CREATE briscola", r"OK CREATE \d+")
    finally:
        cl.stop()


def test_quick_play_across_nodes():
    """One queue for the cluster: two players who QUICK on different
    nodes get one match (on the queue's node) and play it to the end."""
    cl = Cluster(3)
    try:
        bots = [Bot(s.connect(), "q%d" % i) for i, s in enumerate(cl.nodes[1:])]
        for b in bots:
            b.nick()
        until(lambda: cl.redis.command("GET", "tavolo:quick-node"), what="queue node")
        for b in bots:
            bot_reply(b, "QUICK briscola", "OK QUICK briscola 2")
        pump_until(bots, lambda: all(b.end for b in bots), timeout=60)
        assert bots[0].end == bots[1].end
        assert sum(int(v) for v in bots[0].end.split()[4:]) == 120
        starts = [l for l in bots[0].lines if l.startswith("START")]
        assert len(starts) == 1 and "q0" in starts[0] and "q1" in starts[0], starts
    finally:
        cl.stop()


if __name__ == "__main__":
    run([test_hello_names_the_node_and_healthz,
         test_quick_play_across_nodes,
         test_sigusr1_drains_a_node,
         test_names_unique_across_nodes_and_list_equal,
         test_four_seats_on_three_nodes_with_spectators_chat_and_resume])
