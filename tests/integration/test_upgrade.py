"""Black-box tests of the zero-downtime upgrade (SIGUSR2,
docs/OPERATIONS.md "Upgrading without downtime").

The server runs from a copy of the binary in a temp dir; an upgrade puts
another build in its place (tavolo_next: the same code reporting
"<version>-next", tests/CMakeLists.txt) and sends SIGUSR2. Clients over
TCP, WebSocket and TLS play briscola through it, each checked by the
scripted player of bots.py (every trick recomputed, END's points equal
to the tricks it saw: a lost or repeated event fails) and by a PING
counter (every reply once, in order). The version is read from the
admin port's /metrics (tavolo_build_info).

After an upgrade the server is no longer our child: processes are
tracked by the PIDs the log names and stopped by PID."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import harness
from bots import Bot
from harness import Client, Server, WSClient, run

ORIG = harness.BINARY
NEXT = os.environ.get("TAVOLO_NEXT_BIN") or os.path.join(
    os.path.dirname(ORIG), "tests", "tavolo_next")
FAST = ("--rate", "1000000000", "--burst", "1000000000", "--max-per-ip",
        "100000", "--conn-rate", "0", "--max-waiting-per-ip", "0")
TMP = tempfile.mkdtemp(prefix="tavolo-upgrade-")


def make_cert():
    cert, key = os.path.join(TMP, "c.pem"), os.path.join(TMP, "c.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


CERT, KEY = make_cert()


class _TLSSock:
    """recv also returns what OpenSSL has decrypted already (select
    cannot see it)."""

    def __init__(self, s):
        self.s = s

    def recv(self, n):
        data = self.s.recv(n)
        while data and self.s.pending():
            data += self.s.recv(self.s.pending())
        return data

    def __getattr__(self, name):
        return getattr(self.s, name)


class TLSClient(Client):
    def __init__(self, host, port, timeout=5.0):
        super().__init__(host, port, timeout=timeout)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = _TLSSock(ctx.wrap_socket(self.sock))

    def has_buffered(self):
        return b"\n" in self.buf or self.sock.s.pending() > 0


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


class UpServer(Server):
    """A server started from a copy of the binary that can be replaced."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="bin-", dir=TMP)
        self.bin = os.path.join(self.dir, "tavolo")
        shutil.copy(ORIG, self.bin)
        saved, harness.BINARY = harness.BINARY, self.bin
        try:
            super().__init__(*args)
        finally:
            harness.BINARY = saved
        self.pid = self.proc.pid
        self.pids = {self.pid}
        self.n_done = 0

    def put(self, src):
        """Replaces the binary on disk (a new file, as a package would)."""
        tmp = self.bin + ".new"
        shutil.copy(src, tmp)
        os.chmod(tmp, 0o755)
        os.rename(tmp, self.bin)

    def put_script(self, text):
        tmp = self.bin + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o755)
        os.rename(tmp, self.bin)

    def upgrade(self, timeout=20, pump=None):
        """SIGUSR2 to the serving process; waits for its outcome. Returns
        (ok, seconds); pump() runs while waiting (clients keep going)."""
        os.kill(self.pid, signal.SIGUSR2)
        t0 = time.monotonic()
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            text = self.log_text()
            done = re.findall(r"upgrade\.took_over pid=(\d+)", text)
            if len(done) > self.n_done:
                self.n_done = len(done)
                self.pid = int(done[-1])
                self.pids.add(self.pid)
                return True, time.monotonic() - t0
            if len(re.findall(r"upgrade\.failed", text)) > getattr(self, "n_failed", 0):
                self.n_failed = len(re.findall(r"upgrade\.failed", text))
                return False, time.monotonic() - t0
            if pump:
                pump()
            else:
                time.sleep(0.01)
        raise AssertionError("no outcome of the upgrade:\n" + self.log_text()[-3000:])

    def version(self):
        body = urllib.request.urlopen(
            "http://127.0.0.1:%d/metrics" % self.admin_port, timeout=5).read().decode()
        return re.search(r'tavolo_build_info\{version="([^"]+)"\} 1', body).group(1)

    def stop(self, timeout=5):
        for pid in list(self.pids):
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        while any(alive(p) for p in self.pids) and time.monotonic() < deadline:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
            time.sleep(0.02)
        for pid in self.pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        rc = super().stop(timeout=1)
        # every process of the chain wrote here: none may have a
        # sanitizer report (the ASan half of make test)
        text = self.log_text()
        assert "Sanitizer" not in text and "runtime error" not in text, \
            text[text.find("Sanitizer") - 2000:][:6000]
        return rc


