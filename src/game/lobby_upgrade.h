/*
 * lobby_upgrade: the lobby's side of a zero-downtime upgrade
 * (docs/OPERATIONS.md, "Upgrading without downtime"): what a member and
 * a match are, as plain values, and how a new process takes them back
 * without a single event line — its clients must not notice.
 *
 * Matches in play come back from the journal (lobby_restore, exactly as
 * after a restart, every seat away); lobby_adopt_member then puts each
 * connected player back on its seat and lobby_adopt_clocks gives the
 * turn and the grace periods what they had left. Waiting matches are
 * not journaled: lobby_adopt_waiting rebuilds them whole (id, secret,
 * bots, expiry), and their players sit down again through
 * lobby_adopt_member. Time is the caller's (now_ms), as everywhere in
 * the game layer.
 */
#ifndef TAVOLO_GAME_LOBBY_UPGRADE_H
#define TAVOLO_GAME_LOBBY_UPGRADE_H

#include <stdbool.h>
#include <stdint.h>

#include "game/lobby.h"

struct member;

struct lobby_member_state {
    bool is_registered;
    char name[LOBBY_NAME_MAX + 1];   /* "" before NICK */
    char token[LOBBY_TOKEN_LEN + 1]; /* "" before NICK */
    char seed[LOBBY_SEED_MAX + 1];
    char key[LOBBY_KEY_MAX + 1];
    uint64_t match_id;               /* seated here, or 0 */
    unsigned seat;
    uint64_t watch_id;               /* watching this, or 0 */
};

#define LOBBY_NO_DEADLINE UINT64_MAX

struct lobby_match_state {
    uint64_t id;
    bool is_playing;
    unsigned n_seats;
    /* playing: absolute deadlines on the caller's clock */
    uint64_t turn_deadline_ms;
    uint64_t grace_deadline_ms[4];   /* an away seat's; else LOBBY_NO_DEADLINE */
    /* waiting: */
    char game[16];
    uint8_t secret[LOBBY_SECRET_LEN];
    uint64_t wait_deadline_ms;
    char owner_key[LOBBY_KEY_MAX + 1];
    uint8_t bot[4];                  /* a bot's level + 1, or 0 */
};

/* The old side: a member's state (m must be connected). */
void lobby_member_export(const struct member *m, struct lobby_member_state *st);

/* The old side: every match, oldest first. */
void lobby_each_match(struct lobby *l,
                      void (*fn)(void *ctx, const struct lobby_match_state *m),
                      void *ctx);

/* The new side, first: a waiting match as it was (no seat taken yet; the
 * players come with lobby_adopt_member). Returns 0, or -1 (unknown game,
 * bad seat count, or the id is in use). */
int lobby_adopt_waiting(struct lobby *l, const struct lobby_match_state *m);

/* Then every connected member of client: a new anonymous member if st
 * has no name; else its name and token, seated (at a restored match in
 * play: the away seat whose token is st->token comes back silently; at
 * a waiting match: the seat is taken again, silently) or watching.
 * Returns the member (owned by the lobby, as lobby_member_new's), or
 * NULL if st contradicts the lobby (the name or token is taken by
 * someone else, the seat or match is unknown): the caller closes that
 * connection. */
struct member *lobby_adopt_member(struct lobby *l, void *client,
                                  const struct lobby_member_state *st);

/* Last: the clocks of the matches (turn, grace, expiry), as the old
 * process had them; one call with every match, so that the deadline
 * queues stay in order. Unknown ids are skipped. */
void lobby_adopt_clocks(struct lobby *l, const struct lobby_match_state *ms,
                        unsigned n);

#endif
