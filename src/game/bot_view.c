/*
 * bot_view: the seat's view of a match, recorded from the rules' public
 * and per-seat views only (bot_view.h). Nothing here reads a field of a
 * game's state: the state is opaque, and the only calls on it are
 * rules->hand and rules->received for this seat, rules->trump and
 * rules->table.
 */
#include "game/bot_view.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static uint64_t bit(card_t c)
{
    return UINT64_C(1) << c;
}

void bot_view_init(struct bot_view *v, const struct rules *r, unsigned n_seats,
                   unsigned seat)
{
    assert(seat < n_seats && n_seats <= RULES_MAX_SEATS);
    memset(v, 0, sizeof *v);
    v->rules = r;
    v->n_seats = n_seats;
    v->seat = seat;
}

void bot_view_free(struct bot_view *v)
{
    free(v->events);
    v->events = NULL;
    v->n_events = v->cap_events = 0;
}

void bot_view_copy(struct bot_view *dst, const struct bot_view *src)
{
    *dst = *src;
    dst->cap_events = src->n_events;
    dst->events = NULL;
    if (src->n_events > 0) {
        dst->events = mem_alloc(src->n_events * sizeof *src->events);
        memcpy(dst->events, src->events, src->n_events * sizeof *src->events);
    }
}

bool bot_view_equal(const struct bot_view *a, const struct bot_view *b)
{
    return a->rules == b->rules && a->n_seats == b->n_seats &&
           a->seat == b->seat && a->n_events == b->n_events &&
           (a->n_events == 0 ||
            memcmp(a->events, b->events, a->n_events * sizeof *a->events) == 0);
}

/* A zeroed event appended to the list (zeroed so that equal histories
 * are equal bytes, padding included). */
static struct bot_event *push(struct bot_view *v, enum bot_event_kind kind,
                              unsigned hand)
{
    if (v->n_events == v->cap_events) {
        v->cap_events = v->cap_events ? 2 * v->cap_events : 64;
        v->events = mem_realloc(v->events, v->cap_events * sizeof *v->events);
    }
    struct bot_event *e = &v->events[v->n_events++];
    memset(e, 0, sizeof *e);
    e->kind = (uint8_t)kind;
    e->hand = (uint16_t)hand;
    e->trump = CARD_NONE;
    return e;
}

unsigned bot_view_hand(const struct bot_view *v)
{
    return v->n_events > 0 ? v->events[v->n_events - 1].hand : 0;
}

unsigned bot_view_hand_start(const struct bot_view *v)
{
    for (unsigned i = v->n_events; i-- > 0;)
        if (v->events[i].kind == BOT_EV_DEAL)
            return i;
    return v->n_events;
}

void bot_view_deal(struct bot_view *v, const void *state, unsigned hand)
{
    const struct rules *r = v->rules;
    struct bot_event *e = push(v, BOT_EV_DEAL, hand);
    card_t table[RULES_MAX_TABLE];

    e->n_cards = (uint8_t)r->hand(state, v->seat, e->cards);
    e->trump = r->trump(state);
    unsigned n = r->table(state, table);
    assert(n <= sizeof e->table);
    e->n_table = (uint8_t)n;
    memcpy(e->table, table, n);
    e->next = (uint8_t)r->to_move(state, NULL);
}

void bot_view_move(struct bot_view *v, const void *state, unsigned seat,
                   const struct rules_move *mv, const struct rules_outcome *out)
{
    const struct rules *r = v->rules;
    unsigned hand = bot_view_hand(v);
    struct bot_event *e = push(v, BOT_EV_MOVE, hand);

    e->seat = (uint8_t)seat;
    e->next = (uint8_t)r->to_move(state, NULL);
    if (mv->kind == MOVE_PASS && seat != v->seat) {
        /* PROTOCOL §12: others see PASSED, never the cards. */
        e->is_hidden = 1;
        e->mv.kind = MOVE_PASS;
    } else {
        e->mv = *mv;
        /* Slots past n are the sender's leftovers: not part of the move. */
        memset(e->mv.cards + mv->n, 0, RULES_MAX_MOVE - mv->n);
    }
    for (unsigned i = 0; i < out->n_draws; i++) {
        if (out->draws[i].seat != v->seat)
            continue;
        e = push(v, BOT_EV_DRAW, hand);
        e->n_cards = 1;
        e->cards[0] = out->draws[i].card;
        e->next = (uint8_t)r->to_move(state, NULL);
    }
    if (out->is_refill) {
        e = push(v, BOT_EV_REFILL, hand);
        e->n_cards = (uint8_t)r->hand(state, v->seat, e->cards);
        e->next = (uint8_t)r->to_move(state, NULL);
    }
    if (out->is_pass_done) {
        e = push(v, BOT_EV_RECEIVED, hand);
        e->n_cards = (uint8_t)r->received(state, v->seat, e->cards);
        e->next = (uint8_t)r->to_move(state, NULL);
    }
}

uint64_t bot_view_seen(const struct bot_view *v)
{
    uint64_t seen = 0;

    for (unsigned i = 0; i < v->n_events; i++) {
        const struct bot_event *e = &v->events[i];
        for (unsigned k = 0; k < e->n_cards; k++)
            seen |= bit(e->cards[k]);
        if (e->kind == BOT_EV_DEAL) {
            if (e->trump != CARD_NONE)
                seen |= bit(e->trump);
            for (unsigned k = 0; k < e->n_table; k++)
                seen |= bit(e->table[k]);
        }
        if (e->kind == BOT_EV_MOVE && !e->is_hidden)
            for (unsigned k = 0; k < e->mv.n; k++)
                seen |= bit(e->mv.cards[k]);
    }
    return seen;
}

int bot_view_replay(struct bot_view *v, bot_deck_fn deck_fn, void *ctx,
                    const struct bot_logged_move *moves, unsigned n)
{
    const struct rules *r = v->rules;
    void *state = mem_calloc(1, r->state_size);
    card_t deck[RULES_MAX_DECK];
    unsigned hand = 1;
    int rc = 0;

    assert(v->n_events == 0);
    r->init(state, v->n_seats);
    deck_fn(ctx, hand, deck);
    r->deal(state, hand, deck);
    bot_view_deal(v, state, hand);
    for (unsigned i = 0; i < n; i++) {
        struct rules_move mv = moves[i].mv;
        struct rules_outcome out;
        if (r->check(state, moves[i].seat, &mv, NULL, 0) != RULES_OK) {
            rc = -1;
            break;
        }
        r->apply(state, moves[i].seat, &mv, &out);
        bot_view_move(v, state, moves[i].seat, &mv, &out);
        if (out.is_hand_over && !out.is_over) {
            hand++;
            deck_fn(ctx, hand, deck);
            r->deal(state, hand, deck);
            bot_view_deal(v, state, hand);
        }
    }
    free(state);
    return rc;
}
