/*
 * gameload - N players over TCP that play whole matches against a tavolo
 * server, check every game as it goes, and measure it.
 *
 * One thread, one epoll set, libc only. Each player connects (at most
 * --connect-window connections being set up at once; past --per-src
 * connections from one source address the next ones bind() 127.0.0.2,
 * 127.0.0.3, ... before connect), sends NICK, and waits for the others.
 * When every player is in, the players sit at tables of the game's size:
 * the first player of each table CREATEs, the others JOIN its match id
 * (or, with --quick, every player sends QUICK and the server seats them).
 * On its TURN a player plays a legal card (view.c), at once or after a
 * random --think-ms; after END the table plays again. The run stops by
 * itself after --duration seconds or --matches matches, whichever first.
 *
 * Measured with one monotonic clock: every command's reply latency (from
 * the write to its OK/ERR), and the turn latency, from a PLAY written by
 * one player to the TURN read by the seat that plays next (all seats of a
 * table are players of this process). Latencies go into log-linear
 * histograms (~1.6 % resolution), so memory is bounded whatever the run's
 * length. With --pid, the server's CPU (/proc/PID/stat) over the run and
 * its VmRSS growth per connected player.
 *
 * Every error is counted, named on stderr, and ends its table (its players
 * are closed, so one fault is reported once, not as a cascade of stalls):
 * a check of view.c, an event before the reply of the command that caused
 * it (PROTOCOL §2), an ERR to a command the player believed legal, a
 * stall (no event for --stall-ms while one is due, or no reply), a lost
 * connection. Exit status: 0 when errors=0 and moves were made, 1
 * otherwise, 2 for bad usage or a server that lacks what was asked
 * (a game it does not list in OK GAMES, or QUICK answered with BADCMD).
 *
 * Output: a human table, then one line of key=value pairs (stable names;
 * new keys are only ever added at the end).
 */
#define _GNU_SOURCE
#include "gameload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_WORDS 64
#define IN_CAP 1024 /* a protocol line is at most 512 bytes (§1) */
#define OUT_CAP 256 /* a player has at most one short command queued */
#define Q_CAP 4     /* commands in flight per player */
#define MAX_SPECS 8
#define MAX_DURATION 600.0

/* ---------- options ---------- */

static const char *o_host = "127.0.0.1";
static int o_port;
static int o_players = 100;
static struct spec o_specs[MAX_SPECS];
static int o_n_specs;
static int o_think_min, o_think_max;
static double o_duration = -1;
static long o_matches;
static int o_quick;
static int o_pid;
static int o_window = 256;
static double o_connect_timeout = 15;
static int o_per_src = 14000;
static int o_stall_ms = -1;
static uint64_t o_seed;
static const char *o_tag;
static int o_quiet;
static int o_allow_remote;
static double o_warmup;
static int o_procs = 1;

/* ---------- time and histograms ---------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Log-linear buckets (as lineload's): values below 64 ns exact, then 32
 * buckets per power of two; ~5 KiB per histogram, any run length. */
#define H_SUB 64
#define H_BUCKETS (H_SUB + 40 * (H_SUB / 2))
struct hist {
    uint64_t b[H_BUCKETS], n;
};

static int h_index(uint64_t v)
{
    if (v < H_SUB)
        return (int)v;
    int msb = 63 - __builtin_clzll(v), shift = msb - 5;
    int idx = H_SUB + (msb - 6) * (H_SUB / 2) + (int)((v >> shift) - 32);
    return idx < H_BUCKETS ? idx : H_BUCKETS - 1;
}

static uint64_t h_value(int idx)
{
    if (idx < H_SUB)
        return (uint64_t)idx;
    int k = idx - H_SUB, msb = k / (H_SUB / 2) + 6, top = k % (H_SUB / 2) + 32;
    int shift = msb - 5;
    return ((uint64_t)top << shift) + ((1ull << shift) >> 1);
}

static void h_add(struct hist *h, uint64_t ns)
{
    h->b[h_index(ns)]++;
    h->n++;
}

static void h_merge(struct hist *to, const struct hist *from)
{
    for (int i = 0; i < H_BUCKETS; i++)
        to->b[i] += from->b[i];
    to->n += from->n;
}

/* The p-quantile in microseconds; 0 for an empty histogram. */
static double h_us(const struct hist *h, double p)
{
    uint64_t want, acc = 0;

    if (!h->n)
        return 0;
    want = (uint64_t)(p * (double)h->n + 0.5);
    if (want < 1)
        want = 1;
    for (int i = 0; i < H_BUCKETS; i++)
        if ((acc += h->b[i]) >= want)
            return (double)h_value(i) / 1000.0;
    return (double)h_value(H_BUCKETS - 1) / 1000.0;
}

/* ---------- players, tables, matches ---------- */

enum cmd { C_NICK = 0, C_CREATE, C_JOIN, C_PLAY, C_PASS, C_QUICK, C_COUNT };
static const char *const CMD_VERB[C_COUNT] = {"NICK", "CREATE", "JOIN",
                                              "PLAY", "PASS",   "QUICK"};

enum pstate {
    P_NEW = 0,
    P_CONNECTING,
    P_GREETING, /* connected: HELLO and OK NICK due */
    P_IDLE,     /* named, at no match */
    P_SEATING,  /* CREATE/JOIN/QUICK sent: START due */
    P_PLAYING,
    P_DEAD
};

struct match_rec;

/* One player: a connection, its name, its view of the match it is at.
 * Owned by the players array; the table and match record refer to it by
 * index. */
struct player {
    int fd, state, idx, table, version, has_hello, want_out, need;
    int joined_gen, heap_pos;
    uint64_t match_id, last_match;
    uint64_t t_start, t_progress, wake_ns;
    int q_kind[Q_CAP], q_head, q_n;
    uint64_t q_ns[Q_CAP];
    char last_cmd[48];
    unsigned out_off, out_len, in_len;
    char name[17];
    struct match_rec *mr;
    struct view v;
    char out[OUT_CAP];
    char in[IN_CAP];
};

/* A group of players that play together, match after match
 * (CREATE/JOIN mode; with --quick only its game matters). */
struct table {
    int game, seats, members[MAX_SEATS], gen, creating;
    uint64_t match_id;
};

/* A match some of our players sit at, found by id (chained hash):
 * where the turn clock of the last PLAY started, and who to close when
 * the match goes wrong. Freed when its last player of ours leaves it. */
struct match_rec {
    uint64_t id, play_ns;
    int players[MAX_SEATS], n_players, is_counted;
    struct match_rec *next;
};

static struct player *g_p;
static struct table *g_t;
static int g_n_tables, g_n_players;
static struct match_rec **g_buckets;
static size_t g_n_buckets;
static int g_ep;
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static uint64_t g_rng;
static char g_tag[8];
static int g_base; /* this process's first player, of all processes' */

/* run state */
static int g_next_new, g_setup_pending, g_running, g_stopping, g_alive;
static uint64_t g_t_run0, g_deadline, g_warm_end;
static long g_started, g_ended, g_ended0;
static uint64_t g_moves;
static int g_warm; /* still in the warm-up: what is measured is reset after */

