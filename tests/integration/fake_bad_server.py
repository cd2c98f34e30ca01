#!/usr/bin/env python3
"""A small briscola server that breaks the rules on purpose, to test that
bench/gameload notices.

    fake_bad_server.py --fault none|dup|drop|badend [--port 0]

It speaks just enough of PROTOCOL §2-§4 and §7 for gameload's CREATE/JOIN
mode: HELLO, NICK, GAMES (briscola:2,4 only), CREATE, JOIN, PLAY, LEAVE,
QUIT, and answers everything else (QUICK included) with ERR BADCMD. The
game is briscola, played correctly except for the one fault asked for, in
every match:

  none    no fault: gameload must finish with errors=0
  dup     the first DRAW after trick 1 hands its winner a card that was
          played in that trick (a card dealt twice)
  drop    the third PLAY of a match gets OK PLAY, then nothing: no PLAYED,
          no TURN (a dropped move)
  badend  END gives seat 0 one point too many (they add up to 121)

Prints "listening on 127.0.0.1:PORT" on stderr once it accepts. One
thread per connection, one lock around all state; loopback only.
"""
import argparse
import random
import secrets
import socket
import socketserver
import sys
import threading

RANKS = "A234567JQK"
SUITS = "cdhs"
STRENGTH = {r: i for i, r in enumerate("2456 7JQK3A".replace(" ", ""))}
POINTS = {"A": 11, "3": 10, "K": 4, "Q": 3, "J": 2}

LOCK = threading.Lock()
MATCHES = {}
NAMES = set()
NEXT_ID = [1]
FAULT = "none"


class Match:
    def __init__(self, mid, seats):
        self.id, self.n = mid, seats
        self.players = [None] * seats
        self.started = False
        self.n_plays = 0
        self.dropped = False

    def send_all(self, line):
        for p in self.players:
            if p:
                p.send(line)

    def start(self):
        self.started = True
        deck = [r + s for s in SUITS for r in RANKS]
        random.shuffle(deck)
        self.hands = [deck[3 * i:3 * i + 3] for i in range(self.n)]
        rest = deck[3 * self.n:]
        self.trump = rest[0]
        self.deck = rest[1:] + [rest[0]]  # the trump is drawn last
        self.points = [0] * self.n
        self.trick = []
        self.leader = self.turn = 0
        self.n_tricks = 0
        self.send_all("START %d briscola %d %s" % (
            self.id, self.n, " ".join(p.name for p in self.players)))
        self.send_all("TRUMP %d %s" % (self.id, self.trump))
        for i, p in enumerate(self.players):
            p.send("HAND %d %s" % (self.id, " ".join(self.hands[i])))
        self.send_all("TURN %d %d 30000" % (self.id, self.turn))

    def beats(self, a, b):
        ts = self.trump[1]
        if a[1] == ts and b[1] != ts:
            return True
        return a[1] == b[1] and STRENGTH[a[0]] > STRENGTH[b[0]]

    def play(self, seat, card):
        self.hands[seat].remove(card)
        self.trick.append(card)
        self.send_all("PLAYED %d %d %s" % (self.id, seat, card))
        if len(self.trick) < self.n:
            self.turn = (seat + 1) % self.n
            self.send_all("TURN %d %d 30000" % (self.id, self.turn))
            return
        win = 0
        for i in range(1, self.n):
            if self.beats(self.trick[i], self.trick[win]):
                win = i
        winner = (self.leader + win) % self.n
        pts = sum(POINTS.get(c[0], 0) for c in self.trick)
        self.points[winner] += pts
        self.send_all("TRICK %d %d %d" % (self.id, winner, pts))
        played, self.trick = self.trick, []
        self.n_tricks += 1
        if self.deck:
            for k in range(self.n):
                s = (winner + k) % self.n
                card = self.deck.pop(0)
                if FAULT == "dup" and self.n_tricks == 1 and k == 0:
                    self.deck.insert(0, card)
                    card = played[-1]  # already played: dealt twice
                self.hands[s].append(card)
                self.players[s].send("DRAW %d %s" % (self.id, card))
        self.leader = self.turn = winner
        if self.n_tricks == 40 // self.n:
            pts = list(self.points)
            if FAULT == "badend":
                pts[0] += 1
            team = [sum(pts[i] for i in range(self.n) if i % 2 == t)
                    for t in (0, 1)]
            res = "team0" if team[0] > 60 else "team1" if team[1] > 60 else "draw"
            self.send_all("END %d %s score %s" % (
                self.id, res, " ".join(str(x) for x in pts)))
            for p in self.players:
                p.match = None
            del MATCHES[self.id]
            return
        self.send_all("TURN %d %d 30000" % (self.id, self.turn))


