/*
 * redis_link: one asynchronous connection to Redis on our libuv loop
 * (hiredis and its libuv adapter), that comes back by itself.
 *
 * A link connects at redis_link_new and, whenever the connection fails or
 * drops, reconnects after a back-off that doubles from 50 ms to 2 s (a
 * timer, never a spin). Every command has a deadline: its callback runs
 * exactly once, with the reply, or with NULL when Redis is unreachable,
 * the connection dropped, or the deadline passed (then the connection is
 * dropped and remade, so a reply can never arrive after its NULL). While
 * the link is down, redis_link_cmd calls back with NULL at once (on the
 * next loop turn, never inside the call).
 *
 * A link in subscriber mode (redis_link_subscribe) carries only its
 * channel's messages; it subscribes again after every reconnect.
 *
 * Owns: its hiredis context and its pending commands. Loop thread only.
 */
#ifndef TAVOLO_CLUSTER_REDIS_LINK_H
#define TAVOLO_CLUSTER_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct redisReply;
struct redis_link;

/* reply: NULL if the command failed or timed out; valid during the call. */
typedef void (*redis_reply_fn)(void *ctx, struct redisReply *reply);
/* up: the link (re)connected (true) or lost Redis (false). */
typedef void (*redis_state_fn)(void *ctx, bool is_up);
/* A message on the subscribed channel; data valid during the call. */
typedef void (*redis_message_fn)(void *ctx, const char *data, size_t len);

struct redis_link_stats {
    bool is_up;
    uint64_t n_connects, n_drops, n_commands, n_failed, n_timeouts;
    uint64_t last_us, max_us; /* round trip of the last reply, the largest */
    uint64_t sum_us, n_timed; /* for a mean */
};

/* addr: "HOST:PORT" or a unix socket path (starts with '/'). name: for the
 * log. cmd_ms: each command's deadline. Returns NULL (and err) only for a
 * malformed address. */
struct redis_link *redis_link_new(uv_loop_t *loop, const char *addr,
                                  const char *name, uint32_t cmd_ms,
                                  redis_state_fn on_state, void *ctx,
                                  char *err, size_t err_cap);

/* The link carries messages of channel only, from now on. */
void redis_link_subscribe(struct redis_link *l, const char *channel,
                          redis_message_fn on_message);

/* A command of argc arguments (argv[i] of argvlen[i] bytes). fn may be
 * NULL (no answer wanted). */
void redis_link_cmdv(struct redis_link *l, int argc, const char **argv,
                     const size_t *argvlen, redis_reply_fn fn, void *ctx);
/* The same with a hiredis format ("SET %s %b"). */
void redis_link_cmd(struct redis_link *l, redis_reply_fn fn, void *ctx,
                    const char *fmt, ...);

bool redis_link_is_up(const struct redis_link *l);
/* No command is in flight or waiting for its answer: everything sent
 * has been answered by Redis (or failed). */
bool redis_link_is_idle(const struct redis_link *l);
void redis_link_get_stats(const struct redis_link *l,
                          struct redis_link_stats *out);

/* One command on a blocking connection of its own, at most timeout_ms
 * to connect and as long again for the reply (for shutdown, when the
 * loop will not run again). 0 if Redis answered without an error. */
int redis_link_call_once(const char *addr, uint32_t timeout_ms, int argc,
                         const char **argv);

/* Fails every pending command (callbacks with NULL), disconnects, and
 * frees the link once its handles are closed. NULL does nothing. */
void redis_link_free(struct redis_link *l);

#endif
