"""The zero-downtime upgrade (SIGUSR2) of cluster nodes, node by node
(docs/CLUSTER.md "Upgrading a node", docs/OPERATIONS.md).

Two tavolo nodes, A and B, on one real redis-server (cluster.py). Players
whose socket is on A play a match owned by B and the other way round
(their commands and events are relayed over Redis pub/sub), a local match
runs on A, a spectator on each node watches the other node's match, and a
chat line crosses nodes. A is upgraded to tavolo_next (the same code with
another version string) mid-match while everyone keeps playing and
pinging, then B the same way, then a new binary that fails at start is
put on A (A serves on: its lease never lapses, B never reaps it), then A
is upgraded a few more times under light load.

Every client is checked by bots.py (each trick recomputed; END's points
are the tricks it saw, so a lost or repeated PLAYED/TRICK fails), by a
PING counter (every reply once, in order), by the spectators' streams
(every card the players saw played, in the same order), and no client
ever sees ERR UNAVAILABLE or a closed socket (none reconnects). Neither
node may log a relay gap or a peer's lost lease."""
import os
import re
import time

import harness
from cluster import RedisServer
from harness import run
from test_cluster import reply, until, wait_ready
from test_upgrade import FAST, NEXT, Player, UpServer, pump

LEASE_MS = 1500
# PINGs a relayed client sends at once: a relayed command waits for its
# home's answer before the next is read (PROTOCOL §1), and what waits must
# fit the input buffer (--max-line + 16 bytes), or the connection is
# closed as it would be on any node. So at most 20 + 5 are unanswered.
PIPELINED = 20
# Chat lines said through one hand-over at most (as fast as the test
# steps: they span it; their CHATs stay well inside every output cap).
SAYS_MAX = 300
# The next binary, started with --redis ADDR instead of the node's own.
WRONG_REDIS = """#!/bin/sh
prev=
for a in "$@"; do
    shift
    orig=$a
    if [ "$prev" = "--redis" ]; then a=%s; fi
    set -- "$@" "$a"
    prev=$orig
done
exec %s "$@"
"""
# The next binary, hanging before its READY (tests/stall/stall_ready.c).
STALL_LIB = os.environ.get("STALL_LIB") or os.path.join(
    os.path.dirname(harness.BINARY), "tests", "libstall_ready.so")
STALL = """#!/bin/sh
export LD_PRELOAD=%s STALL_READY_MS=5000
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
exec %s "$@"
"""


def node(redis, name):
    return UpServer(*FAST, "--redis", redis.addr, "--node-id", name,
                    "--lease-ms", str(LEASE_MS), "--redis-timeout-ms", "800",
                    "--turn-ms", "60000")


def player(s, name):
    p = Player(s.connect(), name)
    p.nick()
    return p


def spectator(s, name, mid):
    p = Player(s.connect(), name)
    p.nick()
    p.c.ask("WATCH %d" % mid, r"OK WATCH %d" % mid)
    return p


def match(creator, joiner, spectators=()):
    mid = int(creator.c.ask("CREATE briscola 2", r"OK CREATE (\d+)").split()[2])
    for sp in spectators:
        sp.c.ask("WATCH %d" % mid, r"OK WATCH %d" % mid)
    joiner.c.ask("JOIN %d" % mid, r"OK JOIN %d 1" % mid)
    return mid


class Game:
    """Everyone plays at a light pace and pings; step() is one round."""

    def __init__(self, players, watchers):
        self.players = players
        self.watchers = watchers
        self.everyone = players + watchers
        self.last_ping = 0.0

    def step(self, pace_s=0.15):
        now = time.monotonic()
        if now - self.last_ping >= 0.05:
            self.last_ping = now
            for p in self.everyone:
                if p.end is None and p.n_ping_sent - p.n_ping_got < 5:
                    p.ping()
        for p in self.players:
            if now - getattr(p, "last_move", 0) >= pace_s:
                if p.my_turn():
                    p.last_move = now
                p.play_due()
        pump(self.everyone, 0.005)

    def run(self, cond, timeout=60, pace_s=0.15):
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, "stuck: %r" % [
                (p.name, p.lines[-4:]) for p in self.everyone if p.end is None]
            self.step(pace_s)

    def n_played(self):
        """Cards played so far in the least advanced match."""
        return min(len(p.public_played) for p in self.players)

    def check_clean(self):
        for p in self.everyone:
            bad = [l for l in p.lines if l.startswith("ERR")]
            assert not bad, (p.name, bad)


def chats(p, tag):
    return [l.split(None, 3)[3] for l in p.lines
            if l.startswith("CHAT ") and l.split(None, 3)[3].startswith(tag)]


def say(spammer, sent, tag, cap=SAYS_MAX):
    """The next numbered chat line, unless cap have been said: as fast as
    the test steps, but bounded, so the receivers' output queues (64 KiB,
    PROTOCOL §6) are never what they are judged by."""
    if len(sent) >= cap:
        return
    sent.append("%s%d" % (tag, len(sent) + 1))
    spammer.c.cmd("SAY " + sent[-1])


