/*
 * bot_hearts: what a bot knows of hearts (bot_game.h).
 *
 * Sampling. Seat i is dealt deck[13i..13i+12]. This seat knows its own
 * thirteen, the three it passed (they went to the seat it passed to)
 * and the three it received (from the seat passing to it); it does not
 * know the other passes. Sampled, in this order:
 *   - each other seat's hand after the pass: the cards it has played,
 *     the cards this seat passed to it (unless played since), and a
 *     share of the unseen cards, respecting what its plays showed: a
 *     card not of the suit led means no card of that suit is left; a
 *     heart or Qs on the first trick off-suit means nothing but hearts
 *     and Qs; a heart led before hearts were broken means only hearts.
 *     Unseen cards go most constrained first, each to a seat allowed to
 *     hold it, weighted by the room left (a dead end is a failed try);
 *   - the passes this seat did not see: three cards of the receiver's
 *     hand, so that dealt = (after the pass - received) + passed;
 *     Before the first lead, the seat due to lead (public: TURN) holds
 *     the 2c;
 *   - while passing (nothing played yet): the others' deals uniformly,
 *     and for those who have passed, three cards of their deal.
 *
 * Heuristic (normal): pass the Qs, high spades and high hearts; follow
 * suit under the winning card when possible (the highest card that
 * still ducks); take a pointless last trick with the highest card; when
 * void, dump the Qs, then high hearts, then high spades, then the
 * highest card; lead low, hearts last.
 */
#include <string.h>

#include "bot/bot_game.h"
#include "game/hearts.h"

#define ALL_CARDS ((UINT64_C(1) << HEARTS_DECK) - 1)
#define QS card_make(RANK_Q, SUIT_S)

static uint64_t suit_mask(unsigned suit)
{
    return UINT64_C(0x1FFF) << (suit * CARD_N_RANKS);
}

static unsigned popcount(uint64_t m)
{
    return (unsigned)__builtin_popcountll(m);
}

/* A random k-subset of m (k <= popcount(m)). */
static uint64_t pick(uint64_t m, unsigned k, struct bot_rng *g)
{
    uint64_t out = 0;
    for (; k > 0; k--) {
        unsigned n = popcount(m), i = bot_rng_below(g, n);
        uint64_t x = m;
        while (i-- > 0)
            x &= x - 1;
        uint64_t b = x & -x;
        out |= b;
        m &= ~b;
    }
    return out;
}

static void pass_move(uint64_t set, struct rules_move *mv)
{
    memset(mv, 0, sizeof *mv);
    mv->kind = MOVE_PASS;
    for (unsigned c = 0; c < HEARTS_DECK; c++)
        if (set & bot_bit((card_t)c))
            mv->cards[mv->n++] = (card_t)c;
}

static bool sample(const struct bot_view *v, const struct bot_event *ev,
                   unsigned n, struct bot_rng *g, card_t *deck,
                   struct rules_move pass[RULES_MAX_SEATS])
{
    unsigned me = v->seat, off = hearts_pass_offset(ev[0].hand);
    uint64_t mine = 0, sent = 0, recvd = 0;
    uint64_t played[HEARTS_SEATS] = {0}, ban[HEARTS_SEATS] = {0};
    uint64_t hold[HEARTS_SEATS] = {0}, xs[HEARTS_SEATS] = {0};
    uint64_t dealt[HEARTS_SEATS] = {0};
    bool is_pass_done = off == 0, has_passed[HEARTS_SEATS] = {false};
    bool is_broken = false;
    unsigned n_trick = 0, n_tricks = 0, n_plays = 0, led = 0;

