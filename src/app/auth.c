/*
 * auth: see auth.h.
 *
 * The path of one `NICK name password`: cmd_nick checks the name, then
 * the back-off of the address and of the name, the address's checks in
 * progress and the FIFO's room, and queues a check (the session waits
 * for its answer, PROTOCOL §1). pump() hands checks to the thread pool
 * while fewer than n_threads are hashing; hash_done() counts a wrong
 * password against the address and the name, or, for a right one, takes
 * the name in the lobby there and then (a new name is first registered
 * by the store's writer).
 */
#include "app/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/relay.h"
#include "app/server.h"
#include "app/session.h"
#include "app/session_internal.h"
#include "base/log.h"
#include "base/mem.h"
#include "game/lobby.h"
#include "net/addr.h"
#include "net/conn.h"
#include "proto/cmd.h"
#include "store/store.h"

#define NAME_FAILS_FACTOR 4      /* a name sees many addresses */
#define BACKOFF_MAX_MS 300000    /* the longest window: 5 min */
#define FORGET_MS 900000         /* failures older than 15 min are forgiven */
#define GOOD_MAX 4               /* addresses remembered per name */
#define MAX_RECORDS 65536        /* per map: bounds memory under attack */

/* Failures of one address, or of one registered name. */
struct record {
    char key[NET_ADDR_STRLEN];   /* address text, or the name */
    uint32_t n_fails;            /* wrong passwords in a row */
    uint64_t last_fail_ms;
    uint64_t until_ms;           /* back-off: refuse checks before this */
    unsigned n_checking;         /* addresses: checks queued or hashing */
    unsigned n_good;             /* names: addresses that logged in */
    char good[GOOD_MAX][NET_ADDR_STRLEN];
};

struct check {
    uv_work_t req;
    struct auth *a;
    struct session *s;           /* a reference is held (wait_for_answer) */
    struct check *next, *prev;   /* in a FIFO */
    char name[LOBBY_NAME_MAX + 1];
    char addr[NET_ADDR_STRLEN];
    char password[OUT_LINE_CAP];
    size_t password_len;
    char hash[crypto_pwhash_STRBYTES];
    uint64_t hash_ns;            /* how long the hash took */
    bool is_new, is_ok;
};

struct fifo {
    struct check *head, *tail;
};

struct auth {
    struct server *srv;
    unsigned n_threads, queue_cap, per_ip, free_fails;
    uint64_t backoff_ms;
    unsigned n_hashing, n_queued;
    double avg_hash_ms;          /* moving average: the queue's speed */
    bool is_measured;            /* avg_hash_ms is more than a guess */
    struct fifo known, others;   /* known: from an address that logged in */
    struct strmap by_addr, by_name; /* key -> struct record (key inside) */
    struct strmap registering;   /* name -> struct check (key inside) */
    uint64_t last_prune_ms;
    bool is_stopping;
};

/* ---------- records ---------- */

static struct record *record_get(struct strmap *m, const char *key)
{
    return strmap_get(m, key, strlen(key));
}

static bool is_idle(const struct record *r, uint64_t now)
{
    return r->n_checking == 0 && r->n_good == 0 &&
           (r->n_fails == 0 || now - r->last_fail_ms > FORGET_MS);
}

/* Drops every idle record; called only when a map is full, so the walk
 * (O(slots)) is paid at most once per MAX_RECORDS/4 new records. */
static void prune(struct strmap *m, uint64_t now)
{
    struct record **idle = mem_alloc(m->n_used * sizeof *idle + 1);
    size_t n = 0;

    /* Collect first: deletion shifts slots under a walk. */
    for (size_t i = 0; i < m->n_slots; i++) {
        struct record *r = strmap_slot_value(m, i);
        if (r != NULL && is_idle(r, now))
            idle[n++] = r;
    }
    for (size_t i = 0; i < n; i++) {
        strmap_del(m, idle[i]->key, strlen(idle[i]->key));
        free(idle[i]);
    }
    free(idle);
}

/* The record for key, created if needed; NULL if the map is full of
 * records still in use (an attack from very many addresses). */
static struct record *record_make(struct auth *a, struct strmap *m,
                                  const char *key, uint64_t now)
{
    struct record *r = record_get(m, key);

    if (r != NULL)
        return r;
    if (m->n_used >= MAX_RECORDS) {
        /* At most one walk a second, however hard the map is pushed. */
        if (now - a->last_prune_ms < 1000)
            return NULL;
        a->last_prune_ms = now;
        prune(m, now);
        if (m->n_used >= MAX_RECORDS)
            return NULL;
    }
    r = mem_calloc(1, sizeof *r);
    snprintf(r->key, sizeof r->key, "%s", key);
    strmap_put(m, r->key, r);
    return r;
}

