/* Unit tests for app/bot_runner on a real libuv loop: the answer comes
 * after the delay with the ids it was asked with and a legal move; a
 * callback may ask again; closing with jobs queued, running or waiting
 * on their delay calls nothing back and leaks nothing (ASan). */
#include "check.h"

#include "app/bot_runner.h"
#include "game/briscola.h"

struct answers {
    unsigned n;
    uint64_t match_id, gen, at_ms;
    unsigned seat;
    int rc;
    struct rules_move mv;
    struct bot_runner *br;
    const struct bot_view *again; /* ask again from the callback */
    unsigned n_again;
};

static void on_done(void *ctx, uint64_t match_id, unsigned seat, uint64_t gen,
                    int rc, const struct rules_move *mv)
{
    struct answers *a = ctx;
    a->n++;
    a->match_id = match_id;
    a->seat = seat;
    a->gen = gen;
    a->rc = rc;
    a->mv = *mv;
    a->at_ms = uv_now(a->br->loop);
    if (a->again && a->n_again > 0) {
        a->n_again--;
        CHECK_INT(bot_runner_ask(a->br, a->again, BOT_NORMAL, 1, match_id,
                                 gen + 1, 0),
                  0);
    }
}

static struct briscola state;

static void make_view(struct bot_view *v, unsigned seat)
{
    card_t deck[40];
    rules_canonical_deck(40, deck);
    briscola_rules.init(&state, 2);
    briscola_rules.deal(&state, 1, deck);
    bot_view_init(v, &briscola_rules, 2, seat);
    bot_view_deal(v, &state, 1);
}

TEST(answer_after_the_delay)
{
    uv_loop_t loop;
    struct bot_runner br;
    struct answers a = {0};
    struct bot_view v;

    uv_loop_init(&loop);
    bot_runner_init(&br, &loop, on_done, &a);
    a.br = &br;
    make_view(&v, 0);
    uint64_t t0 = uv_now(&loop);
    CHECK_INT(bot_runner_ask(&br, &v, BOT_HARD, 7, 42, 3, 120), 0);
    bot_view_free(&v); /* the runner has its own copy */
    CHECK_INT(bot_runner_pending(&br), 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(a.n, 1);
    CHECK_INT(a.match_id, 42);
    CHECK_INT(a.gen, 3);
    CHECK_INT(a.seat, 0);
    CHECK_INT(a.rc, 0);
    CHECK(a.at_ms >= t0 + 120);
    CHECK_INT(briscola_rules.check(&state, 0, &a.mv, NULL, 0), RULES_OK);
    CHECK_INT(bot_runner_pending(&br), 0);
    bot_runner_close(&br);
    CHECK_INT(uv_loop_close(&loop), 0);
}

TEST(no_move_due_is_rc_minus_one)
{
    uv_loop_t loop;
    struct bot_runner br;
    struct answers a = {0};
    struct bot_view v;

    uv_loop_init(&loop);
    bot_runner_init(&br, &loop, on_done, &a);
    a.br = &br;
    make_view(&v, 1); /* seat 0 leads */
    CHECK_INT(bot_runner_ask(&br, &v, BOT_EASY, 7, 1, 1, 0), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(a.n, 1);
    CHECK_INT(a.rc, -1);
    bot_view_free(&v);
    bot_runner_close(&br);
    CHECK_INT(uv_loop_close(&loop), 0);
}

TEST(a_callback_may_ask_again)
{
    uv_loop_t loop;
    struct bot_runner br;
    struct answers a = {0};
    struct bot_view v;

    uv_loop_init(&loop);
    bot_runner_init(&br, &loop, on_done, &a);
    a.br = &br;
    make_view(&v, 0);
    a.again = &v;
    a.n_again = 3;
    CHECK_INT(bot_runner_ask(&br, &v, BOT_NORMAL, 7, 5, 10, 0), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(a.n, 4);
    CHECK_INT(a.gen, 13);
    bot_view_free(&v);
    bot_runner_close(&br);
    CHECK_INT(uv_loop_close(&loop), 0);
}

/* Closes from a timer while jobs are queued, running and delayed. */
static void close_now(uv_timer_t *t)
{
    bot_runner_close(t->data);
    uv_close((uv_handle_t *)t, NULL);
}

TEST(close_with_jobs_in_flight_calls_nothing_back)
{
    uv_loop_t loop;
    struct bot_runner br;
    struct answers a = {0};
    struct bot_view v;
    uv_timer_t t;

    uv_loop_init(&loop);
    bot_runner_init(&br, &loop, on_done, &a);
    a.br = &br;
    make_view(&v, 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK_INT(bot_runner_ask(&br, &v, BOT_EASY, i, i, 0, 60000), 0);
    for (unsigned i = 0; i < 24; i++)
        CHECK_INT(bot_runner_ask(&br, &v, BOT_HARD, i, i, 0, 0), 0);
    uv_timer_init(&loop, &t);
    t.data = &br;
    uv_timer_start(&t, close_now, 20, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(bot_runner_pending(&br), 0);
    CHECK(a.n < 32);
    /* After close, asking is refused. */
    CHECK_INT(bot_runner_ask(&br, &v, BOT_EASY, 1, 1, 1, 0), -1);
    bot_view_free(&v);
    CHECK_INT(uv_loop_close(&loop), 0);
}
