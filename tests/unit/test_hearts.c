/* Unit tests for game/hearts: table-driven legality (follow suit, the
 * first trick, leading hearts), trick winners and points, the moon, the
 * pass in every direction, PASS errors, the end at 100 and ties, forfeits,
 * auto-moves, and a property test over seeded random matches driven
 * through the rules table alone. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS in check.h under -std=c11 */
#include "check.h"
#include "game/hearts.h"

static const struct rules *const R = &hearts_rules;

static card_t C(const char *code)
{
    card_t c = card_parse(code, 2);
    if (c == CARD_NONE)
        FAIL_("bad card %s", code);
    return c;
}

/* A set of cards from space-separated codes ("2c Qs"). */
static uint64_t S(const char *codes)
{
    uint64_t set = 0;
    for (const char *p = codes; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        set |= UINT64_C(1) << C(p);
        p += 2;
    }
    return set;
}

/* Space-separated codes of cards[0..n), in a static buffer. */
static const char *codes(const card_t *cards, unsigned n)
{
    static char buf[4][3 * RULES_MAX_DECK + 1];
    static int which;
    char *out = buf[which++ % 4], *p = out;
    *p = '\0';
    for (unsigned i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ' ';
        card_format(cards[i], p);
        p += 2;
    }
    return out;
}

static const char *hand_of(const struct hearts *h, unsigned seat)
{
    card_t cards[RULES_MAX_DECK];
    return codes(cards, R->hand(h, seat, cards));
}

static const char *received_of(const struct hearts *h, unsigned seat)
{
    card_t cards[RULES_MAX_DECK];
    return codes(cards, R->received(h, seat, cards));
}

/* The canonical deck of §13 (rules_canonical_deck lives elsewhere):
 * ascending card_t, so seat i of a canonical deal holds suit i. */
static void canonical(card_t deck[52])
{
    for (card_t c = 0; c < 52; c++)
        deck[c] = c;
}

/* The canonical deck with suits moved: seat i holds suit suits[i]. */
static void deck_by_suit(card_t deck[52], const unsigned suits[4])
{
    for (unsigned s = 0; s < 4; s++)
        for (unsigned r = 0; r < 13; r++)
            deck[13 * s + r] = card_make(r, suits[s]);
}

static struct rules_move play_mv(const char *code)
{
    struct rules_move mv = {.kind = MOVE_PLAY, .n = 1};
    mv.cards[0] = C(code);
    return mv;
}

static struct rules_move pass_mv(const char *a, const char *b, const char *c)
{
    struct rules_move mv = {.kind = MOVE_PASS, .n = 3};
    mv.cards[0] = C(a);
    mv.cards[1] = C(b);
    mv.cards[2] = C(c);
    return mv;
}

static enum rules_verdict check_mv(const struct hearts *h, unsigned seat,
                                   struct rules_move mv)
{
    return R->check(h, seat, &mv, NULL, 0);
}

/* Checks and applies a move that must be legal. */
static struct rules_outcome do_mv(struct hearts *h, unsigned seat,
                                  struct rules_move mv)
{
    struct rules_outcome o;
    enum rules_verdict v = R->check(h, seat, &mv, NULL, 0);
    if (v != RULES_OK)
        FAIL_("seat %u: move %s refused (%d)", seat, codes(mv.cards, mv.n),
              (int)v);
    R->apply(h, seat, &mv, &o);
    return o;
}

static struct rules_outcome do_play(struct hearts *h, unsigned seat,
                                    const char *code)
{
    return do_mv(h, seat, play_mv(code));
}

static unsigned to_move(const struct hearts *h, enum rules_move_kind *kind)
{
    enum rules_move_kind k = MOVE_PLAY;
    unsigned m = R->to_move(h, &k);
    if (kind)
        *kind = k;
    return m;
}

/* Plays the rest of the hand with auto_move for whoever is to play. */
static struct rules_outcome play_out(struct hearts *h, unsigned trick_pts[13],
                                     unsigned *n_tricks)
{
    struct rules_outcome o = {0};
    *n_tricks = 0;
    while (!o.is_hand_over) {
        enum rules_move_kind kind;
        unsigned m = to_move(h, &kind);
        CHECK_INT(kind, MOVE_PLAY);
        CHECK_INT(__builtin_popcount(m), 1);
        unsigned seat = (unsigned)__builtin_ctz(m);
        struct rules_move mv;
        R->auto_move(h, seat, &mv);
        o = do_mv(h, seat, mv);
        if (o.trick_done)
            trick_pts[(*n_tricks)++] = o.trick_points;
    }
    return o;
}

TEST(table_flags_and_names)
{
    CHECK_STR(R->name, "hearts");
    CHECK_INT(R->seat_counts[0], 4);
    CHECK_INT(R->seat_counts[1], 0);
    CHECK_INT(R->deck_size, 52);
    CHECK(R->state_size == sizeof(struct hearts));
    CHECK(!R->is_teams);
    CHECK(R->is_multi_hand);
    CHECK(!R->has_trump);
    CHECK(!R->has_table);
}