/* metrics */
static struct hist g_turn, g_reply[C_COUNT];
static long g_errors, g_lost;
static const char *g_kinds[32];
static long g_kind_n[32];
static int g_n_kinds;

/* think-time timers: a binary min-heap of player indices by wake_ns */
static int *g_heap;
static int g_heap_n;

static void heap_swap(int a, int b)
{
    int t = g_heap[a];
    g_heap[a] = g_heap[b];
    g_heap[b] = t;
    g_p[g_heap[a]].heap_pos = a;
    g_p[g_heap[b]].heap_pos = b;
}

static void heap_up(int i)
{
    while (i > 0 && g_p[g_heap[(i - 1) / 2]].wake_ns > g_p[g_heap[i]].wake_ns) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < g_heap_n && g_p[g_heap[l]].wake_ns < g_p[g_heap[m]].wake_ns)
            m = l;
        if (r < g_heap_n && g_p[g_heap[r]].wake_ns < g_p[g_heap[m]].wake_ns)
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static void heap_push(struct player *p, uint64_t when)
{
    p->wake_ns = when;
    p->heap_pos = g_heap_n;
    g_heap[g_heap_n++] = p->idx;
    heap_up(p->heap_pos);
}

static void heap_remove(struct player *p)
{
    int i = p->heap_pos;

    if (i < 0)
        return;
    p->heap_pos = -1;
    if (i == --g_heap_n)
        return;
    g_heap[i] = g_heap[g_heap_n];
    g_p[g_heap[i]].heap_pos = i;
    heap_up(i);
    heap_down(g_p[g_heap[i]].heap_pos);
}

/* ---------- match records ---------- */

static struct match_rec *rec_find(uint64_t id, int create)
{
    size_t b = (size_t)(id * 0x9E3779B97F4A7C15ull) & (g_n_buckets - 1);
    struct match_rec *r;

    for (r = g_buckets[b]; r; r = r->next)
        if (r->id == id)
            return r;
    if (!create)
        return NULL;
    r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "gameload: out of memory\n");
        exit(2);
    }
    r->id = id;
    r->next = g_buckets[b];
    g_buckets[b] = r;
    return r;
}

/* The player leaves its match record; the last one frees it. */
static void rec_leave(struct player *p)
{
    struct match_rec *r = p->mr, **pp;
    size_t b;

    if (!r)
        return;
    p->mr = NULL;
    for (int i = 0; i < r->n_players; i++)
        if (r->players[i] == p->idx) {
            r->players[i] = r->players[--r->n_players];
            break;
        }
    if (r->n_players)
        return;
    b = (size_t)(r->id * 0x9E3779B97F4A7C15ull) & (g_n_buckets - 1);
    for (pp = &g_buckets[b]; *pp != r; pp = &(*pp)->next)
        ;
    *pp = r->next;
    free(r);
}

/* ---------- errors ---------- */

static void count_kind(const char *kind)
{
    int i;

    for (i = 0; i < g_n_kinds; i++)
        if (!strcmp(g_kinds[i], kind))
            break;
    if (i == g_n_kinds) {
        if (g_n_kinds == 32)
            i = 31; /* bound: the rest share the last slot */
        else
            g_kinds[g_n_kinds++] = kind;
    }
    g_kind_n[i]++;
}

static void player_close(struct player *p)
{
    if (p->state == P_DEAD)
        return;
    if (p->state == P_CONNECTING || p->state == P_GREETING)
        g_setup_pending--;
    heap_remove(p);
    rec_leave(p);
    if (p->fd >= 0) {
        /* RST, not FIN: no TIME_WAIT left behind (as lineload does). */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg,
                   sizeof lg); /* best effort */
        close(p->fd);
    }
    p->fd = -1;
    if (p->state != P_NEW)
        g_alive--;
    p->state = P_DEAD;
}

/*
 * One error: counted under `kind`, printed (the first 20), and the end of
 * the player's table: every player of that table (CREATE/JOIN mode) or of
 * the match (--quick) is closed, so the fault is reported once.
 */
static void fail(struct player *p, const char *kind, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    struct match_rec *r = p->mr;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g_errors++;
    count_kind(kind);
    if (!o_quiet && g_errors <= 20)
        fprintf(stderr, "gameload: error %s: player %s, match %llu: %s\n", kind,
                p->name,
                (unsigned long long)(p->match_id ? p->match_id : p->last_match),
                msg);
    if (r && o_quick) {
        int ids[MAX_SEATS], n = r->n_players;
        memcpy(ids, r->players, sizeof ids);
        for (int i = 0; i < n; i++)
            if (g_p[ids[i]].state != P_DEAD) {
                if (ids[i] != p->idx)
                    g_lost++;
                player_close(&g_p[ids[i]]);
            }
    }
    if (!o_quick) {
        struct table *t = &g_t[p->table];
        for (int i = 0; i < t->seats; i++) {
            struct player *q = &g_p[t->members[i]];
            if (q != p && q->state != P_DEAD)
                g_lost++;
            player_close(q);
        }
    }
    player_close(p);
}

/* ---------- output ---------- */

static void arm(struct player *p, int out)
{
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = p};
    if (p->want_out == out)
        return;
    epoll_ctl(g_ep, EPOLL_CTL_MOD, p->fd, &ev);
    p->want_out = out;
}

static void flush_out(struct player *p)
{
    while (p->out_len) {
        ssize_t n = send(p->fd, p->out + p->out_off, p->out_len, MSG_NOSIGNAL);
        if (n > 0) {
            p->out_off += (unsigned)n;
            p->out_len -= (unsigned)n;
            continue;
        }
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            arm(p, 1);
            return;
        }
        fail(p, "conn", "send: %s", strerror(n == -1 ? errno : EPIPE));
        return;
    }
    p->out_off = 0;
    arm(p, 0);
}

/* Queues one command (its reply is timed from now) and writes it. */
static void send_cmd(struct player *p, int kind, const char *text)
{
    size_t len = strlen(text);

    if (p->q_n == Q_CAP || p->out_off + p->out_len + len + 1 > OUT_CAP) {
        fail(p, "internal", "output queue full sending '%s'", text);
        return;
    }
    memcpy(p->out + p->out_off + p->out_len, text, len);
    p->out[p->out_off + p->out_len + len] = '\n';
    p->out_len += (unsigned)len + 1;
    p->q_kind[(p->q_head + p->q_n) % Q_CAP] = kind;
    p->q_ns[(p->q_head + p->q_n) % Q_CAP] = now_ns();
    p->q_n++;
    if (len >= sizeof p->last_cmd)
        len = sizeof p->last_cmd - 1;
    memcpy(p->last_cmd, text, len);
    p->last_cmd[len] = 0;
    flush_out(p);
}

/* ---------- the play ---------- */

static void table_poke(struct table *t);

/* The player is named and at no match: play again, unless stopping. */
static void player_free(struct player *p)
{
    p->state = P_IDLE;
    p->match_id = 0;
    rec_leave(p);
    if (!g_running || g_stopping)
        return;
    if (o_quick) {
        char cmd[64];
        struct table *t = &g_t[p->table];
        if (o_matches && g_started >= o_matches)
            return;
        snprintf(cmd, sizeof cmd, "QUICK %s %d", game_name(t->game), t->seats);
        p->state = P_SEATING;
        p->t_progress = now_ns();
        send_cmd(p, C_QUICK, cmd);
        return;
    }
    table_poke(&g_t[p->table]);
}

