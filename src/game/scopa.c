/*
 * scopa: see scopa.h; the rules are PROTOCOL §12, and docs/rules/scopa.md
 * says them as implemented.
 *
 * Deal of hand n: L = (n-1) mod N leads; seats L, L+1, ... take three
 * cards each from deck index 0 on, then four go face up on the table.
 * When every hand is empty and the deck is not, each seat takes three
 * more in the same order (is_refill); play simply goes on in seat order.
 * 40 = 4 + 3N * k for N = 2 (k = 6) and N = 4 (k = 3), so the deck runs
 * out exactly when the hands do.
 *
 * Captures are bit masks over table indices (the table never holds more
 * than 40 cards). A capture is legal when it is exactly one table card of
 * the played card's rank, if there is any; otherwise a set adding up to
 * its value. Values and ranks match one to one in the 40-card deck, so a
 * set adding up to the value has two or more cards.
 *
 * Pure: no allocation, no globals, no I/O; everything is in struct scopa.
 */
#include "game/scopa.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* No padding anywhere: the fields' sizes add up to the struct's. Then a
 * memset in init is enough for two equal histories to compare equal. */
_Static_assert(sizeof(struct scopa_side) == 2 + SCOPA_DECK,
               "struct scopa_side has padding");
_Static_assert(sizeof(struct scopa) ==
                   3 * sizeof(uint16_t) + 7 * sizeof(uint8_t) +
                       3 * sizeof(bool) + RULES_MAX_SEATS +
                       RULES_MAX_SEATS * SCOPA_HAND + 2 * SCOPA_DECK +
                       2 * sizeof(struct scopa_side),
               "struct scopa has padding");

/* ---- Values and scoring ---- */

unsigned scopa_value(card_t c)
{
    /* By rank A..K; 8, 9 and T are not in the 40-card deck. Indexed by
     * the card itself (no division: captures ask this in their loop). */
#define SCOPA_SUIT_VALUES 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 8, 9, 10
    static const uint8_t value[CARD_N_RANKS * CARD_N_SUITS] = {
        SCOPA_SUIT_VALUES, SCOPA_SUIT_VALUES, SCOPA_SUIT_VALUES,
        SCOPA_SUIT_VALUES};
#undef SCOPA_SUIT_VALUES
    return c < CARD_N_RANKS * CARD_N_SUITS ? value[c] : 0;
}

unsigned scopa_primiera_points(card_t c)
{
    switch (card_rank(c)) {
    case RANK_7: return 21;
    case RANK_6: return 18;
    case RANK_A: return 16;
    case RANK_5: return 15;
    case RANK_4: return 14;
    case RANK_3: return 13;
    case RANK_2: return 12;
    default: return 10; /* J, Q, K */
    }
}

unsigned scopa_primiera(const card_t *pile, unsigned n)
{
    unsigned best[CARD_N_SUITS] = {0, 0, 0, 0}, sum = 0;

    for (unsigned i = 0; i < n; i++) {
        unsigned s = card_suit(pile[i]), p = scopa_primiera_points(pile[i]);
        if (p > best[s])
            best[s] = p;
    }
    for (unsigned s = 0; s < CARD_N_SUITS; s++) {
        if (best[s] == 0)
            return 0; /* a side missing a suit cannot take it */
        sum += best[s];
    }
    return sum;
}

static const card_t settebello = (card_t)(SUIT_D * CARD_N_RANKS + RANK_7);

static unsigned count_coins(const card_t *pile, unsigned n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        k += card_suit(pile[i]) == SUIT_D;
    return k;
}

/* 1 to the side with more, none on a tie: out[0], out[1]. */
static void award_most(unsigned a, unsigned b, unsigned *out0, unsigned *out1)
{
    *out0 = a > b;
    *out1 = b > a;
}

void scopa_hand_score(const struct scopa_side sides[2],
                      struct scopa_score out[2])
{
    memset(out, 0, 2 * sizeof out[0]);
    award_most(sides[0].n_pile, sides[1].n_pile, &out[0].cards,
               &out[1].cards);
    award_most(count_coins(sides[0].pile, sides[0].n_pile),
               count_coins(sides[1].pile, sides[1].n_pile), &out[0].coins,
               &out[1].coins);
    award_most(scopa_primiera(sides[0].pile, sides[0].n_pile),
               scopa_primiera(sides[1].pile, sides[1].n_pile),
               &out[0].primiera, &out[1].primiera);
    for (unsigned t = 0; t < 2; t++) {
        for (unsigned i = 0; i < sides[t].n_pile; i++)
            if (sides[t].pile[i] == settebello)
                out[t].settebello = 1;
        out[t].sweeps = sides[t].n_sweeps;
        out[t].total = out[t].cards + out[t].coins + out[t].settebello +
                       out[t].primiera + out[t].sweeps;
    }
}

