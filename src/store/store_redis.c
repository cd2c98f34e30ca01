/*
 * store_redis: the Redis backend of store.h (see store_redis.h, and
 * docs/CLUSTER.md, "Store on Redis", for the key layout).
 *
 * One writer thread owns a blocking hiredis connection and runs the jobs
 * in submission order; their done callbacks run on the loop thread, in
 * that order, as with SQLite. Consecutive journal jobs are sent as one
 * pipeline: one round trip for the group, one EVALSHA of the journal
 * script per op. The script, atomically per op:
 *   - drops a retry of an op it has already appended (each op carries
 *     the writer's id and a counter; the match's `last` key says how far
 *     the last writer got in this match): DUP, so that a reply lost with a
 *     connection never appends twice;
 *   - checks the fencing epoch (op->epoch != 0): FENCED, nothing written;
 *   - refuses an op whose predecessor in the same match (from this
 *     writer) is not there: GAP, so ops of a match land in order even
 *     when a pipeline is cut in the middle (NOSCRIPT, a dead connection);
 *   - appends the op to the match's stream; START also indexes the match
 *     as in play, END removes it and applies the records (ratings computed
 *     here in C with rating.c, exactly as store.c does, and compared and
 *     set in the script: RETRY if a rating moved since it was read).
 *
 * A journal op is done when Redis answered for it. Redis unreachable: a
 * job waits up to wait_ms (connecting again with back-off, 50 ms doubling
 * to 1 s, never a spin), then fails with STORE_UNAVAILABLE; its unsent
 * ops are kept, in order, and sent before any later op once Redis is back
 * (retried every back-off step meanwhile). While Redis has been down
 * longer than that, new jobs do not wait again: each gets one attempt
 * when one is due. Past STORE_BACKLOG_MAX kept ops the store is broken,
 * as store.c's.
 *
 * Not here: leases, claims (the INCR of the epoch key), routing: that is
 * src/cluster/.
 */
#include "store/store_redis.h"

#include <assert.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/rnd.h"
#include "base/strmap.h"
#include "store/rating.h"

#define K_PREFIX "tavolo:"
#define K_ACCOUNTS K_PREFIX "accounts"  /* hash: name -> argon2id hash */
#define K_NAMES K_PREFIX "names"        /* zset: every account, -1500 */
#define K_GAMES K_PREFIX "games"        /* set: games with a top zset */
#define K_PLAYING K_PREFIX "playing"    /* zset: ids of matches in play */
#define K_MATCH_ID K_PREFIX "match-id"  /* the highest match id used */
#define PIPE_MAX 256                    /* ops in one round trip */
#define ARGV_MAX 192
#define BACKOFF_MIN_US 50000
#define BACKOFF_MAX_US 1000000

/* The journal's script (docs/CLUSTER.md has it annotated). KEYS: log,
 * epoch, playing, match-id, names, games, last (this match's last
 * writer and counter); END adds top, the records of
 * its rated seats, the histories of its seats. ARGV: mode 'J', epoch,
 * writer, counter, prev (this writer's counter of the match's previous
 * op, 0: none), kind, id, nf, nf stream field/value items; END adds
 * game, nreg, nreg x (name, old rating or '', new, -new, won, lost,
 * drawn), nhist, nhist x member. Mode 'R' registers: KEYS accounts,
 * names, games; ARGV 'R', name, hash. */
static const char script[] =
    "if ARGV[1] == 'R' then\n"
    "  if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) == 0 then\n"
    "    return 'EXISTS'\n"
    "  end\n"
    "  redis.call('ZADD', KEYS[2], -1500, ARGV[2])\n"
    "  for _, g in ipairs(redis.call('SMEMBERS', KEYS[3])) do\n"
    "    redis.call('ZADD', 'tavolo:top:' .. g, 'NX', -1500, ARGV[2])\n"
    "  end\n"
    "  return 'OK'\n"
    "end\n"
    "local log, epoch, wid = KEYS[1], ARGV[2], ARGV[3]\n"
    "local c, prev = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local kind, id = ARGV[6], ARGV[7]\n"
    "local lastc = 0\n"
    "local last = redis.call('GET', KEYS[7])\n"
    "if last then\n"
    "  local sp = string.find(last, ' ', 1, true)\n"
    "  if sp and string.sub(last, 1, sp - 1) == wid then\n"
    "    lastc = tonumber(string.sub(last, sp + 1))\n"
    "  end\n"
    "end\n"
    "if lastc >= c then return 'DUP' end\n"
    "if epoch ~= '0' then\n"
    "  local cur = redis.call('GET', KEYS[2])\n"
    "  if cur ~= epoch then return 'FENCED ' .. (cur or '0') end\n"
    "end\n"
    "if lastc ~= prev then return 'GAP' end\n"
    "local nf = tonumber(ARGV[8])\n"
    "local fields = {'w', wid, 'c', ARGV[4], 'e', epoch, 'k', kind}\n"
    "for i = 9, 8 + nf do fields[#fields + 1] = ARGV[i] end\n"
    "local function append()\n"
    "  redis.call('XADD', log, '*', unpack(fields))\n"
    "  redis.call('SET', KEYS[7], wid .. ' ' .. ARGV[4])\n"
    "end\n"
    "if kind == 'start' then\n"
    "  append()\n"
    "  redis.call('ZADD', KEYS[3], id, id)\n"
    "  if tonumber(id) > tonumber(redis.call('GET', KEYS[4]) or '0') then\n"
    "    redis.call('SET', KEYS[4], id)\n"
    "  end\n"
    "  return 'OK'\n"
    "end\n"
    "if kind ~= 'end' then\n"
    "  append()\n"
    "  return 'OK'\n"
    "end\n"
    "if not redis.call('ZSCORE', KEYS[3], id) then return 'NOTPLAYING' end\n"
    "local p = 9 + nf\n"
    "local game, nreg = ARGV[p], tonumber(ARGV[p + 1])\n"
    "p = p + 2\n"
    "for i = 0, nreg - 1 do\n"
    "  local old = redis.call('HGET', KEYS[9 + i], game .. ':rating') or ''\n"
    "  if old ~= ARGV[p + i * 7 + 1] then return 'RETRY' end\n"
    "end\n"
    "append()\n"
    "redis.call('ZREM', KEYS[3], id)\n"
    "local top = KEYS[8]\n"
    "if redis.call('SADD', KEYS[6], game) == 1 then\n"
    "  redis.call('ZUNIONSTORE', top, 1, KEYS[5])\n"
    "end\n"
    "for i = 0, nreg - 1 do\n"
    "  local b, rk = p + i * 7, KEYS[9 + i]\n"
    "  redis.call('HSET', rk, game .. ':rating', ARGV[b + 2])\n"
    "  redis.call('HINCRBY', rk, game .. ':played', 1)\n"
    "  redis.call('HINCRBY', rk, game .. ':won', ARGV[b + 4])\n"
    "  redis.call('HINCRBY', rk, game .. ':lost', ARGV[b + 5])\n"
    "  redis.call('HINCRBY', rk, game .. ':drawn', ARGV[b + 6])\n"
    "  redis.call('ZADD', top, ARGV[b + 3], ARGV[b])\n"
    "end\n"
    "p = p + nreg * 7\n"
    "local nhist = tonumber(ARGV[p])\n"
    "for j = 1, nhist do\n"
    "  local hk = KEYS[8 + nreg + j]\n"
    "  redis.call('ZADD', hk, id, ARGV[p + j])\n"
    "  redis.call('ZREMRANGEBYRANK', hk, 0, -11)\n"
    "end\n"
    "return 'OK'\n";

/* A journal op on its way to Redis. The writer owns it (and its op)
 * from the moment it takes it from its job; job is NULL once the job
 * has been answered (the op then waits in the backlog). */
struct pend {
    struct pend *next;
    struct store_op *op;
    struct store_job *job;
    uint64_t n, prev;     /* this writer's counter, and the match's previous */
    bool is_done;
};

/* The counter of the last op assigned for a match (the chain's end). */
struct chain {
    char key[24];
    uint64_t n;
};

struct rstore {
    char host[256];
    int port;             /* 0: host is a unix socket path */
    char sha[41];
    char wid[17];         /* this writer's id, random per process */
    uint32_t wait_ms;
    enum store_durability durability;
    redisContext *reader; /* the caller's (startup readers) */
    /* The writer's own: */
    redisContext *c;
    uint64_t counter;
    struct strmap chains; /* match id -> struct chain */
    struct pend *pend, **pend_tail; /* ops not yet answered, in order */
    size_t n_pend;
    bool is_down;         /* a job waited wait_ms in vain; not since */
    uint64_t backoff_us, next_try_us, down_since_us, last_down_log_us;
    /* Shared, under lock: */
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct store_job *queue_head, *queue_tail;
    struct store_job *done_head, *done_tail;
    bool is_stopping;
    bool is_broken;
    char broken_why[256];
    struct store_metrics metrics;
    uv_async_t async;
    bool has_async;
    /* The loop's own: */
    bool is_broken_said;
    void (*on_broken)(void *ctx, const char *why);
    void *broken_ctx;
};

