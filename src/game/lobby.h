/*
 * lobby: names, resume tokens, the match registry, and the commands of
 * PROTOCOL §3 that act on them.
 *
 * The lobby knows clients only as opaque pointers: events leave through
 * env.send, and time comes in as now_ms arguments, so it never sees a
 * socket or a clock. Every command function returns LOBBY_OK or the
 * protocol error to reply with; it may already have sent events (to the
 * calling client too): the caller makes sure its reply goes out first
 * (PROTOCOL §2).
 *
 * Owns: members (one per client, and those held for a dropped player
 * during the grace period) and matches; a match borrows its members.
 */
#ifndef TAVOLO_GAME_LOBBY_H
#define TAVOLO_GAME_LOBBY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "game/bot_view.h"
#include "game/card.h"
#include "game/rules.h"

enum lobby_code {
    LOBBY_OK = 0,
    LOBBY_BADARG,
    LOBBY_BADNAME,
    LOBBY_NAMETAKEN,
    LOBBY_NOGAME,
    LOBBY_NOMATCH,
    LOBBY_FULL,
    LOBBY_ALREADY,
    LOBBY_NOTPLAYING,
    LOBBY_NOTYOURTURN,
    LOBBY_NOTINHAND,
    LOBBY_BADTOKEN,
    LOBBY_ILLEGAL,     /* in hand, but the rules forbid it now (§12) */
    LOBBY_UNAVAILABLE, /* a store or peer the server needs is unreachable (§11) */
};

/* "BADARG" etc., and a short human explanation. */
const char *lobby_code_name(enum lobby_code code);
const char *lobby_code_text(enum lobby_code code);

#define LOBBY_NAME_MAX 16
#define LOBBY_TOKEN_LEN 32
#define LOBBY_SECRET_LEN 32 /* deal.h's DEAL_SECRET_LEN */
#define LOBBY_SEED_MAX 64   /* hex digits (PROTOCOL §13) */

/* A durable fact about a match, for the journal (env.journal). Pointers
 * are valid during the call only. */
enum lobby_journal_kind {
    LOBBY_J_START = 0, /* started: game, seats (names, tokens, seeds), the secret */
    LOBBY_J_MOVE,      /* seq-th move accepted: seat, the full move, is_timeout */
    LOBBY_J_TOKEN,     /* seat's resume token changed: tokens[seat] */
    LOBBY_J_END,       /* over: result, reason, points, the event log */
    LOBBY_J_REPLACED,  /* a bot took seat (--abandon bot): bots[seat] */
};

struct lobby_journal {
    enum lobby_journal_kind kind;
    uint64_t match_id;
    const char *game;
    unsigned n_seats;
    const char *names[4];
    const char *tokens[4];
    bool is_registered[4];
    /* START: every deck follows from the secret and the seeds (PROTOCOL
     * §13). draws: only in records of version 1 (a briscola deal made
     * with recorded random draws), replayed by lobby_restore; NULL in
     * new records. */
    const uint8_t *secret;          /* LOBBY_SECRET_LEN bytes */
    const char *seeds[4];           /* lowercase hex, "" for none */
    unsigned sides[4];              /* START: rules->side_of each seat */
    /* START, REPLACED: a server bot plays the seat (bot.h's level + 1;
     * 0 a person); START of a restore: replaced[s], a bot took the seat
     * from names[s], who has the match as lost. */
    uint8_t bots[4];
    const uint32_t *draws;
    unsigned n_draws;
    unsigned seq, seat;
    struct rules_move move;         /* MOVE: kind and cards, as completed by check */
    bool is_timeout;
    bool is_teams;      /* END: the result names a team (else a seat) */
    const char *result; /* team0, team1, draw, seat<k> */
    const char *reason; /* score, forfeit */
    int loser;          /* END: the seat that forfeited, -1 for none */
    unsigned points[4];
    const char *log;    /* every event line of the match, private ones as
                           "@<seat> <line>", one per line */
    bool is_unrated;    /* END: a bot held a seat (PROTOCOL §14) */
    bool replaced[4];   /* END, restore: the seat's player was replaced by a bot */
};

/* A match to rebuild after a restart (lobby_restore): its journal, the
 * LOBBY_J_START record (with the latest tokens) and the cards in order. */
struct lobby_move {
    unsigned seat;
    struct rules_move move;
    bool is_timeout;
};

struct lobby_restore {
    struct lobby_journal start;
    const struct lobby_move *moves;
    unsigned n_moves;
};

