/*
 * cluster: see cluster.h. Every multi-key step is a Lua script, so it is
 * atomic in Redis: a name is claimed only if no other node holds it, a
 * dead node's match is claimed only while that node holds no lease and
 * only by one node (its owner key changes and its epoch is INCRed in the
 * same step).
 */
#include "cluster/cluster.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/rnd.h"
#include "base/strmap.h"
#include "cluster/redis_link.h"

/* Match ids come in blocks of ID_BLOCK (one INCRBY), and a spare block
 * is kept fetched ahead, so a burst of CREATEs (up to ID_BLOCK within
 * one round trip to Redis) never finds none. */
#define ID_BLOCK 1024
#define TOKEN_TTL_S 86400
#define LIST_MAX 50
#define ITEM_MAX 64

/* KEYS: name, my names set; ARGV: me. 1 claimed, 0 held elsewhere. */
static const char LUA_NAME_CLAIM[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and v ~= ARGV[1] then return 0 end "
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "redis.call('SADD', KEYS[2], KEYS[1]) return 1";
/* KEYS: name, my names set; ARGV: me. */
static const char LUA_NAME_FREE[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "redis.call('DEL', KEYS[1]) end "
    "redis.call('SREM', KEYS[2], KEYS[1]) return 1";
/* KEYS: my lease, the node set; ARGV: incarnation, lease ms, me.
 * 1 renewed, 2 made afresh (it had expired), 0 another incarnation's. */
static const char LUA_LEASE[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and v ~= ARGV[1] then return 0 end "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "redis.call('SADD', KEYS[2], ARGV[3]) "
    "if v then return 1 end return 2";
/* KEYS: the node set. The ids in it whose lease is gone. */
static const char LUA_DEAD[] =
    "local dead = {} "
    "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
    "if redis.call('EXISTS', 'tavolo:node:' .. id) == 0 then "
    "table.insert(dead, id) end end return dead";
/* KEYS: the node set; ARGV: the dead node. Frees the names it held and
 * returns the matches it owned; forgets it once it owns none. */
static const char LUA_REAP[] =
    "local d = ARGV[1] "
    "if redis.call('EXISTS', 'tavolo:node:' .. d) == 1 then return {} end "
    "local nk = 'tavolo:node:' .. d .. ':names' "
    "for _, k in ipairs(redis.call('SMEMBERS', nk)) do "
    "if redis.call('GET', k) == d then redis.call('DEL', k) end end "
    "redis.call('DEL', nk) "
    "local ms = redis.call('SMEMBERS', 'tavolo:node:' .. d .. ':matches') "
    "if #ms == 0 then redis.call('SREM', KEYS[1], d) end return ms";
/* KEYS: owner, epoch, dead's lease, dead's matches, my matches;
 * ARGV: dead, me, id. The new epoch, or 0 if another node won. */
static const char LUA_CLAIM[] =
    "if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end "
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then "
    "redis.call('SREM', KEYS[4], ARGV[3]) return 0 end "
    "redis.call('SET', KEYS[1], ARGV[2]) "
    "redis.call('SREM', KEYS[4], ARGV[3]) "
    "redis.call('SADD', KEYS[5], ARGV[3]) "
    "return redis.call('INCR', KEYS[2])";
/* KEYS: owner, epoch, my matches; ARGV: me, id. The new epoch. */
static const char LUA_OWN[] =
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "redis.call('SADD', KEYS[3], ARGV[2]) "
    "return redis.call('INCR', KEYS[2])";
/* KEYS: owner, epoch, my matches, directory; ARGV: me, id. */
static const char LUA_DISOWN[] =
    "redis.call('SREM', KEYS[3], ARGV[2]) "
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "redis.call('DEL', KEYS[1]) "
    "local d = redis.call('HGET', KEYS[4], ARGV[2]) "
    "if d and string.sub(d, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then "
    "redis.call('HDEL', KEYS[4], ARGV[2]) end end return 1";
/* KEYS: the id counter, the store's highest id; ARGV: block. The last id
 * of a fresh block, above every id the store has seen. */
static const char LUA_IDS[] =
    "local m = tonumber(redis.call('GET', KEYS[2]) or '0') "
    "local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if c < m then redis.call('SET', KEYS[1], m) end "
    "return redis.call('INCRBY', KEYS[1], ARGV[1])";
/* KEYS: my lease, the node set, my matches, my names; ARGV: incarnation,
 * lease ms, me. Start-up: the lease is ours now; the names of a previous
 * process with this id are freed; its matches claimed back: {id, epoch}... */
static const char LUA_TAKE_BACK[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "redis.call('SADD', KEYS[2], ARGV[3]) "
    "for _, k in ipairs(redis.call('SMEMBERS', KEYS[4])) do "
    "if redis.call('GET', k) == ARGV[3] then redis.call('DEL', k) end end "
    "redis.call('DEL', KEYS[4]) "
    "local out = {} "
    "for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do "
    "if redis.call('GET', 'tavolo:match:{' .. id .. '}:owner') == ARGV[3] then "
    "table.insert(out, id) "
    "table.insert(out, redis.call('INCR', 'tavolo:match:{' .. id .. '}:epoch')) "
    "else redis.call('SREM', KEYS[3], id) end end return out";
/* KEYS: the quick-play node; ARGV: me, lease ms, may I take it (1/0).
 * The holder after this step. */
static const char LUA_QUICK[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == ARGV[1] and ARGV[3] == '0' then redis.call('DEL', KEYS[1]) "
    "return '' end "
    "if (not v and ARGV[3] == '1') or v == ARGV[1] then "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return ARGV[1] end "
    "return v or ''";
/* KEYS: token; ARGV: me. */
static const char LUA_CAD[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "redis.call('DEL', KEYS[1]) end return 1";

/* Lines for one node, and the sequence of the messages sent to it: each
 * message says "<from> <incarnation> <seq>" first, so the receiver sees a
 * message lost (Redis restarting, the receiver not subscribed yet) as a
 * gap. A PUBLISH that reached no one marks the queue lost, and an empty
 * message follows at the next lease tick, so the gap is seen soon. */
struct outq {
    char node[CLUSTER_NODE_MAX];
    char *buf;
    size_t len, cap;
    struct outq *next_dirty;
    bool is_dirty, is_lost, has_warned;
    uint64_t seq;
    struct cluster *c;
};

/* The last message seen from one node (by its incarnation). */
struct inseq {
    char node[CLUSTER_NODE_MAX];
    char incarnation[33];
    uint64_t seq;
};

struct owned {
    char key[24];        /* "<id>": the map's key */
    uint64_t id, epoch;
    bool is_owned;       /* OWN sent (or adopted) */
};

struct dead_node {
    char id[CLUSTER_NODE_MAX];
};

/* A relay message kept while the node is held (an upgrade's capture). */
struct kept {
    struct kept *next;
    size_t len;
    char data[];
};

/* The new process's own subscription during an upgrade (cluster.h). */
struct cluster_bridge {
    redisContext *rc;
};

#define MARKER_MS 5 /* markers to this node's channel while bridged */

struct cluster {
    uv_loop_t *loop;
    struct cluster_config cfg;
    struct cluster_ops ops;
    char id[CLUSTER_NODE_MAX];
    char incarnation[33];
    char key_lease[80], key_names[96], key_matches[96], channel[80];
    struct redis_link *cmd, *sub;
    uv_timer_t lease_timer;
    uv_prepare_t prepare;
    uv_check_t check;
    unsigned n_handles;
    bool is_closing;
    /* lease */
    uint64_t lease_ok_until_us; /* sent time of the last confirmed renewal + lease */
    uint64_t lease_sent_us;
    bool is_lease_pending, has_had_lease;
    /* peers */
    struct strmap dead;         /* node id -> dead_node, once told */
    struct strmap peers;        /* node id -> dead_node: tavolo:nodes as last read */
    unsigned n_peers;
    /* relay */
    struct strmap outqs;        /* node -> outq */
    struct strmap inseqs;       /* node -> inseq */
    struct outq *dirty;
    /* ids */
    uint64_t next_id, last_id;  /* the block at hand: next_id..last_id */
    uint64_t spare_next, spare_last; /* the block fetched ahead (0: none) */
    bool is_fetching_ids;
    /* matches this node owns */
    struct strmap owned;        /* "<id>" -> owned */
    size_t n_owned;
    char quick_node[CLUSTER_NODE_MAX]; /* as last seen */
    bool is_draining;
    /* the upgrade (cluster.h) */
    bool is_held, keeps_lease;
    struct kept *kept, *kept_tail;
    struct cluster_bridge *bridge;
    uv_timer_t marker_timer;
    uint64_t marker_nonce;
    uint64_t hello_marker;     /* the last new process's marker seen */
    struct cluster_stats stats;
};

static uint64_t now_us(void)
{
    return uv_hrtime() / 1000;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CLUSTER_NODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* EVAL script with keys and args (all C strings). */
static void eval(struct cluster *c, const char *script, int n_keys,
                 const char **keys, int n_args, const char **args,
                 redis_reply_fn fn, void *ctx)
{
    const char *argv[16];
    size_t lens[16];
    char nk[8];
    int n = 0;

    snprintf(nk, sizeof nk, "%d", n_keys);
    argv[n++] = "EVAL";
    argv[n++] = script;
    argv[n++] = nk;
    for (int i = 0; i < n_keys && n < 16; i++)
        argv[n++] = keys[i];
    for (int i = 0; i < n_args && n < 16; i++)
        argv[n++] = args[i];
    for (int i = 0; i < n; i++)
        lens[i] = strlen(argv[i]);
    redis_link_cmdv(c->cmd, n, argv, lens, fn, ctx);
}

/* ---------- relay ---------- */

static void on_published(void *ctx, redisReply *r)
{
    struct outq *q = ctx;

    if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < 1) {
        if (!q->has_warned)
            log_warn("cluster: a relay message to node %s reached no one; "
                     "it will see the gap", q->node);
        q->is_lost = q->has_warned = true;
    } else {
        q->has_warned = false;
    }
}

static void publish(struct cluster *c, struct outq *q)
{
    char channel[96], head[96];
    int hn = snprintf(head, sizeof head, "%s %s %" PRIu64 "\n", c->id,
                      c->incarnation, ++q->seq);
    char *msg = mem_alloc((size_t)hn + q->len);

    snprintf(channel, sizeof channel, "tavolo:relay:%s", q->node);
    memcpy(msg, head, (size_t)hn);
    if (q->len > 0)
        memcpy(msg + hn, q->buf, q->len);
    const char *argv[3] = {"PUBLISH", channel, msg};
    size_t lens[3] = {7, strlen(channel), (size_t)hn + q->len};
    redis_link_cmdv(c->cmd, 3, argv, lens, on_published, q);
    free(msg);
    c->stats.n_relayed_out++;
    q->len = 0;
}

static void flush_relay(struct cluster *c)
{
    if (c->is_held)
        return; /* an upgrade's capture: nothing more leaves this process */
    while (c->dirty != NULL) {
        struct outq *q = c->dirty;
        c->dirty = q->next_dirty;
        q->next_dirty = NULL;
        q->is_dirty = false;
        if (q->len > 0)
            publish(c, q);
    }
}

/* A lease tick: an empty message to every node a message was lost to. */
static void resend_lost(struct cluster *c)
{
    for (size_t i = 0; i < c->outqs.n_slots; i++) {
        struct outq *q = strmap_slot_value(&c->outqs, i);
        if (q != NULL && q->is_lost && cluster_peer_is_alive(c, q->node)) {
            q->is_lost = false;
            publish(c, q);
        }
    }
}

static void on_prepare(uv_prepare_t *h)
{
    flush_relay(h->data);
}

static void on_check(uv_check_t *h)
{
    flush_relay(h->data);
}

static struct outq *outq_get(struct cluster *c, const char *node)
{
    struct outq *q = strmap_get(&c->outqs, node, strlen(node));

    if (q == NULL) {
        q = mem_calloc(1, sizeof *q);
        snprintf(q->node, sizeof q->node, "%s", node);
        q->c = c;
        q->cap = 4096;
        q->buf = mem_alloc(q->cap);
        strmap_put(&c->outqs, q->node, q);
    }
    return q;
}

void cluster_send(struct cluster *c, const char *node, const char *line,
                  size_t len)
{
    struct outq *q = outq_get(c, node);

    while (q->len + len + 1 > q->cap) {
        q->cap *= 2;
        q->buf = mem_realloc(q->buf, q->cap);
    }
    memcpy(q->buf + q->len, line, len);
    q->len += len;
    q->buf[q->len++] = '\n';
    c->stats.n_relay_lines_out++;
    if (!q->is_dirty) {
        q->is_dirty = true;
        q->next_dirty = c->dirty;
        c->dirty = q;
    }
}

/* One relay message, delivered in order: a gap is reported, a message
 * at or below the last one delivered from its sender (the same
 * incarnation) is a duplicate — only an upgrade's bridge gives those —
 * and is dropped. */
static bool deliver(struct cluster *c, const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    char head[CLUSTER_NODE_MAX + 64], from[CLUSTER_NODE_MAX], inc[33];
    unsigned long long seq;

    if (nl == NULL || (size_t)(nl - data) >= sizeof head)
        return false;
    memcpy(head, data, (size_t)(nl - data));
    head[nl - data] = '\0';
    if (sscanf(head, "%39s %32s %llu", from, inc, &seq) != 3)
        return false;
    if (from[0] == '~')
        return false; /* an upgrade's marker, not a node's message */
    struct inseq *in = strmap_get(&c->inseqs, from, strlen(from));
    if (in == NULL) {
        in = mem_calloc(1, sizeof *in);
        snprintf(in->node, sizeof in->node, "%s", from);
        strmap_put(&c->inseqs, in->node, in);
    }
    if (strcmp(in->incarnation, inc) == 0 && seq <= in->seq)
        return false; /* delivered already (by the process this one replaced) */
    c->stats.n_relayed_in++;
    bool is_gap = strcmp(in->incarnation, inc) == 0 ? seq != in->seq + 1
                                                    : seq != 1;
    if (in->incarnation[0] == '\0' && seq != 1)
        is_gap = true; /* this node came up after that one sent to it */
    snprintf(in->incarnation, sizeof in->incarnation, "%s", inc);
    in->seq = seq;
    if (is_gap) {
        c->stats.n_relay_gaps++;
        log_warn("cluster: relay messages from node %s were lost (Redis "
                 "restarting?): the sessions shared with it start over",
                 from);
        if (c->ops.on_relay_gap)
            c->ops.on_relay_gap(c->ops.ctx, from);
        return true; /* its lines belong to the exchange that broke */
    }
    if (c->ops.on_message && nl + 1 < data + len)
        c->ops.on_message(c->ops.ctx, from, nl + 1,
                          len - (size_t)(nl + 1 - data));
    return true;
}

/* A marker "~ <nonce> <kind>" (kind 0: the bridge's, 1: a new process's
 * HELLO, its nonce the pid): its nonce, or 0 if data is not one. */
static uint64_t marker_of(const char *data, size_t len, int *kind)
{
    char head[64];
    unsigned long long nonce, k;
    const char *nl = memchr(data, '\n', len);

    if (len < 2 || data[0] != '~' || data[1] != ' ' || nl == NULL ||
        (size_t)(nl - data) >= sizeof head)
        return 0;
    memcpy(head, data, (size_t)(nl - data));
    head[nl - data] = '\0';
    if (sscanf(head, "~ %llu %llu", &nonce, &k) != 2 || k > 1)
        return 0;
    *kind = (int)k;
    return nonce;
}

static void bridge_free(struct cluster_bridge *b)
{
    if (b == NULL)
        return;
    redisFree(b->rc);
    free(b);
}

/* The subscriber link saw marker nonce: everything before it comes from
 * the bridge (read up to the same marker), the rest from the link. */
static void finish_bridge(struct cluster *c, uint64_t nonce)
{
    struct cluster_bridge *b = c->bridge;
    unsigned n = 0, n_dup = 0;
    bool is_found = false;

    c->bridge = NULL;
    uv_timer_stop(&c->marker_timer);
    while (!is_found) {
        redisReply *r = NULL;
        if (redisGetReply(b->rc, (void **)&r) != REDIS_OK || r == NULL) {
            log_warn("cluster: the upgrade's relay bridge failed after %u "
                     "messages (%s): a message lost now shows as a gap",
                     n, b->rc->errstr);
            break;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[0]->type == REDIS_REPLY_STRING &&
            strcmp(r->element[0]->str, "message") == 0 &&
            r->element[2]->type == REDIS_REPLY_STRING) {
            const char *d = r->element[2]->str;
            size_t len = r->element[2]->len;
            int kind = 0;
            uint64_t m = marker_of(d, len, &kind);
            if (m == nonce && kind == 0)
                is_found = true;
            else if (m == 0 && deliver(c, d, len))
                n++;
            else if (m == 0)
                n_dup++;
        }
        freeReplyObject(r);
    }
    bridge_free(b);
    log_info("cluster: relay taken over from the upgrade's bridge: %u "
             "messages delivered from it, %u dropped as delivered already",
             n, n_dup);
}

static void on_relay_message(void *ctx, const char *data, size_t len)
{
    struct cluster *c = ctx;

    int kind = 0;
    uint64_t nonce = marker_of(data, len, &kind);
    if (nonce != 0 && kind == 1) {
        /* a new process is subscribed: everything before this was
         * delivered here, or is kept (an upgrade's capture) */
        c->hello_marker = nonce;
        return;
    }
    if (c->bridge != NULL) {
        /* Until a marker: the bridge has this message too, earlier. */
        if (nonce != 0)
            finish_bridge(c, nonce);
        return;
    }
    if (c->is_held) {
        struct kept *k = mem_alloc(sizeof *k + len);
        k->next = NULL;
        k->len = len;
        memcpy(k->data, data, len);
        if (c->kept_tail)
            c->kept_tail->next = k;
        else
            c->kept = k;
        c->kept_tail = k;
        return;
    }
    deliver(c, data, len);
}

bool cluster_peer_is_alive(const struct cluster *c, const char *node)
{
    return strmap_get((struct strmap *)&c->dead, node, strlen(node)) == NULL;
}

/* ---------- ids ---------- */

static void on_ids(void *ctx, redisReply *r)
{
    struct cluster *c = ctx;

    c->is_fetching_ids = false;
    if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < ID_BLOCK)
        return;
    uint64_t last = (uint64_t)r->integer;
    if (c->next_id == 0 || c->next_id > c->last_id) {
        c->last_id = last;
        c->next_id = last - ID_BLOCK + 1;
    } else {
        c->spare_last = last;
        c->spare_next = last - ID_BLOCK + 1;
    }
}

static void fetch_ids(struct cluster *c)
{
    if (c->is_fetching_ids || c->is_closing)
        return;
    c->is_fetching_ids = true;
    char block[8];
    snprintf(block, sizeof block, "%d", ID_BLOCK);
    const char *keys[2] = {"tavolo:match-next", "tavolo:match-id"};
    const char *args[1] = {block};
    eval(c, LUA_IDS, 2, keys, 1, args, on_ids, c);
}

/* The spare block becomes the current one when that is used up. */
static void use_spare(struct cluster *c)
{
    if ((c->next_id == 0 || c->next_id > c->last_id) && c->spare_next != 0) {
        c->next_id = c->spare_next;
        c->last_id = c->spare_last;
        c->spare_next = c->spare_last = 0;
    }
}

uint64_t cluster_take_id(struct cluster *c)
{
    use_spare(c);
    if (c->next_id == 0 || c->next_id > c->last_id) {
        c->next_id = c->last_id = 0;
        fetch_ids(c);
        return 0;
    }
    uint64_t id = c->next_id++;
    if (c->spare_next == 0)
        fetch_ids(c); /* the next block, before it is needed */
    return id;
}

bool cluster_has_id(struct cluster *c)
{
    use_spare(c);
    if (c->next_id != 0 && c->next_id <= c->last_id)
        return true;
    fetch_ids(c);
    return false;
}

/* ---------- matches ---------- */

static void match_keys(uint64_t id, char owner[64], char epoch[64])
{
    snprintf(owner, 64, "tavolo:match:{%" PRIu64 "}:owner", id);
    snprintf(epoch, 64, "tavolo:match:{%" PRIu64 "}:epoch", id);
}

struct own_req {
    struct cluster *c;
    uint64_t id;
};

static void on_own(void *ctx, redisReply *r)
{
    struct own_req *q = ctx;
    struct cluster *c = q->c;
    char key[24];
    int n = snprintf(key, sizeof key, "%" PRIu64, q->id);

    if (c != NULL && r != NULL && r->type == REDIS_REPLY_INTEGER) {
        struct owned *o = strmap_get(&c->owned, key, (size_t)n);
        if (o != NULL)
            o->epoch = (uint64_t)r->integer;
    }
    free(q);
}

struct done_req {
    cluster_rc_fn fn;
    void *ctx;
};

static void on_done(void *ctx, redisReply *r)
{
    struct done_req *q = ctx;
    q->fn(q->ctx, r != NULL && r->type != REDIS_REPLY_ERROR ? 0 : -1);
    free(q);
}

static struct done_req *done_req(cluster_rc_fn fn, void *ctx)
{
    struct done_req *q = mem_calloc(1, sizeof *q);
    q->fn = fn;
    q->ctx = ctx;
    return q;
}

void cluster_match_listed(struct cluster *c, uint64_t id, const char *item,
                          cluster_rc_fn done, void *done_ctx)
{
    char key[24], owner[64], epoch[64], idtxt[24];
    int n = snprintf(key, sizeof key, "%" PRIu64, id);
    struct owned *o = strmap_get(&c->owned, key, (size_t)n);

    snprintf(idtxt, sizeof idtxt, "%" PRIu64, id);
    match_keys(id, owner, epoch);
    if (item == NULL) {
        if (o == NULL) {
            if (done)
                done(done_ctx, 0);
            return;
        }
        strmap_del(&c->owned, key, (size_t)n);
        free(o);
        c->n_owned--;
        const char *keys[4] = {owner, epoch, c->key_matches, "tavolo:matches"};
        const char *args[2] = {c->id, idtxt};
        eval(c, LUA_DISOWN, 4, keys, 2, args, done ? on_done : NULL,
             done ? done_req(done, done_ctx) : NULL);
        return;
    }
    if (o == NULL) {
        o = mem_calloc(1, sizeof *o);
        o->id = id;
        memcpy(o->key, key, (size_t)n + 1);
        strmap_put(&c->owned, o->key, o);
        c->n_owned++;
    }
    if (!o->is_owned) {
        o->is_owned = true;
        struct own_req *q = mem_calloc(1, sizeof *q);
        q->c = c;
        q->id = id;
        const char *keys[3] = {owner, epoch, c->key_matches};
        const char *args[2] = {c->id, idtxt};
        eval(c, LUA_OWN, 3, keys, 2, args, on_own, q);
    }
    char value[CLUSTER_NODE_MAX + ITEM_MAX + 2];
    snprintf(value, sizeof value, "%s %s", c->id, item);
    redis_link_cmd(c->cmd, done ? on_done : NULL,
                   done ? done_req(done, done_ctx) : NULL,
                   "HSET tavolo:matches %s %s", idtxt, value);
}

uint64_t cluster_match_epoch(const struct cluster *c, uint64_t id)
{
    char key[24];
    int n = snprintf(key, sizeof key, "%" PRIu64, id);
    struct owned *o = strmap_get((struct strmap *)&c->owned, key, (size_t)n);
    return o ? o->epoch : 0;
}

void cluster_match_adopted(struct cluster *c, uint64_t id, uint64_t epoch,
                           bool is_running)
{
    char key[24], idtxt[24];
    int n = snprintf(key, sizeof key, "%" PRIu64, id);

    snprintf(idtxt, sizeof idtxt, "%" PRIu64, id);
    if (!is_running) {
        char owner[64], ep[64];
        match_keys(id, owner, ep);
        const char *keys[4] = {owner, ep, c->key_matches, "tavolo:matches"};
        const char *args[2] = {c->id, idtxt};
        eval(c, LUA_DISOWN, 4, keys, 2, args, NULL, NULL);
        redis_link_cmd(c->cmd, NULL, NULL, "HDEL tavolo:matches %s", idtxt);
        return;
    }
    struct owned *o = strmap_get(&c->owned, key, (size_t)n);
    if (o == NULL) {
        o = mem_calloc(1, sizeof *o);
        o->id = id;
        memcpy(o->key, key, (size_t)n + 1);
        strmap_put(&c->owned, o->key, o);
        c->n_owned++;
    }
    o->epoch = epoch;
    o->is_owned = true;
}

struct find_req {
    cluster_node_fn fn;
    void *ctx;
    bool is_directory;
};

static void on_found(void *ctx, redisReply *r)
{
    struct find_req *q = ctx;
    char node[CLUSTER_NODE_MAX];

    if (r == NULL || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
        q->fn(q->ctx, -1, NULL);
    } else if (r->type == REDIS_REPLY_NIL) {
        q->fn(q->ctx, 0, NULL);
    } else {
        size_t n = q->is_directory ? strcspn(r->str, " ") : r->len;
        if (n >= sizeof node)
            n = sizeof node - 1;
        memcpy(node, r->str, n);
        node[n] = '\0';
        q->fn(q->ctx, 0, node);
    }
    free(q);
}

void cluster_match_owner(struct cluster *c, uint64_t id, cluster_node_fn fn,
                         void *ctx)
{
    struct find_req *q = mem_calloc(1, sizeof *q);
    q->fn = fn;
    q->ctx = ctx;
    q->is_directory = true;
    redis_link_cmd(c->cmd, on_found, q, "HGET tavolo:matches %" PRIu64, id);
}

struct list_item {
    uint64_t id;
    unsigned seated;
    bool is_waiting;
    char text[ITEM_MAX];
};

static int cmp_items(const void *a, const void *b)
{
    const struct list_item *x = a, *y = b;
    if (x->is_waiting != y->is_waiting)
        return x->is_waiting ? -1 : 1;
    if (x->is_waiting && x->seated != y->seated)
        return x->seated > y->seated ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id ? 1 : 0;
}

struct list_req {
    cluster_text_fn fn;
    void *ctx;
};

/* PROTOCOL §3 and docs/PROTOCOL.md §10: waiting matches first, the most
 * seated first, then the newest; then those in play, newest first. */
static void on_list(void *ctx, redisReply *r)
{
    struct list_req *q = ctx;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        q->fn(q->ctx, NULL);
        free(q);
        return;
    }
    size_t n_items = r->elements / 2, n = 0;
    struct list_item *items = mem_calloc(n_items + 1, sizeof *items);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        redisReply *v = r->element[i + 1];
        if (v->type != REDIS_REPLY_STRING)
            continue;
        const char *sp = strchr(v->str, ' ');
        if (sp == NULL || strlen(sp + 1) >= ITEM_MAX)
            continue;
        struct list_item *it = &items[n];
        unsigned s = 0, seats = 0;
        char game[24], state[16];
        if (sscanf(sp + 1, "%" SCNu64 ":%23[^:]:%u/%u:%15s", &it->id, game,
                   &s, &seats, state) != 5)
            continue;
        it->seated = s;
        it->is_waiting = strcmp(state, "waiting") == 0;
        snprintf(it->text, sizeof it->text, "%s", sp + 1);
        n++;
    }
    qsort(items, n, sizeof *items, cmp_items);
    char out[LIST_MAX * ITEM_MAX + 16];
    size_t len = 0, count = n < LIST_MAX ? n : LIST_MAX;
    len += (size_t)snprintf(out, sizeof out, "%zu", count);
    for (size_t i = 0; i < count && len < sizeof out; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, " %s",
                                items[i].text);
    q->fn(q->ctx, out);
    free(items);
    free(q);
}

void cluster_list(struct cluster *c, cluster_text_fn fn, void *ctx)
{
    struct list_req *q = mem_calloc(1, sizeof *q);
    q->fn = fn;
    q->ctx = ctx;
    redis_link_cmd(c->cmd, on_list, q, "HGETALL tavolo:matches");
}

/* ---------- names and tokens ---------- */

struct rc_req {
    cluster_rc_fn fn;
    void *ctx;
};

static void on_name_claim(void *ctx, redisReply *r)
{
    struct rc_req *q = ctx;
    int rc = r == NULL || r->type != REDIS_REPLY_INTEGER ? -1
             : r->integer == 1                           ? 0
                                                         : 1;
    q->fn(q->ctx, rc);
    free(q);
}

void cluster_name_claim(struct cluster *c, const char *name, cluster_rc_fn fn,
                        void *ctx)
{
    struct rc_req *q = mem_calloc(1, sizeof *q);
    char key[64];
    snprintf(key, sizeof key, "tavolo:name:%s", name);
    q->fn = fn;
    q->ctx = ctx;
    const char *keys[2] = {key, c->key_names};
    const char *args[1] = {c->id};
    eval(c, LUA_NAME_CLAIM, 2, keys, 1, args, on_name_claim, q);
}

void cluster_name_find(struct cluster *c, const char *name, cluster_node_fn fn,
                       void *ctx)
{
    struct find_req *q = mem_calloc(1, sizeof *q);
    q->fn = fn;
    q->ctx = ctx;
    redis_link_cmd(c->cmd, on_found, q, "GET tavolo:name:%s", name);
}

void cluster_name_hold(struct cluster *c, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "tavolo:name:%s", name);
    redis_link_cmd(c->cmd, NULL, NULL, "SET %s %s", key, c->id);
    redis_link_cmd(c->cmd, NULL, NULL, "SADD %s %s", c->key_names, key);
}

void cluster_name_free(struct cluster *c, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "tavolo:name:%s", name);
    const char *keys[2] = {key, c->key_names};
    const char *args[1] = {c->id};
    eval(c, LUA_NAME_FREE, 2, keys, 1, args, NULL, NULL);
}

void cluster_token_set(struct cluster *c, const char *token)
{
    redis_link_cmd(c->cmd, NULL, NULL, "SET tavolo:token:%s %s EX %d", token,
                   c->id, TOKEN_TTL_S);
}

void cluster_token_free(struct cluster *c, const char *token)
{
    char key[64];
    snprintf(key, sizeof key, "tavolo:token:%s", token);
    const char *keys[1] = {key};
    const char *args[1] = {c->id};
    eval(c, LUA_CAD, 1, keys, 1, args, NULL, NULL);
}

void cluster_token_find(struct cluster *c, const char *token,
                        cluster_node_fn fn, void *ctx)
{
    struct find_req *q = mem_calloc(1, sizeof *q);
    q->fn = fn;
    q->ctx = ctx;
    redis_link_cmd(c->cmd, on_found, q, "GET tavolo:token:%s", token);
}

/* ---------- peers and failover ---------- */

struct claim_req {
    struct cluster *c;
    uint64_t id;
    char from[CLUSTER_NODE_MAX];
};

static void on_claim(void *ctx, redisReply *r)
{
    struct claim_req *q = ctx;
    struct cluster *c = q->c;

    if (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer > 0 &&
        !c->is_closing) {
        c->stats.n_claims++;
        log_info("cluster: claimed match %" PRIu64 " of dead node %s at "
                 "epoch %lld", q->id, q->from, r->integer);
        if (c->ops.on_claimed)
            c->ops.on_claimed(c->ops.ctx, q->id, (uint64_t)r->integer, q->from);
    }
    free(q);
}

struct reap_req {
    struct cluster *c;
    char node[CLUSTER_NODE_MAX];
};

static void on_reap(void *ctx, redisReply *r)
{
    struct reap_req *q = ctx;
    struct cluster *c = q->c;

    if (r != NULL && r->type == REDIS_REPLY_ARRAY && !c->is_closing) {
        char lease[96], dead_set[96];
        snprintf(lease, sizeof lease, "tavolo:node:%s", q->node);
        snprintf(dead_set, sizeof dead_set, "tavolo:node:%s:matches", q->node);
        for (size_t i = 0; i < r->elements; i++) {
            redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_STRING)
                continue;
            uint64_t id = strtoull(e->str, NULL, 10);
            char owner[64], epoch[64];
            match_keys(id, owner, epoch);
            struct claim_req *cq = mem_calloc(1, sizeof *cq);
            cq->c = c;
            cq->id = id;
            snprintf(cq->from, sizeof cq->from, "%s", q->node);
            const char *keys[5] = {owner, epoch, lease, dead_set,
                                   c->key_matches};
            const char *args[3] = {q->node, c->id, e->str};
            eval(c, LUA_CLAIM, 5, keys, 3, args, on_claim, cq);
        }
    }
    free(q);
}

