/*
 * redis_link: see redis_link.h.
 *
 * hiredis 0.14 owns its context: after a failed connect (onConnect with
 * an error) or a drop (onDisconnect) it frees it itself, having called
 * every pending callback with a NULL reply first. So the context pointer
 * is cleared in those two callbacks, and a reconnect is scheduled there.
 *
 * A connect that fails is not always reported: libuv hands a poll error
 * (EPOLLERR on a refused connect) to the adapter as a status, which
 * hiredis 0.14's adapter ignores. So a connect has its own deadline
 * (cmd_ms / 4, at least 50 ms), after which the attempt is dropped and
 * retried.
 */
#include "cluster/redis_link.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define CHECK_MS 20 /* how often the oldest command's deadline is looked at */

struct pending {
    struct pending *prev, *next;
    struct redis_link *link;
    redis_reply_fn fn;
    void *ctx;
    uint64_t sent_us;
    bool is_done; /* answered (NULL) already: ignore hiredis's callback */
};

struct redis_link {
    uv_loop_t *loop;
    char name[32];
    char host[256];
    int port;         /* 0: host is a unix socket path */
    uint32_t cmd_ms;
    redisAsyncContext *ac;
    bool is_connected, is_closing;
    uint32_t backoff_ms;
    uv_timer_t retry_timer, check_timer, fail_timer;
    unsigned n_handles_open;
    struct pending *head, *tail;      /* in flight, oldest first */
    struct pending *failed;           /* to answer NULL on the next turn */
    redis_state_fn on_state;
    void *ctx;
    char *channel;                    /* subscriber mode */
    redis_message_fn on_message;
    struct redis_link_stats stats;
};

static uint64_t now_us(void)
{
    return uv_hrtime() / 1000;
}

/* ---------- pending commands ---------- */

static void unlink_pending(struct redis_link *l, struct pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        l->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        l->tail = p->prev;
    p->prev = p->next = NULL;
}

static void push_pending(struct redis_link *l, struct pending *p)
{
    p->prev = l->tail;
    p->next = NULL;
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
}

static void on_fail_timer(uv_timer_t *t)
{
    struct redis_link *l = t->data;
    struct pending *list = l->failed;

    l->failed = NULL;
    while (list != NULL) {
        struct pending *p = list;
        list = p->next;
        if (p->fn)
            p->fn(p->ctx, NULL);
        free(p);
    }
}

/* Answers p with NULL on the next loop turn. */
static void fail_later(struct redis_link *l, struct pending *p)
{
    l->stats.n_failed++;
    p->next = l->failed;
    l->failed = p;
    if (!l->is_closing)
        uv_timer_start(&l->fail_timer, on_fail_timer, 0, 0);
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct pending *p = privdata;
    struct redis_link *l = p->link;
    (void)ac;

    if (p->is_done) { /* timed out earlier: its NULL was already given */
        free(p);
        return;
    }
    unlink_pending(l, p);
    if (r != NULL) {
        uint64_t us = now_us() - p->sent_us;
        l->stats.last_us = us;
        if (us > l->stats.max_us)
            l->stats.max_us = us;
        l->stats.sum_us += us;
        l->stats.n_timed++;
    } else {
        l->stats.n_failed++;
    }
    if (p->fn)
        p->fn(p->ctx, r);
    free(p);
    if (l->head == NULL)
        uv_timer_stop(&l->check_timer);
}

/* ---------- connecting ---------- */

static void connect_now(struct redis_link *l);

static void on_retry_timer(uv_timer_t *t)
{
    connect_now(t->data);
}

static void schedule_retry(struct redis_link *l)
{
    if (l->is_closing)
        return;
    uv_timer_start(&l->retry_timer, on_retry_timer, l->backoff_ms, 0);
    l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                       : l->backoff_ms * 2;
}

static void set_down(struct redis_link *l, const char *why)
{
    bool was_up = l->is_connected;

    l->is_connected = false;
    l->stats.is_up = false;
    l->ac = NULL;
    if (was_up && l->is_closing) {
        log_debug("redis %s: connection to %s closed", l->name, l->host);
    } else if (was_up) {
        l->stats.n_drops++;
        log_warn("redis %s: connection to %s lost (%s); reconnecting", l->name,
                 l->host, why);
        if (l->on_state && !l->is_closing)
            l->on_state(l->ctx, false);
    }
    schedule_retry(l);
}

