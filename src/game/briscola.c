/*
 * briscola: see briscola.h.
 *
 * Deal (PROTOCOL §13): seats get deck[0..3), deck[3..6), ... in seat
 * order; the next card is the face-up trump and goes to the bottom of the
 * pile, so it is the last card drawn; draws take the rest in order. Seat 0
 * leads the first trick; the winner of a trick draws first and leads the
 * next. One hand; no passing, no table, no duty to follow suit.
 */
#include "game/briscola.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

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
    b->is_dealt = true;
}

static void init(void *state, unsigned n_seats)
{
    struct briscola *b = state;

    memset(b, 0, sizeof *b);
    b->n_seats = n_seats;
}

static void deal(void *state, unsigned hand_no, const card_t *deck)
{
    struct briscola *b = state;

    (void)hand_no; /* one hand only */
    briscola_deal_from(b, b->n_seats, deck);
}

static bool is_over(const struct briscola *b)
{
    return b->is_dealt && b->n_played == BRISCOLA_DECK;
}

static unsigned to_move(const void *state, enum rules_move_kind *kind)
{
    const struct briscola *b = state;

    if (kind != NULL)
        *kind = MOVE_PLAY;
    return b->is_dealt && !is_over(b) ? 1u << b->turn : 0;
}

static unsigned hand(const void *state, unsigned seat, card_t *out)
{
    const struct briscola *b = state;
    memcpy(out, b->hand[seat], b->hand_len[seat]);
    return b->hand_len[seat];
}

static card_t trump(const void *state)
{
    const struct briscola *b = state;
    return b->is_dealt ? b->trump_card : CARD_NONE;
}

static unsigned table(const void *state, card_t *out)
{
    (void)state;
    (void)out;
    return 0;
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

static unsigned hand_no(const void *state)
{
    (void)state;
    return 1;
}

static bool has_passed(const void *state, unsigned seat)
{
    (void)state;
    (void)seat;
    return false;
}

static unsigned received(const void *state, unsigned seat, card_t *out)
{
    (void)state;
    (void)seat;
    (void)out;
    return 0;
}

static const char *pass_dir(const void *state)
{
    (void)state;
    return NULL;
}

static int hand_index(const struct briscola *b, unsigned seat, card_t c)
{
    for (unsigned i = 0; i < b->hand_len[seat]; i++)
        if (b->hand[seat][i] == c)
            return (int)i;
    return -1;
}

/* Malformed first (one card, a PLAY), then the turn, then the hand
 * (docs/PROTOCOL.md §10, "Check order"). No duty to follow suit: any
 * card in hand is legal on one's turn. */
static enum rules_verdict check(const void *state, unsigned seat,
                                struct rules_move *mv, char *why,
                                size_t why_cap)
{
    const struct briscola *b = state;

    if (mv->kind == MOVE_PLAY && mv->n != 1) {
        if (why != NULL && why_cap > 0)
            snprintf(why, why_cap, "briscola: play exactly one card");
        return RULES_BADARG;
    }
    if (mv->kind != MOVE_PLAY || seat >= b->n_seats ||
        !(to_move(b, NULL) & (1u << seat)))
        return RULES_NOTYOURTURN;
    if (hand_index(b, seat, mv->cards[0]) < 0)
        return RULES_NOTINHAND;
    return RULES_OK;
}

static void apply(void *state, unsigned seat, const struct rules_move *mv,
                  struct rules_outcome *out)
{
    struct briscola *b = state;
    card_t c = mv->cards[0];
    int idx = hand_index(b, seat, c);

    memset(out, 0, sizeof *out);
    assert(idx >= 0 && seat == b->turn && mv->kind == MOVE_PLAY);
    if (idx < 0 || seat != b->turn)
        return; /* the engine checks first; stay safe anyway */
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
    out->is_over = is_over(b);
    out->is_hand_over = out->is_over;
}

static unsigned legal_moves(const void *state, unsigned seat,
                            struct rules_move *out, unsigned cap)
{
    const struct briscola *b = state;

    if (!(to_move(b, NULL) & (1u << seat)))
        return 0;
    for (unsigned i = 0; i < b->hand_len[seat] && i < cap; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].kind = MOVE_PLAY;
        out[i].n = 1;
        out[i].cards[0] = b->hand[seat][i];
    }
    return b->hand_len[seat];
}

static void auto_move(const void *state, unsigned seat,
                      struct rules_move *out)
{
    const struct briscola *b = state;
    card_t best = CARD_NONE;

    /* Fewest points; then lowest strength (a 2 before a 4); then the
     * first suit of c d h s (PROTOCOL §9, "Auto-play"). */
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
    memset(out, 0, sizeof *out);
    out->kind = MOVE_PLAY;
    out->n = 1;
    out->cards[0] = best;
}

/* Card points taken, per seat: END's points (PROTOCOL §4). */
static void end_points(const void *state, unsigned *per_seat)
{
    const struct briscola *b = state;
    for (unsigned s = 0; s < b->n_seats; s++)
        per_seat[s] = b->points[s];
}

/* One hand: the totals are the team's card points, for each of its seats. */
static void totals(const void *state, unsigned *per_seat)
{
    const struct briscola *b = state;
    unsigned team[2] = {0, 0};

    for (unsigned s = 0; s < b->n_seats; s++)
        team[s % 2] += b->points[s];
    for (unsigned s = 0; s < b->n_seats; s++)
        per_seat[s] = team[s % 2];
}

static unsigned side_of(const void *state, unsigned seat)
{
    (void)state;
    return seat % 2; /* 2 seats: 0 | 1; 4 seats: 0+2 | 1+3 */
}

static int result(const void *state)
{
    unsigned t[RULES_MAX_SEATS];

    totals(state, t);
    if (t[0] > 60)
        return 0;
    if (t[1] > 60)
        return 1;
    return RULES_DRAW;
}

static int forfeit_result(const void *state, unsigned seat)
{
    return side_of(state, seat) == 0 ? 1 : 0; /* whatever the points (§9) */
}

const struct rules briscola_rules = {
    .name = "briscola",
    .seat_counts = {2, 4, 0, 0},
    .state_size = sizeof(struct briscola),
    .deck_size = BRISCOLA_DECK,
    .is_teams = true,
    .is_multi_hand = false,
    .has_trump = true,
    .has_table = false,
    .init = init,
    .deal = deal,
    .to_move = to_move,
    .check = check,
    .apply = apply,
    .legal_moves = legal_moves,
    .auto_move = auto_move,
    .hand = hand,
    .trump = trump,
    .table = table,
    .trick = trick,
    .hand_no = hand_no,
    .has_passed = has_passed,
    .received = received,
    .pass_dir = pass_dir,
    .totals = totals,
    .end_points = end_points,
    .side_of = side_of,
    .result = result,
    .forfeit_result = forfeit_result,
};