    for (unsigned i = 0; i < ev[0].n_cards; i++)
        mine |= bot_bit(ev[0].cards[i]);
    for (unsigned i = 1; i < n; i++) {
        const struct bot_event *e = &ev[i];
        if (e->kind == BOT_EV_RECEIVED) {
            for (unsigned k = 0; k < e->n_cards; k++)
                recvd |= bot_bit(e->cards[k]);
            is_pass_done = true;
            continue;
        }
        if (e->kind != BOT_EV_MOVE)
            continue;
        if (e->mv.kind == MOVE_PASS) {
            has_passed[e->seat] = true;
            if (!e->is_hidden)
                for (unsigned k = 0; k < e->mv.n; k++)
                    sent |= bot_bit(e->mv.cards[k]);
            continue;
        }
        card_t c = e->mv.cards[0];
        unsigned s = e->seat, suit = card_suit(c);
        if (n_trick == 0) {
            led = suit;
            if (suit == SUIT_H && !is_broken)
                ban[s] |= ALL_CARDS & ~suit_mask(SUIT_H);
        } else if (suit != led) {
            ban[s] |= suit_mask(led);
            if (n_tricks == 0 && (suit == SUIT_H || c == QS))
                ban[s] |= ALL_CARDS & ~suit_mask(SUIT_H) & ~bot_bit(QS);
        }
        if (suit == SUIT_H)
            is_broken = true;
        played[s] |= bot_bit(c);
        n_plays++;
        if (++n_trick == HEARTS_SEATS) {
            n_trick = 0;
            n_tricks++;
        }
    }

    if (!is_pass_done) {
        /* Passing: the others' deals at random, passes from them. */
        card_t rest[HEARTS_DECK];
        unsigned nr = 0;
        for (unsigned c = 0; c < HEARTS_DECK; c++)
            if (!(mine & bot_bit((card_t)c)))
                rest[nr++] = (card_t)c;
        bot_shuffle(rest, nr, g);
        for (unsigned s = 0, k = 0; s < HEARTS_SEATS; s++) {
            uint64_t d = mine;
            if (s != me) {
                d = 0;
                for (unsigned i = 0; i < HEARTS_HAND; i++)
                    d |= bot_bit(rest[k++]);
            }
            dealt[s] = d;
            if (s != me && has_passed[s])
                pass_move(pick(d, RULES_PASS_CARDS, g), &pass[s]);
        }
    } else {
        /* Hands after the pass. */
        uint64_t unseen = ALL_CARDS & ~((mine & ~sent) | recvd) & ~sent;
        unsigned room[HEARTS_SEATS] = {0};
        hold[me] = (mine & ~sent) | recvd;
        for (unsigned s = 0; s < HEARTS_SEATS; s++) {
            if (s == me)
                continue;
            unseen &= ~played[s];
            if (off != 0 && s == (me + off) % HEARTS_SEATS)
                hold[s] = sent & ~played[s];
            unsigned used = popcount(played[s]) + popcount(hold[s]);
            if (used > HEARTS_HAND || (hold[s] & ban[s]))
                return false;
            room[s] = HEARTS_HAND - used;
        }
        /* Before the first lead, the seat due to lead holds the 2c. */
        unsigned next = ev[n - 1].next;
        card_t two = card_make(RANK_2, SUIT_C);
        if (n_plays == 0 && next != 0 && (unseen & bot_bit(two))) {
            unsigned s = (unsigned)__builtin_ctz(next);
            if (s == me || room[s] == 0)
                return false;
            hold[s] |= bot_bit(two);
            unseen &= ~bot_bit(two);
            room[s]--;
        }
        /* Most constrained cards first: by how many seats may hold them. */
        card_t order[HEARTS_DECK], tier[HEARTS_SEATS][HEARTS_DECK];
        unsigned n_order = 0, nt[HEARTS_SEATS] = {0};
        for (uint64_t m = unseen; m != 0; m &= m - 1) {
            card_t c = (card_t)__builtin_ctzll(m); /* ascending */
            unsigned k = 0;
            for (unsigned s = 0; s < HEARTS_SEATS; s++)
                k += s != me && !(ban[s] & bot_bit(c));
            tier[k][nt[k]++] = c;
        }
        if (nt[0] > 0)
            return false;
        for (unsigned want = 1; want < HEARTS_SEATS; want++) {
            bot_shuffle(tier[want], nt[want], g);
            memcpy(order + n_order, tier[want], nt[want]);
            n_order += nt[want];
        }
        for (unsigned i = 0; i < n_order; i++) {
            card_t c = order[i];
            unsigned total = 0;
            for (unsigned s = 0; s < HEARTS_SEATS; s++)
                if (s != me && !(ban[s] & bot_bit(c)))
                    total += room[s];
            if (total == 0)
                return false;
            unsigned x = bot_rng_below(g, total), s = 0;
            for (;; s++) {
                if (s == me || (ban[s] & bot_bit(c)))
                    continue;
                if (x < room[s])
                    break;
                x -= room[s];
            }
            hold[s] |= bot_bit(c);
            room[s]--;
        }
        for (unsigned s = 0; s < HEARTS_SEATS; s++) {
            if (s != me)
                hold[s] |= played[s];
            if (popcount(hold[s]) != HEARTS_HAND)
                return false;
        }
        /* The passes, and the deals they imply. */
        if (off != 0) {
            xs[me] = sent;
            xs[(me + HEARTS_SEATS - off) % HEARTS_SEATS] = recvd;
            for (unsigned s = 0; s < HEARTS_SEATS; s++) {
                if (s == me || (s + off) % HEARTS_SEATS == me)
                    continue;
                xs[s] =
                    pick(hold[(s + off) % HEARTS_SEATS], RULES_PASS_CARDS, g);
            }
        }
        uint64_t all = 0;
        for (unsigned s = 0; s < HEARTS_SEATS; s++) {
            unsigned from = (s + HEARTS_SEATS - off) % HEARTS_SEATS;
            dealt[s] = off != 0 ? (hold[s] & ~xs[from]) | xs[s] : hold[s];
            if (popcount(dealt[s]) != HEARTS_HAND || (all & dealt[s]))
                return false;
            all |= dealt[s];
            if (s != me && has_passed[s])
                pass_move(xs[s], &pass[s]);
        }
        if (dealt[me] != mine)
            return false;
    }
    for (unsigned s = 0; s < HEARTS_SEATS; s++) {
        unsigned k = HEARTS_HAND * s;
        for (unsigned c = 0; c < HEARTS_DECK; c++)
            if (dealt[s] & bot_bit((card_t)c))
                deck[k++] = (card_t)c;
    }
    return true;
}

