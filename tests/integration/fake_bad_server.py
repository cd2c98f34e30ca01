#!/usr/bin/env python3
"""A small briscola server that breaks the rules on purpose, to test that
bench/gameload notices.

    fake_bad_server.py --fault none|dup|drop|badend|reorder|nosweep|badscore
                       [--v2] [--port 0]

It speaks just enough of PROTOCOL §2-§4 and §7 for gameload's CREATE/JOIN
mode: HELLO, NICK, GAMES (briscola:2,4 only), CREATE, JOIN, PLAY, LEAVE,
QUIT, and answers everything else (QUICK included) with ERR BADCMD. With
--v2 it greets `HELLO tavolo 2`, sends COMMIT and REVEAL (§11, §13, with
made-up values), seats players with QUICK (§14, no ratings, no bots), and
also offers scopa:2,4 and hearts:4 (§12, played
correctly: they are the reference gameload's checks are tested against;
dup, drop, badend and reorder are briscola's). Briscola is played correctly except
for the one fault asked for, in every match:

  none    no fault: gameload must finish with errors=0
  dup     the first DRAW after trick 1 hands its winner a card that was
          played in that trick (a card dealt twice)
  drop    the third PLAY of a match gets OK PLAY, then nothing: no PLAYED,
          no TURN (a dropped move)
  badend  END gives seat 0 one point too many (they add up to 121)
  reorder PLAYED (and what follows) before the OK PLAY that caused it
  nosweep (scopa, --v2) a capture that empties the table gets no SWEEP
  badscore (hearts, --v2) SCORE gives seat 0 one point too many

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
QUEUES = {}
NEXT_ID = [1]
FAULT = "none"
V2 = False


class Match:
    game = "briscola"

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

    def end(self, res, pts):
        self.send_all("END %d %s score %s" % (
            self.id, res, " ".join(str(x) for x in pts)))
        if V2:
            self.send_all("REVEAL %d %s %s" % (self.id, "ab" * 32,
                                               " ".join("-" * self.n)))
        for p in self.players:
            p.match = None
        del MATCHES[self.id]

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
        self.send_start()
        self.send_all("TRUMP %d %s" % (self.id, self.trump))
        for i, p in enumerate(self.players):
            p.send("HAND %d %s" % (self.id, " ".join(self.hands[i])))
        self.send_all("TURN %d %d 30000" % (self.id, self.turn))

    def send_start(self):
        self.send_all("START %d %s %d %s" % (
            self.id, self.game, self.n, " ".join(p.name for p in self.players)))
        if V2:
            self.send_all("COMMIT %d %s" % (self.id, "cd" * 32))

    def beats(self, a, b):
        ts = self.trump[1]
        if a[1] == ts and b[1] != ts:
            return True
        return a[1] == b[1] and STRENGTH[a[0]] > STRENGTH[b[0]]

    def play_cmd(self, seat, args):
        if len(args) != 1 or args[0] not in self.hands[seat]:
            return "ERR NOTINHAND no"
        if FAULT == "reorder":  # the events before the reply (§2)
            self.play(seat, args[0])
            self.players[seat].send("OK PLAY %s" % args[0])
            return None
        self.players[seat].send("OK PLAY %s" % args[0])
        self.n_plays += 1
        if FAULT == "drop" and self.n_plays == 3:
            self.dropped = True  # the move is lost: no PLAYED, no TURN
            return None
        self.play(seat, args[0])
        return None

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
            self.end(res, pts)
            return
        self.send_all("TURN %d %d 30000" % (self.id, self.turn))


def subsets(cards, want):
    """Every set of cards (a list) whose scopa values add up to want."""
    out = []

    def go(i, left, acc):
        if left == 0:
            out.append(list(acc))
            return
        for j in range(i, len(cards)):
            v = SCOPA_VALUE[cards[j][0]]
            if v <= left:
                acc.append(cards[j])
                go(j + 1, left - v, acc)
                acc.pop()
    go(0, want, [])
    return out


SCOPA_VALUE = {r: i + 1 for i, r in enumerate(RANKS)}
PRIMIERA = {"7": 21, "6": 18, "A": 16, "5": 15, "4": 14, "3": 13, "2": 12,
            "J": 10, "Q": 10, "K": 10}


class Scopa(Match):
    """PROTOCOL §12 scopa, played correctly (no faults)."""
    game = "scopa"

    def side(self, seat):
        return seat % 2 if self.n == 4 else seat

    def start(self):
        self.started = True
        self.totals = [0, 0]
        self.hand_no = 0
        self.send_start()
        self.deal()

    def deal(self):
        self.hand_no += 1
        self.deck = [r + s for s in SUITS for r in RANKS]
        random.shuffle(self.deck)
        lead = (self.hand_no - 1) % self.n
        self.hands = [None] * self.n
        for k in range(self.n):
            s = (lead + k) % self.n
            self.hands[s], self.deck = self.deck[:3], self.deck[3:]
        self.table, self.deck = self.deck[:4], self.deck[4:]
        self.taken = [[], []]
        self.sweeps = [0, 0]
        self.last = None
        self.send_all("DEAL %d %d" % (self.id, self.hand_no))
        self.send_all("TABLE %d %s" % (self.id, " ".join(self.table)))
        for i, p in enumerate(self.players):
            p.send("HAND %d %s" % (self.id, " ".join(self.hands[i])))
        self.turn = lead
        self.send_all("TURN %d %d 30000" % (self.id, self.turn))

    def options(self, card):
        same = [c for c in self.table if c[0] == card[0]]
        if same:
            return [[c] for c in same]
        return subsets(self.table, SCOPA_VALUE[card[0]])

    def play_cmd(self, seat, args):
        card, named = args[0], args[1:]
        if card not in self.hands[seat]:
            return "ERR NOTINHAND no"
        opts = self.options(card)
        if named:
            if sorted(named) not in [sorted(o) for o in opts]:
                return "ERR BADARG not a legal capture"
            take = named
        elif len(opts) > 1:
            return "ERR BADARG several captures"
        else:
            take = opts[0] if opts else []
        self.players[seat].send("OK PLAY %s" % " ".join([card] + take))
        self.hands[seat].remove(card)
        self.send_all("PLAYED %d %d %s" % (self.id, seat, card))
        last_card = not self.deck and not any(self.hands)
        if take:
            for c in take:
                self.table.remove(c)
            self.taken[self.side(seat)] += take + [card]
            self.last = seat
            self.send_all("TAKE %d %d %s" % (self.id, seat, " ".join(take)))
            if not self.table and not last_card:
                self.sweeps[self.side(seat)] += 1
                if FAULT != "nosweep":
                    self.send_all("SWEEP %d %d" % (self.id, seat))
        else:
            self.table.append(card)
        self.turn = (seat + 1) % self.n
        if any(self.hands):
            self.send_all("TURN %d %d 30000" % (self.id, self.turn))
            return None
        if self.deck:
            lead = (self.hand_no - 1) % self.n
            for k in range(self.n):
                s = (lead + k) % self.n
                self.hands[s], self.deck = self.deck[:3], self.deck[3:]
            for i, p in enumerate(self.players):
                p.send("HAND %d %s" % (self.id, " ".join(self.hands[i])))
            self.send_all("TURN %d %d 30000" % (self.id, self.turn))
            return None
        if self.table and self.last is not None:
            self.taken[self.side(self.last)] += self.table
            self.send_all("TAKE %d %d %s" % (self.id, self.last,
                                             " ".join(self.table)))
        self.table = []
        self.score_hand()
        return None

    def score_hand(self):
        t = self.taken
        pts = [self.sweeps[0], self.sweeps[1]]
        for a in (0, 1):
            b = 1 - a
            pts[a] += len(t[a]) > len(t[b])
            pts[a] += (sum(c[1] == "d" for c in t[a]) >
                       sum(c[1] == "d" for c in t[b]))
            pts[a] += "7d" in t[a]
        prim = []
        for a in (0, 1):
            best = [max([PRIMIERA[c[0]] for c in t[a] if c[1] == su] or [0])
                    for su in SUITS]
            prim.append(sum(best) if all(best) else -1)
        for a in (0, 1):
            pts[a] += prim[a] >= 0 and prim[a] > prim[1 - a]
        self.totals = [self.totals[0] + pts[0], self.totals[1] + pts[1]]
        per_seat = [self.totals[self.side(i)] for i in range(self.n)]
        self.send_all("SCORE %d %s" % (self.id, " ".join(map(str, per_seat))))
        a, b = self.totals
        if max(a, b) >= 11 and a != b:
            self.end("team0" if a > b else "team1", per_seat)
        else:
            self.deal()


HRANK = {r: i for i, r in enumerate("23456789TJQKA")}
DIRS = ["left", "right", "across"]


class Hearts(Match):
    """PROTOCOL §12 hearts, played correctly (no faults)."""
    game = "hearts"

    def start(self):
        self.started = True
        self.totals = [0] * 4
        self.hand_no = 0
        self.send_start()
        self.deal()

    def deal(self):
        self.hand_no += 1
        deck = [r + s for s in SUITS for r in "A23456789TJQK"]
        random.shuffle(deck)
        self.hands = [deck[13 * i:13 * i + 13] for i in range(4)]
        self.points = [0] * 4
        self.trick, self.n_tricks, self.broken = [], 0, False
        self.passes = [None] * 4
        self.turn = -1
        self.send_all("DEAL %d %d" % (self.id, self.hand_no))
        for i, p in enumerate(self.players):
            p.send("HAND %d %s" % (self.id, " ".join(self.hands[i])))
        self.passing = self.hand_no % 4 != 0
        if self.passing:
            self.send_all("PASSING %d %s 30000" % (
                self.id, DIRS[(self.hand_no - 1) % 4]))
        else:
            self.first_turn()

    def first_turn(self):
        self.turn = self.leader = [i for i in range(4) if "2c" in self.hands[i]][0]
        self.send_all("TURN %d %d 30000" % (self.id, self.turn))

    def pass_cmd(self, seat, args):
        if not self.passing:
            return "ERR NOTYOURTURN no pass due"
        if self.passes[seat] is not None:
            return "ERR ALREADY passed"
        if len(args) != 3 or len(set(args)) != 3 or \
                any(c not in self.hands[seat] for c in args):
            return "ERR NOTINHAND no"
        self.passes[seat] = list(args)
        self.players[seat].send("OK PASS")
        self.send_all("PASSED %d %d" % (self.id, seat))
        if None in self.passes:
            return None
        shift = [1, -1, 2][(self.hand_no - 1) % 4]
        got = [None] * 4
        for i in range(4):
            got[(i + shift) % 4] = self.passes[i]
        for i in range(4):
            self.hands[i] = [c for c in self.hands[i] if c not in self.passes[i]]
            self.hands[i] += got[i]
        for i, p in enumerate(self.players):
            p.send("RECEIVED %d %s" % (self.id, " ".join(got[i])))
            p.send("HAND %d %s" % (self.id, " ".join(self.hands[i])))
        self.passing = False
        self.first_turn()
        return None

    def legal(self, seat, card):
        h = self.hands[seat]
        if self.n_tricks == 0 and not self.trick:
            return card == "2c"
        if not self.trick:
            return card[1] != "h" or self.broken or all(c[1] == "h" for c in h)
        led = self.trick[0][1]
        if any(c[1] == led for c in h):
            return card[1] == led
        if self.n_tricks == 0 and (card[1] == "h" or card == "Qs"):
            return all(c[1] == "h" or c == "Qs" for c in h)
        return True

    def play_cmd(self, seat, args):
        card = args[0]
        if self.passing:
            return "ERR NOTYOURTURN passing"
        if len(args) != 1:
            return "ERR BADARG one card"
        if card not in self.hands[seat]:
            return "ERR NOTINHAND no"
        if not self.legal(seat, card):
            return "ERR ILLEGAL not now"
        self.players[seat].send("OK PLAY %s" % card)
        self.hands[seat].remove(card)
        self.trick.append(card)
        self.broken |= card[1] == "h"
        self.send_all("PLAYED %d %d %s" % (self.id, seat, card))
        if len(self.trick) < 4:
            self.turn = (seat + 1) % 4
            self.send_all("TURN %d %d 30000" % (self.id, self.turn))
            return None
        led = self.trick[0][1]
        win = max((i for i in range(4) if self.trick[i][1] == led),
                  key=lambda i: HRANK[self.trick[i][0]])
        winner = (self.leader + win) % 4
        pts = sum(c[1] == "h" for c in self.trick) + 13 * ("Qs" in self.trick)
        self.points[winner] += pts
        self.send_all("TRICK %d %d %d" % (self.id, winner, pts))
        self.trick, self.n_tricks = [], self.n_tricks + 1
        self.turn = self.leader = winner
        if self.n_tricks < 13:
            self.send_all("TURN %d %d 30000" % (self.id, self.turn))
            return None
        moon = [i for i in range(4) if self.points[i] == 26]
        for i in range(4):
            self.totals[i] += (0 if i == moon[0] else 26) if moon else self.points[i]
        shown = list(self.totals)
        if FAULT == "badscore":
            shown[0] += 1
        self.send_all("SCORE %d %s" % (self.id, " ".join(map(str, shown))))
        if max(self.totals) >= 100:
            low = min(self.totals)
            res = ("seat%d" % self.totals.index(low)
                   if self.totals.count(low) == 1 else "draw")
            self.end(res, list(self.totals))
        else:
            self.deal()


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
        self.send("HELLO tavolo %d fakebadserver" % (2 if V2 else 1))
        try:
            for raw in self.rfile:
                words = raw.decode("utf-8", "replace").split()
                if not words:
                    continue
                with LOCK:
                    if self.command(words[0].upper(), words[1:]) == "quit":
                        return
        except OSError:
            pass  # gameload ends with RST: the end of that connection

    def command(self, verb, args):
        if verb == "QUIT":
            self.send("OK QUIT")
            return "quit"
        if verb == "GAMES":
            return self.send("OK GAMES briscola:2,4" +
                             (" scopa:2,4 hearts:4" if V2 else ""))
        if verb == "NICK":
            if not args or args[0] in NAMES:
                return self.send("ERR NAMETAKEN taken")
            self.name = args[0]
            NAMES.add(self.name)
            return self.send("OK NICK %s %s" % (self.name, secrets.token_hex(16)))
        if verb == "QUICK" and V2 and self.name:
            return self.quick(args)
        if verb not in ("CREATE", "JOIN", "PLAY", "PASS", "LEAVE"):
            return self.send("ERR BADCMD unknown command")
        if not self.name:
            return self.send("ERR NONAME nick first")
        if verb == "CREATE":
            kind = {"briscola": Match, "scopa": Scopa, "hearts": Hearts}.get(
                args[0] if args else "")
            if not kind or (kind is not Match and not V2):
                return self.send("ERR NOGAME no such game")
            seats = int(args[1]) if len(args) > 1 else 2
            m = kind(NEXT_ID[0], seats)
            NEXT_ID[0] += 1
            MATCHES[m.id] = m
            m.players[0] = self
            self.match = m
            self.send("OK CREATE %d" % m.id)
            self.send("SEATED %d 0 %s" % (m.id, self.name))
            return self.send("COMMIT %d %s" % (m.id, "cd" * 32)) if V2 else None
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
                    if V2:
                        self.send("COMMIT %d %s" % (m.id, "cd" * 32))
                elif p:
                    p.send("SEATED %d %d %s" % (m.id, seat, self.name))
            if None not in m.players:
                m.start()
            return None
        if verb == "LEAVE":
            self.unqueue()
            return self.send("OK LEAVE")
        m = self.match
        if not m or not m.started:
            return self.send("ERR NOTPLAYING not playing")
        seat = m.players.index(self)
        if verb == "PLAY" and (seat != m.turn or m.dropped):
            return self.send("ERR NOTYOURTURN wait")
        if verb == "PASS":
            err = m.pass_cmd(seat, args) if m.game == "hearts" else \
                "ERR NOTYOURTURN no pass due"
            return self.send(err) if err else None
        if not args:
            return self.send("ERR BADARG no card")
        err = m.play_cmd(seat, args)
        return self.send(err) if err else None

    def quick(self, args):
        """QUICK <game> [seats] (§14): a table forms as soon as the queue
        for that game and seat count holds enough players."""
        kind = {"briscola": Match, "scopa": Scopa, "hearts": Hearts}.get(
            args[0] if args else "")
        if not kind:
            return self.send("ERR NOGAME no such game")
        seats = int(args[1]) if len(args) > 1 else (4 if kind is Hearts else 2)
        self.send("OK QUICK %s %d" % (args[0], seats))
        q = QUEUES.setdefault((args[0], seats), [])
        q.append(self)
        if len(q) < seats:
            return None
        m = kind(NEXT_ID[0], seats)
        NEXT_ID[0] += 1
        MATCHES[m.id] = m
        m.players = q[:seats]
        del q[:seats]
        for p in m.players:
            p.match = m
            for t, o in enumerate(m.players):
                p.send("SEATED %d %d %s" % (m.id, t, o.name))
            p.send("COMMIT %d %s" % (m.id, "cd" * 32))
        m.start()
        return None

    def unqueue(self):
        for q in QUEUES.values():
            if self in q:
                q.remove(self)

    def finish(self):
        with LOCK:
            self.unqueue()
            NAMES.discard(self.name)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global FAULT, V2
    ap = argparse.ArgumentParser()
    ap.add_argument("--fault", choices=["none", "dup", "drop", "badend",
                                         "reorder", "nosweep", "badscore"],
                    default="none")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--v2", action="store_true")
    a = ap.parse_args()
    FAULT = a.fault
    V2 = a.v2
    srv = Server(("127.0.0.1", a.port), Conn)
    print("listening on 127.0.0.1:%d" % srv.server_address[1], file=sys.stderr,
          flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
