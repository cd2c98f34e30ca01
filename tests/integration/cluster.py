"""Real Redis and HAProxy for the cluster tests (no mocks).

RedisServer starts Debian's redis-server on a free 127.0.0.1 port with its
own temporary directory and AOF on; HAProxy starts haproxy in TCP mode in
front of a list of backends. Both are stopped by their PID (stop(), and at
exit with the rest of harness.py's processes), every wait is bounded.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import harness

REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"
HAPROXY_BIN = shutil.which("haproxy") or "/usr/sbin/haproxy"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port, proc, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on {port} within {timeout} s")


class RedisServer:
    """redis-server on 127.0.0.1:<free port>, data in its own directory.

    appendfsync: "always" or "everysec" (the durability levels' mapping,
    docs/CLUSTER.md). restart() stops it and starts it again on the same
    port and directory, so the AOF is replayed."""

    def __init__(self, appendfsync="everysec", port=None, extra=()):
        self.dir = tempfile.mkdtemp(prefix="tavolo-redis-")
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.extra = list(extra)
        self.proc = None
        self.start()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        cmd = [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1",
               "--dir", self.dir, "--appendonly", "yes",
               "--appendfsync", self.appendfsync, "--save", "",
               "--daemonize", "no", "--protected-mode", "yes",
               "--logfile", os.path.join(self.dir, "redis.log")] + self.extra
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        harness._started.append(self.proc)
        _wait_port(self.port, self.proc, "redis-server")
        # Listening is not serving: while it replays its AOF, Redis
        # answers -LOADING to every command. Ready means PONG.
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.command("PING") == "PONG":
                    return
            except AssertionError as e:
                if "LOADING" not in str(e) or time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def command(self, *args, timeout=5):
        """One command over RESP; returns the decoded reply (str, int,
        list, None) or raises on an error reply."""
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=timeout) as s:
            out = f"*{len(args)}\r\n"
            for a in args:
                a = str(a).encode()
                out += f"${len(a)}\r\n" + a.decode("latin-1") + "\r\n"
            s.sendall(out.encode("latin-1"))
            f = s.makefile("rb")
            return _read_reply(f)

    def stop(self, sig=None, timeout=10):
        """SIGTERM (or sig) and wait; redis writes nothing more after."""
        if self.proc and self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode if self.proc else None

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _read_reply(f):
    line = f.readline()
    if not line:
        raise AssertionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise AssertionError("redis error: " + rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        if n < 0:
            return None
        return [_read_reply(f) for _ in range(n)]
    raise AssertionError(f"bad redis reply {line!r}")


class HAProxy:
    """haproxy in TCP mode on 127.0.0.1:<free port>, round robin over
    backends [(host, port)], with health checks so a dead node is left
    out; stopped by PID."""

    def __init__(self, backends, check_ms=200):
        self.dir = tempfile.mkdtemp(prefix="tavolo-haproxy-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "haproxy.cfg")
        lines = [
            "global", "    maxconn 4096",
            "defaults", "    mode tcp", "    timeout connect 2s",
            "    timeout client 10m", "    timeout server 10m",
            "frontend game", f"    bind 127.0.0.1:{self.port}",
            "    default_backend nodes",
            "backend nodes", "    balance roundrobin",
        ]
        for i, (host, port) in enumerate(backends):
            lines.append(f"    server n{i} {host}:{port} check inter {check_ms}ms"
                         " fall 1 rise 1")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([HAPROXY_BIN, "-db", "-f", cfg],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "log"), "wb"))
        harness._started.append(self.proc)
        _wait_port(self.port, self.proc, "haproxy")

    def stop(self, timeout=5):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)
