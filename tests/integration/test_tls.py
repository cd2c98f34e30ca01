"""Black-box tests of TLS on the game port (PROTOCOL §10) and of the JSON
log (--log-format json): a line client and a WebSocket client over TLS
next to plaintext ones on the one port, the handshake's own timeout,
garbage after 0x16, a non-reading TLS client, the certificate reload on
SIGHUP, TLS without a certificate, and every JSON log line parsing.

Certificates are made at test time with `openssl req` in a temp dir."""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from bots import Bot, DECK, pump_until
from harness import Client, Server, WSClient, run

FAST = ("--rate", "1000000", "--burst", "1000000")
TMP = tempfile.mkdtemp(prefix="tavolo-tls-")


def make_cert(name, serial):
    """A self-signed P-256 certificate for 127.0.0.1: (cert, key) paths."""
    cert = os.path.join(TMP, name + ".pem")
    key = os.path.join(TMP, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-set_serial", str(serial)],
                   check=True, capture_output=True, timeout=30)
    return cert, key


CERT_A, KEY_A = make_cert("a", 0xA1)


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class _TLSSock:
    """An SSLSocket whose recv also returns what OpenSSL has already
    decrypted (select cannot see it), so the harness's loops work."""

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
    def __init__(self, host, port, timeout=5.0, source=None, ctx=None,
                 rcvbuf=None):
        if rcvbuf is None:
            super().__init__(host, port, timeout=timeout, source=source)
        else:  # a small receive window, set before the connect
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
            self.buf, self.timeout = b"", timeout
        self.sock = _TLSSock((ctx or client_ctx()).wrap_socket(self.sock))
        self.der = self.sock.getpeercert(binary_form=True)
        self.version = self.sock.version()


class TLSWSClient(WSClient, TLSClient):
    """wss: the upgrade and the frames inside TLS (WSClient's
    super().__init__ is TLSClient's)."""


def tls_connect(s, greet=True):
    c = TLSClient("127.0.0.1", s.port)
    if greet:
        c.expect_line(r"HELLO tavolo \d+ \S+")
    return c


def tls_server(*args):
    return Server("--tls-cert", CERT_A, "--tls-key", KEY_A, *FAST, *args)


def wait_log(s, pattern, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, s.log_text()):
            return
        time.sleep(0.05)
    raise AssertionError("no /%s/ in the log:\n%s" % (pattern, s.log_text()[-3000:]))