static void record_drop_if_idle(struct strmap *m, struct record *r,
                                uint64_t now)
{
    if (r != NULL && is_idle(r, now)) {
        strmap_del(m, r->key, strlen(r->key));
        free(r);
    }
}

/* Milliseconds left in r's back-off window, or 0. */
static uint64_t backoff_left(const struct record *r, uint64_t now)
{
    if (r == NULL || now - r->last_fail_ms > FORGET_MS || now >= r->until_ms)
        return 0;
    return r->until_ms - now;
}

/* A wrong password: past free_fails, the window doubles each time. */
static void record_fail(struct record *r, unsigned free_fails,
                        uint64_t backoff_ms, uint64_t now)
{
    if (r == NULL)
        return;
    if (now - r->last_fail_ms > FORGET_MS)
        r->n_fails = 0;
    if (now < r->until_ms) {
        /* A check queued before the window opened: it does not grow the
         * window, or a crowd would push it to the maximum at once. */
        r->last_fail_ms = now;
        return;
    }
    r->n_fails++;
    r->last_fail_ms = now;
    if (r->n_fails <= free_fails)
        return;
    uint32_t shift = r->n_fails - free_fails - 1;
    uint64_t ms = shift >= 20 ? BACKOFF_MAX_MS : backoff_ms << shift;
    r->until_ms = now + (ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS);
}

static bool is_good(const struct record *r, const char *addr)
{
    for (unsigned i = 0; r != NULL && i < r->n_good; i++)
        if (strcmp(r->good[i], addr) == 0)
            return true;
    return false;
}

/* addr logged into the name: remember it (most recent first). */
static void record_good(struct record *r, const char *addr)
{
    unsigned i = 0;

    if (r == NULL)
        return;
    while (i < r->n_good && strcmp(r->good[i], addr) != 0)
        i++;
    if (i == r->n_good && r->n_good < GOOD_MAX)
        r->n_good++;
    if (i == GOOD_MAX)
        i = GOOD_MAX - 1; /* forget the oldest */
    memmove(r->good[1], r->good[0], i * sizeof r->good[0]);
    snprintf(r->good[0], sizeof r->good[0], "%s", addr);
}

/* ---------- the state ---------- */

struct auth *auth_new(struct server *srv)
{
    struct auth *a = mem_calloc(1, sizeof *a);
    const struct config *cfg = srv->cfg;

    a->srv = srv;
    a->n_threads = cfg->auth_threads;
    if (a->n_threads == 0) {
        /* Leave a core to the loop; the writer thread and libuv's pool
         * mostly wait. */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        a->n_threads = n > 1 ? (unsigned)n - 1 : 1;
    }
    a->queue_cap = cfg->auth_queue;
    a->per_ip = cfg->auth_per_ip;
    a->free_fails = cfg->auth_free_fails;
    a->backoff_ms = cfg->auth_backoff_ms;
    a->avg_hash_ms = 100; /* until measured */
    strmap_init(&a->by_addr);
    strmap_init(&a->by_name);
    strmap_init(&a->registering);
    return a;
}

static void free_records(struct strmap *m)
{
    /* The map borrows its keys from the records: collect, then free. */
    size_t n = 0;
    struct record **all = mem_alloc(m->n_used * sizeof *all + 1);
    for (size_t i = 0; i < m->n_slots; i++) {
        struct record *r = strmap_slot_value(m, i);
        if (r != NULL)
            all[n++] = r;
    }
    strmap_free(m);
    for (size_t i = 0; i < n; i++)
        free(all[i]);
    free(all);
}

void auth_free(struct auth *a)
{
    if (a == NULL)
        return;
    free_records(&a->by_addr);
    free_records(&a->by_name);
    strmap_free(&a->registering);
    free(a);
}

/* ---------- answering ---------- */