static void free_map_values(struct strmap *m);

/* Node id is dead to this node from now on: told once (on_peer_dead). */
static void mark_dead(struct cluster *c, const char *id, size_t len)
{
    if (strmap_get(&c->dead, id, len) != NULL)
        return;
    struct dead_node *d = mem_calloc(1, sizeof *d);
    memcpy(d->id, id, len);
    d->id[len] = '\0';
    strmap_put(&c->dead, d->id, d);
    c->stats.n_peer_deaths++;
    log_warn("cluster: node %s lost its lease: its matches are "
             "claimed, its players come back with RESUME", d->id);
    if (c->ops.on_peer_dead)
        c->ops.on_peer_dead(c->ops.ctx, d->id);
}

static void on_dead(void *ctx, redisReply *r)
{
    struct cluster *c = ctx;
    unsigned n_alive = 0;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || c->is_closing)
        return;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || strcmp(e->str, c->id) == 0 ||
            e->len >= CLUSTER_NODE_MAX)
            continue;
        mark_dead(c, e->str, e->len);
        struct reap_req *q = mem_calloc(1, sizeof *q);
        q->c = c;
        snprintf(q->node, sizeof q->node, "%s", e->str);
        const char *keys[1] = {"tavolo:nodes"};
        const char *args[1] = {q->node};
        eval(c, LUA_REAP, 1, keys, 1, args, on_reap, q);
    }
    (void)n_alive;
    /* A node seen dead whose id holds a lease again came back: it is in
     * tavolo:nodes (as last read) and its lease is there. One that left
     * the set (reaped) stays dead here until it joins again. */
    for (size_t i = 0; i < c->dead.n_slots; i++) {
        struct dead_node *d = strmap_slot_value(&c->dead, i);
        bool is_dead = false;
        if (d == NULL || strmap_get(&c->peers, d->id, strlen(d->id)) == NULL)
            continue;
        for (size_t k = 0; k < r->elements && !is_dead; k++)
            is_dead = r->element[k]->type == REDIS_REPLY_STRING &&
                      strcmp(r->element[k]->str, d->id) == 0;
        if (!is_dead) {
            strmap_del(&c->dead, d->id, strlen(d->id));
            free(d);
            i = (size_t)-1; /* deletion shifts slots: walk again */
        }
    }
}

