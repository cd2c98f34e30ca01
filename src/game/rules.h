/*
 * rules: what a game implements to be played on tavolo.
 *
 * A game is a table of pure functions over an opaque state of
 * state_size bytes: no sockets, no clocks, no globals, no allocation;
 * deterministic given the random source passed to deal. The match engine
 * (match.c) owns the state, asks the rules what is legal and what a play
 * caused, and turns the answers into the events of PROTOCOL §4.
 *
 * Adding a game: one file defining a `const struct rules`, and one line
 * in the registry (games.c).
 */
#ifndef TAVOLO_GAME_RULES_H
#define TAVOLO_GAME_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "game/card.h"

#define RULES_MAX_SEATS 4
#define RULES_MAX_HAND 13

/* What one accepted card caused. */
struct rules_outcome {
    bool trick_done;        /* the card completed a trick */
    unsigned trick_winner;  /* seat, when trick_done */
    unsigned trick_points;
    unsigned n_draws;       /* cards drawn after the trick, in draw order */
    struct {
        unsigned seat;
        card_t card;
    } draws[RULES_MAX_SEATS];
    bool is_over;           /* every card has been played */
};

enum rules_result {
    RESULT_TEAM0 = 0,
    RESULT_TEAM1 = 1,
    RESULT_DRAW = 2,
};

struct rules {
    const char *name;
    unsigned seat_counts[RULES_MAX_SEATS]; /* ascending, 0-terminated */
    size_t state_size;

    /* Shuffles and deals for n_seats (one of seat_counts). */
    void (*deal)(void *state, unsigned n_seats, card_uniform_fn uniform,
                 void *rng_ctx);
    /* The seat that must play next. */
    unsigned (*to_play)(const void *state);
    /* Private view: the seat's hand into out; returns its size. */
    unsigned (*hand)(const void *state, unsigned seat, card_t *out);
    /* Public view: the face-up trump card, or CARD_NONE for games without. */
    card_t (*trump)(const void *state);
    /* Public view: the trick in progress, in play order; returns its size. */
    unsigned (*trick)(const void *state, unsigned *seats, card_t *cards);
    /* May seat play card now? */
    bool (*is_legal)(const void *state, unsigned seat, card_t card);
    /* The card the server plays for a seat whose time ran out. */
    card_t (*auto_card)(const void *state, unsigned seat);
    /* Applies a legal card (the caller has checked is_legal). */
    void (*play)(void *state, unsigned seat, card_t card,
                 struct rules_outcome *out);
    /* Points taken so far by each seat. */
    void (*points)(const void *state, unsigned *per_seat);
    /* The team a seat plays for (0 or 1). */
    unsigned (*team_of)(const void *state, unsigned seat);
    /* The result by score, once is_over. */
    enum rules_result (*result)(const void *state);
};

/* The registry: every game, NULL-terminated. */
extern const struct rules *const rules_registry[];

/* Looks a game up by its exact name; NULL if unknown. */
const struct rules *rules_find(const char *name, size_t len);

/* True if n is one of the game's seat counts. */
bool rules_has_seats(const struct rules *r, unsigned n);

#endif