/* ---------- helpers ---------- */

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* An argument vector for redisCommandArgv; every value is a copy. */
struct argv {
    unsigned n;
    char *v[ARGV_MAX];
    size_t len[ARGV_MAX];
};

static void arg(struct argv *a, const char *s)
{
    assert(a->n < ARGV_MAX);
    a->len[a->n] = strlen(s);
    a->v[a->n++] = mem_strdup(s);
}

static void __attribute__((format(printf, 2, 3))) argf(struct argv *a,
                                                       const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    arg(a, buf);
}

static void args_free(struct argv *a)
{
    for (unsigned i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

static redisReply *command_argv(redisContext *c, struct argv *a)
{
    redisReply *r = redisCommandArgv(c, (int)a->n, (const char **)a->v, a->len);
    args_free(a);
    return r;
}

static bool is_str(const redisReply *r)
{
    return r != NULL && (r->type == REDIS_REPLY_STRING ||
                         r->type == REDIS_REPLY_STATUS);
}

/* The value of key in a flat field/value array (a stream entry). */
static const char *fget(const redisReply *f, const char *key)
{
    for (size_t i = 0; f != NULL && i + 1 < f->elements; i += 2)
        if (is_str(f->element[i]) && strcmp(f->element[i]->str, key) == 0)
            return is_str(f->element[i + 1]) ? f->element[i + 1]->str : NULL;
    return NULL;
}

static unsigned fget_u(const redisReply *f, const char *key)
{
    const char *v = fget(f, key);
    return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

/* A bounded copy: cut at cap, knowingly (every field has its bound). */
static void copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static void log_key(char *out, size_t cap, uint64_t id)
{
    snprintf(out, cap, K_PREFIX "match:{%" PRIu64 "}:log", id);
}

static void epoch_key(char *out, size_t cap, uint64_t id)
{
    snprintf(out, cap, K_PREFIX "match:{%" PRIu64 "}:epoch", id);
}

/* ---------- connections ---------- */

static int parse_addr(struct rstore *rs, const char *addr, char *err,
                      size_t err_cap)
{
    if (addr[0] == '/') {
        copy(rs->host, sizeof rs->host, addr);
        rs->port = 0;
        return 0;
    }
    const char *colon = strrchr(addr, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == addr || *end != '\0' || port <= 0 ||
        port > 65535 || (size_t)(colon - addr) >= sizeof rs->host) {
        snprintf(err, err_cap, "--redis: expected HOST:PORT or a socket path, "
                 "got '%s'", addr);
        return -1;
    }
    snprintf(rs->host, sizeof rs->host, "%.*s", (int)(colon - addr), addr);
    rs->port = (int)port;
    return 0;
}

/* A new connection, with connect and command timeouts of timeout_ms;
 * NULL with a reason in err. */
static redisContext *connect_to(const struct rstore *rs, uint32_t timeout_ms,
                                char *err, size_t err_cap)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = rs->port == 0 ? redisConnectUnixWithTimeout(rs->host, tv)
                                    : redisConnectWithTimeout(rs->host, rs->port, tv);
    if (c == NULL || c->err) {
        snprintf(err, err_cap, "cannot connect to Redis at %s%s%d: %s", rs->host,
                 rs->port ? ":" : "", rs->port, c ? c->errstr : "out of memory");
        if (rs->port == 0)
            snprintf(err, err_cap, "cannot connect to Redis at %s: %s", rs->host,
                     c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv); /* a command that takes longer breaks the link */
    if (rs->port != 0)
        redisEnableKeepAlive(c); /* best effort: finds a dead peer */
    return c;
}

/* SCRIPT LOAD on c; 0, or -1 with a reason in err. */
static int load_script(struct rstore *rs, redisContext *c, char *err,
                       size_t err_cap)
{
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", script);
    int rc = -1;
    if (r == NULL)
        snprintf(err, err_cap, "Redis: %s", c->errstr);
    else if (r->type != REDIS_REPLY_STRING || r->len != 40)
        snprintf(err, err_cap, "Redis refused the journal's script: %s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    else {
        memcpy(rs->sha, r->str, 40);
        rs->sha[40] = '\0';
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

/* The writer's connection, made again if it is broken, waiting for the
 * back-off's next step but never past deadline_us. false: not connected
 * (the back-off has grown; logged once per outage, then every 10 s). */
static bool ensure_conn(struct rstore *rs, uint64_t deadline_us)
{
    char err[256];

    for (;;) {
        if (rs->c != NULL && rs->c->err == 0)
            return true;
        if (rs->c != NULL) {
            log_warn("store: lost Redis at %s:%d: %s; connecting again",
                     rs->host, rs->port, rs->c->errstr);
            redisFree(rs->c);
            rs->c = NULL;
            if (rs->down_since_us == 0)
                rs->down_since_us = mono_us();
        }
        uint64_t now = mono_us();
        if (now < rs->next_try_us) {
            if (rs->next_try_us > deadline_us)
                return false;
            sleep_us(rs->next_try_us - now);
            now = mono_us();
        }
        uint64_t left_ms = deadline_us > now ? (deadline_us - now) / 1000 : 0;
        uint32_t timeout_ms = left_ms < 100 ? 100 : left_ms > 2000 ? 2000
                                                                  : (uint32_t)left_ms;
        rs->c = connect_to(rs, timeout_ms, err, sizeof err);
        if (rs->c != NULL && load_script(rs, rs->c, err, sizeof err) != 0) {
            redisFree(rs->c);
            rs->c = NULL;
        }
        if (rs->c != NULL) {
            if (rs->down_since_us != 0)
                log_info("store: Redis at %s:%d is back after %" PRIu64 " ms",
                         rs->host, rs->port, (mono_us() - rs->down_since_us) / 1000);
            struct timeval tv = {rs->wait_ms / 1000, (rs->wait_ms % 1000) * 1000};
            redisSetTimeout(rs->c, tv);
            rs->backoff_us = 0;
            rs->next_try_us = 0;
            rs->down_since_us = 0;
            rs->is_down = false;
            return true;
        }
        now = mono_us();
        if (rs->down_since_us == 0)
            rs->down_since_us = now;
        if (rs->last_down_log_us == 0 || now - rs->last_down_log_us > 10000000) {
            rs->last_down_log_us = now;
            log_error("store: %s; jobs wait up to %u ms, then fail (ERR "
                      "UNAVAILABLE); %zu journal entries wait", err, rs->wait_ms,
                      rs->n_pend);
        }
        rs->backoff_us = rs->backoff_us ? rs->backoff_us * 2 : BACKOFF_MIN_US;
        if (rs->backoff_us > BACKOFF_MAX_US)
            rs->backoff_us = BACKOFF_MAX_US;
        rs->next_try_us = now + rs->backoff_us;
        if (now >= deadline_us)
            return false;
    }
}

/* The deadline of a job taken now: wait_ms, or no wait at all while
 * Redis is known to be down (one attempt, if one is due). */
static uint64_t job_deadline(const struct rstore *rs)
{
    uint64_t now = mono_us();
    return rs->is_down ? now : now + (uint64_t)rs->wait_ms * 1000;
}

/* ---------- open ---------- */

struct rstore *rstore_open(const char *addr, char *err, size_t err_cap)
{
    struct rstore *rs = mem_calloc(1, sizeof *rs);

    if (parse_addr(rs, addr, err, err_cap) != 0)
        goto fail;
    rs->wait_ms = 5000;
    rs->reader = connect_to(rs, 2000, err, err_cap);
    if (rs->reader == NULL)
        goto fail;
    redisReply *r = redisCommand(rs->reader, "PING");
    bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
    if (!ok)
        snprintf(err, err_cap, "Redis at %s does not answer PING: %s", addr,
                 r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
                   : rs->reader->errstr);
    freeReplyObject(r);
    if (!ok || load_script(rs, rs->reader, err, err_cap) != 0)
        goto fail;
    rnd_hex(rs->wid, 8);
    strmap_init(&rs->chains);
    rs->pend_tail = &rs->pend;
    rs->durability = STORE_DURABLE_POWER;
    pthread_mutex_init(&rs->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rs->wake, &ca);
    pthread_condattr_destroy(&ca);
    return rs;

fail:
    redisFree(rs->reader);
    free(rs);
    return NULL;
}

void rstore_set_wait_ms(struct rstore *rs, uint32_t wait_ms)
{
    assert(!rs->has_thread);
    rs->wait_ms = wait_ms > 0 ? wait_ms : 1;
}

void rstore_on_broken(struct rstore *rs, void (*fn)(void *ctx, const char *why),
                      void *ctx)
{
    rs->on_broken = fn;
    rs->broken_ctx = ctx;
}

static bool config_is(redisContext *c, const char *name, const char *want,
                      char *got, size_t got_cap)
{
    redisReply *r = redisCommand(c, "CONFIG GET %s", name);
    bool has = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
               is_str(r->element[1]);
    copy(got, got_cap, has ? r->element[1]->str : "?");
    freeReplyObject(r);
    return has && strcmp(got, want) == 0;
}

/* The durability levels on Redis's AOF (docs/CLUSTER.md): power wants
 * appendfsync always (Redis fsyncs before it replies), process wants
 * everysec (written before the reply, so it survives Redis's death;
 * fsynced every second) or better. A mismatch is a warning, not a
 * refusal: the operator owns Redis's configuration, and CONFIG may be
 * disabled there. */
int rstore_set_durability(struct rstore *rs, enum store_durability level)
{
    char aof[32], fsync[32];

    rs->durability = level;
    bool is_aof = config_is(rs->reader, "appendonly", "yes", aof, sizeof aof);
    bool is_always = config_is(rs->reader, "appendfsync", "always", fsync,
                               sizeof fsync);
    const char *want = level == STORE_DURABLE_POWER ? "always" : "everysec";
    if (strcmp(aof, "?") == 0 || strcmp(fsync, "?") == 0)
        log_warn("store: cannot read Redis's appendonly/appendfsync (CONFIG "
                 "GET refused?): --durability %s needs appendonly yes and "
                 "appendfsync %s there", level == STORE_DURABLE_POWER ? "power"
                 : "process", want);
    else if (!is_aof)
        log_warn("store: Redis runs without its AOF (appendonly %s): what it "
                 "acknowledges dies with it; --durability %s needs appendonly "
                 "yes, appendfsync %s", aof, level == STORE_DURABLE_POWER ?
                 "power" : "process", want);
    else if (level == STORE_DURABLE_POWER && !is_always)
        log_warn("store: --durability power needs Redis's appendfsync always, "
                 "it has %s: a power cut may lose the last second", fsync);
    else if (level == STORE_DURABLE_PROCESS && !is_always &&
             strcmp(fsync, "everysec") != 0)
        log_warn("store: --durability process needs Redis's appendfsync "
                 "everysec (or always), it has %s", fsync);
    char policy[32];
    if (!config_is(rs->reader, "maxmemory-policy", "noeviction", policy,
                   sizeof policy) && strcmp(policy, "?") != 0)
        log_warn("store: Redis's maxmemory-policy is %s: at its maxmemory it "
                 "may evict a journal (a match lost); use noeviction", policy);
    return 0;
}

/* ---------- reading a match back ---------- */

void store_open_match_free(struct store_open_match *m)
{
    if (m == NULL)
        return;
    free(m->moves);
    free(m);
}

/* Applies one stream entry to m; false if it is not one of ours. */
static bool apply_entry(struct store_open_match *m, const redisReply *f)
{
    const char *k = fget(f, "k");
    char key[16];

    if (k == NULL)
        return false;
    if (strcmp(k, "start") == 0) {
        copy(m->game, sizeof m->game, fget(f, "game"));
        m->n_seats = fget_u(f, "n");
        if (m->n_seats > STORE_MAX_SEATS)
            m->n_seats = STORE_MAX_SEATS;
        copy(m->secret, sizeof m->secret, fget(f, "secret"));
        for (unsigned i = 0; i < m->n_seats; i++) {
            struct store_seat *s = &m->seats[i];
            snprintf(key, sizeof key, "name%u", i);
            copy(s->name, sizeof s->name, fget(f, key));
            snprintf(key, sizeof key, "token%u", i);
            copy(s->token, sizeof s->token, fget(f, key));
            snprintf(key, sizeof key, "seed%u", i);
            copy(s->seed, sizeof s->seed, fget(f, key));
            snprintf(key, sizeof key, "side%u", i);
            s->side = fget_u(f, key);
            snprintf(key, sizeof key, "reg%u", i);
            s->is_registered = fget_u(f, key) != 0;
            snprintf(key, sizeof key, "bot%u", i); /* absent: a person */
            s->bot = fget_u(f, key);
        }
    } else if (strcmp(k, "move") == 0) {
        if (m->n_moves % 64 == 0)
            m->moves = mem_realloc(m->moves, (m->n_moves + 64) * sizeof *m->moves);
        struct store_move *x = &m->moves[m->n_moves++];
        x->seat = fget_u(f, "seat");
        x->kind = fget_u(f, "mk");
        copy(x->cards, sizeof x->cards, fget(f, "cards"));
        x->is_timeout = fget_u(f, "to") != 0;
    } else if (strcmp(k, "token") == 0) {
        unsigned seat = fget_u(f, "seat");
        if (seat < STORE_MAX_SEATS)
            copy(m->seats[seat].token, sizeof m->seats[0].token, fget(f, "token"));
    } else if (strcmp(k, "replaced") == 0) {
        /* A bot took the seat (store.h): the name stays the player's. */
        unsigned seat = fget_u(f, "seat");
        if (seat < STORE_MAX_SEATS) {
            m->seats[seat].bot = fget_u(f, "bot");
            m->seats[seat].is_replaced = true;
            m->seats[seat].token[0] = '\0';
        }
    } else if (strcmp(k, "end") == 0) {
        m->is_over = true;
    } else {
        return false;
    }
    return true;
}

/* The journal of match id, read on c. STORE_OK with *out (the caller's),
 * STORE_NOTFOUND (no stream, or one without START first), or
 * STORE_UNAVAILABLE (c broke: c->err is set). */
static int load_match(redisContext *c, uint64_t id, struct store_open_match **out)
{
    char key[64], from[48] = "-";
    struct store_open_match *m = mem_calloc(1, sizeof *m);
    size_t n_entries = 0;
    int rc = STORE_OK;

    *out = NULL;
    m->id = id;
    epoch_key(key, sizeof key, id);
    redisReply *r = redisCommand(c, "GET %s", key);
    if (r == NULL) {
        store_open_match_free(m);
        return STORE_UNAVAILABLE;
    }
    if (is_str(r))
        m->epoch = strtoull(r->str, NULL, 10);
    freeReplyObject(r);
    log_key(key, sizeof key, id);
    for (;;) {
        r = redisCommand(c, "XRANGE %s %s + COUNT 512", key, from);
        if (r == NULL) {
            rc = STORE_UNAVAILABLE;
            break;
        }
        if (r->type != REDIS_REPLY_ARRAY) {
            log_error("store: reading match %" PRIu64 ": %s", id,
                      r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            freeReplyObject(r);
            rc = STORE_FAILED;
            break;
        }
        for (size_t i = 0; i < r->elements; i++) {
            const redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
                continue;
            const char *k = fget(e->element[1], "k");
            if (n_entries++ == 0 && (k == NULL || strcmp(k, "start") != 0)) {
                log_error("store: the journal of match %" PRIu64 " does not "
                          "start with START", id);
                rc = STORE_NOTFOUND;
                break;
            }
            if (!apply_entry(m, e->element[1]))
                log_warn("store: match %" PRIu64 ": an unknown journal entry "
                         "is skipped", id);
            if (is_str(e->element[0]))
                snprintf(from, sizeof from, "(%s", e->element[0]->str);
        }
        size_t n = r->elements;
        freeReplyObject(r);
        if (rc != STORE_OK || n < 512)
            break;
    }
    if (rc == STORE_OK && n_entries == 0)
        rc = STORE_NOTFOUND;
    if (rc != STORE_OK) {
        store_open_match_free(m);
        return rc;
    }
    *out = m;
    return STORE_OK;
}

/* ---------- startup readers (the caller's connection) ---------- */

static bool reader_ok(struct rstore *rs)
{
    char err[256];
    if (rs->reader != NULL && rs->reader->err == 0)
        return true;
    redisFree(rs->reader);
    rs->reader = connect_to(rs, 2000, err, sizeof err);
    if (rs->reader == NULL)
        log_error("store: %s", err);
    return rs->reader != NULL;
}

int rstore_each_account(struct rstore *rs,
                        void (*fn)(void *ctx, const char *name, const char *hash),
                        void *ctx)
{
    char cursor[32] = "0";

    if (!reader_ok(rs))
        return -1;
    do {
        redisReply *r = redisCommand(rs->reader, "HSCAN " K_ACCOUNTS " %s COUNT 1000",
                                     cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            !is_str(r->element[0]) || r->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(r);
            return -1;
        }
        copy(cursor, sizeof cursor, r->element[0]->str);
        const redisReply *kv = r->element[1];
        for (size_t i = 0; i + 1 < kv->elements; i += 2)
            if (is_str(kv->element[i]) && is_str(kv->element[i + 1]))
                fn(ctx, kv->element[i]->str, kv->element[i + 1]->str);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

int rstore_each_open_match(struct rstore *rs,
                           void (*fn)(void *ctx, const struct store_open_match *m),
                           void *ctx)
{
    if (!reader_ok(rs))
        return -1;
    redisReply *ids = redisCommand(rs->reader, "ZRANGE " K_PLAYING " 0 -1");
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(ids);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < ids->elements && rc == 0; i++) {
        if (!is_str(ids->element[i]))
            continue;
        uint64_t id = strtoull(ids->element[i]->str, NULL, 10);
        struct store_open_match *m;
        int lrc = load_match(rs->reader, id, &m);
        if (lrc == STORE_UNAVAILABLE || lrc == STORE_FAILED)
            rc = -1;
        else if (lrc == STORE_OK && !m->is_over)
            fn(ctx, m);
        store_open_match_free(m);
    }
    freeReplyObject(ids);
    return rc;
}

uint64_t rstore_max_match_id(struct rstore *rs)
{
    uint64_t id = 0;
    if (!reader_ok(rs))
        return 0;
    redisReply *r = redisCommand(rs->reader, "GET " K_MATCH_ID);
    if (is_str(r))
        id = strtoull(r->str, NULL, 10);
    freeReplyObject(r);
    return id;
}

/* ---------- the writer: journal ---------- */

/* The stream fields of op (after the script's own w, c, e, k). */
static void op_fields(struct argv *a, const struct store_op *op)
{
    switch (op->kind) {
    case STORE_OP_START:
        arg(a, "game");
        arg(a, op->game);
        arg(a, "n");
        argf(a, "%u", op->n_seats);
        arg(a, "secret");
        arg(a, op->secret);
        for (unsigned i = 0; i < op->n_seats && i < STORE_MAX_SEATS; i++) {
            argf(a, "name%u", i);
            arg(a, op->seats[i].name);
            argf(a, "token%u", i);
            arg(a, op->seats[i].token);
            argf(a, "seed%u", i);
            arg(a, op->seats[i].seed);
            argf(a, "side%u", i);
            argf(a, "%u", op->seats[i].side);
            argf(a, "reg%u", i);
            argf(a, "%d", op->seats[i].is_registered ? 1 : 0);
            argf(a, "bot%u", i);
            argf(a, "%u", op->seats[i].bot);
        }
        break;
    case STORE_OP_REPLACED:
        arg(a, "seat");
        argf(a, "%u", op->seat);
        arg(a, "bot");
        argf(a, "%u", op->seat < STORE_MAX_SEATS ? op->seats[op->seat].bot : 0);
        break;
    case STORE_OP_MOVE:
        arg(a, "seq");
        argf(a, "%u", op->seq);
        arg(a, "seat");
        argf(a, "%u", op->seat);
        arg(a, "mk");
        argf(a, "%u", op->move_kind);
        arg(a, "cards");
        arg(a, op->cards);
        arg(a, "to");
        argf(a, "%d", op->is_timeout ? 1 : 0);
        break;
    case STORE_OP_TOKEN:
        arg(a, "seat");
        argf(a, "%u", op->seat);
        arg(a, "token");
        arg(a, op->seat < STORE_MAX_SEATS ? op->seats[op->seat].token : "");
        break;
    case STORE_OP_END: {
        char replaced[STORE_MAX_SEATS * 2 + 1] = "", points[STORE_MAX_SEATS * 12] = "";
        size_t rn = 0, pn = 0;
        for (unsigned i = 0; i < STORE_MAX_SEATS; i++) {
            rn += (size_t)snprintf(replaced + rn, sizeof replaced - rn, "%s%d",
                                   i ? "," : "", op->replaced[i] ? 1 : 0);
            pn += (size_t)snprintf(points + pn, sizeof points - pn, "%s%u",
                                   i ? "," : "", op->points[i]);
        }
        arg(a, "result");
        arg(a, op->result);
        arg(a, "reason");
        arg(a, op->reason);
        arg(a, "teams");
        argf(a, "%d", op->is_teams ? 1 : 0);
        arg(a, "loser");
        argf(a, "%d", op->loser);
        arg(a, "unrated");
        argf(a, "%d", op->is_unrated ? 1 : 0);
        arg(a, "replaced");
        arg(a, replaced);
        arg(a, "points");
        arg(a, points);
        arg(a, "log");
        arg(a, op->log ? op->log : "");
        break;
    }
    }
}

static const char *const kind_names[] = {"start", "move", "token", "end", "replaced"};

/* What END writes besides its entry, computed as store.c's apply_end. */
struct end_prep {
    char game[24];
    unsigned n_reg, n_hist;
    struct {
        char name[STORE_NAME_MAX + 1];
        char old[48], new_[48], neg[48];
        int won, lost, drawn;
    } reg[STORE_MAX_SEATS];
    struct {
        char name[STORE_NAME_MAX + 1];
        char member[96];
    } hist[STORE_MAX_SEATS];
};

static void add_record(struct end_prep *e, const char *name, const char *old,
                       double delta, int won, int lost, int drawn)
{
    double base = old[0] ? strtod(old, NULL) : RATING_START;
    double now = base + delta;
    typeof(e->reg[0]) *r = &e->reg[e->n_reg++];
    copy(r->name, sizeof r->name, name);
    copy(r->old, sizeof r->old, old);
    snprintf(r->new_, sizeof r->new_, "%.17g", now);
    snprintf(r->neg, sizeof r->neg, "%.17g", -now);
    r->won = won;
    r->lost = lost;
    r->drawn = drawn;
}

/* Reads the seats (START) and the ratings of the registered ones, and
 * fills e. 0, or -1 if the connection broke. */
static int prep_end(struct rstore *rs, const struct store_op *op, struct end_prep *e)
{
    char key[64];
    struct {
        char name[STORE_NAME_MAX + 1];
        char old[48];
        bool is_registered;
        unsigned side;
        double rating;
    } seat[STORE_MAX_SEATS];
    unsigned n_seats = 0;

    memset(e, 0, sizeof *e);
    memset(seat, 0, sizeof seat);
    log_key(key, sizeof key, op->match_id);
    redisReply *r = redisCommand(rs->c, "XRANGE %s - + COUNT 1", key);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2) {
        const redisReply *f = r->element[0]->element[1];
        const char *k = fget(f, "k");
        if (k != NULL && strcmp(k, "start") == 0) {
            copy(e->game, sizeof e->game, fget(f, "game"));
            n_seats = fget_u(f, "n");
            if (n_seats > STORE_MAX_SEATS)
                n_seats = STORE_MAX_SEATS;
            for (unsigned i = 0; i < n_seats; i++) {
                char fk[16];
                snprintf(fk, sizeof fk, "name%u", i);
                copy(seat[i].name, sizeof seat[i].name, fget(f, fk));
                snprintf(fk, sizeof fk, "reg%u", i);
                seat[i].is_registered = fget_u(f, fk) != 0;
                snprintf(fk, sizeof fk, "side%u", i);
                seat[i].side = fget_u(f, fk);
            }
        }
    }
    freeReplyObject(r);
    if (n_seats == 0)
        return 0; /* no START: the script answers NOTPLAYING */
    /* One round trip for every registered seat's account and rating. */
    for (unsigned i = 0; i < n_seats; i++) {
        seat[i].rating = RATING_START;
        if (!seat[i].is_registered)
            continue;
        redisAppendCommand(rs->c, "HEXISTS " K_ACCOUNTS " %s", seat[i].name);
        redisAppendCommand(rs->c, "HGET " K_PREFIX "rec:%s %s:rating", seat[i].name,
                           e->game);
    }
    for (unsigned i = 0; i < n_seats; i++) {
        if (!seat[i].is_registered)
            continue;
        redisReply *x = NULL, *y = NULL;
        if (redisGetReply(rs->c, (void **)&x) != REDIS_OK ||
            redisGetReply(rs->c, (void **)&y) != REDIS_OK) {
            freeReplyObject(x);
            return -1;
        }
        /* The account is gone: not rated (as store.c's ST_RATING_OF). */
        seat[i].is_registered = x->type == REDIS_REPLY_INTEGER && x->integer == 1;
        if (is_str(y)) {
            copy(seat[i].old, sizeof seat[i].old, y->str);
            seat[i].rating = strtod(y->str, NULL);
        }
        freeReplyObject(x);
        freeReplyObject(y);
    }
    /* History: every seat, with its side's points (store.c's ST_HISTORY). */
    char game[sizeof e->game];
    copy(game, sizeof game, e->game);
    for (unsigned i = 0; i < n_seats; i++) {
        unsigned pts = 0;
        for (unsigned j = 0; j < n_seats; j++)
            if (seat[j].side == seat[i].side)
                pts += op->points[j];
        typeof(e->hist[0]) *h = &e->hist[e->n_hist++];
        copy(h->name, sizeof h->name, seat[i].name);
        snprintf(h->member, sizeof h->member, "%" PRIu64 ":%s:%s:%u",
                 op->match_id, game, op->result, pts);
    }
    /* Ratings: store.c's apply_end, line for line. */
    if (op->is_unrated) {
        for (unsigned i = 0; i < n_seats; i++) {
            if (op->replaced[i] && seat[i].is_registered)
                add_record(e, seat[i].name, seat[i].old, 0.0, 0, 1, 0);
            seat[i].is_registered = false;
        }
    }
    bool is_draw = strcmp(op->result, "draw") == 0;
    if (!op->is_teams) {
        if (n_seats < 2)
            return 0;
        int loser = strcmp(op->reason, "forfeit") == 0 &&
                    op->loser >= 0 && (unsigned)op->loser < n_seats ? op->loser : -1;
        double rating[STORE_MAX_SEATS], delta[STORE_MAX_SEATS];
        unsigned lowest = UINT32_MAX;
        for (unsigned i = 0; i < n_seats; i++) {
            rating[i] = seat[i].rating;
            if ((int)i != loser && op->points[i] < lowest)
                lowest = op->points[i];
        }
        rating_seats(n_seats, rating, op->points, loser, delta);
        for (unsigned i = 0; i < n_seats; i++) {
            if (!seat[i].is_registered)
                continue;
            char me[16];
            snprintf(me, sizeof me, "seat%u", i);
            int won = strcmp(op->result, me) == 0;
            int drawn = !won && is_draw && (int)i != loser && op->points[i] == lowest;
            add_record(e, seat[i].name, seat[i].old, delta[i], won, !won && !drawn,
                       drawn);
        }
        return 0;
    }
    double sum[2] = {0, 0};
    unsigned count[2] = {0, 0};
    for (unsigned i = 0; i < n_seats; i++) {
        sum[i % 2] += seat[i].rating;
        count[i % 2]++;
    }
    double side[2] = {count[0] ? sum[0] / count[0] : RATING_START,
                      count[1] ? sum[1] / count[1] : RATING_START};
    for (unsigned i = 0; i < n_seats; i++) {
        if (!seat[i].is_registered)
            continue;
        unsigned t = i % 2;
        double score = is_draw ? 0.5
                     : (strcmp(op->result, t ? "team1" : "team0") == 0 ? 1.0 : 0.0);
        add_record(e, seat[i].name, seat[i].old,
                   rating_delta(side[t], side[1 - t], score), score == 1.0,
                   score == 0.0, score == 0.5);
    }
    return 0;
}

/* The EVALSHA of one op (e: END's extras, else NULL). */
static void build_append(struct rstore *rs, struct argv *a, const struct pend *p,
                         const struct end_prep *e)
{
    const struct store_op *op = p->op;
    char key[96];
    struct argv f = {0};

    op_fields(&f, op);
    unsigned n_keys = 7 + (e ? 1 + e->n_reg + e->n_hist : 0);
    arg(a, "EVALSHA");
    arg(a, rs->sha);
    argf(a, "%u", n_keys);
    log_key(key, sizeof key, op->match_id);
    arg(a, key);
    epoch_key(key, sizeof key, op->match_id);
    arg(a, key);
    arg(a, K_PLAYING);
    arg(a, K_MATCH_ID);
    arg(a, K_NAMES);
    arg(a, K_GAMES);
    snprintf(key, sizeof key, K_PREFIX "match:{%" PRIu64 "}:last", op->match_id);
    arg(a, key);
    if (e != NULL) {
        argf(a, K_PREFIX "top:%s", e->game[0] ? e->game : "briscola");
        for (unsigned i = 0; i < e->n_reg; i++)
            argf(a, K_PREFIX "rec:%s", e->reg[i].name);
        for (unsigned i = 0; i < e->n_hist; i++)
            argf(a, K_PREFIX "hist:%s", e->hist[i].name);
    }
    arg(a, "J");
    argf(a, "%" PRIu64, op->epoch);
    arg(a, rs->wid);
    argf(a, "%" PRIu64, p->n);
    argf(a, "%" PRIu64, p->prev);
    arg(a, kind_names[op->kind]);
    argf(a, "%" PRIu64, op->match_id);
    argf(a, "%u", f.n);
    for (unsigned i = 0; i < f.n; i++) {
        assert(a->n < ARGV_MAX);
        a->v[a->n] = f.v[i];
        a->len[a->n++] = f.len[i];
    }
    f.n = 0; /* moved into a */
    if (e != NULL) {
        arg(a, e->game[0] ? e->game : "briscola");
        argf(a, "%u", e->n_reg);
        for (unsigned i = 0; i < e->n_reg; i++) {
            arg(a, e->reg[i].name);
            arg(a, e->reg[i].old);
            arg(a, e->reg[i].new_);
            arg(a, e->reg[i].neg);
            argf(a, "%d", e->reg[i].won);
            argf(a, "%d", e->reg[i].lost);
            argf(a, "%d", e->reg[i].drawn);
        }
        argf(a, "%u", e->n_hist);
        for (unsigned i = 0; i < e->n_hist; i++)
            arg(a, e->hist[i].member);
    }
}

enum verdict {
    V_DONE = 0,   /* appended, or already there, or END of a match not in play */
    V_FENCED,     /* stale epoch: dropped */
    V_AGAIN,      /* not run (NOSCRIPT), out of order (GAP), a rating moved */
    V_NOSCRIPT,
    V_REFUSED,    /* an error from the script: a bug; dropped */
    V_LOST,       /* no reply: the connection broke */
};

static enum verdict classify(struct rstore *rs, const struct pend *p,
                             const redisReply *r)
{
    if (r == NULL)
        return V_LOST;
    if (r->type == REDIS_REPLY_ERROR) {
        if (strncmp(r->str, "NOSCRIPT", 8) == 0)
            return V_NOSCRIPT;
        log_error("store: Redis refused a journal entry of match %" PRIu64
                  ": %s; it is not recorded", p->op->match_id, r->str);
        return V_REFUSED;
    }
    if (!is_str(r)) {
        log_error("store: unexpected reply to a journal entry of match %" PRIu64,
                  p->op->match_id);
        return V_REFUSED;
    }
    if (strcmp(r->str, "OK") == 0 || strcmp(r->str, "DUP") == 0)
        return V_DONE;
    if (strcmp(r->str, "NOTPLAYING") == 0) {
        log_warn("store: match %" PRIu64 " was not in play; result not recorded "
                 "twice", p->op->match_id);
        return V_DONE;
    }
    if (strncmp(r->str, "FENCED", 6) == 0) {
        log_warn("store: match %" PRIu64 ": an entry of epoch %" PRIu64 " is "
                 "fenced off (the match's epoch is%s): another node owns it; "
                 "nothing written", p->op->match_id, p->op->epoch, r->str + 6);
        (void)rs;
        return V_FENCED;
    }
    return V_AGAIN; /* GAP, RETRY */
}

static void chain_key(char *out, size_t cap, uint64_t id)
{
    snprintf(out, cap, "%" PRIu64, id);
}

/* A pend for op, linked at the end of the writer's list; its counter
 * follows the match's chain. */
static void pend_add(struct rstore *rs, struct store_op *op, struct store_job *job)
{
    char key[24];
    struct pend *p = mem_calloc(1, sizeof *p);

    p->op = op;
    p->job = job;
    p->n = ++rs->counter;
    chain_key(key, sizeof key, op->match_id);
    struct chain *ch = strmap_get(&rs->chains, key, strlen(key));
    if (ch == NULL) {
        ch = mem_calloc(1, sizeof *ch);
        copy(ch->key, sizeof ch->key, key);
        strmap_put(&rs->chains, ch->key, ch);
    }
    p->prev = ch->n;
    ch->n = p->n;
    if (op->kind == STORE_OP_END) {
        /* The match's last op: a later one would be a bug, and would
         * start a chain of its own (DUP/GAP still hold per writer). */
        strmap_del(&rs->chains, ch->key, strlen(ch->key));
        free(ch);
    }
    *rs->pend_tail = p;
    rs->pend_tail = &p->next;
    rs->n_pend++;
}

/* Dropping p (fenced, refused): the next op of its match chains to p's
 * predecessor instead, so that it is not refused as out of order. */
static void unchain(struct rstore *rs, struct pend *p)
{
    for (struct pend *q = p->next; q != NULL; q = q->next)
        if (q->op->match_id == p->op->match_id && q->prev == p->n) {
            q->prev = p->prev;
            break;
        }
    char key[24];
    chain_key(key, sizeof key, p->op->match_id);
    struct chain *ch = strmap_get(&rs->chains, key, strlen(key));
    if (ch != NULL && ch->n == p->n)
        ch->n = p->prev;
}

/* Unlinks and frees every done pend. */
static void pend_sweep(struct rstore *rs)
{
    struct pend **pp = &rs->pend;
    rs->pend_tail = &rs->pend;
    while (*pp != NULL) {
        struct pend *p = *pp;
        if (p->is_done) {
            *pp = p->next;
            store_ops_free(p->op); /* p->op->next is NULL: one op */
            free(p);
            rs->n_pend--;
        } else {
            pp = &p->next;
            rs->pend_tail = &p->next;
        }
    }
}

static void settle(struct rstore *rs, struct pend *p, enum verdict v)
{
    if (v == V_DONE) {
        p->is_done = true;
    } else if (v == V_FENCED || v == V_REFUSED) {
        unchain(rs, p);
        p->is_done = true;
        if (p->job != NULL)
            p->job->rc = v == V_FENCED ? STORE_FENCED : STORE_FAILED;
    }
}

/* END, alone: read, compute, compare-and-set; again while a rating moved
 * meanwhile (another node's match of the same player ended). */
static enum verdict send_end(struct rstore *rs, struct pend *p)
{
    for (unsigned tries = 0; tries < 100; tries++) {
        struct end_prep e;
        struct argv a = {0};
        if (prep_end(rs, p->op, &e) != 0)
            return V_LOST;
        build_append(rs, &a, p, &e);
        redisReply *r = command_argv(rs->c, &a);
        enum verdict v = classify(rs, p, r);
        bool is_retry = is_str(r) && strcmp(r->str, "RETRY") == 0;
        freeReplyObject(r);
        if (!is_retry)
            return v;
    }
    log_error("store: the ratings of match %" PRIu64 " kept moving; tried again "
              "later", p->op->match_id);
    return V_AGAIN;
}

/* One round trip: the ops from the head of the list up to the first END
 * (or that END alone). Returns false if the connection broke. */
static bool send_round(struct rstore *rs)
{
    struct pend *seg[PIPE_MAX];
    size_t n = 0;
    bool is_noscript = false, is_lost = false;

    struct pend *p = rs->pend;
    if (p->op->kind == STORE_OP_END) {
        enum verdict v = send_end(rs, p);
        if (v == V_NOSCRIPT) {
            char err[256];
            if (load_script(rs, rs->c, err, sizeof err) != 0)
                log_error("store: %s", err);
        }
        settle(rs, p, v);
        return v != V_LOST;
    }
    for (; p != NULL && p->op->kind != STORE_OP_END && n < PIPE_MAX; p = p->next) {
        struct argv a = {0};
        build_append(rs, &a, p, NULL);
        redisAppendCommandArgv(rs->c, (int)a.n, (const char **)a.v, a.len);
        args_free(&a);
        seg[n++] = p;
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (is_lost || redisGetReply(rs->c, (void **)&r) != REDIS_OK) {
            is_lost = true; /* the rest are resent: DUP covers any that ran */
            continue;
        }
        enum verdict v = classify(rs, seg[i], r);
        freeReplyObject(r);
        if (v == V_NOSCRIPT)
            is_noscript = true;
        settle(rs, seg[i], v);
    }
    if (is_noscript && !is_lost) {
        char err[256];
        if (load_script(rs, rs->c, err, sizeof err) != 0)
            log_error("store: %s", err);
    }
    return !is_lost;
}

/* Sends every pending op, in order, until all are answered or
 * deadline_us passes. 0: none left; -1: some wait (Redis unreachable). */
static int flush(struct rstore *rs, uint64_t deadline_us)
{
    unsigned n_stuck = 0;

    while (rs->pend != NULL) {
        if (!ensure_conn(rs, deadline_us)) {
            rs->is_down = true;
            return -1;
        }
        uint64_t t0 = mono_us();
        size_t before = rs->n_pend;
        bool ok = send_round(rs);
        pend_sweep(rs);
        uint64_t us = mono_us() - t0;
        pthread_mutex_lock(&rs->lock);
        rs->metrics.n_commits++;
        if (!ok)
            rs->metrics.n_failed++;
        rs->metrics.last_commit_us = us;
        if (us > rs->metrics.max_commit_us)
            rs->metrics.max_commit_us = us;
        pthread_mutex_unlock(&rs->lock);
        if (ok && rs->n_pend == before) {
            /* Answered but nothing done (GAP at the head: its predecessor
             * is lost, a bug; or ratings that kept moving): not a spin. */
            if (++n_stuck >= 20) {
                log_error("store: match %" PRIu64 ": a journal entry is "
                          "refused as out of order; it is dropped",
                          rs->pend->op->match_id);
                settle(rs, rs->pend, V_REFUSED);
                pend_sweep(rs);
                n_stuck = 0;
            }
            sleep_us(10000);
        } else {
            n_stuck = 0;
        }
        if (rs->pend != NULL && mono_us() >= deadline_us)
            return -1;
    }
    return 0;
}

static void set_broken(struct rstore *rs, const char *why)
{
    pthread_mutex_lock(&rs->lock);
    if (!rs->is_broken) {
        rs->is_broken = true;
        copy(rs->broken_why, sizeof rs->broken_why, why);
    }
    pthread_mutex_unlock(&rs->lock);
}

static bool is_broken(struct rstore *rs)
{
    pthread_mutex_lock(&rs->lock);
    bool b = rs->is_broken;
    pthread_mutex_unlock(&rs->lock);
    return b;
}

/* jobs[0..n), all JOURNAL: their ops join the list after what waits
 * from before, and the whole list is sent. A job whose ops are not all
 * answered by the deadline fails (STORE_UNAVAILABLE); its ops stay in
 * the list, in order, for the next try. */
static void journal_group(struct rstore *rs, struct store_job **jobs, size_t n)
{
    if (is_broken(rs)) {
        for (size_t i = 0; i < n; i++)
            jobs[i]->rc = STORE_BROKEN;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        jobs[i]->rc = STORE_OK;
        struct store_op *op = jobs[i]->ops;
        jobs[i]->ops = NULL; /* the writer's now (store.h) */
        while (op != NULL) {
            struct store_op *next = op->next;
            op->next = NULL;
            pend_add(rs, op, jobs[i]);
            op = next;
        }
    }
    size_t n_kept = rs->n_pend;
    flush(rs, job_deadline(rs));
    for (struct pend *p = rs->pend; p != NULL; p = p->next) {
        if (p->job != NULL) {
            p->job->rc = STORE_UNAVAILABLE;
            p->job = NULL; /* answered now; the op waits */
        }
    }
    pthread_mutex_lock(&rs->lock);
    rs->metrics.n_backlog = rs->n_pend;
    pthread_mutex_unlock(&rs->lock);
    if (rs->n_pend > 0 && n_kept > 0)
        log_debug("store: %zu journal entries wait for Redis", rs->n_pend);
    if (rs->n_pend > STORE_BACKLOG_MAX) {
        char why[160];
        snprintf(why, sizeof why, "Redis has been unreachable for too long: %zu "
                 "journal entries wait", rs->n_pend);
        set_broken(rs, why);
    }
}

/* ---------- the writer: accounts and queries ---------- */

/* One command on the writer's connection, made again (until deadline)
 * if it breaks; NULL: Redis unreachable. Every query here is a read, or
 * idempotent (REGISTER: see below), so a resend is safe. */
static redisReply *query_argv(struct rstore *rs, struct argv *a, uint64_t deadline_us)
{
    for (;;) {
        if (!ensure_conn(rs, deadline_us)) {
            rs->is_down = true;
            args_free(a);
            return NULL;
        }
        redisReply *r = redisCommandArgv(rs->c, (int)a->n, (const char **)a->v,
                                         a->len);
        if (r != NULL) {
            args_free(a);
            return r;
        }
        if (mono_us() >= deadline_us) {
            args_free(a);
            return NULL;
        }
    }
}

static void run_register(struct rstore *rs, struct store_job *job, uint64_t deadline)
{
    for (int again = 0; again < 2; again++) {
        struct argv a = {0};
        arg(&a, "EVALSHA");
        arg(&a, rs->sha);
        arg(&a, "3");
        arg(&a, K_ACCOUNTS);
        arg(&a, K_NAMES);
        arg(&a, K_GAMES);
        arg(&a, "R");
        arg(&a, job->name);
        arg(&a, job->hash);
        redisReply *r = query_argv(rs, &a, deadline);
        if (r == NULL) {
            job->rc = STORE_UNAVAILABLE;
            return;
        }
        bool is_noscript = r->type == REDIS_REPLY_ERROR &&
                           strncmp(r->str, "NOSCRIPT", 8) == 0;
        if (is_noscript) {
            char err[256];
            freeReplyObject(r);
            if (load_script(rs, rs->c, err, sizeof err) != 0) {
                log_error("store: %s", err);
                job->rc = STORE_FAILED;
                return;
            }
            continue;
        }
        job->rc = is_str(r) && strcmp(r->str, "OK") == 0 ? STORE_OK
                : is_str(r) && strcmp(r->str, "EXISTS") == 0 ? STORE_EXISTS
                : STORE_FAILED;
        if (job->rc == STORE_FAILED)
            log_error("store: registering %s: %s", job->name,
                      r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        freeReplyObject(r);
        break;
    }
    if (job->rc != STORE_EXISTS)
        return;
    /* A resend after a lost reply finds our own registration: the hash
     * is salted, so the same hash is ours. */
    struct argv a = {0};
    arg(&a, "HGET");
    arg(&a, K_ACCOUNTS);
    arg(&a, job->name);
    redisReply *r = query_argv(rs, &a, deadline);
    if (is_str(r) && strcmp(r->str, job->hash) == 0)
        job->rc = STORE_OK;
    freeReplyObject(r);
}

static void run_stats(struct rstore *rs, struct store_job *job, uint64_t deadline)
{
    const char *game = job->game[0] ? job->game : "briscola";
    struct argv a = {0};

    arg(&a, "HEXISTS");
    arg(&a, K_ACCOUNTS);
    arg(&a, job->name);
    redisReply *r = query_argv(rs, &a, deadline);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        job->rc = r == NULL ? STORE_UNAVAILABLE : STORE_FAILED;
        freeReplyObject(r);
        return;
    }
    bool exists = r->integer == 1;
    freeReplyObject(r);
    if (!exists) {
        job->rc = STORE_NOTFOUND;
        return;
    }
    arg(&a, "HMGET");
    argf(&a, K_PREFIX "rec:%s", job->name);
    argf(&a, "%s:rating", game);
    argf(&a, "%s:played", game);
    argf(&a, "%s:won", game);
    argf(&a, "%s:lost", game);
    argf(&a, "%s:drawn", game);
    r = query_argv(rs, &a, deadline);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
        job->rc = r == NULL ? STORE_UNAVAILABLE : STORE_FAILED;
        freeReplyObject(r);
        return;
    }
    const redisReply *const *v = (const redisReply *const *)r->element;
    job->stats.rating = is_str(v[0]) ? strtod(v[0]->str, NULL) : RATING_START;
    job->stats.played = is_str(v[1]) ? (unsigned)strtoul(v[1]->str, NULL, 10) : 0;
    job->stats.won = is_str(v[2]) ? (unsigned)strtoul(v[2]->str, NULL, 10) : 0;
    job->stats.lost = is_str(v[3]) ? (unsigned)strtoul(v[3]->str, NULL, 10) : 0;
    job->stats.drawn = is_str(v[4]) ? (unsigned)strtoul(v[4]->str, NULL, 10) : 0;
    job->rc = STORE_OK;
    freeReplyObject(r);
}

/* TOP: the game's zset holds every account once the game has a result
 * (scores -rating: ties come out by name, as store.c's ORDER BY); before
 * that, every account has 1500: the names in order. */
static void run_top(struct rstore *rs, struct store_job *job, uint64_t deadline)
{
    const char *game = job->game[0] ? job->game : "briscola";
    struct argv a = {0};

    arg(&a, "SISMEMBER");
    arg(&a, K_GAMES);
    arg(&a, game);
    redisReply *r = query_argv(rs, &a, deadline);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        job->rc = r == NULL ? STORE_UNAVAILABLE : STORE_FAILED;
        freeReplyObject(r);
        return;
    }
    bool has_top = r->integer == 1;
    freeReplyObject(r);
    arg(&a, "ZRANGE");
    if (has_top)
        argf(&a, K_PREFIX "top:%s", game);
    else
        arg(&a, K_NAMES);
    arg(&a, "0");
    argf(&a, "%d", STORE_TOP_MAX - 1);
    arg(&a, "WITHSCORES");
    r = query_argv(rs, &a, deadline);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        job->rc = r == NULL ? STORE_UNAVAILABLE : STORE_FAILED;
        freeReplyObject(r);
        return;
    }
    job->n_rows = 0;
    for (size_t i = 0; i + 1 < r->elements && job->n_rows < STORE_TOP_MAX; i += 2) {
        if (!is_str(r->element[i]) || !is_str(r->element[i + 1]))
            continue;
        copy(job->top[job->n_rows].name, sizeof job->top[0].name, r->element[i]->str);
        job->top[job->n_rows].rating = -strtod(r->element[i + 1]->str, NULL);
        job->n_rows++;
    }
    job->rc = STORE_OK;
    freeReplyObject(r);
}

static void run_history(struct rstore *rs, struct store_job *job, uint64_t deadline)
{
    struct argv a = {0};

    arg(&a, "ZREVRANGE");
    argf(&a, K_PREFIX "hist:%s", job->name);
    arg(&a, "0");
    argf(&a, "%d", STORE_HISTORY_MAX - 1);
    redisReply *r = query_argv(rs, &a, deadline);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        job->rc = r == NULL ? STORE_UNAVAILABLE : STORE_FAILED;
        freeReplyObject(r);
        return;
    }
    job->n_rows = 0;
    for (size_t i = 0; i < r->elements && job->n_rows < STORE_HISTORY_MAX; i++) {
        if (!is_str(r->element[i]))
            continue;
        /* id:game:result:points */
        typeof(job->history[0]) *h = &job->history[job->n_rows];
        char game[24] = "", result[8] = "";
        unsigned long long id;
        unsigned pts;
        if (sscanf(r->element[i]->str, "%llu:%23[^:]:%7[^:]:%u", &id, game,
                   result, &pts) != 4)
            continue;
        h->match_id = id;
        copy(h->game, sizeof h->game, game);
        copy(h->result, sizeof h->result, result);
        h->points = pts;
        job->n_rows++;
    }
    job->rc = STORE_OK;
    freeReplyObject(r);
}

static void run_query(struct rstore *rs, struct store_job *job)
{
    uint64_t deadline = job_deadline(rs);
    struct argv a = {0};
    redisReply *r;

    switch (job->kind) {
    case STORE_JOB_REGISTER:
        run_register(rs, job, deadline);
        break;
    case STORE_JOB_STATS:
        run_stats(rs, job, deadline);
        break;
    case STORE_JOB_TOP:
        run_top(rs, job, deadline);
        break;
    case STORE_JOB_HISTORY:
        run_history(rs, job, deadline);
        break;
    case STORE_JOB_ACCOUNT:
        arg(&a, "HGET");
        arg(&a, K_ACCOUNTS);
        arg(&a, job->name);
        r = query_argv(rs, &a, deadline);
        job->rc = r == NULL ? STORE_UNAVAILABLE
                : is_str(r) ? STORE_OK
                : r->type == REDIS_REPLY_NIL ? STORE_NOTFOUND : STORE_FAILED;
        if (job->rc == STORE_OK)
            copy(job->hash, sizeof job->hash, r->str);
        freeReplyObject(r);
        break;
    case STORE_JOB_LOAD_MATCH:
        job->match = NULL;
        for (;;) {
            if (!ensure_conn(rs, deadline)) {
                rs->is_down = true;
                job->rc = STORE_UNAVAILABLE;
                break;
            }
            job->rc = load_match(rs->c, job->match_id, &job->match);
            if (job->rc != STORE_UNAVAILABLE || mono_us() >= deadline)
                break;
        }
        break;
    case STORE_JOB_JOURNAL:
        break;
    }
}

/* ---------- the writer thread ---------- */

static void finish(struct rstore *rs, struct store_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&rs->lock);
    if (rs->done_tail)
        rs->done_tail->next = job;
    else
        rs->done_head = job;
    rs->done_tail = job;
    rs->metrics.n_jobs++;
    pthread_mutex_unlock(&rs->lock);
}

static void *writer(void *arg_)
{
    struct rstore *rs = arg_;
    struct store_job *group[256];

    for (;;) {
        pthread_mutex_lock(&rs->lock);
        while (rs->queue_head == NULL && !rs->is_stopping) {
            if (rs->pend == NULL || rs->is_broken) {
                pthread_cond_wait(&rs->wake, &rs->lock);
                continue;
            }
            /* Ops wait for Redis: try again at the back-off's next step. */
            uint64_t due = rs->next_try_us ? rs->next_try_us : mono_us() + BACKOFF_MIN_US;
            struct timespec ts = {(time_t)(due / 1000000), (long)(due % 1000000) * 1000};
            if (pthread_cond_timedwait(&rs->wake, &rs->lock, &ts) != 0)
                break;
        }
        struct store_job *jobs = rs->queue_head;
        rs->queue_head = rs->queue_tail = NULL;
        bool stopping = rs->is_stopping;
        pthread_mutex_unlock(&rs->lock);
        if (jobs == NULL && stopping)
            break;
        if (jobs == NULL) {
            if (flush(rs, mono_us()) == 0)
                log_info("store: the journal entries that waited for Redis are in");
            pthread_mutex_lock(&rs->lock);
            rs->metrics.n_backlog = rs->n_pend;
            pthread_mutex_unlock(&rs->lock);
            continue;
        }
        /* Consecutive journal jobs share one round trip; anything else
         * runs alone, in order, so callbacks keep submission order. */
        while (jobs != NULL) {
            size_t n = 0;
            while (jobs != NULL && jobs->kind == STORE_JOB_JOURNAL &&
                   n < sizeof group / sizeof group[0]) {
                group[n++] = jobs;
                jobs = jobs->next;
            }
            if (n > 0) {
                journal_group(rs, group, n);
                for (size_t i = 0; i < n; i++)
                    finish(rs, group[i]);
                continue;
            }
            struct store_job *job = jobs;
            jobs = jobs->next;
            run_query(rs, job);
            finish(rs, job);
        }
        if (rs->has_async)
            uv_async_send(&rs->async);
    }
    /* The last chance for entries that wait: one more wait_ms. */
    if (rs->pend != NULL && !is_broken(rs))
        flush(rs, mono_us() + (uint64_t)rs->wait_ms * 1000);
    if (rs->pend != NULL)
        log_error("store: %zu journal entries could not reach Redis; matches "
                  "will resume from before them", rs->n_pend);
    for (struct pend *p = rs->pend; p != NULL; p = p->next)
        p->is_done = true;
    pend_sweep(rs);
    return NULL;
}

/* ---------- the loop side ---------- */

static void deliver_done(struct rstore *rs)
{
    pthread_mutex_lock(&rs->lock);
    struct store_job *job = rs->done_head;
    rs->done_head = rs->done_tail = NULL;
    pthread_mutex_unlock(&rs->lock);
    while (job != NULL) {
        struct store_job *next = job->next;
        job->done(job);
        job = next;
    }
}

static void on_async(uv_async_t *h)
{
    struct rstore *rs = h->data;
    char why[sizeof rs->broken_why];

    deliver_done(rs);
    pthread_mutex_lock(&rs->lock);
    bool is_new = rs->is_broken && !rs->is_broken_said;
    copy(why, sizeof why, rs->broken_why);
    pthread_mutex_unlock(&rs->lock);
    if (is_new) {
        rs->is_broken_said = true;
        log_error("store: %s", why);
        if (rs->on_broken != NULL)
            rs->on_broken(rs->broken_ctx, why); /* may stop the server */
    }
}

int rstore_start(struct rstore *rs, uv_loop_t *loop)
{
    if (uv_async_init(loop, &rs->async, on_async) != 0)
        return -1;
    rs->async.data = rs;
    rs->has_async = true;
    if (pthread_create(&rs->thread, NULL, writer, rs) != 0) {
        uv_close((uv_handle_t *)&rs->async, NULL);
        rs->has_async = false;
        return -1;
    }
    rs->has_thread = true;
    return 0;
}

void rstore_submit(struct rstore *rs, struct store_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&rs->lock);
    if (rs->queue_tail)
        rs->queue_tail->next = job;
    else
        rs->queue_head = job;
    rs->queue_tail = job;
    pthread_cond_signal(&rs->wake);
    pthread_mutex_unlock(&rs->lock);
}

