/*
 * bot_scopa: what a bot knows of scopa (bot_game.h).
 *
 * Sampling. Hand h is led by L = (h-1) mod N and dealt in rounds: in
 * round 0 seats L, L+1, ... take three cards each from deck index 0,
 * then four go to the table; in round r >= 1 (a refill) each seat takes
 * three more in the same order. So every deck position belongs to one
 * seat and one round, or to the table, all fixed by the rules. This seat
 * knows its own groups (DEAL, REFILL) and the table (public). A card
 * another seat played in round r (r = the refills seen before the play)
 * lies in that seat's group of round r; the plays are put at random free
 * slots of their group, the unseen cards fill the rest in random order.
 * Any card may be played, and the captures depend only on the public
 * table, so the replay never refuses a sample.
 *
 * Heuristic (normal): every legal move is tried on a copy of the state
 * and scored: a sweep first, then the settebello, coins, sevens and the
 * number of cards taken; laying a card costs what it could be worth; a
 * table left with a sum a single unseen card can sweep costs more.
 */
#include <string.h>

#include "bot/bot_game.h"
#include "game/scopa.h"

#define MAX_MOVES 512

static unsigned group_pos(unsigned ns, unsigned lead, unsigned seat,
                          unsigned round)
{
    unsigned i = (seat + ns - lead) % ns;
    return round == 0 ? 3 * i : 3 * ns + 4 + (round - 1) * 3 * ns + 3 * i;
}

static bool sample(const struct bot_view *v, const struct bot_event *ev,
                   unsigned n, struct bot_rng *g, card_t *deck,
                   struct rules_move pass[RULES_MAX_SEATS])
{
    unsigned ns = v->n_seats, me = v->seat;
    unsigned lead = (ev[0].hand - 1u) % ns, round = 0;
    uint64_t used = 0;
    (void)pass;

    memset(deck, CARD_NONE, SCOPA_DECK);
    for (unsigned i = 0; i < ev[0].n_cards; i++)
        deck[group_pos(ns, lead, me, 0) + i] = ev[0].cards[i];
    for (unsigned i = 0; i < ev[0].n_table; i++)
        deck[3 * ns + i] = ev[0].table[i];
    for (unsigned i = 0; i < SCOPA_DECK; i++)
        if (deck[i] != CARD_NONE)
            used |= bot_bit(deck[i]);
    for (unsigned i = 1; i < n; i++) {
        const struct bot_event *e = &ev[i];
        if (e->kind == BOT_EV_REFILL) {
            round++;
            unsigned p = group_pos(ns, lead, me, round);
            if (p + 3 > SCOPA_DECK)
                return false;
            for (unsigned k = 0; k < e->n_cards; k++) {
                if (used & bot_bit(e->cards[k]))
                    return false;
                deck[p + k] = e->cards[k];
                used |= bot_bit(e->cards[k]);
            }
            continue;
        }
        if (e->kind != BOT_EV_MOVE || e->seat == me)
            continue;
        card_t c = e->mv.cards[0];
        if (used & bot_bit(c))
            return false;
        unsigned p = group_pos(ns, lead, e->seat, round), free_k[3], nf = 0;
        if (p + 3 > SCOPA_DECK)
            return false;
        for (unsigned k = 0; k < 3; k++)
            if (deck[p + k] == CARD_NONE)
                free_k[nf++] = k;
        if (nf == 0)
            return false;
        deck[p + free_k[bot_rng_below(g, nf)]] = c;
        used |= bot_bit(c);
    }
    card_t all[RULES_MAX_DECK], rest[SCOPA_DECK];
    unsigned nr = 0;
    rules_canonical_deck(SCOPA_DECK, all);
    for (unsigned i = 0; i < SCOPA_DECK; i++)
        if (!(used & bot_bit(all[i])))
            rest[nr++] = all[i];
    bot_shuffle(rest, nr, g);
    for (unsigned p = 0, k = 0; p < SCOPA_DECK; p++)
        if (deck[p] == CARD_NONE) {
            if (k >= nr)
                return false;
            deck[p] = rest[k++];
        }
    return true;
}

/* Cards seen in the current hand: this seat's, the table as dealt, and
 * every card played. */
static uint64_t seen_in_hand(const struct bot_view *v)
{
    uint64_t seen = 0;
    for (unsigned i = bot_view_hand_start(v); i < v->n_events; i++) {
        const struct bot_event *e = &v->events[i];
        for (unsigned k = 0; k < e->n_cards; k++)
            seen |= bot_bit(e->cards[k]);
        for (unsigned k = 0; k < e->n_table && e->kind == BOT_EV_DEAL; k++)
            seen |= bot_bit(e->table[k]);
        if (e->kind == BOT_EV_MOVE)
            seen |= bot_bit(e->mv.cards[0]);
    }
    return seen;
}

