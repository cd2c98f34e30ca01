/*
 * bot_view: what one seat has seen of a match, and nothing more: the
 * input of a bot (src/bot/). The engine builds it as the match goes, by
 * calling bot_view_deal after each rules->deal and bot_view_move after
 * each rules->apply; both read the full state, but only through the
 * rules' public views (trump, table) and this seat's private ones (hand,
 * received), and copy nothing else. So two full states that this seat
 * cannot tell apart give byte-identical views (bot_view_equal), and a bot
 * that reads only its view cannot cheat.
 *
 * A view is a list of events in the order the seat saw them:
 *   DEAL      hand h begins: the seat's own cards as dealt, the trump
 *             card (briscola) and the table (scopa), both public;
 *   MOVE      a seat's move, completed by check() as the engine echoes
 *             it; another seat's PASS (hearts) is hidden: its cards are
 *             not recorded, only that it passed (PROTOCOL §12 PASSED);
 *   DRAW      briscola: the card this seat drew after a trick (§4 DRAW);
 *   REFILL    scopa: this seat's three new cards (§12 HAND);
 *   RECEIVED  hearts: the three cards passed to this seat.
 * Each event also records whose move is due after it (the to_move mask,
 * public through TURN and PASSING). The public history (who moved what,
 * in order, the deals, whose turn) is the same in every seat's view; the
 * private events differ.
 *
 * Owner: whoever called bot_view_init (the engine for each bot seat);
 * bot_view_copy makes an independent copy for a worker thread.
 */
#ifndef TAVOLO_GAME_BOT_VIEW_H
#define TAVOLO_GAME_BOT_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "game/rules.h"

enum bot_event_kind {
    BOT_EV_DEAL = 0,
    BOT_EV_MOVE,
    BOT_EV_DRAW,
    BOT_EV_REFILL,
    BOT_EV_RECEIVED,
};

struct bot_event {
    uint8_t kind;      /* enum bot_event_kind */
    uint8_t seat;      /* MOVE: the seat that moved */
    uint8_t is_hidden; /* MOVE: 1 for another seat's PASS (mv.n is 0), else 0 */
    uint8_t n_cards;   /* DEAL, DRAW, REFILL, RECEIVED: cards[0..n_cards) */
    uint8_t next;      /* rules->to_move after the event: public (TURN) */
    uint16_t hand;     /* the hand number (from 1) the event belongs to */
    card_t trump;      /* DEAL: the trump card, CARD_NONE if none */
    uint8_t n_table;   /* DEAL: the table as dealt */
    card_t table[4];
    card_t cards[RULES_MAX_HAND]; /* this seat's own cards */
    struct rules_move mv;         /* MOVE */
};

struct bot_view {
    const struct rules *rules;
    unsigned n_seats;
    unsigned seat;
    unsigned n_events, cap_events;
    struct bot_event *events; /* owned */
};

/* An empty view of seat (< n_seats) at a match of r. */
void bot_view_init(struct bot_view *v, const struct rules *r, unsigned n_seats,
                   unsigned seat);
/* Frees the events; the view may be initialised again. */
void bot_view_free(struct bot_view *v);
/* dst (uninitialised) becomes an independent copy of src. */
void bot_view_copy(struct bot_view *dst, const struct bot_view *src);
/* Same game, seats, seat and events, byte for byte. */
bool bot_view_equal(const struct bot_view *a, const struct bot_view *b);

/* After rules->deal(state, hand, ...): records the DEAL. */
void bot_view_deal(struct bot_view *v, const void *state, unsigned hand);
/* After rules->apply(state, seat, mv, out): records the MOVE and what of
 * out this seat sees (its DRAW, REFILL, RECEIVED). mv is the move as
 * check() completed it. */
void bot_view_move(struct bot_view *v, const void *state, unsigned seat,
                   const struct rules_move *mv,
                   const struct rules_outcome *out);

/* The hand number of the last DEAL; 0 before any. */
unsigned bot_view_hand(const struct bot_view *v);
/* Index of the last DEAL event (the current hand's first); n_events if
 * none. */
unsigned bot_view_hand_start(const struct bot_view *v);

/* A match's moves, as the engine keeps them (the move as check()
 * completed it). */
struct bot_logged_move {
    uint8_t seat;
    struct rules_move mv;
};

/* Writes hand `hand`'s deck (rules->deck_size cards), e.g. deal.c's
 * shuffle from the match's key. */
typedef void (*bot_deck_fn)(void *ctx, unsigned hand, card_t *deck);

/* Builds seat's view of a match from scratch: init, each hand dealt from
 * deck_fn, moves[0..n) applied in order, recording what the seat sees,
 * exactly as bot_view_deal and bot_view_move would have as it went.
 * For a seat a bot takes over mid-match (--away-bot, --abandon bot) or
 * a match restored from the journal. v must be initialised and empty.
 * Returns 0, or -1 if a move is refused (the log does not fit the
 * decks; v then holds the events up to it). */
int bot_view_replay(struct bot_view *v, bot_deck_fn deck_fn, void *ctx,
                    const struct bot_logged_move *moves, unsigned n);

/* Every card this seat has seen anywhere, as a mask (bit c for card c):
 * its own, every card played or captured in a move it saw, the tables
 * and trumps, the cards it drew or received. */
uint64_t bot_view_seen(const struct bot_view *v);

#endif
