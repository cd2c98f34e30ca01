/*
 * verbs_records: STATS, TOP and HISTORY (PROTOCOL §3), answered by the
 * store's writer thread; the session waits for the answer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "app/session_internal.h"
#include "base/mem.h"
#include "game/lobby.h"
#include "game/rules.h"
#include "proto/cmd.h"
#include "store/store.h"

/* ---------- STATS, TOP, HISTORY: answered by the store ---------- */

static void on_query(struct store_job *job)
{
    struct session *s = job->ctx;
    char out[OUT_LINE_CAP - 32];
    size_t n = 0;

    if (session_is_gone(s)) {
        /* gone meanwhile */
    } else if (job->rc == STORE_NOTFOUND) {
        session_reply_err(s, "BADNAME", "not a registered name");
    } else if (job->rc != STORE_OK) {
        /* PROTOCOL §11: the store cannot answer now; try again. */
        session_reply_err(s, "UNAVAILABLE", "the record is not available right now");
    } else if (job->kind == STORE_JOB_STATS) {
        session_reply(s, "OK STATS %s %.0f %u %u %u %u", job->name, job->stats.rating,
              job->stats.played, job->stats.won, job->stats.lost,
              job->stats.drawn);
    } else if (job->kind == STORE_JOB_TOP) {
        for (unsigned i = 0; i < job->n_rows; i++)
            n += (size_t)snprintf(out + n, sizeof out - n, " %s:%.0f",
                                  job->top[i].name, job->top[i].rating);
        out[n] = '\0';
        session_reply(s, "OK TOP %u%s", job->n_rows, out);
    } else {
        for (unsigned i = 0; i < job->n_rows; i++)
            n += (size_t)snprintf(out + n, sizeof out - n,
                                  " %" PRIu64 ":%s:%s:%u", job->history[i].match_id,
                                  job->history[i].game, job->history[i].result,
                                  job->history[i].points);
        out[n] = '\0';
        session_reply(s, "OK HISTORY %u%s", job->n_rows, out);
    }
    free(job);
    session_answered(s);
}

/* STATS [name] [game], TOP [game], HISTORY [name] (PROTOCOL §3, §14):
 * one word is a name (a game only for TOP); two are a name, then a game.
 * A game the registry does not hold is NOGAME. */
static void query(struct session *s, enum store_job_kind kind,
                  const struct cmd *c, const char *usage)
{
    const char *own = s->member ? lobby_member_name(s->member) : NULL;
    unsigned max_args = kind == STORE_JOB_STATS ? 2u : 1u;
    const struct cmd_word *name = NULL, *game = NULL;

    if (c->n_args > max_args) {
        session_reply_err(s, "BADARG", usage);
        return;
    }
    if (kind == STORE_JOB_TOP) {
        if (c->n_args == 1)
            game = &c->args[0];
    } else {
        if (c->n_args >= 1)
            name = &c->args[0];
        if (c->n_args == 2)
            game = &c->args[1];
    }
    if (name != NULL && name->len > LOBBY_NAME_MAX) {
        session_reply_err(s, "BADARG", usage);
        return;
    }
    if (game != NULL && rules_find(game->s, game->len) == NULL) {
        session_reply_err(s, "NOGAME", "no such game (see GAMES)");
        return;
    }
    if (kind != STORE_JOB_TOP && name == NULL && own == NULL) {
        session_reply_err(s, "NONAME", "name a player, or choose your name with NICK");
        return;
    }
    if (s->srv->store == NULL) {
        session_reply_err(s, "INTERNAL", "records need a data directory");
        return;
    }
    struct store_job *job = mem_calloc(1, sizeof *job);
    job->kind = kind;
    if (name != NULL)
        memcpy(job->name, name->s, name->len);
    else if (own != NULL)
        snprintf(job->name, sizeof job->name, "%s", own);
    snprintf(job->game, sizeof job->game, "%s", "briscola");
    if (game != NULL && game->len < sizeof job->game) { /* a known game's name */
        memcpy(job->game, game->s, game->len);
        job->game[game->len] = '\0';
    }
    job->done = on_query;
    job->ctx = s;
    session_wait_for_answer(s);
    store_submit(s->srv->store, job);
}

void verb_stats(struct session *s, const struct cmd *c)
{
    query(s, STORE_JOB_STATS, c, "usage: STATS [name] [game]");
}

void verb_top(struct session *s, const struct cmd *c)
{
    query(s, STORE_JOB_TOP, c, "usage: TOP [game]");
}

void verb_history(struct session *s, const struct cmd *c)
{
    query(s, STORE_JOB_HISTORY, c, "usage: HISTORY [name]");
}