static void on_peers(void *ctx, redisReply *r)
{
    struct cluster *c = ctx;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return;
    unsigned n = 0;
    struct strmap now;
    strmap_init(&now);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || strcmp(e->str, c->id) == 0 ||
            e->len >= CLUSTER_NODE_MAX || strmap_get(&now, e->str, e->len))
            continue;
        struct dead_node *p = mem_calloc(1, sizeof *p);
        memcpy(p->id, e->str, e->len + 1);
        strmap_put(&now, p->id, p);
        n++;
    }
    c->n_peers = n;
    /* A peer that left the set without this node seeing its lease gone
     * was reaped by another node (it held no match) or left cleanly:
     * it is dead here too, so the sessions shared with it end (every
     * node must hear of a death, not only the first to reap it). */
    for (size_t i = 0; i < c->peers.n_slots; i++) {
        struct dead_node *p = strmap_slot_value(&c->peers, i);
        if (p != NULL && strmap_get(&now, p->id, strlen(p->id)) == NULL)
            mark_dead(c, p->id, strlen(p->id));
    }
    free_map_values(&c->peers);
    c->peers = now;
}

/* ---------- quick play ---------- */

static void on_quick(void *ctx, redisReply *r)
{
    struct cluster *c = ctx;
    if (r != NULL && r->type == REDIS_REPLY_STRING && r->len < CLUSTER_NODE_MAX)
        memcpy(c->quick_node, r->str, r->len + 1);
}

