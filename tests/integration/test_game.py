"""Black-box tests of the lobby and briscola (PROTOCOL §3, §4, §5, §7, §9):
scripted clients play whole matches and recompute every trick."""
import re
import socket
import time

from bots import Bot, DECK, auto_card, lines_matching, pump_until
from harness import Server, run

FAST = ("--rate", "100000", "--burst", "100000")


def start_match(s, names, seats=None):
    bots = [Bot(s.connect(), n) for n in names]
    for b in bots:
        b.nick()
    seats = seats or len(names)
    got = bots[0].c.ask("CREATE briscola %d" % seats, r"OK CREATE (\d+)")
    mid = int(got.split()[2])
    bots[0].c.expect_line("SEATED %d 0 %s" % (mid, names[0]))
    bots[0].c.expect_line("COMMIT %d [0-9a-f]{64}" % mid)
    for i, b in enumerate(bots[1:], 1):
        b.c.ask("JOIN %d" % mid, "OK JOIN %d %d" % (mid, i))
    return mid, bots


def check_whole_match(bots, spectators=()):
    everyone = list(bots) + list(spectators)
    pump_until(everyone, lambda: all(b.end for b in everyone), timeout=60)
    ends = {b.end for b in everyone}
    assert len(ends) == 1, ends
    # every card of the deck reached exactly one player's hand
    seen = [c for b in bots for c in b.seen_cards]
    assert sorted(seen) == sorted(DECK), (len(seen), sorted(set(DECK) - set(seen)))
    for sp in spectators:
        assert not [l for l in sp.lines if l.split()[0] in ("HAND", "DRAW")], "spectator saw a hand"
        assert sorted(sp.public_played) == sorted(DECK)
    # Draw order (winner first, then seat order): the face-up trump is the
    # last card drawn, after the last trick that still draws, by the seat
    # drawing last, (winner + n - 1) mod n.
    n = len(bots)
    trump = bots[0].trump
    last_drawing_trick = (40 - 3 * n) // n - 1
    winner = bots[0].trick_winners[last_drawing_trick]
    holder = [b for b in bots if trump in b.drawn]
    assert len(holder) == 1 and holder[0].drawn[-1] == trump, [b.drawn[-1:] for b in bots]
    assert holder[0].seat == (winner + n - 1) % n, (holder[0].seat, winner)
    return ends.pop()


def test_full_two_player_match_with_spectator():
    s = Server(*FAST)
    try:
        mid, bots = start_match(s, ["alice", "bob"])
        spec = Bot(s.connect(), "spec", autoplay=False)
        spec.c.ask("WATCH %d" % mid, "OK WATCH %d" % mid)
        end = check_whole_match(bots, [spec])
        assert re.fullmatch(r"END %d (team0|team1|draw) score \d+ \d+" % mid, end), end
        # order at the start: START, TRUMP, own HAND, TURN
        kinds = [l.split()[0] for l in bots[1].lines]
        i = kinds.index("START")
        assert kinds[i:i + 4] == ["START", "TRUMP", "HAND", "TURN"], kinds[:8]
        # the match is gone after END; players are free
        bots[0].c.ask("LIST", "OK LIST 0")
        bots[0].c.ask("CREATE briscola", r"OK CREATE \d+")
    finally:
        s.stop()


def test_full_four_player_match_teams():
    s = Server(*FAST)
    try:
        mid, bots = start_match(s, ["n0", "n1", "n2", "n3"], seats=4)
        end = check_whole_match(bots)
        w = end.split()
        pts = [int(x) for x in w[4:]]
        assert len(pts) == 4 and sum(pts) == 120, end
        team0 = pts[0] + pts[2]
        assert w[2] == ("team0" if team0 > 60 else "team1" if team0 < 60 else "draw"), end
        for b in bots:  # one HAND each, of three cards, at the deal
            assert len(lines_matching(b, r"HAND %d( \S\S){3}" % mid)) == 1
    finally:
        s.stop()


