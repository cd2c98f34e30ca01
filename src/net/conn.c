/*
 * conn: see conn.h.
 */
#include "net/conn.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/tls.h"

/* One uv_write in flight: the request and a private copy of its bytes. */
struct conn_wreq {
    uv_write_t req;
    size_t len;
    char data[];
};

static void on_wake_idle(uv_idle_t *h)
{
    (void)h; /* its only job is to make the next poll not block */
}

static void wake(struct conn_set *set)
{
    /* An active idle handle makes the loop poll without blocking, so the
     * check phase flushes work queued from timers and signals at once. */
    if (!uv_is_active((uv_handle_t *)&set->wake_idle))
        uv_idle_start(&set->wake_idle, on_wake_idle);
}

/* The kernel's queue is sampled after this much output, so a connection
 * that keeps up costs one ioctl per KQ_SAMPLE_BYTES, not one per write. */
#define KQ_SAMPLE_BYTES 8192

/* An output queue from the pool: a turn's lines (PLAYED + TURN ~40
 * bytes; START + HAND + TURN ~150) fit; more grows it (and it is freed
 * after the flush). 256 and not 2 KiB: a group commit delivers to
 * thousands of connections before any is flushed, each holding one
 * (PERFORMANCE.md, "Third round"). */
#define CONN_POOL_BUF 256
#define CONN_POOL_MAX 4096 /* queues the pool holds: 1 MiB at most */

size_t conn_pending_out(const struct conn *c)
{
    return c->out_len + (c->inflight ? c->inflight->len : 0) + c->kq +
           c->seal_len;
}

/* Reads how many bytes the kernel holds for c and has not sent. */
static void sample_kq(struct conn *c)
{
    int n = 0;

    c->since_kq = 0;
    if (c->fd == -1)
        return;
    c->set->stats.n_kq_samples++;
    /* best effort: without the ioctl, the kernel's queue counts as empty */
    if (ioctl(c->fd, SIOCOUTQNSD, &n) == -1 || n < 0)
        n = 0;
    c->kq = (uint32_t)n;
}

/* Progress that restarts the stall clock: the peer took all it had
 * pending when the clock started, or at least this much. A peer whose
 * receive window opens by a few bytes now and then (the kernel compacting
 * its receive queue) does not count as reading. */
#define STALL_MIN_PROGRESS 4096

/* Bytes not yet sent, from a fresh sample of the kernel's queue. */
static uint64_t unsent(struct conn *c)
{
    sample_kq(c);
    return c->out_len + c->kq +
        (c->inflight ? uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp)
                     : 0);
}

/* Bytes the peer has taken so far: queued minus still unsent. */
static uint64_t delivered(struct conn *c)
{
    uint64_t u = unsent(c);
    return c->n_queued > u ? c->n_queued - u : 0;
}

static bool made_progress(struct conn *c)
{
    uint64_t d = delivered(c);
    uint64_t taken = d > c->stall_mark ? d - c->stall_mark : 0;
    uint64_t enough = c->stall_unsent < STALL_MIN_PROGRESS ? c->stall_unsent
                                                           : STALL_MIN_PROGRESS;
    return taken > 0 && taken >= enough;
}

/* ---------- timers: stalled output ---------- */

static void on_stall_timer(uv_timer_t *t);
static void resume_reading(struct conn *c);
static void queue_close(struct conn *c, const char *reason);

static void rearm(struct conn_set *set)
{
    struct dq_node *first = dq_first(&set->stall_q);
    uint64_t now = uv_now(set->loop);

    if (first == NULL) {
        uv_timer_stop(&set->stall_timer);
        return;
    }
    uint64_t wait = first->deadline_ms > now ? first->deadline_ms - now : 0;
    uv_timer_start(&set->stall_timer, on_stall_timer, wait, 0);
}

static void stall_watch(struct conn *c);

