/*
 * rules: what a game implements to be played on tavolo (version 2).
 *
 * A game is a table of pure functions over an opaque state of
 * state_size bytes: no sockets, no clocks, no globals, no allocation,
 * no randomness of its own. Chance enters only as the shuffled deck of
 * each hand (deal.h makes it, PROTOCOL §13), so a match is a pure
 * function of its decks and its moves. The match engine (match.c) owns
 * the state, asks the rules whose move it is and whether a move is
 * legal, applies it, and turns the outcome into the events of PROTOCOL
 * §4 and §12. The engine knows no game: what differs between games is
 * said here, by flags and views, never by a game's name.
 *
 * Shape of a match (OpenSpiel's State, in C): hands are dealt one after
 * the other (deal); inside a hand, to_move says which seats must move
 * now (one seat playing, or every seat at once while passing); a move is
 * checked (check) and applied (apply), and the outcome says what it
 * caused; after the last hand the match is over and result/end_points
 * say who won.
 *
 * Adding a game: one file defining a `const struct rules`, and one line
 * in the registry (games.c).
 */
#ifndef TAVOLO_GAME_RULES_H
#define TAVOLO_GAME_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "game/card.h"

#define RULES_MAX_SEATS 4
#define RULES_MAX_HAND 13     /* cards in one hand (hearts) */
#define RULES_MAX_DECK 52
#define RULES_MAX_TABLE 40    /* face-up table cards (scopa; bounded by the deck) */
#define RULES_MAX_MOVE 12     /* cards named by one move: 1 + captures, or 3 passed */
#define RULES_PASS_CARDS 3

enum rules_move_kind {
    MOVE_PLAY = 0, /* cards[0] played; cards[1..n) the table cards it captures */
    MOVE_PASS,     /* cards[0..3) passed (hearts) */
};

struct rules_move {
    uint8_t kind;  /* enum rules_move_kind */
    uint8_t n;     /* cards used, 1..RULES_MAX_MOVE */
    card_t cards[RULES_MAX_MOVE];
};

/* Why a move is refused; the engine maps these to PROTOCOL error codes. */
enum rules_verdict {
    RULES_OK = 0,
    RULES_NOTYOURTURN, /* not this seat's move now, or the wrong kind (PLAY while passing) */
    RULES_NOTINHAND,   /* a named card of the seat's own is not in its hand */
    RULES_ILLEGAL,     /* in hand, but the rules forbid it now (follow suit...) */
    RULES_BADARG,      /* malformed for this game: extra cards, a capture that is not legal, an ambiguous capture */
    RULES_ALREADY,     /* this seat has already made this move (a second PASS) */
};

/* What one applied move caused, in the order the engine announces it
 * (PROTOCOL §4, §12). Everything here is public unless said otherwise. */
struct rules_outcome {
    /* scopa: the table cards the move captured (TAKE), and whether it
     * emptied the table (SWEEP). */
    unsigned n_taken;
    card_t taken[RULES_MAX_MOVE];
    bool is_sweep;

    /* A trick was completed. */
    bool trick_done;
    unsigned trick_winner;  /* seat */
    unsigned trick_points;

    /* briscola: cards drawn after the trick, in draw order (private). */
    unsigned n_draws;
    struct {
        unsigned seat;
        card_t card;
    } draws[RULES_MAX_SEATS];

    /* scopa: every hand was empty and each seat took new cards from the
     * deck: the engine sends each player its new HAND (rules->hand). */
    bool is_refill;

    /* hearts: this was the last pass of the hand: every seat received
     * its cards (rules->received); the engine sends RECEIVED and HAND to
     * each player, then the first TURN. */
    bool is_pass_done;

    /* The hand is over. leftover: scopa's cards left on the table, taken
     * by leftover_seat (TAKE, no SWEEP); n_leftover = 0 when none or
     * when nobody captured. */
    bool is_hand_over;
    unsigned leftover_seat;
    unsigned n_leftover;
    card_t leftover[RULES_MAX_TABLE];

    /* The match is over (implies is_hand_over): no further deal. */
    bool is_over;
};

/* A match's result. side: a team (is_teams) or a seat; DRAW: nobody. */
#define RULES_DRAW (-1)

struct rules {
    const char *name;
    unsigned seat_counts[RULES_MAX_SEATS]; /* ascending, 0-terminated */
    size_t state_size;
    unsigned deck_size; /* 40 (A-7, J Q K) or 52: the canonical deck of §13 */

