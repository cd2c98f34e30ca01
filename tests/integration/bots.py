"""Scripted players for black-box game tests. A Bot keeps its own view of
the match from the events it receives and recomputes every trick with an
independent model of briscola (PROTOCOL §7), so a wrong winner, wrong
points, a card dealt twice or a hand leaked shows up as a failed assert."""
import random
import re
import select
import time

POINTS = {"A": 11, "3": 10, "K": 4, "Q": 3, "J": 2}
ORDER = "A3KQJ76542"  # strongest first, within a suit
DECK = [r + s for s in "cdhs" for r in "A234567JQK"]


def points(card):
    return POINTS.get(card[0], 0)


def strength(card):
    return len(ORDER) - ORDER.index(card[0])


def trick_winner(cards, trump_suit):
    """Index into cards (play order) of the winning card."""
    best = 0
    for i in range(1, len(cards)):
        c, b = cards[i], cards[best]
        if c[1] == b[1]:
            if strength(c) > strength(b):
                best = i
        elif c[1] == trump_suit:
            best = i
    return best


def auto_card(hand):
    """PROTOCOL §9 auto-play: fewest points, then weakest, then suit c d h s."""
    return min(hand, key=lambda c: (points(c), strength(c), "cdhs".index(c[1])))


class Bot:
    def __init__(self, client, name, rng=None, autoplay=True):
        self.c = client
        self.name = name
        self.rng = rng or random.Random(name)
        self.autoplay = autoplay
        self.resumed = False  # joined mid-match: only END's own sums can be checked
        self.lines = []
        self.reset()

    def reset(self):
        self.match = None
        self.seat = None
        self.n_seats = None
        self.hand = []
        self.trump = None
        self.trick = []  # [(seat, card)]
        self.taken = {}
        self.end = None
        self.seen_cards = []  # every card this bot saw dealt to itself
        self.drawn = []       # the cards of its DRAW lines
        self.trick_winners = []
        self.public_played = []

    def nick(self):
        got = self.c.ask("NICK " + self.name, r"OK NICK %s [0-9a-f]{32}" % self.name)
        self.token = got.split()[3]
        return self.token

    # -- events --
    def on_line(self, line):
        self.lines.append(line)
        w = line.split()
        kind = w[0]
        if kind == "START":
            self.match = int(w[1])
            self.n_seats = int(w[3])
            names = w[4:]
            assert len(names) == self.n_seats, line
            if self.name in names:
                self.seat = names.index(self.name)
            self.taken = {s: 0 for s in range(self.n_seats)}
            self.trick = []
        elif kind == "TRUMP":
            self.trump = w[2]
        elif kind == "HAND":
            self.hand = w[2:]
            for c in self.hand:
                if c not in self.seen_cards:
                    self.seen_cards.append(c)
        elif kind == "DRAW":
            assert len(self.hand) < 3, "drew into a full hand: %r" % line
            self.hand.append(w[2])
            self.seen_cards.append(w[2])
            self.drawn.append(w[2])
        elif kind == "PLAYED":
            seat, card = int(w[2]), w[3]
            assert len(self.trick) < self.n_seats
            self.trick.append((seat, card))
            self.public_played.append(card)
            if seat == self.seat:
                if card in self.hand:
                    self.hand.remove(card)
                else:  # only a snapshot repeats a card already gone from HAND
                    assert self.resumed, "played %s not in hand %r" % (card, self.hand)
        elif kind == "OK" and w[1] == "RESUME":
            self.token = w[3]
        elif kind == "TRICK":
            seat, pts = int(w[2]), int(w[3])
            assert len(self.trick) == self.n_seats, (line, self.trick)
            cards = [c for _, c in self.trick]
            want = self.trick[trick_winner(cards, self.trump[1])][0]
            assert seat == want, "TRICK winner %d, recomputed %d from %r" % (seat, want, self.trick)
            assert pts == sum(points(c) for c in cards), (line, cards)
            self.taken[seat] += pts
            self.trick_winners.append(seat)
            self.trick = []
        elif kind == "OK" and w[1] == "PLAY":
            self.n_acked = getattr(self, "n_acked", 0) + 1
        elif kind == "TURN":
            seat = int(w[2])
            self.turn = seat
            self.n_turns = getattr(self, "n_turns", 0) + 1
            if seat == self.seat and self.autoplay and self.hand:
                self.play(self.rng.choice(self.hand))
        elif kind == "END":
            self.end = line
            pts = [int(x) for x in w[4:]]
            if w[3] == "score":
                if not self.resumed:
                    assert pts == [self.taken[s] for s in range(self.n_seats)], (line, self.taken)
                assert sum(pts) == 120, line
                team = [sum(pts[s] for s in range(self.n_seats) if s % 2 == t) for t in (0, 1)]
                want = "team0" if team[0] > 60 else "team1" if team[1] > 60 else "draw"
                assert w[2] == want, (line, team)

    def play(self, card):
        self.c.cmd("PLAY " + card)
        self.pending = card

    def pump(self, wait=0.0):
        """Reads whatever has arrived (waiting up to `wait`) and handles it."""
        for line in self.c.poll_lines(wait):
            self.on_line(line)


