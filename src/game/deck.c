/*
 * deck: the canonical deck of PROTOCOL §13 (declared in rules.h), the
 * order every shuffle starts from. It is part of the verifiable-deal
 * contract, so it is written out here once and never derived from the
 * rank order of card.h, which also holds 8 9 T between 7 and J.
 */
#include "game/rules.h"

#include <assert.h>

void rules_canonical_deck(unsigned n, card_t *out)
{
    static const uint8_t ranks_40[] = {
        RANK_A, RANK_2, RANK_3, RANK_4, RANK_5, RANK_6, RANK_7,
        RANK_J, RANK_Q, RANK_K,
    };
    static const uint8_t ranks_52[] = {
        RANK_A, RANK_2, RANK_3, RANK_4, RANK_5, RANK_6, RANK_7,
        RANK_8, RANK_9, RANK_T, RANK_J, RANK_Q, RANK_K,
    };
    const uint8_t *ranks = n == 40 ? ranks_40 : ranks_52;
    unsigned n_ranks = n / CARD_N_SUITS;

    assert(n == 40 || n == 52);
    /* Suits c d h s, and the game's ranks within each suit. */
    for (unsigned s = 0; s < CARD_N_SUITS; s++)
        for (unsigned r = 0; r < n_ranks; r++)
            *out++ = card_make(ranks[r], s);
}
