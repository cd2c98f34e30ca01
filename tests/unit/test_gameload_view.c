/*
 * Unit tests for bench/gameload/view.c: one player's checks of a match,
 * fed event lines as the server would send them, and its legal moves.
 * Each test names the rule it breaks (or keeps) and the kind reported.
 */
#include "gameload.h"

#include "check.h"

/* Feeds one event line; returns view_event()'s result, *kind on error. */
static int feed(struct view *v, const char *line, const char **kind)
{
    char buf[512], err[300], *w[64];
    int n = 0;

    snprintf(buf, sizeof buf, "%s", line);
    for (char *s = strtok(buf, " "); s; s = strtok(NULL, " "))
        w[n++] = s;
    *kind = "";
    int r = view_event(v, w, n, err, sizeof err, kind);
    if (r < 0)
        fprintf(stderr, "  (%s: %s)\n", *kind, err);
    return r;
}

#define OK(v, line)                                                            \
    do {                                                                       \
        const char *k_;                                                        \
        CHECK(feed((v), (line), &k_) >= 0);                                    \
    } while (0)

#define BAD(v, line, kind)                                                     \
    do {                                                                       \
        const char *k_;                                                        \
        CHECK_INT(feed((v), (line), &k_), -1);                                 \
        CHECK_STR(k_, (kind));                                                 \
    } while (0)

/* Briscola, 2 seats, I am seat 0, clubs are trump, I lead As. */
static void briscola_first_trick(struct view *v)
{
    const char *k;

    view_start(v, G_BRISCOLA, 2, 0, 1);
    OK(v, "TRUMP 1 Kc");
    OK(v, "HAND 1 As 2c 3d");
    CHECK_INT(feed(v, "TURN 1 0 30000", &k), NEED_PLAY);
    v->sent_card = card_parse("As");
    OK(v, "PLAYED 1 0 As");
    OK(v, "TURN 1 1 30000");
}

TEST(briscola_trump_takes_the_trick)
{
    struct view v;
    briscola_first_trick(&v);
    OK(&v, "PLAYED 1 1 4c");
    BAD(&v, "TRICK 1 0 11", "bad_trick");
}

TEST(briscola_trick_with_right_winner_and_points)
{
    struct view v;
    briscola_first_trick(&v);
    OK(&v, "PLAYED 1 1 4c");
    OK(&v, "TRICK 1 1 11");
    OK(&v, "DRAW 1 5h");
    OK(&v, "TURN 1 1 30000");
}

TEST(briscola_played_card_in_my_hand)
{
    struct view v;
    briscola_first_trick(&v);
    BAD(&v, "PLAYED 1 1 3d", "impossible_play");
}

TEST(briscola_trump_played_before_drawn)
{
    struct view v;
    briscola_first_trick(&v);
    BAD(&v, "PLAYED 1 1 Kc", "impossible_play");
}

TEST(briscola_card_played_twice)
{
    struct view v;
    briscola_first_trick(&v);
    BAD(&v, "PLAYED 1 1 As", "dup_card");
}

TEST(briscola_card_not_in_deck)
{
    struct view v;
    briscola_first_trick(&v);
    BAD(&v, "PLAYED 1 1 9h", "bad_card");
}

TEST(briscola_draw_of_a_played_card)
{
    struct view v;
    briscola_first_trick(&v);
    OK(&v, "PLAYED 1 1 4c");
    OK(&v, "TRICK 1 1 11");
    BAD(&v, "DRAW 1 4c", "dup_card");
}

TEST(briscola_play_out_of_turn)
{
    struct view v;
    const char *k;
    view_start(&v, G_BRISCOLA, 2, 0, 1);
    OK(&v, "TRUMP 1 Kc");
    OK(&v, "HAND 1 As 2c 3d");
    CHECK_INT(feed(&v, "TURN 1 1 30000", &k), -1);
    CHECK_STR(k, "bad_turn");
}

TEST(briscola_end_must_add_up_to_120)
{
    struct view v;
    view_start(&v, G_BRISCOLA, 2, 0, 1);
    v.n_tricks = 20;
    v.points[0] = v.points[1] = 60;
    BAD(&v, "END 1 team0 score 61 60", "bad_end");
    BAD(&v, "END 1 team0 score 60 60", "bad_end"); /* 60-60 is a draw */
    OK(&v, "END 1 draw score 60 60");
    BAD(&v, "END 1 team1 forfeit 60 60", "forfeit");
}

/* Scopa, 2 seats, I am seat 1; hand 1 is led by seat 0. */
static void scopa_deal(struct view *v)
{
    view_start(v, G_SCOPA, 2, 1, 2);
    OK(v, "DEAL 1 1");
    OK(v, "TABLE 1 3c 2d Ad Kc");
    OK(v, "HAND 1 5s 6s 7s");
    OK(v, "TURN 1 0 30000");
}

