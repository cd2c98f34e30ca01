/* Unit tests for game/lobby_upgrade with a fake environment: a match in
 * play restored from its journal takes its players back silently (no
 * line to anyone), keeps its turn clock and its record without the
 * restore's AWAY lines, and plays on; a waiting match comes back whole
 * (same id, same COMMIT) and starts when the next player joins;
 * contradictions are refused. */
#include <sodium.h>

#include "check.h"
#include "game/lobby.h"
#include "game/lobby_upgrade.h"
#include "game/match.h"

struct client {
    char log[16384];
    size_t len;
};

static void fake_send(void *ctx, void *client, const char *line, size_t len)
{
    struct client *c = client;
    (void)ctx;
    if (c->len + len + 2 > sizeof c->log)
        return;
    memcpy(c->log + c->len, line, len);
    c->len += len;
    c->log[c->len++] = '\n';
    c->log[c->len] = '\0';
}

static void fake_evict(void *ctx, void *client)
{
    (void)ctx;
    (void)client;
}

static void fake_arm(void *ctx, uint64_t deadline)
{
    (void)ctx;
    (void)deadline;
}

static uint64_t seed = 7;
static void fake_secret(void *ctx, uint8_t out[LOBBY_SECRET_LEN])
{
    (void)ctx;
    for (int i = 0; i < LOBBY_SECRET_LEN; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (uint8_t)(seed >> 33);
    }
}

static int n_tokens;
static void fake_token(void *ctx, char out[LOBBY_TOKEN_LEN + 1])
{
    (void)ctx;
    snprintf(out, LOBBY_TOKEN_LEN + 1, "%032x", ++n_tokens);
}

/* The journal of the old lobby, enough for lobby_restore. */
static struct {
    char game[16];
    unsigned n_seats;
    uint8_t secret[LOBBY_SECRET_LEN];
    char names[4][LOBBY_NAME_MAX + 1], tokens[4][LOBBY_TOKEN_LEN + 1];
    char seeds[4][LOBBY_SEED_MAX + 1];
    uint64_t id;
    struct lobby_move moves[64];
    unsigned n_moves;
} jr;

static void fake_journal(void *ctx, const struct lobby_journal *j)
{
    (void)ctx;
    if (j->kind == LOBBY_J_START) {
        snprintf(jr.game, sizeof jr.game, "%s", j->game);
        jr.n_seats = j->n_seats;
        jr.id = j->match_id;
        memcpy(jr.secret, j->secret, LOBBY_SECRET_LEN);
        for (unsigned s = 0; s < j->n_seats; s++) {
            snprintf(jr.names[s], sizeof jr.names[s], "%s", j->names[s]);
            snprintf(jr.tokens[s], sizeof jr.tokens[s], "%s", j->tokens[s]);
            snprintf(jr.seeds[s], sizeof jr.seeds[s], "%s", j->seeds[s]);
        }
    } else if (j->kind == LOBBY_J_MOVE && jr.n_moves < 64) {
        jr.moves[jr.n_moves].seat = j->seat;
        jr.moves[jr.n_moves].move = j->move;
        jr.moves[jr.n_moves].is_timeout = j->is_timeout;
        jr.n_moves++;
    } else if (j->kind == LOBBY_J_TOKEN) {
        snprintf(jr.tokens[j->seat], sizeof jr.tokens[0], "%s",
                 j->tokens[j->seat]);
    }
}

static struct lobby *new_lobby(void)
{
    struct lobby_env env = {
        .send = fake_send, .evict = fake_evict, .arm = fake_arm,
        .journal = fake_journal, .new_secret = fake_secret,
        .new_token = fake_token, .turn_ms = 1000, .grace_ms = 5000,
        .waiting_ms = 60000, .max_waiting_per_key = 2,
    };
    CHECK(sodium_init() >= 0);
    return lobby_new(&env);
}

static struct member *player(struct lobby *l, struct client *c, const char *name)
{
    char tok[LOBBY_TOKEN_LEN + 1];
    struct member *m = lobby_member_new(l, c);
    CHECK_INT(lobby_nick(l, m, name, strlen(name), false, tok), LOBBY_OK);
    return m;
}