const char *cluster_quick_node(const struct cluster *c)
{
    return c->quick_node;
}

void cluster_set_draining(struct cluster *c)
{
    c->is_draining = true;
}

/* ---------- the lease ---------- */

static void on_lease(void *ctx, redisReply *r)
{
    struct cluster *c = ctx;

    c->is_lease_pending = false;
    if (c->is_closing)
        return;
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        log_debug("cluster: lease renewal failed");
        return;
    }
    if (r->integer == 0) {
        if (c->ops.on_lease_lost)
            c->ops.on_lease_lost(c->ops.ctx,
                                 "another process holds this node id's lease");
        return;
    }
    if (r->integer == 2 && c->has_had_lease && c->n_owned > 0) {
        if (c->ops.on_lease_lost)
            c->ops.on_lease_lost(c->ops.ctx, "the lease had expired: other "
                                 "nodes may have claimed this node's matches");
        return;
    }
    c->has_had_lease = true;
    c->lease_ok_until_us = c->lease_sent_us + (uint64_t)c->cfg.lease_ms * 1000
                           - (uint64_t)c->cfg.lease_ms * 100;
    if (c->is_held)
        return; /* an upgrade's capture: no claim, nothing published */
    resend_lost(c);
    /* The quick-play queue's node, kept with its holder's lease. */
    char ms[16];
    snprintf(ms, sizeof ms, "%u", c->cfg.lease_ms);
    const char *qkeys[1] = {"tavolo:quick-node"};
    const char *qargs[3] = {c->id, ms, c->is_draining ? "0" : "1"};
    eval(c, LUA_QUICK, 1, qkeys, 3, qargs, on_quick, c);
    /* With the lease held, look for peers that lost theirs. */
    const char *keys[1] = {"tavolo:nodes"};
    eval(c, LUA_DEAD, 1, keys, 0, NULL, on_dead, c);
    redis_link_cmd(c->cmd, on_peers, c, "SMEMBERS tavolo:nodes");
}

