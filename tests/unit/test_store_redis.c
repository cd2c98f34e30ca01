/* Tests of the Redis backend of store/ (store_redis.c) against a real
 * redis-server that each test starts on a free loopback port, with its
 * own temporary directory and its AOF on, and stops by its PID (it also
 * dies with the test's process: PR_SET_PDEATHSIG). The test reads Redis
 * directly through hiredis to see what the store wrote. */
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "base/rnd.h"
#include "check.h"
#include "store/store.h"

/* ---------- redis-server, by PID ---------- */

static pid_t redis_pid = -1;
static int redis_port;
static char redis_dir[64];
static char redis_addr[32];

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK(fd != -1);
    CHECK_INT(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static redisContext *rconn(void)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
    if (c != NULL && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

static void redis_start(const char *appendfsync)
{
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    redis_pid = fork();
    CHECK(redis_pid != -1);
    if (redis_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl("/usr/bin/redis-server", "redis-server", "--port", port, "--bind",
              "127.0.0.1", "--dir", redis_dir, "--appendonly", "yes",
              "--appendfsync", appendfsync, "--save", "", "--protected-mode",
              "yes", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* 10 s at most */
        redisContext *c = rconn();
        if (c != NULL) {
            redisReply *r = redisCommand(c, "PING");
            bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
            freeReplyObject(r);
            redisFree(c);
            if (ok)
                return;
        }
        int status;
        if (waitpid(redis_pid, &status, WNOHANG) == redis_pid)
            FAIL_("redis-server exited (%d)", status);
        usleep(20000);
    }
    FAIL_("redis-server did not answer on %d", redis_port);
}

static void redis_stop(int sig)
{
    if (redis_pid <= 0)
        return;
    kill(redis_pid, sig);
    waitpid(redis_pid, NULL, 0);
    redis_pid = -1;
}

static void redis_cleanup(void)
{
    redis_stop(SIGKILL);
}

static void on_alarm(int sig)
{
    (void)sig;
    if (redis_pid > 0)
        kill(redis_pid, SIGKILL); /* then die of the alarm, as check.h expects */
    signal(SIGALRM, SIG_DFL);
    raise(SIGALRM);
}

static void redis_up(const char *appendfsync)
{
    strcpy(redis_dir, "/tmp/tavolo-redis-XXXXXX");
    CHECK(mkdtemp(redis_dir) != NULL);
    redis_port = free_port();
    snprintf(redis_addr, sizeof redis_addr, "127.0.0.1:%d", redis_port);
    atexit(redis_cleanup);
    signal(SIGALRM, on_alarm);
    CHECK_INT(rnd_init(), 0);
    redis_start(appendfsync);
}

static long long rint_(const char *fmt, const char *arg)
{
    redisContext *c = rconn();
    CHECK(c != NULL);
    redisReply *r = redisCommand(c, fmt, arg);
    CHECK(r != NULL);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer
                : r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

/* ---------- jobs ---------- */

static int n_done;

static void count_done(struct store_job *job)
{
    (void)job;
    n_done++;
}

static struct store_job *job_new(enum store_job_kind kind, const char *name)
{
    struct store_job *j = calloc(1, sizeof *j);
    j->kind = kind;
    if (name)
        snprintf(j->name, sizeof j->name, "%s", name);
    j->done = count_done;
    return j;
}

static void run_until(uv_loop_t *loop, int want)
{
    for (int i = 0; i < 20000 && n_done < want; i++)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
    CHECK_INT(n_done, want);
}

static struct store_op *op_new(enum store_op_kind kind, uint64_t id)
{
    struct store_op *op = calloc(1, sizeof *op);
    op->kind = kind;
    op->match_id = id;
    return op;
}

static struct store_job *journal(struct store *st, struct store_op *ops)
{
    struct store_job *j = job_new(STORE_JOB_JOURNAL, NULL);
    j->ops = ops;
    store_submit(st, j);
    return j;
}

static struct store_op *start_op(uint64_t id, const char *game, unsigned n,
                                 const char *const names[], const bool reg[])
{
    struct store_op *op = op_new(STORE_OP_START, id);
    snprintf(op->game, sizeof op->game, "%s", game);
    op->n_seats = n;
    for (unsigned i = 0; i < n; i++) {
        snprintf(op->seats[i].name, sizeof op->seats[i].name, "%s", names[i]);
        snprintf(op->seats[i].token, sizeof op->seats[i].token,
                 "%032u", (unsigned)(id * 10 + i));
        op->seats[i].is_registered = reg[i];
        op->seats[i].side = strcmp(game, "hearts") == 0 ? i : i % 2;
    }
    snprintf(op->secret, sizeof op->secret, "%064u", (unsigned)id);
    return op;
}

static struct store_op *move_op(uint64_t id, unsigned seq, unsigned seat,
                                const char *cards)
{
    struct store_op *op = op_new(STORE_OP_MOVE, id);
    op->seq = seq;
    op->seat = seat;
    snprintf(op->cards, sizeof op->cards, "%s", cards);
    return op;
}

static struct store_op *end_op(uint64_t id, const char *result, const char *reason,
                               bool is_teams, const unsigned points[], unsigned n)
{
    struct store_op *op = op_new(STORE_OP_END, id);
    snprintf(op->result, sizeof op->result, "%s", result);
    snprintf(op->reason, sizeof op->reason, "%s", reason);
    op->is_teams = is_teams;
    op->loser = -1;
    for (unsigned i = 0; i < n; i++)
        op->points[i] = points[i];
    op->log = strdup("log\n");
    return op;
}

static void free_job(struct store_job *j)
{
    if (j == NULL)
        return;
    store_ops_free(j->ops);
    store_open_match_free(j->match);
    free(j);
}

static struct store *open_redis(void)
{
    char err[256];
    struct store *st = store_open_redis(redis_addr, err, sizeof err);
    if (st == NULL)
        FAIL_("store_open_redis: %s", err);
    CHECK(store_is_shared(st));
    return st;
}

static void close_store(struct store *st, uv_loop_t *loop)
{
    store_close(st);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(loop), 0);
}

/* ---------- tests ---------- */

TEST(journal_round_trip_through_load_match)
{
    uv_loop_t loop;
    redis_up("always");
    struct store *st = open_redis();
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);

    const char *names[] = {"ann", "bo"};
    const bool reg[] = {true, false};
    struct store_op *start = start_op(7, "briscola", 2, names, reg);
    strcpy(start->seats[1].seed, "00ff");
    struct store_op *m1 = move_op(7, 1, 0, "Ac");
    struct store_op *m2 = move_op(7, 2, 1, "2d 2h 2s");
    m2->is_timeout = true;
    m2->move_kind = 1;
    struct store_op *tok = op_new(STORE_OP_TOKEN, 7);
    tok->seat = 1;
    strcpy(tok->seats[1].token, "fedcba9876543210fedcba9876543210");
    start->next = m1;
    m1->next = m2;
    struct store_job *j1 = journal(st, start);
    struct store_job *j2 = journal(st, tok); /* a second job, same round */
    struct store_job *load = job_new(STORE_JOB_LOAD_MATCH, NULL);
    load->match_id = 7;
    store_submit(st, load);
    struct store_job *none = job_new(STORE_JOB_LOAD_MATCH, NULL);
    none->match_id = 8;
    store_submit(st, none);
    run_until(&loop, 4);
    CHECK_INT(j1->rc, STORE_OK);
    CHECK(j1->ops == NULL); /* taken by the store */
    CHECK_INT(j2->rc, STORE_OK);
    CHECK_INT(load->rc, STORE_OK);
    CHECK_INT(none->rc, STORE_NOTFOUND);
    CHECK(none->match == NULL);
    const struct store_open_match *m = load->match;
    CHECK(m != NULL);
    CHECK_INT(m->id, 7);
    CHECK_STR(m->game, "briscola");
    CHECK_INT(m->n_seats, 2);
    CHECK_STR(m->secret, "0000000000000000000000000000000000000000000000000000000000000007");
    CHECK_STR(m->seats[0].name, "ann");
    CHECK(m->seats[0].is_registered);
    CHECK(!m->seats[1].is_registered);
    CHECK_STR(m->seats[0].token, "00000000000000000000000000000070");
    CHECK_STR(m->seats[1].token, "fedcba9876543210fedcba9876543210"); /* TOKEN */
    CHECK_STR(m->seats[1].seed, "00ff");
    CHECK_INT(m->seats[1].side, 1);
    CHECK_INT(m->n_moves, 2);
    CHECK_STR(m->moves[0].cards, "Ac");
    CHECK_INT(m->moves[0].seat, 0);
    CHECK_STR(m->moves[1].cards, "2d 2h 2s");
    CHECK_INT(m->moves[1].kind, 1);
    CHECK(m->moves[1].is_timeout);
    CHECK(!m->is_over);
    CHECK_INT(m->epoch, 0);
    CHECK_INT(rint_("XLEN %s", "tavolo:match:{7}:log"), 4);

    /* The startup readers see the same. */
    CHECK_INT(store_max_match_id(st), 7);

    /* The script gone from Redis's cache (a restart, SCRIPT FLUSH): the
     * store loads it again and the append happens once. */
    rint_("SCRIPT %s", "FLUSH");
    struct store_job *j3 = journal(st, move_op(7, 3, 0, "3c"));
    run_until(&loop, 5);
    CHECK_INT(j3->rc, STORE_OK);
    CHECK_INT(rint_("XLEN %s", "tavolo:match:{7}:log"), 5);

    close_store(st, &loop);
    struct store_job *all[] = {j1, j2, load, none, j3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free_job(all[i]);
}

static void count_open(void *ctx, const struct store_open_match *m)
{
    unsigned *n = ctx;
    if (m->id == 7 && m->n_moves == 1)
        (*n)++;
}

TEST(stale_epoch_appends_nothing_and_is_fenced)
{
    uv_loop_t loop;
    redis_up("everysec");
    struct store *st = open_redis();
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);

    const char *names[] = {"ann", "bo"};
    const bool reg[] = {false, false};
    struct store_job *j0 = journal(st, start_op(7, "briscola", 2, names, reg));
    run_until(&loop, 1);
    CHECK_INT(j0->rc, STORE_OK);
    /* Another node claimed the match: the epoch is 3 now. */
    CHECK_INT(rint_("INCRBY tavolo:match:{7}:epoch %s", "3"), 3);
    struct store_op *stale = move_op(7, 1, 0, "Ac");
    stale->epoch = 2;
    struct store_job *j1 = journal(st, stale);
    struct store_op *none = move_op(7, 1, 0, "Ac"); /* epoch 0: no check */
    struct store_op *owner = move_op(7, 1, 0, "Ac");
    owner->epoch = 3;
    struct store_job *j2 = journal(st, owner);
    struct store_op *stale_end = end_op(7, "team0", "score", true,
                                        (const unsigned[]){70, 50}, 2);
    stale_end->epoch = 2;
    struct store_job *j3 = journal(st, stale_end);
    run_until(&loop, 4);
    CHECK_INT(j1->rc, STORE_FENCED);
    CHECK_INT(j2->rc, STORE_OK);
    CHECK_INT(j3->rc, STORE_FENCED);
    CHECK_INT(rint_("XLEN %s", "tavolo:match:{7}:log"), 2);
    /* Not one entry of epoch 2 in the stream; the match is still in play. */
    redisContext *c = rconn();
    redisReply *r = redisCommand(c, "XRANGE tavolo:match:{7}:log - +");
    CHECK(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *f = r->element[i]->element[1];
        CHECK_STR(f->element[4]->str, "e");
        CHECK(strcmp(f->element[5]->str, "2") != 0);
    }
    CHECK_STR(r->element[1]->element[1]->element[5]->str, "3");
    freeReplyObject(r);
    redisFree(c);
    CHECK_INT(rint_("ZSCORE tavolo:playing %s", "7"), 7);
    unsigned n_open = 0;
    CHECK_INT(store_each_open_match(st, count_open, &n_open), 0);
    CHECK_INT(n_open, 1);
    struct store_job *load = job_new(STORE_JOB_LOAD_MATCH, NULL);
    load->match_id = 7;
    store_submit(st, load);
    run_until(&loop, 5);
    CHECK_INT(load->rc, STORE_OK);
    CHECK_INT(load->match->epoch, 3);
    CHECK_INT(load->match->n_moves, 1);
    close_store(st, &loop);
    store_ops_free(none);
    struct store_job *all[] = {j0, j1, j2, j3, load};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free_job(all[i]);
}

/* ---------- the same jobs on both stores ---------- */

#define N_NAMES 6
static const char *const seq_names[N_NAMES] = {"ann", "bob", "cat", "dan", "eve", "gus"};
static const char *const seq_games[] = {"", "briscola", "scopa", "hearts"};
#define N_GAMES 4

struct answers {
    struct store_job *stats[N_NAMES][N_GAMES], *top[N_GAMES], *hist[N_NAMES];
    struct store_job *reg[5];
    struct store_job *journal[16];
    unsigned n_journal;
};

/* Registrations, matches of every kind of result, then every query. */
static void run_sequence(struct store *st, uv_loop_t *loop, struct answers *a)
{
    memset(a, 0, sizeof *a);
    n_done = 0;
    for (unsigned i = 0; i < 5; i++) { /* gus stays a guest */
        a->reg[i] = job_new(STORE_JOB_REGISTER, seq_names[i]);
        snprintf(a->reg[i]->hash, sizeof a->reg[i]->hash, "$argon2id$%s", seq_names[i]);
        store_submit(st, a->reg[i]);
    }
    int want = 5;
#define J(ops) (a->journal[a->n_journal++] = journal(st, (ops)), want++)
    {   /* 1: briscola, ann beats bob 70-50 (start and end in one job) */
        struct store_op *s = start_op(1, "briscola", 2, (const char *[]){"ann", "bob"},
                                      (const bool[]){1, 1});
        s->next = move_op(1, 1, 0, "Ac");
        s->next->next = end_op(1, "team0", "score", true, (const unsigned[]){70, 50}, 2);
        J(s);
    }
    {   /* 2: briscola 4 seats, a guest among them; team1 wins */
        J(start_op(2, "briscola", 4, (const char *[]){"ann", "bob", "cat", "gus"},
                   (const bool[]){1, 1, 1, 0}));
        J(end_op(2, "team1", "score", true, (const unsigned[]){20, 40, 30, 30}, 4));
    }
    {   /* 3: hearts, every seat for itself */
        J(start_op(3, "hearts", 4, (const char *[]){"ann", "bob", "cat", "dan"},
                   (const bool[]){1, 1, 1, 1}));
        J(end_op(3, "seat0", "score", false, (const unsigned[]){10, 20, 20, 30}, 4));
    }
    {   /* 4: hearts, seat 2 forfeits; a draw among the rest */
        J(start_op(4, "hearts", 4, (const char *[]){"dan", "cat", "bob", "ann"},
                   (const bool[]){1, 1, 1, 1}));
        struct store_op *e = end_op(4, "draw", "forfeit", false,
                                    (const unsigned[]){15, 15, 5, 40}, 4);
        e->loser = 2;
        J(e);
    }
    {   /* 5: a briscola draw */
        J(start_op(5, "briscola", 2, (const char *[]){"cat", "ann"}, (const bool[]){1, 1}));
        J(end_op(5, "draw", "score", true, (const unsigned[]){60, 60}, 2));
    }
    {   /* 6: scopa with a bot: unrated; ann was replaced by it */
        J(start_op(6, "scopa", 2, (const char *[]){"ann", "dan"}, (const bool[]){1, 1}));
        struct store_op *e = end_op(6, "team1", "score", true,
                                    (const unsigned[]){5, 11}, 2);
        e->is_unrated = true;
        e->replaced[0] = true;
        J(e);
    }
    {   /* 7: scopa, bob beats dan; 8: in play, never ended */
        J(start_op(7, "scopa", 2, (const char *[]){"bob", "dan"}, (const bool[]){1, 1}));
        J(end_op(7, "team0", "forfeit", true, (const unsigned[]){3, 2}, 2));
        J(start_op(8, "briscola", 2, (const char *[]){"eve", "gus"}, (const bool[]){1, 0}));
    }
#undef J
    for (unsigned i = 0; i < N_NAMES; i++) {
        for (unsigned g = 0; g < N_GAMES; g++) {
            a->stats[i][g] = job_new(STORE_JOB_STATS, seq_names[i]);
            snprintf(a->stats[i][g]->game, sizeof a->stats[i][g]->game, "%s", seq_games[g]);
            store_submit(st, a->stats[i][g]);
            want++;
        }
        a->hist[i] = job_new(STORE_JOB_HISTORY, seq_names[i]);
        store_submit(st, a->hist[i]);
        want++;
    }
    for (unsigned g = 0; g < N_GAMES; g++) {
        a->top[g] = job_new(STORE_JOB_TOP, NULL);
        snprintf(a->top[g]->game, sizeof a->top[g]->game, "%s", seq_games[g]);
        store_submit(st, a->top[g]);
        want++;
    }
    run_until(loop, want);
}

static void answers_free(struct answers *a)
{
    for (unsigned i = 0; i < N_NAMES; i++) {
        for (unsigned g = 0; g < N_GAMES; g++)
            free_job(a->stats[i][g]);
        free_job(a->hist[i]);
    }
    for (unsigned g = 0; g < N_GAMES; g++)
        free_job(a->top[g]);
    for (unsigned i = 0; i < 5; i++)
        free_job(a->reg[i]);
    for (unsigned i = 0; i < a->n_journal; i++)
        free_job(a->journal[i]);
}

TEST(records_equal_to_sqlite_for_the_same_jobs)
{
    char err[256], dir[64] = "/tmp/tavolo-store-XXXXXX";
    struct answers q, r;
    uv_loop_t loop;

    CHECK(mkdtemp(dir) != NULL);
    struct store *sq = store_open(dir, err, sizeof err);
    CHECK(sq != NULL);
    CHECK(!store_is_shared(sq));
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(sq, &loop), 0);
    run_sequence(sq, &loop, &q);
    close_store(sq, &loop);

    redis_up("always");
    struct store *rs = open_redis();
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(rs, &loop), 0);
    run_sequence(rs, &loop, &r);
    close_store(rs, &loop);

    for (unsigned i = 0; i < 5; i++)
        CHECK_INT(r.reg[i]->rc, q.reg[i]->rc);
    for (unsigned i = 0; i < q.n_journal; i++) {
        CHECK_INT(q.journal[i]->rc, STORE_OK);
        CHECK_INT(r.journal[i]->rc, STORE_OK);
    }
    unsigned n_rated = 0;
    for (unsigned i = 0; i < N_NAMES; i++) {
        for (unsigned g = 0; g < N_GAMES; g++) {
            const struct store_job *x = q.stats[i][g], *y = r.stats[i][g];
            CHECK_INT(y->rc, x->rc);
            if (x->rc != STORE_OK)
                continue;
            if (x->stats.rating != y->stats.rating)
                FAIL_("STATS %s %s: rating %.17g != %.17g", seq_names[i], seq_games[g],
                      x->stats.rating, y->stats.rating);
            n_rated += x->stats.rating != 1500.0;
            CHECK_INT(y->stats.played, x->stats.played);
            CHECK_INT(y->stats.won, x->stats.won);
            CHECK_INT(y->stats.lost, x->stats.lost);
            CHECK_INT(y->stats.drawn, x->stats.drawn);
        }
        const struct store_job *x = q.hist[i], *y = r.hist[i];
        CHECK_INT(y->rc, STORE_OK);
        CHECK_INT(y->n_rows, x->n_rows);
        for (unsigned k = 0; k < x->n_rows; k++) {
            CHECK_INT(y->history[k].match_id, x->history[k].match_id);
            CHECK_STR(y->history[k].game, x->history[k].game);
            CHECK_STR(y->history[k].result, x->history[k].result);
            CHECK_INT(y->history[k].points, x->history[k].points);
        }
    }
    CHECK(n_rated >= 8); /* the sequence moved ratings in every game */
    CHECK_INT(q.stats[5][0]->rc, STORE_NOTFOUND); /* gus: a guest */
    CHECK_INT(q.hist[5]->n_rows, 1); /* match 8 is not over */
    CHECK_INT(q.hist[0]->n_rows, 6);
    for (unsigned g = 0; g < N_GAMES; g++) {
        const struct store_job *x = q.top[g], *y = r.top[g];
        CHECK_INT(y->rc, STORE_OK);
        CHECK_INT(y->n_rows, x->n_rows);
        for (unsigned k = 0; k < x->n_rows; k++) {
            CHECK_STR(y->top[k].name, x->top[k].name);
            if (x->top[k].rating != y->top[k].rating)
                FAIL_("TOP %s #%u: %.17g != %.17g", seq_games[g], k,
                      x->top[k].rating, y->top[k].rating);
        }
    }
    CHECK_INT(q.top[0]->n_rows, 5);
    answers_free(&q);
    answers_free(&r);
}