def upgrade(s, game, what, relayed, spammer, receivers, tag):
    """SIGUSR2 with relayed traffic in flight both ways: right after it
    the relayed clients queue PIPELINED PINGs each (commands relayed to their
    home one at a time), and spammer, a player on the other node, says a
    numbered chat line every step from the signal on (before the new
    process subscribes, while both are subscribed, after the old one has
    stopped delivering): receivers, whose socket is on s, get them relayed
    through s. Each must get every one once, in order, while s changes
    process under them."""
    s.put(NEXT)
    sent = []

    def pump():
        if not sent:  # right after the signal: while the new one starts
            for p in relayed:
                for _ in range(PIPELINED):
                    p.ping()
        game.step(pace_s=0.3)
        say(spammer, sent, tag)

    ok, took = s.upgrade(pump=pump)
    assert ok, what + ":\n" + s.log_text()[-4000:]
    for _ in range(5):
        say(spammer, sent, tag, cap=len(sent) + 1)
    game.run(lambda: all(len(chats(r, tag)) >= len(sent) for r in receivers))
    for r in receivers:
        assert chats(r, tag) == sent, (what, r.name, chats(r, tag), sent)
    return took


def no_trouble(*nodes):
    for s in nodes:
        text = s.log_text()
        for bad in ("were lost", "lost its lease", "stopping at once",
                    "upgrade.proxy_lost", "upgrade.gateway_lost",
                    "upgrade.conn_lost", "upgrade.match_lost"):
            assert bad not in text, (bad, text[max(0, text.find(bad) - 2000):][:4000])