/* How much a card is worth passing or dumping, highest first. */
static int danger(card_t c, unsigned n_spades)
{
    unsigned st = hearts_strength(c); /* 0 (2) .. 12 (A) */
    if (card_suit(c) == SUIT_S) {
        /* Many spades guard the Qs: keep it and its cover then. */
        bool is_guarded = n_spades >= 5;
        if (c == QS)
            return is_guarded ? 20 : 100;
        if (st >= 11) /* K, A */
            return is_guarded ? 25 : 90 + (int)st;
        return 20 + (int)st;
    }
    if (card_suit(c) == SUIT_H)
        return st >= 8 ? 60 + (int)st * 2 : (int)st * 2;
    return 30 + (int)st * 2;
}

static void play_card(const struct rules *r, const void *state, unsigned seat,
                      bool qs_out, struct rules_move *out);

static void heuristic(const struct bot_view *v, const void *state,
                      enum rules_move_kind kind, struct bot_rng *g,
                      struct rules_move *out)
{
    const struct rules *r = v->rules;
    card_t hand[HEARTS_HAND + RULES_PASS_CARDS];
    unsigned nh = bot_hand(v, state, hand), n_spades = 0;
    (void)g;

    for (unsigned i = 0; i < nh; i++)
        n_spades += card_suit(hand[i]) == SUIT_S;
    memset(out, 0, sizeof *out);
    if (kind == MOVE_PASS) {
        /* The three most dangerous cards. */
        for (unsigned k = 0; k < RULES_PASS_CARDS; k++) {
            unsigned best = k;
            for (unsigned i = k + 1; i < nh; i++)
                if (danger(hand[i], n_spades) > danger(hand[best], n_spades))
                    best = i;
            card_t t = hand[k];
            hand[k] = hand[best];
            hand[best] = t;
        }
        out->kind = MOVE_PASS;
        out->n = RULES_PASS_CARDS;
        memcpy(out->cards, hand, RULES_PASS_CARDS);
        return;
    }

