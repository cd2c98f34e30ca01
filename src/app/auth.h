/*
 * auth: NICK, with and without a password (PROTOCOL §3 NICK) — checking
 * and registering passwords. argon2id runs off the loop thread; the
 * answer comes back on the loop and decides the name then.
 */
#ifndef TAVOLO_APP_AUTH_H
#define TAVOLO_APP_AUTH_H

struct cmd;
struct session;

/* The NICK verb: a guest name, or a registered name with its password
 * (checked, or registered if the name is free). */
void cmd_nick(struct session *s, const struct cmd *c);

#endif
