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

/* Random joins, leaves, forms and fills against the invariants: a table
 * is one game and seat count, full (or filled with bots only after
 * bot_ms), pairwise within the smaller window, in joining order, and
 * nobody is in two tables or left behind twice. */
TEST(random_operations_keep_the_invariants)
{
    static const struct rules *const games[] = {&briscola_rules, &scopa_rules,
                                                &hearts_rules};
    static int who[4096];
    static uint64_t joined[4096];
    static int rating[4096];
    static bool gone[4096];
    struct queue q;
    uint64_t s = 1, now = 0;
    unsigned next = 0, tables = 0, fills = 0;

    queue_init(&q);
    for (unsigned step = 0; step < 20000; step++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        unsigned op = (unsigned)(s >> 60);
        now += (s >> 40) % 700;
        if (op < 7 && next < 4096) {
            const struct rules *r = games[(s >> 20) % 3];
            unsigned ns = r == &hearts_rules ? 4 : (s >> 22) % 2 ? 4 : 2;
            rating[next] = 1200 + (int)((s >> 24) % 600);
            joined[next] = now;
            queue_add(&q, &who[next], r, ns, rating[next], now);
            next++;
        } else if (op < 9 && q.n > 0) {
            struct queue_entry e = q.entries[(s >> 30) % q.n];
            CHECK(queue_remove(&q, e.who));
            gone[(int *)e.who - who] = true;
        } else {
            struct queue_table t;
            bool is_fill = op >= 14;
            if (!(is_fill ? queue_fill(&q, now, 20000, &t)
                          : queue_form(&q, now, &t)))
                continue;
            tables += !is_fill;
            fills += is_fill;
            CHECK(t.n >= 1 && t.n + t.n_bots == t.n_seats);
            if (!is_fill)
                CHECK_INT(t.n_bots, 0);
            for (unsigned i = 0; i < t.n; i++) {
                unsigned a = (unsigned)((int *)t.who[i] - who);
                CHECK(!gone[a]);
                CHECK(!queue_has(&q, t.who[i]));
                gone[a] = true;
                if (i > 0)
                    CHECK(t.who[i] > t.who[i - 1]); /* joining order */
                if (is_fill && i == 0)
                    CHECK(now >= joined[a] + 20000);
                for (unsigned j = 0; j < i; j++) {
                    unsigned b = (unsigned)((int *)t.who[j] - who);
                    struct queue_entry ea = {0, 0, 0, rating[a], joined[a]};
                    struct queue_entry eb = {0, 0, 0, rating[b], joined[b]};
                    unsigned wa = queue_window(&ea, now),
                             wb = queue_window(&eb, now);
                    CHECK(abs(rating[a] - rating[b]) <=
                          (int)(wa < wb ? wa : wb));
                }
            }
        }
    }
    printf("     %u tables, %u bot fills, %zu still queued\n", tables, fills,
           q.n);
    CHECK(tables > 100 && fills > 10);
    queue_free(&q);
}
