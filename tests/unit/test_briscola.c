/* Unit tests for game/briscola through rules v2: table-driven tricks,
 * points, draw order, deck exhaustion, team scoring, auto-play, the
 * verdicts of check, the deal of §13's known answer, and a property test
 * over 100 000 seeded random matches. */
#include "check.h"
#include "game/briscola.h"
#include "game/deal.h"

#include <sodium.h>

static card_t C(const char *code)
{
    card_t c = card_parse(code, 2);
    if (c == CARD_NONE)
        FAIL_("bad card %s", code);
    return c;
}

/* xorshift64*: a seeded source for reproducible deals in tests only. */
static uint32_t test_uniform(void *ctx, uint32_t upper)
{
    uint64_t *s = ctx;
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)(((*s * 2685821657736338717ULL) >> 32) % upper);
}


/* A seeded shuffle of the canonical deck, dealt as hand 1 (v2: the deck
 * comes in from outside). */
static void shuffled_deal(struct briscola *b, unsigned n, uint64_t *seed)
{
    card_t deck[40];
    rules_canonical_deck(40, deck);
    card_shuffle(deck, 40, test_uniform, seed);
    briscola_rules.init(b, n);
    briscola_rules.deal(b, 1, deck);
}

static unsigned to_play(const struct briscola *b)
{
    enum rules_move_kind kind;
    unsigned mask = briscola_rules.to_move(b, &kind);
    CHECK_INT(kind, MOVE_PLAY);
    for (unsigned s = 0; s < RULES_MAX_SEATS; s++)
        if (mask & (1u << s)) {
            CHECK_INT(mask, 1u << s); /* one seat at a time */
            return s;
        }
    FAIL_("nobody to play");
    return 0;
}

static struct rules_move one(card_t c)
{
    struct rules_move mv = {.kind = MOVE_PLAY, .n = 1, .cards = {c}};
    return mv;
}

static bool is_legal(const struct briscola *b, unsigned seat, card_t c)
{
    struct rules_move mv = one(c);
    return briscola_rules.check(b, seat, &mv, NULL, 0) == RULES_OK;
}

/* Plays card c for seat; the move must be legal. */
static void play(struct briscola *b, unsigned seat, card_t c,
                 struct rules_outcome *o)
{
    struct rules_move mv = one(c);
    CHECK_INT(briscola_rules.check(b, seat, &mv, NULL, 0), RULES_OK);
    briscola_rules.apply(b, seat, &mv, o);
}

static card_t auto_card(const struct briscola *b, unsigned seat)
{
    struct rules_move mv;
    briscola_rules.auto_move(b, seat, &mv);
    CHECK_INT(mv.kind, MOVE_PLAY);
    CHECK_INT(mv.n, 1);
    return mv.cards[0];
}

TEST(card_codes_roundtrip)
{
    char out[3];
    for (card_t c = 0; c < 52; c++) {
        card_format(c, out);
        CHECK_INT(card_parse(out, 2), c);
    }
    CHECK_INT(card_parse("as", 2), CARD_NONE); /* case-sensitive */
    CHECK_INT(card_parse("AS", 2), CARD_NONE);
    CHECK_INT(card_parse("1c", 2), CARD_NONE);
    CHECK_INT(card_parse("Acc", 3), CARD_NONE);
    CHECK_INT(card_parse("A", 1), CARD_NONE);
}

