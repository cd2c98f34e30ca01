/*
 * hearts: the rules of hearts for 4 players, each for itself (PROTOCOL
 * §12), exposed through hearts_rules (rules.h, version 2).
 *
 * A hand is a set of at most 52 cards, so every set of cards in the state
 * (a seat's hand, the cards it took, the cards it passed or received) is
 * a 64-bit mask with bit c set for card c. Membership is one AND, and a
 * set's cards come out in a fixed order by walking the bits. Ranks run
 * 2 3 4 5 6 7 8 9 T J Q K A, ace high (hearts_strength).
 *
 * The state is fixed-size and has no padding the code does not zero:
 * init clears all of it, so two states that went through the same decks
 * and moves compare equal byte for byte. Nothing here allocates, reads a
 * clock or draws a random number. The pieces below are public so that
 * unit tests can check them one by one and build positions directly.
 */
#ifndef TAVOLO_GAME_HEARTS_H
#define TAVOLO_GAME_HEARTS_H

#include <stdbool.h>
#include <stdint.h>

#include "game/rules.h"

#define HEARTS_SEATS 4
#define HEARTS_DECK 52
#define HEARTS_HAND 13
#define HEARTS_TARGET 100 /* the match ends after a hand reaching this */
#define HEARTS_MOON 26    /* every point of a hand */

enum hearts_phase {
    HEARTS_IDLE = 0, /* before the first deal, or between two hands */
    HEARTS_PASSING,  /* every seat owes a PASS */
    HEARTS_PLAYING,  /* one seat owes a PLAY */
    HEARTS_OVER,     /* the match is over */
};

/* Card masks are uint64_t with bit c for card c (c < 52). */
struct hearts {
    uint64_t hand[HEARTS_SEATS];     /* cards held */
    uint64_t taken[HEARTS_SEATS];    /* cards won in tricks, this hand */
    uint64_t passing[HEARTS_SEATS];  /* the 3 cards a seat chose to pass */
    uint64_t received[HEARTS_SEATS]; /* its 3 new cards, once all passed */
    uint16_t totals[HEARTS_SEATS];   /* match totals of completed hands */
    uint16_t points[HEARTS_SEATS];   /* points taken this hand, as in TRICK */
    uint32_t hand_no;                /* from 1; 0 before the first deal */
    uint8_t phase;                   /* enum hearts_phase */
    uint8_t turn;                    /* the seat to play (PLAYING) */
    uint8_t n_trick;                 /* cards in the trick in progress */
    uint8_t n_tricks;                /* tricks completed this hand */
    uint8_t trick_seat[HEARTS_SEATS];
    uint8_t trick_card[HEARTS_SEATS];
    uint8_t passed;    /* bit i: seat i has passed this hand */
    uint8_t is_broken; /* a heart has been played this hand */
    uint8_t spare[6];  /* explicit padding, always zero */
};

extern const struct rules hearts_rules;

/* Strength within a suit: 0 for a 2 up to 12 for an ace. */
static inline unsigned hearts_strength(card_t c)
{
    return (card_rank(c) + CARD_N_RANKS - 1) % CARD_N_RANKS;
}

/* Points of one card: a heart 1, the queen of spades 13, else 0. */
unsigned hearts_card_points(card_t c);

/* Index (into cards[0..n), n >= 1, cards[0] led) of the card that wins:
 * the strongest card of the suit led. */
unsigned hearts_trick_winner(const card_t *cards, unsigned n);

/* The seat offset of hand `hand`'s pass (hand from 1): 1 to the left
 * (seat i to i+1), 3 to the right (i-1), 2 across (i+2), 0 no pass. */
unsigned hearts_pass_offset(unsigned hand);

/* A hand's score from the points each seat took in it (summing to 26):
 * the points themselves, or, when one seat took all 26 (shooting the
 * moon), 0 for it and 26 for every other seat. */
void hearts_hand_score(const unsigned taken[HEARTS_SEATS],
                       unsigned score[HEARTS_SEATS]);

/* The lowest of totals[0..n) skipping seat `skip` (HEARTS_SEATS: none):
 * its seat, or RULES_DRAW when another seat has the same total. */
int hearts_lowest(const unsigned totals[HEARTS_SEATS], unsigned skip);

/* The order auto_move discards and passes in, most dangerous first: Qs,
 * As, Ks, then the hearts from A down to 2, then the other cards by
 * strength from A down to 2, clubs before diamonds before spades at the
 * same strength. Returns the card's place, 0 (Qs) to 51. */
unsigned hearts_danger(card_t c);

#endif
