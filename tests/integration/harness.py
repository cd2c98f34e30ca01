"""Black-box test harness: starts the real tavolo binary on a free
loopback port and speaks the protocol over sockets.

Every process started here is stopped by its PID (Server.stop, also at
exit); every wait is bounded by a timeout; only 127.0.0.1 / ::1 are used.
"""
import atexit
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

BINARY = os.environ.get("TAVOLO_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "tavolo")
_started = []


def _stop_all():
    for p in list(_started):
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)


atexit.register(_stop_all)


class Server:
    """A tavolo process on 127.0.0.1 with --port 0."""

    def __init__(self, *args, bind="127.0.0.1", data_dir=None, preexec_fn=None):
        self.tmp = tempfile.mkdtemp(prefix="tavolo-test-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.log = open(self.log_path, "wb")
        cmd = [BINARY, "--port", "0", "--bind", bind, "--data", self.data_dir,
               "--admin-port", "0"]
        cmd += [str(a) for a in args]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log,
                                     preexec_fn=preexec_fn)
        _started.append(self.proc)
        self.port = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                text = f.read()
                m = (re.search(rb"^listening on .*:(\d+)$", text, re.M) or
                     # --log-format json: the same line as an event
                     re.search(rb'"event":"listening","addr":"[^"]*:(\d+)"', text))
                a = re.search(rb"^admin \(metrics\) on http://127.0.0.1:(\d+)/", text, re.M)
                self.admin_port = int(a.group(1)) if a else None
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if self.port is None:
            self.stop()
            raise AssertionError("server did not start:\n" + self.log_text())

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=5):
        """SIGTERM, wait; returns the exit code (kills after timeout)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc in _started:
            _started.remove(self.proc)
        self.log.close()
        return self.proc.returncode

    def connect(self, greet=True, host="127.0.0.1", **kw):
        c = Client(host, self.port, **kw)
        if greet:
            c.expect_line(r"HELLO tavolo 2 \S+")
        return c


class Client:
    def __init__(self, host, port, timeout=5.0, source=None):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source is not None:  # another loopback source address (127/8)
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buf = b""
        self.timeout = timeout

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\n")

    def line(self, timeout=None):
        """The next line (str, without terminator); AssertionError on
        timeout or EOF."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timeout waiting for a line; have %r" % self.buf)
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("EOF waiting for a line; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def expect_line(self, pattern, timeout=None):
        got = self.line(timeout)
        assert re.fullmatch(pattern, got), "expected /%s/, got %r" % (pattern, got)
        return got

    def ask(self, line, pattern=None):
        self.cmd(line)
        got = self.line()
        if pattern is not None:
            assert re.fullmatch(pattern, got), "%s: expected /%s/, got %r" % (
                line, pattern, got)
        return got

    def has_buffered(self):
        return b"\n" in self.buf

    def poll_lines(self, wait=0.0):
        """Reads what has arrived (waiting up to `wait`); returns the complete
        lines. AssertionError on EOF."""
        r, _, _ = select.select([self.sock], [], [], wait)
        if r:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("connection closed")
            self.buf += chunk
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            out.append(line.decode("utf-8", "replace"))
        return out

    def no_line(self, wait=0.2):
        """Asserts that nothing arrives within `wait` seconds."""
        r, _, _ = select.select([self.sock], [], [], wait)
        if r or b"\n" in self.buf:
            data = self.buf + (self.sock.recv(65536) if r else b"")
            assert not data, "unexpected data: %r" % data

    def expect_eof(self, timeout=None):
        """Reads until EOF (or reset); returns what came before it."""
        deadline = time.monotonic() + (timeout or self.timeout)
        data = self.buf
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no EOF; got %r" % data[-200:])
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        self.buf = b""
        return data.decode("utf-8", "replace")

    def close(self):
        self.sock.close()


def run(tests):
    """Runs test functions by name from argv (or all), printing a summary.
    Exits non-zero if any failed."""
    names = sys.argv[1:] or [t.__name__ for t in tests]
    by_name = {t.__name__: t for t in tests}
    failed = 0
    for n in names:
        t0 = time.monotonic()
        try:
            by_name[n]()
            print("ok   %s (%.2fs)" % (n, time.monotonic() - t0), flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print("FAIL %s: %s: %s" % (n, type(e).__name__, e), flush=True)
    passed = len(names) - failed
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


class WSClient(Client):
    """A WebSocket client on a raw socket (RFC 6455): masked frames out,
    one protocol line per text message, answering pings itself."""

    def __init__(self, host, port, path="/ws", origin=None, timeout=5.0,
                 headers=None, expect_status=101):
        import base64
        super().__init__(host, port, timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n" % (path, host, port, key))
        if origin:
            req += "Origin: %s\r\n" % origin
        for h in headers or ():
            req += h + "\r\n"
        self.send(req + "\r\n")
        head = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in head:
            if time.monotonic() > deadline:
                raise AssertionError("no upgrade response: %r" % head)
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        self.status = int(head.split()[1]) if head else 0
        self.head = head.decode()
        assert self.status == expect_status, self.head
        self.raw = rest            # undecoded frames
        self.messages = []         # decoded text messages
        self.close_code = None
        if self.status == 101:
            import hashlib
            want = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            assert ("Sec-WebSocket-Accept: " + want) in self.head, self.head

    def frame(self, opcode, payload, fin=True, mask=True):
        import struct
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
        else:
            head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
        if not mask:
            return head + payload
        key = os.urandom(4)
        return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))

    def cmd(self, line):
        self.send(self.frame(1, line))

    def _parse(self):
        import struct
        while len(self.raw) >= 2:
            b0, b1 = self.raw[0], self.raw[1]
            assert not b1 & 0x80, "server frames must not be masked"
            n, off = b1 & 0x7F, 2
            if n == 126:
                if len(self.raw) < 4:
                    return
                n, off = struct.unpack("!H", self.raw[2:4])[0], 4
            elif n == 127:
                if len(self.raw) < 10:
                    return
                n, off = struct.unpack("!Q", self.raw[2:10])[0], 10
            if len(self.raw) < off + n:
                return
            payload, self.raw = self.raw[off:off + n], self.raw[off + n:]
            op = b0 & 0x0F
            if op == 1:
                self.messages.append(payload.decode("utf-8", "replace"))
            elif op == 8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            elif op == 9:
                self.send(self.frame(10, payload))
            elif op == 10:
                self.messages.append("<pong %s>" % payload.decode())

    def has_buffered(self):
        self._parse()
        return bool(self.messages)

    def _read(self, wait):
        """Waits up to `wait` for bytes and decodes what came; returns False
        at EOF (or a reset), True otherwise."""
        r, _, _ = select.select([self.sock], [], [], max(wait, 0))
        if r:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return False
            if not chunk:
                return False
            self.raw += chunk
        self._parse()
        return True

    def poll_lines(self, wait=0.0):
        if not self._read(wait):
            raise AssertionError("connection closed (close code %s)" % self.close_code)
        out, self.messages = self.messages, []
        return out

    def line(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        self._parse()
        while not self.messages:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timeout waiting for a message")
            if not self._read(left):
                raise AssertionError("EOF (close code %s)" % self.close_code)
        return self.messages.pop(0)

    def wait_close(self, timeout=None):
        """Reads until the server closes the TCP connection; returns the
        code of the close frame it sent (None if it sent none). Raises if
        the connection is still open at the deadline."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            if not self._read(0.1):
                return self.close_code
        raise AssertionError("the server did not close the connection")
