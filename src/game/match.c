/*
 * match: see match.h.
 *
 * The engine knows no game: it asks the rules (rules.h) and turns their
 * answers into events, choosing lines by the rules' flags alone.
 *
 * Event order (PROTOCOL §4, §12). A hand begins with DEAL (multi-hand
 * games), TRUMP (has_trump), TABLE (has_table), each player's own HAND,
 * then TURN, or PASSING when the hand opens with a pass. A PLAY causes
 * PLAYED, TAKE and SWEEP (a capture), TRICK (a trick completed), each
 * player's own DRAW (winner first), a new HAND to each player (refill);
 * at the end of a hand the leftover TAKE and SCORE (multi-hand games);
 * then the next hand, END (and REVEAL), or TURN. A PASS causes PASSED;
 * the last one each player's RECEIVED and HAND, then TURN.
 */
#include "game/match.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/fmt.h"
#include "base/mem.h"
#include "game/deal.h"
#include "game/evlog.h"

#define LINE_CAP 1024

/* ---------- the match's own record ---------- */

/* Appends one event line to the match log (evlog.h); private lines
 * carry their seat (lobby.h, LOBBY_J_END). */
static void log_line(struct match *mt, int seat, const char *line, size_t len)
{
    evlog_add(&mt->log, mt->id_key, seat, line, len);
}

/* Appends a move to mt->moves, packed: (seat | kind << 3), n, then the
 * n cards; 3 bytes for briscola's where a struct bot_logged_move is 15
 * (PERFORMANCE.md, "Third round"). match_bot_view unpacks them. */
static void log_move(struct match *mt, unsigned seat,
                     const struct rules_move *mv)
{
    assert(seat < 8 && mv->kind < 32 && mv->n <= RULES_MAX_MOVE);
    size_t need = (size_t)mt->moves_len + 2 + mv->n;
    if (need > mt->moves_cap) {
        /* A hand's cards first (briscola's whole match), then 1.5x. */
        size_t cap = mt->moves_cap ? mt->moves_cap : 3 * mt->rules->deck_size;
        while (cap < need)
            cap += cap / 2;
        mt->moves = mem_realloc(mt->moves, cap);
        mt->moves_cap = (unsigned)cap;
    }
    uint8_t *p = mt->moves + mt->moves_len;
    *p++ = (uint8_t)(seat | (unsigned)mv->kind << 3);
    *p++ = mv->n;
    memcpy(p, mv->cards, mv->n);
    mt->moves_len = (unsigned)need;
    mt->n_logged++;
}

/* ---------- fan-out ---------- */

/* One line to a member's client, if it has one now. */
static void deliver(struct lobby *l, struct member *m, const char *line,
                    size_t len)
{
    if (m->client != NULL)
        l->env.send(l->env.ctx, m->client, line, len);
}

static void push_deadline(struct lobby *l, struct dqueue *q, struct dq_node *n,
                          uint64_t now_ms)
{
    dq_push(q, n, now_ms);
    l->env.arm(l->env.ctx, n->deadline_ms);
}

void match_forget_member(struct lobby *l, struct member *m)
{
    if (m->name[0] != '\0') {
        strmap_del(&l->names, m->name, strlen(m->name));
        if (l->env.on_name)
            l->env.on_name(l->env.ctx, m->name, false);
    }
    if (m->token[0] != '\0') {
        strmap_del(&l->tokens, m->token, strlen(m->token));
        if (l->env.on_token)
            l->env.on_token(l->env.ctx, m->token, false);
    }
    free(m);
}

void match_listed(struct lobby *l, struct match *mt)
{
    char item[64];

    if (l->env.on_listed == NULL)
        return;
    fmt_line(item, sizeof item, "%" PRIu64 ":%s:%u/%u:%s", mt->id,
             mt->rules->name, mt->n_seated, mt->n_seats,
             mt->phase == MATCH_WAITING ? "waiting" : "playing");
    l->env.on_listed(l->env.ctx, mt->id, item);
}

