#!/usr/bin/env python3
"""Cross-node versus same-node PLAY turn latency, and Redis commands per
move (docs/CLUSTER.md, "Figures"). One redis-server (AOF, everysec) and
two tavolo nodes on this machine; briscola matches of two players, played
move by move: the mover's PLAY to its OK PLAY is one turn's latency.

  bench/cluster.py [--moves N] [--doc docs/CLUSTER.md]

Same-node: both players connected to the owner node. Cross-node: the
owner's player on node 0, the other on node 1 (its commands and events
relayed over Redis pub/sub). Redis commands per move come from INFO
commandstats around the timed play, less the lease traffic of an idle
window as long."""
import argparse
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("TAVOLO_BIN", os.path.join(HERE, "..", "build", "tavolo"))

from bots import Bot, pump_until  # noqa: E402
from cluster import RedisServer  # noqa: E402
from harness import Server  # noqa: E402

LIFT = ("--rate", "1000000000", "--burst", "1000000000", "--max-per-ip",
        "100000", "--conn-rate", "0", "--max-waiting-per-ip", "0")


def commandstats(redis):
    out = {}
    info = redis.command("INFO", "commandstats")
    for m in re.finditer(r"cmdstat_(\w+):calls=(\d+)", info):
        out[m.group(1)] = int(m.group(2))
    return out


def delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b)
            if b.get(k, 0) - a.get(k, 0) > 0}


def reply_of(b, line, pattern):
    b.c.cmd(line)
    while True:
        got = b.c.line()
        b.on_line(got)
        if got.split()[0] in ("OK", "ERR"):
            assert re.fullmatch(pattern, got), (line, got)
            return got


class TBot(Bot):
    """Knows when it is to move: a TURN for its seat it has not played."""

    def on_line(self, line):
        super().on_line(line)
        w = line.split()
        if w[0] == "TURN" and self.seat is not None and int(w[2]) == self.seat:
            self.my_turn = True
        elif w[0] == "OK" and w[1] == "PLAY":
            self.got_ok = True


def play_matches(a_node, b_node, n_moves, tag):
    """Matches until n_moves timed moves; returns (latencies of the
    player on b_node, of the one on a_node) in ms."""
    lat_a, lat_b, k = [], [], 0
    while len(lat_a) + len(lat_b) < n_moves:
        k += 1
        a = TBot(a_node.connect(), "%sa%d" % (tag, k), autoplay=False)
        b = TBot(b_node.connect(), "%sb%d" % (tag, k), autoplay=False)
        a.nick()
        b.nick()
        mid = int(reply_of(a, "CREATE briscola", r"OK CREATE (\d+)").split()[2])
        reply_of(b, "JOIN %d" % mid, "OK JOIN %d 1" % mid)
        bots = [a, b]
        while len(lat_a) + len(lat_b) < n_moves:
            pump_until(bots, lambda: any(getattr(x, "my_turn", False) for x in bots)
                       or any(x.end for x in bots))
            if any(x.end for x in bots):
                break
            x = next(p for p in bots if getattr(p, "my_turn", False))
            x.my_turn = False
            x.got_ok = False
            t0 = time.perf_counter()
            x.play(x.hand[0])
            while not x.got_ok:
                x.on_line(x.c.line())
            (lat_b if x is b else lat_a).append((time.perf_counter() - t0) * 1000)
        for p in bots:
            p.c.close()
    return lat_b, lat_a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=400)
    ap.add_argument("--doc")
    args = ap.parse_args()
    redis = RedisServer()
    nodes = [Server(*LIFT, "--redis", redis.addr, "--node-id", "b%d" % i,
                    "--admin-port", "off") for i in range(2)]
    try:
        time.sleep(1.5)  # leases and id blocks
        play_matches(nodes[0], nodes[0], 40, "w")  # warm up
        s0 = commandstats(redis)
        t0 = time.monotonic()
        same_b, same_a = play_matches(nodes[0], nodes[0], args.moves, "s")
        t_same = time.monotonic() - t0
        s1 = commandstats(redis)
        t0 = time.monotonic()
        cross_b, cross_a = play_matches(nodes[0], nodes[1], args.moves, "x")
        t_cross = time.monotonic() - t0
        s2 = commandstats(redis)
        time.sleep(max(t_same, 1.0))
        s3 = commandstats(redis)
        idle = sum(delta(s2, s3).values()) / max(t_same, 1.0)  # per second
        n_same = len(same_a) + len(same_b)
        n_cross = len(cross_a) + len(cross_b)
        d_same, d_cross = delta(s0, s1), delta(s1, s2)
        per_same = (sum(d_same.values()) - idle * t_same) / n_same
        per_cross = (sum(d_cross.values()) - idle * t_cross) / n_cross
        med = statistics.median
        same = med(same_a + same_b)
        cross_remote = med(cross_b)
        cross_owner = med(cross_a)
        load = open("/proc/loadavg").read().split()[0]
        rows = [
            "| figure | value |",
            "|---|---|",
            "| same-node PLAY -> OK, median | %.3f ms |" % same,
            "| cross-node PLAY -> OK, median (the remote player) | %.3f ms |" % cross_remote,
            "| cross-node PLAY -> OK, median (the owner's player) | %.3f ms |" % cross_owner,
            "| cross-node / same-node (remote player) | %.2fx |" % (cross_remote / same),
            "| Redis commands per move (scripts' inner calls included), same-node | %.2f (%s) |" % (per_same, ", ".join(
                "%s %.2f" % (k, v / n_same) for k, v in sorted(d_same.items()) if v / n_same >= 0.05)),
            "| Redis commands per move (scripts' inner calls included), cross-node | %.2f (%s) |" % (per_cross, ", ".join(
                "%s %.2f" % (k, v / n_cross) for k, v in sorted(d_cross.items()) if v / n_cross >= 0.05)),
            "| Redis round trips per move (EVALSHA of the journal + PUBLISH of the relay), same-node | %.2f |" % (
                (d_same.get("evalsha", 0) + d_same.get("publish", 0)) / n_same),
            "| Redis round trips per move (EVALSHA of the journal + PUBLISH of the relay), cross-node | %.2f |" % (
                (d_cross.get("evalsha", 0) + d_cross.get("publish", 0)) / n_cross),
            "| moves timed, each | %d same-node, %d cross-node; load average %s |" % (n_same, n_cross, load),
        ]
        text = "\n".join(rows)
        print(text)
        if args.doc:
            doc = open(args.doc).read()
            new = re.sub(r"(<!-- CLUSTER-BENCH -->\n).*?(\n<!-- /CLUSTER-BENCH -->)",
                         lambda m: m.group(1) + text + m.group(2), doc, flags=re.S)
            open(args.doc, "w").write(new)
    finally:
        for s in nodes:
            s.stop()
        redis.cleanup()


if __name__ == "__main__":
    main()