/* The one exit of a queued check: reply, release the session. */
static void finish(struct check *k, const char *err_code, const char *err_text)
{
    struct auth *a = k->a;
    struct session *s = k->s;
    struct server *srv = a->srv;
    char token[LOBBY_TOKEN_LEN + 1];
    uint64_t now = uv_now(srv->loop);
    struct record *r = record_get(&a->by_addr, k->addr);

    if (r != NULL) {
        r->n_checking--;
        record_drop_if_idle(&a->by_addr, r, now);
    }
    if (k->is_new)
        strmap_del(&a->registering, k->name, strlen(k->name));
    if (!session_is_gone(s) && s->member != NULL) {
        if (err_code != NULL) {
            session_reply_err(s, err_code, err_text);
        } else if (srv->cluster != NULL) {
            /* In a cluster the name must also be free on every other
             * node: claimed in Redis first (relay_nick), which answers
             * NAMETAKEN as lobby_nick does on one node. Our wait ends
             * before that one starts; the extra reference keeps s. */
            char name[LOBBY_NAME_MAX + 1];
            snprintf(name, sizeof name, "%s", k->name);
            session_ref(s);
            session_answered(s);
            relay_nick(s, name, true);
            sodium_memzero(k, sizeof *k);
            free(k);
            session_unref(s);
            return;
        } else {
            /* Decided now: whoever else checked a password for this name
             * meanwhile did not hold it (issue 8). */
            enum lobby_code rc = lobby_nick(srv->lobby, s->member, k->name,
                                            strlen(k->name), true, token);
            if (rc != LOBBY_OK) {
                session_reply_code(s, rc);
            } else {
                dq_remove(&s->nick_node);
                session_reply(s, "OK NICK %s %s", k->name, token);
            }
        }
    }
    session_answered(s); /* may free the session */
    sodium_memzero(k, sizeof *k);
    free(k);
}

/* The name is k's: the address proved it knows the password, so its
 * failures are forgiven and it is remembered for the name. The name's
 * own count is not reset: an owner who logs in often must not buy an
 * attacker elsewhere a fresh set of free guesses each time. */
static void logged_in(struct check *k)
{
    struct auth *a = k->a;
    uint64_t now = uv_now(a->srv->loop);
    struct record *r = record_get(&a->by_addr, k->addr);

    if (r != NULL)
        r->n_fails = 0;
    record_good(record_make(a, &a->by_name, k->name, now), k->addr);
    finish(k, NULL, NULL);
}

static void pump(struct auth *a);
static void trim(struct auth *a);

static void on_registered(struct store_job *job)
{
    struct check *k = job->ctx;
    struct server *srv = k->a->srv;

    if (job->rc == STORE_OK) {
        server_account_add(srv, k->name, k->hash);
        log_info("account %s registered", k->name);
        logged_in(k);
    } else if (job->rc == STORE_EXISTS) {
        finish(k, "BADPASS", "that name is registered");
    } else {
        finish(k, "UNAVAILABLE", "could not save the account, try again");
    }
    free(job);
}