static void count_account(void *ctx, const char *name, const char *hash)
{
    unsigned *n = ctx;
    char want[64];
    snprintf(want, sizeof want, "$argon2id$%s", name);
    CHECK_STR(hash, want);
    (*n)++;
}

static unsigned n_opened;
static void count_any(void *ctx, const struct store_open_match *m)
{
    (void)ctx;
    n_opened += m->id == 8;
}

TEST(startup_readers_after_a_restart)
{
    uv_loop_t loop;
    struct answers a;
    redis_up("always");
    struct store *st = open_redis();
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);
    run_sequence(st, &loop, &a);
    close_store(st, &loop);
    answers_free(&a);
    redis_stop(SIGTERM);
    redis_start("always"); /* from its AOF */
    st = open_redis();
    unsigned n_accounts = 0;
    CHECK_INT(store_each_account(st, count_account, &n_accounts), 0);
    CHECK_INT(n_accounts, 5);
    CHECK_INT(store_max_match_id(st), 8);
    n_opened = 0;
    CHECK_INT(store_each_open_match(st, count_any, NULL), 0);
    CHECK_INT(n_opened, 1); /* only match 8 is still in play */
    CHECK_INT(uv_loop_init(&loop), 0);
    close_store(st, &loop);
}

/* kill -9 of Redis while 300 journal jobs go through, and Redis started
 * again from its AOF: every job the store acknowledged (rc OK) is in the
 * stream; the ones that failed meanwhile (UNAVAILABLE) follow from the
 * store's backlog once Redis is back; the stream holds every move once,
 * in order. */