def pump_until(bots, cond, timeout=30):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timeout; last lines: %r" % [(b.name, b.lines[-5:]) for b in bots])
        socks = [b.c.sock for b in bots]
        r, _, _ = select.select(socks, [], [], 0.2)
        for b in bots:
            if b.c.sock in r or b.c.has_buffered():
                b.pump()


def lines_matching(bot, pattern):
    return [l for l in bot.lines if re.fullmatch(pattern, l)]


def play_and_wait(bots, card=None):
    """The bot whose turn it is plays (its first card, or `card`); returns
    once it has its OK and every bot has seen the TURN that follows."""
    x = next(b for b in bots if b.turn == b.seat)
    before = [getattr(b, "n_turns", 0) for b in bots]
    acked = getattr(x, "n_acked", 0)
    x.play(card or x.hand[0])
    pump_until(bots, lambda: getattr(x, "n_acked", 0) > acked and all(
        getattr(b, "n_turns", 0) > n for b, n in zip(bots, before)))
    return x


# ---------- version 2: every game (PROTOCOL §12) ----------

SCOPA_VALUE = {"A": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7,
               "J": 8, "Q": 9, "K": 10}
PRIMIERA = {"7": 21, "6": 18, "A": 16, "5": 15, "4": 14, "3": 13, "2": 12,
            "J": 10, "Q": 10, "K": 10}
HEARTS_ORDER = "23456789TJQKA"
DECK52 = [r + s for s in "cdhs" for r in "A23456789TJQK"]


def scopa_captures(card, table):
    """The legal captures of card on table: a list of lists of table
    cards (empty list: the card is laid)."""
    same = [[c] for c in table if c[0] == card[0]]
    if same:
        return same
    v = SCOPA_VALUE[card[0]]
    out = []
    n = len(table)
    for mask in range(1, 1 << n):
        cards = [table[i] for i in range(n) if mask >> i & 1]
        if len(cards) >= 2 and sum(SCOPA_VALUE[c[0]] for c in cards) == v:
            out.append(cards)
    return out


def scopa_hand_points(captured, sweeps):
    """Points of one scopa hand per side (0, 1) from the cards each side
    took and its sweeps (PROTOCOL §12)."""
    pts = [sweeps[0], sweeps[1]]
    n = [len(captured[0]), len(captured[1])]
    if n[0] != n[1]:
        pts[0 if n[0] > n[1] else 1] += 1
    coins = [sum(1 for c in captured[t] if c[1] == "d") for t in (0, 1)]
    if coins[0] != coins[1]:
        pts[0 if coins[0] > coins[1] else 1] += 1
    for t in (0, 1):
        if "7d" in captured[t]:
            pts[t] += 1
    prim = []
    for t in (0, 1):
        best = {}
        for c in captured[t]:
            best[c[1]] = max(best.get(c[1], 0), PRIMIERA[c[0]])
        prim.append(sum(best.values()) if len(best) == 4 else None)
    if prim[0] is not None and (prim[1] is None or prim[0] > prim[1]):
        pts[0] += 1
    elif prim[1] is not None and (prim[0] is None or prim[1] > prim[0]):
        pts[1] += 1
    return pts