class Player(Bot):
    """A briscola player (bots.py's checks) that also counts PINGs and
    plays at its own pace (play_due)."""

    def __init__(self, client, name):
        super().__init__(client, name, autoplay=False)
        self.n_ping_sent = self.n_ping_got = 0
        self.moved_turn = 0

    def on_line(self, line):
        if line.startswith("OK PING "):
            w = line.split()
            n = int(w[2])
            assert n == self.n_ping_got + 1, "%s: PING %d after %d" % (
                self.name, n, self.n_ping_got)
            self.n_ping_got = n
            if len(w) > 3:
                self.lines.append(line)
            return
        super().on_line(line)

    def ping(self):
        self.n_ping_sent += 1
        self.c.cmd("PING %d" % self.n_ping_sent)

    def my_turn(self):
        return (self.end is None and self.match is not None and
                getattr(self, "turn", None) == self.seat and self.hand and
                getattr(self, "n_turns", 0) > self.moved_turn)

    def play_due(self):
        if self.my_turn():
            self.moved_turn = self.n_turns
            self.play(self.rng.choice(self.hand))


def connect(s, kind):
    if kind == "ws":
        c = WSClient("127.0.0.1", s.port)
    elif kind == "tls":
        c = TLSClient("127.0.0.1", s.port)
    else:
        c = Client("127.0.0.1", s.port)
    c.expect_line(r"HELLO tavolo 2 \S+")
    return c


def pump(players, wait=0.0):
    import select
    socks = [p.c.sock for p in players]
    ready = [p for p in players if p.c.has_buffered()]
    if not ready:
        r, _, _ = select.select(socks, [], [], wait)
        ready = [p for p in players if p.c.sock in r]
    for p in ready:
        p.pump()


def start_matches(s, n_matches, kinds, prefix):
    players = []
    for i in range(n_matches):
        a = Player(connect(s, kinds[(2 * i) % len(kinds)]), "%sa%d" % (prefix, i))
        b = Player(connect(s, kinds[(2 * i + 1) % len(kinds)]), "%sb%d" % (prefix, i))
        a.nick()
        b.nick()
        mid = int(a.c.ask("CREATE briscola 2", r"OK CREATE (\d+)").split()[2])
        b.c.ask("JOIN %d" % mid, r"OK JOIN %d 1" % mid)
        players += [a, b]
    deadline = time.monotonic() + 30
    while not all(p.match for p in players):
        assert time.monotonic() < deadline, "matches did not start"
        pump(players, 0.05)
    return players


def play(players, until, pace_s=0.0, ping_every=0.05):
    """Plays and pings until until() (bounded)."""
    deadline = time.monotonic() + 60
    last_ping = 0.0
    while not until():
        assert time.monotonic() < deadline, "stuck: %r" % [
            (p.name, p.lines[-3:]) for p in players if p.end is None][:4]
        now = time.monotonic()
        if now - last_ping >= ping_every:
            last_ping = now
            for p in players:
                if p.end is None:
                    p.ping()
        for p in players:
            if pace_s == 0 or now - getattr(p, "last_move", 0) >= pace_s:
                if p.my_turn():
                    p.last_move = now
                p.play_due()
        pump(players, 0.01)


