/*
 * match: one match's seats, spectators, turn clock, grace periods and
 * event fan-out, over the rules of its game (rules.h). Internal to the
 * game layer: the lobby owns matches and calls these; clients never do.
 *
 * The arrow points one way: lobby.c calls the match, and the match calls
 * nothing of lobby.c; it reaches the outside only through the lobby's
 * env (send, arm, journal, new_secret), whose struct is defined here.
 *
 * Phases: waiting (seats filling) -> playing -> over. "Over" is not a
 * state that lingers: match_end sends END, frees every member from the
 * match and frees the match itself (PROTOCOL §3: after END it is gone).
 */
#ifndef TAVOLO_GAME_MATCH_H
#define TAVOLO_GAME_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/dqueue.h"
#include "base/strmap.h"
#include "game/bot_view.h"
#include "game/deal.h"
#include "game/evlog.h"
#include "game/lobby.h"
#include "game/rules.h"

struct match;

/* The waiting matches created from one address key (lobby_create's cap);
 * in lobby->owners while n_waiting > 0. */
struct lobby_owner {
    unsigned n_waiting;
    char key[LOBBY_KEY_MAX + 1];
};

struct seat {
    struct member *m;   /* NULL: free, or a bot's (bot != 0) */
    char name[LOBBY_NAME_MAX + 1];
    bool is_away;
    /* PROTOCOL §14: a server bot plays this seat (level + 1; 0: none). */
    uint8_t bot;
    /* A bot (the seat's own, or --away-bot's) is thinking about this
     * seat's move; its answer counts only with this generation. */
    bool is_thinking;
    uint64_t bot_gen;
    struct dq_node grace; /* linked in lobby->grace_q while away */
    struct match *match;
    unsigned index;
};

enum match_phase {
    MATCH_WAITING = 0,
    MATCH_PLAYING,
};

struct match {
    uint64_t id;
    char id_key[24];    /* decimal id: the key in lobby->matches */
    const struct rules *rules;
    unsigned n_seats, n_seated;
    enum match_phase phase;
    struct seat seats[RULES_MAX_SEATS];
    struct member **watchers;
    size_t n_watchers, cap_watchers;
    struct dq_node turn; /* linked in lobby->turn_q while playing */
    struct dq_node waiting; /* linked in lobby->wait_q while waiting */
    struct lobby_owner *owner; /* the creator's address, while waiting */
    struct match *prev, *next; /* lobby's list, by id */
    uint64_t started_ms;
    unsigned n_moves;   /* moves accepted: the journal's sequence */
    /* PROTOCOL §13: the secret drawn at creation, its commitment, the
     * seeds fixed at START and the key they make. */
    uint8_t secret[DEAL_SECRET_LEN];
    char commit[DEAL_HEX_LEN + 1];
    /* NULL when no seat has a seed (most matches): 260 bytes less */
    char (*seeds)[DEAL_SEED_MAX + 1];
    uint8_t key[DEAL_KEY_LEN];
    /* false only for a match restored from a version-1 record, dealt
     * from recorded random draws: no COMMIT, no REVEAL (nothing to prove) */
    bool is_verifiable;
    /* What a bot's view is rebuilt from (bot_view_replay): each hand's
     * deck as dealt and every move as completed by the rules. */
    card_t (*decks)[RULES_MAX_DECK];
    unsigned n_decks;
    /* every move, packed (match.c, log_move): 2 + n bytes a move */
    uint8_t *moves;
    unsigned n_logged, moves_len, moves_cap;
    bool had_bot;       /* a bot held a seat: unrated (PROTOCOL §14) */
    bool replaced[RULES_MAX_SEATS]; /* handed to a bot (--abandon bot) */
    char replaced_name[RULES_MAX_SEATS][LOBBY_NAME_MAX + 1];
    struct evlog log;   /* every event line, for the record (lobby.h) */
    void *state;        /* rules->state_size bytes */
};

/* A client's identity. While its connection is gone (away), client is
 * NULL and the member lives on only through its seat. */
struct member {
    void *client;
    bool is_registered;
    char name[LOBBY_NAME_MAX + 1];  /* "" until NICK */
    char token[LOBBY_TOKEN_LEN + 1];
    struct match *match;            /* seated here, or NULL */
    unsigned seat;
    struct match *watching;         /* watching this, or NULL */
    char seed[DEAL_SEED_MAX + 1];   /* SEED, lowercase; "" for none (§13) */
    char key[LOBBY_KEY_MAX + 1];    /* address key; "" for none */
};

struct lobby {
    struct lobby_env env;
    struct strmap names;    /* name -> member */
    struct strmap tokens;   /* token -> member */
    struct strmap matches;  /* id_key -> match */
    struct match *first, *last;
    size_t n_waiting, n_playing;
    uint64_t n_finished;
    uint64_t next_id;
    struct dqueue turn_q, grace_q, wait_q;
    struct strmap owners;   /* address key -> lobby_owner */
    bool is_replaying;  /* restoring: journal nothing */
};

