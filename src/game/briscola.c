/*
 * briscola: see briscola.h.
 *
 * Deal: seats get deck[0..3), deck[3..6), ... in seat order; the next
 * card is the face-up trump and goes to the bottom of the pile, so it is
 * the last card drawn. Seat 0 leads the first trick; the winner of a
 * trick draws first and leads the next.
 */
#include "game/briscola.h"

#include <string.h>

static const unsigned briscola_ranks[10] = {
    RANK_A, RANK_2, RANK_3, RANK_4, RANK_5, RANK_6, RANK_7,
    RANK_J, RANK_Q, RANK_K,
};

unsigned briscola_card_points(card_t c)
{
    switch (card_rank(c)) {
    case RANK_A: return 11;
    case RANK_3: return 10;
    case RANK_K: return 4;
    case RANK_Q: return 3;
    case RANK_J: return 2;
    default: return 0;
    }
}

unsigned briscola_strength(card_t c)
{
    switch (card_rank(c)) {
    case RANK_A: return 10;
    case RANK_3: return 9;
    case RANK_K: return 8;
    case RANK_Q: return 7;
    case RANK_J: return 6;
    case RANK_7: return 5;
    case RANK_6: return 4;
    case RANK_5: return 3;
    case RANK_4: return 2;
    default: return 1; /* RANK_2 */
    }
}

unsigned briscola_trick_winner(const card_t *cards, unsigned n,
                               unsigned trump_suit)
{
    unsigned best = 0;

    for (unsigned i = 1; i < n; i++) {
        unsigned s = card_suit(cards[i]), bs = card_suit(cards[best]);
        if (s == bs) {
            if (briscola_strength(cards[i]) > briscola_strength(cards[best]))
                best = i;
        } else if (s == trump_suit) {
            best = i; /* the first trump over a non-trump best */
        }
        /* otherwise an off-suit discard: never wins */
    }
    return best;
}

void briscola_deal_from(struct briscola *b, unsigned n_seats,
                        const card_t deck[BRISCOLA_DECK])
{
    unsigned k = 0;

    memset(b, 0, sizeof *b);
    b->n_seats = n_seats;
    for (unsigned s = 0; s < n_seats; s++) {
        for (unsigned i = 0; i < 3; i++)
            b->hand[s][i] = deck[k++];
        b->hand_len[s] = 3;
    }
    b->trump_card = deck[k++];
    for (unsigned i = k; i < BRISCOLA_DECK; i++)
        b->pile[b->pile_len++] = deck[i];
    b->pile[b->pile_len++] = b->trump_card;
    b->turn = 0;
}

static void deal(void *state, unsigned n_seats, card_uniform_fn uniform,
                 void *rng_ctx)
{
    card_t deck[BRISCOLA_DECK];
    unsigned n = 0;

    for (unsigned s = 0; s < CARD_N_SUITS; s++)
        for (unsigned r = 0; r < 10; r++)
            deck[n++] = card_make(briscola_ranks[r], s);
    card_shuffle(deck, BRISCOLA_DECK, uniform, rng_ctx);
    briscola_deal_from(state, n_seats, deck);
}

static unsigned to_play(const void *state)
{
    return ((const struct briscola *)state)->turn;
}

static unsigned hand(const void *state, unsigned seat, card_t *out)
{
    const struct briscola *b = state;
    memcpy(out, b->hand[seat], b->hand_len[seat]);
    return b->hand_len[seat];
}

static card_t trump(const void *state)
{
    return ((const struct briscola *)state)->trump_card;
}

static unsigned trick(const void *state, unsigned *seats, card_t *cards)
{
    const struct briscola *b = state;
    for (unsigned i = 0; i < b->n_trick; i++) {
        seats[i] = b->trick_seat[i];
        cards[i] = b->trick_card[i];
    }
    return b->n_trick;
}

static int hand_index(const struct briscola *b, unsigned seat, card_t c)
{
    for (unsigned i = 0; i < b->hand_len[seat]; i++)
        if (b->hand[seat][i] == c)
            return (int)i;
    return -1;
}