/* ---- Captures ---- */

/* Called with each capture's mask; returns false to stop the walk. */
typedef bool (*capture_fn)(void *ctx, uint64_t mask);

/* Every set of the cards from `from` on whose values val[] add up to
 * `left`, joined to `mask`, in lexicographic order of index lists.
 * Values are at least 1, so the recursion is at most 10 deep. Returns
 * false if fn stopped the walk. */
static bool walk_sums(const uint8_t *val, unsigned n_table, unsigned from,
                      unsigned left, uint64_t mask, capture_fn fn, void *ctx)
{
    for (unsigned j = from; j < n_table; j++) {
        uint64_t m = mask | (UINT64_C(1) << j);
        if (val[j] == left) {
            if (!fn(ctx, m))
                return false;
        } else if (val[j] < left &&
                   !walk_sums(val, n_table, j + 1, left - val[j], m, fn, ctx)) {
            return false;
        }
    }
    return true;
}

static bool has_rank(const card_t *table, unsigned n_table, card_t played)
{
    for (unsigned j = 0; j < n_table; j++)
        if (card_rank(table[j]) == card_rank(played))
            return true;
    return false;
}

/* Calls fn for each capture open to played, in scopa_captures' order,
 * until fn returns false. */
static void each_capture(const card_t *table, unsigned n_table, card_t played,
                         capture_fn fn, void *ctx)
{
    uint8_t val[64];
    unsigned target = scopa_value(played);
    uint32_t sums = 1; /* bit k: some subset of the table adds up to k */
    bool is_pair = false;

    assert(n_table <= 64);
    /* In the 40-card deck a value is a rank: the same value is the same
     * rank. One pass finds a pair and the sums the table makes, so that
     * a card that captures nothing, the common case, costs no walk. */
    for (unsigned j = 0; j < n_table; j++) {
        val[j] = (uint8_t)scopa_value(table[j]);
        is_pair |= val[j] == target;
        sums |= sums << val[j];
    }
    if (is_pair) {
        for (unsigned j = 0; j < n_table; j++)
            if (val[j] == target && !fn(ctx, UINT64_C(1) << j))
                return;
        return;
    }
    if (target == 0 || target >= 32 || !(sums & (UINT32_C(1) << target)))
        return;
    walk_sums(val, n_table, 0, target, 0, fn, ctx);
}

/* Collects masks up to cap, and counts them up to limit (0: all). */
struct mask_list {
    uint64_t *masks;
    unsigned cap, limit, n;
};

static bool collect_mask(void *ctx, uint64_t mask)
{
    struct mask_list *l = ctx;
    if (l->n < l->cap)
        l->masks[l->n] = mask;
    l->n++;
    return l->limit == 0 || l->n < l->limit;
}

unsigned scopa_captures(const card_t *table, unsigned n_table, card_t played,
                        uint64_t *masks, unsigned cap)
{
    struct mask_list l = {masks, cap, 0, 0};
    each_capture(table, n_table, played, collect_mask, &l);
    return l.n;
}

/* Is mask (over the table) a legal capture for played? */
static bool is_capture(const card_t *table, unsigned n_table, card_t played,
                       uint64_t mask)
{
    unsigned sum = 0, n = 0;

    if (has_rank(table, n_table, played)) {
        /* Exactly one card, of the same rank. */
        for (unsigned j = 0; j < n_table; j++)
            if (mask == UINT64_C(1) << j)
                return card_rank(table[j]) == card_rank(played);
        return false;
    }
    for (unsigned j = 0; j < n_table; j++) {
        if (mask & (UINT64_C(1) << j)) {
            sum += scopa_value(table[j]);
            n++;
        }
    }
    return n >= 2 && sum == scopa_value(played);
}

/* ---- Small helpers over the state ---- */

static int hand_index(const struct scopa *g, unsigned seat, card_t c)
{
    for (unsigned i = 0; i < g->hand_len[seat]; i++)
        if (g->hand[seat][i] == c)
            return (int)i;
    return -1;
}