static void on_message_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_link *l = privdata;
    redisReply *reply = r;
    (void)ac;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements != 3)
        return;
    if (reply->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(reply->element[0]->str, "message") == 0 &&
        reply->element[2]->type == REDIS_REPLY_STRING && l->on_message)
        l->on_message(l->ctx, reply->element[2]->str,
                      reply->element[2]->len);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_link *l = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        if (l->stats.n_connects == 0 || l->backoff_ms >= BACKOFF_MAX_MS)
            log_debug("redis %s: cannot connect: %s", l->name, ac->errstr);
        l->ac = NULL;
        schedule_retry(l);
        return;
    }
    uv_timer_stop(&l->retry_timer);
    l->is_connected = true;
    l->stats.is_up = true;
    l->stats.n_connects++;
    l->backoff_ms = BACKOFF_MIN_MS;
    log_info("redis %s: connected to %s%s%d", l->name, l->host,
             l->port ? ":" : "", l->port);
    if (l->channel != NULL)
        redisAsyncCommand(l->ac, on_message_reply, l, "SUBSCRIBE %s",
                          l->channel);
    if (l->on_state)
        l->on_state(l->ctx, true);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_link *l = ac->data;
    (void)status;
    set_down(l, ac->errstr[0] ? ac->errstr : "closed");
}

static void on_connect_timeout(uv_timer_t *t)
{
    struct redis_link *l = t->data;

    if (l->ac != NULL && !l->is_connected) {
        redisAsyncContext *ac = l->ac;
        l->ac = NULL;
        redisAsyncFree(ac); /* not connected: no disconnect callback */
        schedule_retry(l);
        return;
    }
    if (l->ac == NULL)
        schedule_retry(l);
}