static void on_stall_timer(uv_timer_t *t)
{
    struct conn_set *set = t->data;
    uint64_t now = uv_now(set->loop);
    struct dq_node *n;

    while ((n = dq_first(&set->stall_q)) != NULL && n->deadline_ms <= now) {
        struct conn *c = DQ_ENTRY(n, struct conn, stall);
        dq_remove(n);
        /* Progress is what the peer took since the clock started, counted
         * through the kernel's queue too (see made_progress): a slow
         * reader lives on, one that reads (next to) nothing for stall_ms
         * is closed. */
        if (made_progress(c)) {
            if (c->is_paused && conn_pending_out(c) <= set->limits.lwm) {
                resume_reading(c);
            } else if (conn_pending_out(c) > 0) {
                stall_watch(c);
            } else if (c->is_flush_closing && c->inflight == NULL) {
                queue_close(c, c->close_reason);
            }
            continue;
        }
        set->stats.n_closed_stalled++;
        conn_close(c, c->is_flush_closing ? "close timeout (peer not reading)"
                                          : "output stalled (peer not reading)");
    }
    rearm(set);
}

static void stall_watch(struct conn *c)
{
    bool was_empty = dq_first(&c->set->stall_q) == NULL;
    c->stall_unsent = unsent(c);
    c->stall_mark = c->n_queued > c->stall_unsent ? c->n_queued - c->stall_unsent : 0;
    dq_push(&c->set->stall_q, &c->stall, uv_now(c->set->loop));
    if (was_empty)
        rearm(c->set);
}

/* ---------- output ---------- */

static void mark_dirty(struct conn *c)
{
    if (c->is_dirty || c->is_handed)
        return;
    c->is_dirty = true;
    c->work_next = c->set->dirty;
    c->set->dirty = c;
    wake(c->set);
}

static void queue_close(struct conn *c, const char *reason)
{
    if (c->is_closing)
        return;
    c->is_closing = true;
    c->close_reason = reason;
    if (c->is_reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->is_reading = false;
    }
    dq_remove(&c->stall);
    /* A dirty connection is on the dirty list: it is skipped there, and
     * only queued for closing once it has left it (see run_work). */
    if (!c->is_dirty) {
        c->work_next = c->set->closing;
        c->set->closing = c;
    }
    wake(c->set);
}

static void pause_reading(struct conn *c)
{
    if (c->is_paused || c->is_closing || c->is_handed)
        return;
    c->is_paused = true;
    if (c->is_reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->is_reading = false;
    }
    stall_watch(c);
}

static void resume_reading(struct conn *c)
{
    c->is_paused = false;
    dq_remove(&c->stall);
    if (c->is_closing || c->is_flush_closing)
        return;
    conn_start(c);
}

static void flush(struct conn *c);
static void seal(struct conn *c);
static void handle_eof(struct conn *c);
static void pool_put(struct conn_set *set, char *buf, size_t cap);

static void on_write(uv_write_t *req, int status)
{
    struct conn_wreq *w = (struct conn_wreq *)req;
    struct conn *c = req->handle->data;

    c->inflight = NULL;
    free(w);
    if (c->is_closing || c->is_handed)
        return; /* handed over: ECANCELED, the bytes left were taken */
    if (status < 0) {
        conn_close(c, "write error");
        return;
    }
    flush(c);
    if (c->is_closing)
        return;
    if (c->kq > 0)
        sample_kq(c);
    if (c->is_paused) {
        if (conn_pending_out(c) <= c->set->limits.lwm)
            resume_reading(c);
        else
            stall_watch(c); /* progress: the stall clock restarts */
    } else if (c->is_flush_closing) {
        if (conn_pending_out(c) == 0)
            queue_close(c, c->close_reason);
        else
            stall_watch(c);
    }
}

/* Hands queued output to the kernel: directly if it takes it, otherwise
 * through one uv_write holding a copy of the rest. */
