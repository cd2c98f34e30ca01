/*
 * lobby: see lobby.h.
 *
 * Argument errors are checked before state errors: a malformed command is
 * BADARG whatever the connection's state (docs/PROTOCOL.md, "Choices").
 */
#include "game/lobby.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "game/deal.h"
#include "game/match.h"

static const struct {
    const char *name, *text;
} codes[] = {
    [LOBBY_OK] = {"OK", ""},
    [LOBBY_BADARG] = {"BADARG", "malformed arguments"},
    [LOBBY_BADNAME] = {"BADNAME", "a name is 1-16 of A-Z a-z 0-9 _ -"},
    [LOBBY_NAMETAKEN] = {"NAMETAKEN", "that name is in use"},
    [LOBBY_NOGAME] = {"NOGAME", "no such game (see GAMES)"},
    [LOBBY_NOMATCH] = {"NOMATCH", "no such match"},
    [LOBBY_FULL] = {"FULL", "the match has no free seat"},
    [LOBBY_ALREADY] = {"ALREADY", "already at a match"},
    [LOBBY_NOTPLAYING] = {"NOTPLAYING", "not playing a match"},
    [LOBBY_NOTYOURTURN] = {"NOTYOURTURN", "it is not your turn"},
    [LOBBY_NOTINHAND] = {"NOTINHAND", "that card is not in your hand"},
    [LOBBY_BADTOKEN] = {"BADTOKEN", "unknown or malformed resume token"},
    [LOBBY_ILLEGAL] = {"ILLEGAL", "the rules forbid that card now"},
    [LOBBY_UNAVAILABLE] = {"UNAVAILABLE", "a service the server needs is unavailable, try again"},
};

const char *lobby_code_name(enum lobby_code code)
{
    return codes[code].name;
}

const char *lobby_code_text(enum lobby_code code)
{
    return codes[code].text;
}

static struct match *find_match(struct lobby *l, uint64_t id);
static bool valid_name(const char *s, size_t len);
static bool valid_token(const char *s, size_t len);
static void journal_token(struct lobby *l, struct match *mt, unsigned seat);

/* ---------- lifecycle ---------- */

struct lobby *lobby_new(const struct lobby_env *env)
{
    struct lobby *l = mem_calloc(1, sizeof *l);

    l->env = *env;
    strmap_init(&l->names);
    strmap_init(&l->tokens);
    strmap_init(&l->matches);
    strmap_init(&l->owners);
    dq_init(&l->turn_q, env->turn_ms);
    dq_init(&l->grace_q, env->grace_ms);
    dq_init(&l->wait_q, env->waiting_ms);
    return l;
}

void lobby_free(struct lobby *l)
{
    if (l == NULL)
        return;
    /* Only held (away) members remain here: connected ones were freed
     * with their sessions. Free them through their matches. */
    while (l->first != NULL) {
        struct match *mt = l->first;
        for (unsigned s = 0; s < mt->n_seats; s++) {
            struct member *m = mt->seats[s].m;
            if (m != NULL && m->client == NULL) {
                mt->seats[s].m = NULL;
                match_forget_member(l, m);
            }
        }
        match_free(l, mt);
    }
    strmap_free(&l->names);
    strmap_free(&l->tokens);
    strmap_free(&l->matches);
    strmap_free(&l->owners); /* emptied by match_free */
    free(l);
}

struct member *lobby_member_new(struct lobby *l, void *client)
{
    struct member *m = mem_calloc(1, sizeof *m);
    (void)l;
    m->client = client;
    return m;
}

void lobby_member_gone(struct lobby *l, struct member *m, uint64_t now_ms)
{
    if (m == NULL)
        return;
    if (m->watching)
        match_remove_watcher(m->watching, m);
    m->client = NULL;
    if (m->match != NULL) {
        struct match *mt = m->match;
        if (mt->phase == MATCH_PLAYING) {
            /* Hold the seat and the name for the grace period (§5). */
            match_away(l, mt, m->seat, now_ms);
            return;
        }
        match_unseat(l, mt, m->seat);
    }
    match_forget_member(l, m);
}

const char *lobby_member_name(const struct member *m)
{
    return m->name[0] ? m->name : NULL;
}

void lobby_member_set_key(struct member *m, const char *key)
{
    snprintf(m->key, sizeof m->key, "%s", key ? key : "");
}

/* ---------- identity ---------- */

