/*
 * scopa: the rules of scopa for 2 and 4 players (PROTOCOL §12), exposed
 * through scopa_rules (rules.h, version 2). The pieces below are public
 * so that unit tests can check them one by one.
 *
 * A match is hand after hand until a side has 11 or more and more than
 * the other. All state lives in struct scopa, a fixed-size value with no
 * pointers and no padding, so two matches fed the same decks and moves
 * are byte-identical (memcmp), and the engine may copy or journal it.
 *
 * Moves: MOVE_PLAY with cards[0] the card played and cards[1..n) the
 * table cards it captures. check() normalises an accepted move: the
 * captured cards are rewritten in the order they lie on the table (the
 * order of the TABLE line), and a bare `PLAY <card>` with exactly one
 * capture gets that capture filled in. docs/rules/scopa.md has the rules
 * as implemented and the server's choices.
 */
#ifndef TAVOLO_GAME_SCOPA_H
#define TAVOLO_GAME_SCOPA_H

#include <stdbool.h>
#include <stdint.h>

#include "game/rules.h"

#define SCOPA_DECK 40
#define SCOPA_HAND 3     /* cards a seat takes at a time */
#define SCOPA_TARGET 11  /* points that can end the match */
#define SCOPA_WHY_MAX 200 /* bytes check() writes into why, NUL included */

/* One side's take in the hand in progress (a team, or a seat with 2
 * players): the cards it captured, in capture order, and its sweeps. */
struct scopa_side {
    uint8_t n_pile;
    uint8_t n_sweeps;
    card_t pile[SCOPA_DECK];
};

/* Fields are ordered widest first and the size is checked in scopa.c,
 * so the struct has no padding bytes. Array slots past their count are
 * stale but deterministic. */
struct scopa {
    uint16_t hand_no;          /* from 1; 0 before the first deal */
    uint16_t total[2];         /* match totals per side, hands completed */
    uint8_t n_seats;           /* 2 or 4 */
    uint8_t lead;              /* seat that leads this hand: (hand_no-1) % N */
    uint8_t turn;              /* seat to play */
    bool is_hand_over;         /* waiting for the next deal (or over) */
    bool is_over;              /* the match is over */
    bool has_capturer;         /* somebody captured in this hand */
    uint8_t last_capturer;     /* seat; valid if has_capturer */
    uint8_t deck_pos;          /* next card of deck to take */
    uint8_t n_table;
    uint8_t n_discarded;       /* cards left at a hand's end with no capturer */
    uint8_t hand_len[RULES_MAX_SEATS];
    card_t hand[RULES_MAX_SEATS][SCOPA_HAND];
    card_t deck[SCOPA_DECK];   /* this hand's deck, as dealt */
    card_t table[SCOPA_DECK];  /* face up, in the order laid */
    struct scopa_side side[2];
};

/* The points of one hand for one side; each is 0 or 1 but sweeps. */
struct scopa_score {
    unsigned cards, coins, settebello, primiera, sweeps;
    unsigned total;
};

extern const struct rules scopa_rules;

/* Capture value: A 1, 2-7 their number, J 8, Q 9, K 10. */
unsigned scopa_value(card_t c);

/* Primiera points of a card: 7 21, 6 18, A 16, 5 15, 4 14, 3 13, 2 12,
 * J/Q/K 10. */
unsigned scopa_primiera_points(card_t c);

/* A pile's primiera: the sum over the four suits of its best card's
 * points; 0 if the pile misses a suit (it cannot take the primiera). */
unsigned scopa_primiera(const card_t *pile, unsigned n);

/* The captures open to `played` on table[0..n_table) (n_table <= 64):
 * each is a bit mask over table indices. If table cards have its rank,
 * one mask per such card, by index; otherwise every set of two or more
 * cards adding up to its value, in lexicographic order of their index
 * lists. Writes up to cap masks; returns how many there are (0: the
 * card is laid on the table). */
unsigned scopa_captures(const card_t *table, unsigned n_table, card_t played,
                        uint64_t *masks, unsigned cap);

/* The points of a completed hand: most cards, most coins (ties score
 * nothing), the settebello 7d, the primiera (a tie scores nothing; a
 * side missing a suit cannot take it) and one per sweep. */
void scopa_hand_score(const struct scopa_side sides[2],
                      struct scopa_score out[2]);

#endif
