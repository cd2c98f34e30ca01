"""Black-box tests of the browser side (PROTOCOL §2): HTTP on the game
port, the WebSocket carrying the line protocol, and the admin port."""
import re
import socket
import struct
import time
import urllib.request

from bots import Bot, pump_until
from harness import Client, Server, WSClient, run

FAST = ("--rate", "100000", "--burst", "100000")


def http(s, raw, host="127.0.0.1", port=None):
    """Sends raw request bytes; returns (status, headers, body) of the first
    response, reading until the connection closes."""
    c = Client(host, port or s.port)
    c.send(raw)
    data = c.buf
    while True:
        chunk = c.sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(l.split(": ", 1) for l in lines[1:] if ": " in l)
    return status, headers, body


def test_request_head_longer_than_a_line_in_two_parts():
    # A request head may be up to 8 KiB (431 past it) however it arrives:
    # here 3 KB, longer than a protocol line's input cap, in two writes.
    s = Server()
    try:
        c = Client("127.0.0.1", s.port)
        head = "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + "a" * 3000 + "\r\nConnection: close\r\n\r\n"
        c.send(head[:1500])
        time.sleep(0.1)
        c.send(head[1500:])
        data = c.buf
        while True:
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 "), data[:200]
    finally:
        assert s.stop() == 0