def test_cluster_upgrade_node_by_node():
    redis = RedisServer()
    a = b = None
    try:
        a, b = node(redis, "A"), node(redis, "B")
        wait_ready(a, b)
        inc_a = redis.command("GET", "tavolo:node:A")
        # a1 (on A) and b1 (on B) play match m1, owned by A: b1 relayed
        a1, b1 = player(a, "a1"), player(b, "b1")
        # b2 (on B) and a2 (on A) play m2, owned by B: a2 relayed
        b2, a2 = player(b, "b2"), player(a, "a2")
        # a3 and a4 play m3, local to A
        a3, a4 = player(a, "a3"), player(a, "a4")
        # spectators: on B watching m1 (A's), on A watching m2 (B's)
        sb, sa = Player(b.connect(), "sb"), Player(a.connect(), "sa")
        sb.nick()
        sa.nick()
        m1 = match(a1, b1, [sb])
        m2 = match(b2, a2, [sa])
        m3 = match(a3, a4)
        players = [a1, b1, b2, a2, a3, a4]
        g = Game(players, [sb, sa])
        g.run(lambda: all(p.match for p in g.everyone))
        assert {a1.match, b1.match, sb.match} == {m1}
        assert {b2.match, a2.match, sa.match} == {m2}
        assert {a3.match, a4.match} == {m3}
        g.run(lambda: g.n_played() >= 4)
        relayed = [b1, sb, a2, sa]  # a socket on one node, a home on the other

        # A, mid-match, everyone playing and pinging meanwhile
        v0 = a.version()
        took_a = upgrade(a, g, "upgrade of A", relayed, b2, [a2, sa], "x")
        assert a.version() == v0 + "-next"
        c = a.connect(greet=False)
        c.expect_line("HELLO tavolo 2 A")  # the node id stays
        c.close()
        assert redis.command("GET", "tavolo:node:A") == inc_a  # same lease
        # chat across nodes through the new process: a1 (A) to b1, sb (B)
        n_before = g.n_played()
        a1.c.cmd("SAY ciao dopo")
        g.run(lambda: all(any(l == "CHAT %d a1 ciao dopo" % m1 for l in p.lines)
                          for p in (b1, sb)))
        g.run(lambda: g.n_played() >= n_before + 4)

        # then B, the same way
        v0b = b.version()
        took_b = upgrade(b, g, "upgrade of B", relayed, a1, [b1, sb], "y")
        assert b.version() == v0b + "-next"
        c = b.connect(greet=False)
        c.expect_line("HELLO tavolo 2 B")
        c.close()
        b2.c.cmd("SAY ciao da B")
        g.run(lambda: all(any(l == "CHAT %d b2 ciao da B" % m2 for l in p.lines)
                          for p in (a2, sa)))

        # a new binary that fails at start: A serves on, lease held
        a.put_script("#!/bin/sh\nexit 3\n")
        ok, _ = a.upgrade(pump=lambda: g.step(pace_s=1.5))
        assert not ok
        t_end = time.monotonic() + 2 * LEASE_MS / 1000.0
        g.run(lambda: time.monotonic() > t_end, timeout=10, pace_s=1.5)
        assert all(p.end is None for p in players), "the matches ended early"
        assert redis.command("GET", "tavolo:node:A") == inc_a
        assert redis.command("PTTL", "tavolo:node:A") > 0
        assert "A" in redis.command("SMEMBERS", "tavolo:nodes")

        # a new binary on another Redis: A sees no subscription of it
        # where it is, gives up within --redis-timeout-ms, serves on
        other = RedisServer()
        try:
            a.put_script(WRONG_REDIS % (other.addr, NEXT))
            ok, took = a.upgrade(pump=lambda: g.step(pace_s=1.5))
            assert not ok and took < 5, took
            assert "relay subscription was not seen" in a.log_text()
        finally:
            other.cleanup()

        # a new binary that hangs after A has handed everything over (the
        # capture: A stopped delivering relay messages): A gives up before
        # its lease could lapse, takes everything back, delivers what it
        # kept meanwhile, in order, and serves on; B never reaps it
        a.put_script(STALL % (STALL_LIB, NEXT))
        sent = []

        def spam():
            g.step(pace_s=0.3)
            say(b2, sent, "w")

        for p in relayed:
            for _ in range(PIPELINED):
                p.ping()
        ok, took = a.upgrade(pump=spam)
        assert not ok, took
        assert "the new process did not confirm in time" in a.log_text()
        assert took < LEASE_MS / 1000.0, took
        g.run(lambda: all(len(chats(r, "w")) >= len(sent) for r in (a2, sa)))
        for r in (a2, sa):
            assert chats(r, "w") == sent, (r.name, chats(r, "w"), sent)
        t_end = time.monotonic() + 2 * LEASE_MS / 1000.0
        g.run(lambda: time.monotonic() > t_end, timeout=10, pace_s=1.5)
        assert redis.command("GET", "tavolo:node:A") == inc_a

        # a few more upgrades of A under light load
        took = [took_a, took_b]
        for i in range(3):
            n_before = g.n_played()
            took.append(upgrade(a, g, "upgrade %d of A" % (i + 2), relayed,
                                b2, [a2, sa], "z%d_" % i))
            g.run(lambda: g.n_played() >= n_before + 2)
        assert all(p.end is None for p in players), "the matches ended early"

        # to the end: every match once, every ping answered once
        g.run(lambda: all(p.end for p in g.everyone) and
              all(p.n_ping_got == p.n_ping_sent for p in g.everyone),
              timeout=120, pace_s=0.0)
        for x, y, sp in ((a1, b1, sb), (b2, a2, sa), (a3, a4, None)):
            assert x.end == y.end and x.end.startswith("END %d " % x.match), \
                (x.end, y.end)
            assert x.public_played == y.public_played
            assert len(x.public_played) == 40, x.public_played
            if sp is not None:
                assert sp.end == x.end, (sp.end, x.end)
                assert sp.public_played == x.public_played
        g.check_clean()
        no_trouble(a, b)
        # every upgrade went through the bridge; across them, messages
        # came from it and duplicates (delivered by the old process) were
        # dropped: both halves of exactly-once were exercised
        bridged = [re.findall(r"bridge: (\d+) messages delivered from it, "
                              r"(\d+) dropped", s.log_text()) for s in (a, b)]
        assert len(bridged[0]) == 4 and len(bridged[1]) == 1, bridged
        n_from = sum(int(x) for n in bridged for x, _ in n)
        n_dup = sum(int(y) for n in bridged for _, y in n)
        assert n_from > 0 and n_dup > 0, bridged
        print("bridge: %d messages delivered from it, %d duplicates dropped"
              % (n_from, n_dup))
        assert a.pid != a.proc.pid and b.pid != b.proc.pid
        if os.environ.get("SHOWLOG"):
            for s in (a, b):
                print("\n".join(l for l in s.log_text().splitlines()
                                if "upgrade" in l or "relay" in l or "cluster" in l))
        print("hand-over seconds (with the test's own polling): %s" %
              " ".join("%.3f" % t for t in took))
        print("handover_ms (freeze to GO, from the logs): A %s, B %s" % tuple(
            " ".join(re.findall(r"upgrade\.done .*handover_ms=(\d+)",
                                s.log_text())) for s in (a, b)))
    except BaseException:
        import traceback
        traceback.print_exc()
        for p in list(locals().get("g").everyone if "g" in locals() else []):
            print("client %s: %d lines, last %r" % (p.name, len(p.lines),
                                                   p.lines[-3:]))
        for s in (a, b):  # what the nodes said, for the failure's report
            if s is not None:
                print("---- log of node %d ----" % s.port)
                print("\n".join(l for l in s.log_text().splitlines()
                                if "conn.opened" not in l)[-5000:])
        raise
    finally:
        for s in (a, b):
            if s is not None:
                s.stop()
        redis.cleanup()


if __name__ == "__main__":
    run([test_cluster_upgrade_node_by_node])