static int table_index(const struct scopa *g, card_t c)
{
    for (unsigned j = 0; j < g->n_table; j++)
        if (g->table[j] == c)
            return (int)j;
    return -1;
}

static unsigned cards_in_hands(const struct scopa *g)
{
    unsigned k = 0;
    for (unsigned s = 0; s < g->n_seats; s++)
        k += g->hand_len[s];
    return k;
}

static bool is_playing(const struct scopa *g)
{
    return g->hand_no > 0 && !g->is_hand_over && !g->is_over;
}

/* Fills mv with played and the table cards of mask, in table order: the
 * normal form of a move (scopa.h). */
static void make_move(const struct scopa *g, card_t played, uint64_t mask,
                      struct rules_move *mv)
{
    memset(mv, 0, sizeof *mv);
    mv->kind = MOVE_PLAY;
    mv->cards[mv->n++] = played;
    for (unsigned j = 0; j < g->n_table; j++)
        if (mask & (UINT64_C(1) << j))
            mv->cards[mv->n++] = g->table[j];
}

/* ---- The why text of check() ---- */

struct why_list {
    const struct scopa *g;
    char *buf;
    size_t cap, len;
    unsigned n_total, n_done;
};

static bool why_add(void *ctx, uint64_t mask)
{
    struct why_list *w = ctx;
    static const char more[] = " | ...";
    char opt[3 * RULES_MAX_MOVE + 4];
    size_t len = 0;

    if (w->n_done > 0) {
        memcpy(opt, " | ", 3);
        len = 3;
    }
    for (unsigned j = 0, first = 1; j < w->g->n_table; j++) {
        if (!(mask & (UINT64_C(1) << j)))
            continue;
        if (!first)
            opt[len++] = ' ';
        card_format(w->g->table[j], &opt[len]);
        len += 2;
        first = 0;
    }
    /* Keep room for " | ..." unless this is the last option. */
    size_t need = len + 1 + (w->n_done + 1 < w->n_total ? sizeof more - 1 : 0);
    if (w->len + need > w->cap) {
        if (w->len + sizeof more <= w->cap) {
            memcpy(w->buf + w->len, more, sizeof more);
            w->len += sizeof more - 1;
        }
        return false;
    }
    memcpy(w->buf + w->len, opt, len);
    w->len += len;
    w->buf[w->len] = '\0';
    w->n_done++;
    return true;
}

/* Writes "<prefix><option> | <option> | ..." into why (at most why_cap
 * and SCOPA_WHY_MAX bytes, NUL included), each option the table cards of
 * one capture of played, cut with " | ..." when they do not all fit. */
static void why_options(const struct scopa *g, card_t played,
                        const char *prefix, char *why, size_t why_cap)
{
    struct why_list w = {g, why, why_cap, 0, 0, 0};

    if (why == NULL || why_cap == 0)
        return;
    if (w.cap > SCOPA_WHY_MAX)
        w.cap = SCOPA_WHY_MAX;
    int k = snprintf(why, w.cap, "%s", prefix);
    w.len = k < 0 ? 0 : (size_t)k;
    if (w.len >= w.cap) {
        w.len = w.cap - 1; /* snprintf cut the prefix itself */
        return;
    }
    w.n_total = scopa_captures(g->table, g->n_table, played, NULL, 0);
    each_capture(g->table, g->n_table, played, why_add, &w);
}

static void why_text(const char *text, char *why, size_t why_cap)
{
    if (why != NULL && why_cap > 0)
        snprintf(why, why_cap < SCOPA_WHY_MAX ? why_cap : SCOPA_WHY_MAX, "%s",
                 text);
}

/* Named table cards that are no capture of played: say why, and list
 * the captures, if it has any. */
static void bad_capture(const struct scopa *g, card_t played,
                        const char *prefix, char *why, size_t why_cap)
{
    if (scopa_captures(g->table, g->n_table, played, NULL, 0) == 0) {
        char text[64], code[3];
        card_format(played, code);
        snprintf(text, sizeof text, "%s captures nothing: play it alone",
                 code);
        why_text(text, why, why_cap);
        return;
    }
    why_options(g, played, prefix, why, why_cap);
}

/* ---- The rules table ---- */

static void init(void *state, unsigned n_seats)
{
    struct scopa *g = state;

    assert(n_seats == 2 || n_seats == 4);
    memset(g, 0, sizeof *g);
    g->n_seats = (uint8_t)n_seats;
}

