/*
 * card: see card.h.
 */
#include "game/card.h"

static const char ranks[] = "A23456789TJQK";
static const char suits[] = "cdhs";

card_t card_parse(const char *s, size_t len)
{
    int r = -1, u = -1;

    if (len != 2)
        return CARD_NONE;
    for (int i = 0; i < CARD_N_RANKS; i++)
        if (s[0] == ranks[i])
            r = i;
    for (int i = 0; i < CARD_N_SUITS; i++)
        if (s[1] == suits[i])
            u = i;
    if (r < 0 || u < 0)
        return CARD_NONE;
    return card_make((unsigned)r, (unsigned)u);
}

void card_format(card_t c, char out[3])
{
    out[0] = ranks[card_rank(c)];
    out[1] = suits[card_suit(c)];
    out[2] = '\0';
}

void card_shuffle(card_t *cards, size_t n, card_uniform_fn uniform, void *ctx)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = uniform(ctx, (uint32_t)i); /* 0 <= j < i, uniform */
        card_t t = cards[i - 1];
        cards[i - 1] = cards[j];
        cards[j] = t;
    }
}
