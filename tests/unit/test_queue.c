/* Unit tests for game/queue: tables of the same game and seat count,
 * seats in queue order, the rating window and its widening, bot fill
 * after bot_ms (and never with 0), leaving, and the next deadline. */
#include "check.h"
#include "game/briscola.h"
#include "game/hearts.h"
#include "game/queue.h"
#include "game/scopa.h"

static int P[16]; /* players: their addresses */

TEST(two_players_form_in_queue_order)
{
    struct queue q;
    struct queue_table t;
    queue_init(&q);
    queue_add(&q, &P[1], &briscola_rules, 2, 1500, 0);
    CHECK(!queue_form(&q, 0, &t));
    queue_add(&q, &P[2], &briscola_rules, 2, 1550, 10);
    CHECK(queue_form(&q, 10, &t));
    CHECK_INT(t.n, 2);
    CHECK_INT(t.n_bots, 0);
    CHECK(t.who[0] == &P[1] && t.who[1] == &P[2]);
    CHECK(t.rules == &briscola_rules && t.n_seats == 2);
    CHECK_INT(q.n, 0);
    queue_free(&q);
}

TEST(game_and_seats_must_match)
{
    struct queue q;
    struct queue_table t;
    queue_init(&q);
    queue_add(&q, &P[1], &briscola_rules, 2, 1500, 0);
    queue_add(&q, &P[2], &scopa_rules, 2, 1500, 0);
    queue_add(&q, &P[3], &briscola_rules, 4, 1500, 0);
    CHECK(!queue_form(&q, 0, &t));
    queue_add(&q, &P[4], &scopa_rules, 2, 1500, 0);
    CHECK(queue_form(&q, 0, &t));
    CHECK(t.who[0] == &P[2] && t.who[1] == &P[4]);
    CHECK_INT(q.n, 2);
    queue_free(&q);
}

TEST(window_widens_every_five_seconds)
{
    struct queue q;
    struct queue_table t;
    queue_init(&q);
    queue_add(&q, &P[1], &briscola_rules, 2, 1500, 0);
    queue_add(&q, &P[2], &briscola_rules, 2, 1750, 0);
    CHECK_INT(queue_window(&q.entries[0], 4999), 100);
    CHECK_INT(queue_window(&q.entries[0], 5000), 200);
    CHECK(!queue_form(&q, 0, &t));
    CHECK(!queue_form(&q, 9999, &t)); /* 250 > 200 */
    CHECK(queue_form(&q, 10000, &t)); /* 250 <= 300 */
    queue_free(&q);
}

TEST(the_smaller_window_counts)
{
    struct queue q;
    struct queue_table t;
    queue_init(&q);
    queue_add(&q, &P[1], &briscola_rules, 2, 1500, 0);     /* waits long */
    queue_add(&q, &P[2], &briscola_rules, 2, 1650, 20000); /* just came */
    CHECK(!queue_form(&q, 20000, &t)); /* 150 > 100, P2's window */
    CHECK(queue_form(&q, 25000, &t));
    queue_free(&q);
}

TEST(four_seats_take_fitting_players_in_order)
{
    struct queue q;
    struct queue_table t;
    queue_init(&q);
    queue_add(&q, &P[1], &hearts_rules, 4, 1500, 0);
    queue_add(&q, &P[2], &hearts_rules, 4, 1900, 1); /* too far */
    queue_add(&q, &P[3], &hearts_rules, 4, 1450, 2);
    queue_add(&q, &P[4], &hearts_rules, 4, 1590, 3); /* 140 from P3 */
    queue_add(&q, &P[5], &hearts_rules, 4, 1520, 4);
    queue_add(&q, &P[6], &hearts_rules, 4, 1480, 5);
    CHECK(queue_form(&q, 5, &t));
    CHECK_INT(t.n, 4);
    CHECK(t.who[0] == &P[1] && t.who[1] == &P[3] && t.who[2] == &P[5] &&
          t.who[3] == &P[6]);
    CHECK_INT(q.n, 2);
    queue_free(&q);
}

TEST(bot_fill_after_bot_ms)
{
    struct queue q;
    struct queue_table t;
    queue_init(&q);
    queue_add(&q, &P[1], &hearts_rules, 4, 1500, 0);
    queue_add(&q, &P[2], &hearts_rules, 4, 1510, 100);
    queue_add(&q, &P[3], &briscola_rules, 2, 1500, 200);
    CHECK(!queue_fill(&q, 19999, 20000, &t));
    CHECK(!queue_fill(&q, 99999, 0, &t)); /* 0: never */
    CHECK(queue_fill(&q, 20000, 20000, &t));
    CHECK_INT(t.n, 2);
    CHECK_INT(t.n_bots, 2);
    CHECK(t.who[0] == &P[1] && t.who[1] == &P[2]);
    CHECK_INT(q.n, 1);
    CHECK(q.entries[0].who == &P[3]);
    queue_free(&q);
}

TEST(remove_and_has)
{
    struct queue q;
    struct queue_table t;
    queue_init(&q);
    queue_add(&q, &P[1], &briscola_rules, 2, 1500, 0);
    CHECK(queue_has(&q, &P[1]));
    CHECK(queue_remove(&q, &P[1]));
    CHECK(!queue_remove(&q, &P[1]));
    CHECK(!queue_has(&q, &P[1]));
    queue_add(&q, &P[2], &briscola_rules, 2, 1500, 0);
    CHECK(!queue_form(&q, 0, &t));
    queue_free(&q);
}

TEST(next_deadline)
{
    struct queue q;
    queue_init(&q);
    CHECK(queue_next_ms(&q, 0, 20000) == UINT64_MAX);
    queue_add(&q, &P[1], &briscola_rules, 2, 1500, 1000);
    CHECK_INT(queue_next_ms(&q, 1000, 20000), 6000);
    CHECK_INT(queue_next_ms(&q, 6000, 20000), 11000);
    CHECK_INT(queue_next_ms(&q, 1000, 3000), 4000);
    queue_free(&q);
}