static void flush(struct conn *c)
{
    if (c->is_handed)
        return;
    seal(c);
    if (c->is_closing || c->inflight != NULL || c->out_len == 0)
        return;
    uv_buf_t buf = uv_buf_init(c->out, c->out_len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c, "write error");
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    c->set->stats.bytes_out += done;
    c->since_kq += (uint32_t)done;
    if (c->fd != -1 && (c->kq > 0 || c->since_kq >= KQ_SAMPLE_BYTES)) {
        sample_kq(c);
        /* The kernel holds output the peer has not taken: start the stall
         * clock, as for output queued here. Once the kernel's queue is
         * empty again the clock stops, unless something else runs it. */
        if (c->kq > 0 && !dq_linked(&c->stall))
            stall_watch(c);
        else if (c->kq == 0 && done == c->out_len && !c->is_paused &&
                 !c->is_flush_closing)
            dq_remove(&c->stall);
    }
    if (done < c->out_len) {
        size_t rest = c->out_len - done;
        struct conn_wreq *w = mem_alloc(sizeof *w + rest);
        w->len = rest;
        memcpy(w->data, c->out + done, rest);
        uv_buf_t wb = uv_buf_init(w->data, (unsigned)rest);
        int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &wb, 1, on_write);
        if (rc != 0) {
            free(w);
            conn_close(c, "write error");
            return;
        }
        c->set->stats.bytes_out += rest; /* counted when handed over */
        c->inflight = w;
    }
    /* The queue is empty again: give its memory back, so that a quiet
     * connection costs nothing beyond its structs (to the set's pool,
     * which holds at most CONN_POOL_MAX of them). */
    pool_put(c->set, c->out, c->out_cap);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    if (c->is_flush_closing && c->inflight == NULL)
        queue_close(c, c->close_reason);
}

static void pool_put(struct conn_set *set, char *buf, size_t cap)
{
    if (buf != NULL && cap == CONN_POOL_BUF && set->n_pool < CONN_POOL_MAX &&
        !set->is_closed) {
        memcpy(buf, &set->pool, sizeof set->pool);
        set->pool = buf;
        set->n_pool++;
    } else {
        free(buf);
    }
}

static char *pool_get(struct conn_set *set)
{
    char *buf = set->pool;
    if (buf == NULL)
        return mem_alloc(CONN_POOL_BUF);
    memcpy(&set->pool, buf, sizeof set->pool);
    set->n_pool--;
    return buf;
}

/* Room for len more bytes in the queue, or NULL if the connection is
 * closing or would pass max_out (then it is closed). */
static char *reserve(struct conn *c, size_t len)
{
    if (c->is_closing)
        return NULL;
    if (conn_pending_out(c) + len > c->set->limits.max_out && c->kq > 0)
        sample_kq(c); /* the peer may have read since the last sample */
    if (conn_pending_out(c) + len > c->set->limits.max_out) {
        c->set->stats.n_closed_overflow++;
        conn_close(c, "output queue over limit (peer not reading)");
        return NULL;
    }
    if (c->out == NULL && len <= CONN_POOL_BUF) {
        c->out = pool_get(c->set);
        c->out_cap = CONN_POOL_BUF;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 256;
        while (cap < c->out_len + len)
            cap *= 2;
        c->out = mem_realloc(c->out, cap);
        c->out_cap = (uint32_t)cap;
    }
    char *at = c->out + c->out_len;
    c->out_len += (uint32_t)len;
    c->n_queued += len;
    mark_dirty(c);
    return at;
}

/* Bytes for the socket as they are: plaintext, or TLS's ciphertext. */
static void raw_write(void *ctx, const char *data, size_t len)
{
    struct conn *c = ctx;
    char *at = len > 0 ? reserve(c, len) : NULL;
    if (at != NULL)
        memcpy(at, data, len);
}

/* Plaintext waits to be sealed at the flush; it counts against max_out
 * meanwhile. Before the handshake completes there is no one to read it,
 * so it is dropped (a timeout's ERR line, at most). */
static void tls_write(struct conn *c, const char *data, size_t len)
{
    if (c->is_closing || len == 0 || !tls_conn_is_established(c->tls))
        return;
    if (conn_pending_out(c) + len > c->set->limits.max_out && c->kq > 0)
        sample_kq(c);
    if (conn_pending_out(c) + len > c->set->limits.max_out) {
        c->set->stats.n_closed_overflow++;
        conn_close(c, "output queue over limit (peer not reading)");
        return;
    }
    if (c->seal_len + len > c->seal_cap) {
        size_t cap = c->seal_cap ? c->seal_cap : 256;
        while (cap < c->seal_len + len)
            cap *= 2;
        c->seal = mem_realloc(c->seal, cap);
        c->seal_cap = (uint32_t)cap;
    }
    memcpy(c->seal + c->seal_len, data, len);
    c->seal_len += (uint32_t)len;
    mark_dirty(c);
}