struct lobby_env {
    void *ctx;
    /* One event line, without terminator, for one client. */
    void (*send)(void *ctx, void *client, const char *line, size_t len);
    /* The client's identity was resumed on another connection: close it.
     * It is already detached from the lobby. */
    void (*evict)(void *ctx, void *client);
    /* The lobby now has a deadline at deadline_ms: call lobby_tick then. */
    void (*arm)(void *ctx, uint64_t deadline_ms);
    /* Optional: a durable fact to journal. Events sent during the same
     * lobby call must not reach clients before it is on disk. */
    void (*journal)(void *ctx, const struct lobby_journal *j);
    /* Fills a match's secret (PROTOCOL §13) from the system's random
     * source; tests inject their own. */
    void (*new_secret)(void *ctx, uint8_t out[LOBBY_SECRET_LEN]);
    /* Fills 32 hex digits + NUL for a fresh resume token. */
    void (*new_token)(void *ctx, char out[LOBBY_TOKEN_LEN + 1]);
    uint32_t turn_ms, grace_ms;
    /* Against lobby spam (docs/PROTOCOL.md §10, "Matches"): a waiting
     * match is deleted waiting_ms after its creation (0: never), and one
     * address key (lobby_member_set_key) may have created at most
     * max_waiting_per_key matches that are still waiting (0: no cap). */
    uint32_t waiting_ms, max_waiting_per_key;
    /* PROTOCOL §14 (optional: NULL, no bots). A bot must choose seat's
     * move in match_id, as generation gen: build its view
     * (lobby_bot_view), think, and answer with lobby_bot_move, after
     * delay_ms at the earliest. level: bot.h's enum bot_level. */
    void (*bot_due)(void *ctx, uint64_t match_id, unsigned seat,
                    unsigned level, uint64_t gen, uint32_t delay_ms);
    uint32_t bot_delay_ms;
    uint8_t away_bot;     /* --away-bot: level + 1; 0 off */
    bool is_abandon_bot;  /* --abandon bot */
    uint32_t max_watchers; /* spectators per match, then FULL; 0: no limit */
    /* Optional, for a cluster's shared directory (docs/CLUSTER.md): a
     * name is now held here (NICK, RESUME, restore, adoption) or freed;
     * a resume token now valid here or dead; a match's LIST item changed
     * (item NULL: the match is gone). None of them may call the lobby. */
    void (*on_name)(void *ctx, const char *name, bool is_held);
    void (*on_token)(void *ctx, const char *token, bool is_valid);
    void (*on_listed)(void *ctx, uint64_t id, const char *item);
    /* Optional: a new match's id, or 0 for the lobby's own counter. */
    uint64_t (*new_id)(void *ctx);
};

struct lobby;
struct member;

struct lobby *lobby_new(const struct lobby_env *env);
/* Frees everything; clients are not told. */
void lobby_free(struct lobby *l);

/* A new client's (anonymous) member. */
struct member *lobby_member_new(struct lobby *l, void *client);
/* The client's connection ended: seated in play -> AWAY and the grace
 * period; otherwise unseated/unwatched and the name freed at once. */
void lobby_member_gone(struct lobby *l, struct member *m, uint64_t now_ms);

const char *lobby_member_name(const struct member *m); /* NULL: no NICK */

/* The client's address key: an opaque string (the session's peer address)
 * that CREATE's per-address cap counts by; at most LOBBY_KEY_MAX bytes
 * are kept. "" (the default) is never capped. RESUME carries the new
 * connection's key over to the resumed member. */
#define LOBBY_KEY_MAX 47
void lobby_member_set_key(struct member *m, const char *key);

/* NICK: BADNAME, NAMETAKEN or ALREADY; on success token holds the
 * member's resume token. is_registered marks a name whose password was
 * checked (it gets a rating). */
enum lobby_code lobby_nick(struct lobby *l, struct member *m, const char *name,
                           size_t len, bool is_registered,
                           char token[LOBBY_TOKEN_LEN + 1]);

/* The checks NICK makes before taking a name, without taking it:
 * ALREADY, BADNAME, NAMETAKEN or OK. */
enum lobby_code lobby_nick_check(struct lobby *l, const struct member *m,
                                 const char *name, size_t len);

/* A member's identity, to move it to another node (docs/CLUSTER.md):
 * name "" for an anonymous one. */
struct lobby_identity {
    char name[LOBBY_NAME_MAX + 1];
    char token[LOBBY_TOKEN_LEN + 1];
    char seed[LOBBY_SEED_MAX + 1];
    char key[LOBBY_KEY_MAX + 1];
    bool is_registered;
};
void lobby_member_identity(const struct member *m, struct lobby_identity *out);
/* Gives a new member (no name yet) the identity of one that moved here
 * from another node: its name, token, seed and key. NAMETAKEN if this
 * lobby has the name or the token already, BADNAME/BADTOKEN if malformed. */
enum lobby_code lobby_adopt(struct lobby *l, struct member *m,
                            const struct lobby_identity *id);

/* RESUME: on success *m is the resumed member (the old *m is freed),
 * new_token its fresh token, *match_id its match or 0; the snapshot has
 * been sent to client and BACK to the match. BADTOKEN or ALREADY. */
enum lobby_code lobby_resume(struct lobby *l, struct member **m, void *client,
                             const char *token, size_t len, uint64_t now_ms,
                             char new_token[LOBBY_TOKEN_LEN + 1],
                             uint64_t *match_id);