static bool is_legal(const void *state, unsigned seat, card_t c)
{
    const struct briscola *b = state;
    /* No duty to follow suit: any card in hand, on one's turn. */
    return seat == b->turn && b->n_played < BRISCOLA_DECK &&
           hand_index(b, seat, c) >= 0;
}

static card_t auto_card(const void *state, unsigned seat)
{
    const struct briscola *b = state;
    card_t best = CARD_NONE;

    /* Fewest points; then lowest strength (a 2 before a 4); then the
     * first suit of c d h s (docs/PROTOCOL.md, §9 "Auto-play"). */
    for (unsigned i = 0; i < b->hand_len[seat]; i++) {
        card_t c = b->hand[seat][i];
        if (best == CARD_NONE)
            best = c;
        else if (briscola_card_points(c) != briscola_card_points(best)) {
            if (briscola_card_points(c) < briscola_card_points(best))
                best = c;
        } else if (briscola_strength(c) != briscola_strength(best)) {
            if (briscola_strength(c) < briscola_strength(best))
                best = c;
        } else if (card_suit(c) < card_suit(best)) {
            best = c;
        }
    }
    return best;
}

static void play(void *state, unsigned seat, card_t c,
                 struct rules_outcome *out)
{
    struct briscola *b = state;
    int idx = hand_index(b, seat, c);

    memset(out, 0, sizeof *out);
    if (idx < 0 || seat != b->turn)
        return; /* the engine checks is_legal first; stay safe anyway */
    memmove(&b->hand[seat][idx], &b->hand[seat][idx + 1],
            b->hand_len[seat] - (unsigned)idx - 1);
    b->hand_len[seat]--;
    b->trick_seat[b->n_trick] = seat;
    b->trick_card[b->n_trick] = c;
    b->n_trick++;
    b->n_played++;
    if (b->n_trick < b->n_seats) {
        b->turn = (seat + 1) % b->n_seats;
        return;
    }

    unsigned w = briscola_trick_winner(b->trick_card, b->n_trick,
                                       card_suit(b->trump_card));
    unsigned winner = b->trick_seat[w], pts = 0;
    for (unsigned i = 0; i < b->n_trick; i++)
        pts += briscola_card_points(b->trick_card[i]);
    b->points[winner] += pts;
    b->n_trick = 0;
    out->trick_done = true;
    out->trick_winner = winner;
    out->trick_points = pts;
    /* Winner first, then the others in seat order, while the pile lasts;
     * the pile always holds a multiple of n_seats cards. */
    if (b->pile_pos < b->pile_len) {
        for (unsigned k = 0; k < b->n_seats; k++) {
            unsigned s = (winner + k) % b->n_seats;
            card_t d = b->pile[b->pile_pos++];
            b->hand[s][b->hand_len[s]++] = d;
            out->draws[out->n_draws].seat = s;
            out->draws[out->n_draws].card = d;
            out->n_draws++;
        }
    }
    b->turn = winner;
    out->is_over = b->n_played == BRISCOLA_DECK;
}

static void points(const void *state, unsigned *per_seat)
{
    const struct briscola *b = state;
    for (unsigned s = 0; s < b->n_seats; s++)
        per_seat[s] = b->points[s];
}

static unsigned team_of(const void *state, unsigned seat)
{
    (void)state;
    return seat % 2; /* 2 seats: 0 | 1; 4 seats: 0+2 | 1+3 */
}

static enum rules_result result(const void *state)
{
    const struct briscola *b = state;
    unsigned team[2] = {0, 0};

    for (unsigned s = 0; s < b->n_seats; s++)
        team[s % 2] += b->points[s];
    if (team[0] > 60)
        return RESULT_TEAM0;
    if (team[1] > 60)
        return RESULT_TEAM1;
    return RESULT_DRAW;
}

const struct rules briscola_rules = {
    .name = "briscola",
    .seat_counts = {2, 4, 0, 0},
    .state_size = sizeof(struct briscola),
    .deal = deal,
    .to_play = to_play,
    .hand = hand,
    .trump = trump,
    .trick = trick,
    .is_legal = is_legal,
    .auto_card = auto_card,
    .play = play,
    .points = points,
    .team_of = team_of,
    .result = result,
};