/* Encrypts the waiting plaintext into the output queue (as ciphertext,
 * which reserve() counts from then on) and gives its memory back. */
static void seal(struct conn *c)
{
    if (c->seal_len == 0)
        return;
    char *p = c->seal;
    size_t n = c->seal_len;
    c->seal = NULL;
    c->seal_len = c->seal_cap = 0;
    if (!c->is_closing && tls_conn_write(c->tls, p, n) != 0)
        conn_close(c, "TLS write failed");
    free(p);
}

void conn_write(struct conn *c, const char *data, size_t len)
{
    if (c->tls != NULL)
        tls_write(c, data, len);
    else
        raw_write(c, data, len);
}

void conn_write_line(struct conn *c, const char *text, size_t len)
{
    if (c->tls != NULL) {
        tls_write(c, text, len);
        tls_write(c, "\n", 1);
        return;
    }
    char *at = reserve(c, len + 1);
    if (at == NULL)
        return;
    memcpy(at, text, len);
    at[len] = '\n';
}

/* ---------- the loop's work: flushes and closes ---------- */

static void on_closed(uv_handle_t *h)
{
    struct conn *c = (struct conn *)h;
    tls_conn_free(c->tls);
    free(c->seal);
    free(c->in);
    free(c->out);
    free(c);
}

/* Numbers c and puts it in the set's list of open connections. */
static void link_conn(struct conn_set *set, struct conn *c)
{
    c->id = ++set->next_id;
    c->next = set->all;
    if (set->all)
        set->all->prev = c;
    set->all = c;
    set->n_open++;
}

/* Takes c out of every list of the set, before it is freed. */
static void unlink_conn(struct conn_set *set, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        set->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    set->n_open--;
    dq_remove(&c->stall);
    if (c->is_kick_queued) { /* rare: released, then closed */
        struct conn **p = &set->kicks;
        while (*p != c)
            p = &(*p)->kick_next;
        *p = c->kick_next;
    }
}

static void run_work(struct conn_set *set)
{
    /* Closing a connection can write to or close others (a match
     * announcing that a player left), and a released connection's input
     * can do anything a command does, so loop until every list is empty. */
    while (set->dirty != NULL || set->closing != NULL || set->kicks != NULL) {
        while (set->kicks != NULL) {
            struct conn *c = set->kicks;
            set->kicks = c->kick_next;
            c->is_kick_queued = false;
            if (c->is_closing || c->is_held)
                continue;
            conn_kick(c);
            if (c->is_eof_pending && !c->is_closing && !c->is_held) {
                c->is_eof_pending = false;
                handle_eof(c);
            }
            conn_start(c);
        }
        while (set->dirty != NULL) {
            struct conn *c = set->dirty;
            set->dirty = c->work_next;
            c->is_dirty = false;
            if (c->is_closing) {
                c->work_next = set->closing;
                set->closing = c;
                continue;
            }
            flush(c);
            if (!c->is_closing && conn_pending_out(c) > set->limits.hwm)
                pause_reading(c);
        }
        while (set->closing != NULL) {
            struct conn *c = set->closing;
            set->closing = c->work_next;
            if (set->ops->on_close)
                set->ops->on_close(c, c->close_reason);
            unlink_conn(set, c);
            uv_close((uv_handle_t *)&c->tcp, on_closed);
        }
    }
    uv_idle_stop(&set->wake_idle);
}

static void on_check(uv_check_t *h)
{
    run_work(h->data);
}

void conn_set_flush(struct conn_set *set)
{
    run_work(set);
}

/* ---------- input ---------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = (struct conn *)h;
    (void)suggested;
    buf->base = c->set->read_buf;
    buf->len = sizeof c->set->read_buf;
    /* Held: read no further than the input cap (cap_held_input stops
     * reading once it is reached, so the room here is never 0). */
    size_t max_in = c->set->limits.max_in;
    if (c->is_held && c->in_len < max_in && max_in - c->in_len < buf->len)
        buf->len = max_in - c->in_len;
}

/* A held connection keeps reading (no epoll_ctl pair per held command:
 * PERFORMANCE.md, "Cost of a move") into c->in, up to the input cap; at
 * the cap it stops, and the rest waits in the kernel as before. */
