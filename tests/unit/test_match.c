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
    CHECK_STR(out, "briscola:2,4");
    for (int i = 0; i < 5; i++)
        lobby_member_gone(l, m[i], 0);
    /* the match in play holds its dropped seats for the grace period */
    lobby_list(l, out, sizeof out);
    CHECK_STR(out, "1 1:briscola:2/2:playing");
    lobby_free(l);
}