def finish(players):
    play(players, lambda: all(p.end for p in players) and
         all(p.n_ping_got == p.n_ping_sent for p in players))
    by_match = {}
    for p in players:
        assert p.end.startswith("END %d " % p.match), (p.name, p.end)
        by_match.setdefault(p.match, []).append(p.end)
    for ends in by_match.values():
        assert len(set(ends)) == 1, ends


def test_upgrade_200_clients_tcp_ws_tls():
    s = UpServer("--tls-cert", CERT, "--tls-key", KEY, *FAST,
                 "--turn-ms", "60000")
    try:
        assert s.version() == s.version()  # reachable
        v0 = s.version()
        players = start_matches(s, 100, ["tcp", "ws", "tls"], "p")
        # mid-match: a few moves each, some tricks half played
        play(players, lambda: sum(len(p.public_played) for p in players) >= 300,
             pace_s=0.05)
        for p in players[:20]:
            p.play_due()  # mid-trick for some
        # a partial line pending (TCP and TLS: one line; WS is per message)
        partial = [p for p in players if not isinstance(p.c, WSClient)][:10]
        for p in partial:
            p.n_ping_sent += 1
            p.c.send("PING %d" % p.n_ping_sent)
        # a slow reader with output queued: 3000 PINGs, nothing read
        slow = Player(Client("127.0.0.1", s.port), "slow")
        slow.c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.c.expect_line(r"HELLO tavolo 2 \S+")
        slow.nick()
        burst = "".join("PING %d\n" % (i + 1) for i in range(3000))
        slow.n_ping_sent = 3000
        slow.c.send(burst)
        # half a WebSocket frame pending
        ws_half = [p for p in players if isinstance(p.c, WSClient)][:5]
        for p in ws_half:
            p.n_ping_sent += 1
            p.frame_rest = p.c.frame(1, "PING %d after" % p.n_ping_sent)
            p.c.send(p.frame_rest[:5])
            p.frame_rest = p.frame_rest[5:]
        # a connection still being sniffed (no byte sent yet)
        fresh = Client("127.0.0.1", s.port)
        # a password check in flight
        reg = Client("127.0.0.1", s.port)
        reg.expect_line(r"HELLO tavolo 2 \S+")
        reg.cmd("NICK registered s3cret-pass")
        s.put(NEXT)
        ok, took = s.upgrade()
        assert ok, s.log_text()[-3000:]
        v1 = s.version()
        assert v1 == v0 + "-next", (v0, v1)
        got = reg.line(timeout=10)
        assert re.fullmatch(r"OK NICK registered [0-9a-f]{32}", got), got
        # the partial lines complete in the new process
        for p in partial:
            p.c.send(" after\n")
        for p in ws_half:
            p.c.send(p.frame_rest)
        # greeted once, by one process or the other, and served
        fresh.expect_line(r"HELLO tavolo 2 \S+")
        fresh.ask("PING fresh", "OK PING fresh")
        # the slow reader reads everything now: every reply, once, in order
        deadline = time.monotonic() + 20
        while slow.n_ping_got < 3000:
            assert time.monotonic() < deadline, slow.n_ping_got
            slow.pump(0.1)
        finish(players)
        assert all(p.n_ping_got > 0 for p in players)
        for p in partial + ws_half:
            assert [l for l in p.lines if l.endswith(" after")], p.name
        relays = re.findall(r"upgrade\.done .* tls_relays=(\d+)", s.log_text())
        assert relays and int(relays[-1]) >= 60, relays  # a third are TLS
        print("hand-over of %d clients: %.3f s" % (len(players) + 2, took))
    finally:
        s.stop()


