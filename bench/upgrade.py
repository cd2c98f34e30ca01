#!/usr/bin/env python3
"""Hand-over time of a zero-downtime upgrade (SIGUSR2) with many open
connections (docs/PERFORMANCE.md "Upgrade").

A server started from a copy of the binary gets N connections (each
greeted and named with NICK, so every one carries a session and a member
to hand over) and a probe client that pings without pause. The binary
is replaced (by tests/tavolo_next when it is built, else by itself) and
SIGUSR2 sent, R times. Per upgrade it reports:
  - the server's own hand-over time: from the moment it stops reading
    clients to the new process's GO (the log's upgrade.done handover_ms);
  - SIGUSR2 to the new process's took_over line (exec, start-up,
    hand-over, journal restore);
  - the probe's longest wait for a PING reply around the upgrade: what a
    client sees at worst;
and checks that every connection is still open and answers a PING
afterwards. Prints a Markdown table with the command on stdout.
Bounded (every wait has a limit); only 127.0.0.1 is used; every process
started is stopped by its PID.

  bench/upgrade.py [--bin build/tavolo] [--conns 10000] [--rounds 3]
"""
import argparse
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = ["--rate", "1000000000", "--burst", "1000000000", "--max-per-ip",
         "100000", "--conn-rate", "0", "--max-waiting-per-ip", "0",
         "--max-conns", "100000", "--log-level", "info",
         "--nick-timeout-ms", "600000"]


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def read_until(sock, want, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    while want not in buf:
        if time.monotonic() > deadline:
            raise RuntimeError("timeout waiting for %r (have %r)" % (want, buf[-80:]))
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("EOF waiting for %r" % want)
        buf += chunk
    return buf


def open_many(port, n):
    """n connections, each greeted and named; returns the sockets."""
    socks = []
    sel = selectors.DefaultSelector()
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, [i, b"", 0])
        # do not run far ahead of the accepts
        if i % 500 == 499:
            drain(sel, socks, 0)
    drain(sel, socks, n)
    sel.close()
    return socks


def drain(sel, socks, n_want):
    """Reads greetings and NICK replies until n_want are named."""
    deadline = time.monotonic() + 120
    done = sum(1 for k in sel.get_map().values() if k.data[2] == 2)
    while done < n_want or n_want == 0:
        if time.monotonic() > deadline:
            raise RuntimeError("connections not named in time (%d)" % done)
        events = sel.select(0.2 if n_want else 0)
        if not events and n_want == 0:
            return
        for key, _ in events:
            st = key.data
            try:
                chunk = key.fileobj.recv(4096)
            except BlockingIOError:
                continue
            if not chunk:
                raise RuntimeError("connection %d closed" % st[0])
            st[1] += chunk
            if st[2] == 0 and b"HELLO" in st[1] and b"\n" in st[1]:
                st[2] = 1
                st[1] = st[1].split(b"\n", 1)[1]
                key.fileobj.send(b"NICK u%d\n" % st[0])
            if st[2] == 1 and b"OK NICK" in st[1] and st[1].endswith(b"\n"):
                st[2] = 2
                st[1] = b""
                done += 1


def check_all(socks):
    """Every connection answers a PING (none was dropped)."""
    for s in socks:
        s.setblocking(True)
        s.settimeout(10)
        s.sendall(b"PING after\n")
    for i, s in enumerate(socks):
        buf = read_until(s, b"OK PING after\n", 20)
        assert buf.endswith(b"OK PING after\n"), (i, buf[-60:])


def run_bench(args):
    tmp = tempfile.mkdtemp(prefix="tavolo-bench-upgrade-")
    exe = os.path.join(tmp, "tavolo")
    shutil.copy(args.bin, exe)
    nxt = os.path.join(os.path.dirname(args.bin), "tests", "tavolo_next")
    if not os.path.exists(nxt):
        nxt = args.bin
    log_path = os.path.join(tmp, "server.log")
    log = open(log_path, "wb")
    cmd = [exe, "--port", "0", "--bind", "127.0.0.1", "--admin-port", "off",
           "--data", os.path.join(tmp, "data")] + FLAGS
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    pids = {proc.pid}
    pid = proc.pid

    def text():
        with open(log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    try:
        deadline = time.monotonic() + 10
        port = None
        while port is None and time.monotonic() < deadline:
            m = re.search(r"^listening on .*:(\d+)$", text(), re.M)
            port = int(m.group(1)) if m else None
            time.sleep(0.02)
        assert port, text()
        t0 = time.monotonic()
        socks = open_many(port, args.conns)
        t_open = time.monotonic() - t0
        probe = socket.create_connection(("127.0.0.1", port), timeout=10)
        read_until(probe, b"\n", 10)
        rows = []
        for r in range(args.rounds):
            src = nxt if r % 2 == 0 else args.bin
            shutil.copy(src, exe + ".new")
            os.rename(exe + ".new", exe)
            n_before = len(re.findall(r"upgrade\.took_over", text()))
            worst, sent = 0.0, 0
            t_sig = time.monotonic()
            os.kill(pid, signal.SIGUSR2)
            took = None
            deadline = t_sig + 60
            while time.monotonic() < deadline:
                sent += 1
                t = time.monotonic()
                probe.sendall(b"PING %d\n" % sent)
                read_until(probe, b"OK PING %d\n" % sent, 30)
                worst = max(worst, time.monotonic() - t)
                if took is None:
                    done = re.findall(r"upgrade\.took_over pid=(\d+)", text())
                    if len(done) > n_before:
                        took = time.monotonic() - t_sig
                        pid = int(done[-1])
                        pids.add(pid)
                    elif "upgrade.failed" in text()[-2000:]:
                        raise RuntimeError("upgrade failed:\n" + text()[-2000:])
                elif time.monotonic() - t_sig > took + 0.2:
                    break
            assert took is not None, text()[-2000:]
            hand = [int(x) for x in re.findall(r"upgrade\.done .*handover_ms=(\d+)", text())]
            rows.append((hand[-1], took * 1000, worst * 1000))
        check_all(socks)
        return t_open, rows
    finally:
        for p in pids:
            if alive(p):
                os.kill(p, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            if proc.poll() is None:
                try:
                    proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
            time.sleep(0.02)
        for p in pids:
            if alive(p):
                os.kill(p, signal.SIGKILL)
        log.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "tavolo"))
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.conns + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    t_open, rows = run_bench(args)
    load = os.getloadavg()
    print("Upgrade (SIGUSR2) with %d open connections, each named "
          "(`bench/upgrade.py --conns %d --rounds %d`; load %.2f %.2f %.2f):"
          % (args.conns, args.conns, args.rounds, *load))
    print()
    print("| round | hand-over (freeze to GO) ms | SIGUSR2 to took_over ms "
          "| longest PING wait ms |")
    print("|---|---|---|---|")
    for i, (h, t, w) in enumerate(rows):
        print("| %d | %d | %.0f | %.0f |" % (i + 1, h, t, w))
    med = sorted(rows)[len(rows) // 2]
    print()
    print("median hand-over %d ms; every connection answered a PING after "
          "the last upgrade (opened in %.1f s)" % (med[0], t_open))


if __name__ == "__main__":
    main()
