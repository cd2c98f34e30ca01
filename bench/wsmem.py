#!/usr/bin/env python3
"""Resident memory per idle connection, TCP and WebSocket side by side,
and what comes back after the WebSockets close (issue 8).

    bench/wsmem.py [--bin build/tavolo] [--conns 5000]

Starts its own server on a free loopback port (limits lifted for the run),
then, one kind after the other: opens N connections, sends one PING on
each and waits for every answer, reads the server's VmRSS, and closes
them. Prints one line per kind: bytes/conn = (RSS with them - RSS before)
/ N, and for WebSocket also the RSS after they closed. Loopback only;
the server is stopped by its PID.
"""
import argparse
import base64
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def ws_frame(text):
    data = text.encode()
    assert len(data) < 126
    return bytes([0x81, 0x80 | len(data)]) + b"\0\0\0\0" + data


def open_conns(port, n, ws):
    """n connections, each answered one PING; returns the sockets."""
    socks = []
    sel = selectors.DefaultSelector()
    want = {}
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if ws:
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n" % (port, key)).encode()
                      + ws_frame("PING m"))
            want[s] = b"OK PING m"
        else:
            s.sendall(b"PING m\n")
            want[s] = b"OK PING m\n"
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, b"")
        socks.append(s)
        if len(want) >= 256:  # keep the number in flight bounded
            drain(sel, want, 10)
    drain(sel, want, 30)
    sel.close()
    return socks


def drain(sel, want, timeout):
    deadline = time.monotonic() + timeout
    while want:
        if time.monotonic() > deadline:
            raise SystemExit("wsmem: %d connections unanswered" % len(want))
        for key, _ in sel.select(0.5):
            s = key.fileobj
            data = key.data + s.recv(65536)
            if want.get(s) and want[s] in data:
                del want[s]
                sel.unregister(s)
            elif not data:
                raise SystemExit("wsmem: a connection was closed")
            else:
                sel.modify(s, selectors.EVENT_READ, data)


def start(binary, extra):
    tmp = tempfile.mkdtemp(prefix="tavolo-wsmem-")
    log = open(os.path.join(tmp, "server.log"), "wb")
    cmd = [binary, "--port", "0", "--bind", "127.0.0.1", "--data", os.path.join(tmp, "data"),
           "--admin-port", "off", "--rate", "1000000000", "--burst", "1000000000",
           "--max-per-ip", "100000", "--nick-timeout-ms", "600000",
           "--log-level", "warn"] + extra
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = p.stderr.readline().decode()
        m = re.match(r"listening on .*:(\d+)$", line.strip())
        if m:
            return p, int(m.group(1)), cmd
        if not line and p.poll() is not None:
            break
    p.kill()
    raise SystemExit("wsmem: server did not start: %s" % " ".join(cmd))


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "tavolo"))
    ap.add_argument("--conns", type=int, default=5000)
    ap.add_argument("--server-args", default="--conn-rate 0",
                    help="more server options (default lifts the connection rate)")
    a = ap.parse_args()
    extra = a.server_args.split()
    # A fresh server per kind: freed memory from one kind would be reused
    # by the next and hide its cost.
    for kind in ("tcp", "websocket"):
        p, port, cmd = start(a.bin, extra)
        try:
            if kind == "tcp":
                print("$ bench/wsmem.py --conns %d    # server: %s" % (a.conns, " ".join(cmd[1:])))
            time.sleep(0.5)
            before = rss_kb(p.pid)
            socks = open_conns(port, a.conns, kind == "websocket")
            time.sleep(1.0)
            held = rss_kb(p.pid)
            for s in socks:
                s.close()
            time.sleep(1.5)  # closes are handled, then the heap trimmed
            after = rss_kb(p.pid)
            print("%-9s conns=%d rss_before_kb=%d rss_held_kb=%d bytes_per_conn=%d "
                  "rss_after_close_kb=%d" % (kind, a.conns, before, held,
                                             (held - before) * 1024 // a.conns, after))
            sys.stdout.flush()
        finally:
            stop(p)


if __name__ == "__main__":
    main()