def test_failed_binary_leaves_the_old_one_serving():
    s = UpServer(*FAST, "--upgrade-timeout-ms", "1500")
    try:
        v0 = s.version()
        players = start_matches(s, 2, ["tcp", "ws"], "f")
        play(players, lambda: sum(len(p.public_played) for p in players) >= 4,
             pace_s=0.02)
        pid = s.pid
        # a binary that exits at once
        s.put_script("#!/bin/sh\nexit 1\n")
        ok, _ = s.upgrade()
        assert not ok
        assert re.search(r"upgrade\.failed.*exited", s.log_text()), s.log_text()[-2000:]
        assert s.pid == pid and alive(pid) and s.version() == v0
        # one that never says a word: the timeout, then it is killed
        s.put_script("#!/bin/sh\nexec sleep 30\n")
        ok, took = s.upgrade()
        assert not ok and took >= 1.0, took
        assert re.search(r"upgrade\.failed.*did not start in time", s.log_text())
        # the real server, but with a data directory it cannot create: it
        # says HELLO and takes the state (the old one has closed its
        # store), then fails; the old one reopens its store, takes its
        # sockets back and serves on
        s.put_script("#!/bin/sh\nexec %s \"$@\" --data %s\n" % (
            NEXT, os.path.join(TMP, "no", "such", "dir")))
        ok, _ = s.upgrade()
        assert not ok
        assert re.search(r"upgrade\.failed.*exited before it was ready",
                         s.log_text()), s.log_text()[-2000:]
        assert alive(pid) and s.version() == v0
        finish(players)
        # and a good one still works after the failures
        s.put(NEXT)
        ok, _ = s.upgrade()
        assert ok and s.version() == v0 + "-next", s.log_text()[-2000:]
        c = connect(s, "tcp")
        c.ask("PING x", "OK PING x")
    finally:
        s.stop()


def test_clocks_keep_running_through_the_hand_over():
    """A turn clock started before the upgrade runs out when it would
    have without one (a restart would give it a fresh --turn-ms), and a
    partial line's deadline likewise."""
    s = UpServer(*FAST, "--turn-ms", "2500", "--line-timeout-ms", "2500")
    try:
        players = start_matches(s, 1, ["tcp"], "c")
        a, b = players
        t_turn = time.monotonic()  # TURN came with the start
        dripper = connect(s, "tcp")
        dripper.send("PING never ends")
        t_line = time.monotonic()
        pump(players, 1.0)
        time.sleep(0.2)
        s.put(NEXT)
        ok, took = s.upgrade()
        assert ok, s.log_text()[-2000:]
        deadline = time.monotonic() + 10
        while not any(l.startswith("TIMEOUT ") for l in a.lines):
            assert time.monotonic() < deadline, a.lines[-5:]
            pump(players, 0.05)
        waited = time.monotonic() - t_turn
        assert 2.3 <= waited <= 2.5 + took + 0.5, (waited, took)
        got = dripper.line(timeout=10)
        assert got.startswith("ERR TIMEOUT partial line"), got
        waited = time.monotonic() - t_line
        assert 2.3 <= waited <= 2.5 + took + 0.5, (waited, took)
        dripper.expect_eof()
    finally:
        s.stop()


def test_bot_match_goes_across():
    """A match in play against a server bot is handed over: the new
    process seats the same bot again (the journal's START says who
    plays each seat) and the match plays on to END with every trick
    recomputed by the person's checks."""
    s = UpServer(*FAST, "--bot-delay-ms", "50")
    try:
        v0 = s.version()
        c = connect(s, "tcp")
        p = Player(c, "human")
        p.nick()
        mid = int(c.ask("CREATE briscola 2", r"OK CREATE (\d+)").split()[2])
        c.expect_line(r"SEATED %d 0 human" % mid)
        c.expect_line(r"COMMIT %d [0-9a-f]{64}" % mid)
        c.ask("BOT easy", r"OK BOT 1 ~easy1")
        play([p], lambda: p.match is not None and len(p.trick_winners) >= 3)
        s.put(NEXT)
        ok, took = s.upgrade(pump=lambda: pump([p], 0.01))
        assert ok, s.log_text()[-3000:]
        assert s.version() != v0 and s.version().endswith("-next"), s.version()
        finish([p])
        assert re.match(r"START %d briscola 2 human ~easy1" % mid,
                        next(l for l in p.lines if l.startswith("START"))), p.lines[:5]
        assert len(p.trick_winners) == 20, p.trick_winners
    finally:
        s.stop()