def test_errors_change_nothing():
    s = Server(*FAST)
    try:
        mid, bots = start_match(s, ["p0", "p1"])
        for b in bots:
            b.autoplay = False
        pump_until(bots, lambda: all(b.hand for b in bots) and any(
            l.startswith("TURN") for l in bots[1].lines))
        a, b = bots
        b.c.ask("PLAY " + b.hand[0], r"ERR NOTYOURTURN .*")
        a.c.ask("PLAY " + b.hand[0], r"ERR NOTINHAND .*")
        a.c.ask("PLAY Xx", r"ERR BADARG .*")
        a.c.ask("PLAY", r"ERR BADARG .*")
        a.c.ask("JOIN %d" % mid, r"ERR ALREADY .*")
        a.c.ask("CREATE briscola", r"ERR ALREADY .*")
        c = Bot(s.connect(), "p2")
        c.nick()
        c.c.ask("PLAY Ac", r"ERR NOTPLAYING .*")
        c.c.ask("SAY hello", r"ERR NOTPLAYING .*")
        c.c.ask("LEAVE", r"ERR NOTPLAYING .*")
        c.c.ask("JOIN %d" % mid, r"ERR FULL .*")
        c.c.ask("JOIN 999", r"ERR NOMATCH .*")
        c.c.ask("JOIN x1", r"ERR BADARG .*")
        c.c.ask("CREATE chess", r"ERR NOGAME .*")
        c.c.ask("CREATE briscola 3", r"ERR BADARG .*")
        # nothing happened: no event reached anyone
        for x in (a, b):
            x.c.no_line(0.2)
        # and the match goes on normally
        for x in bots:
            x.autoplay = True
        a.play(a.hand[0])
        check_whole_match(bots)
    finally:
        s.stop()


def test_nick_rules_and_name_release():
    s = Server()
    try:
        a = s.connect()
        a.ask("NICK", r"ERR BADARG .*")
        a.ask("NICK bad!name", r"ERR BADNAME .*")
        a.ask("NICK " + "x" * 17, r"ERR BADNAME .*")
        a.ask("NICK alice secret extra", r"ERR BADARG .*")
        a.ask("NICK alice", r"OK NICK alice [0-9a-f]{32}")
        a.ask("NICK alice2", r"ERR ALREADY .*")
        b = s.connect()
        b.ask("NICK alice", r"ERR NAMETAKEN .*")
        b.ask("NICK Alice", r"OK NICK Alice [0-9a-f]{32}")  # names are case-sensitive
        b.ask("GAMES", "OK GAMES briscola:2,4 scopa:2,4 hearts:4")
        a.close()
        time.sleep(0.2)
        c = s.connect()
        c.ask("NICK alice", r"OK NICK alice [0-9a-f]{32}")  # freed at once
    finally:
        s.stop()


def test_seating_leave_and_unseated():
    s = Server()
    try:
        a, b, c = (Bot(s.connect(), n, autoplay=False) for n in ("a", "b", "c"))
        for x in (a, b, c):
            x.nick()
        a.c.ask("CREATE briscola 4", "OK CREATE 1")
        a.c.expect_line("SEATED 1 0 a")
        commit = a.c.expect_line("COMMIT 1 [0-9a-f]{64}")
        b.c.ask("JOIN 1", "OK JOIN 1 1")
        b.c.expect_line("SEATED 1 0 a")
        b.c.expect_line("SEATED 1 1 b")
        assert b.c.line() == commit  # the joiner's COMMIT (§13)
        a.c.expect_line("SEATED 1 1 b")
        c.c.ask("LIST", "OK LIST 1 1:briscola:2/4:waiting")
        b.c.ask("LEAVE", "OK LEAVE 1")
        a.c.expect_line("UNSEATED 1 1 b")
        c.c.ask("JOIN 1", "OK JOIN 1 1")
        c.c.expect_line("SEATED 1 0 a")
        c.c.expect_line("SEATED 1 1 c")
        assert c.c.line() == commit
        a.c.expect_line("SEATED 1 1 c")
        c.c.close()  # a connection ending before the start unseats
        a.c.expect_line("UNSEATED 1 1 c")
        a.c.ask("LEAVE", "OK LEAVE 1")
        b.c.ask("LIST", "OK LIST 0")  # the empty match is gone
        b.c.ask("JOIN 1", r"ERR NOMATCH .*")
    finally:
        s.stop()


def watched_match(s):
    """A 2-player match that has started, with an anonymous spectator;
    nobody plays by itself."""
    mid, bots = start_match(s, ["a", "b"])
    for b in bots:
        b.autoplay = False
    spec = Bot(s.connect(), "w", autoplay=False)
    spec.c.ask("WATCH %d" % mid, "OK WATCH %d" % mid)
    pump_until(bots + [spec], lambda: all(b.hand for b in bots) and spec.trump)
    return mid, bots, spec


