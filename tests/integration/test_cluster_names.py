"""Names and the NICK deadline across nodes (docs/CLUSTER.md): a
registered account is unique across the cluster as a name is on one node
(the second login gets NAMETAKEN, PROTOCOL §2/§6 as single-node tavolo),
and a member that moved to another node while anonymous keeps its NICK
deadline."""
import time

from cluster import RedisServer
from harness import run
from test_cluster import node, reply, until, wait_ready


def test_registered_name_is_unique_across_nodes():
    redis = RedisServer()
    nodes = [node(redis, "n%d" % i) for i in range(2)]
    try:
        wait_ready(*nodes)
        a = nodes[0].connect()
        a.ask("NICK alice s3cret", r"OK NICK alice [0-9a-f]{32}")
        # the same account, the right password, on the other node: taken,
        # exactly what one node answers to a second login (PROTOCOL §2)
        b = nodes[1].connect()
        b.ask("NICK alice s3cret", r"ERR NAMETAKEN .*")
        # a wrong password for a name in use: NAMETAKEN before any hash,
        # as one node answers (the name is checked first)
        b.ask("NICK alice wrong", r"ERR NAMETAKEN .*")
        a2 = nodes[0].connect()
        a2.ask("NICK alice wrong", r"ERR NAMETAKEN .*")
        assert redis.command("GET", "tavolo:name:alice") == "n0"
        # and on the same node too, as before
        a2.ask("NICK alice s3cret", r"ERR NAMETAKEN .*")
        # a login the other way round: the name held on n1 is refused on n0
        b.ask("NICK carol pw", r"OK NICK carol [0-9a-f]{32}")
        a2.ask("NICK carol pw", r"ERR NAMETAKEN .*")
        # once alice leaves, her account logs in anywhere
        reply(a, "QUIT", "OK QUIT")
        b2 = nodes[1].connect()
        until(lambda: b2.ask("NICK alice s3cret").startswith("OK NICK alice"),
              what="alice free again")
        assert redis.command("GET", "tavolo:name:alice") == "n1"
        a2.ask("NICK alice s3cret", r"ERR NAMETAKEN .*")
    finally:
        for s in nodes:
            s.stop()
        redis.cleanup()


def test_anonymous_member_moved_keeps_its_nick_deadline():
    redis = RedisServer()
    nodes = [node(redis, "n%d" % i, "--nick-timeout-ms", "1500")
             for i in range(2)]
    try:
        wait_ready(*nodes)
        owner = nodes[0].connect()
        owner.ask("NICK owner", r"OK NICK owner .*")
        mid = int(reply(owner, "CREATE briscola", r"OK CREATE \d+").split()[2])
        until(lambda: "%d:" % mid in nodes[1].connect().ask("LIST"),
              what="the match listed on n1")
        # anonymous on n1, WATCH of n0's match: the member moves to n0
        lurker = nodes[1].connect()
        t0 = time.monotonic()
        lurker.ask("WATCH %d" % mid, "OK WATCH %d" % mid)
        # an anonymous one that moved and then named itself is not timed out
        named = nodes[1].connect()
        named.ask("WATCH %d" % mid, "OK WATCH %d" % mid)
        reply(named, "NICK late", r"OK NICK late [0-9a-f]{32}")
        got = lurker.line(timeout=6)
        while not got.startswith("ERR"):
            got = lurker.line(timeout=6)
        assert got == "ERR TIMEOUT no NICK within 1500 ms", got
        assert time.monotonic() - t0 < 4
        lurker.expect_eof(timeout=3)
        time.sleep(0.3)
        reply(named, "PING", "OK PING")
        assert "TIMEOUT" not in " ".join(named.poll_lines())
    finally:
        for s in nodes:
            s.stop()
        redis.cleanup()


def test_create_burst_finds_match_ids():
    """400 CREATEs at once on one node: each gets an id (ids come in
    blocks from Redis, with one fetched ahead), none ERR UNAVAILABLE."""
    redis = RedisServer()
    n0 = node(redis, "n0")
    try:
        wait_ready(n0)
        cs = [n0.connect(greet=False) for _ in range(400)]
        for c in cs:
            c.expect_line(r"HELLO tavolo 2 n0")
        for i, c in enumerate(cs):
            c.cmd("NICK burst%d" % i)
        for c in cs:
            c.expect_line(r"OK NICK .*")
        for c in cs:
            c.cmd("CREATE briscola")
        ids = [int(c.expect_line(r"OK CREATE \d+").split()[2]) for c in cs]
        assert len(set(ids)) == len(ids)
        for c in cs:
            c.close()
    finally:
        n0.stop()
        redis.cleanup()


if __name__ == "__main__":
    run([test_registered_name_is_unique_across_nodes,
         test_anonymous_member_moved_keeps_its_nick_deadline,
         test_create_burst_finds_match_ids])