def test_upgrade_ten_times_under_load():
    s = UpServer("--tls-cert", CERT, "--tls-key", KEY, *FAST,
                 "--turn-ms", "60000")
    try:
        v0 = s.version()
        players = start_matches(s, 12, ["tcp", "ws", "tls"], "t")
        times = []
        for i in range(10):
            s.put(NEXT if i % 2 == 0 else ORIG)
            ok, took = s.upgrade(pump=lambda: play_step(players))
            assert ok, s.log_text()[-3000:]
            want = v0 + "-next" if i % 2 == 0 else v0
            assert s.version() == want, (i, s.version(), want)
            times.append(took)
            # a few moves between upgrades
            target = sum(len(p.public_played) for p in players) + 6
            play(players, lambda: sum(len(p.public_played) for p in players) >= target
                 or all(p.end for p in players), pace_s=0.01)
        finish(players)
        # the TLS relays of earlier processes exit once their clients go
        for p in players:
            p.c.close()
        deadline = time.monotonic() + 10
        while sum(alive(p) for p in s.pids) > 1:
            assert time.monotonic() < deadline, [p for p in s.pids if alive(p)]
            time.sleep(0.05)
        print("10 upgrades under load: median %.3f s" % sorted(times)[5])
    finally:
        s.stop()


def wait_start(c, pattern, timeout):
    """Reads lines until START (SEATED and COMMIT come first); returns
    (the START line, when it came)."""
    deadline = time.monotonic() + timeout
    while True:
        got = c.line(timeout=max(0.1, deadline - time.monotonic()))
        if got.startswith("START "):
            assert re.fullmatch(pattern, got), (pattern, got)
            return got, time.monotonic()
        assert re.fullmatch(r"(SEATED|COMMIT) .*", got), got


def test_quick_play_queue_goes_across():
    """The quick-play queue is handed over (it no longer holds the
    upgrade): a player queued before SIGUSR2 keeps its place and its
    clock. Alone, it gets its bot fill --quick-bot-ms after its QUICK,
    not after the upgrade; queued first, it is seat 0 of the table that
    a player queueing with the new process completes."""
    s = UpServer(*FAST, "--quick-bot-ms", "3000", "--bot-delay-ms", "0",
                 "--upgrade-timeout-ms", "2500")
    try:
        v0 = s.version()
        c = connect(s, "tcp")
        c.ask("NICK qcarl", r"OK NICK qcarl \S+")
        t_q = time.monotonic()
        c.ask("QUICK briscola", r"OK QUICK briscola 2")
        time.sleep(0.8)  # part of its wait is spent in the old process
        s.put(NEXT)
        ok, took = s.upgrade()
        assert ok, s.log_text()[-3000:]
        assert s.version() == v0 + "-next", s.version()
        assert re.search(r"upgrade\.queue_adopted players=1", s.log_text())
        _, t_start = wait_start(c, r"START \d+ briscola 2 qcarl ~\S+", 10)
        waited = t_start - t_q
        # 3 s from QUICK (a restart of its clock would make it 3.8+)
        assert 2.9 <= waited <= 3.0 + took + 0.5, (waited, took)

        a = connect(s, "tcp")
        a.ask("NICK qann", r"OK NICK qann \S+")
        a.ask("QUICK briscola", r"OK QUICK briscola 2")
        s.put(ORIG)
        ok, took = s.upgrade()
        assert ok, s.log_text()[-3000:]
        assert s.version() == v0, s.version()
        b = connect(s, "tcp")
        b.ask("NICK qbob", r"OK NICK qbob \S+")
        b.ask("QUICK briscola", r"OK QUICK briscola 2")
        for x in (a, b):
            wait_start(x, r"START \d+ briscola 2 qann qbob", 5)
        # the deal follows, from the new process
        for x in (a, b):
            x.expect_line(r"TRUMP .*")
    finally:
        s.stop()


