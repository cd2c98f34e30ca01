"""Tests of tools/verify-deal (PROTOCOL §13) on synthetic transcripts
built from §13's known answers: whole briscola, scopa and hearts matches
as one client saw them, then the same transcripts tampered with (a card,
the commitment, a seed). No server: a transcript of a real match is the
engine's test. Reports "N passed, M failed" like the other files here."""
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "tools", "verify-deal")


def load_tool():
    loader = importlib.machinery.SourceFileLoader("verify_deal", TOOL)
    spec = importlib.util.spec_from_loader("verify_deal", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


vd = load_tool()

S = bytes(range(32))
S_HEX = S.hex()
COMMIT = "584cf6db9210672e9eb34e59c81d94b076a334b2f58b4912f6b42b1762095fe5"
BRISCOLA_1 = ("4c 5h Ac Ad Ah As 3h Kh Kd 2d Kc 7s Qh Js 2c 5s Qc 5d 3s Qd "
              "4h 6d Ks 6s 7h 3c 7c Jd 4s 7d Jh 6h 2s 3d 2h Jc 5c 4d 6c Qs")
SCOPA_2 = ("7d 4c 7c 7h 5s Jh Jd 2c Qh 6s 2d 3h Ac Kh 6d Ks Ah 6c Kd As 2s "
           "3d 4d 4h Qd 4s Js 6h 5d Jc 5c 3s Qs Ad 2h 5h Qc 3c 7s Kc")
NAMES = ["alice", "bob", "carol", "dave"]


def deck(game, seeds, hand):
    size = vd.DECK_SIZE[game]
    return vd.shuffle(vd.deal_key(S, game, seeds), hand, size)


def lobby(mid, me, n, seed):
    """What a client gets before START: its name, seed, seat, COMMIT."""
    out = ["HELLO tavolo 2 0123456789abcdef",
           "OK NICK %s %s" % (NAMES[me], "ab" * 16)]
    if seed:
        out.append("OK SEED %s" % seed)
    if me == 0:
        out += ["OK CREATE %d" % mid, "SEATED %d 0 %s" % (mid, NAMES[0])]
    else:
        out.append("OK JOIN %d %d" % (mid, me))
        out += ["SEATED %d %d %s" % (mid, s, NAMES[s]) for s in range(me + 1)]
    out.append("COMMIT %d %s" % (mid, COMMIT))
    # The seats after the client's sit down later.
    out += ["SEATED %d %d %s" % (mid, s, NAMES[s]) for s in range(me + 1, n)]
    out.append("START %d %s %d %s" % (mid, "%s", n, " ".join(NAMES[:n])))
    return out


def reveal(mid, seeds):
    return "REVEAL %d %s %s" % (mid, S_HEX, " ".join(s or "-" for s in seeds))


def briscola(seeds, me, mid=7):
    """A whole briscola match as seat `me` sees it: each seat plays the
    first card of its hand; trick t is won by seat t mod N."""
    n = len(seeds)
    d = deck("briscola", seeds, 1)
    out = lobby(mid, me, n, seeds[me])
    out[-1] = out[-1] % "briscola"
    hands = [d[3 * s:3 * s + 3] for s in range(n)]
    pile = d[3 * n + 1:] + [d[3 * n]]
    out += ["TRUMP %d %s" % (mid, d[3 * n]),
            "HAND %d %s" % (mid, " ".join(hands[me]))]
    lead, trick = 0, 0
    while any(hands):
        out.append("TURN %d %d 30000" % (mid, lead))
        for k in range(n):
            s = (lead + k) % n
            out.append("PLAYED %d %d %s" % (mid, s, hands[s].pop(0)))
        winner = trick % n
        out.append("TRICK %d %d 0" % (mid, winner))
        if pile:
            for k in range(n):
                s = (winner + k) % n
                c = pile.pop(0)
                hands[s].append(c)
                if s == me:
                    out.append("DRAW %d %s" % (mid, c))
        lead, trick = winner, trick + 1
    out += ["END %d draw score %s" % (mid, " ".join(["60"] * n)),
            reveal(mid, seeds)]
    return out


def scopa(seeds, me, n_hands=2, mid=3):
    """n_hands hands of scopa: seats play their cards in turn from the
    leader; no captures are modelled (TABLE is only checked after DEAL)."""
    n = len(seeds)
    out = lobby(mid, me, n, seeds[me])
    out[-1] = out[-1] % "scopa"
    for h in range(1, n_hands + 1):
        d = deck("scopa", seeds, h)
        lead = (h - 1) % n
        order = [(lead + i) % n for i in range(n)]
        out.append("DEAL %d %d" % (mid, h))
        pos = 0
        hands = [None] * n
        for s in order:
            hands[s] = d[pos:pos + 3]
            pos += 3
        out.append("TABLE %d %s" % (mid, " ".join(d[pos:pos + 4])))
        pos += 4
        while True:
            out.append("HAND %d %s" % (mid, " ".join(hands[me])))
            for _ in range(3):
                for s in order:
                    out.append("TURN %d %d 30000" % (mid, s))
                    out.append("PLAYED %d %d %s" % (mid, s, hands[s].pop(0)))
            if pos >= len(d):
                break
            for s in order:
                hands[s] = d[pos:pos + 3]
                pos += 3
        out.append("SCORE %d %s" % (mid, " ".join(["0"] * n)))
    out += ["END %d team0 score %s" % (mid, " ".join(["11"] * n)),
            reveal(mid, seeds)]
    return out


def hearts(seeds, me, mid=5):
    """Hand 1 (pass left) and hand 4's deal would be alike; hand 1 and 2
    here: each seat passes its first three cards, then plays in seat
    order, 13 tricks won by seat 0."""
    out = lobby(mid, me, 4, seeds[me])
    out[-1] = out[-1] % "hearts"
    for h, step, name in ((1, 1, "left"), (2, -1, "right")):
        d = deck("hearts", seeds, h)
        orig = [d[13 * s:13 * s + 13] for s in range(4)]
        out += ["DEAL %d %d" % (mid, h), "HAND %d %s" % (mid, " ".join(orig[me])),
                "PASSING %d %s 30000" % (mid, name)]
        out += ["PASSED %d %d" % (mid, s) for s in range(4)]
        after = [orig[s][3:] + orig[(s - step) % 4][:3] for s in range(4)]
        out += ["RECEIVED %d %s" % (mid, " ".join(orig[(me - step) % 4][:3])),
                "HAND %d %s" % (mid, " ".join(after[me]))]
        for _ in range(13):
            for s in range(4):
                out.append("PLAYED %d %d %s" % (mid, s, after[s].pop(0)))
            out.append("TRICK %d 0 0" % mid)
        out.append("SCORE %d 0 0 0 0" % mid)
    out += ["END %d seat0 score 0 0 0 0" % mid, reveal(mid, seeds)]
    return out


def replace_first(lines, prefix, new):
    """The transcript with the first line starting with prefix replaced."""
    out = list(lines)
    for i, x in enumerate(out):
        if x.startswith(prefix):
            out[i] = new(x)
            return out
    raise AssertionError("no line starts with %r" % prefix)


def other_card(code, avoid=()):
    for c in vd.canonical_deck(52):
        if c != code and c not in avoid:
            return c


class KnownAnswers(unittest.TestCase):
    def test_commit(self):
        self.assertEqual(vd.commit_hex(S), COMMIT)

    def test_briscola_hand_1(self):
        self.assertEqual(" ".join(deck("briscola", ["00ff", ""], 1)), BRISCOLA_1)

    def test_scopa_hand_2(self):
        self.assertEqual(" ".join(deck("scopa", ["c0ffee", "1234"], 2)), SCOPA_2)

    def test_canonical_decks(self):
        self.assertEqual(vd.canonical_deck(40)[:11],
                         "Ac 2c 3c 4c 5c 6c 7c Jc Qc Kc Ad".split())
        self.assertEqual(vd.canonical_deck(52)[7:14],
                         "8c 9c Tc Jc Qc Kc Ad".split())

    def test_uniform_rejects_at_the_bound(self):
        bound = 2 ** 64 - (2 ** 64 % 40)
        self.assertEqual(vd.uniform(40, iter([bound, bound - 1])), (bound - 1) % 40)
        self.assertEqual(vd.uniform(3, iter([2 ** 64 - 1, 5])), 2)


class Verify(unittest.TestCase):
    def check(self, lines, code, seat=None, name=None, hands=1):
        rep = vd.verify(lines, seat, name, hands)
        self.assertEqual(rep.exit_code, code, rep.text())
        return rep

    # -- transcripts as dealt --

    def test_minimal_transcript(self):
        lines = ["COMMIT 1 " + COMMIT, "START 1 briscola 2 alice bob",
                 reveal(1, ["00ff", ""])]
        rep = self.check(lines, 0)
        self.assertIn("  hand 1: " + BRISCOLA_1, rep.out)
        self.assertIn("matches S", rep.text())

    def test_minimal_scopa_prints_hand_2(self):
        lines = ["COMMIT 1 " + COMMIT, "START 1 scopa 2 alice bob",
                 reveal(1, ["c0ffee", "1234"])]
        rep = self.check(lines, 0, hands=2)
        self.assertIn("  hand 2: " + SCOPA_2, rep.out)

    def test_briscola_2_every_card(self):
        for me in (0, 1):
            rep = self.check(briscola(["00ff", ""], me), 0)
            m = rep.matches[0]
            self.assertEqual(m.seat, me)
            self.assertEqual(m.checked, {"TRUMP": 1, "HAND": 1, "DRAW": 17,
                                         "PLAYED": 40})
            self.assertIn("  hand 1: " + BRISCOLA_1, rep.out)

    def test_briscola_4_every_card(self):
        seeds = ["01", "", "abcdef", "9"]
        for me in range(4):
            rep = self.check(briscola(seeds, me), 0)
            self.assertEqual(rep.matches[0].checked,
                             {"TRUMP": 1, "HAND": 1, "DRAW": 7, "PLAYED": 40})

    def test_scopa_2_and_4_every_card(self):
        rep = self.check(scopa(["c0ffee", "1234"], 1), 0)
        self.assertIn("  hand 2: " + SCOPA_2, rep.out)
        self.assertEqual(rep.matches[0].checked,
                         {"TABLE": 2, "HAND": 12, "PLAYED": 72})
        rep = self.check(scopa(["", "aa", "", "bb"], 3, n_hands=3), 0)
        self.assertEqual(rep.matches[0].checked,
                         {"TABLE": 3, "HAND": 9, "PLAYED": 108})

    def test_hearts_every_card(self):
        for me in (0, 2):
            rep = self.check(hearts(["", "5", "", "77"], me), 0)
            self.assertEqual(rep.matches[0].checked,
                             {"HAND": 4, "RECEIVED": 2, "PLAYED": 104})

    def test_prefixes_and_client_lines(self):
        lines = ["S: " + x if i % 2 else "<< " + x
                 for i, x in enumerate(briscola(["00ff", ""], 1))]
        lines.insert(3, "> SEED 00ff")
        lines.insert(4, "C: PLAY As")
        lines.insert(5, "")
        lines.insert(6, "# a comment")
        self.check(lines, 0)

    def test_seat_and_name_options(self):
        body = [x for x in briscola(["00ff", ""], 1)
                if not x.startswith(("OK ", "SEATED"))]
        rep = self.check(body, 0)
        self.assertIsNone(rep.matches[0].seat)  # a spectator's checks only
        self.assertEqual(rep.matches[0].checked, {"TRUMP": 1, "PLAYED": 40})
        rep = self.check(body, 0, seat=1)
        self.assertEqual(rep.matches[0].checked["DRAW"], 17)
        rep = self.check(body, 0, name="bob")
        self.assertEqual(rep.matches[0].seat, 1)

    def test_snapshot_checks_trump_only(self):
        # After RESUME: START, COMMIT, TRUMP, HAND, TURN mid-match.
        d = deck("briscola", ["00ff", ""], 1)
        lines = ["OK RESUME bob " + "cd" * 16 + " 4",
                 "START 4 briscola 2 alice bob", "COMMIT 4 " + COMMIT,
                 "TRUMP 4 " + d[6], "HAND 4 Ac 2c 3c", "TURN 4 1 2000",
                 "PLAYED 4 1 Ac", "TRICK 4 1 11", "DRAW 4 Kd",
                 "END 4 team1 score 50 70", reveal(4, ["00ff", ""])]
        rep = self.check(lines, 0)
        self.assertEqual(rep.matches[0].checked, {"TRUMP": 1})
        self.assertEqual(rep.matches[0].unchecked, 3)
        bad = replace_first(lines, "TRUMP", lambda x: "TRUMP 4 " + other_card(d[6]))
        self.check(bad, 1)

    # -- tampered --

    def test_tampered_draw(self):
        lines = briscola(["00ff", ""], 1)
        bad = replace_first(lines, "DRAW", lambda x: "DRAW 7 " + other_card(x[-2:]))
        rep = self.check(bad, 1)
        self.assertIn("DRAW", rep.mismatches[0])

    def test_tampered_hand_and_trump(self):
        lines = briscola(["00ff", ""], 0)
        self.check(replace_first(lines, "HAND", lambda x: x[:-2] + "Ks"), 1)
        self.check(replace_first(lines, "TRUMP", lambda x: "TRUMP 7 Qs"), 1)

    def test_tampered_card_played_by_another_seat(self):
        lines = briscola(["00ff", ""], 0)
        # Seat 1 plays a card the deck gave seat 0 (seat 0's first card).
        d = deck("briscola", ["00ff", ""], 1)
        bad = replace_first(lines, "PLAYED 7 1 ", lambda x: "PLAYED 7 1 " + d[1])
        rep = self.check(bad, 1)
        self.assertTrue(any("PLAYED" in x for x in rep.mismatches))

    def test_tampered_commit(self):
        lines = briscola(["00ff", ""], 1)
        flip = "0" if COMMIT[0] != "0" else "1"
        bad = replace_first(lines, "COMMIT", lambda x: "COMMIT 7 " + flip + COMMIT[1:])
        rep = self.check(bad, 1)
        self.assertIn("COMMIT", rep.mismatches[0])
        # A different S that matches its own commit still deals another deck.
        s2 = bytes(32)
        bad = [x.replace(COMMIT, vd.commit_hex(s2)).replace(S_HEX, s2.hex())
               for x in lines]
        self.check(bad, 1)

    def test_wrong_seed_for_the_client(self):
        # The server swapped the client's seed for another and dealt that.
        lines = briscola(["00ff", ""], 0)
        real = briscola(["00fe", ""], 0)
        bad = [x for x in real if not x.startswith("OK SEED")]
        bad.insert(2, "OK SEED 00ff")
        rep = self.check(bad, 1)
        self.assertTrue(any("seed" in x for x in rep.mismatches))
        # REVEAL names another seed than the one the deck was dealt with.
        bad = replace_first(lines, "REVEAL", lambda x: reveal(7, ["00ff", "01"]))
        self.check(bad, 1)

    def test_scopa_tampered_table_and_refill(self):
        lines = scopa(["c0ffee", "1234"], 0)
        self.check(replace_first(lines, "TABLE", lambda x: x[:-2] + other_card(x[-2:], x.split())), 1)
        i = [k for k, x in enumerate(lines) if x.startswith("HAND")][3]
        bad = list(lines)
        bad[i] = bad[i][:-2] + other_card(bad[i][-2:], bad[i].split())
        self.check(bad, 1)

    def test_hearts_tampered_received(self):
        lines = hearts(["", "5", "", "77"], 1)
        bad = replace_first(lines, "RECEIVED",
                            lambda x: x[:-2] + other_card(x[-2:], x.split()))
        self.check(bad, 1)

    # -- unusable --

    def test_unusable(self):
        lines = briscola(["00ff", ""], 1)
        self.check([x for x in lines if not x.startswith("REVEAL")], 2)
        self.check([x for x in lines if not x.startswith("COMMIT")], 2)
        self.check([], 2)
        # A second match still in play: not everything could be checked.
        rep = self.check(lines + ["OK JOIN 8 1", "COMMIT 8 " + COMMIT,
                                  "START 8 briscola 2 alice bob"], 2)
        self.assertEqual(len(rep.matches), 2)
        self.assertIn("no REVEAL", rep.text())
        # Two finished matches in one transcript both check.
        rep = self.check(lines + briscola(["00ff", ""], 1, mid=9), 0)
        self.assertEqual(rep.n_verified, 2)
        with self.assertRaises(vd.Unusable):
            vd.verify(replace_first(lines, "REVEAL", lambda x: x + " extra"))
        with self.assertRaises(vd.Unusable):
            vd.verify(replace_first(lines, "START", lambda x: "START 7 poker 2 a b"))
        with self.assertRaises(vd.Unusable):
            vd.verify(lines, seat=2)  # a 2-seat match
        with self.assertRaises(vd.Unusable):
            vd.verify(replace_first(lines, "START", lambda x: "START 7 briscola 2 alice"))


class CommandLine(unittest.TestCase):
    def run_tool(self, lines, *args, stdin=True):
        text = "\n".join(lines) + "\n"
        if stdin:
            return subprocess.run([sys.executable, TOOL] + list(args),
                                  input=text, capture_output=True, text=True)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(text)
        try:
            return subprocess.run([sys.executable, TOOL] + list(args) + [f.name],
                                  capture_output=True, text=True)
        finally:
            os.unlink(f.name)

    def test_exit_status(self):
        lines = briscola(["00ff", ""], 1)
        r = self.run_tool(lines)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("hand 1: " + BRISCOLA_1, r.stdout)
        self.assertIn("result: ok", r.stdout)
        bad = replace_first(lines, "DRAW", lambda x: "DRAW 7 " + other_card(x[-2:]))
        r = self.run_tool(bad, stdin=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("MISMATCH", r.stdout)
        r = self.run_tool(["HELLO tavolo 2 x"])
        self.assertEqual(r.returncode, 2, r.stdout)
        r = self.run_tool(replace_first(lines, "REVEAL", lambda x: "REVEAL 7 zz"))
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("malformed REVEAL", r.stderr)
        r = self.run_tool(lines, "--seat", "0")
        self.assertEqual(r.returncode, 1, r.stdout)  # bob's cards are not seat 0's


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    res = unittest.TextTestRunner(verbosity=2).run(suite)
    bad = len(res.failures) + len(res.errors)
    print("%d passed, %d failed" % (res.testsRun - bad, bad))
    sys.exit(1 if bad or not res.wasSuccessful() else 0)