/* CREATE when every member is free; JOIN the created match. */
static void table_poke(struct table *t)
{
    struct player *c = &g_p[t->members[0]];
    char cmd[64];

    if (g_stopping || !g_running)
        return;
    if (!t->match_id && !t->creating) {
        for (int i = 0; i < t->seats; i++)
            if (g_p[t->members[i]].state != P_IDLE)
                return;
        if (o_matches && g_started >= o_matches)
            return;
        g_started++;
        t->creating = 1;
        t->gen++;
        snprintf(cmd, sizeof cmd, "CREATE %s %d", game_name(t->game), t->seats);
        c->state = P_SEATING;
        c->joined_gen = t->gen;
        c->t_progress = now_ns();
        send_cmd(c, C_CREATE, cmd);
        return;
    }
    if (!t->match_id)
        return;
    for (int i = 1; i < t->seats; i++) {
        struct player *q = &g_p[t->members[i]];
        if (q->state != P_IDLE || q->joined_gen == t->gen)
            continue;
        q->joined_gen = t->gen;
        q->state = P_SEATING;
        q->match_id = t->match_id;
        q->t_progress = now_ns();
        snprintf(cmd, sizeof cmd, "JOIN %llu", (unsigned long long)t->match_id);
        send_cmd(q, C_JOIN, cmd);
        if (q->state == P_DEAD)
            return;
    }
}

static void do_move(struct player *p)
{
    char cmd[160];
    int need = p->need;

    p->need = NEED_NOTHING;
    if (view_move(&p->v, need, &g_rng, cmd, sizeof cmd) < 0) {
        fail(p, "internal", "no legal move in my view");
        return;
    }
    if (need == NEED_PLAY && p->mr)
        p->mr->play_ns = now_ns();
    send_cmd(p, need == NEED_PLAY ? C_PLAY : C_PASS, cmd);
}

static void schedule_move(struct player *p, int need)
{
    uint64_t ms;

    p->need = need;
    if (g_stopping)
        return;
    if (!o_think_max) {
        do_move(p);
        return;
    }
    ms = (uint64_t)o_think_min +
         rng_next(&g_rng) % (uint64_t)(o_think_max - o_think_min + 1);
    heap_push(p, now_ns() + ms * 1000000ull);
}

static int split(char *s, char **w)
{
    int n = 0;

    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        if (n == MAX_WORDS)
            return -1;
        w[n++] = s;
        while (*s && *s != ' ')
            s++;
        if (*s)
            *s++ = 0;
    }
    return n;
}

static void on_start(struct player *p, char **w, int n)
{
    struct table *t = &g_t[p->table];
    int g = n > 3 ? game_parse(w[2]) : -1, seats = n > 3 ? atoi(w[3]) : 0;
    int me = -1;
    uint64_t id = strtoull(w[1], NULL, 10);

    if (g != t->game || seats != t->seats || n != 4 + seats) {
        fail(p, "bad_start", "START for %s/%d, I asked for %s %d",
             n > 2 ? w[2] : "?", seats, game_name(t->game), t->seats);
        return;
    }
    for (int i = 0; i < seats; i++)
        if (!strcmp(w[4 + i], p->name))
            me = i;
    if (me < 0) {
        fail(p, "bad_start", "START does not name me");
        return;
    }
    p->match_id = id;
    p->state = P_PLAYING;
    view_start(&p->v, g, seats, me, p->version);
    p->mr = rec_find(id, 1);
    if (p->mr->n_players < MAX_SEATS)
        p->mr->players[p->mr->n_players++] = p->idx;
    if (o_quick && p->mr->n_players == 1)
        g_started++;
}

/* One event line of the player's match. */
static void on_event(struct player *p, char **w, int n)
{
    char err[300];
    const char *kind = "check";
    uint64_t id = n > 1 ? strtoull(w[1], NULL, 10) : 0;
    int r;

    if (n < 2 || !id) {
        if (strcmp(w[0], "CHAT"))
            fail(p, "bad_line", "event without a match id: %s", w[0]);
        return;
    }
    /* A command's reply comes before any event it causes (PROTOCOL §2). */
    if (p->q_n && ((!strcmp(w[0], "START") && p->q_kind[p->q_head] == C_JOIN) ||
                   (!strcmp(w[0], "PLAYED") && n > 2 && p->state == P_PLAYING &&
                    atoi(w[2]) == p->v.me && p->q_kind[p->q_head] == C_PLAY))) {
        fail(p, "bad_order", "%s before the reply to '%s'", w[0], p->last_cmd);
        return;
    }
    if (p->state == P_SEATING) {
        if (!strcmp(w[0], "START")) {
            if (p->match_id && id != p->match_id) {
                fail(p, "bad_start", "START of match %llu, I sat at %llu",
                     (unsigned long long)id, (unsigned long long)p->match_id);
                return;
            }
            on_start(p, w, n);
        }
        return; /* SEATED, UNSEATED, COMMIT, CHAT */
    }
    if (p->state != P_PLAYING || id != p->match_id) {
        if (id == p->last_match || !strcmp(w[0], "CHAT"))
            return; /* REVEAL after END */
        fail(p, "bad_line", "%s for match %llu, I am at %llu", w[0],
             (unsigned long long)id, (unsigned long long)p->match_id);
        return;
    }
    if (!strcmp(w[0], "TURN") && n > 2 && p->mr && p->mr->play_ns &&
        atoi(w[2]) == p->v.me) {
        h_add(&g_turn, now_ns() - p->mr->play_ns);
        p->mr->play_ns = 0;
    }
    if (!strcmp(w[0], "PASSING") && p->mr)
        p->mr->play_ns = 0; /* a hand boundary: no PLAY to time */
    if (!strcmp(w[0], "PLAYED") && n > 2 && atoi(w[2]) == p->v.me)
        g_moves++;
    r = view_event(&p->v, w, n, err, sizeof err, &kind);
    if (r < 0) {
        fail(p, kind, "%s", err);
        return;
    }
    if (r == NEED_PLAY || r == NEED_PASS) {
        schedule_move(p, r);
        return;
    }
    if (r == NEED_OVER) {
        struct table *t = &g_t[p->table];
        if (p->mr && !p->mr->is_counted) {
            p->mr->is_counted = 1;
            g_ended++;
            if (o_matches && g_ended >= o_matches)
                g_stopping = 1;
        }
        if (t->match_id == p->match_id)
            t->match_id = 0;
        p->last_match = p->match_id;
        player_free(p);
    }
}

/* The words of a split line joined again, for an error message (the
 * line is not copied before it is split: that would be a copy per line). */
static const char *joined(char **w, int n, char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = 0;
    for (int i = 0; i < n && len + 1 < cap; i++) {
        size_t k = strlen(w[i]);
        if (i)
            buf[len++] = ' ';
        if (k > cap - len - 1)
            k = cap - len - 1;
        memcpy(buf + len, w[i], k);
        len += k;
        buf[len] = 0;
    }
    return buf;
}