TEST(scopa_same_rank_before_a_sum)
{
    struct view v;
    scopa_deal(&v);
    OK(&v, "PLAYED 1 0 3h");
    BAD(&v, "TAKE 1 0 2d Ad", "bad_take");
}

TEST(scopa_capture_of_the_same_rank)
{
    struct view v;
    scopa_deal(&v);
    OK(&v, "PLAYED 1 0 3h");
    OK(&v, "TAKE 1 0 3c");
    OK(&v, "TURN 1 1 30000");
}

TEST(scopa_capture_is_compulsory)
{
    struct view v;
    scopa_deal(&v);
    OK(&v, "PLAYED 1 0 3h");
    BAD(&v, "TURN 1 1 30000", "bad_take");
}

TEST(scopa_sweep_is_due)
{
    struct view v;
    view_start(&v, G_SCOPA, 2, 1, 2);
    OK(&v, "DEAL 1 1");
    OK(&v, "TABLE 1 Ac 2d 3h 4s");
    OK(&v, "HAND 1 5s 6s 7s");
    OK(&v, "TURN 1 0 30000");
    OK(&v, "PLAYED 1 0 Kc"); /* 10 = A + 2 + 3 + 4: the whole table */
    OK(&v, "TAKE 1 0 Ac 2d 3h 4s");
    BAD(&v, "TURN 1 1 30000", "bad_sweep");
}

TEST(scopa_my_move_names_a_legal_capture)
{
    struct view v;
    uint64_t rng = 42;
    char out[64];
    scopa_deal(&v);
    OK(&v, "PLAYED 1 0 Qs"); /* 9: nothing to take; laid */
    OK(&v, "TURN 1 1 30000");
    v.hand = 1ull << card_parse("5s");
    CHECK(view_move(&v, NEED_PLAY, &rng, out, sizeof out) > 0);
    CHECK_STR(out, "PLAY 5s 3c 2d"); /* 3 + 2; the first set found */
}

/* Hearts, hand 4 (no pass), I am seat 0 and hold 2c. */
static void hearts_hand4(struct view *v)
{
    view_start(v, G_HEARTS, 4, 0, 2);
    v->hand_no = 3;
    v->scored = 1;
    OK(v, "DEAL 1 4");
    OK(v, "HAND 1 2c 3c 4c 5c 6c 7c 8c 9c Tc Jc Qc Kc Ac");
}

TEST(hearts_first_turn_goes_to_the_2c)
{
    struct view v;
    const char *k;
    hearts_hand4(&v);
    CHECK_INT(feed(&v, "TURN 1 1 30000", &k), -1);
    CHECK_STR(k, "bad_turn");
}

TEST(hearts_a_shown_void_is_remembered)
{
    struct view v;
    hearts_hand4(&v);
    OK(&v, "TURN 1 0 30000");
    v.sent_card = card_parse("2c");
    OK(&v, "PLAYED 1 0 2c");
    OK(&v, "TURN 1 1 30000");
    /* Qs on the first trick: seat 1 holds nothing but hearts now. */
    OK(&v, "PLAYED 1 1 Qs");
    OK(&v, "TURN 1 2 30000");
    OK(&v, "PLAYED 1 2 2d");
    OK(&v, "TURN 1 3 30000");
    OK(&v, "PLAYED 1 3 3d");
    OK(&v, "TRICK 1 0 13");
    OK(&v, "TURN 1 0 30000");
    v.sent_card = card_parse("3c");
    OK(&v, "PLAYED 1 0 3c");
    OK(&v, "TURN 1 1 30000");
    BAD(&v, "PLAYED 1 1 4d", "impossible_play");
}

TEST(hearts_trick_goes_to_the_highest_of_the_suit_led)
{
    struct view v;
    hearts_hand4(&v);
    OK(&v, "TURN 1 0 30000");
    v.sent_card = card_parse("2c");
    OK(&v, "PLAYED 1 0 2c");
    OK(&v, "TURN 1 1 30000");
    OK(&v, "PLAYED 1 1 Ad");
    OK(&v, "TURN 1 2 30000");
    OK(&v, "PLAYED 1 2 Kd");
    OK(&v, "TURN 1 3 30000");
    OK(&v, "PLAYED 1 3 3d");
    BAD(&v, "TRICK 1 1 0", "bad_trick");
}

TEST(hearts_my_first_move_is_the_2c)
{
    struct view v;
    uint64_t rng = 7;
    char out[64];
    hearts_hand4(&v);
    OK(&v, "TURN 1 0 30000");
    CHECK(view_move(&v, NEED_PLAY, &rng, out, sizeof out) > 0);
    CHECK_STR(out, "PLAY 2c");
}
