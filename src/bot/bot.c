/*
 * bot: levels, determinisation and the shared helpers (bot.h).
 *
 * Determinisation rebuilds a full state from the view alone: init, then
 * for every hand in the view its game's sampler proposes a deck (and the
 * cards of the passes this seat did not see), the deck is dealt, and the
 * hand's public moves are replayed through rules->check and apply. A
 * sample under which a public move is refused is thrown away and drawn
 * again, at most BOT_MAX_TRIES times. Completed hands are replayed once
 * per decision (the prefix); hard resamples only the current hand, once
 * per iteration, from a copy of the prefix.
 *
 * The state is read only through the rules interface; the heuristics
 * read the determinised state only through what the seat sees anyway
 * (its hand, trump, table, the trick), which is the same in every
 * determinisation.
 */
#include "bot/bot.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "bot/bot_game.h"

#define MAX_MOVES 512

static const struct bot_game *const games[] = {
    &bot_briscola,
    &bot_scopa,
    &bot_hearts,
};

int bot_level_parse(const char *s, size_t len, enum bot_level *out)
{
    static const char *const names[] = {"easy", "normal", "hard"};

    for (unsigned i = 0; i < 3; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            *out = (enum bot_level)i;
            return 0;
        }
    }
    return -1;
}

const char *bot_level_name(enum bot_level level)
{
    switch (level) {
    case BOT_EASY:
        return "easy";
    case BOT_NORMAL:
        return "normal";
    case BOT_HARD:
        return "hard";
    }
    return "?";
}

const struct bot_game *bot_game_find(const struct rules *r)
{
    for (size_t i = 0; i < sizeof games / sizeof games[0]; i++)
        if (strcmp(games[i]->name, r->name) == 0)
            return games[i];
    return NULL;
}

bool bot_supports(const struct rules *r)
{
    return bot_game_find(r) != NULL;
}

void bot_shuffle(card_t *cards, unsigned n, struct bot_rng *g)
{
    for (unsigned i = n; i > 1; i--) {
        unsigned j = bot_rng_below(g, i);
        card_t t = cards[i - 1];
        cards[i - 1] = cards[j];
        cards[j] = t;
    }
}

unsigned bot_hand(const struct bot_view *v, const void *state, card_t *out)
{
    return v->rules->hand(state, v->seat, out);
}

void bot_random_pass(const struct bot_view *v, const void *state,
                     struct bot_rng *g, struct rules_move *out)
{
    card_t hand[RULES_MAX_DECK];
    unsigned n = bot_hand(v, state, hand);

    assert(n >= RULES_PASS_CARDS);
    bot_shuffle(hand, n, g);
    memset(out, 0, sizeof *out);
    out->kind = MOVE_PASS;
    out->n = RULES_PASS_CARDS;
    memcpy(out->cards, hand, RULES_PASS_CARDS);
}

/* ---- determinisation ---------------------------------------------- */

bool bot_replay_hand(struct bot_det *d, unsigned at, void *state,
                     struct bot_rng *g)
{
    const struct rules *r = d->r;
    const struct bot_event *ev = &d->v->events[at];
    unsigned n = 1;
    void *save = mem_alloc(r->state_size);
    bool ok = false;

    assert(ev->kind == BOT_EV_DEAL);
    while (at + n < d->end && ev[n].kind != BOT_EV_DEAL)
        n++;
    memcpy(save, state, r->state_size);
    for (unsigned t = 0; t < BOT_MAX_TRIES && !ok; t++) {
        card_t deck[RULES_MAX_DECK];
        struct rules_move pass[RULES_MAX_SEATS];

        memset(pass, 0, sizeof pass);
        if (t > 0)
            memcpy(state, save, r->state_size);
        if (!d->game->sample(d->v, ev, n, g, deck, pass)) {
            d->n_fails++;
            continue;
        }
        r->deal(state, ev->hand, deck);
        ok = true;
        for (unsigned i = 1; i < n && ok; i++) {
            const struct bot_event *e = &ev[i];
            if (e->kind != BOT_EV_MOVE)
                continue;
            struct rules_move mv = e->is_hidden ? pass[e->seat] : e->mv;
            enum rules_move_kind kind;
            unsigned mask = r->to_move(state, &kind);
            if (!(mask & (1u << e->seat)) || kind != mv.kind ||
                r->check(state, e->seat, &mv, NULL, 0) != RULES_OK) {
                ok = false;
                break;
            }
            struct rules_outcome out;
            r->apply(state, e->seat, &mv, &out);
        }
        /* Whose turn it is now is public too (the 2c's holder leads). */
        if (ok && r->to_move(state, NULL) != ev[n - 1].next)
            ok = false;
        if (!ok)
            d->n_fails++;
    }
    free(save);
    return ok;
}

/* A view as the engine builds it: known kinds, seats, counts and cards
 * of this game's deck, hands numbered 1, 2, ... each opened by its DEAL.
 * The samplers rely on it (a card code indexes a 64-bit mask). */
static bool is_card(const struct rules *r, card_t c)
{
    return c < CARD_N_RANKS * CARD_N_SUITS &&
           (r->deck_size == 52 || card_rank(c) <= RANK_7 ||
            card_rank(c) >= RANK_J);
}