static void cap_held_input(struct conn *c)
{
    if (c->is_held && c->is_reading && c->in_len >= c->set->limits.max_in) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->is_reading = false;
    }
}

static bool may_read(const struct conn *c)
{
    return !c->is_reading && !c->is_closing && !c->is_paused &&
           !c->is_flush_closing && !c->is_handed && !c->is_eof_pending &&
           !c->set->is_input_frozen &&
           !(c->is_held &&
             (c->tls != NULL || c->in_len >= c->set->limits.max_in));
}

static void keep_input(struct conn *c, const char *data, size_t len)
{
    if (len == 0) {
        free(c->in);
        c->in = NULL;
        c->in_len = c->in_cap = 0;
        return;
    }
    if (data == c->in) {
        /* already in place: nothing to do, or move the tail down */
        if (len != c->in_len)
            memmove(c->in, c->in + (c->in_len - len), len);
        c->in_len = (uint32_t)len;
        return;
    }
    if (len > c->in_cap) {
        c->in = mem_realloc(c->in, len);
        c->in_cap = (uint32_t)len;
    }
    memcpy(c->in, data, len);
    c->in_len = (uint32_t)len;
}

static void tls_in(struct conn *c, const char *data, size_t len);

static void deliver(struct conn *c, const char *data, size_t len)
{
    bool was_tls = c->tls != NULL;
    size_t used = c->set->ops->on_data(c, data, len);
    if (c->is_closing)
        return;
    if (used > len)
        used = len;
    if (!was_tls && c->tls != NULL) {
        /* conn_start_tls: what on_data left is the first ciphertext.
         * Kept input is taken out of c->in first, which from now on
         * holds plaintext only. */
        char *kept = data == c->in ? c->in : NULL;
        if (kept != NULL) {
            c->in = NULL;
            c->in_len = c->in_cap = 0;
        }
        tls_in(c, data + used, len - used);
        free(kept);
        return;
    }
    if (len - used > c->set->limits.max_in) {
        conn_close(c, "input buffer over limit");
        return;
    }
    if (data == c->in && used > 0 && used < len) {
        memmove(c->in, c->in + used, len - used);
        c->in_len = (uint32_t)(len - used);
    } else {
        keep_input(c, data + used, len - used);
    }
    cap_held_input(c);
}

/* New bytes: offered straight from the read buffer when nothing is kept,
 * else appended to what is kept. */
static void arrive(struct conn *c, const char *data, size_t len)
{
    /* TLS holds as it always did (conn_hold): its plaintext is offered. */
    bool is_keeping = c->is_held && c->tls == NULL;
    if (c->in_len == 0 && !is_keeping) {
        deliver(c, data, len);
        return;
    }
    size_t total = c->in_len + len;
    if (total > c->in_cap) {
        c->in = mem_realloc(c->in, total);
        c->in_cap = (uint32_t)total;
    }
    memcpy(c->in + c->in_len, data, len);
    c->in_len = (uint32_t)total;
    /* Held: kept, offered at conn_release (one command at a time,
     * PROTOCOL §1). */
    if (is_keeping)
        cap_held_input(c);
    else
        deliver(c, c->in, total);
}

/* The peer's EOF seen while held: handled once the held command is
 * answered and what was read before it is offered (PROTOCOL §9,
 * half-close), from the release's kick. */
static void defer_eof(struct conn *c)
{
    c->is_eof_pending = true;
    if (c->is_reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->is_reading = false;
    }
}

static void handle_eof(struct conn *c)
{
    if (c->set->ops->on_eof)
        c->set->ops->on_eof(c);
    else
        conn_close(c, "peer closed");
}

/* Ciphertext from the peer: the handshake advances, and each record's
 * plaintext arrives as bytes from a socket would. The window is always
 * used up (a partial record waits inside OpenSSL), unless the connection
 * closes on the way. */