def test_websocket_message_in_fragments_goes_across():
    """A WebSocket message half received (two of its three frames) does
    not hold the upgrade: its frames so far go across with the
    connection's input, the new process's WebSocket reads them first, and
    the last frame, sent to the new process, completes the same line."""
    s = UpServer(*FAST, "--upgrade-timeout-ms", "3000")
    try:
        v0 = s.version()
        w = connect(s, "ws")
        w.cmd("NICK wsfrag")
        w.expect_line(r"OK NICK wsfrag \S+")
        w.send(w.frame(1, "PING fr", fin=False) + w.frame(0, "ag-", fin=False))
        time.sleep(0.2)  # both frames read by the old process
        s.put(NEXT)
        ok, took = s.upgrade()
        assert ok, s.log_text()[-3000:]
        assert took < 2.5, took  # not the timeout's wait
        assert s.version() == v0 + "-next", s.version()
        w.send(w.frame(0, "ment", fin=True))
        w.expect_line(r"OK PING frag-ment")
        w.cmd("PING after")
        w.expect_line(r"OK PING after")
    finally:
        s.stop()


def test_tls_mid_handshake_goes_across():
    """A TLS client that has sent its ClientHello, and whose handshake is
    not finished at SIGUSR2, is kept: the old process finishes the
    handshake and relays it, the new process greets it (HELLO after the
    handshake, as on any TLS connection), and it plays a whole match
    against a plaintext client of the new process."""
    import threading
    s = UpServer("--tls-cert", CERT, "--tls-key", KEY, *FAST,
                 "--tls-handshake-ms", "8000")
    try:
        v0 = s.version()
        proxy = _HoldProxy(s.port)
        box = {}

        def connect_tls():
            try:
                box["c"] = TLSClient("127.0.0.1", proxy.port, timeout=15)
            except Exception as e:  # reported below
                box["e"] = e
        t = threading.Thread(target=connect_tls, daemon=True)
        t.start()
        # the server has answered the ClientHello: it waits for the
        # client's Finished, which cannot come before release()
        assert proxy.got_server_bytes.wait(5), "no ServerHello from the server"
        s.put(NEXT)
        ok, took = s.upgrade()
        assert ok, s.log_text()[-3000:]
        assert s.version() == v0 + "-next", s.version()
        assert re.search(r"upgrade\.done .* tls_relays=1", s.log_text()), \
            s.log_text()[-2000:]
        old = [p for p in s.pids if p != s.pid]
        assert old and alive(old[0]), "the old process stays on as the relay"
        # a second upgrade before the handshake ends: the connection the
        # first new process adopted mid-handshake goes on to the next one
        s.put(ORIG)
        ok, took = s.upgrade()
        assert ok, s.log_text()[-3000:]
        assert s.version() == v0, s.version()
        proxy.release()
        t.join(15)
        assert "c" in box, (box.get("e"), s.log_text()[-2000:])
        c = box["c"]
        c.expect_line(r"HELLO tavolo 2 \S+")
        p = Player(c, "mid")
        p.nick()
        q = Player(connect(s, "tcp"), "plain")
        q.nick()
        mid = int(p.c.ask("CREATE briscola 2", r"OK CREATE (\d+)").split()[2])
        q.c.ask("JOIN %d" % mid, r"OK JOIN %d 1" % mid)
        deadline = time.monotonic() + 10
        while not (p.match and q.match):
            assert time.monotonic() < deadline, "the match did not start"
            pump([p, q], 0.05)
        finish([p, q])
        assert len(p.trick_winners) == 20, p.trick_winners
        p.c.close()
        # the relay exits with its last client
        deadline = time.monotonic() + 10
        while alive(old[0]):
            assert time.monotonic() < deadline, "the relay did not exit"
            time.sleep(0.05)
    finally:
        s.stop()