/* A waiting match with a fresh secret (env.new_secret). */
struct match *match_new(struct lobby *l, const struct rules *r,
                        unsigned n_seats);
/* The match's LIST item changed: tells env.on_listed, if any. */
void match_listed(struct lobby *l, struct match *mt);
/* Unlinks and frees a match; its members must already be released. */
void match_free(struct lobby *l, struct match *mt);
/* Seats m in the lowest free seat, announces it, starts when full.
 * Returns the seat. The match must be waiting with a free seat. */
unsigned match_seat(struct lobby *l, struct match *mt, struct member *m,
                    uint64_t now_ms);
/* Frees a waiting match's seat and announces it; frees an empty match. */
void match_unseat(struct lobby *l, struct match *mt, unsigned seat);
/* A waiting match's time is up: an UNSEATED line per taken seat, in seat
 * order, to every seated player and spectator; then all are released and
 * the match is freed. */
void match_expire(struct lobby *l, struct match *mt);
void match_add_watcher(struct lobby *l, struct match *mt, struct member *m,
                       uint64_t now_ms);
void match_remove_watcher(struct match *mt, struct member *m);
/* A move by seat: the rules' verdict as a lobby code (LOBBY_OK once
 * applied and announced; mv completed by the rules). why: see
 * lobby_move. */
enum lobby_code match_move(struct lobby *l, struct match *mt, unsigned seat,
                           struct rules_move *mv, bool is_timeout,
                           char *why, size_t why_cap, uint64_t now_ms);
/* Starts: fixes the seeds (the seated members' own, or seeds if not
 * NULL, on restore), journals START and deals hand 1. draws (if not
 * NULL) replays a version-1 record's deal of hand 1 instead of the
 * secret's (lobby.h, LOBBY_J_START). */
void match_start(struct lobby *l, struct match *mt, uint64_t now_ms,
                 const char *const *seeds, const uint32_t *draws,
                 unsigned n_draws);
/* The seat's side loses by forfeit; the seat's own member (if leaving)
 * is detached first so that it hears nothing more. */
void match_forfeit(struct lobby *l, struct match *mt, unsigned seat,
                   uint64_t now_ms);
void match_away(struct lobby *l, struct match *mt, unsigned seat,
                uint64_t now_ms);
/* A dropped seat's member is back on a new client: snapshot to it,
 * BACK to the others. */
void match_back(struct lobby *l, struct match *mt, unsigned seat,
                uint64_t now_ms);
/* A SEATED line per taken seat, then the match's COMMIT, to one member. */
void match_send_seated(struct lobby *l, struct match *mt, struct member *to);
void match_turn_expired(struct lobby *l, struct match *mt, uint64_t now_ms);
void match_chat(struct lobby *l, struct match *mt, const char *name,
                const char *text, size_t len);

/* PROTOCOL §14. Seats a bot of level (bot.h's enum + 1) in the lowest
 * free seat of a waiting match with one: SEATED to the match, and the
 * start when that fills it. Returns the seat. */
unsigned match_seat_bot(struct lobby *l, struct match *mt, unsigned level,
                        uint64_t now_ms);
/* Seats members[0..n) in seats 0, 1, ... of a fresh waiting match, then
 * bots of level in the rest (n_bots), then gives each member, as after a
 * JOIN, a SEATED line per seat and COMMIT; START follows (quick play). */
void match_seat_all(struct lobby *l, struct match *mt, struct member **members,
                    unsigned n, unsigned n_bots, unsigned level,
                    uint64_t now_ms);
/* Asks the env for a bot move for every seat that owes one and has a
 * bot (its own, or --away-bot's for an away seat), unless asked already. */
void match_ask_bots(struct lobby *l, struct match *mt);
/* lobby_restore: seat's bot of level (bot.h's enum) again, before
 * match_start, without a SEATED line; replaced_name: the player it
 * replaced (--abandon bot), or NULL. */
void match_restore_bot(struct match *mt, unsigned seat, unsigned level,
                       const char *replaced_name);
/* Seat's view, rebuilt from the match's decks and moves: 0 or -1. */
int match_bot_view(const struct match *mt, unsigned seat, struct bot_view *v);
/* The grace period of an away seat ran out with --abandon bot: a normal
 * bot takes it (REPLACED), the player is freed of the match. */
void match_replace(struct lobby *l, struct match *mt, unsigned seat,
                   uint64_t now_ms);

/* Frees a member that nobody holds any more, and its name and token. */
void match_forget_member(struct lobby *l, struct member *m);

#endif