static void tls_in(struct conn *c, const char *data, size_t len)
{
    struct tls_conn *t = c->tls;

    tls_conn_input(t, data, len);
    while (!c->is_closing && !c->is_flush_closing) {
        bool was_established = tls_conn_is_established(t);
        ssize_t n = tls_conn_read(t, c->set->plain_buf,
                                  sizeof c->set->plain_buf);
        if (!was_established && tls_conn_is_established(t) &&
            c->set->ops->on_secure != NULL) {
            c->set->ops->on_secure(c);
            if (c->is_closing)
                break;
        }
        if (n == 0)
            break;
        if (n == TLS_EOF) {
            if (c->is_reading) {
                uv_read_stop((uv_stream_t *)&c->tcp);
                c->is_reading = false;
            }
            handle_eof(c);
            break;
        }
        if (n < 0) {
            /* The reason lives in t until the connection is freed, which
             * is after on_close has logged it. */
            conn_close(c, tls_conn_error(t));
            break;
        }
        arrive(c, c->set->plain_buf, (size_t)n);
    }
    tls_conn_input(t, NULL, 0);
}

int conn_start_tls(struct conn *c, struct tls_server *ts)
{
    assert(c->tls == NULL);
    c->tls = tls_conn_new(ts, raw_write, c);
    return c->tls != NULL ? 0 : -1;
}

void conn_tls_describe(const struct conn *c, char *out, size_t cap)
{
    if (c->tls != NULL && tls_conn_is_established(c->tls))
        tls_conn_describe(c->tls, out, cap);
    else if (cap > 0)
        out[0] = '\0';
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = (struct conn *)s;

    if (nread == 0 || c->is_closing)
        return;
    if (nread < 0) {
        if (c->is_reading) {
            uv_read_stop(s);
            c->is_reading = false;
        }
        if (nread == UV_EOF && c->is_held && c->tls == NULL)
            defer_eof(c);
        else if (nread == UV_EOF)
            handle_eof(c);
        else
            conn_close(c, "read error");
        return;
    }
    c->set->stats.bytes_in += (uint64_t)nread;
    if (c->tls != NULL)
        tls_in(c, buf->base, (size_t)nread);
    else
        arrive(c, buf->base, (size_t)nread);
    if (c->is_closing)
        return;
    /* Answer now: the replies to everything in this read leave in one
     * write, before the loop polls again. */
    if (c->is_dirty) {
        flush(c);
        if (!c->is_closing && conn_pending_out(c) > c->set->limits.hwm)
            pause_reading(c);
    }
}

void conn_kick(struct conn *c)
{
    if (c->is_closing || c->is_held || c->is_handed)
        return;
    /* Even with no bytes: the handler may hold input of its own (parsed
     * WebSocket messages) to offer. */
    deliver(c, c->in, c->in_len);
}

void conn_hold(struct conn *c)
{
    /* Reading goes on (arrive keeps the bytes; cap_held_input stops at
     * the input cap, which deliver checks after this on_data). Not for
     * TLS: one record's plaintext (up to 16 KiB) could pass the cap, so
     * it stops reading as it always did. */
    c->is_held = true;
    if (c->tls != NULL && c->is_reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->is_reading = false;
    }
}

void conn_release(struct conn *c)
{
    c->is_held = false;
    if (c->is_closing || c->is_kick_queued)
        return;
    c->is_kick_queued = true;
    c->kick_next = c->set->kicks;
    c->set->kicks = c;
    wake(c->set);
}

void conn_start(struct conn *c)
{
    if (!may_read(c))
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c, "cannot start reading");
        return;
    }
    c->is_reading = true;
}

/* ---------- lifecycle ---------- */

void conn_close(struct conn *c, const char *reason)
{
    queue_close(c, reason);
}

void conn_close_after_flush(struct conn *c, const char *reason)
{
    if (c->is_closing || c->is_flush_closing)
        return;
    if (c->tls != NULL) {
        seal(c);
        tls_conn_shutdown(c->tls); /* close_notify, after the output */
    }
    c->is_flush_closing = true;
    c->close_reason = reason;
    if (c->is_reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->is_reading = false;
    }
    if (conn_pending_out(c) == 0) {
        queue_close(c, reason);
        return;
    }
    mark_dirty(c); /* the flush notices is_flush_closing when done */
    stall_watch(c);
}

