"""The quick-play queue's node dies (docs/CLUSTER.md, "Quick play"): its
queued players, connected through other nodes, are told with ERR
UNAVAILABLE that the queue is gone (their connection closes, and
PROTOCOL §14 has a dropped connection leave the queue); a surviving node
takes the queue role (tavolo:quick-node); QUICK is ERR UNAVAILABLE while
no live node holds it, and then the players queue again and meet."""
import os
import re
import signal
import time

from bots import Bot, pump_until
from cluster import RedisServer
from harness import run
from test_cluster import bot_reply, node, until, wait_ready

LEASE_S = 1.5


def test_queue_node_killed_queue_moves_to_a_survivor():
    redis = RedisServer()
    nodes = {n: node(redis, n, "--quick-bot-ms", "0") for n in ("q0", "q1", "q2")}
    try:
        wait_ready(*nodes.values())
        holder = until(lambda: redis.command("GET", "tavolo:quick-node"),
                       what="a queue node")
        others = [n for n in nodes if n != holder]
        # two players on the other two nodes queue for a 4-seat table
        # (no bots fill it: --quick-bot-ms 0), so they wait on the holder
        bots = [Bot(nodes[n].connect(), "w%d" % i) for i, n in enumerate(others)]
        for b in bots:
            b.nick()
            bot_reply(b, "QUICK briscola 4", "OK QUICK briscola 4")
        os.kill(nodes[holder].proc.pid, signal.SIGKILL)
        nodes[holder].proc.wait(timeout=5)
        t0 = time.monotonic()
        for b in bots:
            got = b.c.line(timeout=LEASE_S + 4)
            assert got == ("ERR UNAVAILABLE the quick-play queue's node is gone: "
                           "connect, NICK and QUICK again on any node"), got
            b.c.expect_eof(timeout=3)
        assert time.monotonic() - t0 < LEASE_S + 3
        # a survivor takes the queue role
        new = until(lambda: (lambda v: v if v in others else None)(
            redis.command("GET", "tavolo:quick-node")), timeout=LEASE_S + 4,
            what="a new queue node")
        # they come back (each on its node), name themselves once the dead
        # node's names are freed, and QUICK until a live node holds the
        # queue: they meet and play to the end
        again = []
        for i, n in enumerate(others):
            b = Bot(nodes[n].connect(), "w%d" % i)
            until(lambda: re.fullmatch(r"OK NICK .*", b.c.ask("NICK w%d" % i)) or
                  None, timeout=LEASE_S + 4, what="w%d named again" % i)
            again.append(b)
        for b in again:
            got = until(lambda: (lambda r: r if r.startswith("OK") else
                                 (time.sleep(0.05), None)[1])(
                bot_reply(b, "QUICK briscola", r"OK QUICK briscola 2|ERR UNAVAILABLE .*")),
                timeout=LEASE_S + 4, what="QUICK taken")
            assert got == "OK QUICK briscola 2"
        pump_until(again, lambda: all(b.end for b in again), timeout=60)
        assert again[0].end == again[1].end
        assert sum(int(v) for v in again[0].end.split()[4:]) == 120
        starts = [l for l in again[0].lines if l.startswith("START")]
        assert len(starts) == 1 and "w0" in starts[0] and "w1" in starts[0], starts
        assert redis.command("GET", "tavolo:quick-node") == new
    finally:
        for s in nodes.values():
            if s.proc.poll() is None:
                s.stop()
        redis.cleanup()


if __name__ == "__main__":
    run([test_queue_node_killed_queue_moves_to_a_survivor])
