/*
 * store_redis: the Redis backend of store.h, private to src/store/.
 *
 * store.c hands every public call to these functions when the store was
 * opened with store_open_redis (struct store's `redis`); each rstore_*
 * function has the contract of the store_* function of the same name in
 * store.h. This file and src/cluster/ are the only ones that include
 * hiredis. The key layout, the journal's Lua script, the durability
 * mapping and the failure behaviour are in docs/CLUSTER.md, "Store on
 * Redis".
 */
#ifndef TAVOLO_STORE_STORE_REDIS_H
#define TAVOLO_STORE_STORE_REDIS_H

#include "store/store.h"

struct rstore;

struct rstore *rstore_open(const char *addr, char *err, size_t err_cap);
void rstore_set_wait_ms(struct rstore *rs, uint32_t wait_ms);
int rstore_set_durability(struct rstore *rs, enum store_durability level);
void rstore_on_broken(struct rstore *rs, void (*fn)(void *ctx, const char *why),
                      void *ctx);
int rstore_each_account(struct rstore *rs,
                        void (*fn)(void *ctx, const char *name, const char *hash),
                        void *ctx);
int rstore_each_open_match(struct rstore *rs,
                           void (*fn)(void *ctx, const struct store_open_match *m),
                           void *ctx);
uint64_t rstore_max_match_id(struct rstore *rs);
int rstore_start(struct rstore *rs, uv_loop_t *loop);
void rstore_submit(struct rstore *rs, struct store_job *job);
void rstore_close(struct rstore *rs);
void rstore_get_metrics(struct rstore *rs, struct store_metrics *out);

#endif