static void connect_now(struct redis_link *l)
{
    redisAsyncContext *ac;

    if (l->is_closing || l->ac != NULL)
        return;
    ac = l->port ? redisAsyncConnect(l->host, l->port)
                 : redisAsyncConnectUnix(l->host);
    if (ac == NULL || ac->err) {
        if (ac != NULL) {
            log_debug("redis %s: cannot connect: %s", l->name, ac->errstr);
            redisAsyncFree(ac);
        }
        schedule_retry(l);
        return;
    }
    ac->data = l;
    if (redisLibuvAttach(ac, l->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        schedule_retry(l);
        return;
    }
    l->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    uint32_t ms = l->cmd_ms / 4 < 50 ? 50 : l->cmd_ms / 4;
    uv_timer_start(&l->retry_timer, on_connect_timeout, ms, 0);
}

/* The oldest command is past its deadline: Redis is stuck or gone.
 * Everything in flight is answered NULL now and the connection is remade,
 * so no late reply can follow. */
static void on_check_timer(uv_timer_t *t)
{
    struct redis_link *l = t->data;
    uint64_t now = now_us();

    if (l->head == NULL) {
        uv_timer_stop(&l->check_timer);
        return;
    }
    if (now - l->head->sent_us < (uint64_t)l->cmd_ms * 1000)
        return;
    log_warn("redis %s: no reply within %u ms; reconnecting", l->name,
             l->cmd_ms);
    while (l->head != NULL) {
        struct pending *p = l->head;
        unlink_pending(l, p);
        p->is_done = true; /* hiredis frees it in its NULL callback */
        l->stats.n_timeouts++;
        l->stats.n_failed++;
        if (p->fn)
            p->fn(p->ctx, NULL);
        p->fn = NULL;
    }
    uv_timer_stop(&l->check_timer);
    if (l->ac != NULL) {
        redisAsyncContext *ac = l->ac;
        bool was_connected = l->is_connected;
        l->ac = NULL;
        redisAsyncFree(ac); /* calls on_disconnect if it was connected */
        if (!was_connected)
            schedule_retry(l);
    }
}

/* ---------- the interface ---------- */

static int parse_addr(struct redis_link *l, const char *addr, char *err,
                      size_t err_cap)
{
    if (addr[0] == '/') {
        if (strlen(addr) >= sizeof l->host) {
            snprintf(err, err_cap, "redis socket path too long");
            return -1;
        }
        snprintf(l->host, sizeof l->host, "%s", addr);
        l->port = 0;
        return 0;
    }
    const char *colon = strrchr(addr, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == addr || *end != '\0' || port < 1 ||
        port > 65535 || (size_t)(colon - addr) >= sizeof l->host) {
        snprintf(err, err_cap, "--redis wants HOST:PORT or a socket path, not %s",
                 addr);
        return -1;
    }
    memcpy(l->host, addr, (size_t)(colon - addr));
    l->host[colon - addr] = '\0';
    l->port = (int)port;
    return 0;
}

struct redis_link *redis_link_new(uv_loop_t *loop, const char *addr,
                                  const char *name, uint32_t cmd_ms,
                                  redis_state_fn on_state, void *ctx,
                                  char *err, size_t err_cap)
{
    struct redis_link *l = mem_calloc(1, sizeof *l);

    if (parse_addr(l, addr, err, err_cap) != 0) {
        free(l);
        return NULL;
    }
    l->loop = loop;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->cmd_ms = cmd_ms ? cmd_ms : 1000;
    l->on_state = on_state;
    l->ctx = ctx;
    l->backoff_ms = BACKOFF_MIN_MS;
    uv_timer_init(loop, &l->retry_timer);
    uv_timer_init(loop, &l->check_timer);
    uv_timer_init(loop, &l->fail_timer);
    l->retry_timer.data = l->check_timer.data = l->fail_timer.data = l;
    l->n_handles_open = 3;
    connect_now(l);
    return l;
}

void redis_link_subscribe(struct redis_link *l, const char *channel,
                          redis_message_fn on_message)
{
    free(l->channel);
    l->channel = mem_strdup(channel);
    l->on_message = on_message;
    if (l->is_connected)
        redisAsyncCommand(l->ac, on_message_reply, l, "SUBSCRIBE %s",
                          l->channel);
}

static struct pending *new_pending(struct redis_link *l, redis_reply_fn fn,
                                   void *ctx)
{
    struct pending *p = mem_calloc(1, sizeof *p);
    p->link = l;
    p->fn = fn;
    p->ctx = ctx;
    p->sent_us = now_us();
    l->stats.n_commands++;
    return p;
}

static void sent(struct redis_link *l, struct pending *p, int rc)
{
    if (rc != REDIS_OK) {
        fail_later(l, p);
        return;
    }
    push_pending(l, p);
    if (!uv_is_active((uv_handle_t *)&l->check_timer))
        uv_timer_start(&l->check_timer, on_check_timer, CHECK_MS, CHECK_MS);
}

void redis_link_cmdv(struct redis_link *l, int argc, const char **argv,
                     const size_t *argvlen, redis_reply_fn fn, void *ctx)
{
    struct pending *p = new_pending(l, fn, ctx);

    if (!l->is_connected || l->ac == NULL) {
        fail_later(l, p);
        return;
    }
    sent(l, p, redisAsyncCommandArgv(l->ac, on_reply, p, argc, argv, argvlen));
}

void redis_link_cmd(struct redis_link *l, redis_reply_fn fn, void *ctx,
                    const char *fmt, ...)
{
    struct pending *p = new_pending(l, fn, ctx);
    va_list ap;

    if (!l->is_connected || l->ac == NULL) {
        fail_later(l, p);
        return;
    }
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(l->ac, on_reply, p, fmt, ap);
    va_end(ap);
    sent(l, p, rc);
}

bool redis_link_is_up(const struct redis_link *l)
{
    return l->is_connected;
}

bool redis_link_is_idle(const struct redis_link *l)
{
    return l->head == NULL && l->failed == NULL;
}

void redis_link_get_stats(const struct redis_link *l,
                          struct redis_link_stats *out)
{
    *out = l->stats;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct redis_link *l = h->data;
    if (--l->n_handles_open == 0) {
        free(l->channel);
        free(l);
    }
}

int redis_link_call_once(const char *addr, uint32_t timeout_ms, int argc,
                         const char **argv)
{
    struct redis_link tmp;
    char err[128];
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    size_t lens[16];

    if (argc > 16 || parse_addr(&tmp, addr, err, sizeof err) != 0)
        return -1;
    redisContext *c = tmp.port ? redisConnectWithTimeout(tmp.host, tmp.port, tv)
                               : redisConnectUnixWithTimeout(tmp.host, tv);
    if (c == NULL || c->err) {
        redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    int rc = r != NULL && r->type != REDIS_REPLY_ERROR ? 0 : -1;
    freeReplyObject(r);
    redisFree(c);
    return rc;
}

void redis_link_free(struct redis_link *l)
{
    if (l == NULL)
        return;
    l->is_closing = true;
    l->on_state = NULL;
    l->on_message = NULL;
    if (l->ac != NULL) {
        redisAsyncContext *ac = l->ac;
        l->ac = NULL;
        redisAsyncFree(ac); /* pending callbacks get NULL */
    }
    on_fail_timer(&l->fail_timer); /* answers what waits for the next turn */
    uv_close((uv_handle_t *)&l->retry_timer, on_handle_closed);
    uv_close((uv_handle_t *)&l->check_timer, on_handle_closed);
    uv_close((uv_handle_t *)&l->fail_timer, on_handle_closed);
}
