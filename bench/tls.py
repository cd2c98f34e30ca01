#!/usr/bin/env python3
"""TLS cost beside plaintext, on loopback (docs/PERFORMANCE.md "TLS").

One server with a self-signed certificate (made here by `openssl req`)
serves both kinds on its one port; in one run this measures:
  - PING throughput: C connections, each pipelining batches of B PINGs
    for D seconds, plain and then TLS (replies per second);
  - PING latency: one connection, one PING at a time, p50 and p99;
  - bytes per idle connection: the server's RSS before and after N
    connections that completed their handshake and got HELLO (plain,
    then TLS), divided by N.
Prints a Markdown table (with the command) on stdout. The client is
Python: its own cost is in every figure, so the ratios are the point.
Bounded: every phase has a time limit; only 127.0.0.1 is used.

  bench/tls.py [--bin build/tavolo] [--secs 3] [--conns 4] [--batch 100]
               [--idle 2000]
"""
import argparse
import os
import re
import resource
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(bin_path, tmp, cert, key):
    log = open(os.path.join(tmp, "server.log"), "wb")
    cmd = [bin_path, "--port", "0", "--bind", "127.0.0.1", "--data",
           os.path.join(tmp, "data"), "--admin-port", "off", "--rate",
           "1000000000", "--burst", "1000000000", "--max-per-ip", "100000",
           "--conn-rate", "0", "--max-handshakes", "100000",
           "--nick-timeout-ms", "600000", "--log-level", "warn",
           "--tls-cert", cert, "--tls-key", key]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(log.name, "rb") as f:
            m = re.search(rb"^listening on .*:(\d+)$", f.read(), re.M)
        if m:
            return proc, int(m.group(1))
        time.sleep(0.02)
    proc.kill()
    raise SystemExit("server did not start")


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


CTX = None


def connect(port, tls):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls:
        s = CTX.wrap_socket(s)
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("closed before HELLO")
        buf += chunk
    return s


def read_lines(s, n, buf):
    """Reads until n more LFs have arrived; returns the rest of buf."""
    while True:
        k = buf.count(b"\n")
        if k >= n:
            # drop exactly n lines
            idx = -1
            for _ in range(n):
                idx = buf.index(b"\n", idx + 1)
            return buf[idx + 1:]
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("closed mid-benchmark")
        buf += chunk


def throughput(port, tls, conns, batch, secs):
    socks = [connect(port, tls) for _ in range(conns)]
    req = b"PING bench\n" * batch
    done = 0
    bufs = [b""] * conns
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        for s in socks:
            s.sendall(req)
        for i, s in enumerate(socks):
            bufs[i] = read_lines(s, batch, bufs[i])
        done += batch * conns
    el = time.monotonic() - t0
    for s in socks:
        s.close()
    return done / el


def latency(port, tls, secs):
    s = connect(port, tls)
    lat = []
    buf = b""
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        a = time.perf_counter()
        s.sendall(b"PING\n")
        buf = read_lines(s, 1, buf)
        lat.append(time.perf_counter() - a)
    s.close()
    lat.sort()
    return (lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6,
            len(lat))


def open_batch(port, tls, n):
    """n connections: TLS handshakes one by one (each about a millisecond),
    then every HELLO awaited together (each comes after the server's
    sniff window, PROTOCOL §2)."""
    import select
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls:
            s = CTX.wrap_socket(s)
        socks.append(s)
    waiting = {s.fileno(): s for s in socks}
    poller = select.poll()
    for fd in waiting:
        poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + 30
    while waiting and time.monotonic() < deadline:
        for fd, _ in poller.poll(1000):
            if fd in waiting and waiting[fd].recv(4096):
                del waiting[fd]
                poller.unregister(fd)
    if waiting:
        raise SystemExit("%d connections got no HELLO" % len(waiting))
    return socks


def idle_bytes(proc, port, tls, n):
    time.sleep(0.3)
    before = rss_kb(proc.pid)
    socks = []
    t0 = time.monotonic()
    while len(socks) < n and time.monotonic() - t0 < 120:
        socks += open_batch(port, tls, min(250, n - len(socks)))
    time.sleep(0.5)
    after = rss_kb(proc.pid)
    took = time.monotonic() - t0
    k = len(socks)
    for s in socks:
        s.close()
    time.sleep(0.5)
    return (after - before) * 1024 / k, k, took


def main():
    global CTX
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "tavolo"))
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--doc", help="also put the table in this file, between "
                    "the <!-- TLS BEGIN --> and <!-- TLS END --> markers")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    CTX = ctx()
    tmp = tempfile.mkdtemp(prefix="tavolo-bench-tls-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
                    cert, "-days", "2", "-subj", "/CN=127.0.0.1"], check=True,
                   capture_output=True, timeout=30)
    proc, port = start(a.bin, tmp, cert, key)
    try:
        # Plain and TLS alternate, twice, and each keeps its better run:
        # the machine is shared, and a burst of someone else's load
        # should not decide a ratio.
        res = {False: {}, True: {}}
        for _ in range(2):
            for tls in (False, True):
                r = res[tls]
                tp = throughput(port, tls, a.conns, a.batch, a.secs)
                r["tput"] = max(r.get("tput", 0), tp)
                lat = latency(port, tls, a.secs)
                r["lat"] = min(r.get("lat", lat), lat, key=lambda x: x[1])
        for tls in (False, True):
            res[tls]["idle"] = idle_bytes(proc, port, tls, a.idle)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
    p, t = res[False], res[True]
    lines = []

    def print(line=""):  # noqa: A001 - the table goes to stdout and --doc
        lines.append(line)

    print("Command: `bench/tls.py --secs %g --conns %d --batch %d --idle %d`"
          % (a.secs, a.conns, a.batch, a.idle))
    print()
    print("| measure | plain | TLS | TLS / plain |")
    print("| --- | ---: | ---: | ---: |")
    print("| PING/s, %d conns pipelining %d | %.0f | %.0f | %.2f |" % (
        a.conns, a.batch, p["tput"], t["tput"], t["tput"] / p["tput"]))
    print("| PING round trip p50, µs (1 conn) | %.0f | %.0f | %.2f |" % (
        p["lat"][0], t["lat"][0], t["lat"][0] / p["lat"][0]))
    print("| PING round trip p99, µs (1 conn) | %.0f | %.0f | %.2f |" % (
        p["lat"][1], t["lat"][1], t["lat"][1] / p["lat"][1]))
    print("| server RSS per idle conn, bytes (%d / %d conns) | %.0f | %.0f | %.2f |" % (
        p["idle"][1], t["idle"][1], p["idle"][0], t["idle"][0],
        t["idle"][0] / p["idle"][0] if p["idle"][0] > 0 else float("nan")))
    print("| time to open the idle conns, s | %.1f | %.1f | %.2f |" % (
        p["idle"][2], t["idle"][2], t["idle"][2] / p["idle"][2]))
    table = "\n".join(lines) + "\n"
    sys.stdout.write(table)
    if a.doc:
        with open(a.doc) as f:
            doc = f.read()
        block = "<!-- TLS BEGIN -->\n" + table + "<!-- TLS END -->"
        doc, n = re.subn(r"<!-- TLS BEGIN -->.*?<!-- TLS END -->",
                         lambda m: block, doc, flags=re.S)
        if n == 0:
            doc += "\n" + block + "\n"
        with open(a.doc, "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()
