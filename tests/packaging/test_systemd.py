"""systemd integration of the real binary, without systemd running:

- readiness: NOTIFY_SOCKET names a unix datagram socket of this test,
  which must receive READY=1 once the server accepts, RELOADING=1 then
  READY=1 around a SIGHUP, and STOPPING=1 on SIGTERM (sd_notify(3));
- socket activation: the server is started the way systemd starts it,
  with a listening socket as fd 3 and LISTEN_FDS=1, LISTEN_PID=its pid
  (sd_listen_fds(3)), must serve HELLO on that socket and ignore --port;
  once by a launcher of our own, once by systemd-socket-activate(1) if it
  is installed (it starts the server on the first connection, which must
  then be served, not refused);
- an upgrade (SIGUSR2): the old process hands MAINPID= to the new one and
  waits on the notify barrier before it exits.

Every process is stopped by its PID; waits are bounded; loopback only.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import BINARY, Client, Server, run  # noqa: E402


def notify_socket():
    d = tempfile.mkdtemp(prefix="tavolo-notify-")
    path = os.path.join(d, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(5)
    return s, path


def messages(sock, until, timeout=5.0):
    """Datagrams (lists of lines) until one holds the line `until`."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except socket.timeout:
            break
        got.append(data.decode().split("\n"))
        if until in got[-1]:
            return got
    raise AssertionError("no %s; got %r" % (until, got))


