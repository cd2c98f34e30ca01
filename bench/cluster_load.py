#!/usr/bin/env python3
"""Players carried at p99 turn latency under 5 ms: one node against three
nodes, in the same run (docs/CLUSTER.md, "Figures"). One redis-server
(AOF, everysec) on this machine; the nodes behind a real HAProxy (TCP
mode, round robin), which also fronts the single node so both rows pay
the same hop; bench/gameload plays 2-seat briscola through HAProxy's
port with a think time, so players land on every node and most tables
are cross-node (the joiner moves to the creator's node, relayed).

For each player count of a doubling ladder, one node then three nodes
(fresh processes and an emptied Redis each time), --repeat times (the
row's p99 is the median); a count is carried when its row, and every
smaller one, had a turn p99 under the limit and no error. The limits
are 5 ms (the issue's figure) and, since this machine is shared and
noisy, 10 and 20 ms from the same rows.

  bench/cluster_load.py [--secs S] [--think MIN-MAX] [--ladder N,N,...]
                        [--repeat R] [--limits-ms 5,10,20]"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("TAVOLO_BIN", os.path.join(ROOT, "build", "tavolo"))

from cluster import HAProxy, RedisServer  # noqa: E402
from harness import Server  # noqa: E402

GAMELOAD = os.path.join(ROOT, "build", "bench", "gameload", "gameload")
LIFT = ("--rate", "1000000000", "--burst", "1000000000", "--max-per-ip",
        "100000", "--conn-rate", "0", "--max-waiting-per-ip", "0",
        "--max-conns", "100000", "--log-level", "warn")


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def one_row(redis, n_nodes, players, secs, think):
    redis.command("FLUSHALL")
    nodes = [Server(*LIFT, "--redis", redis.addr, "--node-id", "b%d" % i)
             for i in range(n_nodes)]
    lb = HAProxy([("127.0.0.1", s.port) for s in nodes], check_ms=1000)
    try:
        time.sleep(1.0)  # leases held, ids at hand, health checks up
        out = subprocess.run(
            [GAMELOAD, "-p", str(lb.port), "-n", str(players), "-d", str(secs),
             "--warmup", "3", "--think-ms", think, "-g", "briscola:2", "-q"],
            capture_output=True, text=True, timeout=secs + 120)
        line = next((l for l in out.stdout.splitlines() + out.stderr.splitlines()
                     if l.startswith("gameload games=")), None)
        if line is None:
            return {"error": (out.stdout + out.stderr)[-300:]}
        kv = dict(w.split("=", 1) for w in line.split() if "=" in w)
        return kv
    finally:
        lb.stop()
        for s in nodes:
            s.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=int, default=8)
    ap.add_argument("--think", default="500-1500")
    ap.add_argument("--ladder", default="100,200,400,800,1600")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per row; the row's p99 is their median")
    ap.add_argument("--limits-ms", default="5,10,20")
    a = ap.parse_args()
    redis = RedisServer()
    ladder = [int(x) for x in a.ladder.split(",")]
    p99 = {}  # (nodes, players) -> median p99 us (inf on errors)
    print("$ gameload -p HAPROXY -n N -d %d --warmup 3 --think-ms %s -g briscola:2 -q"
          % (a.secs, a.think))
    try:
        for n in ladder:
            for k in (1, 3):
                runs = []
                for _ in range(a.repeat):
                    kv = one_row(redis, k, n, a.secs, a.think)
                    errs = int(kv.get("errors", "1")) if "error" not in kv else 1
                    v = float(kv.get("turn_p99_us", "inf")) if errs == 0 else float("inf")
                    runs.append(v)
                    print("nodes=%d players=%d turn_p50_us=%s turn_p99_us=%s "
                          "moves_per_s=%s errors=%s load=%s"
                          % (k, n, kv.get("turn_p50_us"), kv.get("turn_p99_us"),
                             kv.get("moves_per_s"), kv.get("errors", kv.get("error")),
                             load()), flush=True)
                p99[(k, n)] = statistics.median(runs)
    finally:
        redis.cleanup()
    for lim in [float(x) for x in a.limits_ms.split(",")]:
        carried = {}
        for k in (1, 3):
            carried[k] = 0
            for n in ladder:  # the largest count below which every row held
                if p99[(k, n)] >= lim * 1000:
                    break
                carried[k] = n
        print("carried at p99 < %g ms: one node %d players, three nodes %d players; load %s"
              % (lim, carried[1], carried[3], load()))


if __name__ == "__main__":
    main()