static int card_worth(card_t c)
{
    int w = 3; /* one more card */
    if (card_suit(c) == SUIT_D)
        w += 4;
    if (card_rank(c) == RANK_7)
        w += card_suit(c) == SUIT_D ? 40 : 6;
    else if (card_rank(c) == RANK_6)
        w += 3;
    else if (card_rank(c) == RANK_A)
        w += 2;
    return w;
}

static int score_move(const struct bot_view *v, const void *state,
                      const struct rules_move *mv, uint64_t seen, void *tmp)
{
    const struct rules *r = v->rules;
    struct rules_outcome out;
    int s = 0;

    memcpy(tmp, state, r->state_size);
    r->apply(tmp, v->seat, mv, &out);
    if (mv->n > 1) {
        s += 10;
        for (unsigned i = 0; i < mv->n; i++)
            s += card_worth(mv->cards[i]);
        if (out.is_sweep)
            s += 100;
    } else {
        s -= card_worth(mv->cards[0]);
    }
    if (out.is_hand_over)
        return s;
    /* The next seat (an opponent) sweeps a table adding up to 10 or less
     * with one card of that value, if one is still unseen. */
    card_t table[RULES_MAX_TABLE];
    unsigned nt = r->table(tmp, table), sum = 0;
    for (unsigned i = 0; i < nt; i++)
        sum += scopa_value(table[i]);
    if (nt > 0 && sum <= 10) {
        unsigned unseen = 0;
        for (unsigned suit = 0; suit < 4; suit++)
            for (unsigned rank = 0; rank < CARD_N_RANKS; rank++) {
                card_t c = card_make(rank, suit);
                if (scopa_value(c) == sum && !(seen & bot_bit(c)))
                    unseen++;
            }
        s -= unseen > 0 ? 60 : 5;
    }
    return s;
}

static void heuristic(const struct bot_view *v, const void *state,
                      enum rules_move_kind kind, struct bot_rng *g,
                      struct rules_move *out)
{
    static __thread struct rules_move moves[MAX_MOVES];
    struct scopa tmp;
    uint64_t seen = seen_in_hand(v);
    unsigned n = v->rules->legal_moves(state, v->seat, moves, MAX_MOVES);
    (void)kind;

    if (n > MAX_MOVES)
        n = MAX_MOVES;
    int best = 0, best_s = 0;
    unsigned n_best = 0;
    for (unsigned i = 0; i < n; i++) {
        int s = score_move(v, state, &moves[i], seen, &tmp);
        /* Ties broken uniformly (reservoir of one). */
        if (n_best == 0 || s > best_s) {
            best = (int)i;
            best_s = s;
            n_best = 1;
        } else if (s == best_s && bot_rng_below(g, ++n_best) == 0) {
            best = (int)i;
        }
    }
    *out = moves[best];
}

/* Hard's playout policy: greedy and cheap (no copy of the state): the
 * capture worth most, a sweep above all; else lay the card worth least. */
static void playout(const struct rules *r, const void *state, unsigned seat,
                    unsigned n_seats, struct bot_rng *g, struct rules_move *out)
{
    static __thread struct rules_move moves[MAX_MOVES];
    card_t table[RULES_MAX_TABLE];
    unsigned nt = r->table(state, table);
    unsigned n = r->legal_moves(state, seat, moves, MAX_MOVES);
    int best = 0, best_s = 0;
    unsigned n_best = 0;
    (void)n_seats;

    if (n > MAX_MOVES)
        n = MAX_MOVES;
    for (unsigned i = 0; i < n; i++) {
        const struct rules_move *mv = &moves[i];
        int s = 0;
        if (mv->n > 1) {
            s = 10 + (mv->n - 1u == nt ? 100 : 0);
            for (unsigned k = 0; k < mv->n; k++)
                s += card_worth(mv->cards[k]);
        } else {
            s = -card_worth(mv->cards[0]);
        }
        if (n_best == 0 || s > best_s) {
            best = (int)i;
            best_s = s;
            n_best = 1;
        } else if (s == best_s && bot_rng_below(g, ++n_best) == 0) {
            best = (int)i;
        }
    }
    *out = moves[best];
}

/* 0.5 plus the hand's point margin, 6 points a half (clamped). */
static void reward(const struct rules *r, unsigned n_seats, const void *before,
                   const void *after, double *per_seat)
{
    unsigned t0[RULES_MAX_SEATS], t1[RULES_MAX_SEATS];
    int side[2] = {0, 0};

    r->totals(before, t0);
    r->totals(after, t1);
    for (unsigned s = 0; s < n_seats; s++)
        side[r->side_of(after, s)] = (int)t1[s] - (int)t0[s];
    for (unsigned s = 0; s < n_seats; s++) {
        unsigned me = r->side_of(after, s);
        double x = 0.5 + (side[me] - side[1 - me]) / 12.0;
        per_seat[s] = x < 0 ? 0 : x > 1 ? 1 : x;
    }
}

const struct bot_game bot_scopa = {
    .name = "scopa",
    .sample = sample,
    .heuristic = heuristic,
    .playout = playout,
    .reward = reward,
};