def der_of(cert_path):
    with open(cert_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def test_tls_line_client_plays_against_plain_client():
    s = tls_server()
    try:
        t = tls_connect(s)
        assert t.version in ("TLSv1.2", "TLSv1.3"), t.version
        assert t.der == der_of(CERT_A)
        t.ask("PING over tls", "OK PING over tls")
        p = s.connect()
        a, b = Bot(t, "alice"), Bot(p, "bob")
        a.nick()
        b.nick()
        got = t.ask("CREATE briscola 2", r"OK CREATE (\d+)")
        mid = int(got.split()[2])
        t.expect_line("SEATED %d 0 alice" % mid)
        t.expect_line(r"COMMIT %d [0-9a-f]{64}" % mid)  # version 2 (§13)
        p.ask("JOIN %d" % mid, "OK JOIN %d 1" % mid)
        pump_until([a, b], lambda: a.end and b.end, timeout=60)
        assert a.end == b.end and a.end.startswith("END %d " % mid), (a.end, b.end)
        assert sorted(a.seen_cards + b.seen_cards) == sorted(DECK)
        t.ask("PING after", "OK PING after")
        t.cmd("QUIT")
        assert "OK QUIT" in t.expect_eof()
        wait_log(s, r"conn\.closed conn=\d+ \S+ \S+ tls=yes reason=quit")
    finally:
        s.stop()


def test_wss_and_https_on_the_game_port():
    s = tls_server()
    try:
        w = TLSWSClient("127.0.0.1", s.port, origin="https://127.0.0.1:%d" % s.port)
        w.expect_line(r"HELLO tavolo \d+ \S+")
        w.cmd("PING wss")
        w.expect_line("OK PING wss")
        w.cmd("NICK wsuser")
        w.expect_line(r"OK NICK wsuser [0-9a-f]{32}")
        # https: the page, as a browser would ask for it
        h = TLSClient("127.0.0.1", s.port)
        h.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        page = h.expect_eof()
        assert page.startswith("HTTP/1.1 200"), page[:200]
        # plaintext WebSocket beside it
        pw = WSClient("127.0.0.1", s.port)
        pw.expect_line(r"HELLO tavolo \d+ \S+")
    finally:
        s.stop()


def test_slow_handshake_timed_out():
    s = tls_server("--tls-handshake-ms", "300", "--nick-timeout-ms", "20000")
    try:
        slow = Client("127.0.0.1", s.port)
        # the first bytes of a ClientHello record, then nothing
        slow.send(b"\x16\x03\x01\x00\xa0\x01\x00\x00\x9c\x03\x03")
        t0 = time.monotonic()
        slow.expect_eof(timeout=5)
        took = time.monotonic() - t0
        assert took < 2.0, took
        wait_log(s, "TLS handshake timeout")
        tls_connect(s).ask("PING ok", "OK PING ok")
    finally:
        s.stop()


def test_garbage_after_0x16_closes_only_that_connection():
    s = tls_server()
    try:
        keep_t = tls_connect(s)
        keep_p = s.connect()
        bad = Client("127.0.0.1", s.port)
        bad.send(b"\x16" + os.urandom(64) + b"\n" * 10)
        bad.expect_eof(timeout=5)
        bad2 = Client("127.0.0.1", s.port)
        bad2.send(b"\x16\x03\x01\x00\x05hello")  # a record that is no hello
        bad2.expect_eof(timeout=5)
        keep_t.ask("PING t", "OK PING t")
        keep_p.ask("PING p", "OK PING p")
        tls_connect(s).ask("PING new", "OK PING new")
    finally:
        s.stop()


def test_tls_non_reader_paused_and_dropped():
    stall_ms = 1000
    s = tls_server("--stall-ms", str(stall_ms), "--sndbuf-kb", "16")
    try:
        # A small receive window and small writes: the server's output
        # backs up past the high-water mark a little at a time, so this
        # is the stall clock's close, not the output cap's.
        flooder = TLSClient("127.0.0.1", s.port, rcvbuf=4096)
        flooder.expect_line(r"HELLO tavolo \d+ \S+")
        other = tls_connect(s)
        stop = threading.Event()
        last_progress = [time.monotonic()]

        def flood():
            chunk = b"PING flood\n" * 100
            flooder.sock.settimeout(0.2)
            while not stop.is_set():
                try:
                    flooder.sock.sendall(chunk)
                    last_progress[0] = time.monotonic()
                    time.sleep(0.002)
                except (socket.timeout, ssl.SSLWantWriteError):
                    continue
                except (OSError, ssl.SSLError):
                    return  # closed by the server: what we want

        th = threading.Thread(target=flood, daemon=True)
        th.start()
        for i in range(20):
            other.ask("PING %d" % i, "OK PING %d" % i)
            time.sleep(0.02)
        wait_log(s, r"tls=yes reason=\"output stalled \(peer not reading\)\"",
                 timeout=20)
        closed_at = time.monotonic()
        stop.set()
        th.join(5)
        # Closed within stall_ms (+ 1 s) of the flooder's last progress:
        # the server stops reading it once its output passes the mark.
        assert closed_at - last_progress[0] <= stall_ms / 1000 + 1.5, (
            closed_at - last_progress[0])
        other.ask("PING still", "OK PING still")
    finally:
        s.stop()


def test_certificate_reload_on_sighup():
    cert, key = os.path.join(TMP, "live.pem"), os.path.join(TMP, "live.key")
    cert_b, key_b = make_cert("b", 0xB2)

    def install(c, k):
        for src, dst in ((c, cert), (k, key)):
            with open(src, "rb") as f, open(dst + ".tmp", "wb") as g:
                g.write(f.read())
            os.replace(dst + ".tmp", dst)

    install(CERT_A, KEY_A)
    s = Server("--tls-cert", cert, "--tls-key", key, *FAST)
    try:
        old = tls_connect(s)
        assert old.der == der_of(CERT_A)
        old.ask("NICK keeper", r"OK NICK keeper [0-9a-f]{32}")
        install(cert_b, key_b)
        s.signal(signal.SIGHUP)
        wait_log(s, r"tls\.reloaded .*serial=B2")
        new = tls_connect(s)
        assert new.der == der_of(cert_b), "new connection did not get cert B"
        old.ask("PING still", "OK PING still")  # the old session lives on
        # a bad certificate keeps the good one and says why
        with open(cert, "w") as f:
            f.write("not a certificate\n")
        s.signal(signal.SIGHUP)
        wait_log(s, r"tls\.reload_failed")
        assert tls_connect(s).der == der_of(cert_b)
        old.ask("PING again", "OK PING again")
        new.ask("PING new", "OK PING new")
    finally:
        s.stop()


def test_no_certificate_0x16_closed_with_one_log_line():
    s = Server(*FAST)
    try:
        raw = Client("127.0.0.1", s.port)
        try:
            client_ctx().wrap_socket(raw.sock)
            raise AssertionError("handshake succeeded without a certificate")
        except (ssl.SSLError, OSError):
            pass
        wait_log(s, "TLS is off")
        lines = [l for l in s.log_text().splitlines() if "TLS" in l]
        assert len(lines) == 1, lines
        s.connect().ask("PING plain", "OK PING plain")
    finally:
        s.stop()


TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_json_logs_parse_line_by_line():
    # A certificate path with a quote, a backslash, a tab and non-ASCII,
    # which the log must escape.
    odd = os.path.join(TMP, 'we"ird\\\tcert é.pem')
    with open(CERT_A, "rb") as f, open(odd, "wb") as g:
        g.write(f.read())
    s = Server("--tls-cert", odd, "--tls-key", KEY_A, "--log-format", "json",
               *FAST)
    try:
        p = s.connect()
        p.ask("NICK jsonp", r"OK NICK jsonp [0-9a-f]{32}")
        p.cmd("QUIT")
        p.expect_eof()
        t = tls_connect(s)
        t.cmd("QUIT")
        t.expect_eof()
        bad = Client("127.0.0.1", s.port)
        bad.send(b"\x16garbage\x00\x01")
        bad.expect_eof()
        s.signal(signal.SIGHUP)
        wait_log(s, r'"event":"tls\.reloaded"')
        wait_log(s, r'"reason":"[^"]*SSL routines')
    finally:
        s.stop()
    events = []
    with open(s.log_path, "rb") as f:
        for raw_line in f:
            line = raw_line.decode("utf-8")  # the whole log is UTF-8
            obj = json.loads(line)
            assert isinstance(obj, dict), line
            assert TIME_RE.fullmatch(obj["time"]), obj
            assert obj["level"] in ("debug", "info", "warn", "error"), obj
            assert isinstance(obj["event"], str), obj
            events.append(obj)
    kinds = {e["event"] for e in events}
    for want in ("listening", "tls.loaded", "conn.opened", "conn.closed",
                 "tls.reloaded"):
        assert want in kinds, (want, kinds)
    opened = [e for e in events if e["event"] == "conn.opened"]
    assert all(isinstance(e["conn"], int) and e["peer"] == "127.0.0.1"
               for e in opened), opened
    closed = [e for e in events if e["event"] == "conn.closed"]
    assert {e["tls"] for e in closed} == {"yes", "no"}, closed
    assert any(e.get("reason") == "quit" for e in closed), closed
    loaded = [e for e in events if e["event"] == "tls.loaded"]
    assert loaded[0]["cert"] == odd and loaded[0]["serial"] == "A1", loaded
    # the free-text lines of the old API are JSON too
    assert any(e["event"] == "log" and "msg" in e for e in events), kinds


if __name__ == "__main__":
    run([test_tls_line_client_plays_against_plain_client,
         test_wss_and_https_on_the_game_port,
         test_slow_handshake_timed_out,
         test_garbage_after_0x16_closes_only_that_connection,
         test_tls_non_reader_paused_and_dropped,
         test_certificate_reload_on_sighup,
         test_no_certificate_0x16_closed_with_one_log_line,
         test_json_logs_parse_line_by_line])