static void restore_from_journal(struct lobby *l, uint64_t now)
{
    struct lobby_restore r = {
        .start = {.kind = LOBBY_J_START, .match_id = jr.id, .game = jr.game,
                  .n_seats = jr.n_seats, .secret = jr.secret},
        .moves = jr.moves,
        .n_moves = jr.n_moves,
    };
    for (unsigned s = 0; s < jr.n_seats; s++) {
        r.start.names[s] = jr.names[s];
        r.start.tokens[s] = jr.tokens[s];
        r.start.seeds[s] = jr.seeds[s];
    }
    CHECK_INT(lobby_restore(l, &r, now), 0);
}

static struct lobby_match_state states[8];
static unsigned n_states;

static void keep_state(void *ctx, const struct lobby_match_state *m)
{
    (void)ctx;
    states[n_states++] = *m;
}

/* A HAND/TURN-free way to find whose turn it is: the rules. */
static unsigned to_move(const struct match *mt)
{
    enum rules_move_kind kind;
    unsigned mask = mt->rules->to_move(mt->state, &kind);
    for (unsigned s = 0; s < 4; s++)
        if (mask & (1u << s))
            return s;
    return 0;
}

static enum lobby_code play_any(struct lobby *l, struct member *m, uint64_t now)
{
    struct rules_move all[64];
    unsigned k = m->match->rules->legal_moves(m->match->state, m->seat, all, 64);
    CHECK(k > 0);
    return lobby_move(l, m, &all[0], NULL, 0, now);
}

TEST(playing_match_comes_back_silently_with_its_clock)
{
    static struct client ca, cb, na, nb;
    struct lobby *old = new_lobby();
    struct member *a = player(old, &ca, "alice"), *b = player(old, &cb, "bob");
    uint64_t id;
    unsigned seat;

    memset(&jr, 0, sizeof jr);
    CHECK_INT(lobby_create(old, a, "briscola", 8, 2, 0, &id), LOBBY_OK);
    CHECK_INT(lobby_join(old, b, id, 0, &seat), LOBBY_OK);
    struct match *mt = old->first;
    struct member *first = to_move(mt) == a->seat ? a : b;
    CHECK_INT(play_any(old, first, 100), LOBBY_OK); /* mid-trick */
    /* the old process's view, 300 ms later */
    struct lobby_member_state sa, sb;
    lobby_member_export(a, &sa);
    lobby_member_export(b, &sb);
    CHECK(sa.match_id == id && sb.match_id == id);
    n_states = 0;
    lobby_each_match(old, keep_state, NULL);
    CHECK_INT(n_states, 1);
    CHECK(states[0].is_playing);
    uint64_t turn_left = states[0].turn_deadline_ms - 400;
    char *old_log = evlog_text(&mt->log, mt->id_key, NULL);

    /* the new process: its clock says 10 000 */
    struct lobby *l = new_lobby();
    restore_from_journal(l, 10000);
    struct member *ma = lobby_adopt_member(l, &na, &sa);
    struct member *mb = lobby_adopt_member(l, &nb, &sb);
    CHECK(ma != NULL && mb != NULL);
    states[0].turn_deadline_ms = 10000 + turn_left;
    lobby_adopt_clocks(l, states, 1);
    CHECK_INT(na.len + nb.len, 0); /* not a line to anyone */
    struct match *nt = l->first;
    CHECK(nt != NULL && nt->id == id);
    CHECK(!nt->seats[0].is_away && !nt->seats[1].is_away);
    CHECK(nt->turn.deadline_ms == 10000 + turn_left);
    CHECK(lobby_next_deadline(l) == 10000 + turn_left);
    /* the record, without the restore's AWAYs (a restore starts it at
     * START: the SEATED lines before it are not rebuilt, as after a
     * restart) */
    char *new_log = evlog_text(&nt->log, nt->id_key, NULL);
    CHECK_STR(new_log, strstr(old_log, "START "));
    free(new_log);
    free(old_log);
    CHECK(memcmp(nt->state, mt->state, mt->rules->state_size) == 0);
    /* it plays on: the next move reaches both new clients */
    struct member *next = to_move(nt) == ma->seat ? ma : mb;
    CHECK_INT(play_any(l, next, 10010), LOBBY_OK);
    CHECK(strstr(na.log, "PLAYED ") != NULL && strstr(nb.log, "PLAYED ") != NULL);
    /* and its clock runs out when it would have */
    na.len = 0;
    lobby_tick(l, nt->turn.deadline_ms);
    CHECK(strstr(na.log, "TIMEOUT ") != NULL);
    lobby_member_gone(l, ma, 20000);
    lobby_member_gone(l, mb, 20000);
    lobby_free(l);
    lobby_member_gone(old, a, 0);
    lobby_member_gone(old, b, 0);
    lobby_free(old);
}

