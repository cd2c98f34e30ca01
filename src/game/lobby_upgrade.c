/*
 * lobby_upgrade: see lobby_upgrade.h.
 *
 * Nothing here sends an event: a member comes back to its seat without
 * BACK or a snapshot, because its client saw everything already and
 * keeps its connection. The lobby's deadline queues assume one duration
 * each (base/dqueue.h); deadlines carried over from another process are
 * shorter, so they are inserted in order (dq_insert_at), which keeps
 * the queues' invariant: sorted by deadline.
 */
#include "game/lobby_upgrade.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/mem.h"
#include "game/match.h"

void lobby_member_export(const struct member *m, struct lobby_member_state *st)
{
    memset(st, 0, sizeof *st);
    st->is_registered = m->is_registered;
    memcpy(st->name, m->name, sizeof st->name);
    if (m->name[0] != '\0')
        memcpy(st->token, m->token, sizeof st->token);
    memcpy(st->seed, m->seed, sizeof st->seed);
    memcpy(st->key, m->key, sizeof st->key);
    if (m->match != NULL) {
        st->match_id = m->match->id;
        st->seat = m->seat;
    }
    if (m->watching != NULL)
        st->watch_id = m->watching->id;
}

void lobby_each_match(struct lobby *l,
                      void (*fn)(void *ctx, const struct lobby_match_state *m),
                      void *ctx)
{
    for (struct match *mt = l->first; mt != NULL; mt = mt->next) {
        struct lobby_match_state st;
        memset(&st, 0, sizeof st);
        st.id = mt->id;
        st.is_playing = mt->phase == MATCH_PLAYING;
        st.n_seats = mt->n_seats;
        st.turn_deadline_ms = dq_linked(&mt->turn) ? mt->turn.deadline_ms
                                                   : LOBBY_NO_DEADLINE;
        st.wait_deadline_ms = dq_linked(&mt->waiting) ? mt->waiting.deadline_ms
                                                      : LOBBY_NO_DEADLINE;
        for (unsigned s = 0; s < 4; s++) {
            const struct seat *seat = &mt->seats[s];
            st.grace_deadline_ms[s] = s < mt->n_seats && dq_linked(&seat->grace)
                                          ? seat->grace.deadline_ms
                                          : LOBBY_NO_DEADLINE;
            st.bot[s] = s < mt->n_seats ? seat->bot : 0;
        }
        snprintf(st.game, sizeof st.game, "%s", mt->rules->name);
        memcpy(st.secret, mt->secret, sizeof st.secret);
        if (mt->owner != NULL)
            snprintf(st.owner_key, sizeof st.owner_key, "%s", mt->owner->key);
        fn(ctx, &st);
    }
}

static struct match *find(struct lobby *l, uint64_t id)
{
    char key[24];
    fmt_line(key, sizeof key, "%" PRIu64, id);
    return strmap_get(&l->matches, key, strlen(key));
}

/* Bot names as match.c gives them ("~<level><seat>"). */
static const char *const level_names[] = {"easy", "normal", "hard"};

int lobby_adopt_waiting(struct lobby *l, const struct lobby_match_state *st)
{
    const struct rules *r = rules_find(st->game, strlen(st->game));

    if (r == NULL || st->is_playing || !rules_has_seats(r, st->n_seats) ||
        find(l, st->id) != NULL)
        return -1;
    uint64_t saved = l->next_id;
    l->next_id = st->id - 1;
    struct match *mt = match_new(l, r, st->n_seats);
    l->next_id = saved > st->id ? saved : st->id;
    /* The secret its players were committed to (PROTOCOL §13). */
    memcpy(mt->secret, st->secret, sizeof mt->secret);
    deal_commit_hex(mt->secret, mt->commit);
    if (st->owner_key[0] != '\0') {
        size_t n = strlen(st->owner_key);
        struct lobby_owner *o = strmap_get(&l->owners, st->owner_key, n);
        if (o == NULL) {
            o = mem_calloc(1, sizeof *o);
            memcpy(o->key, st->owner_key, n + 1);
            strmap_put(&l->owners, o->key, o);
        }
        o->n_waiting++;
        mt->owner = o;
    }
    for (unsigned s = 0; s < st->n_seats; s++) {
        if (st->bot[s] == 0 || st->bot[s] > 3)
            continue;
        struct seat *seat = &mt->seats[s];
        seat->bot = st->bot[s];
        snprintf(seat->name, sizeof seat->name, "~%s%u",
                 level_names[st->bot[s] - 1], s);
        mt->had_bot = true;
        mt->n_seated++;
    }
    return 0;
}