static void renew(struct cluster *c)
{
    char ms[16];

    if (c->is_lease_pending || !redis_link_is_up(c->cmd))
        return;
    snprintf(ms, sizeof ms, "%u", c->cfg.lease_ms);
    c->is_lease_pending = true;
    c->lease_sent_us = now_us();
    const char *keys[2] = {c->key_lease, "tavolo:nodes"};
    const char *args[3] = {c->incarnation, ms, c->id};
    eval(c, LUA_LEASE, 2, keys, 3, args, on_lease, c);
}

static void on_lease_timer(uv_timer_t *t)
{
    renew(t->data);
}

bool cluster_lease_ok(const struct cluster *c)
{
    return now_us() < c->lease_ok_until_us;
}

static void on_link_state(void *ctx, bool is_up)
{
    struct cluster *c = ctx;

    c->stats.is_up = is_up;
    if (is_up) {
        renew(c);
        if (c->next_id == 0)
            fetch_ids(c);
    }
    if (c->ops.on_state)
        c->ops.on_state(c->ops.ctx, is_up);
}

/* ---------- life ---------- */

struct cluster *cluster_new(uv_loop_t *loop, const struct cluster_config *cfg,
                            const struct cluster_ops *ops, char *err,
                            size_t err_cap)
{
    struct cluster *c = mem_calloc(1, sizeof *c);

    if (!valid_id(cfg->node_id)) {
        snprintf(err, err_cap, "--node-id: 1 to %d of A-Za-z0-9_-",
                 CLUSTER_NODE_MAX - 1);
        free(c);
        return NULL;
    }
    c->loop = loop;
    c->cfg = *cfg;
    c->ops = *ops;
    snprintf(c->id, sizeof c->id, "%s", cfg->node_id);
    rnd_hex(c->incarnation, 16);
    snprintf(c->key_lease, sizeof c->key_lease, "tavolo:node:%s", c->id);
    snprintf(c->key_names, sizeof c->key_names, "tavolo:node:%s:names", c->id);
    snprintf(c->key_matches, sizeof c->key_matches, "tavolo:node:%s:matches",
             c->id);
    snprintf(c->channel, sizeof c->channel, "tavolo:relay:%s", c->id);
    strmap_init(&c->dead);
    strmap_init(&c->peers);
    strmap_init(&c->outqs);
    strmap_init(&c->inseqs);
    strmap_init(&c->owned);
    c->cmd = redis_link_new(loop, cfg->redis, "commands", cfg->cmd_ms,
                            on_link_state, c, err, err_cap);
    if (c->cmd == NULL)
        goto fail;
    c->sub = redis_link_new(loop, cfg->redis, "relay", cfg->cmd_ms, NULL, c,
                            err, err_cap);
    if (c->sub == NULL)
        goto fail;
    redis_link_subscribe(c->sub, c->channel, on_relay_message);
    uv_timer_init(loop, &c->lease_timer);
    c->lease_timer.data = c;
    uv_timer_start(&c->lease_timer, on_lease_timer, cfg->lease_ms / 3,
                   cfg->lease_ms / 3);
    uv_prepare_init(loop, &c->prepare);
    c->prepare.data = c;
    uv_prepare_start(&c->prepare, on_prepare);
    uv_check_init(loop, &c->check);
    c->check.data = c;
    uv_check_start(&c->check, on_check);
    uv_unref((uv_handle_t *)&c->prepare);
    uv_unref((uv_handle_t *)&c->check);
    uv_timer_init(loop, &c->marker_timer);
    c->marker_timer.data = c;
    c->n_handles = 4;
    return c;
fail:
    redis_link_free(c->cmd);
    strmap_free(&c->dead);
    strmap_free(&c->peers);
    strmap_free(&c->outqs);
    strmap_free(&c->inseqs);
    strmap_free(&c->owned);
    free(c);
    return NULL;
}

