/*
 * card: card codes, decks and the shuffle (PROTOCOL §7).
 *
 * A card is a small integer: suit * 13 + rank, with ranks in the order
 * "A23456789TJQK" and suits "cdhs". Text codes are rank then suit ("As",
 * "Qh") and case-sensitive. Randomness comes in as a function, so a deck
 * is reproducible from a seed in tests and unpredictable in the server.
 */
#ifndef TAVOLO_GAME_CARD_H
#define TAVOLO_GAME_CARD_H

#include <stddef.h>
#include <stdint.h>

typedef uint8_t card_t;

#define CARD_NONE 0xFF
#define CARD_N_RANKS 13
#define CARD_N_SUITS 4

enum card_rank {
    RANK_A = 0, RANK_2, RANK_3, RANK_4, RANK_5, RANK_6, RANK_7,
    RANK_8, RANK_9, RANK_T, RANK_J, RANK_Q, RANK_K,
};

enum card_suit { SUIT_C = 0, SUIT_D, SUIT_H, SUIT_S };

/* Returns a uniformly distributed integer in [0, upper), upper > 0. */
typedef uint32_t (*card_uniform_fn)(void *ctx, uint32_t upper);

static inline card_t card_make(unsigned rank, unsigned suit)
{
    return (card_t)(suit * CARD_N_RANKS + rank);
}
static inline unsigned card_rank(card_t c) { return c % CARD_N_RANKS; }
static inline unsigned card_suit(card_t c) { return c / CARD_N_RANKS; }

/* Parses a 2-character code; returns the card or CARD_NONE. */
card_t card_parse(const char *s, size_t len);

/* Writes the 2-character code and a NUL. */
void card_format(card_t c, char out[3]);

/* Unbiased Fisher-Yates shuffle of cards[0..n) drawing from uniform. */
void card_shuffle(card_t *cards, size_t n, card_uniform_fn uniform, void *ctx);

#endif
