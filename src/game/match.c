/*
 * match: see match.h.
 *
 * Event order (PROTOCOL §4): at the start START, TRUMP, each player's own
 * HAND, TURN; after a card PLAYED, and after the last card of a trick
 * TRICK, each player's own DRAW (winner first), then TURN or END.
 */
#include "game/match.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define LINE_CAP 1024

/* ---------- the match's own record ---------- */

/* Appends one event line to the match log; private lines are prefixed
 * with "@<seat> " (lobby.h, LOBBY_J_END). */
static void log_line(struct match *mt, int seat, const char *line, size_t len)
{
    size_t need = mt->log_len + len + 8;
    if (need > mt->log_cap) {
        size_t cap = mt->log_cap ? mt->log_cap * 2 : 2048;
        while (cap < need)
            cap *= 2;
        mt->log = mem_realloc(mt->log, cap);
        mt->log_cap = cap;
    }
    if (seat >= 0)
        mt->log_len += (size_t)snprintf(mt->log + mt->log_len, 8, "@%d ", seat);
    memcpy(mt->log + mt->log_len, line, len);
    mt->log_len += len;
    mt->log[mt->log_len++] = '\n';
    mt->log[mt->log_len] = '\0';
}

/* ---------- fan-out ---------- */

static void send_to(struct lobby *l, struct member *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void send_to(struct lobby *l, struct member *m, const char *fmt, ...)
{
    char line[LINE_CAP];
    va_list ap;

    if (m == NULL || m->client == NULL)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    lobby_send(l, m, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* To every seated player (except `except`) and every spectator. */
static void emit(struct lobby *l, struct match *mt, const struct member *except,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void emit(struct lobby *l, struct match *mt, const struct member *except,
                 const char *fmt, ...)
{
    char line[LINE_CAP];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    log_line(mt, -1, line, len);
    for (unsigned s = 0; s < mt->n_seats; s++) {
        struct member *m = mt->seats[s].m;
        if (m != NULL && m != except && m->client != NULL)
            lobby_send(l, m, line, len);
    }
    for (size_t i = 0; i < mt->n_watchers; i++)
        if (mt->watchers[i] != except)
            lobby_send(l, mt->watchers[i], line, len);
}

/* A private event for one seat (HAND, DRAW), recorded in the log. */
static void send_private(struct lobby *l, struct match *mt, unsigned seat,
                         const char *line, size_t len)
{
    log_line(mt, (int)seat, line, len);
    if (mt->seats[seat].m != NULL)
        lobby_send(l, mt->seats[seat].m, line, len);
}

static uint64_t turn_left(const struct lobby *l, const struct match *mt,
                          uint64_t now_ms)
{
    if (!dq_linked(&mt->turn))
        return l->env.turn_ms;
    return mt->turn.deadline_ms > now_ms ? mt->turn.deadline_ms - now_ms : 0;
}

/* ---------- lifecycle ---------- */

struct match *match_new(struct lobby *l, const struct rules *r,
                        unsigned n_seats)
{
    struct match *mt = mem_calloc(1, sizeof *mt);

    mt->id = ++l->next_id;
    snprintf(mt->id_key, sizeof mt->id_key, "%" PRIu64, mt->id);
    mt->rules = r;
    mt->n_seats = n_seats;
    mt->state = mem_calloc(1, r->state_size);
    for (unsigned s = 0; s < n_seats; s++) {
        mt->seats[s].match = mt;
        mt->seats[s].index = s;
    }
    mt->prev = l->last;
    if (l->last)
        l->last->next = mt;
    else
        l->first = mt;
    l->last = mt;
    strmap_put(&l->matches, mt->id_key, mt);
    l->n_waiting++;
    return mt;
}

void match_free(struct lobby *l, struct match *mt)
{
    if (mt->phase == MATCH_WAITING)
        l->n_waiting--;
    else
        l->n_playing--;
    strmap_del(&l->matches, mt->id_key, strlen(mt->id_key));
    if (mt->prev)
        mt->prev->next = mt->next;
    else
        l->first = mt->next;
    if (mt->next)
        mt->next->prev = mt->prev;
    else
        l->last = mt->prev;
    dq_remove(&mt->turn);
    for (unsigned s = 0; s < mt->n_seats; s++)
        dq_remove(&mt->seats[s].grace);
    free(mt->watchers);
    free(mt->log);
    free(mt->state);
    free(mt);
}

static const char *result_name(enum rules_result r)
{
    return r == RESULT_TEAM0 ? "team0" : r == RESULT_TEAM1 ? "team1" : "draw";
}

/* Sends END, records the result, frees everyone from the match, frees it. */
static void match_end(struct lobby *l, struct match *mt, enum rules_result res,
                      const char *reason, uint64_t now_ms)
{
    unsigned pts[RULES_MAX_SEATS] = {0};
    char line[LINE_CAP];
    int n;

    (void)now_ms;
    mt->rules->points(mt->state, pts);
    n = snprintf(line, sizeof line, "END %" PRIu64 " %s %s", mt->id,
                 result_name(res), reason);
    for (unsigned s = 0; s < mt->n_seats; s++)
        n += snprintf(line + n, sizeof line - (size_t)n, " %u", pts[s]);
    emit(l, mt, NULL, "%s", line);
    /* Journaled in the same lobby call as the END line: the caller keeps
     * END from every client until the record is on disk. */
    if (l->env.journal && !l->is_replaying) {
        struct lobby_journal j = {
            .kind = LOBBY_J_END, .match_id = mt->id, .game = mt->rules->name,
            .n_seats = mt->n_seats, .result = result_name(res),
            .reason = reason, .log = mt->log ? mt->log : "",
        };
        for (unsigned s = 0; s < mt->n_seats; s++) {
            j.names[s] = mt->seats[s].name;
            j.points[s] = pts[s];
        }
        l->env.journal(l->env.ctx, &j);
    }

    for (unsigned s = 0; s < mt->n_seats; s++) {
        struct member *m = mt->seats[s].m;
        if (m == NULL)
            continue;
        mt->seats[s].m = NULL;
        m->match = NULL;
        if (m->client == NULL)
            lobby_forget_member(l, m); /* dropped and never came back */
    }
    for (size_t i = 0; i < mt->n_watchers; i++)
        mt->watchers[i]->watching = NULL;
    mt->n_watchers = 0;
    l->n_finished++;
    match_free(l, mt);
}

/* ---------- seats ---------- */

void match_send_seated(struct lobby *l, struct match *mt, struct member *to)
{
    for (unsigned s = 0; s < mt->n_seats; s++)
        if (mt->seats[s].m != NULL)
            send_to(l, to, "SEATED %" PRIu64 " %u %s", mt->id, s,
                    mt->seats[s].name);
}

static void send_turn(struct lobby *l, struct match *mt, uint64_t now_ms)
{
    lobby_push_deadline(l, &l->turn_q, &mt->turn, now_ms);
    emit(l, mt, NULL, "TURN %" PRIu64 " %u %u", mt->id,
         mt->rules->to_play(mt->state), l->env.turn_ms);
}

static void send_hand(struct lobby *l, struct match *mt, unsigned seat,
                      bool is_snapshot)
{
    card_t cards[RULES_MAX_HAND];
    char line[LINE_CAP], code[3];
    unsigned n = mt->rules->hand(mt->state, seat, cards);
    int len = snprintf(line, sizeof line, "HAND %" PRIu64, mt->id);

    for (unsigned i = 0; i < n; i++) {
        card_format(cards[i], code);
        len += snprintf(line + len, sizeof line - (size_t)len, " %s", code);
    }
    if (is_snapshot)
        send_to(l, mt->seats[seat].m, "%s", line);
    else
        send_private(l, mt, seat, line, (size_t)len);
}

static int format_start(const struct match *mt, char *line, size_t cap)
{
    int n = snprintf(line, cap, "START %" PRIu64 " %s %u", mt->id,
                     mt->rules->name, mt->n_seats);
    for (unsigned s = 0; s < mt->n_seats; s++)
        n += snprintf(line + n, cap - (size_t)n, " %s", mt->seats[s].name);
    return n;
}

/* Records every draw of the deal, so the journal can replay it. */
struct draw_recorder {
    card_uniform_fn inner;
    void *inner_ctx;
    const uint32_t *replay; /* replaying a recorded deal instead */
    unsigned n_replay;
    uint32_t draws[64];
    unsigned n;
};

static uint32_t recorded_uniform(void *ctx, uint32_t upper)
{
    struct draw_recorder *r = ctx;
    uint32_t v;

    if (r->replay != NULL)
        /* a damaged record must not index out of range */
        v = r->n < r->n_replay ? r->replay[r->n] % upper : 0;
    else
        v = r->inner(r->inner_ctx, upper);
    if (r->n < 64)
        r->draws[r->n] = v;
    r->n++;
    return v;
}

void match_start(struct lobby *l, struct match *mt, uint64_t now_ms,
                 const uint32_t *draws, unsigned n_draws)
{
    char line[LINE_CAP], code[3];
    struct draw_recorder rec = {
        .inner = l->env.uniform, .inner_ctx = l->env.rng_ctx,
        .replay = draws, .n_replay = n_draws,
    };

    mt->phase = MATCH_PLAYING;
    l->n_waiting--;
    l->n_playing++;
    mt->started_ms = now_ms;
    mt->rules->deal(mt->state, mt->n_seats, recorded_uniform, &rec);
    if (l->env.journal && !l->is_replaying) {
        struct lobby_journal j = {
            .kind = LOBBY_J_START, .match_id = mt->id, .game = mt->rules->name,
            .n_seats = mt->n_seats, .draws = rec.draws,
            .n_draws = rec.n < 64 ? rec.n : 64,
        };
        for (unsigned s = 0; s < mt->n_seats; s++) {
            j.names[s] = mt->seats[s].name;
            j.tokens[s] = mt->seats[s].m->token;
            j.is_registered[s] = mt->seats[s].m->is_registered;
        }
        l->env.journal(l->env.ctx, &j);
    }
    format_start(mt, line, sizeof line);
    emit(l, mt, NULL, "%s", line);
    card_t trump = mt->rules->trump(mt->state);
    if (trump != CARD_NONE) {
        card_format(trump, code);
        emit(l, mt, NULL, "TRUMP %" PRIu64 " %s", mt->id, code);
    }
    for (unsigned s = 0; s < mt->n_seats; s++)
        send_hand(l, mt, s, false);
    send_turn(l, mt, now_ms);
}

unsigned match_seat(struct lobby *l, struct match *mt, struct member *m,
                    uint64_t now_ms)
{
    unsigned s = 0;

    while (mt->seats[s].m != NULL)
        s++;
    mt->seats[s].m = m;
    memcpy(mt->seats[s].name, m->name, sizeof m->name);
    mt->n_seated++;
    m->match = mt;
    m->seat = s;
    /* PROTOCOL §9: the joiner sees every taken seat, the others the new one */
    match_send_seated(l, mt, m);
    emit(l, mt, m, "SEATED %" PRIu64 " %u %s", mt->id, s, m->name);
    if (mt->n_seated == mt->n_seats)
        match_start(l, mt, now_ms, NULL, 0);
    return s;
}

void match_unseat(struct lobby *l, struct match *mt, unsigned seat)
{
    struct seat *st = &mt->seats[seat];
    char name[LOBBY_NAME_MAX + 1];

    memcpy(name, st->name, sizeof name);
    st->m->match = NULL;
    st->m = NULL;
    st->name[0] = '\0';
    mt->n_seated--;
    emit(l, mt, NULL, "UNSEATED %" PRIu64 " %u %s", mt->id, seat, name);
    if (mt->n_seated == 0) {
        for (size_t i = 0; i < mt->n_watchers; i++)
            mt->watchers[i]->watching = NULL;
        mt->n_watchers = 0;
        match_free(l, mt);
    }
}

/* ---------- spectators ---------- */

static void send_snapshot(struct lobby *l, struct match *mt, struct member *to,
                          int seat, uint64_t now_ms)
{
    char line[LINE_CAP], code[3];
    unsigned seats[RULES_MAX_SEATS];
    card_t cards[RULES_MAX_SEATS];

    format_start(mt, line, sizeof line);
    send_to(l, to, "%s", line);
    card_t trump = mt->rules->trump(mt->state);
    if (trump != CARD_NONE) {
        card_format(trump, code);
        send_to(l, to, "TRUMP %" PRIu64 " %s", mt->id, code);
    }
    if (seat >= 0)
        send_hand(l, mt, (unsigned)seat, true);
    unsigned n = mt->rules->trick(mt->state, seats, cards);
    for (unsigned i = 0; i < n; i++) {
        card_format(cards[i], code);
        send_to(l, to, "PLAYED %" PRIu64 " %u %s", mt->id, seats[i], code);
    }
    send_to(l, to, "TURN %" PRIu64 " %u %" PRIu64, mt->id,
            mt->rules->to_play(mt->state), turn_left(l, mt, now_ms));
}

void match_add_watcher(struct lobby *l, struct match *mt, struct member *m,
                       uint64_t now_ms)
{
    if (mt->n_watchers == mt->cap_watchers) {
        mt->cap_watchers = mt->cap_watchers ? mt->cap_watchers * 2 : 4;
        mt->watchers = mem_realloc(mt->watchers,
                                   mt->cap_watchers * sizeof *mt->watchers);
    }
    mt->watchers[mt->n_watchers++] = m;
    m->watching = mt;
    if (mt->phase == MATCH_PLAYING)
        send_snapshot(l, mt, m, -1, now_ms);
    else
        match_send_seated(l, mt, m);
}

void match_remove_watcher(struct match *mt, struct member *m)
{
    for (size_t i = 0; i < mt->n_watchers; i++) {
        if (mt->watchers[i] == m) {
            mt->watchers[i] = mt->watchers[--mt->n_watchers];
            break;
        }
    }
    m->watching = NULL;
}

/* ---------- play ---------- */

enum lobby_code match_play(struct lobby *l, struct match *mt, unsigned seat,
                           card_t card, bool is_timeout, uint64_t now_ms)
{
    const struct rules *r = mt->rules;
    struct rules_outcome out;
    char code[3];

    if (r->to_play(mt->state) != seat)
        return LOBBY_NOTYOURTURN;
    if (!r->is_legal(mt->state, seat, card))
        return LOBBY_NOTINHAND;
    r->play(mt->state, seat, card, &out);
    mt->n_moves++;
    if (l->env.journal && !l->is_replaying) {
        struct lobby_journal j = {
            .kind = LOBBY_J_MOVE, .match_id = mt->id, .seq = mt->n_moves,
            .seat = seat, .card = card, .is_timeout = is_timeout,
        };
        l->env.journal(l->env.ctx, &j);
    }
    card_format(card, code);
    emit(l, mt, NULL, "PLAYED %" PRIu64 " %u %s", mt->id, seat, code);
    if (out.trick_done) {
        emit(l, mt, NULL, "TRICK %" PRIu64 " %u %u", mt->id, out.trick_winner,
             out.trick_points);
        for (unsigned i = 0; i < out.n_draws; i++) {
            char line[64];
            card_format(out.draws[i].card, code);
            int n = snprintf(line, sizeof line, "DRAW %" PRIu64 " %s", mt->id, code);
            send_private(l, mt, out.draws[i].seat, line, (size_t)n);
        }
    }
    if (out.is_over) {
        match_end(l, mt, r->result(mt->state), "score", now_ms);
        return LOBBY_OK;
    }
    send_turn(l, mt, now_ms);
    return LOBBY_OK;
}

void match_turn_expired(struct lobby *l, struct match *mt, uint64_t now_ms)
{
    unsigned seat = mt->rules->to_play(mt->state);
    card_t c = mt->rules->auto_card(mt->state, seat);

    emit(l, mt, NULL, "TIMEOUT %" PRIu64 " %u", mt->id, seat);
    match_play(l, mt, seat, c, true, now_ms);
}

void match_forfeit(struct lobby *l, struct match *mt, unsigned seat,
                   uint64_t now_ms)
{
    unsigned losing = mt->rules->team_of(mt->state, seat);
    match_end(l, mt, losing == 0 ? RESULT_TEAM1 : RESULT_TEAM0, "forfeit",
              now_ms);
}

/* ---------- reconnection ---------- */

void match_away(struct lobby *l, struct match *mt, unsigned seat,
                uint64_t now_ms)
{
    mt->seats[seat].is_away = true;
    lobby_push_deadline(l, &l->grace_q, &mt->seats[seat].grace, now_ms);
    emit(l, mt, NULL, "AWAY %" PRIu64 " %u", mt->id, seat);
}

void match_back(struct lobby *l, struct match *mt, unsigned seat,
                uint64_t now_ms)
{
    struct member *m = mt->seats[seat].m;

    mt->seats[seat].is_away = false;
    dq_remove(&mt->seats[seat].grace);
    send_snapshot(l, mt, m, (int)seat, now_ms);
    emit(l, mt, m, "BACK %" PRIu64 " %u", mt->id, seat);
}

void match_chat(struct lobby *l, struct match *mt, const char *name,
                const char *text, size_t len)
{
    emit(l, mt, NULL, "CHAT %" PRIu64 " %s %.*s", mt->id, name, (int)len, text);
}