def test_leave_during_play_forfeits():
    s = Server()
    try:
        mid, bots, spec = watched_match(s)
        bots[1].c.ask("LEAVE", "OK LEAVE %d" % mid)
        pump_until([bots[0], spec], lambda: bots[0].end and spec.end)
        assert bots[0].end == "END %d team0 forfeit 0 0" % mid, bots[0].end
        assert spec.end == bots[0].end
        bots[1].c.no_line(0.3)  # the leaver hears nothing more
        bots[1].c.ask("CREATE briscola", r"OK CREATE \d+")
    finally:
        s.stop()


def test_chat_to_players_and_spectators():
    s = Server()
    try:
        mid, bots, spec = watched_match(s)
        spec.c.cmd("SAY hi")  # watching needs no NICK; SAY does
        pump_until([spec], lambda: any(l.startswith("ERR NONAME ") for l in spec.lines))
        bots[0].c.ask("SAY hello   there", "OK SAY")
        pump_until(bots + [spec], lambda: all(
            "CHAT %d a hello there" % mid in b.lines for b in bots + [spec]))
    finally:
        s.stop()


def test_turn_timeout_autoplays_lowest():
    s = Server("--turn-ms", "300")
    try:
        mid, bots = start_match(s, ["a", "b"])
        for b in bots:
            b.autoplay = False
        pump_until(bots, lambda: all(b.hand for b in bots) and len(bots[0].hand) == 3)
        hand0 = list(bots[0].hand)
        t0 = time.monotonic()
        pump_until(bots, lambda: any(l.startswith("PLAYED") for l in bots[1].lines), timeout=5)
        elapsed = time.monotonic() - t0
        assert elapsed >= 0.2, elapsed
        i = [l.split()[0] for l in bots[1].lines].index("PLAYED")
        assert bots[1].lines[i - 1] == "TIMEOUT %d 0" % mid, bots[1].lines
        assert bots[1].lines[i] == "PLAYED %d 0 %s" % (mid, auto_card(hand0)), (hand0, bots[1].lines[i])
        # nobody plays: the match still ends, by timeouts alone
        pump_until(bots, lambda: all(b.end for b in bots), timeout=60)
        assert " score " in bots[0].end
    finally:
        s.stop()


def test_drop_and_resume_mid_trick():
    s = Server(*FAST)
    try:
        mid, bots = start_match(s, ["a", "b"])
        a, b = bots
        for x in bots:
            x.autoplay = False
        pump_until(bots, lambda: all(x.hand for x in bots) and any(
            l.startswith("TURN") for l in b.lines))
        a.c.ask("PLAY " + a.hand[0], "OK PLAY " + a.hand[0])
        pump_until(bots, lambda: len(b.trick) == 1 and any(
            l == "TURN %d 1 30000" % mid for l in b.lines))
        hand_b = list(b.hand)
        played = b.trick[0][1]
        b.c.close()
        pump_until([a], lambda: "AWAY %d 1" % mid in a.lines)
        # resume on a new connection: reply, then the exact snapshot
        n = s.connect()
        n.ask("RESUME " + "0" * 31, r"ERR BADTOKEN .*")
        n.ask("RESUME " + "f" * 32, r"ERR BADTOKEN .*")
        got = n.ask("RESUME " + b.token, r"OK RESUME b [0-9a-f]{32} %d" % mid)
        new_token = got.split()[3]
        assert new_token != b.token
        n.expect_line("START %d briscola 2 a b" % mid)
        n.expect_line("COMMIT %d [0-9a-f]{64}" % mid)
        n.expect_line("TRUMP %d %s" % (mid, a.trump))
        n.expect_line("HAND %d %s" % (mid, " ".join(hand_b)))
        n.expect_line("PLAYED %d 0 %s" % (mid, played))
        n.expect_line(r"TURN %d 1 \d+" % mid)
        pump_until([a], lambda: "BACK %d 1" % mid in a.lines)
        # the old token is dead, the new one works later
        m = s.connect()
        m.ask("RESUME " + b.token, r"ERR BADTOKEN .*")
        # finish the match with the resumed connection
        b2 = Bot(n, "b")
        b2.match, b2.seat, b2.n_seats, b2.hand = mid, 1, 2, hand_b
        b2.trump, b2.trick, b2.taken = a.trump, [(0, played)], dict(a.taken)
        b2.token = new_token
        for x in (a, b2):
            x.autoplay = True
        b2.play(b2.hand[0])
        pump_until([a, b2], lambda: a.end and b2.end)
        assert a.end == b2.end and " score " in a.end
    finally:
        s.stop()