static void on_reply(struct player *p, char **w, int n)
{
    int kind;
    uint64_t now = now_ns();
    char line[IN_CAP];

    if (!p->q_n) {
        fail(p, "bad_line", "a reply to no command: %s",
             joined(w, n, line, sizeof line));
        return;
    }
    kind = p->q_kind[p->q_head];
    h_add(&g_reply[kind], now - p->q_ns[p->q_head]);
    p->q_head = (p->q_head + 1) % Q_CAP;
    p->q_n--;
    if (!strcmp(w[0], "ERR")) {
        if (kind == C_QUICK && n > 1 && !strcmp(w[1], "BADCMD"))
            fail(p, "no_quick", "QUICK is not supported by this server");
        else
            fail(p, "err_reply", "%s -> %s", p->last_cmd,
                 joined(w, n, line, sizeof line));
        return;
    }
    if (n < 2 || strcmp(w[1], CMD_VERB[kind])) {
        fail(p, "bad_line", "%s answered with '%s'", CMD_VERB[kind],
             joined(w, n, line, sizeof line));
        return;
    }
    switch (kind) {
    case C_NICK:
        p->state = P_IDLE;
        g_setup_pending--;
        if (g_running)
            player_free(p); /* named after the connect window closed */
        break;
    case C_CREATE: {
        struct table *t = &g_t[p->table];
        if (n < 3 || !(t->match_id = strtoull(w[2], NULL, 10))) {
            fail(p, "bad_line", "OK CREATE without a match id");
            return;
        }
        t->creating = 0;
        p->match_id = t->match_id;
        table_poke(t);
        break;
    }
    default:
        break;
    }
}

static void on_line(struct player *p, char *line)
{
    char copy[IN_CAP], *w[MAX_WORDS];
    int n;

    n = split(line, w);
    if (n < 0) {
        fail(p, "bad_line", "more than %d words: %.60s", MAX_WORDS, line);
        return;
    }
    if (n == 0)
        return;
    p->t_progress = now_ns();
    if (!p->has_hello) {
        if (n >= 4 && !strcmp(w[0], "HELLO") && !strcmp(w[1], "tavolo") &&
            (!strcmp(w[2], "1") || !strcmp(w[2], "2"))) {
            p->has_hello = 1;
            p->version = atoi(w[2]);
            return;
        }
        joined(w, n, copy, sizeof copy);
        fail(p, "greeting", "first line '%.80s'%s", copy,
             strstr(copy, "BUSY") ? " (raise the server's --max-per-ip or "
                                    "--max-conns)"
                                  : "");
        return;
    }
    if (!strcmp(w[0], "OK") || !strcmp(w[0], "ERR")) {
        on_reply(p, w, n);
        return;
    }
    if (!strcmp(w[0], "HELLO")) {
        fail(p, "greeting", "a second HELLO");
        return;
    }
    on_event(p, w, n);
}

static char g_rbuf[65536];

/* Reads once, and hands each complete line to on_line(). */
static void player_read(struct player *p)
{
    ssize_t n = recv(p->fd, g_rbuf, sizeof g_rbuf, 0);
    char *s, *end, *nl;

    if (n == 0) {
        fail(p, "conn", "the server closed the connection (waiting for %s)",
             p->state == P_PLAYING ? view_waiting(&p->v) : "a reply");
        return;
    }
    if (n == -1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            fail(p, "conn", "recv: %s", strerror(errno));
        return;
    }
    s = g_rbuf;
    end = g_rbuf + n;
    while (s < end && p->state != P_DEAD) {
        size_t k;
        nl = memchr(s, '\n', (size_t)(end - s));
        k = (size_t)((nl ? nl : end) - s);
        if (p->in_len + k >= IN_CAP) {
            fail(p, "bad_line", "a line longer than %d bytes", IN_CAP);
            return;
        }
        if (!nl) { /* a partial line: keep it for the next read */
            memcpy(p->in + p->in_len, s, k);
            p->in_len += (unsigned)k;
            return;
        }
        char *line = s;
        if (p->in_len) {
            memcpy(p->in + p->in_len, s, k);
            line = p->in;
            k += p->in_len;
            p->in_len = 0;
        }
        if (k && line[k - 1] == '\r')
            k--;
        line[k] = 0;
        s = nl + 1;
        on_line(p, line);
    }
}

/* ---------- connections ---------- */

static void player_connected(struct player *p)
{
    char cmd[40];
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = p};

    p->state = P_GREETING;
    epoll_ctl(g_ep, EPOLL_CTL_MOD, p->fd, &ev);
    p->want_out = 0;
    /* Speaking first gets HELLO at once, not after the sniff window (§2). */
    snprintf(cmd, sizeof cmd, "NICK %s", p->name);
    send_cmd(p, C_NICK, cmd);
}

static void player_connect(struct player *p)
{
    int one = 1, src = (g_base + p->idx) / o_per_src;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP,
                             .data.ptr = p};

    p->t_start = p->t_progress = now_ns();
    p->state = P_CONNECTING;
    g_setup_pending++;
    g_alive++;
    p->fd =
        socket(g_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd == -1) {
        fail(p, "conn", "socket: %s", strerror(errno));
        return;
    }
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one,
               sizeof one); /* best effort */
    if (src > 0) {
        /* 127.0.0.2, 127.0.0.3, ...: each source address has its own
         * ephemeral port range; no port is chosen until connect(). */
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)src);
        setsockopt(p->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                   sizeof one);
        if (bind(p->fd, (struct sockaddr *)&a, sizeof a) == -1) {
            fail(p, "conn", "bind 127.0.0.%d: %s", 1 + src, strerror(errno));
            return;
        }
    }
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, p->fd, &ev) == -1) {
        fail(p, "conn", "epoll_ctl: %s", strerror(errno));
        return;
    }
    p->want_out = 1;
    if (connect(p->fd, (struct sockaddr *)&g_addr, g_addrlen) == 0)
        player_connected(p);
    else if (errno != EINPROGRESS)
        fail(p, "conn", "connect: %s", strerror(errno));
}

static void on_io(struct player *p, uint32_t events)
{
    if (p->state == P_DEAD)
        return;
    if (p->state == P_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            fail(p, "conn", "connect: %s", strerror(err));
            return;
        }
        player_connected(p);
        return;
    }
    if (events & EPOLLIN)
        player_read(p);
    if (p->state == P_DEAD)
        return;
    if ((events & EPOLLERR) ||
        ((events & (EPOLLHUP | EPOLLRDHUP)) && !(events & EPOLLIN))) {
        fail(p, "conn", "the connection ended (waiting for %s)",
             p->state == P_PLAYING ? view_waiting(&p->v) : "a reply");
        return;
    }
    if ((events & EPOLLOUT) && p->out_len)
        flush_out(p);
}

static uint64_t since(uint64_t now, uint64_t t)
{
    return now > t ? now - t : 0;
}