TEST(waiting_match_comes_back_whole)
{
    static struct client ca, na, nb;
    struct lobby *old = new_lobby();
    struct member *a = player(old, &ca, "alice");
    uint64_t id;

    lobby_member_set_key(a, "10.0.0.1");
    CHECK_INT(lobby_create(old, a, "briscola", 8, 2, 50, &id), LOBBY_OK);
    char commit[DEAL_HEX_LEN + 1];
    snprintf(commit, sizeof commit, "%s", old->first->commit);
    struct lobby_member_state sa;
    lobby_member_export(a, &sa);
    n_states = 0;
    lobby_each_match(old, keep_state, NULL);
    CHECK(!states[0].is_playing);
    CHECK(states[0].wait_deadline_ms == 50 + 60000);
    CHECK_STR(states[0].owner_key, "10.0.0.1");

    struct lobby *l = new_lobby();
    states[0].wait_deadline_ms = 5000 + 59000;
    CHECK_INT(lobby_adopt_waiting(l, &states[0]), 0);
    CHECK_INT(lobby_adopt_waiting(l, &states[0]), -1); /* id in use */
    struct member *ma = lobby_adopt_member(l, &na, &sa);
    CHECK(ma != NULL);
    lobby_adopt_clocks(l, states, 1);
    CHECK_INT(na.len, 0);
    CHECK_STR(l->first->commit, commit);
    CHECK(l->first->waiting.deadline_ms == 64000);
    CHECK(l->first->owner != NULL && l->first->owner->n_waiting == 1);
    /* the next player joins: it starts, for both */
    struct member *mb = player(l, &nb, "bob");
    unsigned seat;
    CHECK_INT(lobby_join(l, mb, id, 5100, &seat), LOBBY_OK);
    CHECK_INT(seat, 1);
    CHECK(strstr(na.log, "START ") != NULL && strstr(nb.log, "START ") != NULL);
    lobby_member_gone(l, ma, 6000);
    lobby_member_gone(l, mb, 6000);
    lobby_free(l);
    lobby_member_gone(old, a, 0);
    lobby_free(old);
}

TEST(contradictions_are_refused)
{
    static struct client c1, c2, c3;
    struct lobby *l = new_lobby();
    struct member *taken = player(l, &c1, "alice");
    struct lobby_member_state st;

    memset(&st, 0, sizeof st);
    snprintf(st.name, sizeof st.name, "alice");
    snprintf(st.token, sizeof st.token, "%032x", 999);
    CHECK(lobby_adopt_member(l, &c2, &st) == NULL); /* name taken */
    snprintf(st.name, sizeof st.name, "carol");
    st.match_id = 42; /* no such match */
    CHECK(lobby_adopt_member(l, &c2, &st) == NULL);
    CHECK(lobby_member_name(taken) != NULL);
    st.match_id = 0;
    st.watch_id = 42;
    CHECK(lobby_adopt_member(l, &c3, &st) == NULL);
    st.watch_id = 0;
    struct member *m = lobby_adopt_member(l, &c3, &st); /* a plain name */
    CHECK(m != NULL);
    CHECK_STR(lobby_member_name(m), "carol");
    lobby_member_gone(l, m, 0);
    lobby_member_gone(l, taken, 0);
    lobby_free(l);
}