static void free_rstore(uv_handle_t *h)
{
    free(h->data);
}

static void free_chains(struct strmap *m)
{
    size_t n = 0;
    struct chain **all = mem_alloc(m->n_used * sizeof *all + 1);
    for (size_t i = 0; i < m->n_slots; i++) {
        struct chain *ch = strmap_slot_value(m, i);
        if (ch != NULL)
            all[n++] = ch;
    }
    strmap_free(m);
    for (size_t i = 0; i < n; i++)
        free(all[i]);
    free(all);
}

void rstore_close(struct rstore *rs)
{
    if (rs == NULL)
        return;
    if (rs->has_thread) {
        pthread_mutex_lock(&rs->lock);
        rs->is_stopping = true;
        pthread_cond_signal(&rs->wake);
        pthread_mutex_unlock(&rs->lock);
        pthread_join(rs->thread, NULL);
    }
    if (rs->has_async)
        deliver_done(rs); /* the last callbacks, on this (the loop) thread */
    redisFree(rs->c);
    redisFree(rs->reader);
    free_chains(&rs->chains);
    pthread_mutex_destroy(&rs->lock);
    pthread_cond_destroy(&rs->wake);
    if (rs->has_async)
        uv_close((uv_handle_t *)&rs->async, free_rstore);
    else
        free(rs);
}