static bool is_well_formed(const struct bot_view *v)
{
    const struct rules *r = v->rules;
    unsigned hand = 0;

    if (v->n_seats == 0 || v->n_seats > RULES_MAX_SEATS ||
        v->seat >= v->n_seats || !rules_has_seats(r, v->n_seats))
        return false;
    for (unsigned i = 0; i < v->n_events; i++) {
        const struct bot_event *e = &v->events[i];
        if (e->kind == BOT_EV_DEAL) {
            if (e->hand != hand + 1 || e->n_table > 4 ||
                (e->trump != CARD_NONE && !is_card(r, e->trump)))
                return false;
            hand++;
            for (unsigned k = 0; k < e->n_table; k++)
                if (!is_card(r, e->table[k]))
                    return false;
        } else if (e->hand != hand || hand == 0) {
            return false;
        }
        unsigned max_cards = e->kind == BOT_EV_DEAL       ? RULES_MAX_HAND
                             : e->kind == BOT_EV_DRAW     ? 1
                             : e->kind == BOT_EV_REFILL   ? 3
                             : e->kind == BOT_EV_RECEIVED ? RULES_PASS_CARDS
                                                          : 0;
        if (e->kind > BOT_EV_RECEIVED || e->n_cards > max_cards)
            return false;
        for (unsigned k = 0; k < e->n_cards; k++)
            if (!is_card(r, e->cards[k]))
                return false;
        if (e->kind != BOT_EV_MOVE)
            continue;
        if (e->seat >= v->n_seats || e->mv.n > RULES_MAX_MOVE ||
            e->is_hidden > 1 ||
            (e->mv.kind != MOVE_PLAY && e->mv.kind != MOVE_PASS) ||
            (e->is_hidden && (e->mv.kind != MOVE_PASS || e->seat == v->seat)) ||
            (!e->is_hidden && e->mv.n == 0))
            return false;
        for (unsigned k = 0; k < e->mv.n; k++)
            if (!is_card(r, e->mv.cards[k]))
                return false;
    }
    return true;
}

/* Sets d up and replays the completed hands into d->prefix: 0 or -1. */
static int det_open(struct bot_det *d, const struct bot_view *v,
                    struct bot_rng *g)
{
    memset(d, 0, sizeof *d);
    d->v = v;
    d->r = v->rules;
    d->game = bot_game_find(v->rules);
    d->end = v->n_events;
    d->cur = bot_view_hand_start(v);
    if (d->game == NULL || d->cur == v->n_events || !is_well_formed(v))
        return -1;
    d->prefix = mem_alloc(d->r->state_size);
    memset(d->prefix, 0, d->r->state_size);
    d->r->init(d->prefix, v->n_seats);
    for (unsigned i = 0; i < d->cur; i++) {
        if (v->events[i].kind != BOT_EV_DEAL)
            continue;
        if (!bot_replay_hand(d, i, d->prefix, g))
            return -1;
    }
    return 0;
}

static void det_close(struct bot_det *d)
{
    free(d->prefix);
    d->prefix = NULL;
}

int bot_determinise(const struct bot_view *v, uint64_t seed, void *state)
{
    struct bot_rng g = {seed};
    struct bot_det d;
    int rc = det_open(&d, v, &g);

    if (rc == 0) {
        memcpy(state, d.prefix, d.r->state_size);
        rc = bot_replay_hand(&d, d.cur, state, &g) ? 0 : -1;
    }
    det_close(&d);
    return rc;
}

/* ---- levels ------------------------------------------------------- */

static void random_move(const struct bot_view *v, const void *state,
                        enum rules_move_kind kind, struct bot_rng *g,
                        struct rules_move *out)
{
    static __thread struct rules_move moves[MAX_MOVES];

    if (kind == MOVE_PASS) {
        bot_random_pass(v, state, g, out);
        return;
    }
    unsigned n = v->rules->legal_moves(state, v->seat, moves, MAX_MOVES);
    if (n > MAX_MOVES)
        n = MAX_MOVES;
    assert(n > 0);
    *out = moves[bot_rng_below(g, n)];
}

int bot_choose(const struct bot_view *v, enum bot_level level,
               const struct bot_budget *budget, uint64_t seed,
               struct rules_move *out)
{
    static const struct bot_budget defaults = {BOT_HARD_ITERATIONS,
                                               BOT_HARD_TIME_MS, NULL, NULL};
    struct bot_rng g = {seed};
    struct bot_det d;
    int rc = -1;
    void *state = NULL;

    if (budget == NULL)
        budget = &defaults;
    if (det_open(&d, v, &g) != 0)
        goto done;
    state = mem_alloc(d.r->state_size);
    memcpy(state, d.prefix, d.r->state_size);
    if (!bot_replay_hand(&d, d.cur, state, &g))
        goto done;

    enum rules_move_kind kind;
    unsigned mask = d.r->to_move(state, &kind);
    if (!(mask & (1u << v->seat)))
        goto done;
    memset(out, 0, sizeof *out);
    switch (level) {
    case BOT_EASY:
        random_move(v, state, kind, &g, out);
        break;
    case BOT_NORMAL:
        d.game->heuristic(v, state, kind, &g, out);
        break;
    case BOT_HARD:
        /* Passing is simultaneous and not enumerated (rules.h): hard
         * passes as normal does, and searches the play. */
        if (kind == MOVE_PASS)
            d.game->heuristic(v, state, kind, &g, out);
        else
            bot_ismcts(&d, budget, &g, out);
        break;
    }
    /* A bot's move is a legal move whatever a heuristic did. */
    if (d.r->check(state, v->seat, out, NULL, 0) != RULES_OK) {
        assert(!"bot chose an illegal move");
        random_move(v, state, kind, &g, out);
    }
    rc = 0;
done:
    free(state);
    det_close(&d);
    return rc;
}