/* Every 100 ms: connects, replies and matches that take too long. */
static void check_stalls(uint64_t now)
{
    uint64_t stall = (uint64_t)o_stall_ms * 1000000ull;
    uint64_t conn_lim = (uint64_t)(o_connect_timeout * 1e9);

    for (int i = 0; i < g_next_new; i++) {
        struct player *p = &g_p[i];
        if (p->state == P_DEAD)
            continue;
        if ((p->state == P_CONNECTING || p->state == P_GREETING) &&
            since(now, p->t_start) > conn_lim) {
            fail(p, "conn", "not connected and named within %.0f s",
                 o_connect_timeout);
            continue;
        }
        if (p->q_n && since(now, p->q_ns[p->q_head]) > stall) {
            fail(p, "no_reply", "no reply to '%s' within %d ms", p->last_cmd,
                 o_stall_ms);
            continue;
        }
        if (g_stopping)
            continue;
        if (p->state == P_SEATING && since(now, p->t_progress) > stall)
            fail(p, "stall", "no START within %d ms", o_stall_ms);
        else if (p->state == P_PLAYING && p->heap_pos < 0 &&
                 since(now, p->t_progress) > stall)
            fail(p, "stall", "no event for %d ms, waiting for %s", o_stall_ms,
                 view_waiting(&p->v));
    }
}

/* ---------- options ---------- */

static void usage(void)
{
    fprintf(
        stderr,
        "usage: gameload -p PORT [options]\n"
        "  -h, --host H            server (default 127.0.0.1; loopback only "
        "unless\n"
        "                          --allow-non-loopback)\n"
        "  -p, --port N            server port (required)\n"
        "  -n, --players N         players (default 100), in tables of the "
        "game's seats\n"
        "  -g, --game LIST         games to play, e.g. "
        "briscola:2,briscola:4,scopa:2,\n"
        "                          hearts:4 (default briscola:2); tables take "
        "them in turn\n"
        "  -d, --duration S        stop after S seconds of play (default 10; "
        "max 600)\n"
        "  -m, --matches N         stop after N matches have ended\n"
        "      --think-ms MIN-MAX  play a random MIN..MAX ms after TURN "
        "(default 0-0)\n"
        "      --quick             seat players with QUICK instead of "
        "CREATE/JOIN\n"
        "      --pid PID           the server's process: report its CPU and "
        "VmRSS\n"
        "      --connect-window N  connections set up at once (default 256)\n"
        "      --connect-timeout S connect, HELLO and OK NICK within S "
        "(default 15)\n"
        "      --per-src N         connections per source address (default "
        "14000);\n"
        "                          past N, bind 127.0.0.2, 127.0.0.3, ...\n"
        "      --stall-ms N        an event or reply due for N ms is an error\n"
        "                          (default 5000 + the think time's maximum)\n"
        "      --seed N            random seed (default: from the clock)\n"
        "      --tag T             name prefix, 1-5 of A-Za-z0-9 (default: "
        "random)\n"
        "      --warmup S          play S seconds before the measured window "
        "(default 0):\n"
        "                          the seating burst and the first moves are "
        "not measured\n"
        "      --procs N           split the players over N processes "
        "(default 1,\n"
        "                          at most 64); their figures are merged\n"
        "  -q, --quiet             print no error lines, only the summary\n");
    exit(2);
}

static void parse_games(const char *s)
{
    char buf[256], *tok, *save;

    snprintf(buf, sizeof buf, "%s", s);
    o_n_specs = 0;
    for (tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        struct spec sp;
        if (colon)
            *colon = 0;
        sp.game = game_parse(tok);
        sp.seats = colon ? atoi(colon + 1) : 2;
        if (sp.game < 0 || o_n_specs == MAX_SPECS ||
            (sp.seats != 2 && sp.seats != 4) ||
            (sp.game == G_HEARTS && sp.seats != 4)) {
            fprintf(stderr,
                    "gameload: --game: '%s' is not briscola:2|4, "
                    "scopa:2|4 or hearts:4\n",
                    tok);
            exit(2);
        }
        o_specs[o_n_specs++] = sp;
    }
    if (!o_n_specs)
        usage();
}

static int is_loopback(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >>
                24) == 127;
    if (a->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(
            &((const struct sockaddr_in6 *)a)->sin6_addr);
    return 0;
}

static void parse_options(int argc, char **argv)
{
    static const struct option lo[] = {{"host", 1, 0, 'h'},
                                       {"port", 1, 0, 'p'},
                                       {"players", 1, 0, 'n'},
                                       {"game", 1, 0, 'g'},
                                       {"duration", 1, 0, 'd'},
                                       {"matches", 1, 0, 'm'},
                                       {"think-ms", 1, 0, 1},
                                       {"quick", 0, 0, 2},
                                       {"pid", 1, 0, 3},
                                       {"connect-window", 1, 0, 4},
                                       {"connect-timeout", 1, 0, 5},
                                       {"per-src", 1, 0, 6},
                                       {"stall-ms", 1, 0, 7},
                                       {"seed", 1, 0, 8},
                                       {"tag", 1, 0, 9},
                                       {"allow-non-loopback", 0, 0, 10},
                                       {"warmup", 1, 0, 11},
                                       {"procs", 1, 0, 12},
                                       {"quiet", 0, 0, 'q'},
                                       {"help", 0, 0, '?'},
                                       {0, 0, 0, 0}};
    int ch;

    parse_games("briscola:2");
    while ((ch = getopt_long(argc, argv, "h:p:n:g:d:m:q", lo, NULL)) != -1) {
        switch (ch) {
        case 'h':
            o_host = optarg;
            break;
        case 'p':
            o_port = atoi(optarg);
            break;
        case 'n':
            o_players = atoi(optarg);
            break;
        case 'g':
            parse_games(optarg);
            break;
        case 'd':
            o_duration = atof(optarg);
            break;
        case 'm':
            o_matches = atol(optarg);
            break;
        case 1:
            if (sscanf(optarg, "%d-%d", &o_think_min, &o_think_max) != 2)
                o_think_max = o_think_min = atoi(optarg);
            break;
        case 2:
            o_quick = 1;
            break;
        case 3:
            o_pid = atoi(optarg);
            break;
        case 4:
            o_window = atoi(optarg);
            break;
        case 5:
            o_connect_timeout = atof(optarg);
            break;
        case 6:
            o_per_src = atoi(optarg);
            break;
        case 7:
            o_stall_ms = atoi(optarg);
            break;
        case 8:
            o_seed = strtoull(optarg, NULL, 10);
            break;
        case 9:
            o_tag = optarg;
            break;
        case 10:
            o_allow_remote = 1;
            break;
        case 11:
            o_warmup = atof(optarg);
            break;
        case 12:
            o_procs = atoi(optarg);
            break;
        case 'q':
            o_quiet = 1;
            break;
        default:
            usage();
        }
    }
    if (optind != argc || o_port <= 0 || o_port > 65535 || o_players < 2 ||
        o_think_min < 0 || o_think_max < o_think_min || o_window < 1 ||
        o_per_src < 1 || o_duration > MAX_DURATION || o_matches < 0 ||
        !(o_warmup >= 0 && o_warmup <= MAX_DURATION) || o_procs < 1 ||
        o_procs > 64 || o_players < 2 * o_procs ||
        !(o_connect_timeout > 0) ||
        (o_tag && (strlen(o_tag) < 1 || strlen(o_tag) > 5 ||
                   strspn(o_tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                 "qrstuvwxyz0123456789") != strlen(o_tag))))
        usage();
    if (o_duration < 0)
        o_duration = o_matches ? MAX_DURATION : 10;
    if (o_stall_ms < 0)
        o_stall_ms = 5000 + o_think_max;
}