def test_ready_reloading_stopping():
    sock, path = notify_socket()
    os.environ["NOTIFY_SOCKET"] = path
    try:
        s = Server()  # returns once "listening on" is printed
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        got = messages(sock, "READY=1")
        assert len(got) == 1 and "STATUS=serving" in got[0], got
        s.connect().close()  # READY meant it: HELLO on the port
        s.signal(signal.SIGHUP)
        got = messages(sock, "READY=1")
        assert "RELOADING=1" in got[0], got
        assert any(l.startswith("MONOTONIC_USEC=") for l in got[0]), got
        assert "READY=1" in got[-1], got
        s.signal(signal.SIGTERM)
        messages(sock, "STOPPING=1")
        assert s.proc.wait(timeout=5) == 0, s.log_text()
    finally:
        s.stop()
        sock.close()
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def test_upgrade_hands_the_main_pid_before_exiting():
    """SIGUSR2 under systemd (NotifyAccess=all): the old process says
    MAINPID=<new pid> itself and waits on a notify barrier (BARRIER=1 with
    a descriptor that the manager closes once it has read everything)
    before it exits. Otherwise its exit could reach systemd before the new
    process's MAINPID=, and systemd would end the service and stop the new
    process with it (seen under a booted systemd by
    scripts/deb-boot-check.sh). Here the test is the manager: it holds the
    barrier's descriptor for a while, and the old process must wait."""
    import array
    sock, path = notify_socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    os.environ["NOTIFY_SOCKET"] = path
    try:
        s = Server()
    finally:
        del os.environ["NOTIFY_SOCKET"]
    old = s.proc.pid
    new = None
    try:
        messages(sock, "READY=1")
        c = s.connect()
        s.signal(signal.SIGUSR2)
        seen = []  # (sender pid, lines, fds)
        barrier_fds = []
        deadline = time.monotonic() + 10
        while not barrier_fds:
            assert time.monotonic() < deadline, (seen, s.log_text()[-2000:])
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(64))
            pid, fds = None, []
            for level, kind, body in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = int.from_bytes(body[:4], "little")
                elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    a = array.array("i")
                    a.frombytes(body[:len(body) - len(body) % a.itemsize])
                    fds += list(a)
            lines = data.decode().split("\n")
            seen.append((pid, lines))
            if "BARRIER=1" in lines:
                assert pid == old, seen
                barrier_fds = fds
            else:
                for fd in fds:
                    os.close(fd)
        hand = [l for p_, ls in seen if p_ == old for l in ls if l.startswith("MAINPID=")]
        assert hand, seen
        new = int(hand[-1].split("=")[1])
        assert new != old and _alive(new), (seen, new)
        # the old process waits for the manager
        time.sleep(0.5)
        assert _alive(old), "the old process exited before the barrier"
        for fd in barrier_fds:
            os.close(fd)
        deadline = time.monotonic() + 5
        while _alive(old):
            assert time.monotonic() < deadline, "the old process did not exit"
            time.sleep(0.02)
        # the new process says MAINPID=itself and READY=1 too (after GO,
        # so before or after the old one's barrier), and serves the
        # client that was connected
        ready = [ls for p_, ls in seen if p_ == new and "READY=1" in ls]
        if not ready:
            ready = [messages(sock, "READY=1")[-1]]
        assert any("MAINPID=%d" % new in ls for ls in ready), (seen, ready)
        c.cmd("PING across")
        c.expect_line("OK PING across")
        c.close()
    finally:
        if new is not None and _alive(new):
            os.kill(new, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while _alive(new) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _alive(new):
                os.kill(new, signal.SIGKILL)
        s.stop()
        sock.close()
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def listening_socket():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    return ls


def wait_listening(log_path, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        m = re.search(r"^listening on (.*):(\d+)$", text, re.M)
        if m:
            return m.group(1), int(m.group(2)), text
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise AssertionError("server did not start:\n" + text)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def test_socket_activation_inherited_fd():
    ls = listening_socket()
    port = ls.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="tavolo-sa-")
    log_path = os.path.join(tmp, "server.log")
    fd = ls.fileno()

    def as_systemd():  # in the child, between fork and exec
        os.dup2(fd, 3)
        os.set_inheritable(3, True)  # dup2(3, 3) would keep CLOEXEC
        os.environ["LISTEN_FDS"] = "1"
        os.environ["LISTEN_PID"] = str(os.getpid())
        os.environ["LISTEN_FDNAMES"] = "tavolo.socket"

    busy = listening_socket()  # --port names it: binding it would fail
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [BINARY, "--port", str(busy.getsockname()[1]), "--bind", "127.0.0.1",
             "--admin-port", "off",
             "--data", os.path.join(tmp, "data")],
            stdout=log, stderr=log, preexec_fn=as_systemd, close_fds=False)
    try:
        host, got_port, text = wait_listening(log_path, proc)
        assert (host, got_port) == ("127.0.0.1", port), text
        assert "socket activation: listening on fd 3" in text, text
        c = Client("127.0.0.1", port)
        c.expect_line(r"HELLO tavolo 2 \S+")
        c.cmd("PING")
        c.expect_line(r"OK PING")
        c.close()
        assert stop(proc) == 0, open(log_path).read()
    finally:
        stop(proc)
        ls.close()
        busy.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_socket_activation_not_a_listener_binds_as_usual():
    # fd 3 is a TCP socket that is not listening: refused, logged,
    # and the server binds --port as if nothing had been passed.
    bad = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tmp = tempfile.mkdtemp(prefix="tavolo-sa-")
    log_path = os.path.join(tmp, "server.log")
    fd = bad.fileno()

    def as_systemd():
        os.dup2(fd, 3)
        os.set_inheritable(3, True)  # dup2(3, 3) would keep CLOEXEC
        os.environ["LISTEN_FDS"] = "1"
        os.environ["LISTEN_PID"] = str(os.getpid())

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [BINARY, "--port", "0", "--bind", "127.0.0.1", "--admin-port", "off",
             "--data", os.path.join(tmp, "data")],
            stdout=log, stderr=log, preexec_fn=as_systemd, close_fds=False)
    try:
        _, port, text = wait_listening(log_path, proc)
        assert "fd 3 is not a listening TCP socket" in text, text
        c = Client("127.0.0.1", port)
        c.expect_line(r"HELLO tavolo 2 \S+")
        c.close()
        assert stop(proc) == 0
    finally:
        stop(proc)
        bad.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_systemd_socket_activate():
    tool = shutil.which("systemd-socket-activate")
    if tool is None:
        print("skip: systemd-socket-activate not installed (package systemd)")
        return
    probe = listening_socket()  # a free port; released just before use
    port = probe.getsockname()[1]
    probe.close()
    tmp = tempfile.mkdtemp(prefix="tavolo-ssa-")
    log_path = os.path.join(tmp, "server.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [tool, "-l", "127.0.0.1:%d" % port, BINARY, "--admin-port", "off",
             "--data", os.path.join(tmp, "data")],
            stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while b"Listening on" not in open(log_path, "rb").read():
            assert proc.poll() is None and time.monotonic() < deadline, \
                open(log_path).read()
            time.sleep(0.02)
        # The server is not running yet: this connection starts it.
        c = Client("127.0.0.1", port)
        c.expect_line(r"HELLO tavolo 2 \S+")
        c.cmd("PING")
        c.expect_line(r"OK PING")
        c.close()
        text = open(log_path).read()
        assert "socket activation: listening on fd 3" in text, text
        assert stop(proc) == 0, open(log_path).read()
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run([v for k, v in sorted(globals().items()) if k.startswith("test_")])
