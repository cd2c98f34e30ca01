/*
 * bot_game: what a bot knows of one game beyond the rules interface,
 * internal to src/bot/. Two things: where the cards this seat cannot see
 * may lie (sample), and the normal level's heuristic. One table per game
 * (bot_briscola.c, bot_scopa.c, bot_hearts.c), found by the game's name.
 */
#ifndef TAVOLO_BOT_BOT_GAME_H
#define TAVOLO_BOT_BOT_GAME_H

#include <stdbool.h>
#include <stdint.h>

#include "bot/bot.h"

/* A small, fast generator (splitmix64); the only random source. */
struct bot_rng {
    uint64_t s;
};

static inline uint64_t bot_rng_next(struct bot_rng *g)
{
    uint64_t z = (g->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-and-reject). */
static inline uint32_t bot_rng_below(struct bot_rng *g, uint32_t n)
{
    uint64_t m = (uint64_t)(uint32_t)bot_rng_next(g) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) {
            m = (uint64_t)(uint32_t)bot_rng_next(g) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

void bot_shuffle(card_t *cards, unsigned n, struct bot_rng *g);

/* Card sets as masks, bit c for card c (c < 52). */
static inline uint64_t bot_bit(card_t c)
{
    return UINT64_C(1) << c;
}

struct bot_game {
    const char *name;
    /* The deck of the hand whose events are ev[0..n) (ev[0] its DEAL),
     * deck_size cards in deal order, and, for each hidden PASS among
     * them, the cards that seat passed (pass[seat]); every card this
     * seat saw is where it saw it, and every card another seat played
     * is one it could hold then. false: this try found no sample (the
     * caller retries; the replay rejects what sampling let through). */
    bool (*sample)(const struct bot_view *v, const struct bot_event *ev,
                   unsigned n, struct bot_rng *g, card_t *deck,
                   struct rules_move pass[RULES_MAX_SEATS]);
    /* The normal level: a move for v's seat in state (a determinisation;
     * the heuristic reads only what the seat sees: its hand, the trick,
     * trump, table, and the view). kind: the move owed. */
    void (*heuristic)(const struct bot_view *v, const void *state,
                      enum rules_move_kind kind, struct bot_rng *g,
                      struct rules_move *out);
    /* Hard's playout policy (NULL: uniformly random): a legal move for
     * seat in a determinised state, which it may read in full (in a
     * playout every card is known anyway); mixed with random moves. */
    void (*playout)(const struct rules *r, const void *state, unsigned seat,
                    unsigned n_seats, struct bot_rng *g,
                    struct rules_move *out);
    /* Hard's playout value of a finished hand for each seat, in [0, 1]:
     * before is the state before the hand's deal, after at its end. */
    void (*reward)(const struct rules *r, unsigned n_seats, const void *before,
                   const void *after, double *per_seat);
};

extern const struct bot_game bot_briscola, bot_scopa, bot_hearts;

const struct bot_game *bot_game_find(const struct rules *r);

/* Shared helpers for the heuristics. */
/* Cards of seat's hand in state. */
unsigned bot_hand(const struct bot_view *v, const void *state, card_t *out);
/* Random 3 of the seat's hand (a PASS). */
void bot_random_pass(const struct bot_view *v, const void *state,
                     struct bot_rng *g, struct rules_move *out);

/* Determinisation, shared by the levels (bot.c). */
struct bot_det {
    const struct bot_view *v;
    const struct bot_game *game;
    const struct rules *r;
    unsigned cur;     /* index of the current hand's DEAL event */
    unsigned end;     /* v->n_events */
    void *prefix;     /* the state before the current hand's deal */
    unsigned n_fails; /* samples the replay rejected */
};

/* Replays the hand whose DEAL is event `at` (up to the next DEAL or the
 * end) onto state, sampling until a sample replays: true, or false after
 * BOT_MAX_TRIES. state must be where that hand's deal goes. */
#define BOT_MAX_TRIES 64
bool bot_replay_hand(struct bot_det *d, unsigned at, void *state,
                     struct bot_rng *g);

/* Hard: the chosen move by ISMCTS over d (ismcts.c). */
void bot_ismcts(struct bot_det *d, const struct bot_budget *b,
                struct bot_rng *g, struct rules_move *out);
#endif