static void deal(void *state, unsigned hand, const card_t *deck)
{
    struct scopa *g = state;
    unsigned n = g->n_seats, k = 0;

    assert(hand >= 1 && n > 0);
    g->hand_no = (uint16_t)hand;
    g->lead = (uint8_t)((hand - 1) % n);
    g->turn = g->lead;
    g->is_hand_over = false;
    g->has_capturer = false;
    g->last_capturer = 0;
    g->n_discarded = 0;
    memcpy(g->deck, deck, SCOPA_DECK);
    memset(g->table, 0, sizeof g->table);
    memset(g->side, 0, sizeof g->side);
    for (unsigned i = 0; i < n; i++) {
        unsigned s = (g->lead + i) % n;
        memcpy(g->hand[s], &g->deck[k], SCOPA_HAND);
        g->hand_len[s] = SCOPA_HAND;
        k += SCOPA_HAND;
    }
    memcpy(g->table, &g->deck[k], 4);
    g->n_table = 4;
    g->deck_pos = (uint8_t)(k + 4);
}

static unsigned to_move(const void *state, enum rules_move_kind *kind)
{
    const struct scopa *g = state;

    if (kind != NULL)
        *kind = MOVE_PLAY;
    return is_playing(g) ? 1u << g->turn : 0;
}

static enum rules_verdict check(const void *state, unsigned seat,
                                struct rules_move *mv, char *why,
                                size_t why_cap)
{
    const struct scopa *g = state;
    uint64_t mask = 0;

    if (why != NULL && why_cap > 0)
        why[0] = '\0';
    /* A PASS is never due in scopa: NOTYOURTURN (PROTOCOL §12). */
    if (!is_playing(g) || seat != g->turn || mv->kind == MOVE_PASS)
        return RULES_NOTYOURTURN;
    if (mv->kind != MOVE_PLAY || mv->n < 1 || mv->n > RULES_MAX_MOVE) {
        why_text("malformed move", why, why_cap);
        return RULES_BADARG;
    }
    card_t played = mv->cards[0];
    if (hand_index(g, seat, played) < 0)
        return RULES_NOTINHAND;

    if (mv->n == 1) {
        /* Count up to 2: none (laid), one (filled in), or a choice. */
        struct mask_list l = {&mask, 1, 2, 0};
        each_capture(g->table, g->n_table, played, collect_mask, &l);
        if (l.n == 1)
            make_move(g, played, mask, mv);
        if (l.n <= 1)
            return RULES_OK;
        why_options(g, played, "choose a capture: ", why, why_cap);
        return RULES_BADARG;
    }
    for (unsigned i = 1; i < mv->n; i++) {
        int j = table_index(g, mv->cards[i]);
        if (j < 0 || (mask & (UINT64_C(1) << j))) {
            bad_capture(g, played,
                        j < 0 ? "not on the table; choose a capture: "
                              : "named twice; choose a capture: ",
                        why, why_cap);
            return RULES_BADARG;
        }
        mask |= UINT64_C(1) << j;
    }
    if (!is_capture(g->table, g->n_table, played, mask)) {
        bad_capture(g, played, "not a capture; choose: ", why, why_cap);
        return RULES_BADARG;
    }
    make_move(g, played, mask, mv); /* in table order */
    return RULES_OK;
}

/* The hand's last card was played: leftovers, score, totals, the end. */
static void end_hand(struct scopa *g, struct rules_outcome *out)
{
    struct scopa_score score[2];

    if (g->n_table > 0 && g->has_capturer) {
        struct scopa_side *side = &g->side[g->last_capturer % 2];
        out->leftover_seat = g->last_capturer;
        out->n_leftover = g->n_table;
        memcpy(out->leftover, g->table, g->n_table);
        memcpy(&side->pile[side->n_pile], g->table, g->n_table);
        side->n_pile = (uint8_t)(side->n_pile + g->n_table);
    } else {
        /* Nobody captured in the hand: the cards count for nobody. */
        out->leftover_seat = g->last_capturer;
        g->n_discarded = g->n_table;
    }
    g->n_table = 0;

    scopa_hand_score(g->side, score);
    for (unsigned t = 0; t < 2; t++)
        g->total[t] = (uint16_t)(g->total[t] + score[t].total);
    g->is_hand_over = true;
    /* A side with 11 or more and more than the other wins; equal at 11
     * or more: another hand (PROTOCOL §12). */
    g->is_over = (g->total[0] >= SCOPA_TARGET || g->total[1] >= SCOPA_TARGET) &&
                 g->total[0] != g->total[1];
    out->is_hand_over = true;
    out->is_over = g->is_over;
}