    /* What this game's public view has, so the engine knows which events
     * and snapshot lines to send without knowing the game. */
    bool is_teams;      /* sides are teams (seat % 2) ; false: every seat for itself */
    bool is_multi_hand; /* hand after hand: DEAL, SCORE; END points are totals */
    bool has_trump;     /* TRUMP after the deal, in snapshots */
    bool has_table;     /* TABLE after DEAL, in snapshots */

    /* A fresh match for n_seats (one of seat_counts), before hand 1. */
    void (*init)(void *state, unsigned n_seats);
    /* Deals hand `hand` (1, 2, ...) from a shuffled deck of deck_size
     * cards, dealt from index 0 on (§12, §13). Called for hand 1 after
     * init, and for each next hand after an outcome with is_hand_over
     * and not is_over. */
    void (*deal)(void *state, unsigned hand, const card_t *deck);

    /* Seats that must move now, as a bit mask (bit i = seat i), and the
     * kind of move they owe. One bit while playing; several while
     * passing (a seat that has passed drops out of the mask). 0 once
     * the match is over. */
    unsigned (*to_move)(const void *state, enum rules_move_kind *kind);

    /* Is mv legal for seat now? May complete the move in place (scopa:
     * a PLAY naming no capture when there is exactly one gets it filled
     * in), so the engine echoes and journals the completed move. On
     * RULES_BADARG it may write a short reason into why (NUL-terminated,
     * why_cap bytes, may be NULL): scopa lists the captures to choose. */
    enum rules_verdict (*check)(const void *state, unsigned seat,
                                struct rules_move *mv, char *why,
                                size_t why_cap);
    /* Applies a move check() accepted. */
    void (*apply)(void *state, unsigned seat, const struct rules_move *mv,
                  struct rules_outcome *out);
    /* Every legal move of seat now, up to cap, in a fixed order; returns
     * how many there are (for bots and tests). While passing, the moves
     * are not enumerated (returns 0): use auto_move. */
    unsigned (*legal_moves)(const void *state, unsigned seat,
                            struct rules_move *out, unsigned cap);
    /* The move the server makes for a seat whose clock ran out (§9, §12). */
    void (*auto_move)(const void *state, unsigned seat,
                      struct rules_move *out);

    /* Views. Public: trump, table, trick, totals, hand_no, has_passed.
     * Private to one seat: hand, received. */
    unsigned (*hand)(const void *state, unsigned seat, card_t *out);
    card_t (*trump)(const void *state);              /* CARD_NONE if none */
    unsigned (*table)(const void *state, card_t *out); /* scopa's face-up cards */
    /* The trick in progress, in play order; returns its size. */
    unsigned (*trick)(const void *state, unsigned *seats, card_t *cards);
    unsigned (*hand_no)(const void *state);          /* from 1 */
    /* Passing (hearts): has seat chosen its cards this hand? The cards
     * it received once every seat has passed (3), else 0. The pass
     * direction of the current hand: "left", "right", "across" or NULL. */
    bool (*has_passed)(const void *state, unsigned seat);
    unsigned (*received)(const void *state, unsigned seat, card_t *out);
    const char *(*pass_dir)(const void *state);

    /* Scores. totals: the match totals of the hands completed, per seat
     * (a team's total for each of its seats): the SCORE line, and
     * multi-hand games' END points. end_points: END's points per seat
     * (briscola: card points taken; others: totals). */
    void (*totals)(const void *state, unsigned *per_seat);
    void (*end_points)(const void *state, unsigned *per_seat);
    /* The side a seat plays for: its team, or the seat itself. */
    unsigned (*side_of)(const void *state, unsigned seat);
    /* Once over: the winning side, or RULES_DRAW. */
    int (*result)(const void *state);
    /* The result when seat forfeits now (its side loses; hearts: the
     * lowest total among the others, or RULES_DRAW). */
    int (*forfeit_result)(const void *state, unsigned seat);
};

/* The registry: every game, NULL-terminated. */
extern const struct rules *const rules_registry[];

/* Looks a game up by its exact name; NULL if unknown. */
const struct rules *rules_find(const char *name, size_t len);

/* True if n is one of the game's seat counts. */
bool rules_has_seats(const struct rules *r, unsigned n);

/* The canonical deck of §13: suits c d h s, within each the game's ranks
 * in the order A 2 3 4 5 6 7 [8 9 T] J Q K. n is 40 or 52. */
void rules_canonical_deck(unsigned n, card_t *out);

#endif