/* Socket options of every accepted connection. */
static void tune(struct conn *c)
{
    uv_os_fd_t fd;

    c->fd = uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 ? fd : -1;
    /* best effort: a socket without these options still works */
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 60);
    if (c->fd != -1 && c->set->limits.sndbuf > 0) {
        /* A fixed send buffer also turns off the kernel's autotuning,
         * which would otherwise grow it to megabytes for a peer that
         * never reads (the kernel doubles the value for its overhead). */
        int v = (int)c->set->limits.sndbuf;
        if (setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == -1)
            log_event(LOG_WARN, "conn.sndbuf_failed", "conn=%" PRIu64 " error=%s",
                      c->id, strerror(errno));
    }
}

struct conn *conn_adopt(struct conn_set *set, int fd,
                        const struct net_addr *addr, uint16_t port)
{
    struct conn *c = mem_calloc(1, sizeof *c);
    int rc;

    c->fd = -1;
    if ((rc = uv_tcp_init(set->loop, &c->tcp)) != 0) {
        log_event(LOG_WARN, "accept.failed", "step=%s error=%s", "uv_tcp_init",
                  uv_strerror(rc));
        free(c);
        close(fd);
        return NULL;
    }
    c->tcp.data = c;
    c->set = set;
    if ((rc = uv_tcp_open(&c->tcp, fd)) != 0) {
        log_event(LOG_WARN, "accept.failed", "step=%s error=%s", "uv_tcp_open",
                  uv_strerror(rc));
        close(fd); /* not libuv's yet */
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        return NULL;
    }
    c->addr = *addr;
    c->port = port;
    link_conn(set, c);
    tune(c);
    return c;
}