TEST(redis_killed_mid_stream_loses_no_acknowledged_append)
{
    uv_loop_t loop;
    enum { N = 300 };
    struct store_job *jobs[N + 1];

    /* always: Redis writes and fsyncs before it replies. (everysec
     * writes before it replies too, except while an fsync is slower than
     * a second: Redis then postpones writes for up to 2 s, and its own
     * kill -9 loses them; docs/CLUSTER.md.) */
    redis_up("always");
    struct store *st = open_redis();
    /* Short: jobs sent while Redis is down fail, and their ops wait. */
    store_redis_set_wait_ms(st, 100);
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;
    jobs[0] = journal(st, start_op(9, "briscola", 2, (const char *[]){"a", "b"},
                                   (const bool[]){0, 0}));
    for (unsigned i = 1; i <= N; i++) {
        char card[8];
        snprintf(card, sizeof card, "%u", i);
        jobs[i] = journal(st, move_op(9, i, i % 2, card));
        if (i == N / 3) {
            /* Some are acknowledged, others on their way: kill Redis. */
            for (int k = 0; k < 5000 && n_done < 20; k++)
                uv_run(&loop, UV_RUN_NOWAIT), usleep(200);
            redis_stop(SIGKILL);
        }
        if (i == N / 2) {
            for (int k = 0; k < 500; k++) /* 0.5 s of an outage */
                uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
            redis_start("always");
        }
    }
    run_until(&loop, N + 1);
    unsigned n_ok = 0, n_unavailable = 0;
    for (unsigned i = 0; i <= N; i++) {
        CHECK(jobs[i]->rc == STORE_OK || jobs[i]->rc == STORE_UNAVAILABLE);
        n_ok += jobs[i]->rc == STORE_OK;
        n_unavailable += jobs[i]->rc == STORE_UNAVAILABLE;
    }
    CHECK(n_ok >= 20);
    CHECK(n_unavailable >= 1);
    /* Whatever failed is in the backlog, sent once Redis answers. */
    struct store_metrics mt;
    for (int k = 0; k < 1000; k++) {
        store_get_metrics(st, &mt);
        if (mt.n_backlog == 0)
            break;
        usleep(10000);
    }
    CHECK_INT(mt.n_backlog, 0);
    struct store_job *load = job_new(STORE_JOB_LOAD_MATCH, NULL);
    load->match_id = 9;
    store_submit(st, load);
    run_until(&loop, N + 2);
    CHECK_INT(load->rc, STORE_OK);
    CHECK_INT(load->match->n_moves, N);
    for (unsigned i = 0; i < N; i++) {
        char card[8];
        snprintf(card, sizeof card, "%u", i + 1);
        CHECK_STR(load->match->moves[i].cards, card);
    }
    /* And Redis killed once more: the AOF holds all of it. */
    redis_stop(SIGKILL);
    redis_start("always");
    CHECK_INT(rint_("XLEN %s", "tavolo:match:{9}:log"), N + 1);
    printf("  (%u acknowledged, %u failed and sent later)\n", n_ok, n_unavailable);
    close_store(st, &loop);
    for (unsigned i = 0; i <= N; i++)
        free_job(jobs[i]);
    free_job(load);
}

