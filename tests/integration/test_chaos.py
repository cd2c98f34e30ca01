"""Chaos: many clients send random commands, valid and broken, join and
leave matches, drop and resume at random, over TCP and WebSocket, for a
bounded time. The server must stay up, keep answering, exit 0 on SIGTERM
(under ASan: no memory error, no leak), and pass its own data check."""
import os
import random
import select
import socket
import subprocess
import time

from harness import BINARY, Client, Server, WSClient, run

WORDS = ["PING", "NICK", "GAMES", "LIST", "CREATE", "JOIN", "WATCH", "PLAY",
         "SAY", "LEAVE", "RESUME", "QUIT", "STATS", "TOP", "HISTORY", "FROB",
         "ping", "nick"]
CARDS = [r + s for s in "cdhs" for r in "A234567JQK"] + ["Zz", "10c", ""]


def random_line(rng, tokens):
    verb = rng.choice(WORDS)
    args = []
    if verb.upper() == "NICK":
        args = [rng.choice(["p%d" % rng.randint(0, 30), "bad name!", "x" * 20])]
        if rng.random() < 0.1:
            args.append("pw")
    elif verb in ("JOIN", "WATCH"):
        args = [str(rng.randint(0, 12)) if rng.random() < 0.9 else "x"]
    elif verb == "CREATE":
        args = ["briscola"] + ([rng.choice(["2", "4", "3"])] if rng.random() < 0.6 else [])
    elif verb == "PLAY":
        args = [rng.choice(CARDS)]
    elif verb == "SAY":
        args = ["hello", "caffè"]
    elif verb == "RESUME":
        args = [rng.choice(tokens) if tokens and rng.random() < 0.7 else "f" * 32]
    line = " ".join([verb] + args)
    r = rng.random()
    if r < 0.03:
        line += "\x07"
    elif r < 0.05:
        return (line + " " + "y" * 600).encode() + b"\n"
    elif r < 0.07:
        return line.encode() + b"\xc0\xaf\n"
    return line.encode() + (b"\r\n" if rng.random() < 0.3 else b"\n")


def test_chaos_many_clients():
    rng = random.Random(int(os.environ.get("CHAOS_SEED", os.getpid())))
    s = Server("--rate", "200", "--burst", "400", "--turn-ms", "150",
               "--grace-ms", "400", "--max-per-ip", "1000", "--conn-rate", "0")
    tokens = []
    clients = []
    deadline = time.monotonic() + 12
    n_sent = n_opened = 0
    try:
        while time.monotonic() < deadline:
            if len(clients) < 40:
                try:
                    c = (WSClient("127.0.0.1", s.port, timeout=2) if rng.random() < 0.3
                         else Client("127.0.0.1", s.port, timeout=2))
                    clients.append(c)
                    n_opened += 1
                except (OSError, AssertionError):
                    pass
            for c in list(clients):
                try:
                    if rng.random() < 0.02:
                        c.sock.close()  # a drop, mid-anything
                        clients.remove(c)
                        continue
                    for _ in range(rng.randint(0, 3)):
                        line = random_line(rng, tokens)
                        if isinstance(c, WSClient):
                            c.send(c.frame(1, line.rstrip(b"\r\n")))
                        else:
                            cut = rng.randint(0, len(line))
                            c.send(line[:cut])
                            c.send(line[cut:])
                        n_sent += 1
                    for l in c.poll_lines(0):
                        w = l.split()
                        if len(w) >= 4 and w[0] == "OK" and w[1] in ("NICK", "RESUME"):
                            tokens.append(w[3])
                except (OSError, AssertionError):
                    clients.remove(c)
            time.sleep(0.01)
        # still alive and answering
        probe = s.connect()
        probe.ask("PING alive", "OK PING alive")
        assert s.proc.poll() is None
    finally:
        for c in clients:
            c.close()
        code = s.stop(timeout=10)
    log = s.log_text()
    assert code == 0, log[-3000:]
    assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log[-3000:]
    r = subprocess.run([BINARY, "--check-data", s.data_dir], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout
    print("  %d commands over %d connections" % (n_sent, n_opened))


if __name__ == "__main__":
    run([test_chaos_many_clients])