class Conn(socketserver.StreamRequestHandler):
    def send(self, line):
        try:
            self.request.sendall((line + "\n").encode())
        except OSError:
            pass

    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.name = None
        self.match = None
        self.send("HELLO tavolo 1 fakebadserver")
        for raw in self.rfile:
            words = raw.decode("utf-8", "replace").split()
            if not words:
                continue
            with LOCK:
                if self.command(words[0].upper(), words[1:]) == "quit":
                    return

    def command(self, verb, args):
        if verb == "QUIT":
            self.send("OK QUIT")
            return "quit"
        if verb == "GAMES":
            return self.send("OK GAMES briscola:2,4")
        if verb == "NICK":
            if not args or args[0] in NAMES:
                return self.send("ERR NAMETAKEN taken")
            self.name = args[0]
            NAMES.add(self.name)
            return self.send("OK NICK %s %s" % (self.name, secrets.token_hex(16)))
        if verb not in ("CREATE", "JOIN", "PLAY", "LEAVE"):
            return self.send("ERR BADCMD unknown command")
        if not self.name:
            return self.send("ERR NONAME nick first")
        if verb == "CREATE":
            seats = int(args[1]) if len(args) > 1 else 2
            m = Match(NEXT_ID[0], seats)
            NEXT_ID[0] += 1
            MATCHES[m.id] = m
            m.players[0] = self
            self.match = m
            self.send("OK CREATE %d" % m.id)
            return self.send("SEATED %d 0 %s" % (m.id, self.name))
        if verb == "JOIN":
            m = MATCHES.get(int(args[0]))
            if not m or m.started or None not in m.players:
                return self.send("ERR FULL no seat")
            seat = m.players.index(None)
            m.players[seat] = self
            self.match = m
            self.send("OK JOIN %d %d" % (m.id, seat))
            for s, p in enumerate(m.players):
                if p is self:
                    for t, q in enumerate(m.players):
                        if q:
                            self.send("SEATED %d %d %s" % (m.id, t, q.name))
                elif p:
                    p.send("SEATED %d %d %s" % (m.id, seat, self.name))
            if None not in m.players:
                m.start()
            return None
        if verb == "LEAVE":
            return self.send("OK LEAVE")
        m = self.match
        if not m or not m.started:
            return self.send("ERR NOTPLAYING not playing")
        seat = m.players.index(self)
        if seat != m.turn or m.dropped:
            return self.send("ERR NOTYOURTURN wait")
        if not args or args[0] not in m.hands[seat]:
            return self.send("ERR NOTINHAND no")
        self.send("OK PLAY %s" % args[0])
        m.n_plays += 1
        if FAULT == "drop" and m.n_plays == 3:
            m.dropped = True  # the move is lost: no PLAYED, no TURN
            return None
        m.play(seat, args[0])
        return None

    def finish(self):
        with LOCK:
            NAMES.discard(self.name)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global FAULT
    ap = argparse.ArgumentParser()
    ap.add_argument("--fault", choices=["none", "dup", "drop", "badend"],
                    default="none")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    FAULT = a.fault
    srv = Server(("127.0.0.1", a.port), Conn)
    print("listening on 127.0.0.1:%d" % srv.server_address[1], file=sys.stderr,
          flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
