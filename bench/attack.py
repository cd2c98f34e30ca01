#!/usr/bin/env python3
"""Hostile clients for bench/attacks.sh, on loopback only (127.0.0.0/8).

    bench/attack.py KIND --port N --secs S [--pid PID --blacklist FILE]

KIND:
  slowread   200 clients with a 4 KiB receive buffer that never read, each
             sending 20 PINGs/s with 400-byte tokens; reconnect when closed
  sighup     SIGHUP to PID every 10 ms (PID reads a 100 000-line --blacklist)
  connflood  connect and close from one address as fast as possible
  slowloris  5 000 HTTP heads that never end, dripping a byte per second
             each, from 250 addresses (reconnected when cut)

Prints "ready" on stdout once set up, then attacks for S seconds and exits.
"""
import argparse
import errno
import os
import selectors
import signal
import socket
import sys
import time


def src(i, base):
    """127.<base>.x.y: spread over addresses, as many attackers would be."""
    return "127.%d.%d.%d" % (base, (i >> 8) & 255, (i & 255) or 1)


def connect_nb(port, source=None, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return s


def slowread(a):
    line = ("PING " + "x" * 400 + "\n").encode()
    socks = [connect_nb(a.port, src(i // 10 + 1, 1), 4096) for i in range(200)]
    print("ready", flush=True)
    end = time.monotonic() + a.secs
    while time.monotonic() < end:
        t0 = time.monotonic()
        for i, s in enumerate(socks):
            try:
                s.send(line)
            except (BlockingIOError, InterruptedError):
                pass  # the server stopped reading us: fine, keep trying
            except OSError:
                s.close()  # closed for not reading: come back
                socks[i] = connect_nb(a.port, src(i // 10 + 1, 1), 4096)
        time.sleep(max(0, 0.05 - (time.monotonic() - t0)))


def sighup(a):
    print("ready", flush=True)
    end = time.monotonic() + a.secs
    while time.monotonic() < end:
        os.kill(a.pid, signal.SIGHUP)
        time.sleep(0.01)


def connflood(a):
    print("ready", flush=True)
    end = time.monotonic() + a.secs
    sel = selectors.DefaultSelector()
    n = 0
    while time.monotonic() < end:
        while len(sel.get_map()) < 200:
            s = connect_nb(a.port, "127.0.0.3")
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
            n += 1
        for key, _ in sel.select(0.05):
            sel.unregister(key.fileobj)
            key.fileobj.close()
    print("connects: %d" % n, file=sys.stderr)


def slowloris(a):
    n_conns = 5000
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    socks = []
    for i in range(n_conns):
        s = connect_nb(a.port, src(i // 20 + 1, 2))
        socks.append([s, 0])
        if i % 40 == 39:
            time.sleep(0.05)  # within every per-address limit
    time.sleep(0.5)
    for e in socks:
        try:
            e[0].send(head)
            e[1] = 1
        except OSError:
            pass
    print("ready", flush=True)
    end = time.monotonic() + a.secs
    while time.monotonic() < end:
        t0 = time.monotonic()
        for i, e in enumerate(socks):
            try:
                # one more byte of a header that never ends (the request
                # line first on a new connection)
                e[0].send(b"X" if e[1] else head)
                e[1] = 1
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as ex:
                if ex.errno in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                    e[0].close()  # cut by the partial-line timeout: again
                    e[0] = connect_nb(a.port, src(i // 20 + 1, 2))
                    e[1] = 0
        time.sleep(max(0, 1.0 - (time.monotonic() - t0)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["slowread", "sighup", "connflood", "slowloris"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secs", type=float, default=8)
    ap.add_argument("--pid", type=int)
    a = ap.parse_args()
    {"slowread": slowread, "sighup": sighup, "connflood": connflood,
     "slowloris": slowloris}[a.kind](a)


if __name__ == "__main__":
    main()