/* A blocking connection to addr (HOST:PORT or a socket path) whose
 * connect and every reply wait at most ms; NULL if it cannot be made. */
static redisContext *connect_blocking(const char *addr, uint32_t ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    char host[256];
    int port = 0;

    if (addr[0] == '/') {
        snprintf(host, sizeof host, "%s", addr);
    } else {
        const char *colon = strrchr(addr, ':');
        if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
            return NULL;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
        port = atoi(colon + 1);
    }
    redisContext *rc = port ? redisConnectWithTimeout(host, port, tv)
                            : redisConnectUnixWithTimeout(host, tv);
    if (rc == NULL || rc->err) {
        redisFree(rc);
        return NULL;
    }
    redisSetTimeout(rc, tv);
    return rc;
}

int cluster_take_back(struct cluster *c,
                      void (*fn)(void *ctx, uint64_t id, uint64_t epoch),
                      void *ctx)
{
    char ms[16];
    const char *argv[] = {"EVAL", LUA_TAKE_BACK, "4", c->key_lease,
                          "tavolo:nodes", c->key_matches, c->key_names,
                          c->incarnation, ms, c->id};
    size_t lens[10];

    snprintf(ms, sizeof ms, "%u", c->cfg.lease_ms);
    redisContext *rc = connect_blocking(c->cfg.redis, c->cfg.cmd_ms);
    if (rc == NULL)
        return -1;
    for (int i = 0; i < 10; i++)
        lens[i] = strlen(argv[i]);
    uint64_t sent = now_us();
    redisReply *r = redisCommandArgv(rc, 10, argv, lens);
    int n = -1;
    if (r != NULL && r->type == REDIS_REPLY_ARRAY) {
        n = 0;
        c->has_had_lease = true;
        c->lease_ok_until_us = sent + (uint64_t)c->cfg.lease_ms * 900;
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            if (r->element[i]->type != REDIS_REPLY_STRING ||
                r->element[i + 1]->type != REDIS_REPLY_INTEGER)
                continue;
            uint64_t id = strtoull(r->element[i]->str, NULL, 10);
            c->stats.n_claims++;
            fn(ctx, id, (uint64_t)r->element[i + 1]->integer);
            n++;
        }
    }
    freeReplyObject(r);
    redisFree(rc);
    return n;
}

