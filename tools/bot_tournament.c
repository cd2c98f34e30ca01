/*
 * bot-tournament: bots against bots, offline, through the rules
 * interface and the seats' views only (no server, no sockets): the
 * strength and the cost of the levels (docs/BOTS.md).
 *
 *   bot-tournament --game G [--seats N] --a LEVEL --b LEVEL
 *                  [--matches M] [--seed S] [--iterations I] [--time-ms T]
 *
 * Matches go in pairs over the same decks with the sides swapped, so the
 * luck of the deal cancels out. Level A sits at even seats in the first
 * match of a pair (seats 0 and 2 with 4 players), at odd ones in the
 * second. A's score: 1 per match its side wins, 1/2 per draw (hearts:
 * the match is won by the seat with the lowest total; A "wins" when that
 * seat is one of its two). Printed: the score with a 95 % confidence
 * interval (normal approximation over match pairs), and the mean and
 * maximum milliseconds per move of each level.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/bot.h"
#include "game/rules.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_ms(void *ctx)
{
    (void)ctx;
    return now_ns() / 1000000u;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint32_t uniform(void *ctx, uint32_t upper)
{
    return (uint32_t)(splitmix(ctx) % upper); /* bias < 2^-58: fine here */
}

struct cost {
    double sum_ms, max_ms;
    unsigned long n;
    unsigned long n_fallback; /* moves the bot did not find: auto-moved */
};

/* One match; returns the result (rules->result). level[s]: seat s's. */
static int play_match(const struct rules *r, unsigned ns,
                      const enum bot_level *level, uint64_t deck_seed,
                      uint64_t bot_seed, const struct bot_budget *budget,
                      struct cost *cost)
{
    void *state = calloc(1, r->state_size);
    struct bot_view views[RULES_MAX_SEATS];
    card_t deck[RULES_MAX_DECK];
    unsigned hand = 1;

    r->init(state, ns);
    rules_canonical_deck(r->deck_size, deck);
    card_shuffle(deck, r->deck_size, uniform, &deck_seed);
    r->deal(state, hand, deck);
    for (unsigned s = 0; s < ns; s++) {
        bot_view_init(&views[s], r, ns, s);
        bot_view_deal(&views[s], state, hand);
    }
    for (;;) {
        enum rules_move_kind kind;
        unsigned mask = r->to_move(state, &kind);
        if (mask == 0)
            break;
        unsigned seat = (unsigned)__builtin_ctz(mask);
        struct rules_move mv;
        uint64_t t0 = now_ns();
        struct cost *c = &cost[level[seat]];
        if (bot_choose(&views[seat], level[seat], budget, splitmix(&bot_seed),
                       &mv) != 0) {
            /* No determinisation replayed (BOT_MAX_TRIES): as the server
             * does, the rules' auto-move; counted and reported. */
            r->auto_move(state, seat, &mv);
            c->n_fallback++;
        }
        if (r->check(state, seat, &mv, NULL, 0) != RULES_OK) {
            fprintf(stderr, "bot-tournament: seat %u found no legal move\n", seat);
            exit(1);
        }
        double ms = (double)(now_ns() - t0) / 1e6;
        c->sum_ms += ms;
        c->n++;
        if (ms > c->max_ms)
            c->max_ms = ms;
        struct rules_outcome out;
        r->apply(state, seat, &mv, &out);
        for (unsigned s = 0; s < ns; s++)
            bot_view_move(&views[s], state, seat, &mv, &out);
        if (out.is_over)
            break;
        if (out.is_hand_over) {
            hand++;
            rules_canonical_deck(r->deck_size, deck);
            card_shuffle(deck, r->deck_size, uniform, &deck_seed);
            r->deal(state, hand, deck);
            for (unsigned s = 0; s < ns; s++)
                bot_view_deal(&views[s], state, hand);
        }
    }
    int res = r->result(state);
    for (unsigned s = 0; s < ns; s++)
        bot_view_free(&views[s]);
    free(state);
    return res;
}

