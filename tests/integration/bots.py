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
