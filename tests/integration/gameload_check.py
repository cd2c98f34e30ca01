#!/usr/bin/env python3
"""bench/gameload, tested both ways (one case per run, named on the
command line; ctest runs each as its own test):

    gameload_check.py real 2|4     against the real tavolo binary: a few
                                   seconds of briscola, errors=0, moves>0
    gameload_check.py real 2 procs the same split over 3 processes with a
                                   warm-up: the merged figures add up
    gameload_check.py fake none    against fake_bad_server.py, no fault:
                                   errors=0 (the fake itself plays right)
    gameload_check.py fake v2      the same, version 2, every game (scopa
                                   and hearts included)
    gameload_check.py fake quick   the same, seated by QUICK
    gameload_check.py fake dup|drop|badend|reorder|nosweep|badscore
                                   a deliberately broken server: gameload
                                   must exit 1 and name the error
    gameload_check.py fake dup procs | fake drop procs
                                   the same from one of 2 processes
    gameload_check.py missing      a game or QUICK the server lacks: exit 2

GAMELOAD_BIN and TAVOLO_BIN name the binaries. Every process started here
is stopped by its PID; every wait is bounded.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GAMELOAD = os.environ.get("GAMELOAD_BIN") or os.path.join(
    HERE, "..", "..", "build", "bench", "gameload", "gameload")

# What each fault must be reported as (error_kinds= and stderr).
FAULTS = {
    "dup": ("dup_card", "dealt before", "briscola:2"),
    "drop": ("stall", "dropped move", "briscola:2"),
    "badend": ("bad_end", "add up to 121", "briscola:2"),
    "reorder": ("bad_order", "before the reply to 'PLAY", "briscola:2"),
    "nosweep": ("bad_sweep", "no SWEEP", "scopa:2"),
    "badscore": ("bad_score", "SCORE gives seat 0", "hearts:4"),
}
# A correct version-2 fake, every game at once.
ALL_GAMES = "briscola:2,scopa:2,hearts:4,scopa:4,briscola:4"


def run_gameload(port, *args, timeout=60):
    cmd = [GAMELOAD, "-p", str(port)] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [l for l in p.stdout.splitlines() if l.startswith("gameload games=")]
    kv = dict(w.split("=", 1) for w in lines[-1].split()[1:]) if lines else {}
    return p.returncode, kv, p.stdout, p.stderr


class Fake:
    """fake_bad_server.py on a free loopback port."""

    def __init__(self, fault, v2=False):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fake_bad_server.py"),
             "--fault", fault] + (["--v2"] if v2 else []),
            stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()  # bounded: the fake prints at once
        m = re.search(r"listening on .*:(\d+)$", line.strip())
        if not m:
            self.stop()
            raise AssertionError("fake server did not start: %r" % line)
        self.port = int(m.group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def check(cond, what, out, err):
    if not cond:
        print("FAIL: %s\n--- stdout\n%s--- stderr\n%s" % (what, out, err))
        sys.exit(1)


def case_real(seats, procs=1):
    srv = harness.Server("--rate", "1000000000", "--burst", "1000000000",
                         "--max-per-ip", "100000", "--max-waiting-per-ip", "0",
                         "--log-level", "warn")
    try:
        rc, kv, out, err = run_gameload(
            srv.port, "-n", 10 * seats, "-g", "briscola:%d" % seats,
            "-d", 3, "--pid", srv.proc.pid,
            # 4 seats: from 127.0.0.1 .. 127.0.0.4 (bind before connect)
            *(["--per-src", 10] if seats == 4 else []),
            *(["--procs", procs, "--warmup", 1, "--per-src", 7]
              if procs > 1 else []))
    finally:
        code = srv.stop()
    check(rc == 0, "gameload exit status %d" % rc, out, err)
    check(kv.get("errors") == "0", "errors=%s" % kv.get("errors"), out, err)
    check(int(kv.get("moves", 0)) > 0, "no moves", out, err)
    check(int(kv.get("matches", 0)) > 0, "no match ended", out, err)
    check(float(kv.get("server_cpu_pct", -1)) >= 0, "no server CPU", out, err)
    check(code == 0, "server exit status %s" % code, out, srv.log_text())
    if procs > 1:
        # Every process's players, merged; the window after the warm-up.
        check(kv.get("procs") == str(procs) and kv.get("warmup_s") == "1.0",
              "procs=%s warmup_s=%s" % (kv.get("procs"), kv.get("warmup_s")),
              out, err)
        check(kv.get("players") == str(10 * seats) and
              kv.get("connected") == str(10 * seats),
              "players=%s connected=%s" % (kv.get("players"),
                                           kv.get("connected")), out, err)
        check(2.5 < float(kv.get("secs", 0)) < 4.5, "secs=%s, expected the "
              "3 s window" % kv.get("secs"), out, err)
        check(int(kv.get("turn_n", 0)) > 0 and int(kv.get("reply_n", 0)) >=
              int(kv.get("moves", 0)), "turn_n=%s reply_n=%s" %
              (kv.get("turn_n"), kv.get("reply_n")), out, err)
    print("ok: real %d seats, %d process(es): %s" % (seats, procs,
                                                     out.splitlines()[-1]))


def case_fake(fault, procs=1):
    v2 = fault in ("v2", "quick", "nosweep", "badscore")
    if fault in FAULTS:
        games = FAULTS[fault][2]
    else:
        games = "briscola:2" if fault == "none" else ALL_GAMES
    fake = Fake(fault if fault in FAULTS else "none", v2)
    extra = ["--quick"] if fault == "quick" else []
    try:
        rc, kv, out, err = run_gameload(fake.port, "-n", 16 if v2 else 4,
                                        "-g", games, "-d", 3,
                                        "--stall-ms", 1000, *extra,
                                        *(["--procs", procs]
                                          if procs > 1 else []))
    finally:
        fake.stop()
    if fault in ("none", "v2", "quick"):
        check(rc == 0 and kv.get("errors") == "0",
              "against a correct fake: rc=%d errors=%s" % (rc, kv.get("errors")),
              out, err)
        check(int(kv.get("matches", 0)) > 0, "no match ended", out, err)
        print("ok: fake %s: %s" % (fault, out.splitlines()[-1]))
        return
    kind, text, _ = FAULTS[fault]
    check(rc == 1, "exit status %d, expected 1" % rc, out, err)
    check(int(kv.get("errors", 0)) > 0, "errors=%s" % kv.get("errors"), out, err)
    check(kind in kv.get("error_kinds", ""), "error_kinds=%s, expected %s"
          % (kv.get("error_kinds"), kind), out, err)
    check(text in err and ("error " + kind) in err,
          "stderr does not name the error (%s, %r)" % (kind, text), out, err)
    print("ok: fake %s: %s" % (fault, err.splitlines()[0]))


def case_missing():
    fake = Fake("none")
    try:
        rc, kv, out, err = run_gameload(fake.port, "-n", 4, "-g", "hearts:4",
                                        "-d", 1)
        check(rc == 2 and "does not offer hearts" in err,
              "hearts on a briscola-only server: rc=%d" % rc, out, err)
        rc, kv, out, err = run_gameload(fake.port, "-n", 4, "--quick", "-d", 1)
        check(rc == 2 and "not supported by this server" in err,
              "QUICK answered BADCMD: rc=%d" % rc, out, err)
    finally:
        fake.stop()
    print("ok: missing game and QUICK: exit 2")


def main():
    if not os.access(GAMELOAD, os.X_OK):
        print("FAIL: no gameload binary at %s" % GAMELOAD)
        sys.exit(1)
    t0 = time.monotonic()
    what = sys.argv[1:] or ["fake", "none"]
    procs = 3 if what[-1] == "procs" else 1
    if what[0] == "real":
        case_real(int(what[1]), procs)
    elif what[0] == "fake":
        case_fake(what[1], 2 if procs > 1 else 1)
    elif what[0] == "missing":
        case_missing()
    else:
        print("usage: gameload_check.py real 2|4 | fake none|v2|quick|dup|drop|"
              "badend|reorder|nosweep|badscore | missing")
        sys.exit(2)
    print("1 passed, 0 failed (%.1f s)" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
