/* Unit tests for game/lobby and game/match with a fake environment:
 * event order, private hands, turn errors, timeouts, forfeits, resume;
 * verifiable deals (COMMIT, SEED, REVEAL, JOIN from watching); a toy
 * game of two hands with a pass, a table, captures and a refill, for
 * the engine's generic paths; and the journal property: a match restored
 * from any prefix of its journal has the same rules state. */
#include <sodium.h>

#include "check.h"
#include "game/deal.h"
#include "game/lobby.h"
#include "game/match.h"

struct client {
    char log[65536];
    size_t len;
    int evicted;
};

static uint64_t armed = UINT64_MAX;

static void fake_send(void *ctx, void *client, const char *line, size_t len)
{
    struct client *c = client;
    (void)ctx;
    memcpy(c->log + c->len, line, len);
    c->len += len;
    c->log[c->len++] = '\n';
    c->log[c->len] = '\0';
}

static void fake_evict(void *ctx, void *client)
{
    (void)ctx;
    ((struct client *)client)->evicted = 1;
}

static void fake_arm(void *ctx, uint64_t deadline)
{
    (void)ctx;
    if (deadline < armed)
        armed = deadline;
}

static uint32_t seeded(void *ctx, uint32_t upper)
{
    uint64_t *s = ctx;
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((*s >> 33) % upper);
}

static uint64_t seed = 1;

static void fake_secret(void *ctx, uint8_t out[LOBBY_SECRET_LEN])
{
    (void)ctx;
    for (int i = 0; i < LOBBY_SECRET_LEN; i++)
        out[i] = (uint8_t)seeded(&seed, 256);
}

static int n_tokens;
static void fake_token(void *ctx, char out[LOBBY_TOKEN_LEN + 1])
{
    (void)ctx;
    snprintf(out, LOBBY_TOKEN_LEN + 1, "%032x", ++n_tokens);
}

static struct lobby *new_lobby(void)
{
    struct lobby_env env = {
        .send = fake_send, .evict = fake_evict, .arm = fake_arm,
        .new_secret = fake_secret, .new_token = fake_token,
        .turn_ms = 1000, .grace_ms = 5000,
    };
    CHECK(sodium_init() >= 0);
    return lobby_new(&env);
}

/* With the lobby-spam limits of PROTOCOL §10 (issue 8). */
static struct lobby *new_lobby_limited(uint32_t waiting_ms, uint32_t cap)
{
    struct lobby_env env = {
        .send = fake_send, .evict = fake_evict, .arm = fake_arm,
        .new_secret = fake_secret, .new_token = fake_token,
        .turn_ms = 1000, .grace_ms = 5000,
        .waiting_ms = waiting_ms, .max_waiting_per_key = cap,
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

/* PLAY of one card code, as the session sends it. */
static enum lobby_code play_code(struct lobby *l, struct member *m,
                                 const char *code, uint64_t now_ms)
{
    struct rules_move mv = {.kind = MOVE_PLAY, .n = 1};
    mv.cards[0] = card_parse(code, strlen(code));
    if (mv.cards[0] == CARD_NONE)
        return LOBBY_BADARG; /* the session's own check */
    return lobby_move(l, m, &mv, NULL, 0, now_ms);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void clear(struct client *c)
{
    c->len = 0;
    c->log[0] = '\0';
}

/* The first card of the HAND line in c's log. */
static void first_hand_card(const struct client *c, char out[3])
{
    const char *h = strstr(c->log, "HAND 1 ");
    CHECK(h != NULL);
    memcpy(out, h + 7, 2);
    out[2] = '\0';
}

TEST(start_order_and_private_hands)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0}, w = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    struct member *mw = lobby_member_new(l, &w);
    uint64_t id;
    unsigned seat;

    CHECK_INT(lobby_create(l, ma, "briscola", 8, 0, 0, &id), LOBBY_OK);
    CHECK_INT(id, 1);
    CHECK(starts_with(a.log, "SEATED 1 0 alice\nCOMMIT 1 "));
    CHECK_INT(strlen(a.log), strlen("SEATED 1 0 alice\nCOMMIT 1 \n") + 64);
    CHECK_INT(lobby_watch(l, mw, 1, 0), LOBBY_OK);
    CHECK(starts_with(w.log, "SEATED 1 0 alice\nCOMMIT 1 "));
    clear(&a);
    clear(&w);
    CHECK_INT(lobby_join(l, mb, 1, 0, &seat), LOBBY_OK);
    CHECK_INT(seat, 1);
    /* joiner: every seat; others: the new one; then START TRUMP HAND TURN */
    CHECK(starts_with(b.log, "SEATED 1 0 alice\nSEATED 1 1 bob\nCOMMIT 1 "));
    CHECK(strstr(b.log, "\nSTART 1 briscola 2 alice bob\nTRUMP 1 ") != NULL);
    CHECK(starts_with(a.log, "SEATED 1 1 bob\nSTART 1 briscola 2 alice bob\nTRUMP 1 "));
    CHECK(strstr(a.log, "HAND 1 ") != NULL);
    CHECK(strstr(w.log, "HAND") == NULL); /* spectators never see a hand */
    CHECK(strstr(a.log, "\nTURN 1 0 1000\n") != NULL);
    CHECK(strstr(w.log, "\nTURN 1 0 1000\n") != NULL);
    /* the two hands differ */
    char ca[3], cb[3];
    first_hand_card(&a, ca);
    first_hand_card(&b, cb);
    CHECK(strcmp(ca, cb) != 0);
    lobby_member_gone(l, mw, 0);
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(errors_change_nothing)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0}, c = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    struct member *mc = player(l, &c, "carol");
    uint64_t id;
    unsigned seat;
    char tok[LOBBY_TOKEN_LEN + 1];

    CHECK_INT(lobby_nick(l, mc, "x", 1, false, tok), LOBBY_ALREADY);
    struct member *anon = lobby_member_new(l, &c);
    CHECK_INT(lobby_nick(l, anon, "alice", 5, false, tok), LOBBY_NAMETAKEN);
    CHECK_INT(lobby_nick(l, anon, "bad name", 8, false, tok), LOBBY_BADNAME);
    CHECK_INT(lobby_nick(l, anon, "seventeen_chars_x", 17, false, tok), LOBBY_BADNAME);
    lobby_member_gone(l, anon, 0);
    CHECK_INT(lobby_create(l, ma, "poker", 5, 0, 0, &id), LOBBY_NOGAME);
    CHECK_INT(lobby_create(l, ma, "briscola", 8, 3, 0, &id), LOBBY_BADARG);
    CHECK_INT(play_code(l, ma, "Ac", 0), LOBBY_NOTPLAYING);
    CHECK_INT(lobby_create(l, ma, "briscola", 8, 2, 0, &id), LOBBY_OK);
    CHECK_INT(lobby_create(l, ma, "briscola", 8, 2, 0, &id), LOBBY_ALREADY);
    CHECK_INT(play_code(l, ma, "Ac", 0), LOBBY_NOTPLAYING); /* not started */
    CHECK_INT(lobby_join(l, mb, 99, 0, &seat), LOBBY_NOMATCH);
    CHECK_INT(lobby_join(l, mb, 1, 0, &seat), LOBBY_OK);
    CHECK_INT(lobby_join(l, mc, 1, 0, &seat), LOBBY_FULL);
    char cb[3];
    first_hand_card(&b, cb);
    clear(&a);
    clear(&b);
    CHECK_INT(play_code(l, mb, cb, 0), LOBBY_NOTYOURTURN);
    CHECK_INT(play_code(l, ma, cb, 0), LOBBY_NOTINHAND);
    CHECK_INT(play_code(l, ma, "Zz", 0), LOBBY_BADARG);
    CHECK_INT(a.len + b.len, 0); /* no events from failed commands */
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_member_gone(l, mc, 0);
    lobby_free(l);
}