/* Thread pool: the slow, memory-hard part. Touches only k. */
static void hash_work(uv_work_t *req)
{
    struct check *k = req->data;
    uint64_t t0 = uv_hrtime();

    if (k->is_new)
        k->is_ok = crypto_pwhash_str(k->hash, k->password, k->password_len,
                                     crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                     crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
    else
        k->is_ok = crypto_pwhash_str_verify(k->hash, k->password,
                                            k->password_len) == 0;
    sodium_memzero(k->password, sizeof k->password);
    k->hash_ns = uv_hrtime() - t0;
}

static void hash_done(uv_work_t *req, int status)
{
    struct check *k = req->data;
    struct auth *a = k->a;
    struct server *srv = a->srv;
    uint64_t now = uv_now(srv->loop);

    a->n_hashing--;
    if (status == 0) {
        double ms = (double)k->hash_ns / 1e6;
        a->avg_hash_ms = a->is_measured ? 0.8 * a->avg_hash_ms + 0.2 * ms : ms;
        a->is_measured = true;
    }
    pump(a); /* the next check starts hashing before this one is answered */
    trim(a);
    if (status != 0 || (k->is_new && !k->is_ok)) {
        finish(k, "INTERNAL", "could not check the password");
    } else if (!k->is_new && !k->is_ok) {
        record_fail(record_get(&a->by_addr, k->addr), a->free_fails,
                    a->backoff_ms, now);
        record_fail(record_make(a, &a->by_name, k->name, now),
                    a->free_fails * NAME_FAILS_FACTOR, a->backoff_ms, now);
        log_info("wrong password for %s from %s", k->name, k->addr);
        finish(k, "BADPASS", "wrong password for that name");
    } else if (!k->is_new) {
        logged_in(k);
    } else if (srv->store == NULL) { /* the server is shutting down */
        finish(k, "UNAVAILABLE", "the server is shutting down");
    } else {
        struct store_job *job = mem_calloc(1, sizeof *job);
        job->kind = STORE_JOB_REGISTER;
        snprintf(job->name, sizeof job->name, "%s", k->name);
        snprintf(job->hash, sizeof job->hash, "%s", k->hash);
        job->done = on_registered;
        job->ctx = k;
        store_submit(srv->store, job);
    }
}

static struct check *pop(struct fifo *q)
{
    struct check *k = q->head;
    if (k != NULL) {
        q->head = k->next;
        if (q->head == NULL)
            q->tail = NULL;
        else
            q->head->prev = NULL;
        k->next = NULL;
    }
    return k;
}

static struct check *pop_tail(struct fifo *q)
{
    struct check *k = q->tail;
    if (k != NULL) {
        q->tail = k->prev;
        if (q->tail == NULL)
            q->head = NULL;
        else
            q->tail->next = NULL;
        k->prev = NULL;
    }
    return k;
}

static void push(struct fifo *q, struct check *k)
{
    k->next = NULL;
    k->prev = q->tail;
    if (q->tail)
        q->tail->next = k;
    else
        q->head = k;
    q->tail = k;
}

/* How long a check queued behind n others waits, at the measured speed. */
static double wait_ms(const struct auth *a, unsigned n)
{
    return ((double)n / a->n_threads + 1) * a->avg_hash_ms;
}

/* A check that would be answered after the NICK deadline (PROTOCOL §6)
 * only costs a hash for a closed connection: half the deadline, as part
 * of it may be used already. */
static double wait_limit_ms(const struct auth *a)
{
    return a->srv->cfg->nick_timeout_ms / 2.0;
}

/* When hashing turns out slower than the queue was admitted for (a burst
 * that came before the first hash was timed, a busy machine), the newest
 * checks are told to try again now rather than time out. */
static void trim(struct auth *a)
{
    while (a->n_queued > 0 && wait_ms(a, a->n_queued - 1) > wait_limit_ms(a)) {
        struct check *k = pop_tail(&a->others);
        if (k == NULL)
            k = pop_tail(&a->known);
        a->n_queued--;
        finish(k, "UNAVAILABLE", "password checks are slow right now, try again");
    }
}

/* Starts queued checks while fewer than n_threads hash. */
static void pump(struct auth *a)
{
    while (a->n_hashing < a->n_threads) {
        struct check *k = pop(&a->known);
        if (k == NULL)
            k = pop(&a->others);
        if (k == NULL)
            return;
        a->n_queued--;
        if (session_is_gone(k->s)) { /* gone while it waited: no hash for it */
            finish(k, NULL, NULL);
            continue;
        }
        k->req.data = k;
        if (uv_queue_work(a->srv->loop, &k->req, hash_work, hash_done) != 0) {
            finish(k, "INTERNAL", "could not check the password");
            continue;
        }
        a->n_hashing++;
    }
}

bool auth_is_idle(const struct auth *a)
{
    return a == NULL || (a->n_hashing == 0 && a->n_queued == 0);
}

void auth_stop(struct auth *a)
{
    struct check *k;

    a->is_stopping = true;
    while ((k = pop(&a->known)) != NULL || (k = pop(&a->others)) != NULL) {
        a->n_queued--;
        finish(k, "UNAVAILABLE", "the server is shutting down");
    }
}

/* ---------- the verb ---------- */

static void ratelimited(struct session *s, const char *what, uint64_t left_ms)
{
    char text[128];
    snprintf(text, sizeof text, "too many wrong passwords %s; try again in %llu s",
             what, (unsigned long long)(left_ms + 999) / 1000);
    session_reply_err(s, "RATELIMIT", text);
}

static void nick_with_password(struct session *s, struct cmd_word name,
                               struct cmd_word password)
{
    struct server *srv = s->srv;
    struct auth *a = srv->auth;
    uint64_t now = uv_now(srv->loop);
    char key[LOBBY_NAME_MAX + 1], addr[NET_ADDR_STRLEN];

    if (srv->store == NULL) {
        session_reply_err(s, "INTERNAL", "accounts need a data directory");
        return;
    }
    if (a->is_stopping) {
        session_reply_err(s, "UNAVAILABLE", "the server is shutting down");
        return;
    }
    if (password.len >= sizeof ((struct check *)0)->password) {
        session_reply_err(s, "BADARG", "that password is too long");
        return;
    }
    memcpy(key, name.s, name.len);
    key[name.len] = '\0';
    session_peer_addr(s, addr, sizeof addr);
    const char *hash = server_account_hash(srv, key);
    struct record *by_addr = record_get(&a->by_addr, addr);
    struct record *by_name = hash ? record_get(&a->by_name, key) : NULL;
    bool is_known = is_good(by_name, addr);
    uint64_t left;

    /* Cheap refusals first: none of these costs a hash. */
    if ((left = backoff_left(by_addr, now)) > 0) {
        ratelimited(s, "from your address", left);
        return;
    }
    if (!is_known && (left = backoff_left(by_name, now)) > 0) {
        ratelimited(s, "for that name", left);
        return;
    }
    if (by_addr != NULL && by_addr->n_checking >= a->per_ip) {
        session_reply_err(s, "RATELIMIT", "too many password checks from your address at once");
        return;
    }
    if (a->n_hashing >= a->n_threads && a->n_queued >= a->queue_cap) {
        session_reply_err(s, "UNAVAILABLE", "too many password checks waiting, try again");
        return;
    }
    if (wait_ms(a, a->n_queued) > wait_limit_ms(a)) {
        session_reply_err(s, "UNAVAILABLE", "password checks are slow right now, try again");
        return;
    }
    if ((by_addr = record_make(a, &a->by_addr, addr, now)) == NULL) {
        session_reply_err(s, "UNAVAILABLE", "too many password checks, try again");
        return;
    }
    struct check *k = mem_calloc(1, sizeof *k);
    k->a = a;
    k->s = s;
    memcpy(k->name, key, sizeof key);
    snprintf(k->addr, sizeof k->addr, "%s", addr);
    memcpy(k->password, password.s, password.len);
    k->password_len = password.len;
    k->is_new = hash == NULL;
    if (hash != NULL)
        snprintf(k->hash, sizeof k->hash, "%s", hash);
    else
        strmap_put(&a->registering, k->name, k);
    by_addr->n_checking++;
    push(is_known ? &a->known : &a->others, k);
    a->n_queued++;
    session_wait_for_answer(s);
    pump(a); /* may answer at once (a failed uv_queue_work) */
}

/* ---------- names registered on other nodes (a shared store) ---------- */

/* On a shared store (Redis, store_is_shared) a name missing from this
 * node's account table may have been registered on another node: the
 * store is asked (STORE_JOB_ACCOUNT) before the NICK goes on, and a
 * registered name joins the table (accounts are never deleted, so the
 * table only caches). On one node the table is the whole truth and
 * nothing is asked. */
struct lookup {
    struct store_job job;        /* first: the store hands this back */
    struct session *s;           /* a reference is held (wait_for_answer) */
    char name[LOBBY_NAME_MAX + 1];
    char password[OUT_LINE_CAP];
    size_t password_len;
    bool has_password;
};

static void nick_go(struct session *s, struct cmd_word name,
                    const struct cmd_word *password, bool is_held_checked);

static void on_looked_up(struct store_job *job)
{
    struct lookup *l = (struct lookup *)job;
    struct session *s = l->s;

    if (job->rc == STORE_OK)
        server_account_add(s->srv, l->name, job->hash);
    /* Our wait ends before the NICK goes on, which may wait again (a
     * password check); the extra reference keeps s meanwhile. */
    session_ref(s);
    session_answered(s);
    if (!session_is_gone(s) && s->member != NULL) {
        if (job->rc != STORE_OK && job->rc != STORE_NOTFOUND) {
            session_reply_err(s, "UNAVAILABLE", "the accounts cannot be read "
                              "right now, try again");
        } else {
            struct cmd_word name = {l->name, strlen(l->name)};
            struct cmd_word password = {l->password, l->password_len};
            nick_go(s, name, l->has_password ? &password : NULL, false);
        }
    }
    sodium_memzero(l->password, sizeof l->password);
    free(l);
    session_unref(s);
}

void cmd_nick(struct session *s, const struct cmd *c)
{
    if (c->n_args < 1 || c->n_args > 2) {
        session_reply_err(s, "BADARG", "usage: NICK <name> [password]");
        return;
    }
    struct cmd_word name = c->args[0];
    struct store *st = s->srv->store;
    if (st != NULL && store_is_shared(st) && !s->srv->auth->is_stopping) {
        enum lobby_code rc = lobby_nick_check(s->srv->lobby, s->member, name.s,
                                              name.len);
        char key[LOBBY_NAME_MAX + 1];
        if (rc != LOBBY_OK) {
            session_reply_code(s, rc);
            return;
        }
        memcpy(key, name.s, name.len);
        key[name.len] = '\0';
        if (server_account_hash(s->srv, key) == NULL) {
            struct lookup *l = mem_calloc(1, sizeof *l);
            if (c->n_args == 2) {
                if (c->args[1].len >= sizeof l->password) {
                    free(l);
                    session_reply_err(s, "BADARG", "that password is too long");
                    return;
                }
                memcpy(l->password, c->args[1].s, c->args[1].len);
                l->password_len = c->args[1].len;
                l->has_password = true;
            }
            l->s = s;
            memcpy(l->name, key, sizeof key);
            l->job.kind = STORE_JOB_ACCOUNT;
            memcpy(l->job.name, key, sizeof key);
            l->job.done = on_looked_up;
            l->job.ctx = l;
            session_wait_for_answer(s);
            store_submit(st, &l->job);
            return;
        }
    }
    nick_go(s, name, c->n_args == 2 ? &c->args[1] : NULL, false);
}

/* In a cluster, a name held by another node is NAMETAKEN before any
 * password is checked, as one node answers a connected name (nick_go's
 * lobby_nick_check); the claim after a right password (finish) decides
 * a race. */
struct held_check {
    char name[LOBBY_NAME_MAX + 1];
    char password[OUT_LINE_CAP];
    size_t password_len;
};

static void on_name_held(struct session *s, int rc, bool is_other, void *ctx)
{
    struct held_check *h = ctx;

    if (!session_is_gone(s) && s->member != NULL) {
        if (rc != 0) {
            session_reply_err(s, "UNAVAILABLE", "the cluster's directory is "
                              "unreachable; try again");
        } else if (is_other) {
            session_reply_code(s, LOBBY_NAMETAKEN);
        } else {
            struct cmd_word name = {h->name, strlen(h->name)};
            struct cmd_word password = {h->password, h->password_len};
            nick_go(s, name, &password, true); /* checked here again */
        }
    }
    sodium_memzero(h, sizeof *h);
    free(h);
}

static void check_held_then_password(struct session *s, struct cmd_word name,
                                     struct cmd_word password)
{
    if (password.len >= sizeof ((struct held_check *)0)->password) {
        session_reply_err(s, "BADARG", "that password is too long");
        return;
    }
    struct held_check *h = mem_calloc(1, sizeof *h);
    memcpy(h->name, name.s, name.len);
    h->name[name.len] = '\0';
    memcpy(h->password, password.s, password.len);
    h->password_len = password.len;
    relay_name_held(s, h->name, on_name_held, h);
}

/* NICK once the account table knows the name (always, on one node);
 * is_held_checked: the cluster has been asked who holds it. */
static void nick_go(struct session *s, struct cmd_word name,
                    const struct cmd_word *password, bool is_held_checked)
{
    char token[LOBBY_TOKEN_LEN + 1];
    enum lobby_code rc = lobby_nick_check(s->srv->lobby, s->member, name.s,
                                          name.len);
    /* Only a name being registered is spoken for during its check; a
     * registered one is decided when a right password comes back. */
    if (rc == LOBBY_OK &&
        strmap_get(&s->srv->auth->registering, name.s, name.len) != NULL)
        rc = LOBBY_NAMETAKEN;
    if (rc != LOBBY_OK) {
        session_reply_code(s, rc);
        return;
    }
    if (password != NULL && s->srv->cluster != NULL && !is_held_checked) {
        check_held_then_password(s, name, *password);
        return;
    }
    if (password != NULL) {
        nick_with_password(s, name, *password);
        return;
    }
    char key[LOBBY_NAME_MAX + 1];
    memcpy(key, name.s, name.len);
    key[name.len] = '\0';
    if (server_account_hash(s->srv, key) != NULL) {
        session_reply_err(s, "BADPASS", "that name is registered: NICK <name> <password>");
        return;
    }
    if (s->srv->cluster != NULL) { /* unique across the cluster first */
        relay_nick(s, key, false);
        return;
    }
    rc = lobby_nick(s->srv->lobby, s->member, name.s, name.len, false, token);
    if (rc != LOBBY_OK) {
        session_reply_code(s, rc);
        return;
    }
    dq_remove(&s->nick_node);
    session_reply(s, "OK NICK %s %s", lobby_member_name(s->member), token);
}