TEST(card_points_and_strength)
{
    static const struct { const char *c; unsigned p; } t[] = {
        {"2h", 1}, {"Th", 1}, {"Ah", 1}, {"Qs", 13}, {"Ks", 0}, {"As", 0},
        {"Qc", 0}, {"Qd", 0}, {"2c", 0}, {"Ad", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_INT(hearts_card_points(C(t[i].c)), t[i].p);
    unsigned total = 0;
    for (card_t c = 0; c < 52; c++)
        total += hearts_card_points(c);
    CHECK_INT(total, 26);
    const char *order[] = {"2d", "3d", "4d", "5d", "6d", "7d", "8d",
                           "9d", "Td", "Jd", "Qd", "Kd", "Ad"};
    for (unsigned i = 0; i < 13; i++)
        CHECK_INT(hearts_strength(C(order[i])), i);
}

TEST(trick_winner_table)
{
    static const struct { const char *cards[4]; unsigned winner; } t[] = {
        {{"5c", "9c", "2c", "Ac"}, 3}, /* ace high */
        {{"5c", "Kd", "As", "4c"}, 0}, /* off-suit cards never win */
        {{"Th", "Jh", "9h", "2h"}, 1},
        {{"2s", "Ah", "Kh", "Qh"}, 0}, /* no trump: hearts are discards */
        {{"Kd", "Ad", "Qs", "3d"}, 1},
        {{"Tc", "Jc", "Qc", "Kc"}, 3},
        {{"9d", "8d", "7d", "6d"}, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        card_t cards[4];
        for (unsigned k = 0; k < 4; k++)
            cards[k] = C(t[i].cards[k]);
        unsigned w = hearts_trick_winner(cards, 4);
        if (w != t[i].winner)
            FAIL_("case %zu: winner %u, want %u", i, w, t[i].winner);
    }
}

/* One position: the trick so far (led by seat 0, in seat order), so the
 * seat to play is the next one and holds `hand`. */
static void position(struct hearts *h, const char *trick, bool is_first,
                     bool is_broken, const char *hand)
{
    R->init(h, 4);
    h->phase = HEARTS_PLAYING;
    h->n_tricks = is_first ? 0 : 1;
    h->is_broken = is_broken;
    for (const char *p = trick; *p; p++) {
        if (*p == ' ')
            continue;
        h->trick_seat[h->n_trick] = h->n_trick;
        h->trick_card[h->n_trick++] = C(p);
        p++;
    }
    h->turn = h->n_trick;
    h->hand[h->turn] = S(hand);
}

TEST(legality_table)
{
    static const struct {
        const char *trick; /* cards already played, led first */
        bool is_first, is_broken;
        const char *hand, *card;
        enum rules_verdict want;
    } t[] = {
        /* The first trick is led with 2c. */
        {"", 1, 0, "2c 5c Kd", "2c", RULES_OK},
        {"", 1, 0, "2c 5c Kd", "5c", RULES_ILLEGAL},
        {"", 1, 0, "2c 5c Kd", "Kd", RULES_ILLEGAL},
        /* Follow suit if you can. */
        {"5c", 0, 0, "9c 3d", "3d", RULES_ILLEGAL},
        {"5c", 0, 0, "9c 3d", "9c", RULES_OK},
        {"5s", 0, 1, "Qs 2s 4h", "4h", RULES_ILLEGAL},
        {"5s", 0, 1, "Qs 2s 4h", "Qs", RULES_OK},
        {"5s 6s", 0, 0, "Qs 2s 4h", "2s", RULES_OK},
        {"5h", 0, 1, "Ah 2c", "2c", RULES_ILLEGAL},
        /* Void after the first trick: anything, hearts unbroken or not. */
        {"5c", 0, 0, "3d 4h", "4h", RULES_OK},
        {"5c", 0, 0, "3d Qs", "Qs", RULES_OK},
        {"5c 7c Jc", 0, 0, "3d 4h", "3d", RULES_OK},
        /* First trick, void: no heart, no Qs... */
        {"2c", 1, 0, "3d 4h Qs", "4h", RULES_ILLEGAL},
        {"2c", 1, 0, "3d 4h Qs", "Qs", RULES_ILLEGAL},
        {"2c", 1, 0, "3d 4h Qs", "3d", RULES_OK},
        {"2c 3c", 1, 0, "Ks 4h Qs", "Ks", RULES_OK},
        {"2c 3c Ad", 1, 0, "As Ah", "Ah", RULES_ILLEGAL},
        /* ... unless the hand holds nothing else. */
        {"2c", 1, 0, "4h Qs", "Qs", RULES_OK},
        {"2c", 1, 0, "4h Qs", "4h", RULES_OK},
        {"2c 3c", 1, 0, "4h 7h Ah", "7h", RULES_OK},
        {"2c 3c 4c", 1, 0, "Qs", "Qs", RULES_OK},
        /* First trick, can follow: follow, whatever else is held. */
        {"2c", 1, 0, "Kc 4h", "4h", RULES_ILLEGAL},
        {"2c", 1, 0, "Kc 4h", "Kc", RULES_OK},
        /* Leading hearts before they are broken. */
        {"", 0, 0, "3h 5c", "3h", RULES_ILLEGAL},
        {"", 0, 0, "3h 5c", "5c", RULES_OK},
        {"", 0, 0, "3h Qs", "3h", RULES_ILLEGAL}, /* Qs is not a heart */
        {"", 0, 0, "3h Qs", "Qs", RULES_OK},
        {"", 0, 0, "3h 9h Ah", "3h", RULES_OK}, /* only hearts */
        {"", 0, 0, "Ah", "Ah", RULES_OK},
        {"", 0, 1, "3h 5c", "3h", RULES_OK}, /* broken */
        {"", 0, 1, "3h 5c", "5c", RULES_OK},
        /* A card not held. */
        {"", 0, 1, "3h 5c", "5d", RULES_NOTINHAND},
        {"5c", 0, 0, "3d", "5d", RULES_NOTINHAND},
        {"", 1, 0, "3c", "2c", RULES_NOTINHAND},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct hearts h;
        position(&h, t[i].trick, t[i].is_first, t[i].is_broken, t[i].hand);
        unsigned seat = h.turn;
        enum rules_verdict v = check_mv(&h, seat, play_mv(t[i].card));
        if (v != t[i].want)
            FAIL_("case %zu (%s | %s | %s): verdict %d, want %d", i,
                  t[i].trick, t[i].hand, t[i].card, (int)v, (int)t[i].want);
        /* legal_moves says the same. */
        struct rules_move mv[13];
        unsigned n = R->legal_moves(&h, seat, mv, 13);
        bool is_listed = false;
        for (unsigned k = 0; k < n; k++)
            is_listed |= mv[k].cards[0] == C(t[i].card);
        if (is_listed != (t[i].want == RULES_OK))
            FAIL_("case %zu: legal_moves disagrees with check", i);
        /* Somebody else may not play now. */
        CHECK_INT(check_mv(&h, (seat + 1) % 4, play_mv(t[i].card)),
                  RULES_NOTYOURTURN);
    }
}

TEST(malformed_plays_are_badarg)
{
    struct hearts h;
    char why[64] = "";
    position(&h, "", 0, 1, "3h 5c");
    struct rules_move mv = play_mv("3h");
    mv.n = 2;
    mv.cards[1] = C("5c");
    CHECK_INT(R->check(&h, 0, &mv, why, sizeof why), RULES_BADARG);
    CHECK(why[0] != '\0');
    mv.n = 0;
    CHECK_INT(R->check(&h, 0, &mv, why, 4), RULES_BADARG);
    CHECK(strlen(why) <= 3); /* truncated to why_cap */
    mv = play_mv("3h");
    mv.cards[0] = 52;
    CHECK_INT(R->check(&h, 0, &mv, NULL, 0), RULES_BADARG);
    mv = play_mv("3h");
    mv.kind = 7;
    CHECK_INT(R->check(&h, 0, &mv, NULL, 0), RULES_BADARG);
}

TEST(a_heart_discard_breaks_hearts_and_qs_does_not)
{
    struct hearts h;
    struct rules_outcome o;

    /* Seat 0 leads 5c; seat 3 discards Qs; seat 1 wins and may not lead
     * a heart: the queen of spades does not break hearts. */
    position(&h, "", 0, 0, "5c 2d 3h");
    h.hand[1] = S("6c 9h 8d");
    h.hand[2] = S("2c Th 9d");
    h.hand[3] = S("Qs Jh Td");
    do_play(&h, 0, "5c");
    do_play(&h, 1, "6c");
    do_play(&h, 2, "2c");
    o = do_play(&h, 3, "Qs");
    CHECK(o.trick_done);
    CHECK_INT(o.trick_winner, 1);
    CHECK_INT(o.trick_points, 13);
    CHECK_INT(to_move(&h, NULL), 1u << 1);
    CHECK_INT(check_mv(&h, 1, play_mv("9h")), RULES_ILLEGAL);
    CHECK_INT(R->legal_moves(&h, 1, NULL, 0), 1);
    do_play(&h, 1, "8d");
    do_play(&h, 2, "9d");
    do_play(&h, 3, "Td");
    o = do_play(&h, 0, "2d");
    CHECK_INT(o.trick_winner, 3);
    CHECK_INT(o.trick_points, 0);
    /* Seat 3 holds only a heart: it may lead it, unbroken. */
    do_play(&h, 3, "Jh");
    do_play(&h, 0, "3h");
    do_play(&h, 1, "9h");
    o = do_play(&h, 2, "Th");
    CHECK_INT(o.trick_winner, 3);
    CHECK_INT(o.trick_points, 4);
    CHECK(o.is_hand_over == false);

    /* The same with a heart discarded: leading hearts is allowed after. */
    position(&h, "", 0, 0, "5c 3h 4c");
    h.hand[1] = S("6c 9d");
    h.hand[2] = S("2c Td");
    h.hand[3] = S("2h Jd");
    do_play(&h, 0, "5c");
    do_play(&h, 1, "6c");
    do_play(&h, 2, "2c");
    CHECK_INT(check_mv(&h, 3, play_mv("2h")), RULES_OK);
    do_play(&h, 3, "2h");
    CHECK_INT(to_move(&h, NULL), 1u << 1);
    position(&h, "", 0, 0, "5c 3h");
    CHECK_INT(check_mv(&h, 0, play_mv("3h")), RULES_ILLEGAL);
    h.is_broken = 1;
    CHECK_INT(check_mv(&h, 0, play_mv("3h")), RULES_OK);
}

TEST(two_of_clubs_leads_winner_leads_points_per_trick)
{
    struct hearts h;
    struct rules_outcome o;
    card_t deck[52];
    /* Seat 0 hearts, seat 1 spades, seat 2 clubs, seat 3 diamonds. */
    deck_by_suit(deck, (const unsigned[4]){SUIT_H, SUIT_S, SUIT_C, SUIT_D});
    R->init(&h, 4);
    R->deal(&h, 4, deck); /* hand 4: no pass */
    CHECK_INT(R->hand_no(&h), 4);
    CHECK(R->pass_dir(&h) == NULL);
    enum rules_move_kind kind;
    CHECK_INT(to_move(&h, &kind), 1u << 2); /* the holder of 2c */
    CHECK_INT(kind, MOVE_PLAY);
    CHECK_INT(check_mv(&h, 2, play_mv("3c")), RULES_ILLEGAL);
    CHECK_INT(check_mv(&h, 0, play_mv("2h")), RULES_NOTYOURTURN);
    o = do_play(&h, 2, "2c");
    CHECK(!o.trick_done);
    CHECK_INT(to_move(&h, NULL), 1u << 3); /* seat order */
    do_play(&h, 3, "Ad");
    do_play(&h, 0, "Ah"); /* only hearts: allowed on the first trick */
    CHECK_INT(check_mv(&h, 1, play_mv("Qs")), RULES_ILLEGAL);
    unsigned seats[4];
    card_t cards[4];
    CHECK_INT(R->trick(&h, seats, cards), 3);
    CHECK_INT(seats[0], 2);
    CHECK_INT(seats[1], 3);
    CHECK_INT(seats[2], 0);
    CHECK_STR(codes(cards, 3), "2c Ad Ah");
    o = do_play(&h, 1, "As");
    CHECK(o.trick_done);
    CHECK_INT(o.trick_winner, 2); /* the only club */
    CHECK_INT(o.trick_points, 1);
    CHECK(!o.is_hand_over);
    CHECK_INT(R->trick(&h, seats, cards), 0);
    CHECK_INT(to_move(&h, NULL), 1u << 2); /* the winner leads */
    do_play(&h, 2, "Kc");
    do_play(&h, 3, "Kd");
    do_play(&h, 0, "2h");
    o = do_play(&h, 1, "Qs");
    CHECK_INT(o.trick_winner, 2);
    CHECK_INT(o.trick_points, 14);
    unsigned t[4];
    R->totals(&h, t);
    CHECK_INT(t[2], 0); /* totals count completed hands only */
}

TEST(shooting_the_moon)
{
    struct hearts h;
    card_t deck[52];
    unsigned pts[13], n, t[4];
    canonical(deck); /* seat 0 all clubs: it wins every trick */
    R->init(&h, 4);
    R->deal(&h, 4, deck);
    struct rules_outcome o = play_out(&h, pts, &n);
    CHECK_INT(n, 13);
    CHECK_INT(pts[0], 1);  /* seat 2's Ah on the first trick */
    CHECK_INT(pts[1], 14); /* then Qs */
    for (unsigned i = 2; i < 13; i++)
        CHECK_INT(pts[i], 1);
    CHECK(o.is_hand_over);
    CHECK(!o.is_over);
    R->totals(&h, t);
    CHECK_INT(t[0], 0);
    CHECK_INT(t[1], 26);
    CHECK_INT(t[2], 26);
    CHECK_INT(t[3], 26);
    CHECK_INT(to_move(&h, NULL), 0); /* waiting for the next deal */

    static const struct { unsigned taken[4], score[4]; } s[] = {
        {{26, 0, 0, 0}, {0, 26, 26, 26}},
        {{0, 0, 0, 26}, {26, 26, 26, 0}},
        {{25, 1, 0, 0}, {25, 1, 0, 0}},
        {{13, 13, 0, 0}, {13, 13, 0, 0}},
        {{0, 13, 6, 7}, {0, 13, 6, 7}},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        unsigned got[4];
        hearts_hand_score(s[i].taken, got);
        for (unsigned k = 0; k < 4; k++)
            if (got[k] != s[i].score[k])
                FAIL_("case %zu seat %u: %u, want %u", i, k, got[k],
                      s[i].score[k]);
    }
}

TEST(pass_directions_hands_1_to_8)
{
    static const char *const dir[4] = {"left", "right", "across", NULL};
    static const unsigned off[4] = {1, 3, 2, 0};
    card_t deck[52];
    canonical(deck); /* seat i holds suit i */
    for (unsigned hand = 1; hand <= 8; hand++) {
        struct hearts h;
        unsigned k = (hand - 1) % 4;
        R->init(&h, 4);
        R->deal(&h, hand, deck);
        CHECK_INT(R->hand_no(&h), hand);
        CHECK_INT(hearts_pass_offset(hand), off[k]);
        enum rules_move_kind kind;
        unsigned mask = to_move(&h, &kind);
        if (dir[k] == NULL) {
            CHECK(R->pass_dir(&h) == NULL);
            CHECK_INT(kind, MOVE_PLAY);
            CHECK_INT(mask, 1u << 0);
            CHECK_INT(check_mv(&h, 1, pass_mv("2d", "3d", "4d")),
                      RULES_NOTYOURTURN);
            CHECK(!R->has_passed(&h, 1));
            card_t got[13];
            CHECK_INT(R->received(&h, 1, got), 0);
            continue;
        }
        CHECK(R->pass_dir(&h) != NULL);
        CHECK_STR(R->pass_dir(&h), dir[k]);
        CHECK_INT(kind, MOVE_PASS);
        CHECK_INT(mask, 0xF);
        CHECK_INT(R->legal_moves(&h, 0, NULL, 0), 0);
        /* Every seat passes its 2, 3 and 4, the last seat first. */
        static const char *const mine[4][3] = {
            {"2c", "3c", "4c"}, {"2d", "3d", "4d"},
            {"2h", "3h", "4h"}, {"2s", "3s", "4s"},
        };
        for (unsigned i = 0; i < 4; i++) {
            unsigned s = 3 - i;
            CHECK(!R->has_passed(&h, s));
            struct rules_outcome o =
                do_mv(&h, s, pass_mv(mine[s][0], mine[s][1], mine[s][2]));
            CHECK(R->has_passed(&h, s));
            CHECK_INT(o.is_pass_done, i == 3);
            CHECK(!o.trick_done);
            if (i < 3) {
                CHECK_INT(to_move(&h, &kind), 0xFu & ~(0xFu << s));
                CHECK_INT(kind, MOVE_PASS);
                card_t got[13];
                CHECK_INT(R->received(&h, 3 - s, got), 0);
                /* Nothing moves before the last seat has passed. */
                CHECK_INT(R->hand(&h, s, got), 13);
                CHECK(R->pass_dir(&h) != NULL);
            }
        }
        /* The cards arrive at seat s + offset. */
        for (unsigned s = 0; s < 4; s++) {
            unsigned to = (s + off[k]) % 4;
            char want[9];
            snprintf(want, sizeof want, "%s %s %s", mine[s][0], mine[s][1],
                     mine[s][2]);
            CHECK_STR(received_of(&h, to), want);
            uint64_t in = 0;
            card_t cards[13];
            unsigned n = R->hand(&h, to, cards);
            CHECK_INT(n, 13);
            for (unsigned i = 0; i < n; i++)
                in |= UINT64_C(1) << cards[i];
            CHECK((in & S(want)) == S(want));
        }
        CHECK(R->pass_dir(&h) == NULL);
        /* 2c went to seat 0 + offset, which leads. */
        CHECK_INT(to_move(&h, &kind), 1u << off[k]);
        CHECK_INT(kind, MOVE_PLAY);
        CHECK_INT(check_mv(&h, off[k], play_mv("2c")), RULES_OK);
        CHECK_INT(check_mv(&h, 0, pass_mv("5c", "6c", "7c")),
                  RULES_NOTYOURTURN);
    }
}

TEST(pass_hand_view_after_the_pass)
{
    struct hearts h;
    card_t deck[52];
    canonical(deck);
    R->init(&h, 4);
    R->deal(&h, 1, deck);
    CHECK_STR(hand_of(&h, 0), "2c 3c 4c 5c 6c 7c 8c 9c Tc Jc Qc Kc Ac");
    do_mv(&h, 0, pass_mv("Ac", "2c", "Qc")); /* any order */
    do_mv(&h, 1, pass_mv("Kd", "Qd", "Jd"));
    do_mv(&h, 2, pass_mv("Ah", "Kh", "Qh"));
    do_mv(&h, 3, pass_mv("Qs", "Ks", "As"));
    /* Left: 0 -> 1 -> 2 -> 3 -> 0. */
    CHECK_STR(hand_of(&h, 0), "3c 4c 5c 6c 7c 8c 9c Tc Jc Kc Qs Ks As");
    CHECK_STR(received_of(&h, 0), "Qs Ks As");
    CHECK_STR(hand_of(&h, 1), "2c Qc Ac 2d 3d 4d 5d 6d 7d 8d 9d Td Ad");
    CHECK_STR(received_of(&h, 1), "2c Qc Ac");
    CHECK_STR(received_of(&h, 2), "Jd Qd Kd");
    CHECK_STR(received_of(&h, 3), "Qh Kh Ah");
    CHECK_INT(to_move(&h, NULL), 1u << 1);
}

TEST(pass_errors)
{
    struct hearts h;
    card_t deck[52];
    canonical(deck);
    R->init(&h, 4);
    R->deal(&h, 1, deck); /* seat 0 holds the clubs */
    static const struct {
        const char *cards;
        unsigned n;
        enum rules_verdict want;
    } t[] = {
        {"2c 3c 2d", 3, RULES_NOTINHAND},
        {"2d 3d 4d", 3, RULES_NOTINHAND},
        {"2c 2c 3c", 3, RULES_BADARG},
        {"2c 3c 2c", 3, RULES_BADARG},
        {"2c 3c", 2, RULES_BADARG},
        {"2c 3c 4c 5c", 4, RULES_BADARG},
        {"2c", 1, RULES_BADARG},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct rules_move mv = {.kind = MOVE_PASS, .n = (uint8_t)t[i].n};
        for (unsigned k = 0; k < t[i].n; k++)
            mv.cards[k] = C(t[i].cards + 3 * k);
        char why[64] = "";
        enum rules_verdict v = R->check(&h, 0, &mv, why, sizeof why);
        if (v != t[i].want)
            FAIL_("case %zu (%s): %d, want %d", i, t[i].cards, (int)v,
                  (int)t[i].want);
        if (v == RULES_BADARG && why[0] == '\0')
            FAIL_("case %zu: no reason given", i);
    }
    CHECK_INT(check_mv(&h, 0, play_mv("2c")), RULES_NOTYOURTURN);
    do_mv(&h, 0, pass_mv("2c", "3c", "4c"));
    CHECK_INT(check_mv(&h, 0, pass_mv("5c", "6c", "7c")), RULES_ALREADY);
    CHECK_INT(check_mv(&h, 0, pass_mv("2c", "3c", "4c")), RULES_ALREADY);
    CHECK_INT(check_mv(&h, 1, play_mv("2d")), RULES_NOTYOURTURN);
    do_mv(&h, 1, pass_mv("2d", "3d", "4d"));
    do_mv(&h, 2, pass_mv("2h", "3h", "4h"));
    do_mv(&h, 3, pass_mv("2s", "3s", "4s"));
    /* Passing is over: PASS is due nowhere. */
    CHECK_INT(check_mv(&h, 1, pass_mv("5d", "6d", "7d")), RULES_NOTYOURTURN);
    CHECK_INT(check_mv(&h, 1, play_mv("2c")), RULES_OK);
}

TEST(end_at_100_and_ties)
{
    static const struct {
        unsigned before[4], after[4];
        bool is_over;
        int result;
    } t[] = {
        {{0, 73, 0, 0}, {0, 99, 26, 26}, false, 0},
        {{0, 74, 0, 0}, {0, 100, 26, 26}, true, 0},
        {{26, 0, 74, 60}, {26, 26, 100, 86}, true, RULES_DRAW},
        {{30, 0, 74, 60}, {30, 26, 100, 86}, true, 1},
        {{99, 0, 0, 0}, {99, 26, 26, 26}, false, RULES_DRAW},
        {{98, 80, 80, 80}, {98, 106, 106, 106}, true, 0},
    };
    card_t deck[52];
    canonical(deck); /* seat 0 shoots the moon under auto_move */
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct hearts h;
        unsigned pts[13], n, got[4], end[4];
        R->init(&h, 4);
        for (unsigned s = 0; s < 4; s++)
            h.totals[s] = (uint16_t)t[i].before[s];
        R->deal(&h, 4, deck);
        struct rules_outcome o = play_out(&h, pts, &n);
        CHECK(o.is_hand_over);
        R->totals(&h, got);
        R->end_points(&h, end);
        for (unsigned s = 0; s < 4; s++) {
            if (got[s] != t[i].after[s] || end[s] != got[s])
                FAIL_("case %zu seat %u: total %u end %u, want %u", i, s,
                      got[s], end[s], t[i].after[s]);
        }
        if (o.is_over != t[i].is_over)
            FAIL_("case %zu: is_over %d", i, o.is_over);
        CHECK_INT(to_move(&h, NULL), 0);
        if (t[i].is_over)
            CHECK_INT(R->result(&h), t[i].result);
    }
}

TEST(result_and_forfeit_table)
{
    static const struct {
        unsigned totals[4];
        int result;
        int forfeit[4]; /* when seat k forfeits */
    } t[] = {
        {{10, 20, 30, 40}, 0, {1, 0, 0, 0}},
        {{10, 10, 30, 40}, RULES_DRAW, {1, 0, RULES_DRAW, RULES_DRAW}},
        {{50, 20, 20, 40}, RULES_DRAW, {RULES_DRAW, 2, 1, RULES_DRAW}},
        {{50, 40, 20, 10}, 3, {3, 3, 3, 2}},
        {{0, 0, 0, 0}, RULES_DRAW,
         {RULES_DRAW, RULES_DRAW, RULES_DRAW, RULES_DRAW}},
        {{104, 26, 26, 0}, 3, {3, 3, 3, RULES_DRAW}},
        {{5, 5, 5, 4}, 3, {3, 3, 3, RULES_DRAW}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct hearts h;
        R->init(&h, 4);
        for (unsigned s = 0; s < 4; s++)
            h.totals[s] = (uint16_t)t[i].totals[s];
        if (R->result(&h) != t[i].result)
            FAIL_("case %zu: result %d, want %d", i, R->result(&h),
                  t[i].result);
        for (unsigned s = 0; s < 4; s++) {
            int f = R->forfeit_result(&h, s);
            if (f != t[i].forfeit[s])
                FAIL_("case %zu: seat %u forfeits: %d, want %d", i, s, f,
                      t[i].forfeit[s]);
            CHECK_INT(R->side_of(&h, s), s);
        }
    }
}

TEST(auto_move_choices)
{
    /* Passing: the three most dangerous cards. */
    static const struct { const char *hand, *want; } p[] = {
        {"2c 3c Qs As Ks Ah 2h 4d", "Qs As Ks"},
        {"2c 3c Kh 4h Ad Ac 5s", "Kh 4h Ac"},
        {"2c 3d 4s", "4s 3d 2c"},
        {"Ac Ad As 2s", "As Ac Ad"},
        {"Js Jd Jc 2h Ts", "2h Jc Jd"},
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        struct hearts h;
        struct rules_move mv;
        R->init(&h, 4);
        h.phase = HEARTS_PASSING;
        h.hand_no = 1;
        h.hand[2] = S(p[i].hand);
        R->auto_move(&h, 2, &mv);
        CHECK_INT(mv.kind, MOVE_PASS);
        CHECK_INT(mv.n, 3);
        if (strcmp(codes(mv.cards, 3), p[i].want) != 0)
            FAIL_("case %zu: %s, want %s", i, codes(mv.cards, 3), p[i].want);
    }
    /* Playing: lead or follow low; void, discard the most dangerous. */
    static const struct {
        const char *trick;
        bool is_first, is_broken;
        const char *hand, *want;
    } t[] = {
        {"", 1, 0, "2c 5c Ad", "2c"},
        {"", 0, 0, "5c 2d 3h", "2d"},
        {"", 0, 1, "5c 2d 2h", "2d"}, /* same strength: c d h s */
        {"", 0, 1, "5c 4d 2h", "2h"},
        {"", 0, 0, "Ah 2h", "2h"},
        {"Tc", 0, 0, "Kc 3c Ah", "3c"},
        {"Tc", 0, 0, "Qs 2h Ad", "Qs"},
        {"Tc", 0, 0, "2h Ad As", "As"},
        {"Tc", 0, 0, "2h 3h Ad", "3h"},
        {"2c", 1, 0, "Qs 2h Ad", "Ad"},
        {"2c", 1, 0, "Qs 2h", "Qs"},
        {"2c", 1, 0, "3h 9h", "9h"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct hearts h;
        struct rules_move mv;
        position(&h, t[i].trick, t[i].is_first, t[i].is_broken, t[i].hand);
        R->auto_move(&h, h.turn, &mv);
        CHECK_INT(mv.kind, MOVE_PLAY);
        CHECK_INT(mv.n, 1);
        if (mv.cards[0] != C(t[i].want))
            FAIL_("case %zu: %s, want %s", i, codes(mv.cards, 1), t[i].want);
        CHECK_INT(R->check(&h, h.turn, &mv, NULL, 0), RULES_OK);
    }
}

TEST(views_before_and_between_hands)
{
    struct hearts h;
    card_t out[52];
    R->init(&h, 4);
    CHECK_INT(R->hand_no(&h), 0);
    CHECK_INT(to_move(&h, NULL), 0);
    CHECK(R->pass_dir(&h) == NULL);
    CHECK_INT(R->trump(&h), CARD_NONE);
    CHECK_INT(R->table(&h, out), 0);
    CHECK_INT(R->hand(&h, 0, out), 0);
    CHECK_INT(check_mv(&h, 0, play_mv("2c")), RULES_NOTYOURTURN);
    CHECK_INT(check_mv(&h, 0, pass_mv("2c", "3c", "4c")), RULES_NOTYOURTURN);
    CHECK_INT(R->legal_moves(&h, 0, NULL, 0), 0);
    unsigned t[4];
    R->totals(&h, t);
    for (unsigned s = 0; s < 4; s++)
        CHECK_INT(t[s], 0);
}

/* ---- Property test: random matches through the rules table only. ---- */

/* Matches in the property test; every REPLAY_EVERY-th is replayed from
 * its decks and moves and must end in a byte-identical state. Under
 * ASan+UBSan a match costs about 1.5 ms of CPU, so 100 000 would take
 * some 3 minutes: the default, 6 000 matches (about 68 000 hands), keeps
 * this test near 10 s (2 000 under ASan). `make soak` runs the full
 * 100 000 (about a minute at -O2, with CHECK_ALARM_S=0). */
#ifndef PROPERTY_MATCHES
#if defined(__SANITIZE_ADDRESS__)
#define PROPERTY_MATCHES 2000 /* ASan: within the 60 s alarm on a loaded machine */
#else
#define PROPERTY_MATCHES 6000
#endif
#endif
#ifndef REPLAY_EVERY
#define REPLAY_EVERY 1
#endif
#define MAX_HANDS 16 /* 15 hands can total 390 with all seats below 100 */
#define MAX_STEPS (MAX_HANDS * 56)

/* xorshift64*: a seeded source for reproducible matches in tests only. */
static uint32_t test_uniform(void *ctx, uint32_t upper)
{
    uint64_t *s = ctx;
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)(((*s * 2685821657736338717ULL) >> 32) % upper);
}

struct script {
    card_t decks[MAX_HANDS][52];
    unsigned n_hands, n_steps;
    struct {
        uint8_t seat;
        struct rules_move mv;
    } steps[MAX_STEPS];
};

static uint64_t mask_of(const card_t *cards, unsigned n)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < n; i++) {
        CHECK(cards[i] < 52);
        CHECK(!(m & (UINT64_C(1) << cards[i])));
        m |= UINT64_C(1) << cards[i];
    }
    return m;
}

static uint64_t hand_mask(const struct hearts *h, unsigned seat, unsigned *n)
{
    card_t cards[RULES_MAX_DECK];
    *n = R->hand(h, seat, cards);
    CHECK(*n <= 13);
    /* In the fixed order: suits c d h s, each from 2 up to A. */
    for (unsigned i = 1; i < *n; i++) {
        card_t x = cards[i - 1], y = cards[i];
        unsigned a = card_suit(x) * 13 + hearts_strength(x);
        unsigned b = card_suit(y) * 13 + hearts_strength(y);
        CHECK(a < b);
    }
    return mask_of(cards, *n);
}

/* Every card is exactly once in a hand, the trick, or a completed trick. */
static void check_cards(const struct hearts *h, uint64_t done, unsigned m)
{
    uint64_t all = done;
    unsigned total = (unsigned)__builtin_popcountll(done);
    for (unsigned s = 0; s < 4; s++) {
        unsigned n;
        uint64_t hm = hand_mask(h, s, &n);
        if (all & hm)
            FAIL_("match %u: a card of seat %u is elsewhere too", m, s);
        all |= hm;
        total += n;
    }
    unsigned seats[4];
    card_t cards[4];
    unsigned nt = R->trick(h, seats, cards);
    CHECK(nt < 4);
    uint64_t tm = mask_of(cards, nt);
    CHECK(!(all & tm));
    all |= tm;
    total += nt;
    if (total != 52 || all != (UINT64_C(1) << 52) - 1)
        FAIL_("match %u: %u cards accounted for", m, total);
}

static int lowest_of(const unsigned t[4], unsigned skip)
{
    int best = -1, n = 0;
    for (unsigned s = 0; s < 4; s++) {
        if (s == skip)
            continue;
        if (best < 0 || t[s] < t[best])
            best = (int)s, n = 1;
        else if (t[s] == t[best])
            n++;
    }
    return n == 1 ? best : RULES_DRAW;
}

/* Plays one random match, recording it in sc; returns its moons. */
static unsigned random_match(uint64_t *rng, unsigned m, struct script *sc,
                         struct hearts *h)
{
    unsigned totals[4] = {0};
    struct rules_outcome o = {0};
    unsigned n_moons = 0;

    sc->n_hands = sc->n_steps = 0;
    R->init(h, 4);
    for (unsigned hand = 1; !o.is_over; hand++) {
        CHECK(hand <= MAX_HANDS);
        card_t *deck = sc->decks[sc->n_hands++];
        for (card_t c = 0; c < 52; c++)
            deck[c] = c;
        card_shuffle(deck, 52, test_uniform, rng);
        R->deal(h, hand, deck);
        CHECK_INT(R->hand_no(h), hand);

        uint64_t done = 0, passed[4] = {0};
        unsigned points[4] = {0}, n_tricks = 0;
        check_cards(h, done, m);
        for (unsigned s = 0; s < 4; s++) {
            unsigned n;
            hand_mask(h, s, &n);
            CHECK_INT(n, 13);
        }
        o.is_hand_over = false;
        while (!o.is_hand_over) {
            enum rules_move_kind kind;
            unsigned mask = R->to_move(h, &kind);
            CHECK(mask != 0 && mask <= 0xF);
            struct rules_move mv, alt;
            unsigned seat;
            card_t cards[13];

            if (kind == MOVE_PASS) {
                CHECK(hearts_pass_offset(hand) != 0);
                CHECK(R->pass_dir(h) != NULL);
                for (unsigned s = 0; s < 4; s++) {
                    CHECK_INT(R->has_passed(h, s), !(mask & (1u << s)));
                    CHECK_INT(R->legal_moves(h, s, NULL, 0), 0);
                    CHECK_INT(R->received(h, s, cards), 0);
                    R->auto_move(h, s, &alt);
                    CHECK_INT(alt.kind, MOVE_PASS);
                    CHECK_INT(R->check(h, s, &alt, NULL, 0),
                              mask & (1u << s) ? RULES_OK : RULES_ALREADY);
                    alt = play_mv("2c");
                    CHECK_INT(R->check(h, s, &alt, NULL, 0),
                              RULES_NOTYOURTURN);
                }
                do
                    seat = test_uniform(rng, 4);
                while (!(mask & (1u << seat)));
                if (test_uniform(rng, 4) == 0) {
                    R->auto_move(h, seat, &mv);
                } else {
                    unsigned n = R->hand(h, seat, cards);
                    mv = (struct rules_move){.kind = MOVE_PASS, .n = 3};
                    for (unsigned i = 0; i < 3; i++) {
                        unsigned j = i + test_uniform(rng, n - i);
                        card_t t = cards[i];
                        cards[i] = cards[j];
                        cards[j] = t;
                        mv.cards[i] = cards[i];
                    }
                }
                passed[seat] = mask_of(mv.cards, 3);
            } else {
                CHECK_INT(__builtin_popcount(mask), 1);
                CHECK(R->pass_dir(h) == NULL);
                seat = (unsigned)__builtin_ctz(mask);
                struct rules_move legal[13];
                unsigned nl = R->legal_moves(h, seat, legal, 13);
                CHECK(nl >= 1);
                uint64_t lm = 0;
                for (unsigned i = 0; i < nl; i++) {
                    CHECK_INT(legal[i].kind, MOVE_PLAY);
                    CHECK_INT(legal[i].n, 1);
                    lm |= UINT64_C(1) << legal[i].cards[0];
                }
                /* check agrees with legal_moves on every card held. */
                unsigned n = R->hand(h, seat, cards);
                for (unsigned i = 0; i < n; i++) {
                    alt = (struct rules_move){.kind = MOVE_PLAY, .n = 1};
                    alt.cards[0] = cards[i];
                    bool is_legal = lm & (UINT64_C(1) << cards[i]);
                    CHECK_INT(R->check(h, seat, &alt, NULL, 0),
                              is_legal ? RULES_OK : RULES_ILLEGAL);
                    unsigned other = (seat + 1 + i % 3) % 4;
                    CHECK_INT(R->check(h, other, &alt, NULL, 0),
                              RULES_NOTYOURTURN);
                }
                CHECK(lm == (lm & mask_of(cards, n)));
                R->auto_move(h, seat, &alt);
                CHECK_INT(alt.kind, MOVE_PLAY);
                CHECK(lm & (UINT64_C(1) << alt.cards[0]));
                CHECK_INT(R->check(h, seat, &alt, NULL, 0), RULES_OK);
                mv = test_uniform(rng, 8) == 0 ? alt
                                               : legal[test_uniform(rng, nl)];
            }

            CHECK_INT(R->check(h, seat, &mv, NULL, 0), RULES_OK);
            sc->steps[sc->n_steps].seat = (uint8_t)seat;
            sc->steps[sc->n_steps++].mv = mv;
            unsigned trick_seats[4];
            card_t trick_cards[4];
            unsigned nt = R->trick(h, trick_seats, trick_cards);
            R->apply(h, seat, &mv, &o);
            CHECK_INT(o.is_pass_done,
                      kind == MOVE_PASS && (mask & ~(1u << seat)) == 0);
            if (o.is_pass_done) {
                unsigned off = hearts_pass_offset(hand);
                for (unsigned s = 0; s < 4; s++) {
                    unsigned nr = R->received(h, (s + off) % 4, cards);
                    CHECK_INT(nr, 3);
                    CHECK(mask_of(cards, 3) == passed[s]);
                    unsigned n;
                    uint64_t hm = hand_mask(h, (s + off) % 4, &n);
                    CHECK_INT(n, 13);
                    CHECK((hm & passed[s]) == passed[s]);
                }
            }
            CHECK_INT(o.trick_done, kind == MOVE_PLAY && nt == 3);
            if (o.trick_done) {
                trick_seats[3] = seat;
                trick_cards[3] = mv.cards[0];
                unsigned w = 0, pts = 0;
                for (unsigned i = 0; i < 4; i++) {
                    card_t c = trick_cards[i];
                    if (card_suit(c) == card_suit(trick_cards[0]) &&
                        hearts_strength(c) > hearts_strength(trick_cards[w]))
                        w = i;
                    pts += hearts_card_points(c);
                }
                CHECK_INT(o.trick_winner, trick_seats[w]);
                CHECK_INT(o.trick_points, pts);
                points[o.trick_winner] += pts;
                done |= mask_of(trick_cards, 4);
                n_tricks++;
                if (!o.is_hand_over)
                    CHECK_INT(R->to_move(h, &kind), 1u << o.trick_winner);
            }
            CHECK_INT(o.is_hand_over, n_tricks == 13);
            check_cards(h, done, m);
        }
        /* 26 points a hand, or the moon. */
        unsigned sum = 0, moon = 4;
        for (unsigned s = 0; s < 4; s++) {
            sum += points[s];
            if (points[s] == 26)
                moon = s;
        }
        CHECK_INT(sum, 26);
        n_moons += moon != 4;
        unsigned got[4], end[4], top = 0;
        R->totals(h, got);
        R->end_points(h, end);
        for (unsigned s = 0; s < 4; s++) {
            totals[s] += moon == 4 ? points[s] : s == moon ? 0 : 26;
            if (got[s] != totals[s] || end[s] != totals[s])
                FAIL_("match %u hand %u seat %u: total %u, want %u", m, hand,
                      s, got[s], totals[s]);
            if (totals[s] > top)
                top = totals[s];
        }
        CHECK_INT(o.is_over, top >= 100);
        if (!o.is_over)
            CHECK_INT(R->to_move(h, NULL), 0);
    }
    CHECK_INT(R->to_move(h, NULL), 0);
    CHECK_INT(R->result(h), lowest_of(totals, 4));
    for (unsigned s = 0; s < 4; s++)
        CHECK_INT(R->forfeit_result(h, s), lowest_of(totals, s));
    return n_moons;
}

/* Replays a script from init: decks and moves only. */
static void replay(const struct script *sc, struct hearts *h)
{
    struct rules_outcome o = {0};
    unsigned hand = 0;

    R->init(h, 4);
    R->deal(h, ++hand, sc->decks[0]);
    for (unsigned i = 0; i < sc->n_steps; i++) {
        R->apply(h, sc->steps[i].seat, &sc->steps[i].mv, &o);
        if (o.is_hand_over && !o.is_over) {
            hand++;
            R->deal(h, hand, sc->decks[hand - 1]);
        }
    }
    CHECK(o.is_over);
    CHECK_INT(hand, sc->n_hands);
}

TEST(property_random_matches)
{
    static struct script sc;
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    unsigned long hands = 0, moons = 0, draws = 0;

    for (unsigned m = 0; m < PROPERTY_MATCHES; m++) {
        struct hearts a, b;
        moons += random_match(&rng, m, &sc, &a);
        hands += sc.n_hands;
        draws += R->result(&a) == RULES_DRAW;
        if (m % REPLAY_EVERY == 0) {
            memset(&b, 0xA5, sizeof b); /* init must clear everything */
            replay(&sc, &b);
            if (memcmp(&a, &b, sizeof a) != 0)
                FAIL_("match %u: the replay differs", m);
        }
    }
    printf("     %u matches, %lu hands, %lu moons, %lu drawn\n",
           (unsigned)PROPERTY_MATCHES, hands, moons, draws);
}