TEST(leave_during_play_forfeits)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    uint64_t id;
    unsigned seat;

    lobby_create(l, ma, "briscola", 8, 2, 0, &id);
    lobby_join(l, mb, id, 0, &seat);
    clear(&a);
    clear(&b);
    CHECK_INT(lobby_leave(l, ma, 10, &id), LOBBY_OK);
    CHECK_INT(a.len, 0); /* the leaver hears nothing more */
    CHECK(starts_with(b.log, "END 1 team1 forfeit 0 0\nREVEAL 1 "));
    CHECK(strstr(b.log, " - -\n") != NULL); /* no seeds */
    CHECK_INT(lobby_leave(l, mb, 10, &id), LOBBY_NOTPLAYING); /* free again */
    CHECK_INT(lobby_create(l, mb, "briscola", 8, 2, 0, &id), LOBBY_OK);
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(turn_timeout_auto_plays)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    uint64_t id;
    unsigned seat;

    armed = UINT64_MAX;
    lobby_create(l, ma, "briscola", 8, 2, 0, &id);
    lobby_join(l, mb, id, 100, &seat);
    CHECK_INT(armed, 1100);
    CHECK_INT(lobby_next_deadline(l), 1100);
    clear(&b);
    lobby_tick(l, 1099);
    CHECK_INT(b.len, 0);
    lobby_tick(l, 1100);
    CHECK(starts_with(b.log, "TIMEOUT 1 0\nPLAYED 1 0 "));
    CHECK(strstr(b.log, "\nTURN 1 1 1000\n") != NULL);
    /* a whole match by timeouts alone ends with 120 points */
    for (uint64_t t = 2100; t < 100000; t += 1000)
        lobby_tick(l, t);
    const char *end = strstr(b.log, "END 1 ");
    CHECK(end != NULL);
    unsigned p0, p1;
    char res[8], why[8];
    CHECK_INT(sscanf(end, "END 1 %7s %7s %u %u", res, why, &p0, &p1), 4);
    CHECK_INT(p0 + p1, 120);
    CHECK_STR(why, "score");
    CHECK_STR(res, p0 > 60 ? "team0" : p1 > 60 ? "team1" : "draw");
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(drop_resume_and_grace_expiry)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0}, a2 = {0};
    struct member *ma = lobby_member_new(l, &a), *mb = player(l, &b, "bob");
    char tok[LOBBY_TOKEN_LEN + 1], tok2[LOBBY_TOKEN_LEN + 1];
    uint64_t id, mid;
    unsigned seat;

    CHECK_INT(lobby_nick(l, ma, "alice", 5, false, tok), LOBBY_OK);
    lobby_create(l, ma, "briscola", 8, 2, 0, &id);
    lobby_join(l, mb, id, 0, &seat);
    clear(&b);
    lobby_member_gone(l, ma, 500);
    CHECK_STR(b.log, "AWAY 1 0\n");
    /* the name stays taken while the seat is held */
    struct member *anon = lobby_member_new(l, &a2);
    char t2[LOBBY_TOKEN_LEN + 1];
    CHECK_INT(lobby_nick(l, anon, "alice", 5, false, t2), LOBBY_NAMETAKEN);
    lobby_member_gone(l, anon, 0);
    struct member *m2 = lobby_member_new(l, &a2);
    clear(&a2);
    CHECK_INT(lobby_resume(l, &m2, &a2, "zz", 2, 600, tok2, &mid), LOBBY_BADTOKEN);
    CHECK_INT(lobby_resume(l, &m2, &a2, tok, strlen(tok), 600, tok2, &mid), LOBBY_OK);
    CHECK(m2 == ma);
    CHECK_INT(mid, 1);
    CHECK(strcmp(tok, tok2) != 0);
    CHECK(starts_with(a2.log, "START 1 briscola 2 alice bob\nCOMMIT 1 "));
    CHECK(strstr(a2.log, "\nTRUMP 1 ") != NULL);
    CHECK(strstr(a2.log, "\nHAND 1 ") != NULL);
    CHECK(strstr(a2.log, "\nTURN 1 0 400\n") != NULL); /* 1000 - 600 ms left */
    CHECK(strstr(b.log, "BACK 1 0\n") != NULL);
    /* the old token is dead */
    struct member *m3 = lobby_member_new(l, &a);
    CHECK_INT(lobby_resume(l, &m3, &a, tok, strlen(tok), 700, tok, &mid), LOBBY_BADTOKEN);
    lobby_member_gone(l, m3, 0);

    /* drop again and let the grace period run out: forfeit */
    clear(&b);
    lobby_member_gone(l, ma, 800);
    lobby_tick(l, 800 + 5000);
    CHECK(strstr(b.log, "END 1 team1 forfeit ") != NULL);
    /* the name is free again */
    struct member *m4 = lobby_member_new(l, &a);
    CHECK_INT(lobby_nick(l, m4, "alice", 5, false, tok), LOBBY_OK);
    lobby_member_gone(l, m4, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(list_waiting_first)
{
    struct lobby *l = new_lobby();
    static struct client c[5];
    struct member *m[5];
    const char *names[5] = {"a", "b", "c", "d", "e"};
    uint64_t id;
    unsigned seat;
    char out[1024];

    for (int i = 0; i < 5; i++)
        m[i] = player(l, &c[i], names[i]);
    lobby_create(l, m[0], "briscola", 8, 2, 0, &id);
    lobby_join(l, m[1], 1, 0, &seat);
    lobby_create(l, m[2], "briscola", 8, 4, 0, &id);
    lobby_join(l, m[3], 2, 0, &seat);
    lobby_create(l, m[4], "briscola", 8, 2, 0, &id);
    lobby_list(l, out, sizeof out);
    CHECK_STR(out, "3 2:briscola:2/4:waiting 3:briscola:1/2:waiting 1:briscola:2/2:playing");
    lobby_games(out, sizeof out);
    CHECK_STR(out, "briscola:2,4 scopa:2,4 hearts:4"); /* PROTOCOL §12 */
    for (int i = 0; i < 5; i++)
        lobby_member_gone(l, m[i], 0);
    /* the match in play holds its dropped seats for the grace period */
    lobby_list(l, out, sizeof out);
    CHECK_STR(out, "1 1:briscola:2/2:playing");
    lobby_free(l);
}

TEST(list_most_seated_then_newest)
{
    struct lobby *l = new_lobby();
    static struct client c[6];
    struct member *m[6];
    const char *names[6] = {"a", "b", "c", "d", "e", "f"};
    uint64_t id;
    unsigned seat;
    char out[1024];

    for (int i = 0; i < 6; i++)
        m[i] = player(l, &c[i], names[i]);
    lobby_create(l, m[0], "briscola", 8, 4, 0, &id); /* 1: 2/4 */
    lobby_join(l, m[1], 1, 0, &seat);
    lobby_create(l, m[2], "briscola", 8, 2, 0, &id); /* 2: 1/2 */
    lobby_create(l, m[3], "hearts", 6, 4, 0, &id);   /* 3: 1/4 */
    lobby_create(l, m[4], "briscola", 8, 2, 0, &id); /* 4: playing */
    lobby_join(l, m[5], 4, 0, &seat);
    lobby_list(l, out, sizeof out);
    CHECK_STR(out, "4 1:briscola:2/4:waiting 3:hearts:1/4:waiting "
                   "2:briscola:1/2:waiting 4:briscola:2/2:playing");
    for (int i = 0; i < 6; i++)
        lobby_member_gone(l, m[i], 0);
    lobby_free(l);
}

TEST(list_keeps_a_real_match_among_60_idle_ones)
{
    struct lobby *l = new_lobby();
    static struct client c[62];
    struct member *m[62];
    char name[8], out[4096];
    uint64_t id, real;
    unsigned seat;

    for (int i = 0; i < 62; i++) {
        snprintf(name, sizeof name, "p%d", i);
        m[i] = player(l, &c[i], name);
    }
    lobby_create(l, m[60], "briscola", 8, 4, 0, &real); /* the real one, first */
    lobby_join(l, m[61], real, 0, &seat);
    for (int i = 0; i < 60; i++)
        CHECK_INT(lobby_create(l, m[i], "briscola", 8, 2, 0, &id), LOBBY_OK);
    lobby_list(l, out, sizeof out);
    CHECK(starts_with(out, "50 1:briscola:2/4:waiting 61:briscola:1/2:waiting "));
    for (int i = 0; i < 62; i++)
        lobby_member_gone(l, m[i], 0);
    lobby_free(l);
}

TEST(create_cap_per_address_key)
{
    struct lobby *l = new_lobby_limited(0, 2);
    static struct client c[6];
    struct member *m[6];
    const char *names[6] = {"a", "b", "c", "d", "e", "f"};
    uint64_t id = 0;
    unsigned seat;

    for (int i = 0; i < 6; i++)
        m[i] = player(l, &c[i], names[i]);
    for (int i = 0; i < 4; i++)
        lobby_member_set_key(m[i], "10.0.0.1");
    lobby_member_set_key(m[4], "10.0.0.2");
    /* m[5]: no key, never capped */
    CHECK_INT(lobby_create(l, m[0], "briscola", 8, 2, 0, &id), LOBBY_OK);
    CHECK_INT(lobby_create(l, m[1], "briscola", 8, 2, 0, &id), LOBBY_OK);
    CHECK_INT(id, 2);
    CHECK_INT(lobby_create(l, m[2], "briscola", 8, 2, 0, &id), LOBBY_FULL);
    CHECK_INT(id, 2);
    CHECK(m[2]->match == NULL);
    CHECK_INT(lobby_create(l, m[4], "briscola", 8, 2, 0, &id), LOBBY_OK); /* 3 */
    CHECK_INT(lobby_create(l, m[5], "briscola", 8, 4, 0, &id), LOBBY_OK); /* 4 */
    /* the cap is checked after the other errors */
    CHECK_INT(lobby_create(l, m[2], "nope", 4, 2, 0, &id), LOBBY_NOGAME);
    CHECK_INT(lobby_create(l, m[2], "briscola", 8, 3, 0, &id), LOBBY_BADARG);
    CHECK_INT(lobby_create(l, m[0], "briscola", 8, 2, 0, &id), LOBBY_ALREADY);
    /* a match that starts no longer counts: match 1 starts */
    CHECK_INT(lobby_join(l, m[3], 1, 0, &seat), LOBBY_OK);
    CHECK_INT(lobby_create(l, m[2], "briscola", 8, 2, 0, &id), LOBBY_OK);
    CHECK_INT(id, 5);
    /* nor one that is gone: LEAVE of match 5 deletes it */
    CHECK_INT(lobby_leave(l, m[2], 0, &id), LOBBY_OK);
    CHECK_INT(lobby_create(l, m[2], "briscola", 8, 2, 0, &id), LOBBY_OK);
    CHECK_INT(id, 6);
    /* a member counts by its current key: 10.0.0.1 has two waiting */
    lobby_member_set_key(m[5], "10.0.0.1");
    CHECK_INT(lobby_leave(l, m[5], 0, &id), LOBBY_OK); /* match 4 deleted */
    CHECK_INT(lobby_create(l, m[5], "briscola", 8, 2, 0, &id), LOBBY_FULL);
    for (int i = 0; i < 6; i++)
        lobby_member_gone(l, m[i], 0);
    lobby_free(l); /* ASan: the per-key counters are freed with the matches */
}

TEST(resume_takes_the_new_connections_key)
{
    struct lobby *l = new_lobby_limited(0, 1);
    struct client a = {0}, a2 = {0}, b = {0};
    char tok[LOBBY_TOKEN_LEN + 1], tok2[LOBBY_TOKEN_LEN + 1];
    struct member *ma = lobby_member_new(l, &a), *mb = player(l, &b, "bob");
    uint64_t id, mid;

    CHECK_INT(lobby_nick(l, ma, "alice", 5, false, tok), LOBBY_OK);
    lobby_member_set_key(ma, "k1");
    lobby_member_set_key(mb, "k2");
    CHECK_INT(lobby_create(l, ma, "briscola", 8, 2, 0, &id), LOBBY_OK);
    struct member *m2 = lobby_member_new(l, &a2);
    lobby_member_set_key(m2, "k2");
    CHECK_INT(lobby_resume(l, &m2, &a2, tok, LOBBY_TOKEN_LEN, 0, tok2, &mid), LOBBY_OK);
    CHECK_INT(mid, id);
    CHECK(a.evicted);
    /* the match still counts against its creator's address, k1 */
    CHECK_INT(lobby_create(l, mb, "briscola", 8, 2, 0, &id), LOBBY_OK);
    lobby_leave(l, mb, 0, &id);
    lobby_leave(l, m2, 0, &id);
    /* the resumed member now counts by k2 */
    CHECK_INT(lobby_create(l, m2, "briscola", 8, 2, 0, &id), LOBBY_OK);
    CHECK_INT(lobby_create(l, mb, "briscola", 8, 2, 0, &id), LOBBY_FULL);
    lobby_member_gone(l, m2, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(waiting_match_expires_at_its_deadline)
{
    struct lobby *l = new_lobby_limited(10000, 1);
    struct client a = {0}, b = {0}, w = {0}, d = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    struct member *mw = lobby_member_new(l, &w), *md = player(l, &d, "dave");
    uint64_t id;
    unsigned seat;
    char out[256];

    lobby_member_set_key(ma, "k");
    lobby_member_set_key(md, "k");
    armed = UINT64_MAX;
    CHECK_INT(lobby_create(l, ma, "briscola", 8, 4, 100, &id), LOBBY_OK);
    CHECK_INT(armed, 10100);
    CHECK_INT(lobby_next_deadline(l), 10100);
    CHECK_INT(lobby_create(l, md, "briscola", 8, 2, 200, &id), LOBBY_FULL);
    CHECK_INT(lobby_join(l, mb, 1, 5000, &seat), LOBBY_OK);
    CHECK_INT(lobby_watch(l, mw, 1, 5000), LOBBY_OK);
    clear(&a);
    clear(&b);
    clear(&w);
    lobby_tick(l, 10099); /* a millisecond early: nothing */
    CHECK_STR(a.log, "");
    lobby_list(l, out, sizeof out);
    CHECK_STR(out, "1 1:briscola:2/4:waiting");
    lobby_tick(l, 10100);
    CHECK_STR(a.log, "UNSEATED 1 0 alice\nUNSEATED 1 1 bob\n");
    CHECK_STR(b.log, "UNSEATED 1 0 alice\nUNSEATED 1 1 bob\n");
    CHECK_STR(w.log, "UNSEATED 1 0 alice\nUNSEATED 1 1 bob\n");
    lobby_list(l, out, sizeof out);
    CHECK_STR(out, "0");
    CHECK_INT(lobby_next_deadline(l), UINT64_MAX);
    CHECK(ma->match == NULL && mb->match == NULL && mw->watching == NULL);
    CHECK_INT(lobby_join(l, md, 1, 10100, &seat), LOBBY_NOMATCH);
    size_t nw, np;
    uint64_t nf;
    lobby_counts(l, &nw, &np, &nf);
    CHECK_INT(nw, 0);
    /* the address's count went with it; the players are free again */
    CHECK_INT(lobby_create(l, md, "briscola", 8, 2, 10100, &id), LOBBY_OK);
    CHECK_INT(lobby_join(l, ma, id, 10100, &seat), LOBBY_OK);
    /* it started: the expiry no longer applies */
    CHECK_INT(lobby_next_deadline(l), 11100); /* the turn clock */
    lobby_member_gone(l, mw, 10100);
    lobby_member_gone(l, mb, 10100);
    lobby_leave(l, ma, 10100, &id);
    lobby_member_gone(l, ma, 10100);
    lobby_member_gone(l, md, 10100);
    lobby_free(l);
}

/* ---------- verifiable deals ---------- */

/* The 64-hex-digit word after prefix in log, into out. */
static void word_after(const char *log, const char *prefix, char out[65])
{
    const char *p = strstr(log, prefix);
    CHECK(p != NULL);
    memcpy(out, p + strlen(prefix), 64);
    out[64] = '\0';
}

TEST(seed_commit_join_from_watch_and_reveal)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, w = {0};
    struct member *ma = player(l, &a, "alice");
    struct member *mw = lobby_member_new(l, &w);
    char out[LOBBY_SEED_MAX + 1], commit[65], commit_w[65], secret_hex[65];
    uint64_t id;
    unsigned seat;

    CHECK_INT(lobby_seed(l, ma, "00FF", 4, out), LOBBY_OK);
    CHECK_STR(out, "00ff");
    CHECK_INT(lobby_seed(l, ma, "", 0, out), LOBBY_BADARG);
    CHECK_INT(lobby_seed(l, ma, "xyz", 3, out), LOBBY_BADARG);
    char long_seed[66];
    memset(long_seed, 'a', 65);
    CHECK_INT(lobby_seed(l, ma, long_seed, 65, out), LOBBY_BADARG);
    CHECK_INT(lobby_seed(l, ma, long_seed, 64, out), LOBBY_OK);
    CHECK_INT(lobby_seed(l, ma, "00FF", 4, out), LOBBY_OK); /* the last counts */
    CHECK_INT(lobby_create(l, ma, "briscola", 8, 2, 0, &id), LOBBY_OK);
    word_after(a.log, "COMMIT 1 ", commit);
    /* a spectator of the waiting match: SEATED lines, then COMMIT */
    CHECK_INT(lobby_watch(l, mw, id, 0), LOBBY_OK);
    CHECK(starts_with(w.log, "SEATED 1 0 alice\nCOMMIT 1 "));
    word_after(w.log, "COMMIT 1 ", commit_w);
    CHECK_STR(commit_w, commit);
    /* it names itself, seeds (without a name is fine too), and JOINs the
     * match it watches: it stops watching and takes the seat (§11) */
    CHECK_INT(lobby_seed(l, mw, "C0FFEE", 6, out), LOBBY_OK);
    char tok[LOBBY_TOKEN_LEN + 1];
    CHECK_INT(lobby_nick(l, mw, "walt", 4, false, tok), LOBBY_OK);
    clear(&w);
    clear(&a);
    CHECK_INT(lobby_join(l, mw, id, 0, &seat), LOBBY_OK);
    CHECK_INT(seat, 1);
    CHECK(mw->watching == NULL);
    CHECK(starts_with(w.log, "SEATED 1 0 alice\nSEATED 1 1 walt\nCOMMIT 1 "));
    CHECK(strstr(w.log, "\nSTART 1 briscola 2 alice walt\n") != NULL);
    /* one copy of each event: no longer a spectator */
    CHECK(strstr(strstr(w.log, "START 1") + 1, "START 1") == NULL);
    /* the deal is the one §13 computes from the secret and the seeds */
    clear(&a);
    clear(&w);
    uint64_t left;
    CHECK_INT(lobby_leave(l, ma, 0, &left), LOBBY_OK);
    CHECK_INT(a.len, 0); /* the leaver gets nothing more, REVEAL included */
    CHECK(starts_with(w.log, "END 1 team1 forfeit 0 0\nREVEAL 1 "));
    word_after(w.log, "REVEAL 1 ", secret_hex);
    CHECK(strstr(w.log, " 00ff c0ffee\n") != NULL);
    uint8_t secret[32], key[32];
    CHECK_INT(deal_from_hex(secret_hex, 32, secret), 0);
    char c2[65];
    deal_commit_hex(secret, c2);
    CHECK_STR(c2, commit);
    const char *seeds[2] = {"00ff", "c0ffee"};
    deal_key(secret, "briscola", 2, seeds, key);
    card_t deck[40];
    rules_canonical_deck(40, deck);
    deal_shuffle(key, 1, deck, 40);
    (void)deck;
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mw, 0);
    lobby_free(l);
}

TEST(dealt_cards_follow_the_secret_and_seeds)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    char out[LOBBY_SEED_MAX + 1];
    uint64_t id;
    unsigned seat;

    CHECK_INT(lobby_seed(l, mb, "1234", 4, out), LOBBY_OK);
    lobby_create(l, ma, "briscola", 8, 2, 0, &id);
    lobby_join(l, mb, id, 0, &seat);
    struct match *mt = l->first;
    const char *seeds[2] = {"", "1234"};
    uint8_t key[32];
    deal_key(mt->secret, "briscola", 2, seeds, key);
    card_t deck[40];
    rules_canonical_deck(40, deck);
    deal_shuffle(key, 1, deck, 40);
    char want[64];
    char c[6][3];
    for (int i = 0; i < 6; i++)
        card_format(deck[i], c[i]);
    snprintf(want, sizeof want, "HAND 1 %s %s %s\n", c[0], c[1], c[2]);
    CHECK(strstr(a.log, want) != NULL);
    snprintf(want, sizeof want, "HAND 1 %s %s %s\n", c[3], c[4], c[5]);
    CHECK(strstr(b.log, want) != NULL);
    card_format(deck[6], c[0]);
    snprintf(want, sizeof want, "TRUMP 1 %s\n", c[0]);
    CHECK(strstr(a.log, want) != NULL);
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

/* ---------- a toy game for the engine's generic paths ----------
 * Two seats, two hands, seat-for-itself. Hand h: seat i takes deck
 * [4i, 4i+4), two cards go to the table; hand 1 opens with a pass of
 * three cards to the other seat ("left"). A card captures one table card
 * of its rank (named, or filled in when there is one); a capture that
 * empties the table sweeps, except with the hand's last card. Two cards
 * make a trick, won by the higher code (1 point). Empty hands refill
 * once with two cards each; the table's leftovers go to the last
 * capturer. A K may not be played while holding another rank (ILLEGAL).
 * Higher total wins. */
struct toy {
    unsigned n_seats, hand_no, pos, turn, n_table, n_trick;
    card_t deck[40];
    card_t hand[2][8];
    unsigned hand_len[2];
    card_t table[40];
    bool is_dealt, is_passing, is_over, passed[2];
    card_t pass[2][3], recv[2][3];
    unsigned trick_seat[2];
    card_t trick_card[2];
    unsigned totals[2];
    int last_capturer;
};

static void toy_init(void *st, unsigned n)
{
    struct toy *t = st;
    memset(t, 0, sizeof *t);
    t->n_seats = n;
}

static void toy_deal(void *st, unsigned h, const card_t *deck)
{
    struct toy *t = st;
    memcpy(t->deck, deck, 40);
    t->hand_no = h;
    for (unsigned s = 0; s < 2; s++) {
        memcpy(t->hand[s], deck + 4 * s, 4);
        t->hand_len[s] = 4;
        t->passed[s] = false;
    }
    t->table[0] = deck[8];
    t->table[1] = deck[9];
    t->n_table = 2;
    t->pos = 10;
    t->is_passing = h == 1;
    t->turn = (h - 1) % 2;
    t->last_capturer = -1;
    t->is_dealt = true;
}

static unsigned toy_to_move(const void *st, enum rules_move_kind *kind)
{
    const struct toy *t = st;
    if (kind)
        *kind = t->is_passing ? MOVE_PASS : MOVE_PLAY;
    if (!t->is_dealt || t->is_over)
        return 0;
    if (t->is_passing)
        return (t->passed[0] ? 0u : 1u) | (t->passed[1] ? 0u : 2u);
    return 1u << t->turn;
}

static int idx_of(const card_t *cards, unsigned n, card_t c)
{
    for (unsigned i = 0; i < n; i++)
        if (cards[i] == c)
            return (int)i;
    return -1;
}

static void drop(card_t *cards, unsigned *n, card_t c)
{
    int i = idx_of(cards, *n, c);
    memmove(cards + i, cards + i + 1, *n - (unsigned)i - 1);
    (*n)--;
}

static enum rules_verdict toy_check(const void *st, unsigned seat,
                                    struct rules_move *mv, char *why,
                                    size_t cap)
{
    const struct toy *t = st;
    if (mv->kind == MOVE_PASS) {
        if (!t->is_passing)
            return RULES_NOTYOURTURN;
        if (t->passed[seat])
            return RULES_ALREADY;
        for (unsigned i = 0; i < 3; i++)
            if (idx_of(t->hand[seat], t->hand_len[seat], mv->cards[i]) < 0)
                return RULES_NOTINHAND;
        if (mv->cards[0] == mv->cards[1] || mv->cards[0] == mv->cards[2] ||
            mv->cards[1] == mv->cards[2])
            return RULES_BADARG;
        return RULES_OK;
    }
    if (mv->n > 2)
        return RULES_BADARG;
    if (t->is_passing || seat != t->turn || t->is_over)
        return RULES_NOTYOURTURN;
    if (idx_of(t->hand[seat], t->hand_len[seat], mv->cards[0]) < 0)
        return RULES_NOTINHAND;
    if (card_rank(mv->cards[0]) == RANK_K)
        for (unsigned i = 0; i < t->hand_len[seat]; i++)
            if (card_rank(t->hand[seat][i]) != RANK_K)
                return RULES_ILLEGAL;
    unsigned n_same = 0;
    card_t same = CARD_NONE;
    for (unsigned i = 0; i < t->n_table; i++)
        if (card_rank(t->table[i]) == card_rank(mv->cards[0]))
            n_same++, same = t->table[i];
    if (mv->n == 2) {
        int i = idx_of(t->table, t->n_table, mv->cards[1]);
        if (i < 0 || card_rank(mv->cards[1]) != card_rank(mv->cards[0]))
            return RULES_BADARG;
        return RULES_OK;
    }
    if (n_same > 1) {
        if (why)
            snprintf(why, cap, "capture one of several");
        return RULES_BADARG;
    }
    if (n_same == 1)
        mv->cards[mv->n++] = same; /* the capture is compulsory */
    return RULES_OK;
}

static void toy_apply(void *st, unsigned seat, const struct rules_move *mv,
                      struct rules_outcome *out)
{
    struct toy *t = st;
    memset(out, 0, sizeof *out);
    if (mv->kind == MOVE_PASS) {
        for (unsigned i = 0; i < 3; i++) {
            t->pass[seat][i] = mv->cards[i];
            drop(t->hand[seat], &t->hand_len[seat], mv->cards[i]);
        }
        t->passed[seat] = true;
        if (t->passed[0] && t->passed[1]) {
            for (unsigned s = 0; s < 2; s++)
                for (unsigned i = 0; i < 3; i++) {
                    t->recv[s][i] = t->pass[1 - s][i];
                    t->hand[s][t->hand_len[s]++] = t->pass[1 - s][i];
                }
            t->is_passing = false;
            out->is_pass_done = true;
        }
        return;
    }
    card_t c = mv->cards[0];
    drop(t->hand[seat], &t->hand_len[seat], c);
    bool is_last = t->hand_len[0] + t->hand_len[1] == 0 && t->pos + 4 > 14;
    if (mv->n == 2) {
        drop(t->table, &t->n_table, mv->cards[1]);
        out->taken[out->n_taken++] = mv->cards[1];
        t->last_capturer = (int)seat;
        out->is_sweep = t->n_table == 0 && !is_last;
    } else {
        t->table[t->n_table++] = c;
    }
    t->trick_seat[t->n_trick] = seat;
    t->trick_card[t->n_trick++] = c;
    if (t->n_trick == 2) {
        unsigned w = t->trick_card[1] > t->trick_card[0];
        unsigned ws = t->trick_seat[w];
        t->totals[ws]++;
        t->n_trick = 0;
        t->turn = ws;
        out->trick_done = true;
        out->trick_winner = ws;
        out->trick_points = 1;
    } else {
        t->turn = 1 - seat;
    }
    if (t->hand_len[0] + t->hand_len[1] > 0)
        return;
    if (t->pos + 4 <= 14) {
        for (unsigned s = 0; s < 2; s++) {
            t->hand[s][t->hand_len[s]++] = t->deck[t->pos++];
            t->hand[s][t->hand_len[s]++] = t->deck[t->pos++];
        }
        out->is_refill = true;
        return;
    }
    out->is_hand_over = true;
    if (t->last_capturer >= 0 && t->n_table > 0) {
        out->leftover_seat = (unsigned)t->last_capturer;
        out->n_leftover = t->n_table;
        memcpy(out->leftover, t->table, t->n_table);
    }
    t->n_table = 0;
    if (t->hand_no == 2) {
        t->is_over = true;
        out->is_over = true;
    }
}

static unsigned toy_legal(const void *st, unsigned seat, struct rules_move *out,
                          unsigned cap)
{
    const struct toy *t = st;
    unsigned n = 0;
    if (!(toy_to_move(st, NULL) & (1u << seat)) || t->is_passing)
        return 0;
    for (unsigned i = 0; i < t->hand_len[seat]; i++) {
        for (unsigned k = 0; k <= t->n_table; k++) {
            struct rules_move mv = {.kind = MOVE_PLAY, .n = 1,
                                    .cards = {t->hand[seat][i]}};
            if (k < t->n_table)
                mv.cards[mv.n++] = t->table[k];
            if (toy_check(st, seat, &mv, NULL, 0) == RULES_OK) {
                if (n < cap)
                    out[n] = mv;
                n++;
                break;
            }
        }
    }
    return n;
}

static void toy_auto(const void *st, unsigned seat, struct rules_move *out)
{
    const struct toy *t = st;
    struct rules_move all[16];
    memset(out, 0, sizeof *out);
    if (t->is_passing) {
        out->kind = MOVE_PASS;
        out->n = 3;
        memcpy(out->cards, t->hand[seat], 3);
        return;
    }
    toy_legal(st, seat, all, 16);
    *out = all[0];
    out->n = 1; /* check completes the capture */
}

static unsigned toy_hand(const void *st, unsigned seat, card_t *out)
{
    const struct toy *t = st;
    memcpy(out, t->hand[seat], t->hand_len[seat]);
    return t->hand_len[seat];
}
static card_t toy_trump(const void *st) { (void)st; return CARD_NONE; }
static unsigned toy_table(const void *st, card_t *out)
{
    const struct toy *t = st;
    memcpy(out, t->table, t->n_table);
    return t->n_table;
}
static unsigned toy_trick(const void *st, unsigned *seats, card_t *cards)
{
    const struct toy *t = st;
    for (unsigned i = 0; i < t->n_trick; i++)
        seats[i] = t->trick_seat[i], cards[i] = t->trick_card[i];
    return t->n_trick;
}
static unsigned toy_hand_no(const void *st) { return ((const struct toy *)st)->hand_no; }
static bool toy_has_passed(const void *st, unsigned s)
{
    const struct toy *t = st;
    return t->is_passing && t->passed[s];
}
static unsigned toy_received(const void *st, unsigned s, card_t *out)
{
    const struct toy *t = st;
    if (t->hand_no != 1 || t->is_passing)
        return 0;
    memcpy(out, t->recv[s], 3);
    return 3;
}
static const char *toy_dir(const void *st)
{
    return ((const struct toy *)st)->hand_no == 1 ? "left" : NULL;
}
static void toy_totals(const void *st, unsigned *per)
{
    const struct toy *t = st;
    per[0] = t->totals[0];
    per[1] = t->totals[1];
}
static unsigned toy_side(const void *st, unsigned s) { (void)st; return s; }
static int toy_result(const void *st)
{
    const struct toy *t = st;
    return t->totals[0] == t->totals[1] ? RULES_DRAW
                                        : t->totals[1] > t->totals[0];
}
static int toy_forfeit(const void *st, unsigned s) { (void)st; return 1 - (int)s; }

static const struct rules toy_rules = {
    .name = "toy", .seat_counts = {2, 0, 0, 0}, .state_size = sizeof(struct toy),
    .deck_size = 40, .is_teams = false, .is_multi_hand = true,
    .has_trump = false, .has_table = true,
    .init = toy_init, .deal = toy_deal, .to_move = toy_to_move,
    .check = toy_check, .apply = toy_apply, .legal_moves = toy_legal,
    .auto_move = toy_auto, .hand = toy_hand, .trump = toy_trump,
    .table = toy_table, .trick = toy_trick, .hand_no = toy_hand_no,
    .has_passed = toy_has_passed, .received = toy_received,
    .pass_dir = toy_dir, .totals = toy_totals, .end_points = toy_totals,
    .side_of = toy_side, .result = toy_result, .forfeit_result = toy_forfeit,
};

/* The n-th line of log that starts with prefix, or NULL. */
static const char *line_at(const char *log, const char *prefix)
{
    const char *p = log;
    size_t n = strlen(prefix);
    while (p && *p) {
        if (strncmp(p, prefix, n) == 0)
            return p;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

static void toy_match(struct lobby *l, struct member *ma, struct member *mb,
                      uint64_t now_ms)
{
    struct match *mt = match_new(l, &toy_rules, 2);
    match_seat(l, mt, ma, now_ms);
    match_seat(l, mt, mb, now_ms);
}

/* The cards of a "HAND 1 ..." line of seat's log. */
static unsigned hand_of(const struct client *c, card_t *out)
{
    const char *h = NULL, *p = c->log;
    while ((p = line_at(p, "HAND 1")) != NULL) {
        h = p;
        p++;
    }
    CHECK(h != NULL);
    unsigned n = 0;
    for (h += 6; *h == ' '; h += 3)
        out[n++] = card_parse(h + 1, 2);
    return n;
}

TEST(multi_hand_pass_table_capture_refill_and_end)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    card_t h[8];

    toy_match(l, ma, mb, 0);
    /* START, DEAL, TABLE, own HAND, PASSING instead of TURN (§12) */
    const char *p = line_at(a.log, "START 1 toy 2 alice bob\n");
    CHECK(p != NULL);
    CHECK(starts_with(strchr(p, '\n') + 1, "DEAL 1 1\nTABLE 1 "));
    CHECK(line_at(a.log, "HAND 1 ") != NULL);
    CHECK(strstr(a.log, "\nPASSING 1 left 1000\n") != NULL);
    CHECK(strstr(a.log, "TURN") == NULL);
    CHECK_INT(hand_of(&a, h), 4);
    /* PLAY while passing; cards not in hand; the pass; a second pass */
    struct rules_move mv = {.kind = MOVE_PLAY, .n = 1, .cards = {h[0]}};
    CHECK_INT(lobby_move(l, ma, &mv, NULL, 0, 10), LOBBY_NOTYOURTURN);
    card_t hb[8];
    hand_of(&b, hb);
    struct rules_move pass = {.kind = MOVE_PASS, .n = 3, .cards = {h[0], h[1], hb[0]}};
    CHECK_INT(lobby_move(l, ma, &pass, NULL, 0, 10), LOBBY_NOTINHAND);
    pass.cards[2] = h[1];
    CHECK_INT(lobby_move(l, ma, &pass, NULL, 0, 10), LOBBY_BADARG);
    pass.cards[2] = h[2];
    clear(&a);
    clear(&b);
    CHECK_INT(lobby_move(l, ma, &pass, NULL, 0, 10), LOBBY_OK);
    CHECK_STR(a.log, "PASSED 1 0\n");
    CHECK_STR(b.log, "PASSED 1 0\n");
    CHECK_INT(lobby_move(l, ma, &pass, NULL, 0, 10), LOBBY_ALREADY);
    /* the last pass: PASSED, then each player's RECEIVED and HAND, TURN */
    struct rules_move pb = {.kind = MOVE_PASS, .n = 3, .cards = {hb[1], hb[2], hb[3]}};
    clear(&a);
    CHECK_INT(lobby_move(l, mb, &pb, NULL, 0, 20), LOBBY_OK);
    char want[128], c0[3], c1[3], c2[3];
    card_format(hb[1], c0);
    card_format(hb[2], c1);
    card_format(hb[3], c2);
    snprintf(want, sizeof want, "PASSED 1 1\nRECEIVED 1 %s %s %s\nHAND 1 ", c0, c1, c2);
    CHECK(starts_with(a.log, want));
    CHECK(strstr(a.log, "\nTURN 1 0 1000\n") != NULL);
    CHECK(strstr(b.log, "RECEIVED 1 ") != NULL);
    /* a second player must not see another's RECEIVED or HAND */
    CHECK(strstr(a.log, "\nHAND") == strstr(a.log, "\nHAND 1 ") &&
          strstr(strstr(a.log, "\nHAND 1 ") + 1, "\nHAND") == NULL);
    /* the rest by the clock: the whole match, two hands */
    clear(&a);
    for (uint64_t t = 1020; t < 60000; t += 1000)
        lobby_tick(l, t);
    CHECK(strstr(a.log, "END 1 ") != NULL);
    /* hand 1 ends with SCORE, then DEAL 2 (no pass in hand 2) */
    p = strstr(a.log, "SCORE 1 ");
    CHECK(p != NULL);
    CHECK(starts_with(strchr(p, '\n') + 1, "DEAL 1 2\nTABLE 1 "));
    /* a refill: a new HAND after the last trick's lines, before TURN */
    p = strstr(a.log, "TRICK 1 ");
    int refills = 0;
    for (const char *q = a.log; (q = strstr(q, "\nTRICK 1 ")) != NULL; q++) {
        const char *nl = strchr(q + 1, '\n');
        if (starts_with(nl + 1, "HAND 1 ")) {
            refills++;
            CHECK(starts_with(strchr(nl + 1, '\n') + 1, "TURN 1 "));
        }
    }
    CHECK_INT(refills, 2);
    /* the end: SCORE, END with seat<k> or draw and the totals, REVEAL */
    p = strstr(a.log, "END 1 ");
    unsigned t0, t1;
    char res[8], why[8];
    CHECK_INT(sscanf(p, "END 1 %7s %7s %u %u", res, why, &t0, &t1), 4);
    CHECK_STR(res, t0 == t1 ? "draw" : t0 > t1 ? "seat0" : "seat1");
    CHECK_STR(why, "score");
    CHECK_INT(t0 + t1, 12); /* 6 tricks a hand */
    snprintf(want, sizeof want, "SCORE 1 %u %u\nEND 1 ", t0, t1);
    CHECK(strstr(a.log, want) != NULL);
    CHECK(starts_with(strchr(p, '\n') + 1, "REVEAL 1 "));
    CHECK(strstr(a.log, "TAKE 1 ") != NULL || strstr(a.log, "PLAYED") != NULL);
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(pass_clock_expiry_passes_for_every_seat_left)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    card_t h[8];

    toy_match(l, ma, mb, 0);
    hand_of(&b, h);
    struct rules_move pb = {.kind = MOVE_PASS, .n = 3, .cards = {h[0], h[1], h[2]}};
    CHECK_INT(lobby_move(l, mb, &pb, NULL, 0, 500), LOBBY_OK);
    /* one clock for the pass: a PASS does not restart it */
    CHECK_INT(lobby_next_deadline(l), 1000);
    clear(&a);
    lobby_tick(l, 1000);
    CHECK(starts_with(a.log, "TIMEOUT 1 0\nPASSED 1 0\nRECEIVED 1 "));
    CHECK(strstr(a.log, "TIMEOUT 1 1") == NULL); /* seat 1 had passed */
    CHECK(strstr(a.log, "\nTURN 1 0 1000\n") != NULL);
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(both_seats_time_out_on_the_pass)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");

    toy_match(l, ma, mb, 0);
    clear(&b);
    lobby_tick(l, 1000);
    CHECK(starts_with(b.log, "TIMEOUT 1 0\nPASSED 1 0\nTIMEOUT 1 1\nPASSED 1 1\nRECEIVED 1 "));
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(snapshots_while_passing_and_while_playing)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0}, a2 = {0}, w = {0};
    struct member *ma = lobby_member_new(l, &a), *mb = player(l, &b, "bob");
    struct member *mw = lobby_member_new(l, &w);
    char tok[LOBBY_TOKEN_LEN + 1], tok2[LOBBY_TOKEN_LEN + 1];
    uint64_t mid;
    card_t h[8];

    CHECK_INT(lobby_nick(l, ma, "alice", 5, false, tok), LOBBY_OK);
    toy_match(l, ma, mb, 0);
    hand_of(&b, h);
    struct rules_move pb = {.kind = MOVE_PASS, .n = 3, .cards = {h[0], h[1], h[2]}};
    CHECK_INT(lobby_move(l, mb, &pb, NULL, 0, 100), LOBBY_OK);
    lobby_member_gone(l, ma, 200);
    struct member *m2 = lobby_member_new(l, &a2);
    CHECK_INT(lobby_resume(l, &m2, &a2, tok, strlen(tok), 300, tok2, &mid), LOBBY_OK);
    /* START COMMIT DEAL SCORE TABLE HAND PASSING(ms left) PASSED; no TURN */
    CHECK(starts_with(a2.log, "START 1 toy 2 alice bob\nCOMMIT 1 "));
    const char *p = strstr(a2.log, "\nDEAL 1 1\nSCORE 1 0 0\nTABLE 1 ");
    CHECK(p != NULL);
    p = strstr(p, "\nHAND 1 ");
    CHECK(p != NULL);
    CHECK(starts_with(strchr(p + 1, '\n') + 1, "PASSING 1 left 700\nPASSED 1 1\n"));
    CHECK(strstr(a2.log, "TURN") == NULL);
    /* a spectator: the same, without HAND */
    CHECK_INT(lobby_watch(l, mw, 1, 400), LOBBY_OK);
    CHECK(strstr(w.log, "HAND") == NULL);
    CHECK(strstr(w.log, "\nPASSING 1 left 600\nPASSED 1 1\n") != NULL);
    /* once playing: the trick in progress and TURN */
    lobby_tick(l, 1000);
    card_t ha[8];
    unsigned n = hand_of(&a2, ha);
    CHECK_INT(n, 4);
    struct rules_move all[8];
    CHECK(toy_legal(l->first->state, 0, all, 8) > 0);
    CHECK_INT(lobby_move(l, m2, &all[0], NULL, 0, 1100), LOBBY_OK);
    clear(&w);
    lobby_member_gone(l, mw, 0);
    struct member *mw2 = lobby_member_new(l, &w);
    CHECK_INT(lobby_watch(l, mw2, 1, 1200), LOBBY_OK);
    char code[3], want[64];
    card_format(all[0].cards[0], code);
    snprintf(want, sizeof want, "\nPLAYED 1 0 %s\nTURN 1 1 900\n", code);
    CHECK(strstr(w.log, want) != NULL);
    lobby_member_gone(l, mw2, 0);
    lobby_member_gone(l, m2, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

TEST(illegal_and_ambiguous_come_from_the_rules)
{
    struct lobby *l = new_lobby();
    struct client a = {0}, b = {0};
    struct member *ma = player(l, &a, "alice"), *mb = player(l, &b, "bob");
    toy_match(l, ma, mb, 0);
    lobby_tick(l, 1000); /* both pass by the clock */
    struct toy *t = l->first->state;
    /* arrange seat 0's hand and the table for the cases */
    t->hand[0][0] = card_parse("Kc", 2);
    t->hand[0][1] = card_parse("5d", 2);
    t->table[0] = card_parse("5h", 2);
    t->table[1] = card_parse("5s", 2);
    struct rules_move mv = {.kind = MOVE_PLAY, .n = 1, .cards = {t->hand[0][0]}};
    char why[64];
    CHECK_INT(lobby_move(l, ma, &mv, why, sizeof why, 1100), LOBBY_ILLEGAL);
    mv.cards[0] = t->hand[0][1];
    CHECK_INT(lobby_move(l, ma, &mv, why, sizeof why, 1100), LOBBY_BADARG);
    CHECK_STR(why, "capture one of several");
    mv.n = 2;
    mv.cards[1] = card_parse("5h", 2);
    clear(&a);
    CHECK_INT(lobby_move(l, ma, &mv, why, sizeof why, 1100), LOBBY_OK);
    CHECK(starts_with(a.log, "PLAYED 1 0 5d\nTAKE 1 0 5h\nTURN 1 1 "));
    lobby_member_gone(l, ma, 0);
    lobby_member_gone(l, mb, 0);
    lobby_free(l);
}

/* ---------- the journal property ---------- */

/* What the fake journal kept of one match. */
static struct {
    bool has_start;
    char game[16];
    unsigned n_seats;
    char names[4][LOBBY_NAME_MAX + 1], tokens[4][LOBBY_TOKEN_LEN + 1];
    char seeds[4][LOBBY_SEED_MAX + 1];
    uint8_t secret[LOBBY_SECRET_LEN];
    struct lobby_move moves[1024];
    unsigned n_moves;
    bool has_end;
} jr;

static void fake_journal(void *ctx, const struct lobby_journal *j)
{
    (void)ctx;
    if (j->kind == LOBBY_J_START) {
        memset(&jr, 0, sizeof jr);
        jr.has_start = true;
        snprintf(jr.game, sizeof jr.game, "%s", j->game);
        jr.n_seats = j->n_seats;
        memcpy(jr.secret, j->secret, LOBBY_SECRET_LEN);
        for (unsigned s = 0; s < j->n_seats; s++) {
            snprintf(jr.names[s], sizeof jr.names[s], "%s", j->names[s]);
            snprintf(jr.tokens[s], sizeof jr.tokens[s], "%s", j->tokens[s]);
            snprintf(jr.seeds[s], sizeof jr.seeds[s], "%s", j->seeds[s]);
        }
    } else if (j->kind == LOBBY_J_MOVE) {
        CHECK_INT(j->seq, jr.n_moves + 1);
        jr.moves[jr.n_moves].seat = j->seat;
        jr.moves[jr.n_moves].move = j->move;
        jr.moves[jr.n_moves].is_timeout = j->is_timeout;
        jr.n_moves++;
    } else if (j->kind == LOBBY_J_END) {
        jr.has_end = true;
    }
}

static struct lobby *new_journaled_lobby(void)
{
    struct lobby_env env = {
        .send = fake_send, .evict = fake_evict, .arm = fake_arm,
        .new_secret = fake_secret, .new_token = fake_token,
        .journal = fake_journal, .turn_ms = 1000, .grace_ms = 1000000,
    };
    return lobby_new(&env);
}

#define MAX_STEPS 1024

/* One random match of game r with n seats: random legal moves (random
 * passes too), seeds on some seats, a timeout now and then; then a
 * restore from a random prefix of the journal must give the state the
 * live match had at that point. */
static void random_match_restores(const struct rules *r, unsigned n,
                                  uint64_t *rng, unsigned char *states,
                                  unsigned *moves_at)
{
    static struct client c[4];
    struct lobby *l = new_journaled_lobby();
    struct member *m[4] = {NULL, NULL, NULL, NULL};
    char tok[LOBBY_TOKEN_LEN + 1], seedbuf[LOBBY_SEED_MAX + 1];
    uint64_t id, now = 0;
    unsigned seat, n_steps = 0;

    memset(&jr, 0, sizeof jr);
    for (unsigned s = 0; s < n; s++) {
        char name[8];
        snprintf(name, sizeof name, "p%u", s);
        memset(&c[s], 0, sizeof c[s]);
        m[s] = lobby_member_new(l, &c[s]);
        CHECK_INT(lobby_nick(l, m[s], name, strlen(name), false, tok), LOBBY_OK);
        if (seeded(rng, 2)) {
            char hex[9];
            snprintf(hex, sizeof hex, "%x", seeded(rng, 1u << 30));
            CHECK_INT(lobby_seed(l, m[s], hex, strlen(hex), seedbuf), LOBBY_OK);
        }
    }
    CHECK_INT(lobby_create(l, m[0], r->name, strlen(r->name), n, now, &id), LOBBY_OK);
    for (unsigned s = 1; s < n; s++)
        CHECK_INT(lobby_join(l, m[s], id, now, &seat), LOBBY_OK);
    CHECK(jr.has_start);
    while (l->first != NULL && n_steps < MAX_STEPS) {
        struct match *mt = l->first;
        memcpy(states + (size_t)n_steps * r->state_size, mt->state, r->state_size);
        moves_at[n_steps++] = jr.n_moves;
        for (unsigned s = 0; s < n; s++)
            c[s].len = 0; /* the logs are not under test here */
        now += 10;
        if (seeded(rng, 12) == 0) {
            now = mt->turn.deadline_ms;
            lobby_tick(l, now);
            continue;
        }
        enum rules_move_kind kind;
        unsigned mask = r->to_move(mt->state, &kind);
        CHECK(mask != 0);
        unsigned cand[4], n_cand = 0;
        for (unsigned s = 0; s < n; s++)
            if (mask & (1u << s))
                cand[n_cand++] = s;
        unsigned s = cand[seeded(rng, n_cand)];
        struct rules_move mv;
        if (kind == MOVE_PASS) {
            card_t hand[RULES_MAX_DECK];
            unsigned k = r->hand(mt->state, s, hand);
            CHECK(k >= 3);
            for (unsigned i = 0; i < 3; i++) { /* three distinct, at random */
                unsigned j = i + seeded(rng, k - i);
                card_t t = hand[i];
                hand[i] = hand[j];
                hand[j] = t;
            }
            memset(&mv, 0, sizeof mv);
            mv.kind = MOVE_PASS;
            mv.n = 3;
            memcpy(mv.cards, hand, 3);
        } else {
            static struct rules_move all[256];
            unsigned k = r->legal_moves(mt->state, s, all, 256);
            CHECK(k > 0);
            mv = all[seeded(rng, k < 256 ? k : 256)];
        }
        char why[256];
        enum lobby_code rc = lobby_move(l, m[s], &mv, why, sizeof why, now);
        if (rc != LOBBY_OK)
            FAIL_("%s: a legal move refused: %d (%s)", r->name, rc, why);
    }
    CHECK(l->first == NULL); /* every match ends */
    CHECK(jr.has_end);
    for (unsigned s = 0; s < n; s++)
        lobby_member_gone(l, m[s], now);
    lobby_free(l);

    /* Restore from a random prefix into a fresh lobby. */
    unsigned k = seeded(rng, n_steps);
    struct lobby *l2 = new_journaled_lobby();
    struct lobby_restore rs = {
        .start = {.kind = LOBBY_J_START, .match_id = id, .game = jr.game,
                  .n_seats = jr.n_seats, .secret = jr.secret},
        .moves = jr.moves, .n_moves = moves_at[k],
    };
    for (unsigned s = 0; s < n; s++) {
        rs.start.names[s] = jr.names[s];
        rs.start.tokens[s] = jr.tokens[s];
        rs.start.seeds[s] = jr.seeds[s];
    }
    CHECK_INT(lobby_restore(l2, &rs, 0), 0);
    CHECK(l2->first != NULL);
    if (memcmp(l2->first->state, states + (size_t)k * r->state_size,
               r->state_size) != 0)
        FAIL_("%s/%u: restored after %u moves, the state differs", r->name, n,
              moves_at[k]);
    lobby_free(l2);
}

TEST(property_restore_from_any_prefix_gives_the_same_state)
{
    uint64_t rng = 0x5EED;
    CHECK(sodium_init() >= 0);
    for (size_t g = 0; rules_registry[g] != NULL; g++) {
        const struct rules *r = rules_registry[g];
        unsigned char *states = malloc((size_t)MAX_STEPS * r->state_size);
        unsigned *moves_at = malloc(MAX_STEPS * sizeof *moves_at);
        for (unsigned k = 0; k < RULES_MAX_SEATS && r->seat_counts[k]; k++)
            for (int i = 0; i < 1000; i++)
                random_match_restores(r, r->seat_counts[k], &rng, states,
                                      moves_at);
        free(states);
        free(moves_at);
    }
}

/* A version-1 record: a briscola deal of recorded random draws, no
 * secret. It replays through the recorded draws (the 40-card deck in
 * the order version 1 built it, which is §13's canonical order), and,
 * with nothing to prove, gets no COMMIT and no REVEAL. */
static uint32_t from_list(void *ctx, uint32_t upper)
{
    const uint32_t **p = ctx;
    return *(*p)++ % upper;
}

TEST(version_1_record_restores_through_its_recorded_draws)
{
    uint32_t draws[39];
    for (int i = 0; i < 39; i++)
        draws[i] = (uint32_t)(i * 7919 + 13);
    struct lobby *l = new_lobby();
    struct lobby_move mv = {.seat = 0};
    struct lobby_restore rs = {
        .start = {.kind = LOBBY_J_START, .match_id = 5, .game = "briscola",
                  .n_seats = 2, .draws = draws, .n_draws = 39,
                  .names = {"ann", "bo"},
                  .tokens = {"0123456789abcdef0123456789abcdef",
                             "fedcba9876543210fedcba9876543210"}},
        .moves = &mv, .n_moves = 1,
    };
    /* the deal version 1 made: card_shuffle over the canonical deck */
    card_t deck[40];
    rules_canonical_deck(40, deck);
    const uint32_t *p = draws;
    card_shuffle(deck, 40, from_list, &p);
    mv.move.kind = MOVE_PLAY;
    mv.move.n = 1;
    mv.move.cards[0] = deck[1]; /* seat 0 holds deck[0..3) */
    CHECK_INT(lobby_restore(l, &rs, 0), 0);
    struct match *mt = l->first;
    CHECK(mt != NULL);
    CHECK_INT(mt->n_moves, 1);
    card_t hand[3];
    CHECK_INT(mt->rules->hand(mt->state, 1, hand), 3);
    CHECK_INT(hand[0], deck[3]);
    CHECK_INT(mt->rules->trump(mt->state), deck[6]);
    struct client c = {0};
    struct member *m = lobby_member_new(l, &c);
    char tok[LOBBY_TOKEN_LEN + 1];
    uint64_t mid;
    CHECK_INT(lobby_resume(l, &m, &c, "fedcba9876543210fedcba9876543210", 32,
                           0, tok, &mid), LOBBY_OK);
    CHECK(starts_with(c.log, "START 5 briscola 2 ann bo\nTRUMP 5 "));
    CHECK(strstr(c.log, "COMMIT") == NULL);
    uint64_t left;
    clear(&c);
    CHECK_INT(lobby_leave(l, m, 0, &left), LOBBY_OK);
    lobby_member_gone(l, m, 0);
    lobby_free(l);
}