def test_tls_mid_handshake_times_out_in_the_relay():
    """The handshake clock of a client relayed mid-handshake is not
    restarted by the upgrade: one that never finishes is closed by the
    old process --tls-handshake-ms after it began (checked every 100 ms),
    and the relay then exits."""
    import threading
    s = UpServer("--tls-cert", CERT, "--tls-key", KEY, *FAST,
                 "--tls-handshake-ms", "2000")
    try:
        proxy = _HoldProxy(s.port)
        t0 = time.monotonic()
        t = threading.Thread(target=lambda: _try_tls(proxy.port), daemon=True)
        t.start()
        assert proxy.got_server_bytes.wait(5), "no ServerHello from the server"
        time.sleep(0.5)
        s.put(NEXT)
        ok, took = s.upgrade()
        assert ok, s.log_text()[-3000:]
        old = [p for p in s.pids if p != s.pid]
        deadline = time.monotonic() + 10
        while proxy.closed_at is None:
            assert time.monotonic() < deadline, "the handshake was never timed out"
            time.sleep(0.02)
        waited = proxy.closed_at - t0
        assert 1.9 <= waited <= 2.0 + took + 0.5, (waited, took)
        deadline = time.monotonic() + 10
        while alive(old[0]):
            assert time.monotonic() < deadline, "the relay did not exit"
            time.sleep(0.05)
        assert re.search(r"upgrade\.relay_handshake_timeout conn=1\b", s.log_text()), \
            s.log_text()[-2000:]
        c = connect(s, "tcp")
        c.ask("PING x", "OK PING x")
    finally:
        s.stop()


def _try_tls(port):
    try:
        TLSClient("127.0.0.1", port, timeout=15).close()
    except (OSError, ssl.SSLError):
        pass


class _HoldProxy:
    """A loopback TCP proxy that forwards the client's bytes at once and
    holds the server's until release(): a client behind it is stuck in
    its handshake, having sent its ClientHello."""

    def __init__(self, port):
        import threading
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.port = self.ls.getsockname()[1]
        self.up_port = port
        self.held = threading.Event()
        self.go = threading.Event()
        self.got_server_bytes = threading.Event()
        self.closed_at = None
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        import select
        c, _ = self.ls.accept()
        u = socket.create_connection(("127.0.0.1", self.up_port), timeout=5)
        held = b""
        socks = [c, u]
        while True:
            r, _, _ = select.select(socks, [], [], 0.05)
            if c in r:
                d = c.recv(65536)
                if not d:
                    u.shutdown(socket.SHUT_WR)
                    socks.remove(c)
                else:
                    u.sendall(d)
            if u in r:
                d = u.recv(65536)
                if not d:
                    self.closed_at = time.monotonic()
                    if held:
                        c.sendall(held)
                    c.close()
                    u.close()
                    return
                if self.go.is_set():
                    if held:
                        c.sendall(held)
                        held = b""
                    c.sendall(d)
                else:
                    held += d
                    self.got_server_bytes.set()
            if self.go.is_set() and held:
                c.sendall(held)
                held = b""
            if not socks:
                return

    def release(self):
        self.go.set()


def play_step(players):
    for p in players:
        if p.end is None and p.n_ping_sent - p.n_ping_got < 5:
            p.ping()
        p.play_due()
    pump(players, 0.01)


if __name__ == "__main__":
    run([test_upgrade_200_clients_tcp_ws_tls,
         test_failed_binary_leaves_the_old_one_serving,
         test_clocks_keep_running_through_the_hand_over,
         test_bot_match_goes_across,
         test_upgrade_ten_times_under_load,
         test_quick_play_queue_goes_across,
         test_websocket_message_in_fragments_goes_across,
         test_tls_mid_handshake_goes_across,
         test_tls_mid_handshake_times_out_in_the_relay])