TEST(points_per_rank_and_total)
{
    static const struct { const char *c; unsigned p; } t[] = {
        {"Ac", 11}, {"3d", 10}, {"Kh", 4}, {"Qs", 3}, {"Jc", 2}, {"7c", 0},
        {"6c", 0}, {"5c", 0}, {"4c", 0}, {"2c", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_INT(briscola_card_points(C(t[i].c)), t[i].p);
    struct briscola b;
    uint64_t seed = 1;
    shuffled_deal(&b, 2, &seed);
    unsigned total = briscola_card_points(b.trump_card);
    for (unsigned i = 0; i < b.pile_len - 1; i++)
        total += briscola_card_points(b.pile[i]);
    for (unsigned s = 0; s < 2; s++)
        for (unsigned i = 0; i < 3; i++)
            total += briscola_card_points(b.hand[s][i]);
    CHECK_INT(total, 120);
}

TEST(strength_order)
{
    const char *order[] = {"Ac", "3c", "Kc", "Qc", "Jc", "7c", "6c", "5c", "4c", "2c"};
    for (int i = 0; i + 1 < 10; i++)
        CHECK(briscola_strength(C(order[i])) > briscola_strength(C(order[i + 1])));
}

TEST(trick_resolution_table)
{
    static const struct {
        const char *cards[4];
        unsigned n;
        unsigned trump; /* suit */
        unsigned winner;
    } t[] = {
        {{"Kc", "Ac"}, 2, SUIT_H, 1},             /* same suit, higher wins */
        {{"3c", "Kc"}, 2, SUIT_H, 0},             /* 3 beats K */
        {{"2c", "Ad"}, 2, SUIT_H, 0},             /* off-suit discard loses */
        {{"Ac", "2h"}, 2, SUIT_H, 1},             /* any trump beats the led suit */
        {{"2h", "Ac"}, 2, SUIT_H, 0},             /* trump led, no trump follows */
        {{"4h", "3h"}, 2, SUIT_H, 1},             /* higher trump */
        {{"7s", "2s"}, 2, SUIT_H, 0},
        {{"5d", "Ac", "6d", "Ks"}, 4, SUIT_H, 2}, /* led suit, discards ignored */
        {{"5d", "2h", "Ad", "4h"}, 4, SUIT_H, 3}, /* two trumps: higher wins */
        {{"5d", "2h", "Ad", "Jc"}, 4, SUIT_H, 1}, /* the only trump */
        {{"Ah", "3h", "Kh", "Qh"}, 4, SUIT_H, 0}, /* all trumps */
        {{"2c", "2d", "2h", "2s"}, 4, SUIT_S, 3}, /* trump as last card */
        {{"2c", "2d", "2h", "2s"}, 4, SUIT_C, 0}, /* led suit is trump */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        card_t cards[4];
        for (unsigned k = 0; k < t[i].n; k++)
            cards[k] = C(t[i].cards[k]);
        unsigned w = briscola_trick_winner(cards, t[i].n, t[i].trump);
        if (w != t[i].winner)
            FAIL_("case %zu: winner %u, want %u", i, w, t[i].winner);
    }
}

/* A fixed 40-card order: seat hands, then trump, then the pile. */
static void fixed_deck(card_t deck[40])
{
    static const char *codes[40] = {
        "Ac", "2c", "3c",  "Kd", "2d", "4d",   /* seat 0, seat 1 (2 players) */
        "7h",                                    /* trump: hearts */
        "Qc", "Jd", "5c", "6c", "7c", "Kc", "Jc", "4c", "Ad", "3d", "5d", "6d",
        "7d", "Qd", "Ah", "2h", "3h", "4h", "5h", "6h", "Kh", "Qh", "Jh", "As",
        "2s", "3s", "4s", "5s", "6s", "7s", "Ks", "Qs", "Js",
    };
    for (int i = 0; i < 40; i++)
        deck[i] = C(codes[i]);
}

TEST(two_player_trick_draw_order_and_turns)
{
    struct briscola b;
    struct rules_outcome o;
    card_t deck[40];
    fixed_deck(deck);
    briscola_deal_from(&b, 2, deck);
    CHECK_INT(b.trump_card, C("7h"));
    CHECK_INT(to_play(&b), 0);
    CHECK(!is_legal(&b, 1, C("Kd"))); /* not seat 1's turn */
    CHECK(!is_legal(&b, 0, C("Kd"))); /* not in seat 0's hand */
    play(&b, 0, C("2c"), &o);
    CHECK(!o.trick_done);
    CHECK_INT(to_play(&b), 1);
    play(&b, 1, C("Kd"), &o); /* off-suit: seat 0 wins */
    CHECK(o.trick_done);
    CHECK_INT(o.trick_winner, 0);
    CHECK_INT(o.trick_points, 4);
    CHECK_INT(o.n_draws, 2);
    CHECK_INT(o.draws[0].seat, 0); /* winner first */
    CHECK_INT(o.draws[0].card, C("Qc"));
    CHECK_INT(o.draws[1].seat, 1);
    CHECK_INT(o.draws[1].card, C("Jd"));
    CHECK_INT(to_play(&b), 0); /* winner leads */
    /* two more tricks to seat 0: the points add up */
    play(&b, 0, C("Qc"), &o);
    play(&b, 1, C("2d"), &o);
    CHECK_INT(o.trick_winner, 0);
    play(&b, 0, C("Ac"), &o);
    CHECK(is_legal(&b, 1, C("4d")));
    play(&b, 1, C("Jd"), &o);
    CHECK_INT(o.trick_winner, 0);
    unsigned pts[2];
    briscola_rules.end_points(&b, pts);
    CHECK_INT(pts[0], 4 + 3 + 11 + 2);
    CHECK_INT(pts[1], 0);
}

/* A deal from the given first cards, the rest of the deck after them. */
static void deck_starting(card_t deck[40], const char **first, int n_first)
{
    static const char ranks[] = "A234567JQK", suits[] = "cdhs";
    int n = 0;
    for (int i = 0; i < n_first; i++)
        deck[n++] = C(first[i]);
    for (int su = 0; su < 4; su++) {
        for (int r = 0; r < 10; r++) {
            char code[3] = {ranks[r], suits[su], 0};
            card_t c = C(code);
            int dup = 0;
            for (int i = 0; i < n_first; i++)
                dup |= deck[i] == c;
            if (!dup)
                deck[n++] = c;
        }
    }
    CHECK_INT(n, 40);
}

TEST(two_player_the_winner_draws_first_and_leads)
{
    struct briscola b;
    struct rules_outcome o;
    card_t deck[40];
    /* seat 0: 2c 4c 5c, seat 1: 2h 4h 5h, trump 7h, then Qs, Js, ... */
    const char *first[] = {"2c", "4c", "5c", "2h", "4h", "5h", "7h", "Qs", "Js"};
    deck_starting(deck, first, 9);
    briscola_deal_from(&b, 2, deck);
    play(&b, 0, C("2c"), &o);
    play(&b, 1, C("2h"), &o); /* a trump takes it */
    CHECK(o.trick_done);
    CHECK_INT(o.trick_winner, 1);
    CHECK_INT(o.n_draws, 2);
    CHECK_INT(o.draws[0].seat, 1); /* the winner draws first */
    CHECK_INT(o.draws[0].card, C("Qs"));
    CHECK_INT(o.draws[1].seat, 0);
    CHECK_INT(o.draws[1].card, C("Js"));
    CHECK_INT(to_play(&b), 1); /* and leads */
    CHECK(!is_legal(&b, 0, C("4c")));
}

TEST(trump_card_is_the_last_draw_and_deck_exhausts)
{
    struct briscola b;
    struct rules_outcome o = {0};
    uint64_t seed = 42;
    shuffled_deal(&b, 2, &seed);
    card_t trump = b.trump_card, last_drawn = CARD_NONE;
    unsigned n_tricks = 0;
    while (!o.is_over) {
        unsigned s = to_play(&b);
        card_t c = auto_card(&b, s);
        play(&b, s, c, &o);
        if (o.trick_done) {
            n_tricks++;
            if (o.n_draws)
                last_drawn = o.draws[o.n_draws - 1].card;
        }
    }
    CHECK_INT(n_tricks, 20);
    CHECK_INT(last_drawn, trump);
    CHECK_INT(b.hand_len[0] + b.hand_len[1], 0);
}

TEST(four_player_teams_and_draws)
{
    struct briscola b;
    struct rules_outcome o;
    card_t deck[40];
    fixed_deck(deck);
    briscola_deal_from(&b, 4, deck);
    /* hands: 0 Ac 2c 3c | 1 Kd 2d 4d | 2 7h Qc Jd | 3 5c 6c 7c; trump Kc */
    CHECK_INT(b.trump_card, C("Kc"));
    play(&b, 0, C("2c"), &o);
    play(&b, 1, C("Kd"), &o);
    play(&b, 2, C("Jd"), &o);
    CHECK(!o.trick_done);
    play(&b, 3, C("5c"), &o);
    CHECK(o.trick_done);
    CHECK_INT(o.trick_winner, 3); /* 5c beats 2c, clubs are trump anyway */
    CHECK_INT(o.trick_points, 4 + 2);
    CHECK_INT(o.n_draws, 4);
    for (unsigned i = 0; i < 4; i++)
        CHECK_INT(o.draws[i].seat, (3 + i) % 4); /* winner first, seat order */
    CHECK_INT(to_play(&b), 3);
    CHECK_INT(briscola_rules.side_of(&b, 0), 0);
    CHECK_INT(briscola_rules.side_of(&b, 2), 0);
    CHECK_INT(briscola_rules.side_of(&b, 1), 1);
    CHECK_INT(briscola_rules.side_of(&b, 3), 1);
}

TEST(result_thresholds)
{
    struct briscola b;
    memset(&b, 0, sizeof b);
    b.n_seats = 4;
    b.points[0] = 30; b.points[2] = 31; b.points[1] = 59; b.points[3] = 0;
    CHECK_INT(briscola_rules.result(&b), 0);
    b.points[2] = 29; b.points[1] = 61; /* 59 against 61 */
    CHECK_INT(briscola_rules.result(&b), 1);
    b.points[0] = 30; b.points[2] = 30; b.points[1] = 60; b.points[3] = 0; /* 60-60 */
    CHECK_INT(briscola_rules.result(&b), RULES_DRAW);
}

TEST(auto_play_choice)
{
    struct briscola b;
    memset(&b, 0, sizeof b);
    b.n_seats = 2;
    static const struct { const char *hand[3]; const char *want; } t[] = {
        {{"Ac", "4d", "2s"}, "2s"},  /* fewest points, then lowest: 2 before 4 */
        {{"Kc", "Qd", "Jh"}, "Jh"},  /* fewest points */
        {{"2h", "2c", "2d"}, "2c"},  /* tie on points and rank: suit order c d h s */
        {{"7s", "6d", "Ah"}, "6d"},
        {{"3c", "Ad", "Ks"}, "Ks"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        for (int k = 0; k < 3; k++)
            b.hand[0][k] = C(t[i].hand[k]);
        b.hand_len[0] = 3;
        CHECK_INT(auto_card(&b, 0), C(t[i].want));
    }
}

TEST(deal_is_deterministic_given_the_source)
{
    struct briscola a, b;
    uint64_t s1 = 7, s2 = 7, s3 = 8;
    shuffled_deal(&a, 4, &s1);
    shuffled_deal(&b, 4, &s2);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    shuffled_deal(&b, 4, &s3);
    CHECK(memcmp(&a, &b, sizeof a) != 0);
}

TEST(property_100000_random_matches)
{
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (int m = 0; m < 100000; m++) {
        struct briscola b;
        struct rules_outcome o = {0};
        unsigned n = m % 2 ? 4 : 2;
        unsigned seen[40] = {0}, n_seen = 0;
        card_t hand[RULES_MAX_HAND];

        shuffled_deal(&b, n, &seed);
        for (unsigned s = 0; s < n; s++) {
            unsigned k = briscola_rules.hand(&b, s, hand);
            CHECK_INT(k, 3);
            for (unsigned i = 0; i < k; i++)
                seen[card_suit(hand[i]) * 10 + (card_rank(hand[i]) <= RANK_7 ? card_rank(hand[i]) : card_rank(hand[i]) - 3)]++, n_seen++;
        }
        unsigned deck_left = 40 - 3 * n;
        while (!o.is_over) {
            unsigned s = to_play(&b);
            unsigned k = briscola_rules.hand(&b, s, hand);
            CHECK(k > 0);
            card_t c = hand[test_uniform(&seed, k)];
            CHECK(is_legal(&b, s, c));
            play(&b, s, c, &o);
            for (unsigned d = 0; d < o.n_draws; d++) {
                card_t x = o.draws[d].card;
                seen[card_suit(x) * 10 + (card_rank(x) <= RANK_7 ? card_rank(x) : card_rank(x) - 3)]++;
                n_seen++;
                deck_left--;
            }
            if (o.trick_done && deck_left > 0)
                for (unsigned t = 0; t < n; t++)
                    CHECK_INT(b.hand_len[t], 3); /* full hands while the deck lasts */
        }
        CHECK_INT(n_seen, 40);
        for (int i = 0; i < 40; i++)
            if (seen[i] != 1)
                FAIL_("match %d: card slot %d dealt %u times", m, i, seen[i]);
        unsigned pts[4] = {0}, team[2] = {0};
        briscola_rules.end_points(&b, pts);
        for (unsigned s = 0; s < n; s++)
            team[briscola_rules.side_of(&b, s)] += pts[s];
        CHECK_INT(team[0] + team[1], 120);
        int r = briscola_rules.result(&b);
        int want = team[0] > 60 ? 0
                               : team[1] > 60 ? 1 : RULES_DRAW;
        CHECK_INT(r, want);
    }
}

TEST(check_verdicts)
{
    struct briscola b;
    card_t deck[40];
    fixed_deck(deck);
    briscola_deal_from(&b, 2, deck);
    struct rules_move two = {.kind = MOVE_PLAY, .n = 2, .cards = {C("Ac"), C("2c")}};
    char why[64] = "";
    /* malformed first: more than one card is BADARG, whoever sends it */
    CHECK_INT(briscola_rules.check(&b, 0, &two, why, sizeof why), RULES_BADARG);
    CHECK(why[0] != '\0');
    CHECK_INT(briscola_rules.check(&b, 1, &two, NULL, 0), RULES_BADARG);
    struct rules_move mv = one(C("Kd"));
    CHECK_INT(briscola_rules.check(&b, 1, &mv, NULL, 0), RULES_NOTYOURTURN);
    CHECK_INT(briscola_rules.check(&b, 0, &mv, NULL, 0), RULES_NOTINHAND);
    struct rules_move pass = {.kind = MOVE_PASS, .n = 3, .cards = {C("Ac"), C("2c"), C("3c")}};
    CHECK_INT(briscola_rules.check(&b, 0, &pass, NULL, 0), RULES_NOTYOURTURN);
    CHECK_INT(briscola_rules.legal_moves(&b, 1, NULL, 0), 0);
    struct rules_move all[3];
    CHECK_INT(briscola_rules.legal_moves(&b, 0, all, 3), 3);
    CHECK_INT(all[0].cards[0], C("Ac"));
}

TEST(views_and_flags)
{
    struct briscola b;
    card_t deck[40], out[40];
    unsigned seats[4], pts[4];
    struct rules_outcome o;
    briscola_rules.init(&b, 2);
    CHECK_INT(briscola_rules.to_move(&b, NULL), 0); /* nothing before the deal */
    CHECK_INT(briscola_rules.trump(&b), CARD_NONE);
    fixed_deck(deck);
    briscola_rules.deal(&b, 1, deck);
    CHECK(briscola_rules.is_teams && !briscola_rules.is_multi_hand);
    CHECK(briscola_rules.has_trump && !briscola_rules.has_table);
    CHECK_INT(briscola_rules.deck_size, 40);
    CHECK_INT(briscola_rules.hand_no(&b), 1);
    CHECK_INT(briscola_rules.table(&b, out), 0);
    CHECK(briscola_rules.pass_dir(&b) == NULL);
    CHECK(!briscola_rules.has_passed(&b, 0));
    CHECK_INT(briscola_rules.received(&b, 0, out), 0);
    play(&b, 0, C("2c"), &o);
    CHECK_INT(briscola_rules.trick(&b, seats, out), 1);
    CHECK_INT(seats[0], 0);
    CHECK_INT(out[0], C("2c"));
    play(&b, 1, C("Kd"), &o);
    briscola_rules.totals(&b, pts);
    CHECK_INT(pts[0], 4);
    CHECK_INT(pts[1], 0);
    CHECK_INT(briscola_rules.forfeit_result(&b, 0), 1);
    CHECK_INT(briscola_rules.forfeit_result(&b, 1), 0);
}

/* PROTOCOL §13's known answer: S = 00 01 ... 1f, briscola, 2 seats,
 * seeds 00ff and none; the deal order of §13. */
TEST(deal_of_the_known_answer)
{
    static const char *want =
        "4c 5h Ac Ad Ah As 3h Kh Kd 2d Kc 7s Qh Js 2c 5s Qc 5d 3s Qd "
        "4h 6d Ks 6s 7h 3c 7c Jd 4s 7d Jh 6h 2s 3d 2h Jc 5c 4d 6c Qs";
    uint8_t secret[32], key[32];
    const char *seeds[2] = {"00ff", ""};
    card_t deck[40];
    char got[200], commit[65];
    size_t n = 0;
    CHECK(sodium_init() >= 0);
    for (int i = 0; i < 32; i++)
        secret[i] = (uint8_t)i;
    deal_commit_hex(secret, commit);
    CHECK_STR(commit, "584cf6db9210672e9eb34e59c81d94b076a334b2f58b4912f6b42b1762095fe5");
    deal_key(secret, "briscola", 2, seeds, key);
    rules_canonical_deck(40, deck);
    deal_shuffle(key, 1, deck, 40);
    for (int i = 0; i < 40; i++) {
        char code[3];
        card_format(deck[i], code);
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", i ? " " : "", code);
    }
    CHECK_STR(got, want);
    struct briscola b;
    briscola_rules.init(&b, 2);
    briscola_rules.deal(&b, 1, deck);
    CHECK_INT(b.hand[0][0], C("4c"));
    CHECK_INT(b.hand[0][2], C("Ac"));
    CHECK_INT(b.hand[1][0], C("Ad"));
    CHECK_INT(b.hand[1][2], C("As"));
    CHECK_INT(b.trump_card, C("3h"));
    CHECK_INT(b.pile[0], C("Kh"));          /* draws take the next cards */
    CHECK_INT(b.pile[b.pile_len - 1], C("3h")); /* the trump last */
}
