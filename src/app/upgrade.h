/*
 * upgrade: the zero-downtime upgrade on SIGUSR2 (docs/OPERATIONS.md,
 * "Upgrading without downtime"), both halves.
 *
 * The old process (upgrade_start): starts the binary now at the path it
 * was started from (resolved at start-up: after a replace,
 * /proc/self/exe names a deleted file) with the same arguments and
 * TAVOLO_UPGRADE_FD naming one end of a SOCK_SEQPACKET socketpair. Once
 * the new one says HELLO, it stops reading from clients, lets the work
 * in flight settle (password checks, store jobs, bots, commands waiting
 * for their answer), takes every plaintext socket away from libuv
 * without closing it (conn_hand_over), closes the store (its final
 * commit), and sends the listeners, the connections (fds with
 * SCM_RIGHTS, in batches, each with its state) and the matches' clocks
 * (app/upgrade_wire.h). On READY it answers GO and exits — or, with TLS
 * connections open, stays on as their terminator only: each one's
 * plaintext goes over a socketpair whose other end the new process
 * adopted as a plain connection; it exits when the last one closes. On
 * failure at any step (the child exits, says FAIL, garbles, or the
 * upgrade timeout passes) the child is killed and the old process
 * reopens its store, takes its sockets back and serves on, logging why.
 *
 * The new process (upgrade_child_*): called from server_start around
 * the steps of a normal start: HELLO and the state before the store is
 * opened (so the journal it restores is the old one's last word), the
 * inherited listeners instead of binding, then the connections and
 * clocks, READY, and nothing touches a client until GO.
 */
#ifndef TAVOLO_APP_UPGRADE_H
#define TAVOLO_APP_UPGRADE_H

#include <stdbool.h>
#include <uv.h>

struct server;

/* The version this binary reports (HELLO, the log, /metrics); main sets
 * it from its TAVOLO_VERSION. */
extern const char *tavolo_version_string;

/* main: remembers argv and resolves the binary's path now. */
void upgrade_set_argv(int argc, char **argv);

/* SIGUSR2 in the old process: begins an upgrade (one at a time). */
void upgrade_start(struct server *srv);

/* True while an upgrade is under way (no reload, no shutdown then). */
bool upgrade_is_busy(const struct server *srv);

/* True once this process only relays TLS for the new one. */
bool upgrade_is_relay(const struct server *srv);

/* SIGINT/SIGTERM during an upgrade: the upgrade is given up first, and
 * the server stops once everything is taken back (perhaps one loop
 * iteration later: upgrade_is_busy is still true then). */
void upgrade_abort(struct server *srv, const char *why);

/* SIGINT/SIGTERM in relay mode: close the relays and exit. */
void upgrade_relay_stop(struct server *srv);

/* ---------- the new process (server_start) ---------- */

/* True if this process was started by an upgrade (TAVOLO_UPGRADE_FD). */
bool upgrade_is_child(void);

/* Says HELLO and receives everything (up to END). Returns 0 or -1
 * (logged; the old process keeps serving). */
int upgrade_child_receive(struct server *srv);

/* The inherited game-port listener, or -1. The caller owns it. */
int upgrade_child_listen_fd(struct server *srv);

/* The inherited admin listener, or -1. The caller owns it. */
int upgrade_child_admin_fd(struct server *srv);

/* After the store is open (matches restored) and the listeners are up:
 * adopts the connections and sessions, applies the clocks, says READY
 * and waits for GO. Returns 0 (serve), or -1 (logged; exit, touching no
 * client: the old process serves on). */
int upgrade_child_finish(struct server *srv);

/* Shutdown: closes the upgrade's handles (its state is freed by their
 * close callbacks). */
void upgrade_close(struct server *srv);

/* Releases what a failed new process kept (at server_free). */
void upgrade_free(struct server *srv);

#endif