void rstore_get_metrics(struct rstore *rs, struct store_metrics *out)
{
    pthread_mutex_lock(&rs->lock);
    *out = rs->metrics;
    pthread_mutex_unlock(&rs->lock);
}

/* ---------- tooling ---------- */

int store_check_redis(const char *addr, FILE *out)
{
    struct rstore tmp;
    char err[256];
    int damaged = 0;
    unsigned n_playing = 0;

    memset(&tmp, 0, sizeof tmp);
    if (parse_addr(&tmp, addr, err, sizeof err) != 0) {
        fprintf(out, "%s\n", err);
        return 2;
    }
    redisContext *c = connect_to(&tmp, 5000, err, sizeof err);
    if (c == NULL) {
        fprintf(out, "cannot open: %s\n", err);
        return 2;
    }
    redisReply *ids = redisCommand(c, "ZRANGE " K_PLAYING " 0 -1");
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        fprintf(out, "cannot read " K_PLAYING ": %s\n",
                ids ? (ids->type == REDIS_REPLY_ERROR ? ids->str : "not a zset")
                    : c->errstr);
        freeReplyObject(ids);
        redisFree(c);
        return 2;
    }
    for (size_t i = 0; i < ids->elements; i++) {
        if (!is_str(ids->element[i]))
            continue;
        uint64_t id = strtoull(ids->element[i]->str, NULL, 10);
        char key[64], from[48] = "-";
        uint64_t epoch = 0;
        bool has_end = false;
        size_t n = 0;
        n_playing++;
        epoch_key(key, sizeof key, id);
        redisReply *r = redisCommand(c, "GET %s", key);
        if (is_str(r))
            epoch = strtoull(r->str, NULL, 10);
        freeReplyObject(r);
        log_key(key, sizeof key, id);
        for (;;) {
            r = redisCommand(c, "XRANGE %s %s + COUNT 512", key, from);
            if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
                fprintf(out, "match %" PRIu64 ": cannot read its journal\n", id);
                damaged = 1;
                freeReplyObject(r);
                break;
            }
            size_t got = r->elements;
            for (size_t j = 0; j < got; j++) {
                const redisReply *e = r->element[j];
                if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
                    continue;
                const char *k = fget(e->element[1], "k");
                const char *ep = fget(e->element[1], "e");
                if (n == 0 && (k == NULL || strcmp(k, "start") != 0)) {
                    fprintf(out, "match %" PRIu64 ": journal does not start "
                            "with START\n", id);
                    damaged = 1;
                }
                if (has_end) {
                    fprintf(out, "match %" PRIu64 ": entry after END\n", id);
                    damaged = 1;
                }
                if (k != NULL && strcmp(k, "end") == 0)
                    has_end = true;
                if (ep != NULL && strtoull(ep, NULL, 10) > epoch) {
                    fprintf(out, "match %" PRIu64 ": entry of epoch %s above "
                            "the match's %" PRIu64 "\n", id, ep, epoch);
                    damaged = 1;
                }
                if (is_str(e->element[0]))
                    snprintf(from, sizeof from, "(%s", e->element[0]->str);
                n++;
            }
            freeReplyObject(r);
            if (got < 512)
                break;
        }
        if (n == 0) {
            fprintf(out, "match %" PRIu64 ": in play without a journal\n", id);
            damaged = 1;
        }
        if (has_end) {
            fprintf(out, "match %" PRIu64 ": in play, but its journal has END\n", id);
            damaged = 1;
        }
    }
    freeReplyObject(ids);
    /* Records of unknown accounts. */
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH " K_PREFIX "rec:* COUNT 1000",
                                     cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            fprintf(out, "cannot scan the records\n");
            freeReplyObject(r);
            damaged = 1;
            break;
        }
        copy(cursor, sizeof cursor, r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            redisReply *x = redisCommand(c, "HEXISTS " K_ACCOUNTS " %s",
                                         k + strlen(K_PREFIX "rec:"));
            if (x != NULL && x->type == REDIS_REPLY_INTEGER && x->integer == 0) {
                fprintf(out, "records of an unknown account: %s\n", k);
                damaged = 1;
            }
            freeReplyObject(x);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    if (!damaged) {
        redisReply *r = redisCommand(c, "HLEN " K_ACCOUNTS);
        fprintf(out, "ok: %lld accounts, %u in play\n",
                r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1LL, n_playing);
        freeReplyObject(r);
    }
    redisFree(c);
    return damaged;
}