    /* Is the Qs still in another hand? */
    bool qs_out = true;
    for (unsigned i = bot_view_hand_start(v); i < v->n_events; i++) {
        const struct bot_event *e = &v->events[i];
        if (e->kind == BOT_EV_MOVE && e->mv.kind == MOVE_PLAY &&
            e->mv.cards[0] == QS)
            qs_out = false;
    }
    for (unsigned i = 0; i < nh; i++)
        if (hand[i] == QS)
            qs_out = false;
    play_card(r, state, v->seat, qs_out, out);
}

/* The play for seat: qs_out says whether the Qs is in another hand. */
static void play_card(const struct rules *r, const void *state, unsigned seat,
                      bool qs_out, struct rules_move *out)
{
    struct rules_move moves[HEARTS_HAND];
    unsigned n = r->legal_moves(state, seat, moves, HEARTS_HAND);
    unsigned tseat[HEARTS_SEATS];
    card_t tcard[HEARTS_SEATS];
    unsigned nt = r->trick(state, tseat, tcard);

    int best = 0;
    long best_s = 0;
    for (unsigned i = 0; i < n; i++) {
        card_t c = moves[i].cards[0];
        unsigned st = hearts_strength(c);
        long s;
        if (nt == 0) {
            /* Lead low; hearts last; no high spade while the Qs is out. */
            s = -(long)st;
            if (card_suit(c) == SUIT_H)
                s -= 20;
            if (card_suit(c) == SUIT_S && qs_out && st >= 10)
                s -= 40;
            if (c == QS)
                s -= 60;
        } else {
            unsigned led = card_suit(tcard[0]);
            unsigned w = 0, pts = 0;
            for (unsigned k = 0; k < nt; k++) {
                pts += hearts_card_points(tcard[k]);
                if (card_suit(tcard[k]) == led && hearts_strength(tcard[k]) > w)
                    w = hearts_strength(tcard[k]);
            }
            if (card_suit(c) == led) {
                if (st < w) /* ducks: the highest duck */
                    s = 1000 + st;
                else if (nt == HEARTS_SEATS - 1 && pts == 0 && c != QS)
                    s = 500 + st; /* a free trick: shed the high card */
                else
                    s = 100 - (long)st - (c == QS ? 50 : 0);
                if (led == SUIT_S && st < w && c == QS)
                    s = 2000; /* the Qs under a higher spade */
            } else {
                s = danger(c, 0);
                if (c == QS)
                    s = 1000;
                if (card_suit(c) == SUIT_S && st >= 11 && !qs_out)
                    s = 20 + st; /* the Qs is gone: A/K of spades are safe */
            }
        }
        if (i == 0 || s > best_s) {
            best = (int)i;
            best_s = s;
        }
    }
    *out = moves[best];
}

/* In a playout every hand is known: the Qs is out if another seat
 * holds it. */
static void playout(const struct rules *r, const void *state, unsigned seat,
                    unsigned n_seats, struct bot_rng *g, struct rules_move *out)
{
    const struct hearts *h = state;
    bool qs_out = false;
    (void)g;
    /* The state's own sets, not r->hand(): a playout move is the
     * search's inner loop (a list per seat per move cost a tenth of it). */
    for (unsigned s = 0; s < n_seats; s++)
        qs_out |= s != seat && (h->hand[s] & bot_bit(QS)) != 0;
    play_card(r, state, seat, qs_out, out);
}

/* 1 for a hand with no points, 0 for 26 or more. */
static void reward(const struct rules *r, unsigned n_seats, const void *before,
                   const void *after, double *per_seat)
{
    unsigned t0[RULES_MAX_SEATS], t1[RULES_MAX_SEATS];

    r->totals(before, t0);
    r->totals(after, t1);
    for (unsigned s = 0; s < n_seats; s++) {
        double x = 1.0 - (double)(t1[s] - t0[s]) / HEARTS_MOON;
        per_seat[s] = x < 0 ? 0 : x;
    }
}

const struct bot_game bot_hearts = {
    .name = "hearts",
    .sample = sample,
    .heuristic = heuristic,
    .playout = playout,
    .reward = reward,
};
