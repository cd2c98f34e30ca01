/* Unit tests for game/evlog: the compact log gives back exactly the text
 * the old one kept (every line + LF, private ones "@<seat> "). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "game/evlog.h"

/* The text as match.c's log kept it before evlog: the reference. */
static size_t ref_add(char *ref, size_t at, int seat, const char *line)
{
    if (seat >= 0)
        at += (size_t)sprintf(ref + at, "@%d ", seat);
    at += (size_t)sprintf(ref + at, "%s\n", line);
    return at;
}

static void add(struct evlog *e, const char *id, int seat, const char *line)
{
    evlog_add(e, id, seat, line, strlen(line));
}

TEST(an_empty_log_is_the_empty_text)
{
    struct evlog e = {0};
    size_t len = 99;
    char *t = evlog_text(&e, "12", &len);
    CHECK_STR(t, "");
    CHECK_INT(len, 0);
    free(t);
    CHECK(!evlog_drop_last(&e, "12", "AWAY 12 0", 9));
    evlog_free(&e);
    evlog_free(&e); /* twice: nothing */
}

TEST(every_form_comes_back_byte_for_byte)
{
    static const struct {
        int seat;
        const char *line;
    } lines[] = {
        {-1, "SEATED 12 0 alice"},
        {-1, "COMMIT 12 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {-1, "START 12 briscola 2 alice bob"},
        {0, "HAND 12 3b 4c 5d"},
        {1, "HAND 12 Ab Kc 7s"},
        {-1, "PLAYED 12 0 3b"},
        {-1, "TURN 12 1 30000"},
        {-1, "TRICK 12 1 10"},
        {1, "DRAW 12 2d"},
        {6, "DRAW 12 2d"},          /* the highest seat the header holds */
        {-1, "AWAY 12 1"},
        {-1, "AWAY 12"},            /* no rest */
        {-1, "TURN 12 "},           /* an empty rest: kept whole */
        {-1, "TURN 12  1"},         /* two spaces: the rest keeps one */
        {-1, "PLAYED 123 0 3b"},    /* another id that starts with ours */
        {-1, "PLAYED 1 0 3b"},      /* a prefix of ours */
        {-1, "PLAYED 13 0 3b"},     /* another id */
        {-1, "FOO 12 x"},           /* not a match verb */
        {-1, "PLAYEDX 12 x"},
        {-1, "PLAYED"},
        {-1, "PLAYED "},
        {-1, "12"},
        {-1, ""},
        {2, ""},
        {-1, "CHAT 12 bob caf\xc3\xa9 @0 \x01"},
        {-1, "END 12 seat0 score 70 50"},
        {-1, "REVEAL 12 00ff - 1a"},
    };
    struct evlog e = {0};
    static char ref[1 << 16];
    size_t at = 0;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        add(&e, "12", lines[i].seat, lines[i].line);
        at = ref_add(ref, at, lines[i].seat, lines[i].line);
    }
    /* a line past 127 bytes: a two-byte length, with and without a verb */
    char big[400];
    memset(big, 'x', sizeof big);
    memcpy(big, "CHAT 12 ", 8);
    big[sizeof big - 1] = '\0';
    add(&e, "12", 3, big);
    at = ref_add(ref, at, 3, big);
    add(&e, "12", -1, big + 8);
    at = ref_add(ref, at, -1, big + 8);
    size_t len = 0;
    char *t = evlog_text(&e, "12", &len);
    CHECK_INT(len, at);
    CHECK_INT(e.text_len, at); /* what evlog_text sized its buffer by */
    CHECK_STR(t, ref);
    free(t);
    evlog_free(&e);
}

TEST(a_match_s_lines_are_kept_in_far_less_than_their_text)
{
    struct evlog e = {0};
    static char ref[1 << 16];
    char line[64];
    size_t at = 0;
    for (unsigned i = 0; i < 40; i++) {
        snprintf(line, sizeof line, "PLAYED 1234567 %u %ub", i % 2, i % 10);
        add(&e, "1234567", -1, line);
        at = ref_add(ref, at, -1, line);
        snprintf(line, sizeof line, "TURN 1234567 %u 30000", (i + 1) % 2);
        add(&e, "1234567", -1, line);
        at = ref_add(ref, at, -1, line);
    }
    char *t = evlog_text(&e, "1234567", NULL);
    CHECK_STR(t, ref);
    free(t);
    /* 80 lines of ~19 bytes: each entry is 2 bytes and the rest */
    CHECK(e.len < at / 2);
    CHECK(evlog_bytes(&e) < at * 2 / 3);
    evlog_free(&e);
}

TEST(drop_last_removes_only_the_line_asked_for)
{
    struct evlog e = {0};
    add(&e, "7", -1, "PLAYED 7 0 3b");
    add(&e, "7", 1, "AWAY 7 1"); /* private: not the public AWAY */
    CHECK(!evlog_drop_last(&e, "7", "AWAY 7 1", 8));
    add(&e, "7", -1, "AWAY 7 0");
    add(&e, "7", -1, "AWAY 7 1");
    CHECK(!evlog_drop_last(&e, "7", "AWAY 7 0", 8)); /* not the last */
    CHECK(!evlog_drop_last(&e, "7", "AWAY 7 1 ", 9));
    CHECK(evlog_drop_last(&e, "7", "AWAY 7 1", 8));
    CHECK(evlog_drop_last(&e, "7", "AWAY 7 0", 8));
    CHECK(!evlog_drop_last(&e, "7", "AWAY 7 0", 8));
    char *t = evlog_text(&e, "7", NULL);
    CHECK_STR(t, "PLAYED 7 0 3b\n@1 AWAY 7 1\n");
    free(t);
    /* and the log goes on after a drop */
    add(&e, "7", -1, "TURN 7 0 100");
    t = evlog_text(&e, "7", NULL);
    CHECK_STR(t, "PLAYED 7 0 3b\n@1 AWAY 7 1\nTURN 7 0 100\n");
    CHECK_INT(e.text_len, strlen(t));
    free(t);
    evlog_free(&e);
}

TEST(random_lines_match_the_reference)
{
    static const char *const words[] = {"PLAYED", "TURN", "99", "9", "990",
                                        "x", "", "@0", "DRAW", "HAND"};
    static char ref[1 << 20];
    srand(7);
    for (int round = 0; round < 50; round++) {
        struct evlog e = {0};
        size_t at = 0;
        for (int i = 0; i < 200; i++) {
            char line[128] = "";
            size_t n = 0;
            int w = rand() % 5;
            for (int k = 0; k < w; k++)
                n += (size_t)snprintf(line + n, sizeof line - n, "%s%s",
                                      k ? " " : "",
                                      words[rand() % 10]);
            int seat = rand() % 8 - 1;
            add(&e, "99", seat, line);
            at = ref_add(ref, at, seat, line);
        }
        char *t = evlog_text(&e, "99", NULL);
        CHECK_STR(t, ref);
        CHECK_INT(e.text_len, at);
        free(t);
        evlog_free(&e);
    }
}

