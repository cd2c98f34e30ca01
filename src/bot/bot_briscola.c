/*
 * bot_briscola: what a bot knows of briscola (bot_game.h).
 *
 * Sampling. Deck positions have owners fixed by the public history: seat
 * s's first three are 3s..3s+2, the trump is 3N, and after each trick
 * (whose winner is public) the next cards of the pile go to the winner
 * first, then the others in seat order, the trump last. This seat knows
 * its own positions (DEAL, DRAW) and the trump. A card another seat
 * played in trick t lies at one of that seat's positions dealt or drawn
 * before trick t: the plays are placed in order, each at a random free
 * such position (there is always one: a seat holds three cards before
 * each play), and the unseen cards fill the rest in random order. No
 * duty to follow suit, so the replay never refuses a sample.
 *
 * Heuristic (normal): lead or discard the cheapest card (no points, low,
 * not trump); take a trick with points with the lowest card that wins
 * it, a plain card before a trump, and spend a trump only on 10 points
 * or more; with a partner winning the trick, add points to it.
 */
#include <string.h>

#include "bot/bot_game.h"
#include "game/briscola.h"

/* Cost of giving a card away: points first, then strength, trump last. */
static unsigned cost(card_t c, unsigned trump_suit)
{
    unsigned k = briscola_card_points(c) * 16 + briscola_strength(c);
    return card_suit(c) == trump_suit ? k + 1000 : k;
}

static bool sample(const struct bot_view *v, const struct bot_event *ev,
                   unsigned n, struct bot_rng *g, card_t *deck,
                   struct rules_move pass[RULES_MAX_SEATS])
{
    unsigned ns = v->n_seats, me = v->seat;
    unsigned n_pile = BRISCOLA_DECK - 3 * ns; /* trump included, last */
    uint8_t owner[BRISCOLA_DECK], avail_at[BRISCOLA_DECK];
    uint64_t used = 0;
    unsigned n_drawn = 0, trick = 0, n_trick = 0, my_draw = 0;
    unsigned tseat[RULES_MAX_SEATS];
    card_t tcard[RULES_MAX_SEATS];
    card_t trump = ev[0].trump;
    (void)pass;

    memset(owner, 0xFF, sizeof owner);
    memset(deck, CARD_NONE, BRISCOLA_DECK);
    for (unsigned s = 0; s < ns; s++)
        for (unsigned i = 0; i < 3; i++) {
            owner[3 * s + i] = (uint8_t)s;
            avail_at[3 * s + i] = 0;
        }
    for (unsigned i = 0; i < 3 && i < ev[0].n_cards; i++) {
        deck[3 * me + i] = ev[0].cards[i];
        used |= bot_bit(ev[0].cards[i]);
    }
    deck[3 * ns] = trump;
    used |= bot_bit(trump);

    /* Draw k (0-based) is deck position 3N+1+k, the last one the trump. */
#define DRAW_POS(k) ((k) + 1 < n_pile ? 3 * ns + 1 + (k) : 3 * ns)
    for (unsigned i = 1; i < n; i++) {
        const struct bot_event *e = &ev[i];
        if (e->kind == BOT_EV_DRAW) {
            /* This seat's draws come in order; find its next position. */
            while (my_draw < n_drawn && owner[DRAW_POS(my_draw)] != me)
                my_draw++;
            if (my_draw >= n_drawn)
                return false;
            unsigned p = DRAW_POS(my_draw);
            my_draw++;
            if (p != 3 * ns) {
                if (used & bot_bit(e->cards[0]))
                    return false;
                deck[p] = e->cards[0];
                used |= bot_bit(e->cards[0]);
            }
            continue;
        }
        if (e->kind != BOT_EV_MOVE)
            continue;
        card_t c = e->mv.cards[0];
        unsigned s = e->seat;
        if (s != me && !(used & bot_bit(c))) {
            unsigned free_pos[BRISCOLA_DECK], nf = 0;
            for (unsigned p = 0; p < BRISCOLA_DECK; p++)
                if (owner[p] == s && avail_at[p] <= trick &&
                    deck[p] == CARD_NONE)
                    free_pos[nf++] = p;
            if (nf == 0)
                return false;
            deck[free_pos[bot_rng_below(g, nf)]] = c;
            used |= bot_bit(c);
        }
        tseat[n_trick] = s;
        tcard[n_trick++] = c;
        if (n_trick < ns)
            continue;
        unsigned w = tseat[briscola_trick_winner(tcard, ns, card_suit(trump))];
        n_trick = 0;
        trick++;
        for (unsigned k = 0; k < ns && n_drawn < n_pile; k++) {
            unsigned p = DRAW_POS(n_drawn);
            owner[p] = (uint8_t)((w + k) % ns);
            avail_at[p] = (uint8_t)trick;
            n_drawn++;
        }
    }
    /* My own draws are known even if the loop saw them before the
     * trick's owner was set (it cannot: DRAW follows its MOVE). The
     * rest: the unseen cards at random. */
    card_t rest[BRISCOLA_DECK];
    unsigned nr = 0;
    card_t all[RULES_MAX_DECK];
    rules_canonical_deck(BRISCOLA_DECK, all);
    for (unsigned i = 0; i < BRISCOLA_DECK; i++)
        if (!(used & bot_bit(all[i])))
            rest[nr++] = all[i];
    bot_shuffle(rest, nr, g);
    for (unsigned p = 0, k = 0; p < BRISCOLA_DECK; p++)
        if (deck[p] == CARD_NONE) {
            if (k >= nr)
                return false;
            deck[p] = rest[k++];
        }
#undef DRAW_POS
    return true;
}