const char *cluster_node_id(const struct cluster *c)
{
    return c->id;
}

bool cluster_is_up(const struct cluster *c)
{
    return redis_link_is_up(c->cmd) && redis_link_is_up(c->sub);
}

void cluster_get_stats(const struct cluster *c, struct cluster_stats *out)
{
    struct redis_link_stats rs;

    *out = c->stats;
    redis_link_get_stats(c->cmd, &rs);
    out->is_up = rs.is_up;
    out->n_peers = c->n_peers;
    out->redis_last_us = rs.last_us;
    out->redis_max_us = rs.max_us;
    out->redis_mean_us = rs.n_timed ? rs.sum_us / rs.n_timed : 0;
    out->n_redis_commands = rs.n_commands;
    out->n_redis_failed = rs.n_failed;
    out->n_redis_timeouts = rs.n_timeouts;
    uint64_t sent = c->lease_ok_until_us
                        ? c->lease_ok_until_us - (uint64_t)c->cfg.lease_ms * 900
                        : 0;
    out->lease_age_ms = sent ? (now_us() - sent) / 1000 : 0;
}

static void free_map_values(struct strmap *m)
{
    /* the keys live in the values: collect first, then free */
    size_t n = 0;
    void **all = mem_calloc(m->n_slots + 1, sizeof *all);
    for (size_t i = 0; i < m->n_slots; i++)
        if ((all[n] = strmap_slot_value(m, i)) != NULL)
            n++;
    strmap_free(m);
    for (size_t i = 0; i < n; i++)
        free(all[i]);
    free(all);
}

static void on_closed(uv_handle_t *h)
{
    struct cluster *c = h->data;
    if (--c->n_handles == 0)
        free(c);
}

void cluster_free(struct cluster *c)
{
    if (c == NULL)
        return;
    flush_relay(c);
    c->is_closing = true;
    /* Peers take what is left at once rather than after the lease: the
     * lease goes now, if it is still this incarnation's (the loop does not
     * run again to send it on the async link). */
    const char *argv[5] = {"EVAL", LUA_CAD, "1", c->key_lease, c->incarnation};
    if (c->keeps_lease)
        log_debug("cluster: the lease stays (an upgrade's other process)");
    else if (redis_link_call_once(c->cfg.redis, 200, 5, argv) != 0)
        log_warn("cluster: could not give up the lease; peers take this "
                 "node's matches when it expires");
    while (c->kept != NULL) {
        struct kept *k = c->kept;
        c->kept = k->next;
        free(k);
    }
    bridge_free(c->bridge);
    c->bridge = NULL;
    redis_link_free(c->cmd);
    redis_link_free(c->sub);
    for (size_t i = 0; i < c->outqs.n_slots; i++) {
        struct outq *q = strmap_slot_value(&c->outqs, i);
        if (q != NULL)
            free(q->buf);
    }
    free_map_values(&c->outqs);
    free_map_values(&c->inseqs);
    free_map_values(&c->owned);
    free_map_values(&c->dead);
    free_map_values(&c->peers);
    uv_close((uv_handle_t *)&c->lease_timer, on_closed);
    uv_close((uv_handle_t *)&c->prepare, on_closed);
    uv_close((uv_handle_t *)&c->check, on_closed);
    uv_close((uv_handle_t *)&c->marker_timer, on_closed);
}

/* ---------- the upgrade (cluster.h) ---------- */

bool cluster_is_quiet(const struct cluster *c)
{
    /* an open bridge (the previous upgrade's) holds messages not
     * delivered yet: they would be lost to the next process */
    return c->dirty == NULL && c->bridge == NULL && c->kept == NULL &&
           redis_link_is_idle(c->cmd);
}

void cluster_hold(struct cluster *c)
{
    c->is_held = true;
}

void cluster_release(struct cluster *c)
{
    c->is_held = false;
    while (c->kept != NULL) {
        struct kept *k = c->kept;
        c->kept = k->next;
        if (c->kept == NULL)
            c->kept_tail = NULL;
        deliver(c, k->data, k->len);
        free(k);
    }
    flush_relay(c);
}

void cluster_handover_export(const struct cluster *c,
                             struct cluster_handover *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->incarnation, sizeof h->incarnation, "%s", c->incarnation);
    h->next_id = c->next_id;
    h->last_id = c->last_id;
    h->spare_next = c->spare_next;
    h->spare_last = c->spare_last;
    h->out = mem_calloc(c->outqs.n_slots + 1, sizeof *h->out);
    for (size_t i = 0; i < c->outqs.n_slots; i++) {
        struct outq *q = strmap_slot_value(&c->outqs, i);
        if (q == NULL || q->seq == 0)
            continue;
        struct cluster_seq *o = &h->out[h->n_out++];
        snprintf(o->node, sizeof o->node, "%s", q->node);
        o->seq = q->seq;
    }
    h->in = mem_calloc(c->inseqs.n_slots + 1, sizeof *h->in);
    for (size_t i = 0; i < c->inseqs.n_slots; i++) {
        struct inseq *in = strmap_slot_value(&c->inseqs, i);
        if (in == NULL || in->incarnation[0] == '\0')
            continue;
        struct cluster_seq *o = &h->in[h->n_in++];
        snprintf(o->node, sizeof o->node, "%s", in->node);
        snprintf(o->incarnation, sizeof o->incarnation, "%s", in->incarnation);
        o->seq = in->seq;
    }
    h->owned = mem_calloc(c->owned.n_slots + 1, sizeof *h->owned);
    for (size_t i = 0; i < c->owned.n_slots; i++) {
        struct owned *o = strmap_slot_value(&c->owned, i);
        if (o != NULL)
            h->owned[h->n_owned++] = (struct cluster_owned_match){
                o->id, o->epoch, o->is_owned};
    }
}

