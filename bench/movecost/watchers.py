#!/usr/bin/env python3
"""Fan-out load for movecost.sh: MATCHES briscola matches of two players,
one after another, each with WATCHERS named spectators.
   watchers.py PORT WATCHERS MATCHES     (prints moves=N at the end)"""
import select
import socket
import sys

PORT, W, M = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])


class C:
    def __init__(self, name):
        self.s = socket.create_connection(("127.0.0.1", PORT))
        self.buf = b""
        self.line()  # HELLO
        self.send("NICK " + name)
        assert self.line().startswith("OK NICK"), name

    def send(self, line):
        self.s.sendall((line + "\n").encode())

    def lines(self, block=True):
        while b"\n" not in self.buf:
            if not block:
                r, _, _ = select.select([self.s], [], [], 0)
                if not r:
                    return []
            chunk = self.s.recv(1 << 16)
            assert chunk, "closed"
            self.buf += chunk
        *done, self.buf = self.buf.split(b"\n")
        return [l.decode() for l in done]

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            assert chunk, "closed"
            self.buf += chunk
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode()


def drain(ws):
    socks = [w.s for w in ws]
    while True:
        r, _, _ = select.select(socks, [], [], 0)
        if not r:
            return
        for s in r:
            s.recv(1 << 20)


players = [C("pa"), C("pb")]
watchers = [C("w%d" % i) for i in range(W)]
moves = 0
for _ in range(M):
    a, b = players
    a.send("CREATE briscola 2")
    mid = None
    while mid is None:
        for l in a.lines():
            if l.startswith("OK CREATE"):
                mid = l.split()[2]
    for w in watchers:
        w.send("WATCH " + mid)
    b.send("JOIN " + mid)
    hands = [[], []]
    over = False
    while not over:
        for seat, p in enumerate(players):
            for l in p.lines(block=False):
                w = l.split()
                if w[0] == "HAND":
                    hands[seat] = w[2:]
                elif w[0] == "DRAW":
                    hands[seat].append(w[2])
                elif w[0] == "TURN" and int(w[2]) == seat:
                    p.send("PLAY " + hands[seat].pop(0))
                    moves += 1
                elif w[0] == "END" and seat == 0:
                    over = True
        drain(watchers)
    for w in watchers:
        w.send("LEAVE")
    drain(watchers)
print("moves=%d" % moves)
