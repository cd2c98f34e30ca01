/*
 * bot_runner: bot moves on libuv's thread pool (bot_runner.h).
 *
 * A job's life: ask (loop) -> work (a pool thread: bot_choose on the
 * job's own view copy) -> after_work (loop) -> the rest of the delay on
 * a timer, if any -> done callback -> the timer handle closes -> free.
 * The list holds every job until it is freed, so close can find them:
 * a job whose work has not started is cancelled (after_work then runs
 * with UV_ECANCELED), one that is running finishes, and either way a
 * job of a closing runner is freed without a callback.
 */
#include "app/bot_runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/mem.h"

struct bot_job {
    uv_work_t req;
    uv_timer_t timer;
    struct bot_runner *br;
    struct bot_job *prev, *next;
    struct bot_view view; /* the copy the worker reads */
    enum bot_level level;
    unsigned think_ms;
    uint64_t seed, match_id, gen;
    uint64_t ready_ms; /* loop time from which the answer may go */
    uint64_t asked_ns, begun_ns, ended_ns; /* uv_hrtime: the stats */
    uint64_t cpu_ns;                       /* the thread's CPU time in work */
    struct rules_move mv;
    int rc;
    bool is_timer_open;
    bool is_working; /* between queue and after_work */
};

void bot_runner_init(struct bot_runner *br, uv_loop_t *loop,
                     bot_runner_done_fn done, void *ctx)
{
    memset(br, 0, sizeof *br);
    br->loop = loop;
    br->done = done;
    br->ctx = ctx;
    br->think_ms = BOT_HARD_TIME_MS;
}

unsigned bot_runner_pending(const struct bot_runner *br)
{
    return br->n_jobs;
}

static void unlink_job(struct bot_job *j)
{
    struct bot_runner *br = j->br;
    if (j->prev)
        j->prev->next = j->next;
    else
        br->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    br->n_jobs--;
}

static void free_job(struct bot_job *j)
{
    bot_view_free(&j->view);
    free(j);
}

static void on_timer_closed(uv_handle_t *h)
{
    free_job(h->data);
}

/* Unlinks and frees j, closing its timer first if it has one. */
static void finish(struct bot_job *j)
{
    unlink_job(j);
    if (j->is_timer_open) {
        j->is_timer_open = false;
        uv_close((uv_handle_t *)&j->timer, on_timer_closed);
    } else {
        free_job(j);
    }
}

static void deliver(struct bot_job *j)
{
    struct bot_runner *br = j->br;
    uint64_t match_id = j->match_id, gen = j->gen;
    unsigned seat = j->view.seat;
    struct rules_move mv = j->mv;
    int rc = j->rc;

    /* Freed first: the callback may ask again or close the runner. */
    finish(j);
    br->done(br->ctx, match_id, seat, gen, rc, &mv);
}

static void on_timer(uv_timer_t *t)
{
    deliver(t->data);
}

/* The bot's only clock: hard's time cap (thread-safe). */
static uint64_t clock_ms(void *ctx)
{
    (void)ctx;
    return uv_hrtime() / 1000000u;
}

/* A search must not starve the loop (and the store's writer) on the same
 * core: the pool thread that runs one is lowered to BOT_RUNNER_NICE for
 * good, once (on Linux the nice value is the thread's; an unprivileged
 * thread cannot raise it back, so it stays). The loop, at the server's
 * own nice, then wins the core whenever it has work; the searches take
 * what is left, within their time cap. */
static void lower_this_thread(void)
{
    static __thread bool is_lowered;

    if (is_lowered)
        return;
    is_lowered = true;
    errno = 0;
    int now = getpriority(PRIO_PROCESS, 0);
    if (errno == 0 && now < BOT_RUNNER_NICE)
        (void)setpriority(PRIO_PROCESS, 0, BOT_RUNNER_NICE); /* best effort */
}

static void work(uv_work_t *req)
{
    struct bot_job *j = req->data;

    lower_this_thread();
    struct bot_budget budget = {BOT_HARD_ITERATIONS, j->think_ms, clock_ms,
                                NULL};
    struct timespec c0, c1;
    bool has_cpu = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0) == 0;
    j->begun_ns = uv_hrtime();
    j->rc = bot_choose(&j->view, j->level, &budget, j->seed, &j->mv);
    j->ended_ns = uv_hrtime();
    if (has_cpu && clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1) == 0)
        j->cpu_ns = (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000u +
                    (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
}

static void count(struct bot_runner_stats *st, const struct bot_job *j)
{
    uint64_t think = (j->ended_ns - j->begun_ns) / 1000u;
    uint64_t wait = (j->begun_ns - j->asked_ns) / 1000u;
    unsigned lv = (unsigned)j->level < 3 ? (unsigned)j->level : 2;

    st->n_moves[lv]++;
    st->think_us[lv] += think;
    st->cpu_us[lv] += j->cpu_ns / 1000u;
    if (think > st->max_think_us[lv])
        st->max_think_us[lv] = think;
    st->wait_us += wait;
    if (wait > st->max_wait_us)
        st->max_wait_us = wait;
}

static void after_work(uv_work_t *req, int status)
{
    struct bot_job *j = req->data;
    struct bot_runner *br = j->br;

    j->is_working = false;
    if (br->is_closing || status == UV_ECANCELED) {
        finish(j);
        return;
    }
    count(&br->stats, j);
    uint64_t now = uv_now(br->loop);
    if (now >= j->ready_ms) {
        deliver(j);
        return;
    }
    uv_timer_init(br->loop, &j->timer);
    j->timer.data = j;
    j->is_timer_open = true;
    uv_timer_start(&j->timer, on_timer, j->ready_ms - now, 0);
}

int bot_runner_ask(struct bot_runner *br, const struct bot_view *v,
                   enum bot_level level, uint64_t seed, uint64_t match_id,
                   uint64_t gen, unsigned delay_ms)
{
    struct bot_job *j = mem_calloc(1, sizeof *j);

    if (br->is_closing) {
        free(j);
        return -1;
    }
    j->br = br;
    bot_view_copy(&j->view, v);
    j->level = level;
    j->think_ms = br->think_ms;
    j->seed = seed;
    j->match_id = match_id;
    j->gen = gen;
    j->ready_ms = uv_now(br->loop) + delay_ms;
    j->asked_ns = uv_hrtime();
    j->req.data = j;
    if (uv_queue_work(br->loop, &j->req, work, after_work) != 0) {
        free_job(j);
        return -1;
    }
    j->is_working = true;
    j->next = br->jobs;
    if (br->jobs)
        br->jobs->prev = j;
    br->jobs = j;
    br->n_jobs++;
    return 0;
}

void bot_runner_close(struct bot_runner *br)
{
    br->is_closing = true;
    for (struct bot_job *j = br->jobs, *next; j != NULL; j = next) {
        next = j->next;
        if (j->is_working) {
            /* Best effort: a job already running cannot be cancelled;
             * after_work frees it either way. */
            uv_cancel((uv_req_t *)&j->req);
        } else {
            finish(j); /* waiting on its timer */
        }
    }
}
