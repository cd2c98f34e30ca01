"""Chaos with bots: 150 clients mixing QUICK (every game), CREATE with BOT
seats, random moves, LEAVE, drops and RESUME, with a short bot delay,
--away-bot and --abandon bot, for about 15 s. The server must stay up and
answering, exit 0 on SIGTERM (under ASan: no memory error, no leak) and
pass its own data check."""
import os
import random
import subprocess
import time

from harness import BINARY, Client, Server, run

GAMES = [("briscola", "2"), ("briscola", "4"), ("scopa", "2"), ("scopa", "4"),
         ("hearts", "4")]
CARDS = [r + s for s in "cdhs" for r in "A23456789TJQK"]


def random_line(rng, tokens, hand):
    r = rng.random()
    if r < 0.15:
        g, n = rng.choice(GAMES)
        return "QUICK %s %s" % (g, n) if rng.random() < 0.8 else "QUICK %s" % g
    if r < 0.25:
        g, n = rng.choice(GAMES)
        return "CREATE %s %s" % (g, n)
    if r < 0.40:
        return "BOT " + rng.choice(["easy", "normal", "hard", "", "silly"])
    if r < 0.75:
        cards = hand or CARDS
        return "PLAY " + rng.choice(cards)
    if r < 0.80:
        return "PASS " + " ".join(rng.sample(hand if len(hand) >= 3 else CARDS, 3))
    if r < 0.85:
        return "LEAVE"
    if r < 0.90:
        return "JOIN %d" % rng.randint(1, 60)
    if r < 0.93 and tokens:
        return "RESUME " + rng.choice(tokens)
    return rng.choice(["LIST", "PING", "STATS", "HISTORY", "WATCH %d" % rng.randint(1, 60)])


def test_chaos_with_bots():
    rng = random.Random(int(os.environ.get("CHAOS_SEED", os.getpid())))
    s = Server("--rate", "500", "--burst", "1000", "--turn-ms", "300",
               "--grace-ms", "500", "--max-per-ip", "1000", "--conn-rate", "0",
               "--bot-delay-ms", "20",
               "--bot-think-ms", "10", "--quick-bot-ms", "600", "--away-bot", "easy",
               "--abandon", "bot")
    tokens, clients, hands = [], [], {}
    deadline = time.monotonic() + 15
    n_sent = n_opened = n_end = 0
    try:
        while time.monotonic() < deadline:
            if len(clients) < 150:
                try:
                    c = Client("127.0.0.1", s.port, timeout=2)
                    c.cmd("NICK c%d" % n_opened)
                    clients.append(c)
                    hands[c] = []
                    n_opened += 1
                except (OSError, AssertionError):
                    pass
            for c in list(clients):
                try:
                    if rng.random() < 0.01:
                        c.sock.close()  # a drop, mid-anything
                        clients.remove(c)
                        continue
                    if rng.random() < 0.3:
                        c.cmd(random_line(rng, tokens, hands[c]))
                        n_sent += 1
                    for l in c.poll_lines(0):
                        w = l.split()
                        if len(w) >= 4 and w[0] == "OK" and w[1] in ("NICK", "RESUME"):
                            tokens.append(w[3])
                        elif w and w[0] == "HAND":
                            hands[c] = w[2:]
                        elif w and w[0] == "END":
                            n_end += 1
                except (OSError, AssertionError):
                    clients.remove(c)
            time.sleep(0.01)
        probe = s.connect()
        probe.ask("PING alive", "OK PING alive")
        assert s.proc.poll() is None
    finally:
        for c in clients:
            c.close()
        code = s.stop(timeout=10)
    log = s.log_text()
    assert code == 0, log[-3000:]
    assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log[-3000:]
    r = subprocess.run([BINARY, "--check-data", s.data_dir], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout
    print("  %d commands over %d connections, %d END lines seen" % (n_sent, n_opened, n_end))


if __name__ == "__main__":
    run([test_chaos_with_bots])