TEST(unreachable_redis_fails_queries_in_bounded_time)
{
    uv_loop_t loop;
    redis_up("everysec");
    struct store *st = open_redis();
    store_redis_set_wait_ms(st, 200);
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;
    redis_stop(SIGKILL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct store_job *q = job_new(STORE_JOB_STATS, "ann");
    struct store_job *acc = job_new(STORE_JOB_ACCOUNT, "ann");
    store_submit(st, q);
    store_submit(st, acc);
    run_until(&loop, 2);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK_INT(q->rc, STORE_UNAVAILABLE);
    CHECK_INT(acc->rc, STORE_UNAVAILABLE);
    CHECK(s < 2.0); /* one wait of 200 ms, then at once: Redis is down */
    redis_start("everysec");
    struct store_job *q2 = NULL;
    for (int k = 0; k < 100; k++) {
        free_job(q2);
        q2 = job_new(STORE_JOB_ACCOUNT, "ann");
        store_submit(st, q2);
        run_until(&loop, 3 + k);
        if (q2->rc != STORE_UNAVAILABLE)
            break;
        usleep(50000);
    }
    CHECK_INT(q2->rc, STORE_NOTFOUND);
    close_store(st, &loop);
    free_job(q);
    free_job(acc);
    free_job(q2);
}