static void raise_nofile(long need)
{
    struct rlimit rl;

    getrlimit(RLIMIT_NOFILE, &rl);
    if ((long)rl.rlim_cur >= need)
        return;
    if ((long)rl.rlim_max < need) {
        fprintf(stderr,
                "gameload: %d players need %ld descriptors; the hard "
                "limit is %ld\n",
                o_players, need, (long)rl.rlim_max);
        exit(2);
    }
    rl.rlim_cur = (rlim_t)need;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
        fprintf(stderr, "gameload: setrlimit: %s\n", strerror(errno));
        exit(2);
    }
}

/* ---------- setup ---------- */

static void setup(void)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    char port[16];

    snprintf(port, sizeof port, "%d", o_port);
    if (getaddrinfo(o_host, port, &hints, &ai)) {
        fprintf(stderr, "gameload: cannot resolve %s\n", o_host);
        exit(2);
    }
    memcpy(&g_addr, ai->ai_addr, ai->ai_addrlen);
    g_addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (!o_allow_remote && !is_loopback(&g_addr)) {
        fprintf(stderr, "gameload: refusing non-loopback target %s\n", o_host);
        exit(2);
    }
    if (o_players > o_per_src && g_addr.ss_family != AF_INET) {
        fprintf(stderr,
                "gameload: more than %d players need an IPv4 "
                "loopback target (several source addresses)\n",
                o_per_src);
        exit(2);
    }
    g_rng = o_seed ? o_seed : (now_ns() ^ (uint64_t)getpid() << 32);
    if (!g_rng)
        g_rng = 1;
    if (o_tag)
        snprintf(g_tag, sizeof g_tag, "%s", o_tag);
    else
        snprintf(g_tag, sizeof g_tag, "g%04x",
                 (unsigned)(rng_next(&g_rng) & 0xffff));
}

/* This process's players (o_players of them, from g_base on) and tables. */
static void setup_players(void)
{
    int gi = 0, idx = 0;

    /* Tables take the games in turn; players that do not fill one sit out. */
    g_t = calloc((size_t)o_players, sizeof *g_t);
    g_p = calloc((size_t)o_players, sizeof *g_p);
    g_heap = calloc((size_t)o_players, sizeof *g_heap);
    for (g_n_buckets = 64; g_n_buckets < (size_t)o_players; g_n_buckets *= 2)
        ;
    g_buckets = calloc(g_n_buckets, sizeof *g_buckets);
    if (!g_t || !g_p || !g_heap || !g_buckets) {
        fprintf(stderr, "gameload: out of memory\n");
        exit(2);
    }
    for (;;) {
        struct spec *s = &o_specs[gi++ % o_n_specs];
        struct table *t = &g_t[g_n_tables];
        if (idx + s->seats > o_players)
            break;
        t->game = s->game;
        t->seats = s->seats;
        for (int i = 0; i < s->seats; i++, idx++) {
            struct player *p = &g_p[idx];
            p->idx = idx;
            p->fd = -1;
            p->table = g_n_tables;
            p->heap_pos = -1;
            snprintf(p->name, sizeof p->name, "%.5s_%d", g_tag,
                     (g_base + idx) % 10000000);
            t->members[i] = idx;
        }
        g_n_tables++;
    }
    g_n_players = idx;
    if (!g_n_players) {
        fprintf(stderr, "gameload: too few players for one table\n");
        exit(2);
    }
    raise_nofile(g_n_players + 64L);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep == -1) {
        perror("gameload: epoll_create1");
        exit(2);
    }
}

/* ---------- main loop and report ---------- */

/* This process's user + system CPU seconds. */
static double self_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void spec_text(char *buf, size_t cap)
{
    size_t n = 0;

    buf[0] = 0;
    for (int i = 0; i < o_n_specs; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s:%d", i ? "," : "",
                              game_name(o_specs[i].game), o_specs[i].seats);
}

/* What one player process measured over its window, sent whole to the
 * parent through a pipe and merged there (--procs). */
struct result {
    struct hist turn, reply[C_COUNT];
    uint64_t moves;
    long ended, errors, lost;
    int players, connected, version, n_kinds;
    double secs, self_cpu;
    char kinds[32][24];
    long kind_n[32];
};

/* Writes all of buf, or fails. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *b = buf;

    while (len) {
        ssize_t n = write(fd, b, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The measured window starts: what the warm-up counted is dropped. */
static void window_start(uint64_t now, double *self_cpu0)
{
    memset(&g_turn, 0, sizeof g_turn);
    memset(g_reply, 0, sizeof g_reply);
    g_moves = 0;
    g_ended0 = g_ended;
    g_t_run0 = now;
    *self_cpu0 = self_cpu_s();
    g_warm = 0;
}

/*
 * One player process: connects this process's players, says so on
 * ready_fd ('R'), waits for the parent's 'G' on go_fd, plays for the
 * warm-up and the window, and writes its struct result to ready_fd.
 * Returns the exit status.
 */
