"""--bench-bot-matches (docs/BOTS.md "Load"): the server keeps N matches of
bots alone in play, a new one as soon as one ends; the bot metrics count
their moves and time; a malformed value is refused at start."""
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

from harness import BINARY, Server, run


def metrics(s):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % s.admin_port, timeout=5) as r:
        return r.read().decode()


def value(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    assert m, name
    return float(m.group(1))


def test_bot_matches_are_kept_in_play_and_counted():
    s = Server("--bench-bot-matches", "3:briscola:2:easy", "--bot-delay-ms", "20")
    try:
        deadline = time.monotonic() + 30
        playing = set()
        while True:
            text = metrics(s)
            playing.add(value(text, 'tavolo_matches{state="playing"}'))
            # more than 3 finished: the ended ones were replaced
            if value(text, "tavolo_matches_finished_total") >= 6 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert value(text, "tavolo_matches_finished_total") >= 6, text
        assert max(playing) == 3, playing  # never more than N
        # 20 moves a seat and match: every finished match's 40 were the bots'
        assert value(text, 'tavolo_bot_moves_total{level="easy"}') >= 6 * 40, text
        assert value(text, 'tavolo_bot_moves_total{level="hard"}') == 0, text
        assert value(text, 'tavolo_bot_cpu_seconds_total{level="easy"}') > 0, text
    finally:
        assert s.stop() == 0
    r = subprocess.run([BINARY, "--check-data", s.data_dir], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


def test_malformed_bench_bot_matches_refused():
    # A data directory of the test's own that must never be created: the
    # option is refused before the store opens (a shared fixed path, left
    # by another run's server, once gave a different error).
    root = tempfile.mkdtemp(prefix="tavolo-benchbots-")
    data = os.path.join(root, "never-created")
    try:
        for bad in ["3:briscola:2", "0:briscola:2:hard", "3:briscola:2:expert",
                    "3:briscola:2:hard:x", "3:chess:2:hard", "3:briscola:3:hard"]:
            r = subprocess.run([BINARY, "--port", "0", "--bind", "127.0.0.1", "--data",
                                data, "--bench-bot-matches", bad],
                               capture_output=True, text=True, timeout=10)
            assert r.returncode != 0, bad
            assert "bench-bot-matches" in r.stderr, (bad, r.stderr)
            assert not os.path.exists(data), (bad, "the data directory was created")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    run([test_bot_matches_are_kept_in_play_and_counted, test_malformed_bench_bot_matches_refused])
