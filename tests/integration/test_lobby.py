"""Black-box tests of the lobby against spam (issue 8; docs/PROTOCOL.md §10,
"Matches"): CREATE's cap on waiting matches per address, the expiry of
waiting matches, and LIST's order keeping real matches in view."""
import re
import time

from harness import Server, run

FAST = ("--rate", "100000", "--burst", "100000", "--conn-rate", "0")
SPAM = ("127.0.0.2", "127.0.0.3")


def named(s, name, source=None):
    c = s.connect(source=source)
    c.ask("NICK %s" % name, r"OK NICK %s [0-9a-f]{32}" % name)
    return c


def create(c, args="briscola"):
    """CREATE's reply: the match id, or the whole ERR line."""
    got = c.ask("CREATE " + args)
    m = re.fullmatch(r"OK CREATE (\d+)", got)
    if not m:
        return got
    mid = int(m.group(1))
    c.expect_line("SEATED %d 0 \\S+" % mid)
    c.expect_line("COMMIT %d [0-9a-f]{64}" % mid)
    return mid


def list_entries(c):
    c.cmd("LIST")
    got = c.line()
    while not got.startswith(("OK ", "ERR ")):  # events before the reply
        got = c.line()
    assert re.fullmatch(r"OK LIST \d+( \S+)*", got), got
    words = got.split()
    assert int(words[2]) == len(words) - 3, got
    assert len(words) - 3 <= 50, got
    for w in words[3:]:  # the protocol's format, unchanged
        assert re.fullmatch(r"\d+:[a-z]+:\d/\d:(waiting|playing)", w), w
    return words[3:]


def spam(s, n=60):
    """n idle connections, half from each spam address, each CREATEs."""
    clients, replies = [], []
    for i in range(n):
        c = named(s, "spam%d" % i, source=SPAM[i % 2])
        clients.append(c)
        replies.append(create(c))
    return clients, replies


def test_cap_refuses_the_excess_and_a_real_match_is_listed():
    s = Server(*FAST)
    try:
        clients, replies = spam(s)
        made = [r for r in replies if isinstance(r, int)]
        refused = [r for r in replies if not isinstance(r, int)]
        assert len(made) == 8, replies  # the default cap: 4 per address
        assert len(refused) == 52, replies
        for r in refused:
            assert r == "ERR FULL too many waiting matches from your address", r
        # the first 4 from each address got through
        assert all(isinstance(r, int) for r in replies[:8]), replies
        a = named(s, "alice")  # 127.0.0.1
        real = create(a, "briscola 4")
        assert "%d:briscola:1/4:waiting" % real in list_entries(a)
        # the count goes down when a match goes: the address may create again
        # (clients[8] and up were refused; even ones are 127.0.0.2)
        clients[0].ask("LEAVE", "OK LEAVE %d" % replies[0])
        mid = create(clients[8])
        assert isinstance(mid, int), mid
        assert create(clients[10]).startswith("ERR FULL ")
        # and when one starts: spam1's match (127.0.0.3) gets a second player
        b = named(s, "bob")
        b.ask("JOIN %d" % replies[1], "OK JOIN %d 1" % replies[1])
        mid = create(clients[9])
        assert isinstance(mid, int), mid
        for c in clients + [a, b]:
            c.close()
    finally:
        s.stop()


def test_list_order_keeps_real_matches_in_view():
    # Without the cap, 60 idle matches would fill LIST's 50.
    s = Server(*FAST, "--max-waiting-per-ip", "0")
    try:
        a, b = named(s, "alice"), named(s, "bob")
        older = create(a, "briscola 4")  # created first, two players
        b.ask("JOIN %d" % older, "OK JOIN %d 1" % older)
        clients, replies = spam(s)
        assert all(isinstance(r, int) for r in replies), replies
        c = named(s, "carol", source="127.0.0.4")
        newest = create(c)  # one player, but the newest
        entries = list_entries(a)
        assert len(entries) == 50, entries
        assert entries[0] == "%d:briscola:2/4:waiting" % older, entries
        assert entries[1] == "%d:briscola:1/2:waiting" % newest, entries
        # then the spam, newest first
        ids = [int(e.split(":")[0]) for e in entries[2:]]
        assert ids == sorted(ids, reverse=True), ids
        for x in clients + [a, b, c]:
            x.close()
    finally:
        s.stop()


def test_waiting_match_expires_with_unseated_lines():
    s = Server(*FAST, "--waiting-ms", "400")
    try:
        a, b = named(s, "alice"), named(s, "bob")
        w = s.connect()  # an anonymous spectator
        t0 = time.monotonic()
        mid = create(a, "briscola 4")
        b.ask("JOIN %d" % mid, "OK JOIN %d 1" % mid)
        a.expect_line("SEATED %d 1 bob" % mid)
        b.expect_line("SEATED %d 0 alice" % mid)
        b.expect_line("SEATED %d 1 bob" % mid)
        b.expect_line("COMMIT %d [0-9a-f]{64}" % mid)
        w.ask("WATCH %d" % mid, "OK WATCH %d" % mid)
        w.expect_line("SEATED %d 0 alice" % mid)
        w.expect_line("SEATED %d 1 bob" % mid)
        w.expect_line("COMMIT %d [0-9a-f]{64}" % mid)
        assert "%d:briscola:2/4:waiting" % mid in list_entries(a)
        for c in (a, b, w):
            c.expect_line("UNSEATED %d 0 alice" % mid, timeout=3)
            c.expect_line("UNSEATED %d 1 bob" % mid)
            c.no_line(0.1)
        assert time.monotonic() - t0 >= 0.35
        assert list_entries(a) == []
        w.ask("WATCH %d" % mid, "ERR NOMATCH .*")
        b.ask("JOIN %d" % mid, "ERR NOMATCH .*")
        b.ask("LEAVE", "ERR NOTPLAYING .*")
        # free again: a new match, and it starts (so it never expires)
        mid2 = create(a)
        b.ask("JOIN %d" % mid2, "OK JOIN %d 1" % mid2)
        time.sleep(0.6)
        assert list_entries(a) == ["%d:briscola:2/2:playing" % mid2]
        for c in (a, b, w):
            c.close()
    finally:
        s.stop()


if __name__ == "__main__":
    run([v for k, v in sorted(globals().items()) if k.startswith("test_")])