/* GAMES / LIST: the reply's results, after the verb, NUL-terminated. */
void lobby_games(char *out, size_t cap);
void lobby_list(struct lobby *l, char *out, size_t cap);

/* CREATE: NOGAME, BADARG (seat count), ALREADY, then FULL when the
 * member's address key has max_waiting_per_key waiting matches. */
enum lobby_code lobby_create(struct lobby *l, struct member *m,
                             const char *game, size_t game_len,
                             unsigned n_seats, uint64_t now_ms, uint64_t *id);
enum lobby_code lobby_join(struct lobby *l, struct member *m, uint64_t id,
                           uint64_t now_ms, unsigned *seat);
/* JOIN of the match m is watching stops watching and takes the seat
 * (PROTOCOL §11). */
enum lobby_code lobby_watch(struct lobby *l, struct member *m, uint64_t id,
                            uint64_t now_ms);
/* PLAY or PASS (mv->kind), with the cards as parsed: NOTPLAYING (not
 * seated at a match in play), then the rules' verdict: NOTYOURTURN,
 * ALREADY, NOTINHAND, ILLEGAL, BADARG (why, if not NULL, gets the rules'
 * reason, NUL-terminated). On OK mv holds the move as completed by the
 * rules (scopa fills in a lone capture), for the reply. */
enum lobby_code lobby_move(struct lobby *l, struct member *m,
                           struct rules_move *mv, char *why, size_t why_cap,
                           uint64_t now_ms);
/* SEED: 1 to 64 hex digits of either case (BADARG otherwise); the
 * member's seed becomes their lowercase form, also written to out. */
enum lobby_code lobby_seed(struct lobby *l, struct member *m, const char *hex,
                           size_t len, char out[LOBBY_SEED_MAX + 1]);
enum lobby_code lobby_say(struct lobby *l, struct member *m, const char *text,
                          size_t len);
enum lobby_code lobby_leave(struct lobby *l, struct member *m, uint64_t now_ms,
                            uint64_t *id);

/* BOT [level] (PROTOCOL §14): NOTPLAYING (not seated at a waiting
 * match), FULL; on OK *seat and name (the bot's, "~<level><seat>"). */
enum lobby_code lobby_add_bot(struct lobby *l, struct member *m,
                              unsigned level, uint64_t now_ms, unsigned *seat,
                              char name[LOBBY_NAME_MAX + 1]);
/* A bot's answer (env.bot_due): applied if match_id is still in play and
 * the seat still waits for generation gen, else dropped. rc != 0 or a
 * move the rules refuse: the rules' auto-move instead. */
void lobby_bot_move(struct lobby *l, uint64_t match_id, unsigned seat,
                    uint64_t gen, int rc, const struct rules_move *mv,
                    uint64_t now_ms);
/* The view a bot of match_id's seat plays from: 0, or -1 (no such match
 * in play). v is initialised here; the caller frees it. */
int lobby_bot_view(struct lobby *l, uint64_t match_id, unsigned seat,
                   struct bot_view *v);
/* Quick play: a match of r for members[0..n) in that order, the other
 * seats to normal bots; every member must be free (not at a match, not
 * watching). Returns the match id. */
uint64_t lobby_quick_match(struct lobby *l, const struct rules *r,
                           unsigned n_seats, struct member **members,
                           unsigned n, uint64_t now_ms);
/* A match of bots alone, every seat of level (bot.h's enum), started at
 * once: --bench-bot-matches (docs/BOTS.md, "Load"), never a client's
 * doing. Returns the match id. */
uint64_t lobby_bot_match(struct lobby *l, const struct rules *r,
                         unsigned n_seats, unsigned level, uint64_t now_ms);
/* Is match id waiting or in play? */
bool lobby_has_match(struct lobby *l, uint64_t id);
/* True if m is seated or watching (CREATE/JOIN/... would be ALREADY). */
bool lobby_is_busy(const struct member *m);
/* A registered member's flag, for the rating window (§14). */
bool lobby_member_is_registered(const struct member *m);

/* Rebuilds a match that was in play when the server stopped: every
 * person's seat is held for a dropped player (grace period from now_ms),
 * a bot's seat (start.bots, start.replaced) has its bot again and plays
 * on, the turn clock starts afresh. Returns 0, or -1 if the record does
 * not replay. */
int lobby_restore(struct lobby *l, const struct lobby_restore *r,
                  uint64_t now_ms);

/* Match ids continue after the highest one recorded. */
void lobby_set_last_id(struct lobby *l, uint64_t id);

/* Runs every deadline due at now_ms (turn clocks, grace periods, waiting
 * matches' expiry). */
void lobby_tick(struct lobby *l, uint64_t now_ms);
/* The earliest pending deadline, or UINT64_MAX. */
uint64_t lobby_next_deadline(struct lobby *l);

/* Counts for LIST-like summaries and metrics. */
void lobby_counts(const struct lobby *l, size_t *n_waiting, size_t *n_playing,
                  uint64_t *n_finished);

#endif