struct member *lobby_adopt_member(struct lobby *l, void *client,
                                  const struct lobby_member_state *st)
{
    struct member *m = NULL;
    size_t name_len = strlen(st->name);

    if (name_len > 0) {
        /* A seat of a restored match in play: its member is held (away)
         * under this token, with no client. */
        m = strmap_get(&l->tokens, st->token, strlen(st->token));
        if (m != NULL) {
            if (m->client != NULL || strcmp(m->name, st->name) != 0 ||
                m->match == NULL || m->match->id != st->match_id ||
                m->seat != st->seat)
                return NULL;
            struct seat *seat = &m->match->seats[m->seat];
            seat->is_away = false;
            dq_remove(&seat->grace);
            m->client = client;
        } else {
            if (strmap_get(&l->names, st->name, name_len) != NULL ||
                strlen(st->token) != LOBBY_TOKEN_LEN)
                return NULL;
            m = mem_calloc(1, sizeof *m);
            memcpy(m->name, st->name, sizeof m->name);
            memcpy(m->token, st->token, sizeof m->token);
            m->client = client;
            strmap_put(&l->names, m->name, m);
            strmap_put(&l->tokens, m->token, m);
            if (st->match_id != 0) {
                struct match *mt = find(l, st->match_id);
                if (mt == NULL || mt->phase != MATCH_WAITING ||
                    st->seat >= mt->n_seats || mt->seats[st->seat].m != NULL ||
                    mt->seats[st->seat].bot != 0) {
                    match_forget_member(l, m);
                    return NULL;
                }
                mt->seats[st->seat].m = m;
                memcpy(mt->seats[st->seat].name, m->name, sizeof m->name);
                mt->n_seated++;
                m->match = mt;
                m->seat = st->seat;
            }
        }
        m->is_registered = st->is_registered;
    } else {
        m = lobby_member_new(l, client);
    }
    memcpy(m->seed, st->seed, sizeof m->seed);
    memcpy(m->key, st->key, sizeof m->key);
    if (st->watch_id != 0) {
        struct match *mt = find(l, st->watch_id);
        if (mt == NULL) {
            m->client = NULL;
            match_forget_member(l, m);
            return NULL;
        }
        if (mt->n_watchers == mt->cap_watchers) {
            mt->cap_watchers = mt->cap_watchers ? mt->cap_watchers * 2 : 4;
            mt->watchers = mem_realloc(mt->watchers,
                                       mt->cap_watchers * sizeof *mt->watchers);
        }
        mt->watchers[mt->n_watchers++] = m;
        m->watching = mt;
    }
    return m;
}

/* lobby_restore holds every seat for a dropped player, and the log (the
 * match's record) says so with one AWAY line per seat at its end; after
 * an upgrade nobody dropped: those lines go. (A seat that was away in
 * the old process has its own AWAY earlier in the log.) */
static void drop_restore_aways(struct match *mt)
{
    for (unsigned s = mt->n_seats; s-- > 0;) {
        char line[48];
        int n = fmt_line(line, sizeof line, "AWAY %" PRIu64 " %u", mt->id, s);
        if (n <= 0 || !evlog_drop_last(&mt->log, mt->id_key, line, (size_t)n))
            return;
    }
}

void lobby_adopt_clocks(struct lobby *l, const struct lobby_match_state *ms,
                        unsigned n)
{
    uint64_t first = UINT64_MAX;

    for (unsigned i = 0; i < n; i++) {
        const struct lobby_match_state *st = &ms[i];
        struct match *mt = find(l, st->id);
        if (mt == NULL)
            continue;
        if (mt->phase == MATCH_PLAYING) {
            drop_restore_aways(mt);
            if (st->turn_deadline_ms != LOBBY_NO_DEADLINE &&
                dq_linked(&mt->turn)) {
                dq_insert_at(&l->turn_q, &mt->turn, st->turn_deadline_ms);
                if (st->turn_deadline_ms < first)
                    first = st->turn_deadline_ms;
            }
            for (unsigned s = 0; s < mt->n_seats && s < 4; s++) {
                struct seat *seat = &mt->seats[s];
                if (!seat->is_away || st->grace_deadline_ms[s] == LOBBY_NO_DEADLINE)
                    continue;
                dq_insert_at(&l->grace_q, &seat->grace,
                              st->grace_deadline_ms[s]);
                if (st->grace_deadline_ms[s] < first)
                    first = st->grace_deadline_ms[s];
            }
        } else if (st->wait_deadline_ms != LOBBY_NO_DEADLINE &&
                   l->env.waiting_ms > 0) {
            dq_insert_at(&l->wait_q, &mt->waiting, st->wait_deadline_ms);
            if (st->wait_deadline_ms < first)
                first = st->wait_deadline_ms;
        }
    }
    if (first != UINT64_MAX)
        l->env.arm(l->env.ctx, first);
}
