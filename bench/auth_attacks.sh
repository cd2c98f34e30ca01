#!/usr/bin/env bash
# Attacks on accounts (issue 8): how a quiet client's PING latency and the
# server's memory fare while (1) 32 connections from one address send
# wrong passwords for a registered name, and (2) 100 registrations arrive
# at once from 100 addresses. Loopback only; the server is stopped by PID.
#   bench/auth_attacks.sh [path/to/tavolo] [seconds per phase, default 6]
# Prints a table for docs/PERFORMANCE.md ("Attacks on accounts").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/tavolo}
SECS=${2:-6}
exec nice python3 - "$BIN" "$SECS" <<'EOF'
import os, re, select, socket, subprocess, sys, tempfile, threading, time

BIN, SECS = sys.argv[1], float(sys.argv[2])
tmp = tempfile.mkdtemp(prefix="tavolo-bench-")
log = open(os.path.join(tmp, "server.log"), "wb")
proc = subprocess.Popen([BIN, "--port", "0", "--bind", "127.0.0.1", "--data",
                         os.path.join(tmp, "data"), "--admin-port", "off",
                         "--rate", "1000", "--burst", "1000", "--max-per-ip", "64",
                         "--log-level", "warn"], stdout=log, stderr=log)
try:
    port = None
    for _ in range(500):
        m = re.search(rb"listening on .*:(\d+)", open(log.name, "rb").read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.02)
    assert port, open(log.name).read()

    def conn(src="127.0.0.1"):
        s = socket.socket()
        s.settimeout(60)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        f = s.makefile("rb")
        # Speaking first gets HELLO at once, not after the 100 ms sniff
        # window (PROTOCOL §2).
        s.sendall(b"PING hi\n")
        f.readline()  # HELLO
        f.readline()  # OK PING hi
        return s, f

    def ask(c, line):
        c[0].sendall(line.encode() + b"\n")
        return c[1].readline().decode().strip()

    def rss_mb():
        for l in open("/proc/%d/status" % proc.pid):
            if l.startswith("VmRSS:"):
                return int(l.split()[1]) // 1024
        return 0

    quiet = conn("127.0.0.200")
    ask(quiet, "NICK quiet")
    owner = conn("127.0.0.2")
    assert ask(owner, "NICK victim rightpw").startswith("OK NICK")
    ask(owner, "QUIT")

    def phase(name, attack):
        stop = [False]
        t = threading.Thread(target=attack, args=(stop,), daemon=True)
        t.start()
        lat, peak = [], 0
        end = time.monotonic() + SECS
        while time.monotonic() < end:
            t0 = time.monotonic()
            got = ask(quiet, "PING")
            lat.append((time.monotonic() - t0) * 1000)
            assert got == "OK PING", got
            peak = max(peak, rss_mb())
            time.sleep(0.02)
        stop[0] = True
        t.join(120)
        lat.sort()
        return name, len(lat), lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], peak

    def idle(stop):
        while not stop[0]:
            time.sleep(0.05)

    outcomes = {}

    def lockout(stop):
        cs = [conn() for _ in range(32)]
        n = 0
        while not stop[0]:
            for c in cs:
                n += 1
                c[0].sendall(b"NICK victim wrong%d\n" % n)
            for c in cs:
                w = c[1].readline().split()
                outcomes[w[1].decode() if w[0] == b"ERR" else "OK"] = \
                    outcomes.get(w[1].decode() if w[0] == b"ERR" else "OK", 0) + 1
            time.sleep(0.02)
        for c in cs:
            c[0].close()

    def burst(stop):
        cs = [conn("127.0.1.%d" % (i + 1)) for i in range(100)]
        for i, c in enumerate(cs):
            c[0].sendall(b"NICK reg%d pw%d\n" % (i, i))
        for c in cs:
            w = c[1].readline().split()
            k = "burst " + (w[1].decode() if w[0] == b"ERR" else "OK")
            outcomes[k] = outcomes.get(k, 0) + 1
        for c in cs:
            c[0].close()

    rows = [phase("idle", idle), phase("lockout attack", lockout),
            phase("registration burst", burst)]
    base = rows[0][3] or 0.001
    print("binary: %s, %d cores, %.0f s a phase, PING every 20 ms" % (
        BIN, os.cpu_count(), SECS))
    print("%-20s %6s %8s %8s %10s %12s" % ("scenario", "pings", "p50 ms",
                                            "p99 ms", "p99/idle", "max RSS MB"))
    for name, n, p50, p99, peak in rows:
        print("%-20s %6d %8.2f %8.2f %10.1f %12d" % (name, n, p50, p99, p99 / base, peak))
    print("replies to the attackers and the burst: %s" % (
        ", ".join("%s %d" % kv for kv in sorted(outcomes.items()))))
finally:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
EOF