static bool valid_name(const char *s, size_t len)
{
    if (len < 1 || len > LOBBY_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void give_token(struct lobby *l, struct member *m)
{
    if (m->token[0] != '\0') {
        strmap_del(&l->tokens, m->token, strlen(m->token));
        if (l->env.on_token)
            l->env.on_token(l->env.ctx, m->token, false);
    }
    do
        l->env.new_token(l->env.ctx, m->token);
    while (strmap_get(&l->tokens, m->token, LOBBY_TOKEN_LEN) != NULL);
    strmap_put(&l->tokens, m->token, m);
    if (l->env.on_token)
        l->env.on_token(l->env.ctx, m->token, true);
}

enum lobby_code lobby_nick_check(struct lobby *l, const struct member *m,
                                 const char *name, size_t len)
{
    if (m->name[0] != '\0')
        return LOBBY_ALREADY;
    if (!valid_name(name, len))
        return LOBBY_BADNAME;
    if (strmap_get(&l->names, name, len) != NULL)
        return LOBBY_NAMETAKEN;
    return LOBBY_OK;
}

enum lobby_code lobby_nick(struct lobby *l, struct member *m, const char *name,
                           size_t len, bool is_registered,
                           char token[LOBBY_TOKEN_LEN + 1])
{
    enum lobby_code rc = lobby_nick_check(l, m, name, len);

    if (rc != LOBBY_OK)
        return rc;
    m->is_registered = is_registered;
    memcpy(m->name, name, len);
    m->name[len] = '\0';
    strmap_put(&l->names, m->name, m);
    if (l->env.on_name)
        l->env.on_name(l->env.ctx, m->name, true);
    give_token(l, m);
    memcpy(token, m->token, sizeof m->token);
    return LOBBY_OK;
}

static bool valid_token(const char *s, size_t len)
{
    if (len != LOBBY_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

void lobby_member_identity(const struct member *m, struct lobby_identity *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->name, m->name, sizeof out->name);
    memcpy(out->token, m->token, sizeof out->token);
    snprintf(out->seed, sizeof out->seed, "%s", m->seed);
    memcpy(out->key, m->key, sizeof out->key);
    out->is_registered = m->is_registered;
}

enum lobby_code lobby_adopt(struct lobby *l, struct member *m,
                            const struct lobby_identity *id)
{
    size_t n = strlen(id->name);

    if (m->name[0] != '\0')
        return LOBBY_ALREADY;
    if (id->seed[0] != '\0' && strlen(id->seed) <= DEAL_SEED_MAX)
        snprintf(m->seed, sizeof m->seed, "%s", id->seed);
    lobby_member_set_key(m, id->key);
    if (n == 0)
        return LOBBY_OK; /* anonymous: a spectator, or about to RESUME */
    if (!valid_name(id->name, n))
        return LOBBY_BADNAME;
    if (!valid_token(id->token, strlen(id->token)))
        return LOBBY_BADTOKEN;
    if (strmap_get(&l->names, id->name, n) != NULL ||
        strmap_get(&l->tokens, id->token, LOBBY_TOKEN_LEN) != NULL)
        return LOBBY_NAMETAKEN;
    memcpy(m->name, id->name, n + 1);
    memcpy(m->token, id->token, LOBBY_TOKEN_LEN + 1);
    m->is_registered = id->is_registered;
    strmap_put(&l->names, m->name, m);
    strmap_put(&l->tokens, m->token, m);
    if (l->env.on_name)
        l->env.on_name(l->env.ctx, m->name, true);
    if (l->env.on_token)
        l->env.on_token(l->env.ctx, m->token, true);
    return LOBBY_OK;
}

enum lobby_code lobby_resume(struct lobby *l, struct member **mp, void *client,
                             const char *token, size_t len, uint64_t now_ms,
                             char new_token[LOBBY_TOKEN_LEN + 1],
                             uint64_t *match_id)
{
    struct member *cur = *mp, *m;

    if (!valid_token(token, len))
        return LOBBY_BADTOKEN;
    if (cur->name[0] != '\0')
        return LOBBY_ALREADY;
    m = strmap_get(&l->tokens, token, len);
    if (m == NULL)
        return LOBBY_BADTOKEN;

    /* The anonymous member of this connection gives way to the resumed
     * one (it may have been watching). */
    if (cur->watching)
        match_remove_watcher(cur->watching, cur);
    /* The seed is the connection's (PROTOCOL §13): it comes along. */
    memcpy(m->seed, cur->seed, sizeof m->seed);
    memcpy(m->key, cur->key, sizeof m->key); /* so is the address */
    free(cur);

    void *old_client = m->client;
    m->client = client;
    *mp = m;
    give_token(l, m); /* single use: the old token dies here */
    memcpy(new_token, m->token, sizeof m->token);
    *match_id = m->match ? m->match->id : 0;
    if (m->watching && old_client != NULL)
        match_remove_watcher(m->watching, m);
    if (old_client != NULL)
        l->env.evict(l->env.ctx, old_client); /* already detached */
    if (m->match != NULL) {
        if (m->match->phase == MATCH_PLAYING) {
            journal_token(l, m->match, m->seat);
            match_back(l, m->match, m->seat, now_ms);
        }
        else
            match_send_seated(l, m->match, m);
    }
    return LOBBY_OK;
}

/* ---------- GAMES, LIST ---------- */

void lobby_games(char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; rules_registry[i] != NULL && n < cap; i++) {
        const struct rules *r = rules_registry[i];
        n += (size_t)snprintf(out + n, cap - n, "%s%s:", i ? " " : "", r->name);
        for (size_t k = 0; k < RULES_MAX_SEATS && r->seat_counts[k] && n < cap; k++)
            n += (size_t)snprintf(out + n, cap - n, "%s%u", k ? "," : "",
                                  r->seat_counts[k]);
    }
}

#define LIST_MAX 50

static size_t list_item(char *items, size_t n, size_t cap,
                        const struct match *mt)
{
    int k = snprintf(items + n, cap - n, " %" PRIu64 ":%s:%u/%u:%s", mt->id,
                     mt->rules->name, mt->n_seated, mt->n_seats,
                     mt->phase == MATCH_WAITING ? "waiting" : "playing");
    return k > 0 ? n + (size_t)k : n;
}

/* Against lobby spam (docs/PROTOCOL.md §10): the matches a player can
 * join first, those with the most seated players first (a spammer's
 * idle match has one), then the newest first; then the matches in play,
 * newest first. The list is by id, so walking it backwards is newest
 * first; one walk per seated count. */
void lobby_list(struct lobby *l, char *out, size_t cap)
{
    char items[LIST_MAX * 48];
    size_t n = 0, count = 0;

    items[0] = '\0';
    for (unsigned k = RULES_MAX_SEATS; k >= 1 && count < LIST_MAX; k--)
        for (struct match *mt = l->last; mt && count < LIST_MAX; mt = mt->prev)
            if (mt->phase == MATCH_WAITING && mt->n_seated == k) {
                n = list_item(items, n, sizeof items, mt);
                count++;
            }
    for (struct match *mt = l->last; mt && count < LIST_MAX; mt = mt->prev)
        if (mt->phase == MATCH_PLAYING) {
            n = list_item(items, n, sizeof items, mt);
            count++;
        }
    snprintf(out, cap, "%zu%s", count, items);
}

/* ---------- match commands ---------- */

static bool busy(const struct member *m)
{
    return m->match != NULL || m->watching != NULL;
}

enum lobby_code lobby_create(struct lobby *l, struct member *m,
                             const char *game, size_t game_len,
                             unsigned n_seats, uint64_t now_ms, uint64_t *id)
{
    const struct rules *r = rules_find(game, game_len);

    if (r == NULL)
        return LOBBY_NOGAME;
    if (n_seats == 0)
        n_seats = r->seat_counts[0];
    if (!rules_has_seats(r, n_seats))
        return LOBBY_BADARG;
    if (busy(m))
        return LOBBY_ALREADY;
    struct lobby_owner *owner = NULL;
    size_t key_len = strlen(m->key);
    if (key_len > 0 && l->env.max_waiting_per_key > 0) {
        owner = strmap_get(&l->owners, m->key, key_len);
        if (owner != NULL && owner->n_waiting >= l->env.max_waiting_per_key)
            return LOBBY_FULL;
        if (owner == NULL) {
            owner = mem_calloc(1, sizeof *owner);
            memcpy(owner->key, m->key, key_len + 1);
            strmap_put(&l->owners, owner->key, owner);
        }
    }
    struct match *mt = match_new(l, r, n_seats);
    *id = mt->id;
    if (owner != NULL) {
        mt->owner = owner;
        owner->n_waiting++;
    }
    if (l->env.waiting_ms > 0) {
        dq_push(&l->wait_q, &mt->waiting, now_ms);
        l->env.arm(l->env.ctx, mt->waiting.deadline_ms);
    }
    match_seat(l, mt, m, now_ms); /* may start it: a one-seat game */
    return LOBBY_OK;
}

static struct match *find_match(struct lobby *l, uint64_t id)
{
    char key[24];
    int n = snprintf(key, sizeof key, "%" PRIu64, id);
    return strmap_get(&l->matches, key, (size_t)n);
}

enum lobby_code lobby_join(struct lobby *l, struct member *m, uint64_t id,
                           uint64_t now_ms, unsigned *seat)
{
    struct match *mt = find_match(l, id);

    if (mt == NULL)
        return LOBBY_NOMATCH;
    /* Watching this very match is no obstacle (PROTOCOL §11). */
    if (m->match != NULL || (m->watching != NULL && m->watching != mt))
        return LOBBY_ALREADY;
    if (mt->phase != MATCH_WAITING || mt->n_seated == mt->n_seats)
        return LOBBY_FULL;
    if (m->watching == mt)
        match_remove_watcher(mt, m);
    *seat = match_seat(l, mt, m, now_ms);
    return LOBBY_OK;
}

enum lobby_code lobby_watch(struct lobby *l, struct member *m, uint64_t id,
                            uint64_t now_ms)
{
    struct match *mt = find_match(l, id);

    if (mt == NULL)
        return LOBBY_NOMATCH;
    if (busy(m))
        return LOBBY_ALREADY;
    if (l->env.max_watchers != 0 && mt->n_watchers >= l->env.max_watchers)
        return LOBBY_FULL;
    match_add_watcher(l, mt, m, now_ms);
    return LOBBY_OK;
}

enum lobby_code lobby_move(struct lobby *l, struct member *m,
                           struct rules_move *mv, char *why, size_t why_cap,
                           uint64_t now_ms)
{
    if (m->match == NULL || m->match->phase != MATCH_PLAYING)
        return LOBBY_NOTPLAYING;
    return match_move(l, m->match, m->seat, mv, false, why, why_cap, now_ms);
}

enum lobby_code lobby_seed(struct lobby *l, struct member *m, const char *hex,
                           size_t len, char out[LOBBY_SEED_MAX + 1])
{
    (void)l;
    if (deal_seed_parse(hex, len, out) != 0)
        return LOBBY_BADARG;
    memcpy(m->seed, out, len + 1);
    return LOBBY_OK;
}

enum lobby_code lobby_say(struct lobby *l, struct member *m, const char *text,
                          size_t len)
{
    struct match *mt = m->match ? m->match : m->watching;

    if (mt == NULL)
        return LOBBY_NOTPLAYING;
    match_chat(l, mt, m->name, text, len);
    return LOBBY_OK;
}

enum lobby_code lobby_leave(struct lobby *l, struct member *m, uint64_t now_ms,
                            uint64_t *id)
{
    if (m->watching) {
        *id = m->watching->id;
        match_remove_watcher(m->watching, m);
        return LOBBY_OK;
    }
    if (m->match == NULL)
        return LOBBY_NOTPLAYING;
    struct match *mt = m->match;
    *id = mt->id;
    if (mt->phase == MATCH_WAITING) {
        match_unseat(l, mt, m->seat);
        return LOBBY_OK;
    }
    /* Forfeit: the leaver hears nothing more from this match (§9). */
    unsigned seat = m->seat;
    mt->seats[seat].m = NULL;
    m->match = NULL;
    match_forfeit(l, mt, seat, now_ms);
    return LOBBY_OK;
}

/* ---------- journal and restore ---------- */

static void journal_token(struct lobby *l, struct match *mt, unsigned seat)
{
    if (l->env.journal == NULL || l->is_replaying)
        return;
    struct lobby_journal j = {
        .kind = LOBBY_J_TOKEN, .match_id = mt->id, .seat = seat,
        .n_seats = mt->n_seats,
    };
    j.tokens[seat] = mt->seats[seat].m->token;
    l->env.journal(l->env.ctx, &j);
}

void lobby_set_last_id(struct lobby *l, uint64_t id)
{
    if (id > l->next_id)
        l->next_id = id;
}

int lobby_restore(struct lobby *l, const struct lobby_restore *r,
                  uint64_t now_ms)
{
    /* A move with no cards stands for a damaged record (the caller could
     * not read it): the replay stops there. */
    const struct rules *rules = rules_find(r->start.game, strlen(r->start.game));

    if (rules == NULL || !rules_has_seats(rules, r->start.n_seats))
        return -1;
    for (unsigned s = 0; s < r->start.n_seats; s++) {
        size_t n = strlen(r->start.names[s]);
        if (r->start.bots[s] > 3 || (r->start.replaced[s] && r->start.bots[s] == 0))
            return -1;
        if (r->start.bots[s] != 0)
            continue; /* a bot's seat: its name is made again, no token */
        if (!valid_name(r->start.names[s], n) || strmap_get(&l->names, r->start.names[s], n) ||
            !valid_token(r->start.tokens[s], strlen(r->start.tokens[s])) ||
            strmap_get(&l->tokens, r->start.tokens[s], LOBBY_TOKEN_LEN))
            return -1;
    }
    uint64_t saved_id = l->next_id;
    l->next_id = r->start.match_id - 1;
    l->is_replaying = true; /* also: the id is the record's (env.new_id) */
    struct match *mt = match_new(l, rules, r->start.n_seats);
    l->next_id = saved_id > r->start.match_id ? saved_id : r->start.match_id;

    for (unsigned s = 0; s < r->start.n_seats; s++) {
        if (r->start.bots[s] != 0) {
            match_restore_bot(mt, s, r->start.bots[s] - 1u,
                              r->start.replaced[s] ? r->start.names[s] : NULL);
            continue;
        }
        struct member *m = mem_calloc(1, sizeof *m);
        snprintf(m->name, sizeof m->name, "%s", r->start.names[s]);
        snprintf(m->token, sizeof m->token, "%s", r->start.tokens[s]);
        m->is_registered = r->start.is_registered[s];
        strmap_put(&l->names, m->name, m);
        strmap_put(&l->tokens, m->token, m);
        if (l->env.on_name)
            l->env.on_name(l->env.ctx, m->name, true);
        if (l->env.on_token)
            l->env.on_token(l->env.ctx, m->token, true);
        mt->seats[s].m = m;
        memcpy(mt->seats[s].name, m->name, sizeof m->name);
        mt->n_seated++;
        m->match = mt;
        m->seat = s;
    }
    if (r->start.secret != NULL)
        memcpy(mt->secret, r->start.secret, sizeof mt->secret);
    deal_commit_hex(mt->secret, mt->commit);
    /* A version-1 record was dealt from random draws: nothing to prove. */
    mt->is_verifiable = r->start.secret != NULL;
    const char *seeds[RULES_MAX_SEATS];
    for (unsigned s = 0; s < r->start.n_seats; s++)
        seeds[s] = r->start.seeds[s] ? r->start.seeds[s] : "";
    match_start(l, mt, now_ms, seeds,
                r->start.secret == NULL ? r->start.draws : NULL,
                r->start.n_draws);
    /* Every move as recorded, through the same path as live play: the
     * rules check it again, so a damaged record stops the replay. */
    int rc = 0;
    for (unsigned i = 0; i < r->n_moves && rc == 0; i++) {
        struct rules_move mv = r->moves[i].move;
        if (mv.n == 0 || find_match(l, r->start.match_id) != mt ||
            match_move(l, mt, r->moves[i].seat, &mv, r->moves[i].is_timeout,
                       NULL, 0, now_ms) != LOBBY_OK)
            rc = -1;
    }
    l->is_replaying = false;
    if (rc != 0 || find_match(l, r->start.match_id) != mt) {
        /* The record does not replay (or ended the match): drop it. */
        if (find_match(l, r->start.match_id) == mt)
            match_forfeit(l, mt, 0, now_ms);
        return -1;
    }
    /* Every person is away: the grace period starts anew, so does the
     * turn; the bots play on (a bot's move may be due already). */
    for (unsigned s = 0; s < r->start.n_seats; s++)
        if (mt->seats[s].m != NULL)
            match_away(l, mt, s, now_ms);
    match_ask_bots(l, mt);
    return 0;
}

/* ---------- deadlines ---------- */

void lobby_tick(struct lobby *l, uint64_t now_ms)
{
    struct dq_node *n;

    while ((n = dq_first(&l->grace_q)) != NULL && n->deadline_ms <= now_ms) {
        struct seat *st = DQ_ENTRY(n, struct seat, grace);
        dq_remove(n);
        /* A match of bots alone would play on for nobody: forfeit. */
        unsigned n_others = 0;
        for (unsigned i = 0; i < st->match->n_seats; i++)
            n_others += i != st->index && st->match->seats[i].m != NULL;
        if (l->env.is_abandon_bot && l->env.bot_due != NULL && n_others > 0)
            match_replace(l, st->match, st->index, now_ms);
        else
            match_forfeit(l, st->match, st->index, now_ms);
    }
    while ((n = dq_first(&l->turn_q)) != NULL && n->deadline_ms <= now_ms) {
        struct match *mt = DQ_ENTRY(n, struct match, turn);
        dq_remove(n);
        match_turn_expired(l, mt, now_ms);
    }
    while ((n = dq_first(&l->wait_q)) != NULL && n->deadline_ms <= now_ms) {
        struct match *mt = DQ_ENTRY(n, struct match, waiting);
        dq_remove(n);
        match_expire(l, mt);
    }
}

uint64_t lobby_next_deadline(struct lobby *l)
{
    uint64_t first = UINT64_MAX;
    struct dq_node *a = dq_first(&l->turn_q), *b = dq_first(&l->grace_q);
    struct dq_node *c = dq_first(&l->wait_q);

    if (a && a->deadline_ms < first)
        first = a->deadline_ms;
    if (b && b->deadline_ms < first)
        first = b->deadline_ms;
    if (c && c->deadline_ms < first)
        first = c->deadline_ms;
    return first;
}

void lobby_counts(const struct lobby *l, size_t *n_waiting, size_t *n_playing,
                  uint64_t *n_finished)
{
    *n_waiting = l->n_waiting;
    *n_playing = l->n_playing;
    *n_finished = l->n_finished;
}

/* ---------- bots and quick play (PROTOCOL §14) ---------- */

bool lobby_is_busy(const struct member *m) { return busy(m); }

bool lobby_member_is_registered(const struct member *m)
{
    return m->is_registered;
}

enum lobby_code lobby_add_bot(struct lobby *l, struct member *m,
                              unsigned level, uint64_t now_ms, unsigned *seat,
                              char name[LOBBY_NAME_MAX + 1])
{
    struct match *mt = m->match;

    if (mt == NULL || mt->phase != MATCH_WAITING)
        return LOBBY_NOTPLAYING;
    if (mt->n_seated == mt->n_seats)
        return LOBBY_FULL;
    /* The seat and name are read before the start can free nothing: a
     * match that starts stays until its END. */
    *seat = match_seat_bot(l, mt, level, now_ms);
    memcpy(name, mt->seats[*seat].name, LOBBY_NAME_MAX + 1);
    return LOBBY_OK;
}

void lobby_bot_move(struct lobby *l, uint64_t match_id, unsigned seat,
                    uint64_t gen, int rc, const struct rules_move *mv,
                    uint64_t now_ms)
{
    struct match *mt = find_match(l, match_id);

    if (mt == NULL || mt->phase != MATCH_PLAYING || seat >= mt->n_seats)
        return;
    struct seat *st = &mt->seats[seat];
    if (!st->is_thinking || st->bot_gen != gen)
        return; /* stale: the match or the seat moved on */
    st->is_thinking = false;
    struct rules_move m = *mv;
    if (rc != 0 ||
        match_move(l, mt, seat, &m, false, NULL, 0, now_ms) != LOBBY_OK) {
        /* The bot found no move (or one the rules refuse, a bug): the
         * rules' auto-move keeps the match going. */
        memset(&m, 0, sizeof m);
        mt->rules->auto_move(mt->state, seat, &m);
        match_move(l, mt, seat, &m, false, NULL, 0, now_ms);
    }
}

int lobby_bot_view(struct lobby *l, uint64_t match_id, unsigned seat,
                   struct bot_view *v)
{
    struct match *mt = find_match(l, match_id);

    if (mt == NULL || mt->phase != MATCH_PLAYING || seat >= mt->n_seats)
        return -1;
    if (match_bot_view(mt, seat, v) != 0) {
        bot_view_free(v);
        return -1;
    }
    return 0;
}

uint64_t lobby_bot_match(struct lobby *l, const struct rules *r,
                         unsigned n_seats, unsigned level, uint64_t now_ms)
{
    struct match *mt = match_new(l, r, n_seats);
    uint64_t id = mt->id;

    assert(level < 3);
    match_seat_all(l, mt, NULL, 0, n_seats, level, now_ms);
    return id;
}

bool lobby_has_match(struct lobby *l, uint64_t id)
{
    return find_match(l, id) != NULL;
}

uint64_t lobby_quick_match(struct lobby *l, const struct rules *r,
                           unsigned n_seats, struct member **members,
                           unsigned n, uint64_t now_ms)
{
    struct match *mt = match_new(l, r, n_seats);
    uint64_t id = mt->id;

    for (unsigned i = 0; i < n; i++)
        assert(!busy(members[i]));
    match_seat_all(l, mt, members, n, n_seats - n, 1, now_ms);
    return id;
}
