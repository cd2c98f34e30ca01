/*
 * bot: server players (PROTOCOL §14) that choose a move from one seat's
 * view (game/bot_view.h) through the rules interface (game/rules.h).
 *
 * A bot never sees the full state, a socket or a clock. It rebuilds
 * full states by determinisation: it samples the cards it cannot see
 * (the others' hands, the deck order, the cards others passed) so that
 * they agree with everything in its view, then replays the public moves
 * from init through rules->check and rules->apply, and resamples when a
 * public move would be illegal under the sample. The sampling is the
 * only game-specific part (bot_game.h); the levels work on any game:
 *
 *   easy    a uniformly random legal move;
 *   normal  a per-game heuristic (bot_game.h);
 *   hard    information-set Monte Carlo tree search (Cowling, Powley and
 *           Whitehouse 2012, single observer): UCT over a tree of this
 *           seat's information sets, one determinisation per iteration,
 *           random playouts to the end of the hand.
 *
 * Everything random comes from seed: the same view, level, budget and
 * seed give the same move. Time enters only through the budget's clock
 * callback (NULL: iterations only), so tests are reproducible.
 * bot_choose is pure and thread-safe: it reads the view and writes out.
 */
#ifndef TAVOLO_BOT_BOT_H
#define TAVOLO_BOT_BOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "game/bot_view.h"
#include "game/rules.h"

enum bot_level {
    BOT_EASY = 0,
    BOT_NORMAL,
    BOT_HARD,
};

#define BOT_HARD_ITERATIONS 3000 /* default budget of hard */
#define BOT_HARD_TIME_MS 700     /* default time cap of hard: inside the delay */

typedef uint64_t (*bot_clock_fn)(void *ctx); /* milliseconds, monotonic */

/* How long hard may think: at most iterations, and (if now_ms is not
 * NULL) until time_ms have passed since the call. */
struct bot_budget {
    unsigned iterations;
    unsigned time_ms;
    bot_clock_fn now_ms;
    void *clock_ctx;
};

/* "easy", "normal", "hard" (exact, lower case): 0 and *out; -1 else. */
int bot_level_parse(const char *s, size_t len, enum bot_level *out);
const char *bot_level_name(enum bot_level level);

/* True if bots can play r's game (it has a sampler in bot_game.c). */
bool bot_supports(const struct rules *r);

/* Chooses the view's seat's move now into out. budget may be NULL (the
 * defaults, no clock). Returns 0, or -1 when no move is due for the seat
 * or no determinisation agrees with the view (a view the engine did not
 * build; the caller then auto-moves). The move passes rules->check. */
int bot_choose(const struct bot_view *v, enum bot_level level,
               const struct bot_budget *budget, uint64_t seed,
               struct rules_move *out);

/* One determinisation: a full state (rules->state_size bytes) that
 * agrees with the view, sampled from seed. Returns 0, or -1 when none
 * was found within the bounded tries. For tests and tools. */
int bot_determinise(const struct bot_view *v, uint64_t seed, void *state);

#endif
