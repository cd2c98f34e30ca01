/*
 * verbs_quick: the verbs of PROTOCOL §14 that bring bots and quick play:
 * BOT [level] and QUICK <game> [seats], and the quick-play queue around
 * them (game/queue.c holds the matching; this file owns its timer and
 * turns tables into matches). The queue holds sessions; a session leaves
 * it when it forms a table, LEAVEs, or closes (quick_forget). Choices:
 * docs/PROTOCOL.md §10, "Bots and quick play".
 */
#include "app/session_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/relay.h"
#include "app/server.h"
#include "base/log.h"
#include "base/mem.h"
#include "bot/bot.h"
#include "game/lobby.h"
#include "game/queue.h"
#include "proto/cmd.h"
#include "store/store.h"

#define GUEST_RATING 1500

static void quick_arm(struct server *srv, uint64_t now)
{
    uint64_t next = queue_next_ms(&srv->quick, now, srv->cfg->quick_bot_ms);
    if (next == UINT64_MAX)
        uv_timer_stop(&srv->quick_timer);
    else
        uv_timer_start(&srv->quick_timer, quick_on_timer,
                       next > now ? next - now : 0, 0);
}

static void start_table(struct server *srv, const struct queue_table *t,
                        uint64_t now)
{
    struct member *members[RULES_MAX_SEATS];

    for (unsigned i = 0; i < t->n; i++)
        members[i] = ((struct session *)t->who[i])->member;
    uint64_t id =
        lobby_quick_match(srv->lobby, t->rules, t->n_seats, members, t->n, now);
    log_info("quick play: match %" PRIu64 " (%s, %u players, %u bots)", id,
             t->rules->name, t->n, t->n_bots);
}

/* Forms every table that can form now, then the bot fills due. */
static void quick_run(struct server *srv, uint64_t now)
{
    struct queue_table t;

    while (queue_form(&srv->quick, now, &t))
        start_table(srv, &t, now);
    while (queue_fill(&srv->quick, now, srv->cfg->quick_bot_ms, &t))
        start_table(srv, &t, now);
    quick_arm(srv, now);
}

void quick_on_timer(uv_timer_t *timer)
{
    struct server *srv = timer->data;

    outbox_begin(&srv->outbox);
    quick_run(srv, uv_now(srv->loop));
    outbox_end(&srv->outbox);
}

bool quick_is_queued(const struct session *s)
{
    return queue_has(&s->srv->quick, s);
}

bool quick_leave(struct session *s)
{
    if (!queue_remove(&s->srv->quick, s))
        return false;
    quick_arm(s->srv, uv_now(s->srv->loop));
    return true;
}

int quick_adopt(struct session *s, const struct rules *r, unsigned seats,
                int rating, uint64_t since_ms)
{
    if (s->member == NULL || lobby_is_busy(s->member) || quick_is_queued(s) ||
        !rules_has_seats(r, seats))
        return -1;
    queue_add(&s->srv->quick, s, r, seats, rating, since_ms);
    return 0;
}

void quick_rearm(struct server *srv)
{
    quick_arm(srv, uv_now(srv->loop));
}

/* Queues s and replies; forms what can form (inside a capture). */
static void enqueue(struct session *s, const struct rules *r, unsigned seats,
                    int rating)
{
    uint64_t now = uv_now(s->srv->loop);

    queue_add(&s->srv->quick, s, r, seats, rating, now);
    session_reply(s, "OK QUICK %s %u", r->name, seats);
    quick_run(s->srv, now);
}

/* A registered player's rating, read from the store before queueing. */
struct rating_ask {
    struct store_job job; /* first: the store hands this back */
    const struct rules *rules;
    unsigned seats;
};

static void on_rating(struct store_job *job)
{
    struct rating_ask *ask = (struct rating_ask *)job;
    struct session *s = job->ctx;

    if (!session_is_gone(s) && s->member != NULL) {
        int rating = job->rc == STORE_OK ? (int)(job->stats.rating + 0.5)
                                         : GUEST_RATING;
        /* No command of s ran meanwhile (it waited for this reply). The
         * reply goes through the capture, which ends the wait when it is
         * delivered (session_deliver), now or after the journal. */
        outbox_begin(&s->srv->outbox);
        enqueue(s, ask->rules, ask->seats, rating);
        outbox_end(&s->srv->outbox);
    } else {
        session_answered(s); /* gone meanwhile */
    }
    free(ask);
}

void verb_quick(struct session *s, const struct cmd *c)
{
    unsigned seats = 0;

    if (c->n_args < 1 || c->n_args > 2) {
        session_reply_err(s, "BADARG", "usage: QUICK <game> [seats]");
        return;
    }
    if (c->n_args == 2) {
        const struct cmd_word w = c->args[1];
        for (size_t i = 0; i < w.len; i++) {
            if (w.s[i] < '0' || w.s[i] > '9' || w.len > 2) {
                session_reply_err(s, "BADARG", "usage: QUICK <game> [seats]");
                return;
            }
            seats = seats * 10 + (unsigned)(w.s[i] - '0');
        }
    }
    const struct rules *r = rules_find(c->args[0].s, c->args[0].len);
    if (r == NULL) {
        session_reply_code(s, LOBBY_NOGAME);
        return;
    }
    if (seats == 0 && c->n_args == 1)
        seats = r->seat_counts[0];
    if (!rules_has_seats(r, seats)) {
        session_reply_err(s, "BADARG",
                          "unsupported number of seats for that game");
        return;
    }
    if (lobby_is_busy(s->member) || quick_is_queued(s)) {
        session_reply_code(s, LOBBY_ALREADY);
        return;
    }
    /* A cluster has one queue, on one node (app/relay.h). */
    if (s->srv->cluster != NULL && relay_quick(s, r, seats))
        return;
    quick_start(s, r, seats, false);
}

void quick_start(struct session *s, const struct rules *r, unsigned seats,
                 bool is_waiting)
{
    /* A guest counts GUEST_RATING; a registered name its rating in that
     * game (§14). */
    if (!lobby_member_is_registered(s->member) || s->srv->store == NULL) {
        if (is_waiting) /* the reply, through a capture, ends the wait */
            outbox_begin(&s->srv->outbox);
        enqueue(s, r, seats, GUEST_RATING);
        if (is_waiting)
            outbox_end(&s->srv->outbox);
        return;
    }
    struct rating_ask *ask = mem_calloc(1, sizeof *ask);
    ask->rules = r;
    ask->seats = seats;
    ask->job.kind = STORE_JOB_STATS;
    snprintf(ask->job.name, sizeof ask->job.name, "%s",
             lobby_member_name(s->member));
    snprintf(ask->job.game, sizeof ask->job.game, "%s", r->name);
    ask->job.done = on_rating;
    ask->job.ctx = s;
    if (!is_waiting)
        session_wait_for_answer(s);
    store_submit(s->srv->store, &ask->job);
}

void verb_bot(struct session *s, const struct cmd *c)
{
    enum bot_level level = BOT_NORMAL;
    char name[LOBBY_NAME_MAX + 1];
    unsigned seat;

    if (c->n_args > 1 ||
        (c->n_args == 1 &&
         bot_level_parse(c->args[0].s, c->args[0].len, &level) != 0)) {
        session_reply_err(s, "BADARG", "usage: BOT [easy|normal|hard]");
        return;
    }
    enum lobby_code rc =
        lobby_add_bot(s->srv->lobby, s->member, (unsigned)level,
                      uv_now(s->srv->loop), &seat, name);
    if (rc != LOBBY_OK)
        session_reply_code(s, rc);
    else
        session_reply(s, "OK BOT %u %s", seat, name);
}