static void usage(void)
{
    fprintf(stderr, "usage: bot-tournament --game G [--seats N] --a LEVEL "
                    "--b LEVEL [--matches M] [--seed S] [--iterations I] "
                    "[--time-ms T]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"game", 1, 0, 'g'},       {"seats", 1, 0, 'n'},   {"a", 1, 0, 'a'},
        {"b", 1, 0, 'b'},          {"matches", 1, 0, 'm'}, {"seed", 1, 0, 's'},
        {"iterations", 1, 0, 'i'}, {"time-ms", 1, 0, 't'}, {0, 0, 0, 0},
    };
    const char *game = NULL;
    unsigned ns = 0, matches = 200;
    uint64_t seed = 1;
    enum bot_level la = BOT_HARD, lb = BOT_NORMAL;
    struct bot_budget budget = {BOT_HARD_ITERATIONS, BOT_HARD_TIME_MS, clock_ms,
                                NULL};
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g':
            game = optarg;
            break;
        case 'n':
            ns = (unsigned)atoi(optarg);
            break;
        case 'a':
            if (bot_level_parse(optarg, strlen(optarg), &la) != 0)
                usage();
            break;
        case 'b':
            if (bot_level_parse(optarg, strlen(optarg), &lb) != 0)
                usage();
            break;
        case 'm':
            matches = (unsigned)atoi(optarg);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'i':
            budget.iterations = (unsigned)atoi(optarg);
            break;
        case 't':
            budget.time_ms = (unsigned)atoi(optarg);
            break;
        default:
            usage();
        }
    }
    const struct rules *r = game ? rules_find(game, strlen(game)) : NULL;
    if (r == NULL || !bot_supports(r))
        usage();
    if (ns == 0)
        ns = r->seat_counts[0];
    if (!rules_has_seats(r, ns) || matches < 2)
        usage();

    struct cost cost[3];
    memset(cost, 0, sizeof cost);
    unsigned pairs = matches / 2;
    double sum = 0, sum_sq = 0;
    unsigned wins = 0, draws = 0, losses = 0;
    for (unsigned p = 0; p < pairs; p++) {
        double pair_score = 0;
        uint64_t deck_seed = seed * 1000003u + p;
        for (unsigned half = 0; half < 2; half++) {
            enum bot_level level[RULES_MAX_SEATS];
            for (unsigned s = 0; s < ns; s++)
                level[s] = (s % 2 == half) ? la : lb;
            int res = play_match(r, ns, level, deck_seed,
                                 deck_seed ^ (half + 1) * 0x5851F42D4C957F2Du,
                                 &budget, cost);
            double x;
            if (res == RULES_DRAW)
                x = 0.5;
            else
                x = ((unsigned)res % 2 == half) ? 1.0 : 0.0;
            wins += x == 1.0;
            draws += x == 0.5;
            losses += x == 0.0;
            pair_score += x / 2;
        }
        sum += pair_score;
        sum_sq += pair_score * pair_score;
    }
    double mean = sum / pairs;
    double var = pairs > 1 ? (sum_sq - pairs * mean * mean) / (pairs - 1) : 0;
    double half_w = 1.96 * sqrt(var > 0 ? var : 0) / sqrt((double)pairs);
    printf("%s %u seats: %s vs %s, %u matches: %s scores %.3f +- %.3f "
           "(W %u D %u L %u)\n",
           r->name, ns, bot_level_name(la), bot_level_name(lb), 2 * pairs,
           bot_level_name(la), mean, half_w, wins, draws, losses);
    for (unsigned l = 0; l < 3; l++)
        if (cost[l].n > 0)
            printf("  %s: %.3f ms per move on average, %.1f ms at most "
                   "(%lu moves)\n",
                   bot_level_name((enum bot_level)l),
                   cost[l].sum_ms / cost[l].n, cost[l].max_ms, cost[l].n);
    for (unsigned l = 0; l < 3; l++)
        if (cost[l].n_fallback > 0)
            printf("  %s: %lu moves found no determinisation: the auto-move\n",
                   bot_level_name((enum bot_level)l), cost[l].n_fallback);
    return 0;
}