static int player_main(int ready_fd, int go_fd)
{
    struct epoll_event evs[512];
    uint64_t last_scan = 0, setup_deadline, t_end;
    double self_cpu0 = 0;
    int connected = 0;
    struct result *r;

    setup_players();
    setup_deadline = now_ns() + (uint64_t)((o_connect_timeout + 5) * 1e9);

    for (;;) {
        uint64_t now = now_ns();
        int timeout_ms = 100, n;

        if (!g_running) {
            while (g_next_new < g_n_players && g_setup_pending < o_window)
                if (g_p[g_next_new++].state == P_NEW)
                    player_connect(&g_p[g_next_new - 1]);
            if ((g_next_new == g_n_players && g_setup_pending == 0) ||
                now > setup_deadline) {
                char go = 0;
                for (int i = 0; i < g_n_players; i++)
                    if (g_p[i].state == P_IDLE)
                        connected++;
                /* Every process seated at once: the parent says when. */
                if (write_all(ready_fd, "R", 1) != 0)
                    return 2;
                while (read(go_fd, &go, 1) == -1 && errno == EINTR)
                    ;
                if (go != 'G')
                    return 2;
                now = now_ns();
                g_running = 1;
                g_t_run0 = now;
                self_cpu0 = self_cpu_s();
                g_warm = o_warmup > 0;
                g_warm_end = now + (uint64_t)(o_warmup * 1e9);
                g_deadline = g_warm_end + (uint64_t)(o_duration * 1e9);
                for (int i = 0; i < g_n_players; i++)
                    if (g_p[i].state == P_IDLE)
                        player_free(&g_p[i]);
            }
        } else {
            if (g_warm && now >= g_warm_end)
                window_start(now, &self_cpu0);
            if (now >= g_deadline)
                g_stopping = 1;
            if (g_stopping || g_alive == 0)
                break;
            while (g_heap_n && g_p[g_heap[0]].wake_ns <= now) {
                struct player *p = &g_p[g_heap[0]];
                heap_remove(p);
                if (p->state == P_PLAYING && p->need)
                    do_move(p);
            }
            if (g_heap_n) {
                /* Rounded up: a timeout of 0 while the next wake is less
                 * than a millisecond away would spin (it did: 96 % of a
                 * core at 18 000 players). */
                uint64_t d =
                    (g_p[g_heap[0]].wake_ns - now + 999999ull) / 1000000ull;
                if ((int)d < timeout_ms)
                    timeout_ms = (int)d;
            }
        }
        if (now - last_scan > 100000000ull) {
            check_stalls(now);
            last_scan = now;
        }
        n = epoll_wait(g_ep, evs, 512, timeout_ms);
        if (n == -1 && errno != EINTR) {
            perror("gameload: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++)
            on_io(evs[i].data.ptr, evs[i].events);
    }
    t_end = now_ns();

    r = calloc(1, sizeof *r);
    if (!r)
        return 2;
    r->turn = g_turn;
    memcpy(r->reply, g_reply, sizeof g_reply);
    r->moves = g_moves;
    r->ended = g_ended - g_ended0;
    r->errors = g_errors;
    r->lost = g_lost;
    r->players = g_n_players;
    r->connected = connected;
    r->version = g_p[0].version;
    r->secs = (double)(t_end - g_t_run0) / 1e9;
    r->self_cpu = self_cpu_s() - self_cpu0;
    r->n_kinds = g_n_kinds;
    for (int i = 0; i < g_n_kinds; i++) {
        snprintf(r->kinds[i], sizeof r->kinds[i], "%s", g_kinds[i]);
        r->kind_n[i] = g_kind_n[i];
    }
    if (write_all(ready_fd, r, sizeof *r) != 0)
        return 2;
    /* The kernel closes the remaining sockets; RST them first (no
     * TIME_WAIT). */
    for (int i = 0; i < g_n_players; i++)
        if (g_p[i].fd >= 0) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(g_p[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
    return g_errors || !g_moves ? 1 : 0;
}

static void merge(struct result *to, const struct result *r)
{
    h_merge(&to->turn, &r->turn);
    for (int k = 0; k < C_COUNT; k++)
        h_merge(&to->reply[k], &r->reply[k]);
    to->moves += r->moves;
    to->ended += r->ended;
    to->errors += r->errors;
    to->lost += r->lost;
    to->players += r->players;
    to->connected += r->connected;
    if (!to->version)
        to->version = r->version;
    if (r->secs > to->secs)
        to->secs = r->secs;
    to->self_cpu += r->self_cpu;
    for (int i = 0; i < r->n_kinds; i++) {
        int j;
        for (j = 0; j < to->n_kinds; j++)
            if (!strcmp(to->kinds[j], r->kinds[i]))
                break;
        if (j == to->n_kinds) {
            if (to->n_kinds == 32)
                j = 31;
            else
                memcpy(to->kinds[to->n_kinds++], r->kinds[i],
                       sizeof r->kinds[i]);
        }
        to->kind_n[j] += r->kind_n[i];
    }
}

static void report(const struct result *r, double cpu_pct, double bpp,
                   long rss0, long rss_peak)
{
    struct hist all = {{0}, 0};
    double secs = r->secs, load = -1;
    double self_pct = secs > 0 ? 100.0 * r->self_cpu / secs : 0;
    FILE *la = fopen("/proc/loadavg", "r");
    char specs[128];

    if (la) {
        if (fscanf(la, "%lf", &load) != 1)
            load = -1;
        fclose(la);
    }
    for (int k = 0; k < C_COUNT; k++)
        if (k != C_NICK)
            h_merge(&all, &r->reply[k]);
    spec_text(specs, sizeof specs);

    printf("gameload: %s, %d players (%d connected), think %d-%d ms, %.2f s "
           "of play measured after %.1f s of warm-up, %d process%s, HELLO "
           "version %d\n",
           specs, r->players, r->connected, o_think_min, o_think_max, secs,
           o_warmup, o_procs, o_procs > 1 ? "es" : "", r->version);
    printf("  %-14s %10s %10s %10s %10s\n", "latency", "n", "p50 us", "p99 us",
           "p99.9 us");
    printf("  %-14s %10llu %10.1f %10.1f %10.1f\n", "turn",
           (unsigned long long)r->turn.n, h_us(&r->turn, .5),
           h_us(&r->turn, .99), h_us(&r->turn, .999));
    for (int k = 0; k < C_COUNT; k++)
        if (r->reply[k].n)
            printf("  reply %-8s %10llu %10.1f %10.1f %10.1f\n", CMD_VERB[k],
                   (unsigned long long)r->reply[k].n, h_us(&r->reply[k], .5),
                   h_us(&r->reply[k], .99), h_us(&r->reply[k], .999));
    printf("  moves %llu (%.0f/s), matches ended %ld (%.1f/s), errors %ld\n",
           (unsigned long long)r->moves,
           secs > 0 ? (double)r->moves / secs : 0, r->ended,
           secs > 0 ? (double)r->ended / secs : 0, r->errors);
    if (o_pid)
        printf("  server pid %d: cpu %.1f %%, VmRSS %ld -> %ld KiB, %.0f bytes "
               "per connected player\n",
               o_pid, cpu_pct, rss0, rss_peak, bpp);
    printf("  gameload cpu %.1f %% (all its processes), load average %.2f "
           "(other work on the machine skews every figure)\n",
           self_pct, load);
    printf(
        "gameload games=%s players=%d connected=%d think_ms=%d-%d secs=%.2f "
        "moves=%llu moves_per_s=%.1f matches=%ld matches_per_s=%.2f "
        "turn_n=%llu turn_p50_us=%.1f turn_p99_us=%.1f turn_p999_us=%.1f "
        "reply_n=%llu reply_p50_us=%.1f reply_p99_us=%.1f reply_p999_us=%.1f "
        "play_p99_us=%.1f nick_p99_us=%.1f server_cpu_pct=%.1f "
        "bytes_per_player=%.0f lost=%ld errors=%ld error_kinds=",
        specs, r->players, r->connected, o_think_min, o_think_max, secs,
        (unsigned long long)r->moves, secs > 0 ? (double)r->moves / secs : 0,
        r->ended, secs > 0 ? (double)r->ended / secs : 0,
        (unsigned long long)r->turn.n, h_us(&r->turn, .5), h_us(&r->turn, .99),
        h_us(&r->turn, .999), (unsigned long long)all.n, h_us(&all, .5),
        h_us(&all, .99), h_us(&all, .999), h_us(&r->reply[C_PLAY], .99),
        h_us(&r->reply[C_NICK], .99), cpu_pct, bpp, r->lost, r->errors);
    for (int i = 0; i < r->n_kinds; i++)
        printf("%s%s:%ld", i ? "," : "", r->kinds[i], r->kind_n[i]);
    printf("%s client_cpu_pct=%.1f loadavg=%.2f warmup_s=%.1f procs=%d\n",
           r->n_kinds ? "" : "-", self_pct, load, o_warmup, o_procs);
    fflush(stdout);
}

/* One player process (--procs of them; one without it): its pipes, its
 * result as it arrives, and how it ended. */
struct child {
    pid_t pid;
    int res_fd, go_fd, ready, status;
    size_t got;
    struct result r;
};

static double mono_s(void)
{
    return (double)now_ns() / 1e9;
}

/*
 * The parent: splits the players over o_procs processes (each its share
 * of the players, by global index, so names and source addresses do not
 * collide), lets them all start at once when every one is seated,
 * measures the server over the window (after the warm-up) and merges
 * what they measured.
 */
int main(int argc, char **argv)
{
    struct child *ch;
    long rss0 = -1, rss_peak = -1;
    long long cpu0 = -1, cpu1 = -1;
    double t_go = 0, t_win = 0, t_win_end = 0, t_cpu1 = 0;
    int n_ready = 0, n_open, rc = 0, total, cycle = 0, units;
    struct result all;

    parse_options(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    setup();
    probe(&g_addr, g_addrlen, o_host, o_port, o_specs, o_n_specs, o_quick,
          g_tag);
    if (o_pid)
        rss0 = read_rss_kb(o_pid);
    ch = calloc((size_t)o_procs, sizeof *ch);
    if (!ch) {
        fprintf(stderr, "gameload: out of memory\n");
        return 2;
    }
    total = o_players;
    for (int i = 0; i < o_n_specs; i++)
        cycle += o_specs[i].seats;
    units = total / cycle;
    if (units < o_procs) {
        fprintf(stderr, "gameload: %d players are fewer than one round of "
                        "tables (%d players) per process\n", total, cycle);
        return 2;
    }
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < o_procs; i++) {
        int res[2], go[2];
        /* Whole rounds of the games' tables each (the last one takes
         * what is left), so that the split seats as many as one would. */
        int from = cycle * (int)((long)units * i / o_procs);
        int to = i == o_procs - 1 ? total
                                  : cycle * (int)((long)units * (i + 1) / o_procs);
        if (pipe2(res, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1) {
            perror("gameload: pipe");
            return 2;
        }
        ch[i].pid = fork();
        if (ch[i].pid == -1) {
            perror("gameload: fork");
            return 2;
        }
        if (ch[i].pid == 0) {
            close(res[0]);
            close(go[1]);
            for (int j = 0; j < i; j++) {
                close(ch[j].res_fd);
                close(ch[j].go_fd);
            }
            g_base = from;
            o_players = to - from;
            if (o_matches)
                o_matches = (o_matches + o_procs - 1) / o_procs;
            g_rng ^= 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
            if (!g_rng)
                g_rng = 1;
            _exit(player_main(res[1], go[0]));
        }
        close(res[1]);
        close(go[0]);
        ch[i].res_fd = res[0];
        ch[i].go_fd = go[1];
        ch[i].status = -1;
    }

    /* Until every process has sent its result (EOF on its pipe). */
    n_open = o_procs;
    while (n_open > 0) {
        struct pollfd pf[64];
        int idx[64], m = 0;
        double now = mono_s();

        for (int i = 0; i < o_procs && m < 64; i++)
            if (ch[i].res_fd >= 0) {
                pf[m].fd = ch[i].res_fd;
                pf[m].events = POLLIN;
                idx[m++] = i;
            }
        if (t_go > 0 && !t_win && now >= t_go + o_warmup) {
            t_win = now;
            if (o_pid) {
                cpu0 = read_cpu_ticks(o_pid);
                rss_peak = read_rss_kb(o_pid);
            }
        }
        if (t_win && !t_win_end && now >= t_win + o_duration) {
            t_win_end = now;
            if (o_pid)
                cpu1 = read_cpu_ticks(o_pid), t_cpu1 = now;
        }
        if (o_pid && t_go > 0) {
            long kb = read_rss_kb(o_pid);
            if (kb > rss_peak)
                rss_peak = kb;
        }
        int wait_ms = 200;
        double next = !t_go ? 0 : !t_win ? t_go + o_warmup
                    : !t_win_end ? t_win + o_duration : 0;
        if (next > 0 && (next - now) * 1000 < wait_ms)
            wait_ms = next > now ? (int)((next - now) * 1000) + 1 : 0;
        if (poll(pf, (nfds_t)m, wait_ms) == -1 && errno != EINTR) {
            perror("gameload: poll");
            return 2;
        }
        for (int k = 0; k < m; k++) {
            struct child *c = &ch[idx[k]];
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!c->ready) {
                char b;
                ssize_t n = read(c->res_fd, &b, 1);
                if (n == 1 && b == 'R') {
                    c->ready = 1;
                    if (++n_ready == o_procs) {
                        for (int i = 0; i < o_procs; i++)
                            if (write_all(ch[i].go_fd, "G", 1) != 0)
                                fprintf(stderr, "gameload: a player process "
                                                "is gone\n");
                        t_go = mono_s();
                    }
                } else if (n == 0 || (n == -1 && errno != EINTR)) {
                    close(c->res_fd); /* died before it was ready */
                    c->res_fd = -1;
                    n_open--;
                }
                continue;
            }
            ssize_t n = read(c->res_fd, (char *)&c->r + c->got,
                             sizeof c->r - c->got);
            if (n > 0) {
                c->got += (size_t)n;
                continue;
            }
            if (n == -1 && errno == EINTR)
                continue;
            close(c->res_fd);
            c->res_fd = -1;
            n_open--;
        }
        if (n_ready < o_procs && n_open < o_procs)
            break; /* one died during the setup: the others wait forever */
    }
    if (o_pid && cpu1 < 0 && cpu0 >= 0) {
        cpu1 = read_cpu_ticks(o_pid); /* ended early (--matches, errors) */
        t_cpu1 = mono_s();
    }
    if (o_pid) {
        long kb = read_rss_kb(o_pid);
        if (kb > rss_peak)
            rss_peak = kb;
    }
    for (int i = 0; i < o_procs; i++) {
        int st;
        if (n_ready < o_procs)
            kill(ch[i].pid, SIGTERM); /* ours, by its pid */
        close(ch[i].go_fd);
        while (waitpid(ch[i].pid, &st, 0) == -1 && errno == EINTR)
            ;
        ch[i].status = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
    }

    memset(&all, 0, sizeof all);
    for (int i = 0; i < o_procs; i++) {
        if (ch[i].status == 2 || ch[i].got != sizeof ch[i].r) {
            if (ch[i].status != 2)
                fprintf(stderr, "gameload: player process %d sent no result "
                                "(exit status %d)\n", i, ch[i].status);
            rc = 2;
            continue;
        }
        merge(&all, &ch[i].r);
    }
    if (rc == 2) {
        for (int i = 0; i < o_procs; i++)
            if (ch[i].res_fd >= 0)
                close(ch[i].res_fd);
        free(ch);
        return 2;
    }
    double cpu_pct = -1, bpp = -1;
    if (cpu0 >= 0 && cpu1 >= 0 && t_cpu1 > t_win)
        cpu_pct = 100.0 * (double)(cpu1 - cpu0) /
                  (double)sysconf(_SC_CLK_TCK) / (t_cpu1 - t_win);
    if (rss0 >= 0 && rss_peak >= 0 && all.connected)
        bpp = (double)(rss_peak - rss0) * 1024.0 / all.connected;
    report(&all, cpu_pct, bpp, rss0, rss_peak);
    for (int i = 0; i < o_procs; i++)
        if (ch[i].status != 0)
            rc = 1;
    free(ch);
    return rc ? rc : (all.errors || !all.moves ? 1 : 0);
}