int store_backup_redis(const char *addr, char *err, size_t err_cap)
{
    struct rstore tmp;
    int rc = -1;

    err[0] = '\0';
    memset(&tmp, 0, sizeof tmp);
    if (parse_addr(&tmp, addr, err, err_cap) != 0)
        return -1;
    redisContext *c = connect_to(&tmp, 5000, err, err_cap);
    if (c == NULL)
        return -1;
    redisReply *r = redisCommand(c, "BGREWRITEAOF");
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, err_cap, "BGREWRITEAOF: %s",
                 r ? r->str : c->errstr);
        freeReplyObject(r);
        redisFree(c);
        return -1;
    }
    freeReplyObject(r);
    /* Bounded: 10 minutes of a rewrite is an operator's problem. */
    for (int i = 0; i < 6000; i++) {
        r = redisCommand(c, "INFO persistence");
        if (!is_str(r)) {
            snprintf(err, err_cap, "INFO: %s", r ? "unexpected reply" : c->errstr);
            freeReplyObject(r);
            break;
        }
        bool busy = strstr(r->str, "aof_rewrite_in_progress:1") != NULL ||
                    strstr(r->str, "aof_rewrite_scheduled:1") != NULL;
        bool ok = strstr(r->str, "aof_last_bgrewrite_status:ok") != NULL;
        freeReplyObject(r);
        if (!busy) {
            if (ok)
                rc = 0;
            else
                snprintf(err, err_cap, "the AOF rewrite failed (see Redis's log)");
            break;
        }
        sleep_us(100000);
    }
    if (rc != 0 && err[0] == '\0')
        snprintf(err, err_cap, "the AOF rewrite did not finish in 10 minutes");
    redisFree(c);
    return rc;
}