def test_static_files_and_http_errors():
    s = Server()
    try:
        st, h, body = http(s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert st == 200 and h["Content-Type"].startswith("text/html"), (st, h)
        assert b"<title>tavolo" in body and int(h["Content-Length"]) == len(body)
        st, h, body = http(s, "HEAD /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert st == 200 and body == b"" and int(h["Content-Length"]) > 1000
        st, _, _ = http(s, "GET /style.css?v=1 HTTP/1.0\r\n\r\n")
        assert st == 200
        assert http(s, "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n")[0] == 404
        # only GET/HEAD open an HTTP connection (PROTOCOL §2); later methods: 405
        c = Client("127.0.0.1", s.port)
        c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
        out = c.expect_eof()
        assert "HTTP/1.1 405 Method Not Allowed" in out and "Allow: GET, HEAD" in out, out
        p = s.connect(greet=False)
        p.send("POST / HTTP/1.1\r\n")
        p.expect_line(r"HELLO tavolo 2 \S+")
        p.expect_line(r"ERR BADCMD .*")
        assert http(s, "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")[0] == 413
        assert http(s, "GET / HTTP/1.1\r\nX: " + "a" * 9000 + "\r\n\r\n")[0] == 431
        many = "".join("H%d: v\r\n" % i for i in range(40))
        assert http(s, "GET / HTTP/1.1\r\n" + many + "\r\n")[0] == 431
        assert http(s, "GET / HTTP/1.1\r\nbad header line\r\n\r\n")[0] == 400
        # keep-alive: two requests, two responses, one connection
        c = Client("127.0.0.1", s.port)
        c.send("GET /favicon.svg HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        data = c.sock.recv(65536)
        assert data.count(b"HTTP/1.1 ") == 2 and b" 404 " in data, data[:200]
        c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert "HTTP/1.1 200" in c.expect_eof()
    finally:
        s.stop()


def test_same_port_serves_line_http_and_websocket_at_once():
    s = Server()
    try:
        line = s.connect()
        ws = WSClient("127.0.0.1", s.port)
        assert re.fullmatch(r"HELLO tavolo 2 \S+", ws.line())
        page = Client("127.0.0.1", s.port)
        page.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        line.ask("PING tcp", "OK PING tcp")
        ws.cmd("PING ws")
        assert ws.line() == "OK PING ws"
        time.sleep(0.2)
        assert page.sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
    finally:
        s.stop()


def test_websocket_frames():
    s = Server(*FAST)
    try:
        ws = WSClient("127.0.0.1", s.port)
        ws.line()  # HELLO
        # fragmented text message, with a ping between the fragments
        ws.send(ws.frame(1, "PI", fin=False) + ws.frame(9, "hey") +
                ws.frame(0, "NG frag", fin=True))
        got = [ws.line(), ws.line()]
        assert "<pong hey>" in got and "OK PING frag" in got, got
        # many commands in one write: answered in order
        ws.send(b"".join(ws.frame(1, "PING %d" % i) for i in range(200)))
        for i in range(200):
            assert ws.line() == "OK PING %d" % i
        ws.cmd("\x07PING")
        assert ws.line().startswith("ERR BADARG")
        ws.cmd("NICK wsuser")
        assert re.fullmatch(r"OK NICK wsuser [0-9a-f]{32}", ws.line())
        # a binary frame is refused with 1003
        ws.send(ws.frame(2, b"\x00\x01"))
        assert ws.wait_close() == 1003
        # over the line limit: 1009
        w2 = WSClient("127.0.0.1", s.port)
        w2.line()
        w2.cmd("PING " + "x" * 600)
        assert w2.wait_close() == 1009
        # an unmasked client frame breaks the protocol: closed
        w3 = WSClient("127.0.0.1", s.port)
        w3.line()
        w3.send(w3.frame(1, "PING", mask=False))
        assert w3.wait_close() == 1002
        # the close handshake
        w4 = WSClient("127.0.0.1", s.port)
        w4.line()
        w4.send(w4.frame(8, struct.pack("!H", 1000) + b"bye"))
        assert w4.wait_close() == 1000
    finally:
        s.stop()


def test_upgrade_rules_and_origin_policy():
    s = Server()
    try:
        c = Client("127.0.0.1", s.port)
        c.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        out = c.expect_eof()
        assert out.startswith("HTTP/1.1 426") and "Sec-WebSocket-Version: 13" in out, out
        c = Client("127.0.0.1", s.port)
        c.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert c.expect_eof().startswith("HTTP/1.1 400")
        c = Client("127.0.0.1", s.port)
        c.send("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.expect_eof().startswith("HTTP/1.1 426")
        WSClient("127.0.0.1", s.port, origin="http://evil.example", expect_status=403)
        WSClient("127.0.0.1", s.port, origin="http://127.0.0.1:%d" % s.port)
    finally:
        s.stop()
    s = Server("--allow-origin", "https://cards.example, http://other.example")
    try:
        WSClient("127.0.0.1", s.port, origin="https://cards.example")
        WSClient("127.0.0.1", s.port, origin="http://127.0.0.1:%d" % s.port,
                 expect_status=403)
    finally:
        s.stop()


def test_websocket_player_against_tcp_player():
    s = Server(*FAST)
    try:
        wsc = WSClient("127.0.0.1", s.port)
        wsc.line()
        a, b = Bot(wsc, "webby"), Bot(s.connect(), "tcpy")
        a.nick()
        b.nick()
        mid = int(a.c.ask("CREATE briscola", r"OK CREATE \d+").split()[2])
        a.c.expect_line("SEATED %d 0 webby" % mid)
        b.c.ask("JOIN %d" % mid, "OK JOIN %d 1" % mid)
        pump_until([a, b], lambda: a.end and b.end, timeout=60)
        assert a.end == b.end and " score " in a.end
    finally:
        s.stop()


def test_websocket_drop_and_resume():
    s = Server(*FAST)
    try:
        wsc = WSClient("127.0.0.1", s.port)
        wsc.line()
        a, b = Bot(wsc, "webby", autoplay=False), Bot(s.connect(), "tcpy", autoplay=False)
        a.nick()
        b.nick()
        mid = int(a.c.ask("CREATE briscola", r"OK CREATE \d+").split()[2])
        a.c.expect_line("SEATED %d 0 webby" % mid)
        b.c.ask("JOIN %d" % mid, "OK JOIN %d 1" % mid)
        pump_until([a, b], lambda: a.hand and b.hand)
        wsc.sock.close()
        pump_until([b], lambda: "AWAY %d 0" % mid in b.lines)
        w2 = WSClient("127.0.0.1", s.port)
        w2.line()
        w2.cmd("RESUME " + a.token)
        assert re.fullmatch(r"OK RESUME webby [0-9a-f]{32} %d" % mid, w2.line())
        assert w2.line() == "START %d briscola 2 webby tcpy" % mid
        assert re.fullmatch("COMMIT %d [0-9a-f]{64}" % mid, w2.line())
        assert w2.line().startswith("TRUMP %d " % mid)
        assert w2.line() == "HAND %d %s" % (mid, " ".join(a.hand))
        assert w2.line().startswith("TURN %d 0 " % mid)
        pump_until([b], lambda: "BACK %d 0" % mid in b.lines)
    finally:
        s.stop()


def test_admin_metrics_and_healthz():
    s = Server()
    try:
        c = s.connect()
        c.ask("PING", "OK PING")
        c.ask("FROB", r"ERR BADCMD .*")
        c.ask("NICK m1", r"OK NICK m1 \S+")
        c.ask("CREATE briscola", r"OK CREATE \d+")
        WSClient("127.0.0.1", s.port).line()
        base = "http://127.0.0.1:%d" % s.admin_port
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            assert r.status == 200 and r.read() == b"ok\n"
        with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
            text = r.read().decode()
        want = [
            r'tavolo_commands_total\{verb="PING"\} 1',
            r'tavolo_commands_total\{verb="other"\} 1',
            r'tavolo_errors_total\{code="BADCMD"\} 1',
            r'tavolo_matches\{state="waiting"\} 1',
            r'tavolo_websocket_upgrades_total 1',
            r'tavolo_connections_accepted_total [2-9]',
            r'tavolo_connections_open [2-9]',
            r'tavolo_bytes_received_total [1-9]\d*',
            r'tavolo_event_loop_lag_milliseconds\{which="last"\} \d',
            r'tavolo_store_commits_total \d',
        ]
        for w in want:
            assert re.search("^" + w, text, re.M), (w, text[:3000])
        try:
            urllib.request.urlopen(base + "/nope", timeout=5)
            raise AssertionError("404 expected")
        except urllib.error.HTTPError as e:
            assert e.code == 404
        # the admin port is loopback only
        assert "127.0.0.1" in s.log_text().split("admin (metrics) on")[1].split("\n")[0]
    finally:
        s.stop()


def test_admin_port_busy_does_not_stop_the_server():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    busy = holder.getsockname()[1]
    s = Server("--admin-port", str(busy))
    try:
        s.connect().ask("PING", "OK PING")
        assert "admin port %d not available" % busy in s.log_text()
    finally:
        s.stop()
        holder.close()


if __name__ == "__main__":
    run([v for k, v in sorted(globals().items()) if k.startswith("test_")])
