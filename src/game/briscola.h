/*
 * briscola: the rules of briscola for 2 and 4 players (PROTOCOL §7),
 * exposed through briscola_rules (rules.h). The pieces below are public
 * so that unit tests can check them one by one.
 */
#ifndef TAVOLO_GAME_BRISCOLA_H
#define TAVOLO_GAME_BRISCOLA_H

#include <stdbool.h>
#include <stdint.h>

#include "game/rules.h"

#define BRISCOLA_DECK 40

struct briscola {
    unsigned n_seats;
    card_t pile[BRISCOLA_DECK]; /* draw pile; the trump card is its last */
    unsigned pile_pos, pile_len;
    card_t trump_card;
    card_t hand[RULES_MAX_SEATS][3];
    unsigned hand_len[RULES_MAX_SEATS];
    unsigned trick_seat[RULES_MAX_SEATS];
    card_t trick_card[RULES_MAX_SEATS];
    unsigned n_trick;
    unsigned turn;
    unsigned points[RULES_MAX_SEATS];
    unsigned n_played;
    bool is_dealt;
};

extern const struct rules briscola_rules;

/* Card points: A 11, 3 10, K 4, Q 3, J 2, else 0. */
unsigned briscola_card_points(card_t c);

/* Trick-taking strength within a suit: A 3 K Q J 7 6 5 4 2, highest first;
 * returns 10 for A down to 1 for 2. */
unsigned briscola_strength(card_t c);

/* Index (into cards) of the winner of a complete trick. */
unsigned briscola_trick_winner(const card_t *cards, unsigned n,
                               unsigned trump_suit);

/* Deals from a given 40-card order (PROTOCOL §13's deal order). */
void briscola_deal_from(struct briscola *b, unsigned n_seats,
                        const card_t deck[BRISCOLA_DECK]);

#endif
