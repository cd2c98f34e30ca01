/*
 * verbs_match: the game verbs of the line protocol (PROTOCOL §3, §11-§13):
 * GAMES LIST CREATE JOIN WATCH PLAY PASS SAY LEAVE SEED RESUME. Each
 * checks its arguments, calls the lobby, and replies; the events a verb
 * causes go out after its reply through the outbox capture session.c
 * opens around it (PROTOCOL §2). No state of its own.
 */
#include "app/session_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/relay.h"
#include "app/server.h"
#include "base/log.h"
#include "game/lobby.h"
#include "net/conn.h"
#include "proto/cmd.h"

/* A match id: 1 to 19 decimal digits. */
static bool parse_id(struct cmd_word w, uint64_t *out)
{
    uint64_t v = 0;

    if (w.len == 0 || w.len > 19)
        return false;
    for (size_t i = 0; i < w.len; i++) {
        if (w.s[i] < '0' || w.s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(w.s[i] - '0');
    }
    *out = v;
    return true;
}

void verb_games(struct session *s, const struct cmd *c)
{
    char list[512];

    if (c->n_args != 0) {
        session_reply_err(s, "BADARG", "usage: GAMES");
        return;
    }
    lobby_games(list, sizeof list);
    session_reply(s, "OK GAMES %s", list);
}

void verb_list(struct session *s, const struct cmd *c)
{
    char list[OUT_LINE_CAP - 16];

    if (c->n_args != 0) {
        session_reply_err(s, "BADARG", "usage: LIST");
        return;
    }
    if (s->srv->cluster != NULL) { /* the cluster's directory */
        relay_list(s);
        return;
    }
    lobby_list(s->srv->lobby, list, sizeof list);
    session_reply(s, "OK LIST %s", list);
}

void verb_create(struct session *s, const struct cmd *c)
{
    uint64_t seats = 0, id;

    if (quick_is_queued(s)) { /* PROTOCOL §14 */
        session_reply_code(s, LOBBY_ALREADY);
        return;
    }

    if (c->n_args < 1 || c->n_args > 2 ||
        (c->n_args == 2 && (!parse_id(c->args[1], &seats) || seats == 0 ||
                            seats > 64))) {
        session_reply_err(s, "BADARG", "usage: CREATE <game> [seats]");
        return;
    }
    const char *why;
    if (!relay_can_create(s->srv, &why)) {
        session_reply_err(s, "UNAVAILABLE", why);
        return;
    }
    enum lobby_code rc = lobby_create(s->srv->lobby, s->member, c->args[0].s,
                                      c->args[0].len, (unsigned)seats,
                                      uv_now(s->srv->loop), &id);
    if (rc == LOBBY_BADARG)
        session_reply_err(s, "BADARG", "unsupported number of seats for that game");
    else if (rc == LOBBY_FULL) /* the per-address cap (PROTOCOL §10) */
        session_reply_err(s, "FULL", "too many waiting matches from your address");
    else if (rc != LOBBY_OK)
        session_reply_code(s, rc);
    else
        session_reply(s, "OK CREATE %" PRIu64, id);
}

void verb_join(struct session *s, const struct cmd *c)
{
    uint64_t id;
    unsigned seat;

    if (quick_is_queued(s)) { /* PROTOCOL §14 */
        session_reply_code(s, LOBBY_ALREADY);
        return;
    }

    if (c->n_args != 1 || !parse_id(c->args[0], &id)) {
        session_reply_err(s, "BADARG", "usage: JOIN <match-id>");
        return;
    }
    enum lobby_code rc = lobby_join(s->srv->lobby, s->member, id,
                                    uv_now(s->srv->loop), &seat);
    if (rc == LOBBY_NOMATCH && s->srv->cluster != NULL) {
        /* it may run on another node (app/relay.h) */
        relay_find_match(s, id, s->srv->cur_line, s->srv->cur_len);
        return;
    }
    if (rc != LOBBY_OK)
        session_reply_code(s, rc);
    else
        session_reply(s, "OK JOIN %" PRIu64 " %u", id, seat);
}

void verb_watch(struct session *s, const struct cmd *c)
{
    uint64_t id;

    if (quick_is_queued(s)) { /* PROTOCOL §14 */
        session_reply_code(s, LOBBY_ALREADY);
        return;
    }

    if (c->n_args != 1 || !parse_id(c->args[0], &id)) {
        session_reply_err(s, "BADARG", "usage: WATCH <match-id>");
        return;
    }
    enum lobby_code rc = lobby_watch(s->srv->lobby, s->member, id,
                                     uv_now(s->srv->loop));
    if (rc == LOBBY_NOMATCH && s->srv->cluster != NULL) {
        relay_find_match(s, id, s->srv->cur_line, s->srv->cur_len);
        return;
    }
    if (rc == LOBBY_FULL)
        session_reply_err(s, "FULL", "the match has its most spectators");
    else if (rc != LOBBY_OK)
        session_reply_code(s, rc);
    else
        session_reply(s, "OK WATCH %" PRIu64, id);
}

/* PLAY <card> [<card>...] and PASS <c1> <c2> <c3> (PROTOCOL §3, §12):
 * the words must be card codes (BADARG), then the lobby and the rules
 * judge (docs/PROTOCOL.md §10, "Check order"). */
static bool parse_cards(const struct cmd *c, struct rules_move *mv)
{
    memset(mv, 0, sizeof *mv);
    /* cmd keeps the first CMD_MAX_ARGS words only; no legal move names
     * more (scopa: a card and at most four table cards adding to 10) */
    if (c->n_args < 1 || c->n_args > RULES_MAX_MOVE || c->n_args > CMD_MAX_ARGS)
        return false;
    for (size_t i = 0; i < c->n_args; i++) {
        card_t card = card_parse(c->args[i].s, c->args[i].len);
        if (card == CARD_NONE)
            return false;
        mv->cards[mv->n++] = card;
    }
    return true;
}

static void reply_move_error(struct session *s, enum lobby_code rc,
                             const char *why)
{
    if (rc == LOBBY_BADARG && why[0] != '\0')
        session_reply_err(s, "BADARG", why);
    else if (rc == LOBBY_BADARG)
        session_reply_err(s, "BADARG", "not a legal move");
    else
        session_reply_code(s, rc);
}

void verb_play(struct session *s, const struct cmd *c)
{
    struct rules_move mv;
    char why[OUT_LINE_CAP - 32], line[RULES_MAX_MOVE * 3 + 1];
    size_t n = 0;

    if (!parse_cards(c, &mv)) {
        session_reply_err(s, "BADARG",
                          "usage: PLAY <card> [<card>...] (rank then suit, e.g. As 7c)");
        return;
    }
    mv.kind = MOVE_PLAY;
    enum lobby_code rc = lobby_move(s->srv->lobby, s->member, &mv, why,
                                    sizeof why, uv_now(s->srv->loop));
    if (rc != LOBBY_OK) {
        reply_move_error(s, rc, why);
        return;
    }
    /* The move as the rules completed it (scopa names a lone capture). */
    for (unsigned i = 0; i < mv.n && i < RULES_MAX_MOVE; i++) {
        char code[3];
        card_format(mv.cards[i], code);
        line[n++] = ' ';
        line[n++] = code[0];
        line[n++] = code[1];
    }
    line[n] = '\0';
    session_reply(s, "OK PLAY%s", line);
}

void verb_pass(struct session *s, const struct cmd *c)
{
    struct rules_move mv;
    char why[OUT_LINE_CAP - 32];

    if (c->n_args != RULES_PASS_CARDS || !parse_cards(c, &mv)) {
        session_reply_err(s, "BADARG", "usage: PASS <card> <card> <card>");
        return;
    }
    mv.kind = MOVE_PASS;
    enum lobby_code rc = lobby_move(s->srv->lobby, s->member, &mv, why,
                                    sizeof why, uv_now(s->srv->loop));
    if (rc != LOBBY_OK)
        reply_move_error(s, rc, why);
    else
        session_reply(s, "OK PASS");
}

/* SEED <hex>: any time, with or without a name (PROTOCOL §13). */
void verb_seed(struct session *s, const struct cmd *c)
{
    char seed[LOBBY_SEED_MAX + 1];

    if (c->n_args != 1 ||
        lobby_seed(s->srv->lobby, s->member, c->args[0].s, c->args[0].len,
                   seed) != LOBBY_OK) {
        session_reply_err(s, "BADARG", "usage: SEED <1 to 64 hex digits>");
        return;
    }
    session_reply(s, "OK SEED %s", seed);
}

void verb_say(struct session *s, const struct cmd *c)
{
    char text[OUT_LINE_CAP];

    if (c->n_args == 0 || c->rest.len >= sizeof text) {
        session_reply_err(s, "BADARG", "usage: SAY <text>");
        return;
    }
    size_t n = cmd_rest_single_spaced(c, text);
    enum lobby_code rc = lobby_say(s->srv->lobby, s->member, text, n);
    if (rc != LOBBY_OK)
        session_reply_code(s, rc);
    else
        session_reply(s, "OK SAY");
}

void verb_leave(struct session *s, const struct cmd *c)
{
    uint64_t id;

    if (c->n_args != 0) {
        session_reply_err(s, "BADARG", "usage: LEAVE");
        return;
    }
    if (quick_leave(s)) { /* out of the quick-play queue (PROTOCOL §14) */
        session_reply(s, "OK LEAVE");
        return;
    }
    enum lobby_code rc = lobby_leave(s->srv->lobby, s->member,
                                     uv_now(s->srv->loop), &id);
    if (rc != LOBBY_OK)
        session_reply_code(s, rc);
    else
        session_reply(s, "OK LEAVE %" PRIu64, id);
}

void verb_resume(struct session *s, const struct cmd *c)
{
    char token[LOBBY_TOKEN_LEN + 1];
    uint64_t match_id = 0;

    if (c->n_args != 1) {
        session_reply_err(s, "BADARG", "usage: RESUME <resume-token>");
        return;
    }
    enum lobby_code rc = lobby_resume(s->srv->lobby, &s->member, s,
                                      c->args[0].s, c->args[0].len,
                                      uv_now(s->srv->loop), token, &match_id);
    if (rc == LOBBY_BADTOKEN && s->srv->cluster != NULL) {
        /* another node's lobby may know it (app/relay.h) */
        relay_find_token(s, c->args[0].s, c->args[0].len, s->srv->cur_line,
                         s->srv->cur_len);
        return;
    }
    if (rc != LOBBY_OK) {
        session_reply_code(s, rc);
        return;
    }
    dq_remove(&s->nick_node);
    log_info("conn %" PRIu64 " resumed %s", s->conn ? s->conn->id : s->gw_conn,
             lobby_member_name(s->member));
    if (match_id != 0)
        session_reply(s, "OK RESUME %s %s %" PRIu64, lobby_member_name(s->member),
              token, match_id);
    else
        session_reply(s, "OK RESUME %s %s", lobby_member_name(s->member), token);
}