static void send_to(struct lobby *l, struct member *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void send_to(struct lobby *l, struct member *m, const char *fmt, ...)
{
    char line[LINE_CAP];
    va_list ap;

    if (m == NULL || m->client == NULL)
        return;
    va_start(ap, fmt);
    int n = fmt_vline(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    deliver(l, m, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* To every seated player (except `except`) and every spectator. */
static void emit(struct lobby *l, struct match *mt, const struct member *except,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* emit of a line already made (len bytes, no terminator). */
static void emit_text(struct lobby *l, struct match *mt,
                      const struct member *except, const char *line, size_t len)
{
    log_line(mt, -1, line, len);
    for (unsigned s = 0; s < mt->n_seats; s++) {
        struct member *m = mt->seats[s].m;
        if (m != NULL && m != except && m->client != NULL)
            deliver(l, m, line, len);
    }
    for (size_t i = 0; i < mt->n_watchers; i++)
        if (mt->watchers[i] != except)
            deliver(l, mt->watchers[i], line, len);
}

static void emit(struct lobby *l, struct match *mt, const struct member *except,
                 const char *fmt, ...)
{
    char line[LINE_CAP];
    va_list ap;

    va_start(ap, fmt);
    int n = fmt_vline(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    emit_text(l, mt, except, line, len);
}

/*
 * The lines every move sends ("PLAYED 12 0 3b", "TURN 12 1 30000",
 * "TRICK 12 1 10"), built by hand: a verb, the match id and two numbers
 * or a number and a card, at most 8 + 3 * 21 bytes, so no bound is
 * needed in LINE_CAP. The formatter's general walk over its format was
 * ~500 instructions a line (PERFORMANCE.md, "Cost of a move").
 */
_Static_assert(LINE_CAP > 8 + 3 * 21, "a hot line fits");

static size_t hot_line(char *line, const char *verb, size_t verb_len,
                       uint64_t id, unsigned a, const char *word,
                       unsigned b)
{
    char *p = line;
    memcpy(p, verb, verb_len);
    p += verb_len;
    *p++ = ' ';
    p = fmt_u64(p, id);
    *p++ = ' ';
    p = fmt_u64(p, a);
    *p++ = ' ';
    if (word != NULL) {
        size_t n = strlen(word);
        memcpy(p, word, n);
        p += n;
    } else {
        p = fmt_u64(p, b);
    }
    *p = '\0';
    return (size_t)(p - line);
}

/* A private event for one seat (HAND, DRAW), recorded in the log. */
static void send_private(struct lobby *l, struct match *mt, unsigned seat,
                         const char *line, size_t len)
{
    log_line(mt, (int)seat, line, len);
    if (mt->seats[seat].m != NULL)
        deliver(l, mt->seats[seat].m, line, len);
}

static uint64_t turn_left(const struct lobby *l, const struct match *mt,
                          uint64_t now_ms)
{
    if (!dq_linked(&mt->turn))
        return l->env.turn_ms;
    return mt->turn.deadline_ms > now_ms ? mt->turn.deadline_ms - now_ms : 0;
}

/* Appends " <code>" for each card to line at *len (bounded by cap). */
static void put_cards(char *line, size_t cap, int *len, const card_t *cards,
                      unsigned n)
{
    char code[3];

    for (unsigned i = 0; i < n && (size_t)*len < cap; i++) {
        card_format(cards[i], code);
        *len += fmt_line(line + *len, cap - (size_t)*len, " %s", code);
    }
    if ((size_t)*len >= cap)
        *len = (int)cap - 1;
}

/* ---------- lifecycle ---------- */

struct match *match_new(struct lobby *l, const struct rules *r,
                        unsigned n_seats)
{
    struct match *mt = mem_calloc(1, sizeof *mt);
    uint64_t id = l->env.new_id && !l->is_replaying ? l->env.new_id(l->env.ctx)
                                                    : 0;

    mt->id = id ? id : ++l->next_id;
    fmt_line(mt->id_key, sizeof mt->id_key, "%" PRIu64, mt->id);
    mt->rules = r;
    mt->n_seats = n_seats;
    mt->state = mem_calloc(1, r->state_size);
    r->init(mt->state, n_seats);
    /* PROTOCOL §13: fixed before any seat is taken or seed is used. */
    l->env.new_secret(l->env.ctx, mt->secret);
    deal_commit_hex(mt->secret, mt->commit);
    mt->is_verifiable = true;
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

/* The match is no longer waiting: off the expiry queue, and no longer
 * counted against its creator's address. */
static void match_disown(struct lobby *l, struct match *mt)
{
    dq_remove(&mt->waiting);
    if (mt->owner != NULL && --mt->owner->n_waiting == 0) {
        strmap_del(&l->owners, mt->owner->key, strlen(mt->owner->key));
        free(mt->owner);
    }
    mt->owner = NULL;
}

void match_free(struct lobby *l, struct match *mt)
{
    if (l->env.on_listed)
        l->env.on_listed(l->env.ctx, mt->id, NULL);
    match_disown(l, mt);
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
    sodium_memzero(mt->secret, sizeof mt->secret);
    sodium_memzero(mt->key, sizeof mt->key);
    free(mt->watchers);
    free(mt->decks);
    free(mt->moves);
    free(mt->seeds);
    evlog_free(&mt->log);
    free(mt->state);
    free(mt);
}

/* END's result word: team<k>, seat<k> or draw (PROTOCOL §4, §12). */
static void result_name(const struct match *mt, int res, char out[8])
{
    if (res == RULES_DRAW)
        fmt_line(out, 8, "draw");
    else
        fmt_line(out, 8, "%s%d", mt->rules->is_teams ? "team" : "seat", res);
}

/* Sends END and REVEAL, records the result, frees everyone from the
 * match, frees it. */
static void match_end(struct lobby *l, struct match *mt, int res,
                      const char *reason, int loser, uint64_t now_ms)
{
    unsigned pts[RULES_MAX_SEATS] = {0};
    char line[LINE_CAP], result[8], hex[DEAL_HEX_LEN + 1];
    int n;

    (void)now_ms;
    result_name(mt, res, result);
    mt->rules->end_points(mt->state, pts);
    n = fmt_line(line, sizeof line, "END %" PRIu64 " %s %s", mt->id, result,
                 reason);
    for (unsigned s = 0; s < mt->n_seats; s++)
        n += fmt_line(line + n, sizeof line - (size_t)n, " %u", pts[s]);
    emit(l, mt, NULL, "%s", line);
    /* PROTOCOL §13: right after END, to everyone still at the match. */
    if (mt->is_verifiable) {
        deal_to_hex(mt->secret, DEAL_SECRET_LEN, hex);
        n = fmt_line(line, sizeof line, "REVEAL %" PRIu64 " %s", mt->id, hex);
        for (unsigned s = 0; s < mt->n_seats; s++)
            n += fmt_line(line + n, sizeof line - (size_t)n, " %s",
                          mt->seeds && mt->seeds[s][0] ? mt->seeds[s] : "-");
        emit(l, mt, NULL, "%s", line);
    }
    /* Journaled in the same lobby call as the END line: the caller keeps
     * END from every client until the record is on disk. */
    if (l->env.journal && !l->is_replaying) {
        /* The log's text, made once, now (evlog.h). */
        char *text = evlog_text(&mt->log, mt->id_key, NULL);
        struct lobby_journal j = {
            .kind = LOBBY_J_END, .match_id = mt->id, .game = mt->rules->name,
            .n_seats = mt->n_seats, .result = result, .reason = reason,
            .is_teams = mt->rules->is_teams, .log = text,
            .loser = loser,
            .is_unrated = mt->had_bot,
        };
        for (unsigned s = 0; s < mt->n_seats; s++) {
            j.names[s] = mt->seats[s].name;
            j.points[s] = pts[s];
            j.replaced[s] = mt->replaced[s];
        }
        l->env.journal(l->env.ctx, &j);
        free(text);
    }

    for (unsigned s = 0; s < mt->n_seats; s++) {
        struct member *m = mt->seats[s].m;
        if (m == NULL)
            continue;
        mt->seats[s].m = NULL;
        m->match = NULL;
        if (m->client == NULL)
            match_forget_member(l, m); /* dropped and never came back */
    }
    for (size_t i = 0; i < mt->n_watchers; i++)
        mt->watchers[i]->watching = NULL;
    mt->n_watchers = 0;
    l->n_finished++;
    match_free(l, mt);
}

/* ---------- seats ---------- */

static void send_commit(struct lobby *l, struct match *mt, struct member *to)
{
    if (mt->is_verifiable)
        send_to(l, to, "COMMIT %" PRIu64 " %s", mt->id, mt->commit);
}

static bool is_taken(const struct seat *st)
{
    return st->m != NULL || st->bot != 0;
}

/* A SEATED line per taken seat, then COMMIT (PROTOCOL §9, §13). */
void match_send_seated(struct lobby *l, struct match *mt, struct member *to)
{
    for (unsigned s = 0; s < mt->n_seats; s++)
        if (is_taken(&mt->seats[s]))
            send_to(l, to, "SEATED %" PRIu64 " %u %s", mt->id, s,
                    mt->seats[s].name);
    send_commit(l, mt, to);
}

/* The seat that must play now (playing, not passing). */
static unsigned seat_to_play(const struct match *mt)
{
    enum rules_move_kind kind;
    unsigned mask = mt->rules->to_move(mt->state, &kind);

    for (unsigned s = 0; s < mt->n_seats; s++)
        if (mask & (1u << s))
            return s;
    return 0;
}

static bool is_passing(const struct match *mt)
{
    enum rules_move_kind kind = MOVE_PLAY;
    unsigned mask = mt->rules->to_move(mt->state, &kind);
    return mask != 0 && kind == MOVE_PASS;
}

static void send_turn(struct lobby *l, struct match *mt, uint64_t now_ms)
{
    dq_remove(&mt->turn);
    push_deadline(l, &l->turn_q, &mt->turn, now_ms);
    char line[LINE_CAP];
    size_t len = hot_line(line, "TURN", 4, mt->id, seat_to_play(mt), NULL,
                          l->env.turn_ms);
    emit_text(l, mt, NULL, line, len);
    match_ask_bots(l, mt);
}

/* The pass has one clock for every seat (PROTOCOL §12). */
static void send_passing(struct lobby *l, struct match *mt, uint64_t now_ms)
{
    const char *dir = mt->rules->pass_dir(mt->state);

    dq_remove(&mt->turn);
    push_deadline(l, &l->turn_q, &mt->turn, now_ms);
    emit(l, mt, NULL, "PASSING %" PRIu64 " %s %u", mt->id, dir ? dir : "-",
         l->env.turn_ms);
    match_ask_bots(l, mt);
}

static void send_hand(struct lobby *l, struct match *mt, unsigned seat,
                      bool is_snapshot)
{
    card_t cards[RULES_MAX_DECK];
    char line[LINE_CAP];
    unsigned n = mt->rules->hand(mt->state, seat, cards);
    int len = fmt_line(line, sizeof line, "HAND %" PRIu64, mt->id);

    put_cards(line, sizeof line, &len, cards, n);
    if (is_snapshot)
        send_to(l, mt->seats[seat].m, "%s", line);
    else
        send_private(l, mt, seat, line, (size_t)len);
}

static void send_received(struct lobby *l, struct match *mt, unsigned seat)
{
    card_t cards[RULES_MAX_DECK];
    char line[LINE_CAP];
    unsigned n = mt->rules->received(mt->state, seat, cards);
    int len = fmt_line(line, sizeof line, "RECEIVED %" PRIu64, mt->id);

    put_cards(line, sizeof line, &len, cards, n);
    send_private(l, mt, seat, line, (size_t)len);
}

static int format_start(const struct match *mt, char *line, size_t cap)
{
    int n = fmt_line(line, cap, "START %" PRIu64 " %s %u", mt->id,
                     mt->rules->name, mt->n_seats);
    for (unsigned s = 0; s < mt->n_seats; s++)
        n += fmt_line(line + n, cap - (size_t)n, " %s", mt->seats[s].name);
    return n;
}

static int format_score(const struct match *mt, char *line, size_t cap)
{
    unsigned t[RULES_MAX_SEATS] = {0};
    int n = fmt_line(line, cap, "SCORE %" PRIu64, mt->id);

    mt->rules->totals(mt->state, t);
    for (unsigned s = 0; s < mt->n_seats; s++)
        n += fmt_line(line + n, cap - (size_t)n, " %u", t[s]);
    return n;
}

static int format_table(const struct match *mt, char *line, size_t cap)
{
    card_t cards[RULES_MAX_DECK];
    unsigned n_cards = mt->rules->table(mt->state, cards);
    int n = fmt_line(line, cap, "TABLE %" PRIu64, mt->id);

    put_cards(line, cap, &n, cards, n_cards);
    return n;
}

/* A version-1 record's deal: the recorded draws of card_shuffle over the
 * 40-card deck in canonical order (the order version 1 built it in). */
struct draw_replay {
    const uint32_t *draws;
    unsigned n_draws, n;
};

static uint32_t replayed_uniform(void *ctx, uint32_t upper)
{
    struct draw_replay *r = ctx;
    /* a damaged record must not index out of range */
    uint32_t v = r->n < r->n_draws ? r->draws[r->n] % upper : 0;
    r->n++;
    return v;
}

/* Deals hand `hand` and announces it (PROTOCOL §12, §13). */
static void deal_hand(struct lobby *l, struct match *mt, unsigned hand,
                      const uint32_t *draws, unsigned n_draws,
                      uint64_t now_ms)
{
    const struct rules *r = mt->rules;
    card_t deck[RULES_MAX_DECK];
    char line[LINE_CAP], code[3];

    rules_canonical_deck(r->deck_size, deck);
    if (draws != NULL) {
        struct draw_replay rep = {.draws = draws, .n_draws = n_draws};
        card_shuffle(deck, r->deck_size, replayed_uniform, &rep);
    } else {
        deal_shuffle(mt->key, hand, deck, r->deck_size);
    }
    r->deal(mt->state, hand, deck);
    /* Kept for bots' views (match_bot_view); freed with the match. */
    mt->decks = mem_realloc(mt->decks, (mt->n_decks + 1) * sizeof *mt->decks);
    memcpy(mt->decks[mt->n_decks++], deck, sizeof deck);
    sodium_memzero(deck, sizeof deck);

    if (r->is_multi_hand)
        emit(l, mt, NULL, "DEAL %" PRIu64 " %u", mt->id, hand);
    card_t trump = r->has_trump ? r->trump(mt->state) : CARD_NONE;
    if (trump != CARD_NONE) {
        card_format(trump, code);
        emit(l, mt, NULL, "TRUMP %" PRIu64 " %s", mt->id, code);
    }
    if (r->has_table) {
        format_table(mt, line, sizeof line);
        emit(l, mt, NULL, "%s", line);
    }
    for (unsigned s = 0; s < mt->n_seats; s++)
        send_hand(l, mt, s, false);
    if (is_passing(mt))
        send_passing(l, mt, now_ms);
    else
        send_turn(l, mt, now_ms);
}

void match_start(struct lobby *l, struct match *mt, uint64_t now_ms,
                 const char *const *seeds, const uint32_t *draws,
                 unsigned n_draws)
{
    char line[LINE_CAP];
    const char *seed_ptrs[RULES_MAX_SEATS];

    mt->phase = MATCH_PLAYING;
    match_disown(l, mt);
    l->n_waiting--;
    l->n_playing++;
    mt->started_ms = now_ms;
    match_listed(l, mt);
    /* PROTOCOL §13: each seat's current seed, at START. */
    for (unsigned s = 0; s < mt->n_seats; s++) {
        const char *seed = seeds              ? seeds[s]
                           : mt->seats[s].m ? mt->seats[s].m->seed
                                            : ""; /* a bot's (§13) */
        seed_ptrs[s] = seed ? seed : "";
        if (seed_ptrs[s][0] != '\0' && mt->seeds == NULL)
            mt->seeds = mem_calloc(RULES_MAX_SEATS, sizeof *mt->seeds);
    }
    for (unsigned s = 0; s < mt->n_seats; s++) {
        if (mt->seeds != NULL) {
            fmt_line(mt->seeds[s], sizeof mt->seeds[s], "%s", seed_ptrs[s]);
            seed_ptrs[s] = mt->seeds[s];
        } else {
            seed_ptrs[s] = "";
        }
    }
    deal_key(mt->secret, mt->rules->name, mt->n_seats, seed_ptrs, mt->key);
    if (l->env.journal && !l->is_replaying) {
        struct lobby_journal j = {
            .kind = LOBBY_J_START, .match_id = mt->id, .game = mt->rules->name,
            .n_seats = mt->n_seats, .secret = mt->secret,
        };
        for (unsigned s = 0; s < mt->n_seats; s++) {
            j.names[s] = mt->seats[s].name;
            j.tokens[s] = mt->seats[s].m ? mt->seats[s].m->token : "";
            j.is_registered[s] =
                mt->seats[s].m ? mt->seats[s].m->is_registered : false;
            j.seeds[s] = seed_ptrs[s];
            j.sides[s] = mt->rules->side_of(mt->state, s);
            j.bots[s] = mt->seats[s].bot;
        }
        l->env.journal(l->env.ctx, &j);
    }
    format_start(mt, line, sizeof line);
    emit(l, mt, NULL, "%s", line);
    deal_hand(l, mt, 1, draws, n_draws, now_ms);
}

unsigned match_seat(struct lobby *l, struct match *mt, struct member *m,
                    uint64_t now_ms)
{
    unsigned s = 0;

    while (is_taken(&mt->seats[s]))
        s++;
    mt->seats[s].m = m;
    memcpy(mt->seats[s].name, m->name, sizeof m->name);
    mt->n_seated++;
    m->match = mt;
    m->seat = s;
    /* PROTOCOL §9: the joiner sees every taken seat, the others the new
     * one; §13: then the joiner gets COMMIT, before START can follow. */
    match_send_seated(l, mt, m);
    emit(l, mt, m, "SEATED %" PRIu64 " %u %s", mt->id, s, m->name);
    if (mt->n_seated == mt->n_seats)
        match_start(l, mt, now_ms, NULL, NULL, 0);
    else
        match_listed(l, mt);
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
    unsigned n_people = 0;
    for (unsigned s = 0; s < mt->n_seats; s++)
        n_people += mt->seats[s].m != NULL;
    /* Bots never keep a waiting match alive (PROTOCOL §10). */
    if (n_people == 0) {
        for (size_t i = 0; i < mt->n_watchers; i++)
            mt->watchers[i]->watching = NULL;
        mt->n_watchers = 0;
        match_free(l, mt);
    } else {
        match_listed(l, mt);
    }
}

void match_expire(struct lobby *l, struct match *mt)
{
    for (unsigned s = 0; s < mt->n_seats; s++)
        if (mt->seats[s].m != NULL)
            emit(l, mt, NULL, "UNSEATED %" PRIu64 " %u %s", mt->id, s,
                 mt->seats[s].name);
    for (unsigned s = 0; s < mt->n_seats; s++) {
        struct member *m = mt->seats[s].m;
        if (m == NULL)
            continue;
        mt->seats[s].m = NULL;
        m->match = NULL;
        if (m->client == NULL) /* not expected while waiting; no leak */
            match_forget_member(l, m);
    }
    mt->n_seated = 0;
    for (size_t i = 0; i < mt->n_watchers; i++)
        mt->watchers[i]->watching = NULL;
    mt->n_watchers = 0;
    match_free(l, mt);
}

/* ---------- snapshots ---------- */

/* PROTOCOL §5, §9, §11, §12: START, COMMIT, DEAL, SCORE, TRUMP, TABLE,
 * HAND (a player's own), the PLAYED lines of the trick in progress,
 * PASSING with the ms left and the PASSED lines, or TURN. */
static void send_snapshot(struct lobby *l, struct match *mt, struct member *to,
                          int seat, uint64_t now_ms)
{
    const struct rules *r = mt->rules;
    char line[LINE_CAP], code[3];
    unsigned seats[RULES_MAX_DECK];
    card_t cards[RULES_MAX_DECK];

    format_start(mt, line, sizeof line);
    send_to(l, to, "%s", line);
    send_commit(l, mt, to);
    if (r->is_multi_hand) {
        send_to(l, to, "DEAL %" PRIu64 " %u", mt->id, r->hand_no(mt->state));
        format_score(mt, line, sizeof line);
        send_to(l, to, "%s", line);
    }
    card_t trump = r->has_trump ? r->trump(mt->state) : CARD_NONE;
    if (trump != CARD_NONE) {
        card_format(trump, code);
        send_to(l, to, "TRUMP %" PRIu64 " %s", mt->id, code);
    }
    if (r->has_table) {
        format_table(mt, line, sizeof line);
        send_to(l, to, "%s", line);
    }
    if (seat >= 0)
        send_hand(l, mt, (unsigned)seat, true);
    unsigned n = r->trick(mt->state, seats, cards);
    for (unsigned i = 0; i < n; i++) {
        card_format(cards[i], code);
        send_to(l, to, "PLAYED %" PRIu64 " %u %s", mt->id, seats[i], code);
    }
    if (is_passing(mt)) {
        const char *dir = r->pass_dir(mt->state);
        send_to(l, to, "PASSING %" PRIu64 " %s %" PRIu64, mt->id,
                dir ? dir : "-", turn_left(l, mt, now_ms));
        for (unsigned s = 0; s < mt->n_seats; s++)
            if (r->has_passed(mt->state, s))
                send_to(l, to, "PASSED %" PRIu64 " %u", mt->id, s);
        return;
    }
    send_to(l, to, "TURN %" PRIu64 " %u %" PRIu64, mt->id, seat_to_play(mt),
            turn_left(l, mt, now_ms));
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
    if (mt->phase == MATCH_PLAYING) {
        send_snapshot(l, mt, m, -1, now_ms);
    } else {
        match_send_seated(l, mt, m); /* and COMMIT (PROTOCOL §13) */
    }
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

/* ---------- moves ---------- */

static enum lobby_code verdict_code(enum rules_verdict v)
{
    switch (v) {
    case RULES_OK: return LOBBY_OK;
    case RULES_NOTYOURTURN: return LOBBY_NOTYOURTURN;
    case RULES_NOTINHAND: return LOBBY_NOTINHAND;
    case RULES_ILLEGAL: return LOBBY_ILLEGAL;
    case RULES_ALREADY: return LOBBY_ALREADY;
    case RULES_BADARG: break;
    }
    return LOBBY_BADARG;
}

/* Announces what an applied PLAY caused, up to the next TURN, DEAL or
 * END (PROTOCOL §4, §12). Returns true if the match ended (and is gone). */
static bool announce_play(struct lobby *l, struct match *mt, unsigned seat,
                          const struct rules_move *mv,
                          const struct rules_outcome *out, uint64_t now_ms)
{
    const struct rules *r = mt->rules;
    char line[LINE_CAP], code[3];
    int n;

    card_format(mv->cards[0], code);
    n = (int)hot_line(line, "PLAYED", 6, mt->id, seat, code, 0);
    emit_text(l, mt, NULL, line, (size_t)n);
    if (out->n_taken > 0) {
        n = fmt_line(line, sizeof line, "TAKE %" PRIu64 " %u", mt->id, seat);
        put_cards(line, sizeof line, &n, out->taken, out->n_taken);
        emit(l, mt, NULL, "%s", line);
    }
    if (out->is_sweep)
        emit(l, mt, NULL, "SWEEP %" PRIu64 " %u", mt->id, seat);
    if (out->trick_done)
    {
        n = (int)hot_line(line, "TRICK", 5, mt->id, out->trick_winner, NULL,
                          out->trick_points);
        emit_text(l, mt, NULL, line, (size_t)n);
    }
    for (unsigned i = 0; i < out->n_draws; i++) {
        card_format(out->draws[i].card, code);
        n = fmt_line(line, sizeof line, "DRAW %" PRIu64 " %s", mt->id, code);
        send_private(l, mt, out->draws[i].seat, line, (size_t)n);
    }
    if (out->is_refill)
        for (unsigned s = 0; s < mt->n_seats; s++)
            send_hand(l, mt, s, false);
    if (out->is_hand_over || out->is_over) {
        if (out->n_leftover > 0) {
            n = fmt_line(line, sizeof line, "TAKE %" PRIu64 " %u", mt->id,
                         out->leftover_seat);
            put_cards(line, sizeof line, &n, out->leftover, out->n_leftover);
            emit(l, mt, NULL, "%s", line);
        }
        if (r->is_multi_hand) {
            format_score(mt, line, sizeof line);
            emit(l, mt, NULL, "%s", line);
        }
        if (out->is_over) {
            match_end(l, mt, r->result(mt->state), "score", -1, now_ms);
            return true;
        }
        deal_hand(l, mt, r->hand_no(mt->state) + 1, NULL, 0, now_ms);
        return false;
    }
    send_turn(l, mt, now_ms);
    return false;
}

enum lobby_code match_move(struct lobby *l, struct match *mt, unsigned seat,
                           struct rules_move *mv, bool is_timeout,
                           char *why, size_t why_cap, uint64_t now_ms)
{
    const struct rules *r = mt->rules;
    struct rules_outcome out;
    enum rules_move_kind kind = MOVE_PLAY;

    if (why != NULL && why_cap > 0)
        why[0] = '\0';
    enum rules_verdict v = r->check(mt->state, seat, mv, why, why_cap);
    if (v != RULES_OK)
        return verdict_code(v);
    /* The rules' own word, checked once more: a move the rules accept
     * must be owed by that seat now. */
    unsigned mask = r->to_move(mt->state, &kind);
    if (!(mask & (1u << seat)) || kind != mv->kind)
        return LOBBY_NOTYOURTURN;
    /* TIMEOUT comes before the move the server makes for the seat. */
    if (is_timeout)
        emit(l, mt, NULL, "TIMEOUT %" PRIu64 " %u", mt->id, seat);
    memset(&out, 0, sizeof out);
    r->apply(mt->state, seat, mv, &out);
    mt->n_moves++;
    log_move(mt, seat, mv);
    /* Whoever moved, a bot's answer still on its way is stale now. */
    mt->seats[seat].is_thinking = false;
    mt->seats[seat].bot_gen++;
    if (l->env.journal && !l->is_replaying) {
        struct lobby_journal j = {
            .kind = LOBBY_J_MOVE, .match_id = mt->id, .seq = mt->n_moves,
            .seat = seat, .move = *mv, .is_timeout = is_timeout,
        };
        l->env.journal(l->env.ctx, &j);
    }
    if (mv->kind == MOVE_PASS) {
        emit(l, mt, NULL, "PASSED %" PRIu64 " %u", mt->id, seat);
        if (out.is_pass_done) {
            for (unsigned s = 0; s < mt->n_seats; s++) {
                send_received(l, mt, s);
                send_hand(l, mt, s, false);
            }
            send_turn(l, mt, now_ms);
        }
        return LOBBY_OK;
    }
    announce_play(l, mt, seat, mv, &out, now_ms);
    return LOBBY_OK;
}

/* One seat's clock ran out: TIMEOUT, then the rules' move for it. */
static bool auto_move_for(struct lobby *l, struct match *mt, unsigned seat,
                          uint64_t now_ms)
{
    struct rules_move mv;

    memset(&mv, 0, sizeof mv);
    mt->rules->auto_move(mt->state, seat, &mv);
    if (match_move(l, mt, seat, &mv, true, NULL, 0, now_ms) == LOBBY_OK)
        return true;
    /* The rules' own auto-move refused by their check is a bug in the
     * rules; without a move the match could only stall, so the seat
     * forfeits. */
    assert(!"rules->auto_move made a move check() refuses");
    match_forfeit(l, mt, seat, now_ms);
    return false;
}

void match_turn_expired(struct lobby *l, struct match *mt, uint64_t now_ms)
{
    enum rules_move_kind kind = MOVE_PLAY;
    unsigned mask = mt->rules->to_move(mt->state, &kind);

    if (kind == MOVE_PASS) {
        /* Every seat that has not passed, in seat order (PROTOCOL §12);
         * the last pass deals the received cards and starts the turn. */
        for (unsigned s = 0; s < mt->n_seats; s++)
            if (mask & (1u << s))
                if (!auto_move_for(l, mt, s, now_ms))
                    break;
        return;
    }
    if (mask != 0)
        auto_move_for(l, mt, seat_to_play(mt), now_ms);
}

void match_forfeit(struct lobby *l, struct match *mt, unsigned seat,
                   uint64_t now_ms)
{
    match_end(l, mt, mt->rules->forfeit_result(mt->state, seat), "forfeit",
              (int)seat, now_ms);
}

/* ---------- reconnection ---------- */

void match_away(struct lobby *l, struct match *mt, unsigned seat,
                uint64_t now_ms)
{
    mt->seats[seat].is_away = true;
    push_deadline(l, &l->grace_q, &mt->seats[seat].grace, now_ms);
    emit(l, mt, NULL, "AWAY %" PRIu64 " %u", mt->id, seat);
    match_ask_bots(l, mt); /* --away-bot, if its move is due */
}

void match_back(struct lobby *l, struct match *mt, unsigned seat,
                uint64_t now_ms)
{
    struct member *m = mt->seats[seat].m;

    mt->seats[seat].is_away = false;
    dq_remove(&mt->seats[seat].grace);
    /* An away-bot's answer still on its way is dropped: the seat is its
     * player's again. */
    mt->seats[seat].is_thinking = false;
    mt->seats[seat].bot_gen++;
    send_snapshot(l, mt, m, (int)seat, now_ms);
    emit(l, mt, m, "BACK %" PRIu64 " %u", mt->id, seat);
}

void match_chat(struct lobby *l, struct match *mt, const char *name,
                const char *text, size_t len)
{
    emit(l, mt, NULL, "CHAT %" PRIu64 " %s %.*s", mt->id, name, (int)len, text);
}

/* ---------- bots (PROTOCOL §14) ---------- */

/* bot.h's levels, in its order. */
static const char *const bot_level_names[] = {"easy", "normal", "hard"};

static void name_bot(struct match *mt, unsigned seat, unsigned level)
{
    struct seat *st = &mt->seats[seat];
    st->bot = (uint8_t)(level + 1);
    snprintf(st->name, sizeof st->name, "~%s%u", bot_level_names[level],
             seat);
    mt->had_bot = true;
}

unsigned match_seat_bot(struct lobby *l, struct match *mt, unsigned level,
                        uint64_t now_ms)
{
    unsigned s = 0;

    assert(level < 3 && mt->phase == MATCH_WAITING);
    while (is_taken(&mt->seats[s]))
        s++;
    name_bot(mt, s, level);
    mt->n_seated++;
    emit(l, mt, NULL, "SEATED %" PRIu64 " %u %s", mt->id, s,
         mt->seats[s].name);
    if (mt->n_seated == mt->n_seats)
        match_start(l, mt, now_ms, NULL, NULL, 0);
    else
        match_listed(l, mt);
    return s;
}

void match_restore_bot(struct match *mt, unsigned seat, unsigned level,
                       const char *replaced_name)
{
    assert(level < 3 && seat < mt->n_seats && !is_taken(&mt->seats[seat]));
    name_bot(mt, seat, level);
    mt->n_seated++;
    if (replaced_name != NULL) {
        mt->replaced[seat] = true;
        snprintf(mt->replaced_name[seat], sizeof mt->replaced_name[seat], "%s",
                 replaced_name);
    }
}

void match_seat_all(struct lobby *l, struct match *mt, struct member **members,
                    unsigned n, unsigned n_bots, unsigned level,
                    uint64_t now_ms)
{
    assert(mt->n_seated == 0 && n + n_bots == mt->n_seats);
    for (unsigned s = 0; s < n; s++) {
        struct member *m = members[s];
        mt->seats[s].m = m;
        memcpy(mt->seats[s].name, m->name, sizeof m->name);
        m->match = mt;
        m->seat = s;
    }
    for (unsigned s = n; s < mt->n_seats; s++)
        name_bot(mt, s, level);
    mt->n_seated = mt->n_seats;
    for (unsigned s = 0; s < n; s++)
        match_send_seated(l, mt, members[s]);
    match_start(l, mt, now_ms, NULL, NULL, 0);
}

void match_ask_bots(struct lobby *l, struct match *mt)
{
    enum rules_move_kind kind;

    if (l->env.bot_due == NULL || l->is_replaying ||
        mt->phase != MATCH_PLAYING)
        return;
    unsigned mask = mt->rules->to_move(mt->state, &kind);
    for (unsigned s = 0; s < mt->n_seats; s++) {
        struct seat *st = &mt->seats[s];
        unsigned level;
        uint32_t delay;
        if (!(mask & (1u << s)) || st->is_thinking)
            continue;
        if (st->bot != 0) {
            level = st->bot - 1u;
            delay = l->env.bot_delay_ms;
        } else if (st->m != NULL && st->is_away && l->env.away_bot != 0) {
            level = l->env.away_bot - 1u; /* at once (PROTOCOL §10) */
            delay = 0;
        } else {
            continue;
        }
        st->is_thinking = true;
        l->env.bot_due(l->env.ctx, mt->id, s, level, ++st->bot_gen, delay);
    }
}

static void replay_deck(void *ctx, unsigned hand, card_t *deck)
{
    const struct match *mt = ctx;
    assert(hand >= 1 && hand <= mt->n_decks);
    memcpy(deck, mt->decks[hand - 1], mt->rules->deck_size);
}

int match_bot_view(const struct match *mt, unsigned seat, struct bot_view *v)
{
    bot_view_init(v, mt->rules, mt->n_seats, seat);
    if (mt->n_decks == 0)
        return -1;
    /* Unpacked for the replay (log_move): once per bot decision. */
    struct bot_logged_move *log =
        mem_alloc((mt->n_logged ? mt->n_logged : 1) * sizeof *log);
    const uint8_t *p = mt->moves;
    for (unsigned i = 0; i < mt->n_logged; i++) {
        memset(&log[i], 0, sizeof log[i]);
        log[i].seat = p[0] & 7;
        log[i].mv.kind = p[0] >> 3;
        log[i].mv.n = p[1];
        memcpy(log[i].mv.cards, p + 2, p[1]);
        p += 2 + p[1];
    }
    int rc = bot_view_replay(v, replay_deck, (void *)mt, log, mt->n_logged);
    free(log);
    return rc;
}

void match_replace(struct lobby *l, struct match *mt, unsigned seat,
                   uint64_t now_ms)
{
    struct seat *st = &mt->seats[seat];
    struct member *m = st->m;

    (void)now_ms;
    assert(m != NULL && m->client == NULL);
    mt->replaced[seat] = true;
    memcpy(mt->replaced_name[seat], st->name, sizeof st->name);
    st->m = NULL;
    st->is_away = false;
    st->is_thinking = false;
    st->bot_gen++;
    dq_remove(&st->grace);
    m->match = NULL;
    match_forget_member(l, m);
    name_bot(mt, seat, 1);
    /* Journaled with the REPLACED line (the caller's capture), so that a
     * restart finds the bot in the seat. */
    if (l->env.journal && !l->is_replaying) {
        struct lobby_journal j = {
            .kind = LOBBY_J_REPLACED, .match_id = mt->id, .seat = seat,
            .n_seats = mt->n_seats,
        };
        j.bots[seat] = st->bot;
        l->env.journal(l->env.ctx, &j);
    }
    emit(l, mt, NULL, "REPLACED %" PRIu64 " %u %s", mt->id, seat, st->name);
    match_ask_bots(l, mt);
}