static void refill(struct scopa *g)
{
    for (unsigned i = 0; i < g->n_seats; i++) {
        unsigned s = (g->lead + i) % g->n_seats;
        assert(g->deck_pos + SCOPA_HAND <= SCOPA_DECK);
        memcpy(g->hand[s], &g->deck[g->deck_pos], SCOPA_HAND);
        g->hand_len[s] = SCOPA_HAND;
        g->deck_pos = (uint8_t)(g->deck_pos + SCOPA_HAND);
    }
}

static void apply(void *state, unsigned seat, const struct rules_move *mv,
                  struct rules_outcome *out)
{
    struct scopa *g = state;
    struct rules_move m = *mv;

    memset(out, 0, sizeof *out);
    /* The engine applies only what check() accepted; stay safe anyway,
     * and accept the same moves in the same normal form. */
    if (check(g, seat, &m, NULL, 0) != RULES_OK)
        return;

    card_t played = m.cards[0];
    int idx = hand_index(g, seat, played);
    memmove(&g->hand[seat][idx], &g->hand[seat][idx + 1],
            g->hand_len[seat] - (unsigned)idx - 1);
    g->hand_len[seat]--;

    bool is_last = g->deck_pos == SCOPA_DECK && cards_in_hands(g) == 0;
    if (m.n > 1) {
        struct scopa_side *side = &g->side[seat % 2];
        side->pile[side->n_pile++] = played;
        for (unsigned i = 1; i < m.n; i++) {
            int j = table_index(g, m.cards[i]);
            memmove(&g->table[j], &g->table[j + 1],
                    g->n_table - (unsigned)j - 1);
            g->n_table--;
            side->pile[side->n_pile++] = m.cards[i];
            out->taken[out->n_taken++] = m.cards[i];
        }
        g->has_capturer = true;
        g->last_capturer = (uint8_t)seat;
        /* No sweep with the last card of the hand (PROTOCOL §12). */
        if (g->n_table == 0 && !is_last) {
            side->n_sweeps++;
            out->is_sweep = true;
        }
    } else {
        g->table[g->n_table++] = played;
    }

    if (is_last) {
        end_hand(g, out);
        return;
    }
    if (cards_in_hands(g) == 0) {
        refill(g);
        out->is_refill = true;
    }
    g->turn = (uint8_t)((seat + 1) % g->n_seats);
}

/* Enumerates seat's legal moves: hand order, then each card's captures
 * in scopa_captures' order, or the card alone when it captures nothing. */
struct move_walk {
    const struct scopa *g;
    card_t played;
    struct rules_move *out;
    unsigned cap, n;
};

static bool walk_move(void *ctx, uint64_t mask)
{
    struct move_walk *w = ctx;
    if (w->n < w->cap)
        make_move(w->g, w->played, mask, &w->out[w->n]);
    w->n++;
    return true;
}

static unsigned legal_moves(const void *state, unsigned seat,
                            struct rules_move *out, unsigned cap)
{
    const struct scopa *g = state;
    struct move_walk w = {g, CARD_NONE, out, cap, 0};

    if (!is_playing(g) || seat != g->turn)
        return 0;
    for (unsigned i = 0; i < g->hand_len[seat]; i++) {
        w.played = g->hand[seat][i];
        unsigned before = w.n;
        each_capture(g->table, g->n_table, w.played, walk_move, &w);
        if (w.n == before)
            walk_move(&w, 0); /* captures nothing: laid */
    }
    return w.n;
}

/* auto_move: the capture that sweeps, then takes the settebello, then
 * the most coins, then the most cards (played card included); the first
 * in legal_moves' order on a tie. With no capture anywhere in the hand,
 * lay the lowest value, on a tie the first suit of c d h s. */
struct auto_walk {
    const struct scopa *g;
    card_t played;
    bool is_last;
    uint32_t best_key;
    card_t best_card;
    uint64_t best_mask;
};

static void auto_consider(struct auto_walk *w, uint32_t key, uint64_t mask)
{
    if (w->best_card == CARD_NONE || key > w->best_key) {
        w->best_key = key;
        w->best_card = w->played;
        w->best_mask = mask;
    }
}