def test_resume_closes_old_connection():
    s = Server()
    try:
        a = Bot(s.connect(), "a")
        a.nick()
        n = s.connect()
        n.ask("RESUME " + a.token, r"OK RESUME a [0-9a-f]{32}")
        a.c.expect_eof()
        n.ask("CREATE briscola", r"OK CREATE \d+")  # the identity works here
    finally:
        s.stop()


def test_grace_expiry_forfeits_and_frees_name():
    s = Server("--grace-ms", "300")
    try:
        mid, bots = start_match(s, ["a", "b"])
        for x in bots:
            x.autoplay = False
        pump_until(bots, lambda: all(x.hand for x in bots))
        bots[0].c.close()
        pump_until([bots[1]], lambda: bots[1].end, timeout=5)
        assert "AWAY %d 0" % mid in bots[1].lines
        assert bots[1].end.startswith("END %d team1 forfeit" % mid), bots[1].end
        c = s.connect()
        c.ask("RESUME " + bots[0].token, r"ERR BADTOKEN .*")
        c.ask("NICK a", r"OK NICK a [0-9a-f]{32}")
    finally:
        s.stop()


def test_two_matches_stay_apart():
    s = Server(*FAST)
    try:
        m1, g1 = start_match(s, ["a1", "b1"])
        m2, g2 = start_match(s, ["a2", "b2"])
        assert m1 != m2
        pump_until(g1 + g2, lambda: all(b.end for b in g1 + g2), timeout=60)
        for b in g1:
            assert all(l.split()[1] == str(m1) for l in b.lines
                       if l.split()[0] not in ("OK", "ERR")), b.lines
        for b in g2:
            assert all(l.split()[1] == str(m2) for l in b.lines
                       if l.split()[0] not in ("OK", "ERR")), b.lines
    finally:
        s.stop()


def test_watch_mid_match_snapshot():
    s = Server(*FAST)
    try:
        mid, bots = start_match(s, ["a", "b"])
        for x in bots:
            x.autoplay = False
        pump_until(bots, lambda: all(x.hand for x in bots) and any(
            l.startswith("TURN") for l in bots[0].lines))
        bots[0].c.ask("PLAY " + bots[0].hand[0], r"OK PLAY \S\S")
        card = bots[0].c.expect_line(r"PLAYED %d 0 \S\S" % mid).split()[3]
        w = s.connect()
        w.ask("WATCH %d" % mid, "OK WATCH %d" % mid)  # no NICK needed
        w.expect_line("START %d briscola 2 a b" % mid)
        w.expect_line("COMMIT %d [0-9a-f]{64}" % mid)
        w.expect_line(r"TRUMP %d \S\S" % mid)
        w.expect_line("PLAYED %d 0 %s" % (mid, card))
        w.expect_line(r"TURN %d 1 \d+" % mid)
        w.ask("LEAVE", r"ERR NONAME .*")  # LEAVE needs a NICK (PROTOCOL §3)
        w.ask("NICK watcher", r"OK NICK watcher \S+")
        w.ask("LEAVE", "OK LEAVE %d" % mid)
    finally:
        s.stop()


def test_commands_behind_a_held_play_then_half_close():
    """A PLAY waits for its journal entry (the connection is held) while
    the commands sent after it are read, not handled: they are answered
    after it, in order, and the EOF after them closes only then
    (PROTOCOL §1, §2, §9)."""
    s = Server(*FAST)
    try:
        mid, bots = start_match(s, ["a", "b"])
        for b in bots:
            b.autoplay = False
        pump_until(bots, lambda: all(x.hand for x in bots) and any(
            l.startswith("TURN %d 0 " % mid) for l in bots[0].lines))
        card = bots[0].hand[0]
        bots[0].c.send("PLAY %s\nPING 1\nPING 2\nPING part" % card)
        bots[0].c.sock.shutdown(socket.SHUT_WR)
        out = bots[0].c.expect_eof()
        assert re.fullmatch(r"OK PLAY %s\nPLAYED %d 0 %s\nTURN %d 1 \d+\n"
                            r"OK PING 1\nOK PING 2\n" % (card, mid, card, mid),
                            out), out
        # the other seat saw the move
        bots[1].c.expect_line("PLAYED %d 0 %s" % (mid, card))
    finally:
        s.stop()


if __name__ == "__main__":
    run([v for k, v in sorted(globals().items()) if k.startswith("test_")])
