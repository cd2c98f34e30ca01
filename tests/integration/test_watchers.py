"""Black-box tests of --max-watchers (issue 8; PROTOCOL §10, WATCH): past
the cap WATCH is ERR FULL, and a spectator that leaves (LEAVE or its
connection ends) frees its place."""
import re
import time

from harness import Server, run

FAST = ("--rate", "100000", "--burst", "100000")


def until(c, pattern):
    """Reads lines until one matches; the events of a snapshot come first."""
    for _ in range(50):
        got = c.line()
        if re.fullmatch(pattern, got):
            return got
    raise AssertionError("no line /%s/" % pattern)


def watcher(s, name, mid):
    w = s.connect()
    w.ask("NICK " + name, r"OK NICK %s \S+" % name)
    w.cmd("WATCH %d" % mid)
    return w, w.line()


def test_fourth_watcher_is_full_and_leaving_frees_a_place():
    s = Server(*FAST, "--max-watchers", "3")
    try:
        host = s.connect()
        host.ask("NICK host", r"OK NICK host \S+")
        mid = int(host.ask("CREATE briscola 2", r"OK CREATE (\d+)").split()[2])
        ws = []
        for i in range(3):
            w, got = watcher(s, "w%d" % i, mid)
            assert got == "OK WATCH %d" % mid, got
            ws.append(w)
        w4, got = watcher(s, "w3", mid)
        assert re.fullmatch(r"ERR FULL .+", got), got
        # another match is not affected by this one's audience
        other = s.connect()
        other.ask("NICK other", r"OK NICK other \S+")
        mid2 = int(other.ask("CREATE briscola 2", r"OK CREATE (\d+)").split()[2])
        w4.ask("WATCH %d" % mid2, "OK WATCH %d" % mid2)
        until(w4, "COMMIT %d [0-9a-f]{64}" % mid2)
        w4.ask("LEAVE", "OK LEAVE %d" % mid2)
        # LEAVE frees a place
        ws[0].cmd("LEAVE")
        until(ws[0], "OK LEAVE %d" % mid)
        w4.ask("WATCH %d" % mid, "OK WATCH %d" % mid)
        until(w4, "COMMIT %d [0-9a-f]{64}" % mid)
        w5, got = watcher(s, "w5", mid)
        assert re.fullmatch(r"ERR FULL .+", got), got
        # a closed connection frees a place too
        ws[1].close()
        deadline = time.monotonic() + 5
        while True:
            w5.cmd("WATCH %d" % mid)
            got = w5.line()
            if got == "OK WATCH %d" % mid:
                break
            assert re.fullmatch(r"ERR FULL .+", got), got
            assert time.monotonic() < deadline, "closed watcher kept its place"
            time.sleep(0.05)
        # players are not spectators: the seat still fills and the match starts
        p = s.connect()
        p.ask("NICK p", r"OK NICK p \S+")
        p.ask("JOIN %d" % mid, "OK JOIN %d 1" % mid)
        until(w5, r"START %d briscola 2 host p" % mid)
    finally:
        s.stop()


def test_zero_is_no_limit():
    s = Server(*FAST, "--max-watchers", "0")
    try:
        host = s.connect()
        host.ask("NICK host", r"OK NICK host \S+")
        mid = int(host.ask("CREATE briscola 2", r"OK CREATE (\d+)").split()[2])
        for i in range(5):
            _, got = watcher(s, "z%d" % i, mid)
            assert got == "OK WATCH %d" % mid, got
    finally:
        s.stop()


if __name__ == "__main__":
    run([v for k, v in sorted(globals().items()) if k.startswith("test_")])