static bool auto_capture(void *ctx, uint64_t mask)
{
    struct auto_walk *w = ctx;
    unsigned n = 1, coins = card_suit(w->played) == SUIT_D, n_table = 0;
    bool has_settebello = w->played == settebello;

    for (unsigned j = 0; j < w->g->n_table; j++) {
        n_table++;
        if (!(mask & (UINT64_C(1) << j)))
            continue;
        n++;
        coins += card_suit(w->g->table[j]) == SUIT_D;
        has_settebello |= w->g->table[j] == settebello;
    }
    bool is_sweep = n - 1 == n_table && !w->is_last;
    /* Captures rank above every lay (bit 24). */
    uint32_t key = UINT32_C(1) << 24 | (uint32_t)is_sweep << 20 |
                   (uint32_t)has_settebello << 16 | (uint32_t)coins << 8 |
                   (uint32_t)n;
    auto_consider(w, key, mask);
    return true;
}

static void auto_move(const void *state, unsigned seat, struct rules_move *out)
{
    const struct scopa *g = state;
    struct auto_walk w = {g, CARD_NONE, false, 0, CARD_NONE, 0};

    memset(out, 0, sizeof *out);
    out->kind = MOVE_PLAY;
    if (!is_playing(g) || seat != g->turn || g->hand_len[seat] == 0) {
        out->n = 1;
        out->cards[0] = CARD_NONE; /* nothing is due: check() refuses it */
        return;
    }
    w.is_last = g->deck_pos == SCOPA_DECK && cards_in_hands(g) == 1;
    for (unsigned i = 0; i < g->hand_len[seat]; i++) {
        w.played = g->hand[seat][i];
        unsigned n = scopa_captures(g->table, g->n_table, w.played, NULL, 0);
        if (n > 0) {
            each_capture(g->table, g->n_table, w.played, auto_capture, &w);
        } else {
            uint32_t key = (uint32_t)(10 - scopa_value(w.played)) << 2 |
                           (uint32_t)(3 - card_suit(w.played));
            auto_consider(&w, key, 0);
        }
    }
    make_move(g, w.best_card, w.best_mask, out);
}

static unsigned hand(const void *state, unsigned seat, card_t *out)
{
    const struct scopa *g = state;
    if (seat >= g->n_seats)
        return 0;
    memcpy(out, g->hand[seat], g->hand_len[seat]);
    return g->hand_len[seat];
}

static card_t trump(const void *state)
{
    (void)state;
    return CARD_NONE;
}

static unsigned table(const void *state, card_t *out)
{
    const struct scopa *g = state;
    memcpy(out, g->table, g->n_table);
    return g->n_table;
}

static unsigned trick(const void *state, unsigned *seats, card_t *cards)
{
    (void)state, (void)seats, (void)cards;
    return 0; /* scopa has no tricks */
}

static unsigned hand_no(const void *state)
{
    return ((const struct scopa *)state)->hand_no;
}

static bool has_passed(const void *state, unsigned seat)
{
    (void)state, (void)seat;
    return false;
}

static unsigned received(const void *state, unsigned seat, card_t *out)
{
    (void)state, (void)seat, (void)out;
    return 0;
}

static const char *pass_dir(const void *state)
{
    (void)state;
    return NULL;
}

static void totals(const void *state, unsigned *per_seat)
{
    const struct scopa *g = state;
    for (unsigned s = 0; s < g->n_seats; s++)
        per_seat[s] = g->total[s % 2];
}

static unsigned side_of(const void *state, unsigned seat)
{
    (void)state;
    return seat % 2; /* 2 seats: 0 | 1; 4 seats: 0+2 | 1+3 */
}

static int result(const void *state)
{
    const struct scopa *g = state;
    /* Total: a natural end never ties, but say something for any state. */
    if (g->total[0] > g->total[1])
        return 0;
    if (g->total[1] > g->total[0])
        return 1;
    return RULES_DRAW;
}

static int forfeit_result(const void *state, unsigned seat)
{
    (void)state;
    return (int)(1 - seat % 2);
}

const struct rules scopa_rules = {
    .name = "scopa",
    .seat_counts = {2, 4, 0, 0},
    .state_size = sizeof(struct scopa),
    .deck_size = SCOPA_DECK,
    .is_teams = true,
    .is_multi_hand = true,
    .has_trump = false,
    .has_table = true,
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
    .end_points = totals,
    .side_of = side_of,
    .result = result,
    .forfeit_result = forfeit_result,
};
