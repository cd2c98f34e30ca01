/*
 * sdnotify: what the server tells systemd, and the listening socket
 * systemd may hand it (docs/OPERATIONS.md, "Installing and running as a
 * service").
 *
 * The only file that includes <systemd/sd-daemon.h>. Built without
 * libsystemd (TAVOLO_HAVE_SYSTEMD undefined), every call does nothing and
 * sdnotify_listen_fd() reports no socket, so the server binds as usual.
 * Outside systemd (no NOTIFY_SOCKET, no LISTEN_FDS in the environment)
 * the calls are as cheap and as silent: libsystemd checks the environment
 * and returns.
 *
 * Deliberately not here: the watchdog (WATCHDOG=1), and more than one
 * inherited socket (the admin port always binds 127.0.0.1 itself).
 */
#ifndef TAVOLO_APP_SDNOTIFY_H
#define TAVOLO_APP_SDNOTIFY_H

/* Socket activation: the listening TCP socket (IPv4 or IPv6) that the
 * service manager passed as fd 3 (LISTEN_FDS=1, LISTEN_PID = this
 * process), or -1 if there is none. Reads and unsets LISTEN_FDS,
 * LISTEN_PID and LISTEN_FDNAMES, so a child never takes the socket for
 * its own; call it once. A passed fd that is not a listening TCP socket,
 * and any fd after the first, is logged and left alone (the server then
 * binds --bind/--port as usual if the first is unusable). */
int sdnotify_listen_fd(void);

/* READY=1 and a STATUS line: the listeners accept connections. Called
 * once at start and again after each reload. Best effort: a lost message
 * is systemd's timeout to report, not ours. */
void sdnotify_ready(void);

/* RELOADING=1 (with MONOTONIC_USEC, as systemd 253+ wants): a SIGHUP
 * reload begins; sdnotify_ready() ends it. Best effort. */
void sdnotify_reloading(void);

/* STOPPING=1: shutdown has begun (SIGINT/SIGTERM). Best effort. */
void sdnotify_stopping(void);

/* MAINPID=<this pid> and READY=1: this process took over from the one
 * systemd started (SIGUSR2, app/upgrade.c); needs NotifyAccess=all.
 * Best effort. */
void sdnotify_took_over(void);

/* The old process of an upgrade, after GO: MAINPID=<pid> (the new
 * process), then a barrier, so that systemd has taken the new main pid
 * before this one exits; otherwise the old main process's exit can reach
 * systemd first, which then counts the service as ended and stops the
 * new process with the rest of the unit's cgroup (found by
 * scripts/deb-boot-check.sh). Waits for systemd at most 2 s. Best
 * effort. */
void sdnotify_hand_main_pid(long pid);

#endif