ssize_t conn_peek(const struct conn *c, char *buf, size_t cap)
{
    if (c->fd == -1)
        return -1;
    for (;;) {
        ssize_t n = recv(c->fd, buf, cap, MSG_PEEK | MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

struct conn *conn_accept(struct conn_set *set, uv_stream_t *server)
{
    struct conn *c = mem_calloc(1, sizeof *c);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc;

    c->fd = -1;
    if ((rc = uv_tcp_init(set->loop, &c->tcp)) != 0) {
        log_event(LOG_WARN, "accept.failed", "step=%s error=%s", "uv_tcp_init",
                  uv_strerror(rc));
        free(c);
        return NULL;
    }
    c->tcp.data = c;
    c->set = set;
    if ((rc = uv_accept(server, (uv_stream_t *)&c->tcp)) != 0) {
        log_event(LOG_WARN, "accept.failed", "step=%s error=%s", "uv_accept",
                  uv_strerror(rc));
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        return NULL;
    }
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        net_addr_from_sockaddr(&c->addr, (struct sockaddr *)&ss);
        if (ss.ss_family == AF_INET)
            c->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            c->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    link_conn(set, c);
    tune(c);
    return c;
}

int conn_set_init(struct conn_set *set, uv_loop_t *loop,
                  const struct conn_ops *ops, const struct conn_limits *lim)
{
    memset(set, 0, sizeof *set);
    set->loop = loop;
    set->ops = ops;
    set->limits = *lim;
    dq_init(&set->stall_q, lim->stall_ms);
    if (uv_check_init(loop, &set->flush_check) != 0 ||
        uv_idle_init(loop, &set->wake_idle) != 0 ||
        uv_timer_init(loop, &set->stall_timer) != 0)
        return -1;
    set->flush_check.data = set;
    set->stall_timer.data = set;
    uv_check_start(&set->flush_check, on_check);
    /* The check handle alone must not keep the loop alive. */
    uv_unref((uv_handle_t *)&set->flush_check);
    return 0;
}

void conn_set_close(struct conn_set *set)
{
    set->is_closed = true;
    while (set->pool != NULL)
        free(pool_get(set));
    uv_close((uv_handle_t *)&set->flush_check, NULL);
    uv_close((uv_handle_t *)&set->wake_idle, NULL);
    uv_close((uv_handle_t *)&set->stall_timer, NULL);
}

/* ---------- zero-downtime upgrade ---------- */

void conn_set_freeze_input(struct conn_set *set, bool is_frozen)
{
    set->is_input_frozen = is_frozen;
    for (struct conn *c = set->all; c != NULL; c = c->next) {
        if (!is_frozen) {
            conn_start(c);
        } else if (c->is_reading) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            c->is_reading = false;
        }
    }
}

static void on_handed_close(uv_handle_t *h)
{
    struct conn *c = (struct conn *)h;
    c->set->n_handing--;
}

int conn_hand_over(struct conn *c)
{
    assert(c->tls == NULL && !c->is_handed && c->fd != -1);
    int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    /* What the uv_write in flight has not written yet is the tail of its
     * copy: libuv counts the bytes it still holds. It goes before the
     * queue, which was never handed to the kernel. */
    size_t rest = 0;
    if (c->inflight != NULL) {
        rest = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
        if (rest > c->inflight->len)
            rest = c->inflight->len;
    }
    if (rest > 0) {
        char *out = mem_alloc(rest + c->out_len);
        memcpy(out, c->inflight->data + (c->inflight->len - rest), rest);
        if (c->out_len > 0)
            memcpy(out + rest, c->out, c->out_len);
        free(c->out);
        c->out = out;
        c->out_len = c->out_cap = (uint32_t)(rest + c->out_len);
    }
    c->inflight = NULL; /* freed by its callback (ECANCELED) */
    c->is_reading = false;
    c->is_handed = true;
    dq_remove(&c->stall);
    c->set->n_handing++;
    uv_close((uv_handle_t *)&c->tcp, on_handed_close);
    c->fd = fd;
    return 0;
}

int conn_take_back(struct conn *c)
{
    int rc, fd = c->fd;

    assert(c->is_handed && c->set->n_handing == 0);
    c->is_handed = false;
    c->fd = -1;
    if ((rc = uv_tcp_init(c->set->loop, &c->tcp)) == 0) {
        c->tcp.data = c;
        if ((rc = uv_tcp_open(&c->tcp, fd)) != 0)
            close(fd);
    } else {
        close(fd);
    }
    if (rc != 0) {
        /* No handle: it cannot go through the close path; it is dropped. */
        log_event(LOG_WARN, "upgrade.take_back_failed",
                  "conn=%" PRIu64 " error=%s", c->id, uv_strerror(rc));
        c->fd = -1;
        c->is_handed = true;
        return -1;
    }
    c->fd = fd;
    if (c->out_len > 0)
        mark_dirty(c);
    if (c->is_paused || c->is_flush_closing || conn_pending_out(c) > 0)
        stall_watch(c);
    conn_start(c);
    return 0;
}

void conn_forget(struct conn *c)
{
    struct conn_set *set = c->set;

    assert(c->is_handed);
    if (c->fd != -1)
        close(c->fd);
    unlink_conn(set, c);
    /* The work lists may still name it: they are walked again only by a
     * loop that has nothing more to do with handed connections. */
    for (struct conn **p = &set->dirty; *p != NULL; p = &(*p)->work_next)
        if (*p == c) {
            *p = c->work_next;
            break;
        }
    free(c->seal);
    free(c->in);
    free(c->out);
    free(c);
}

void conn_restore(struct conn *c, uint64_t id, const char *in, size_t in_len,
                  const char *out, size_t out_len)
{
    c->id = id;
    if (id > c->set->next_id)
        c->set->next_id = id;
    if (in_len > 0)
        keep_input(c, in, in_len);
    if (out_len > 0)
        raw_write(c, out, out_len);
}

struct conn *conn_new_detached(struct conn_set *set)
{
    struct conn *c = mem_calloc(1, sizeof *c);

    c->set = set;
    c->fd = -1;
    c->tcp.data = c;
    link_conn(set, c);
    return c;
}

void conn_free_detached(struct conn *c)
{
    struct conn_set *set = c->set;

    if (set->ops->on_close)
        set->ops->on_close(c, "detached connection freed");
    /* Work lists may still name it: drop them (the driver owns them all). */
    set->dirty = NULL;
    set->closing = NULL;
    set->kicks = NULL;
    c->is_kick_queued = false;
    unlink_conn(set, c);
    tls_conn_free(c->tls);
    free(c->seal);
    free(c->in);
    free(c->out);
    free(c);
}

void conn_feed_detached(struct conn *c, const char *data, size_t len)
{
    if (c->is_closing || c->is_flush_closing || c->is_held || len == 0)
        return;
    if (c->tls != NULL)
        tls_in(c, data, len);
    else
        arrive(c, data, len);
    seal(c);
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
}