def hearts_strength(card):
    return HEARTS_ORDER.index(card[0])


def hearts_points(card):
    return 13 if card == "Qs" else 1 if card[1] == "h" else 0


class GameBot:
    """A player (or, with spectator=True, a spectator) of any game. It
    plays legal moves chosen at random from its own hand and the public
    events only, and recomputes every trick, capture, sweep and score with
    its own model, asserting that the server said the same."""

    def __init__(self, client, name, rng=None, spectator=False, autoplay=True,
                 terse=False):
        self.c = client
        self.name = name
        self.rng = rng or random.Random(name)
        self.spectator = spectator
        self.autoplay = autoplay and not spectator
        self.terse = terse  # scopa: sometimes PLAY a lone capture unnamed
        self.lines = []
        self.errors = []    # ERR replies to our moves
        self.resumed = False
        self.token = None
        self.match = None
        self.seat = None
        self.game = None
        self.end = None
        self.reveal = None
        self.turn = None
        self.hand = []
        self.ambiguous_seen = []  # BADARG texts for unnamed ambiguous captures
        self.n_moves = 0
        self.seen_cards = set()
        self.expect_sweep = False
        self.passing = False

    def nick(self):
        got = self.c.ask("NICK " + self.name, r"OK NICK %s [0-9a-f]{32}" % self.name)
        self.lines.append(got)
        self.token = got.split()[3]
        return self.token

    def send(self, line):
        self.lines.append("> " + line)  # a client line, for verify-deal
        self.c.cmd(line)

    # -- game state, per match --
    def start(self, w):
        self.match = int(w[1])
        self.game = w[2]
        self.n = int(w[3])
        self.names = w[4:]
        if not self.spectator and self.name in self.names:
            self.seat = self.names.index(self.name)
        self.totals = [0] * self.n
        self.taken_pts = [0] * self.n     # briscola card points
        self.hand_no = 0
        self.trick = []
        self.trump = None
        self.table = []
        self.pending = None               # scopa: (seat, card) awaiting TAKE
        self.passing = False
        self.my_pass = None
        self.received = None
        self.snapshot = False
        self.expect_sweep = False

    def new_hand(self, n):
        self.hand_no = n
        self.trick = []
        self.table = []
        self.captured = [[], []]
        self.sweeps = [0, 0]
        self.last_capturer = None
        self.played_in_hand = 0
        self.hand_pts = [0] * self.n
        self.broken = False
        self.n_tricks = 0
        self.passing = False

    def side(self, seat):
        return seat % 2 if self.game in ("briscola", "scopa") else seat

    def finish_lay(self):
        """scopa: the pending PLAYED had no TAKE after it: it was laid."""
        if self.pending is None:
            return
        seat, card = self.pending
        self.pending = None
        if not self.snapshot:
            assert not scopa_captures(card, self.table), \
                "laid %s though it could capture on %r" % (card, self.table)
        self.table.append(card)

    # -- events --
    def on_line(self, line):
        self.lines.append(line)
        w = line.split()
        kind = w[0]
        if self.game == "scopa" and kind not in ("TAKE",):
            self.finish_lay()
        if self.expect_sweep and kind != "SWEEP":
            raise AssertionError("a capture emptied the table, no SWEEP: %r" % self.lines[-4:])
        if kind == "START":
            self.start(w)
            self.new_hand(1)
        elif kind == "COMMIT":
            if self.match is not None and self.lines[-2].startswith("START"):
                self.snapshot = True  # a snapshot: a hand in progress
        elif kind == "DEAL":
            # in a snapshot, the DEAL right after COMMIT is the hand in
            # progress; any later DEAL is a hand seen whole
            if not self.lines[-2].startswith("COMMIT"):
                self.snapshot = False
            self.new_hand(int(w[2]))
        elif kind == "TRUMP":
            self.trump = w[2]
        elif kind == "TABLE":
            self.table = w[2:]
        elif kind == "HAND":
            assert not self.spectator, "a spectator got %r" % line
            cards = w[2:]
            if self.game == "hearts" and self.my_pass is not None and self.received:
                want = sorted((set(self.hand) - set(self.my_pass)) | set(self.received))
                assert sorted(cards) == want, (line, self.hand, self.my_pass, self.received)
                self.my_pass = None
            for c in cards:
                self.seen_cards.add(c)
            self.hand = cards
        elif kind == "RECEIVED":
            assert not self.spectator, "a spectator got %r" % line
            self.received = w[2:]
            assert len(self.received) == 3 and not set(self.received) & set(self.hand), line
        elif kind == "DRAW":
            assert not self.spectator, "a spectator got %r" % line
            self.hand.append(w[2])
            self.seen_cards.add(w[2])
        elif kind == "PASSING":
            self.passing = True
            self.received = None
            if self.autoplay and self.seat is not None and not self.snapshot:
                self.pass_cards()
        elif kind == "PASSED":
            pass
        elif kind == "PLAYED":
            self.passing = False
            seat, card = int(w[2]), w[3]
            self.played_in_hand += 1
            if seat == self.seat and not self.spectator:
                if card in self.hand:
                    self.hand.remove(card)
                else:
                    assert self.resumed or self.snapshot, "played %s not in hand %r" % (card, self.hand)
            if self.game == "scopa":
                self.pending = (seat, card)
            else:
                self.trick.append((seat, card))
                if self.game == "hearts" and card[1] == "h":
                    self.broken = True
        elif kind == "TAKE":
            seat, cards = int(w[2]), w[3:]
            if (self.pending is not None and
                    sorted(cards) == sorted(self.table + [self.pending[1]])):
                # the played card itself is among them: no capture, so the
                # hand's last card was laid and this is the leftover
                self.finish_lay()
            if self.pending is not None:
                pseat, card = self.pending
                self.pending = None
                assert pseat == seat, line
                if not self.snapshot:
                    opts = scopa_captures(card, self.table)
                    assert sorted(cards) in [sorted(o) for o in opts], \
                        "TAKE %r with %s is not a capture of %r" % (cards, card, self.table)
                for c in cards:
                    self.table.remove(c)
                self.captured[self.side(seat)] += cards + [card]
                self.last_capturer = seat
                self.expect_sweep = (not self.table and self.played_in_hand < 36
                                     and not self.snapshot)
            else:  # the leftover, at the end of the hand
                assert sorted(cards) == sorted(self.table), (line, self.table)
                if self.last_capturer is not None:
                    assert seat == self.last_capturer, (line, self.last_capturer)
                self.captured[self.side(seat)] += cards
                self.table = []
                self.expect_sweep = False
        elif kind == "SWEEP":
            assert self.expect_sweep or self.snapshot, "SWEEP without a sweep: %r" % self.lines[-4:]
            self.sweeps[self.side(int(w[2]))] += 1
            self.expect_sweep = False
        elif kind == "TRICK":
            seat, pts = int(w[2]), int(w[3])
            assert len(self.trick) == self.n, (line, self.trick)
            cards = [c for _, c in self.trick]
            if self.game == "briscola":
                want = self.trick[trick_winner(cards, self.trump[1])][0]
                want_pts = sum(points(c) for c in cards)
                self.taken_pts[seat] += pts
            else:
                led = cards[0][1]
                best = max((c for c in cards if c[1] == led), key=hearts_strength)
                want = self.trick[cards.index(best)][0]
                want_pts = sum(hearts_points(c) for c in cards)
                self.hand_pts[seat] += pts
            assert seat == want, "TRICK winner %d, recomputed %d from %r" % (seat, want, self.trick)
            assert pts == want_pts, (line, cards)
            self.trick = []
            self.n_tricks += 1
        elif kind == "SCORE":
            got = [int(x) for x in w[2:]]
            if self.snapshot:
                self.totals = got  # totals before this hand, from a snapshot
            else:
                self.check_score(got)
        elif kind == "TURN":
            self.passing = False
            self.turn = int(w[2])
            if self.turn == self.seat and self.autoplay and self.hand:
                self.play_some()
        elif kind == "END":
            self.end = line
            self.check_end(w)
        elif kind == "REVEAL":
            self.reveal = line
        elif kind == "OK" and w[1] == "PLAY":
            self.n_moves += 1
        elif kind == "OK" and w[1] == "RESUME":
            self.token = w[3]
        elif kind == "ERR" and w[1] == "BADARG" and "choose a capture" in line and self.terse:
            self.ambiguous_seen.append(line)
            self.play_some(named=True)  # now name one
        elif kind == "ERR":
            self.errors.append(line)

    def check_score(self, got):
        if self.game == "scopa":
            hp = scopa_hand_points(self.captured, self.sweeps)
            for s in range(self.n):
                self.totals[s] += hp[s % 2]
        elif self.game == "hearts":
            hp = list(self.hand_pts)
            assert sum(hp) == 26, hp
            if 26 in hp:
                hp = [0 if p == 26 else 26 for p in hp]
            for s in range(self.n):
                self.totals[s] += hp[s]
        assert got == self.totals, "SCORE %r, recomputed %r" % (got, self.totals)

    def check_end(self, w):
        res, why, pts = w[2], w[3], [int(x) for x in w[4:]]
        if self.game == "briscola":
            if why == "score" and not self.resumed and not self.snapshot:
                assert pts == self.taken_pts, (w, self.taken_pts)
            if why == "score":
                team = [sum(pts[s] for s in range(self.n) if s % 2 == t) for t in (0, 1)]
                assert sum(team) == 120
                want = "team0" if team[0] > 60 else "team1" if team[1] > 60 else "draw"
                assert res == want, (w, team)
            return
        assert pts == self.totals, "END points %r, totals %r" % (pts, self.totals)
        if why != "score":
            return
        if self.game == "scopa":
            t = [pts[0], pts[1]]
            assert max(t) >= 11 and t[0] != t[1], w
            assert res == ("team0" if t[0] > t[1] else "team1"), w
        else:
            assert max(pts) >= 100, w
            low = min(pts)
            want = "draw" if pts.count(low) > 1 else "seat%d" % pts.index(low)
            assert res == want, (w, want)

    # -- moves --
    def pass_cards(self):
        self.my_pass = self.rng.sample(self.hand, 3)
        self.send("PASS " + " ".join(self.my_pass))

    def hearts_legal(self):
        hand = self.hand
        n_tricks = 13 - len(hand)  # this one included, not yet played
        if not self.trick:
            if n_tricks == 0:
                return ["2c"] if "2c" in hand else []
            if not self.broken and any(c[1] != "h" for c in hand):
                return [c for c in hand if c[1] != "h"]
            return list(hand)
        led = self.trick[0][1][1]
        follow = [c for c in hand if c[1] == led]
        if follow:
            return follow
        if n_tricks == 0:
            clean = [c for c in hand if c[1] != "h" and c != "Qs"]
            return clean or list(hand)
        return list(hand)

    def play_some(self, named=False):
        if self.game == "hearts":
            card = self.rng.choice(self.hearts_legal())
            self.send("PLAY " + card)
        elif self.game == "scopa":
            card = self.rng.choice(self.hand)
            opts = scopa_captures(card, self.table)
            if self.terse and len(opts) > 1 and not named:
                self.send("PLAY " + card)  # ambiguous: expect BADARG and a list
                self.last_terse = card
                return
            if named and getattr(self, "last_terse", None):
                card = self.last_terse
                opts = scopa_captures(card, self.table)
                self.last_terse = None
            if opts and not (self.terse and len(opts) == 1 and self.rng.random() < 0.5):
                self.send("PLAY " + " ".join([card] + self.rng.choice(opts)))
            else:
                self.send("PLAY " + card)
        else:
            self.send("PLAY " + self.rng.choice(self.hand))

    def pump(self, wait=0.0):
        for line in self.c.poll_lines(wait):
            self.on_line(line)