void cluster_handover_free(struct cluster_handover *h)
{
    free(h->out);
    free(h->in);
    free(h->owned);
    memset(h, 0, sizeof *h);
}

void cluster_free_for_successor(struct cluster *c)
{
    if (c == NULL)
        return;
    c->keeps_lease = true;
    cluster_free(c);
}

uint32_t cluster_lease_ms(const struct cluster *c)
{
    return c->cfg.lease_ms;
}

bool cluster_saw_marker(const struct cluster *c, uint64_t pid)
{
    return c->hello_marker == pid;
}

struct cluster_bridge *cluster_bridge_open(const char *redis,
                                           const char *node_id,
                                           uint64_t pid, uint32_t timeout_ms,
                                           char *err, size_t err_cap)
{
    char channel[96], marker[48];

    if (!valid_id(node_id)) {
        snprintf(err, err_cap, "not a node id: %s", node_id);
        return NULL;
    }
    redisContext *rc = connect_blocking(redis, timeout_ms);
    if (rc == NULL) {
        snprintf(err, err_cap, "cannot reach Redis at %s", redis);
        return NULL;
    }
    snprintf(channel, sizeof channel, "tavolo:relay:%s", node_id);
    redisReply *r = redisCommand(rc, "SUBSCRIBE %s", channel);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        snprintf(err, err_cap, "cannot subscribe to %s", channel);
        freeReplyObject(r);
        redisFree(rc);
        return NULL;
    }
    freeReplyObject(r);
    /* The marker the old process waits for before its capture: once it
     * has seen it, every message it has not delivered is in the bridge. */
    snprintf(marker, sizeof marker, "~ %" PRIu64 " 1\n", pid);
    redisContext *pc = connect_blocking(redis, timeout_ms);
    r = pc ? redisCommand(pc, "PUBLISH %s %s", channel, marker) : NULL;
    bool is_ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
    freeReplyObject(r);
    redisFree(pc);
    if (!is_ok) {
        snprintf(err, err_cap, "cannot publish to %s", channel);
        redisFree(rc);
        return NULL;
    }
    struct cluster_bridge *b = mem_calloc(1, sizeof *b);
    b->rc = rc;
    return b;
}

void cluster_bridge_close(struct cluster_bridge *b)
{
    bridge_free(b);
}

static void on_marker_timer(uv_timer_t *t)
{
    struct cluster *c = t->data;
    char head[48];

    if (c->bridge == NULL || !redis_link_is_up(c->cmd))
        return;
    int n = snprintf(head, sizeof head, "~ %" PRIu64 " 0\n", ++c->marker_nonce);
    const char *argv[3] = {"PUBLISH", c->channel, head};
    size_t lens[3] = {7, strlen(c->channel), (size_t)n};
    redis_link_cmdv(c->cmd, 3, argv, lens, NULL, NULL);
}

int cluster_handover_import(struct cluster *c, const struct cluster_handover *h,
                            struct cluster_bridge *bridge, const char **why)
{
    c->keeps_lease = true;
    c->bridge = bridge;
    snprintf(c->incarnation, sizeof c->incarnation, "%s", h->incarnation);
    c->next_id = h->next_id;
    c->last_id = h->last_id;
    c->spare_next = h->spare_next;
    c->spare_last = h->spare_last;
    for (size_t i = 0; i < h->n_out; i++) {
        /* an empty queue, numbered on from the old process's last */
        outq_get(c, h->out[i].node)->seq = h->out[i].seq;
    }
    for (size_t i = 0; i < h->n_in; i++) {
        struct inseq *in = mem_calloc(1, sizeof *in);
        snprintf(in->node, sizeof in->node, "%s", h->in[i].node);
        snprintf(in->incarnation, sizeof in->incarnation, "%s",
                 h->in[i].incarnation);
        in->seq = h->in[i].seq;
        if (strmap_get(&c->inseqs, in->node, strlen(in->node)) != NULL) {
            free(in);
            continue;
        }
        strmap_put(&c->inseqs, in->node, in);
    }
    for (size_t i = 0; i < h->n_owned; i++) {
        char key[24];
        int n = snprintf(key, sizeof key, "%" PRIu64, h->owned[i].id);
        if (strmap_get(&c->owned, key, (size_t)n) != NULL)
            continue;
        struct owned *o = mem_calloc(1, sizeof *o);
        o->id = h->owned[i].id;
        o->epoch = h->owned[i].epoch;
        o->is_owned = h->owned[i].is_owned;
        memcpy(o->key, key, (size_t)n + 1);
        strmap_put(&c->owned, o->key, o);
        c->n_owned++;
    }
    /* The lease, renewed now: still this incarnation's, not lapsed. */
    if (cluster_renew_now(c, why) != 0)
        return -1;
    uv_timer_start(&c->marker_timer, on_marker_timer, 0, MARKER_MS);
    *why = NULL;
    return 0;
}

int cluster_renew_now(struct cluster *c, const char **why)
{
    char ms[16];

    snprintf(ms, sizeof ms, "%u", c->cfg.lease_ms);
    redisContext *rc = connect_blocking(c->cfg.redis, c->cfg.cmd_ms);
    if (rc == NULL) {
        *why = "cannot reach Redis to renew the lease";
        return -1;
    }
    const char *argv[] = {"EVAL", LUA_LEASE, "2", c->key_lease, "tavolo:nodes",
                          c->incarnation, ms, c->id};
    size_t lens[8];
    for (int i = 0; i < 8; i++)
        lens[i] = strlen(argv[i]);
    uint64_t sent = now_us();
    redisReply *r = redisCommandArgv(rc, 8, argv, lens);
    long long v = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    redisFree(rc);
    if (v != 1) {
        *why = v == 0   ? "the lease is another process's"
               : v == 2 ? "the lease had lapsed during the hand-over"
                        : "the lease could not be renewed";
        return -1;
    }
    c->has_had_lease = true;
    c->lease_ok_until_us = sent + (uint64_t)c->cfg.lease_ms * 900;
    *why = NULL;
    return 0;
}

void cluster_handover_done(struct cluster *c)
{
    c->keeps_lease = false;
}

void cluster_each_owned(const struct cluster *c,
                        void (*fn)(void *ctx, uint64_t id, uint64_t epoch),
                        void *ctx)
{
    for (size_t i = 0; i < c->owned.n_slots; i++) {
        struct owned *o = strmap_slot_value(&c->owned, i);
        if (o != NULL)
            fn(ctx, o->id, o->epoch);
    }
}