/* The heuristic for any seat of a state: the normal level for the
 * view's seat, and hard's playout policy for every seat. */
static void choose(const struct rules *r, const void *state, unsigned me,
                   unsigned ns, struct rules_move *out)
{
    card_t hand[3], tcard[RULES_MAX_SEATS];
    unsigned tseat[RULES_MAX_SEATS];
    unsigned nh = r->hand(state, me, hand);
    unsigned nt = r->trick(state, tseat, tcard);
    unsigned ts = card_suit(r->trump(state));

    /* The cheapest card, the default. */
    unsigned best = 0;
    for (unsigned i = 1; i < nh; i++)
        if (cost(hand[i], ts) < cost(hand[best], ts))
            best = i;

    if (nt > 0) {
        unsigned pts = 0;
        for (unsigned i = 0; i < nt; i++)
            pts += briscola_card_points(tcard[i]);
        unsigned w = tseat[briscola_trick_winner(tcard, nt, ts)];
        bool partner_wins = ns == 4 && w % 2 == me % 2;
        bool is_last = nt == ns - 1;
        if (partner_wins) {
            /* Smear: the most points that are not a trump, if the
             * partner is last to be beaten (we play last) or leads by a
             * trump. */
            if (is_last ||
                card_suit(tcard[briscola_trick_winner(tcard, nt, ts)]) == ts) {
                unsigned sm = best;
                for (unsigned i = 0; i < nh; i++)
                    if (card_suit(hand[i]) != ts &&
                        briscola_card_points(hand[i]) >
                            briscola_card_points(hand[sm]))
                        sm = i;
                best = sm;
            }
        } else {
            /* The cheapest winning card, plain before trump. */
            int win = -1;
            for (unsigned i = 0; i < nh; i++) {
                tcard[nt] = hand[i];
                if (briscola_trick_winner(tcard, nt + 1, ts) != nt)
                    continue;
                if (win < 0 || cost(hand[i], ts) < cost(hand[win], ts))
                    win = (int)i;
            }
            if (win >= 0) {
                card_t c = hand[win];
                unsigned gain = pts + briscola_card_points(c);
                bool is_trump = card_suit(c) == ts;
                bool worth = is_trump ? pts >= 10 : gain > 0;
                /* Discarding points loses them anyway: take instead. */
                if (!worth && briscola_card_points(hand[best]) >= 4 &&
                    (!is_trump || pts > 0))
                    worth = true;
                if (worth)
                    best = (unsigned)win;
            }
        }
    }
    memset(out, 0, sizeof *out);
    out->kind = MOVE_PLAY;
    out->n = 1;
    out->cards[0] = hand[best];
}

static void heuristic(const struct bot_view *v, const void *state,
                      enum rules_move_kind kind, struct bot_rng *g,
                      struct rules_move *out)
{
    (void)kind;
    (void)g;
    choose(v->rules, state, v->seat, v->n_seats, out);
}

static void playout(const struct rules *r, const void *state, unsigned seat,
                    unsigned n_seats, struct bot_rng *g, struct rules_move *out)
{
    (void)g;
    choose(r, state, seat, n_seats, out);
}

/* 0.8 for a win (0.4 a draw), plus 0.2 scaled by the point margin. */
static void reward(const struct rules *r, unsigned n_seats, const void *before,
                   const void *after, double *per_seat)
{
    unsigned pts[RULES_MAX_SEATS], side[2] = {0, 0};
    (void)before;

    r->totals(after, pts); /* a side's card points, for each of its seats */
    for (unsigned s = 0; s < n_seats; s++)
        side[r->side_of(after, s)] = pts[s];
    for (unsigned s = 0; s < n_seats; s++) {
        unsigned mine = side[r->side_of(after, s)];
        unsigned theirs = side[1 - r->side_of(after, s)];
        double w = mine > theirs ? 1.0 : mine == theirs ? 0.5 : 0.0;
        per_seat[s] = 0.8 * w + 0.2 * ((double)mine / (mine + theirs + 1e-9));
    }
}

const struct bot_game bot_briscola = {
    .name = "briscola",
    .sample = sample,
    .heuristic = heuristic,
    .playout = playout,
    .reward = reward,
};
