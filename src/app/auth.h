/*
 * auth: NICK, with and without a password (PROTOCOL §3 NICK) — checking
 * and registering passwords, with back-off for wrong ones.
 *
 * argon2id (64 MiB, tens of ms) runs on libuv's thread pool, but never
 * more than cfg->auth_threads hashes at once (0: cores - 1, at least 1),
 * so that a burst of logins cannot take the memory or the cores that the
 * loop needs. Checks beyond that wait in a FIFO of at most
 * cfg->auth_queue; past it a client gets ERR UNAVAILABLE (PROTOCOL §11).
 *
 * A name is not held while its password is checked: the answer decides
 * on the loop thread, so a right password wins over wrong ones in flight
 * and wrong ones cannot lock the owner out (issue 8). Wrong passwords
 * cost their sender: each address, and each registered name as seen
 * from addresses that never logged into it, has a failure count; past
 * cfg->auth_free_fails (four times that for a name) further checks get
 * ERR RATELIMIT, without hashing, for a back-off window that doubles
 * from cfg->auth_backoff_ms up to 5 min. An address that logged into a
 * name (the last few such per name) is not held back by that name's
 * count, and its checks go before the others in the FIFO. A right
 * password forgives its address; a name's count only fades (15 min).
 * A name being registered is spoken for until its answer (guests too).
 *
 * Owned by the server (srv->auth). Everything runs on the loop thread
 * except the hash itself.
 */
#ifndef TAVOLO_APP_AUTH_H
#define TAVOLO_APP_AUTH_H

#include <stdbool.h>

struct auth;
struct cmd;
struct server;
struct session;

/* Builds the (empty) state for srv, reading srv->cfg. */
struct auth *auth_new(struct server *srv);

/* Shutdown: every check still waiting for a hasher is answered with
 * ERR UNAVAILABLE; the ones hashing finish normally; new ones are
 * refused. */
void auth_stop(struct auth *a);

/* True if no password check is hashing or waiting (an upgrade waits for
 * this before it moves the sessions). */
bool auth_is_idle(const struct auth *a);

/* After the loop has ended (nothing is hashing any more). NULL does
 * nothing. */
void auth_free(struct auth *a);

/* The NICK verb: a guest name, or a registered name with its password
 * (checked, or registered if the name is free). */
void cmd_nick(struct session *s, const struct cmd *c);

#endif
