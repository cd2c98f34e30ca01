/* Unit tests for game/scopa: table-driven captures and their naming,
 * sweeps and the last-card exception, leftovers, refills, lead rotation,
 * primiera and every scoring point, the end of the match at 11, 2 and 4
 * players, auto-play, and a property test over seeded random matches
 * driven only through the struct rules table. */
#include "check.h"
#include "game/scopa.h"

static const struct rules *R = &scopa_rules;

static card_t C(const char *code)
{
    card_t c = card_parse(code, 2);
    if (c == CARD_NONE)
        FAIL_("bad card %s", code);
    return c;
}

/* Parses a space-separated list of codes; returns how many. */
static unsigned parse_list(const char *list, card_t *out)
{
    unsigned n = 0;
    for (const char *p = list; *p != '\0';) {
        if (*p == ' ') {
            p++;
            continue;
        }
        out[n++] = C(p);
        p += 2;
    }
    return n;
}

/* Writes cards as a space-separated list. */
static const char *fmt_cards(const card_t *cards, unsigned n, char *buf)
{
    buf[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        char code[3];
        card_format(cards[i], code);
        if (i > 0)
            strcat(buf, " ");
        strcat(buf, code);
    }
    return buf;
}

static struct rules_move play_of(const char *list)
{
    struct rules_move m;
    memset(&m, 0, sizeof m);
    m.kind = MOVE_PLAY;
    m.n = (uint8_t)parse_list(list, m.cards);
    return m;
}

/* The canonical 40-card deck of PROTOCOL §13: c d h s, A-7 J Q K. */
static void canon_deck(card_t deck[40])
{
    static const unsigned ranks[10] = {
        RANK_A, RANK_2, RANK_3, RANK_4, RANK_5, RANK_6, RANK_7,
        RANK_J, RANK_Q, RANK_K,
    };
    unsigned n = 0;
    for (unsigned s = 0; s < 4; s++)
        for (unsigned r = 0; r < 10; r++)
            deck[n++] = card_make(ranks[r], s);
}

/* A deck that starts with the given cards, the rest in canonical order. */
static void deck_starting(card_t deck[40], const char *first)
{
    card_t canon[40], head[40];
    unsigned n_head = parse_list(first, head), n = 0;

    canon_deck(canon);
    for (unsigned i = 0; i < n_head; i++)
        deck[n++] = head[i];
    for (unsigned i = 0; i < 40; i++) {
        int dup = 0;
        for (unsigned k = 0; k < n_head; k++)
            dup |= head[k] == canon[i];
        if (!dup)
            deck[n++] = canon[i];
    }
    CHECK_INT(n, 40);
}

/* A position in hand 1, seat `turn` to play: hands and table as code
 * lists. deck_pos 40 means the deck is empty. */
static void board(struct scopa *g, unsigned n_seats, unsigned turn,
                  const char *const *hands, const char *tab,
                  unsigned deck_pos)
{
    R->init(g, n_seats);
    g->hand_no = 1;
    g->lead = 0;
    g->turn = (uint8_t)turn;
    for (unsigned s = 0; s < n_seats; s++)
        g->hand_len[s] = (uint8_t)parse_list(hands[s], g->hand[s]);
    g->n_table = (uint8_t)parse_list(tab, g->table);
    g->deck_pos = (uint8_t)deck_pos;
}

static const char *table_str(const struct scopa *g, char *buf)
{
    card_t t[40];
    unsigned n = R->table(g, t);
    return fmt_cards(t, n, buf);
}

TEST(values_and_primiera_points)
{
    static const struct { const char *c; unsigned v, p; } t[] = {
        {"Ac", 1, 16}, {"2d", 2, 12}, {"3h", 3, 13}, {"4s", 4, 14},
        {"5c", 5, 15}, {"6d", 6, 18}, {"7h", 7, 21}, {"Js", 8, 10},
        {"Qc", 9, 10}, {"Kd", 10, 10},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        CHECK_INT(scopa_value(C(t[i].c)), t[i].v);
        CHECK_INT(scopa_primiera_points(C(t[i].c)), t[i].p);
    }
}

/* Every capture case: seat 0 holds the card, it is its turn, the deck
 * is not empty. */
TEST(capture_table)
{
    static const struct {
        const char *table, *move;
        enum rules_verdict want;
        const char *result; /* OK: the normalised move; BADARG: why */
        const char *after;  /* OK: the table after apply */
    } t[] = {
        /* a rank match beats a sum, and is filled in */
        {"5c 2d 3h", "5d", RULES_OK, "5d 5c", "2d 3h"},
        {"5c 2d 3h", "5d 5c", RULES_OK, "5d 5c", "2d 3h"},
        /* naming a set when a rank match exists */
        {"5c 2d 3h", "5d 2d 3h", RULES_BADARG,
         "not a capture; choose: 5c", NULL},
        /* several rank matches: a choice */
        {"5c 5h 2d", "5d", RULES_BADARG, "choose a capture: 5c | 5h", NULL},
        {"5c 5h 2d", "5d 5h", RULES_OK, "5d 5h", "5c 2d"},
        /* several sums: a choice, named in any order, normalised */
        {"Ac 2d 3h 4s", "5d", RULES_BADARG,
         "choose a capture: Ac 4s | 2d 3h", NULL},
        {"Ac 2d 3h 4s", "5d 4s Ac", RULES_OK, "5d Ac 4s", "2d 3h"},
        {"Ac 2d 3h 4s", "5d 3h 2d", RULES_OK, "5d 2d 3h", "Ac 4s"},
        /* a wrong set, a card not on the table, a card named twice */
        {"Ac 2d 3h 4s", "5d Ac 2d", RULES_BADARG,
         "not a capture; choose: Ac 4s | 2d 3h", NULL},
        {"Ac 2d 3h 4s", "5d Ac 4c", RULES_BADARG,
         "not on the table; choose a capture: Ac 4s | 2d 3h", NULL},
        {"Ac 2d 3h 4s", "5d Ac Ac", RULES_BADARG,
         "named twice; choose a capture: Ac 4s | 2d 3h", NULL},
        /* sums of 2, 3 and 4 cards, the only capture: filled in */
        {"2c 4d Kh", "6s", RULES_OK, "6s 2c 4d", "Kh"},
        {"Ac Ks 2d 4h", "7c", RULES_OK, "7c Ac 2d 4h", "Ks"},
        {"Ac 2d 3h 4s", "Kc", RULES_OK, "Kc Ac 2d 3h 4s", ""},
        /* a 2-card and a 3-card set for the same card */
        {"Ac 2d 4h 3s", "7c", RULES_BADARG,
         "choose a capture: Ac 2d 4h | 4h 3s", NULL},
        {"Ac 2d 4h 3s", "7c 3s 4h", RULES_OK, "7c 4h 3s", "Ac 2d"},
        /* no capture: laid at the end of the table */
        {"Kc Qd", "2s", RULES_OK, "2s", "Kc Qd 2s"},
        {"", "2s", RULES_OK, "2s", "2s"},
        /* naming cards when the card captures nothing */
        {"Kc Qd", "2s Kc", RULES_BADARG, "2s captures nothing: play it alone",
         NULL},
        /* a single card of the same value is a rank match, never a sum */
        {"Jc 4d 4h", "Jd 4d 4h", RULES_BADARG, "not a capture; choose: Jc",
         NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct scopa g;
        struct rules_move m = play_of(t[i].move);
        card_t played = m.cards[0];
        char hand0[16], buf[256], why[SCOPA_WHY_MAX];
        card_format(played, hand0);
        strcat(hand0, " Kh");
        if (played == C("Kh"))
            strcpy(hand0, "Kh");
        const char *hands[2] = {hand0, "2h 3c 6h"};
        board(&g, 2, 0, hands, t[i].table, 10);
        struct scopa before = g;
        enum rules_verdict v = R->check(&g, 0, &m, why, sizeof why);
        if (v != t[i].want)
            FAIL_("case %zu (%s on %s): verdict %d, want %d (%s)", i,
                  t[i].move, t[i].table, v, t[i].want, why);
        CHECK(memcmp(&before, &g, sizeof g) == 0); /* check is pure */
        if (v == RULES_BADARG) {
            if (strcmp(why, t[i].result) != 0)
                FAIL_("case %zu: why \"%s\", want \"%s\"", i, why,
                      t[i].result);
            continue;
        }
        fmt_cards(m.cards, m.n, buf);
        if (strcmp(buf, t[i].result) != 0)
            FAIL_("case %zu: move \"%s\", want \"%s\"", i, buf, t[i].result);
        struct rules_outcome o;
        R->apply(&g, 0, &m, &o);
        CHECK_INT(o.n_taken, m.n - 1);
        CHECK(memcmp(o.taken, &m.cards[1], o.n_taken) == 0);
        table_str(&g, buf);
        if (strcmp(buf, t[i].after) != 0)
            FAIL_("case %zu: table \"%s\", want \"%s\"", i, buf, t[i].after);
        CHECK_INT(o.is_sweep, t[i].after[0] == '\0' && m.n > 1);
        CHECK_INT(g.side[0].n_pile, m.n > 1 ? m.n : 0);
        CHECK_INT(R->to_move(&g, NULL), 1u << 1);
    }
}

TEST(captures_enumeration_order)
{
    card_t tab[8];
    uint64_t masks[16];
    unsigned n = parse_list("Ac 2d 3h 4s 5c", tab);
    /* 6 = A+2+3 = A+5 = 2+4: index lists (0 1 2) < (0 4) < (1 3) */
    CHECK_INT(scopa_captures(tab, n, C("6d"), masks, 16), 3);
    CHECK_INT(masks[0], 0x07);
    CHECK_INT(masks[1], 0x11);
    CHECK_INT(masks[2], 0x0A);
    /* rank matches only, by index, even though sums exist */
    CHECK_INT(scopa_captures(tab, n, C("5d"), masks, 16), 1);
    CHECK_INT(masks[0], 0x10);
    /* the count is total even past cap */
    CHECK_INT(scopa_captures(tab, n, C("6d"), masks, 1), 3);
    CHECK_INT(scopa_captures(tab, n, C("Kd"), NULL, 0), 3); /* 1234 145 235 */
    CHECK_INT(scopa_captures(tab, 0, C("Kd"), NULL, 0), 0);
}

TEST(check_refuses_turn_hand_pass_and_malformed)
{
    struct scopa g;
    const char *hands[2] = {"5d Kh 2c", "2h 3c 6h"};
    board(&g, 2, 0, hands, "5c 2d 3h", 10);
    struct rules_move m = play_of("2h");
    CHECK_INT(R->check(&g, 1, &m, NULL, 0), RULES_NOTYOURTURN);
    m = play_of("2h");
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_NOTINHAND);
    m = play_of("8c"); /* not even a scopa card */
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_NOTINHAND);
    m = play_of("5c 5d"); /* a table card is not in hand */
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_NOTINHAND);
    m = play_of("5d 2c 3c");
    m.kind = MOVE_PASS; /* no pass is ever due */
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_NOTYOURTURN);
    CHECK_INT(R->check(&g, 1, &m, NULL, 0), RULES_NOTYOURTURN);
    m = play_of("5d");
    m.n = 0;
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_BADARG);
    m.kind = 7;
    m.n = 1;
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_BADARG);
    m = play_of("5d");
    m.n = RULES_MAX_MOVE + 1;
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_BADARG);
    /* a move check() refuses changes nothing when applied anyway */
    struct scopa before = g;
    struct rules_outcome o;
    m = play_of("5d 2d 3h");
    R->apply(&g, 0, &m, &o);
    CHECK(memcmp(&before, &g, sizeof g) == 0);
    CHECK_INT(o.n_taken, 0);
    /* before the first deal nobody moves */
    R->init(&g, 2);
    CHECK_INT(R->to_move(&g, NULL), 0);
    m = play_of("5d");
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_NOTYOURTURN);
}

TEST(why_lists_many_options_cut_to_fit)
{
    struct scopa g;
    char why[512];
    const char *hands[2] = {"Kh", "2h"};
    /* Many sets of these add up to 10. */
    board(&g, 2, 0, hands, "Ac 2c 3c 4c 5c 6c 7c Ad 2d 3d 4d 5d 6d", 10);
    unsigned n = scopa_captures(g.table, g.n_table, C("Kh"), NULL, 0);
    CHECK(n > 30);
    struct rules_move m = play_of("Kh");
    memset(why, 'x', sizeof why);
    CHECK_INT(R->check(&g, 0, &m, why, sizeof why), RULES_BADARG);
    size_t len = strlen(why);
    CHECK(len < SCOPA_WHY_MAX);
    CHECK(len > SCOPA_WHY_MAX - 40); /* filled, not cut early */
    CHECK(strncmp(why, "choose a capture: ", 18) == 0);
    CHECK_STR(why + len - 6, " | ...");
    CHECK(why[SCOPA_WHY_MAX] == 'x'); /* nothing past the bound */
    /* a small buffer: still NUL-terminated, still cut with " | ..." */
    memset(why, 'x', sizeof why);
    CHECK_INT(R->check(&g, 0, &m, why, 40), RULES_BADARG);
    len = strlen(why);
    CHECK(len < 40);
    CHECK_STR(why + len - 6, " | ...");
    /* tiny and absent buffers */
    CHECK_INT(R->check(&g, 0, &m, why, 5), RULES_BADARG);
    CHECK_STR(why, "choo");
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_BADARG);
}

TEST(sweep_and_the_last_card_exception)
{
    struct scopa g;
    struct rules_outcome o;
    struct rules_move m;
    const char *hands[2] = {"7s 2c", "Kh 3d"};

    /* The deck is not empty: emptying the table is a sweep. */
    board(&g, 2, 0, hands, "3c 4d", 10);
    m = play_of("7s");
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_OK);
    R->apply(&g, 0, &m, &o);
    CHECK(o.is_sweep);
    CHECK_INT(g.side[0].n_sweeps, 1);
    CHECK(!o.is_hand_over);

    /* The deck is empty but cards are still in hands: a sweep too. */
    const char *h2[2] = {"7s 2c", "Kh 3d"};
    board(&g, 2, 0, h2, "3c 4d", 40);
    m = play_of("7s");
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_OK);
    R->apply(&g, 0, &m, &o);
    CHECK(o.is_sweep);

    /* The very last card of the hand: no sweep, and the hand ends. */
    const char *h3[2] = {"", "Kh"};
    board(&g, 2, 1, h3, "3c 7d", 40);
    m = play_of("Kh");
    CHECK_INT(R->check(&g, 1, &m, NULL, 0), RULES_OK);
    R->apply(&g, 1, &m, &o);
    CHECK(!o.is_sweep);
    CHECK_INT(g.side[1].n_sweeps, 0);
    CHECK(o.is_hand_over);
    CHECK_INT(o.n_taken, 2);
    CHECK_INT(o.n_leftover, 0);
    /* the last card of a seat's hand but not of the hand: a sweep */
    const char *h4[2] = {"Kh", "2c"};
    board(&g, 2, 0, h4, "3c 7d", 40);
    m = play_of("Kh");
    R->check(&g, 0, &m, NULL, 0);
    R->apply(&g, 0, &m, &o);
    CHECK(o.is_sweep);
    CHECK(!o.is_hand_over);
    /* a lay never sweeps, even onto an empty table */
    CHECK_INT(R->to_move(&g, NULL), 2);
    m = play_of("2c");
    R->check(&g, 1, &m, NULL, 0);
    R->apply(&g, 1, &m, &o);
    CHECK(!o.is_sweep);
    CHECK(o.is_hand_over);
}

TEST(leftovers_go_to_the_last_capturer)
{
    struct scopa g;
    struct rules_outcome o;
    struct rules_move m;
    char buf[128];
    /* 4 players: seat 1 captured last; seat 3 lays the hand's last card. */
    const char *hands[4] = {"", "", "", "Kh"};
    board(&g, 4, 3, hands, "2c 5d", 40);
    g.has_capturer = true;
    g.last_capturer = 1;
    m = play_of("Kh");
    CHECK_INT(R->check(&g, 3, &m, NULL, 0), RULES_OK);
    CHECK_INT(m.n, 1);
    R->apply(&g, 3, &m, &o);
    CHECK(o.is_hand_over);
    CHECK_INT(o.n_taken, 0);
    CHECK_INT(o.leftover_seat, 1);
    CHECK_STR(fmt_cards(o.leftover, o.n_leftover, buf), "2c 5d Kh");
    CHECK_INT(g.side[1].n_pile, 3);
    CHECK_INT(g.side[1].n_sweeps, 0); /* leftovers are no sweep */
    CHECK_INT(R->table(&g, (card_t[40]){0}), 0);
    CHECK_INT(R->to_move(&g, NULL), 0);

    /* The last card captures but leaves cards: they go to its seat. */
    const char *h2[4] = {"", "", "7c", ""};
    board(&g, 4, 2, h2, "3c 4d Kd", 40);
    g.has_capturer = true;
    g.last_capturer = 1;
    m = play_of("7c");
    R->check(&g, 2, &m, NULL, 0);
    R->apply(&g, 2, &m, &o);
    CHECK_INT(o.n_taken, 2);
    CHECK_INT(o.leftover_seat, 2);
    CHECK_STR(fmt_cards(o.leftover, o.n_leftover, buf), "Kd");
    CHECK_INT(g.side[0].n_pile, 4);
    CHECK_INT(g.side[0].n_sweeps, 0);
}

TEST(leftovers_count_for_nobody_without_a_capture)
{
    struct scopa g;
    struct rules_outcome o;
    const char *hands[2] = {"", "Kh"};
    board(&g, 2, 1, hands, "2c 5d", 40);
    struct rules_move m = play_of("Kh");
    CHECK_INT(R->check(&g, 1, &m, NULL, 0), RULES_OK);
    R->apply(&g, 1, &m, &o);
    CHECK(o.is_hand_over);
    CHECK_INT(o.n_leftover, 0);
    CHECK_INT(g.side[0].n_pile + g.side[1].n_pile, 0);
    CHECK_INT(g.n_discarded, 3);
    unsigned tot[2];
    R->totals(&g, tot);
    CHECK_INT(tot[0] + tot[1], 0); /* nothing to score: all ties */
}

TEST(deal_order_refills_and_lead_rotation)
{
    static const struct { unsigned n, hand; } t[] = {
        {2, 1}, {2, 2}, {2, 3}, {4, 1}, {4, 2}, {4, 3}, {4, 4}, {4, 5},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct scopa g;
        struct rules_outcome o;
        card_t deck[40], h[3], tab[40];
        unsigned n = t[i].n, lead = (t[i].hand - 1) % n, pos = 0;
        canon_deck(deck);
        R->init(&g, n);
        R->deal(&g, t[i].hand, deck);
        CHECK_INT(R->hand_no(&g), t[i].hand);
        CHECK_INT(R->to_move(&g, NULL), 1u << lead);
        for (unsigned k = 0; k < n; k++, pos += 3) {
            unsigned s = (lead + k) % n;
            CHECK_INT(R->hand(&g, s, h), 3);
            CHECK(memcmp(h, &deck[pos], 3) == 0);
        }
        CHECK_INT(R->table(&g, tab), 4);
        CHECK(memcmp(tab, &deck[pos], 4) == 0);
        pos += 4;
        /* Play on; at each refill every seat gets the next three, from
         * the lead on, and the turn goes on in seat order. */
        unsigned turn = lead, n_refills = 0;
        do {
            struct rules_move m;
            CHECK_INT(R->to_move(&g, NULL), 1u << turn);
            R->auto_move(&g, turn, &m);
            CHECK_INT(R->check(&g, turn, &m, NULL, 0), RULES_OK);
            R->apply(&g, turn, &m, &o);
            turn = (turn + 1) % n;
            if (o.is_refill) {
                n_refills++;
                CHECK_INT(turn, lead);
                for (unsigned k = 0; k < n; k++, pos += 3) {
                    unsigned s = (lead + k) % n;
                    CHECK_INT(R->hand(&g, s, h), 3);
                    CHECK(memcmp(h, &deck[pos], 3) == 0);
                }
            }
        } while (!o.is_hand_over);
        CHECK_INT(pos, 40);
        CHECK_INT(n_refills, n == 2 ? 5 : 2);
        CHECK_INT(turn, lead); /* the lead's right-hand seat played last */
    }
}

TEST(known_answer_deck_of_protocol_13)
{
    /* PROTOCOL §13: scopa, seeds c0ffee and 1234, hand 2. Seat 1 leads
     * hand 2 and takes the first three cards. */
    card_t deck[40], h[3], tab[4];
    char buf[64];
    struct scopa g;
    CHECK_INT(parse_list("7d 4c 7c 7h 5s Jh Jd 2c Qh 6s 2d 3h Ac Kh 6d Ks "
                         "Ah 6c Kd As 2s 3d 4d 4h Qd 4s Js 6h 5d Jc 5c 3s "
                         "Qs Ad 2h 5h Qc 3c 7s Kc", deck), 40);
    R->init(&g, 2);
    R->deal(&g, 2, deck);
    CHECK_INT(R->to_move(&g, NULL), 1u << 1);
    R->hand(&g, 1, h);
    CHECK_STR(fmt_cards(h, 3, buf), "7d 4c 7c");
    R->hand(&g, 0, h);
    CHECK_STR(fmt_cards(h, 3, buf), "7h 5s Jh");
    CHECK_INT(R->table(&g, tab), 4);
    CHECK_STR(fmt_cards(tab, 4, buf), "Jd 2c Qh 6s");
    /* 7d has no rank match and no set adding up to 7: laid */
    struct rules_move m = play_of("7d");
    CHECK_INT(R->check(&g, 1, &m, NULL, 0), RULES_OK);
    CHECK_INT(m.n, 1);
}

TEST(primiera_table)
{
    static const struct { const char *pile; unsigned want; } t[] = {
        {"7c 7d 7h 7s", 84},
        {"6c Ac Kd 2h 3s", 18 + 10 + 12 + 13},
        {"Ac 2c 3c 4c 5c 6c 7c Jc Qc Kc", 0}, /* three suits missing */
        {"7c 7d 7h 6h 5h", 0},                /* spades missing */
        {"Jc Qd Kh Ks", 40},
        {"Ac Ad Ah As 2c", 64},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        card_t p[40];
        unsigned n = parse_list(t[i].pile, p);
        CHECK_INT(scopa_primiera(p, n), t[i].want);
    }
}

static void side_of_list(struct scopa_side *s, const char *pile,
                         unsigned n_sweeps)
{
    memset(s, 0, sizeof *s);
    s->n_pile = (uint8_t)parse_list(pile, s->pile);
    s->n_sweeps = (uint8_t)n_sweeps;
}

TEST(hand_score_table)
{
    static const struct {
        const char *pile[2];
        unsigned sweeps[2];
        unsigned want[2][5]; /* cards coins settebello primiera sweeps */
    } t[] = {
        /* most cards, most coins, settebello, primiera (a suit missing) */
        {{"7d 2d 3d 7c 6h 5s", "Kc Qc"}, {0, 0},
         {{1, 1, 1, 1, 0}, {0, 0, 0, 0, 0}}},
        /* cards tie, coins tie, primiera tie (78-78); settebello only */
        {{"7c 7d 6h 6s", "6c 6d 7h 7s"}, {1, 2},
         {{0, 0, 1, 0, 1}, {0, 0, 0, 0, 2}}},
        /* both miss a suit: nobody takes the primiera */
        {{"7c 7d 7h Ah", "Ac Ad As 2s"}, {0, 0},
         {{0, 0, 1, 0, 0}, {0, 0, 0, 0, 0}}},
        /* more cards but fewer coins; both sides miss suits */
        {{"Ac 2c 3c 4c Ah 2h", "Ad 2d 3d As"}, {0, 3},
         {{1, 0, 0, 0, 0}, {0, 1, 0, 0, 3}}},
        /* the primiera to the higher, even with fewer cards */
        {{"7c 7d 7h 7s", "6c 6d 6h 6s 5c"}, {0, 0},
         {{0, 0, 1, 1, 0}, {1, 0, 0, 0, 0}}},
        /* nothing taken at all */
        {{"", ""}, {0, 0}, {{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct scopa_side sides[2];
        struct scopa_score sc[2];
        for (int k = 0; k < 2; k++)
            side_of_list(&sides[k], t[i].pile[k], t[i].sweeps[k]);
        scopa_hand_score(sides, sc);
        for (int k = 0; k < 2; k++) {
            unsigned got[5] = {sc[k].cards, sc[k].coins, sc[k].settebello,
                               sc[k].primiera, sc[k].sweeps};
            unsigned sum = 0;
            for (int f = 0; f < 5; f++) {
                if (got[f] != t[i].want[k][f])
                    FAIL_("case %zu side %d point %d: %u, want %u", i, k, f,
                          got[f], t[i].want[k][f]);
                sum += got[f];
            }
            CHECK_INT(sc[k].total, sum);
        }
    }
}

TEST(whole_deck_split_scores)
{
    /* 20-20 cards, 5-5 coins, both sides miss a suit: settebello only. */
    struct scopa_side sides[2];
    struct scopa_score sc[2];
    side_of_list(&sides[0],
                 "Ac 2c 3c 4c 5c 6c 7c Jc Qc Kc Ah 2h 3h 4h 5h "
                 "6d 7d Jd Qd Kd", 0);
    side_of_list(&sides[1],
                 "As 2s 3s 4s 5s 6s 7s Js Qs Ks 6h 7h Jh Qh Kh "
                 "Ad 2d 3d 4d 5d", 0);
    scopa_hand_score(sides, sc);
    CHECK_INT(sc[0].total, 1);
    CHECK_INT(sc[0].settebello, 1);
    CHECK_INT(sc[1].total, 0);
}

/* The last card of a hand: seat 0 plays 7d on 7c alone: 3 points to
 * side 0 (cards, coins, settebello; no primiera, no sweep). */
static void final_play(struct scopa *g, unsigned n_seats, unsigned t0,
                       unsigned t1, struct rules_outcome *o)
{
    const char *hands[4] = {"7d", "", "", ""};
    board(g, n_seats, 0, hands, "7c", 40);
    g->total[0] = (uint16_t)t0;
    g->total[1] = (uint16_t)t1;
    struct rules_move m = play_of("7d");
    CHECK_INT(R->check(g, 0, &m, NULL, 0), RULES_OK);
    R->apply(g, 0, &m, o);
    CHECK(o->is_hand_over);
    CHECK(!o->is_sweep);
}

TEST(match_end_at_eleven)
{
    static const struct {
        unsigned n, t0, t1;
        bool is_over;
        int result;
    } t[] = {
        {2, 8, 10, true, 0},         /* 11-10 */
        {2, 7, 9, false, RULES_DRAW}, /* 10-9: on */
        {2, 8, 11, false, RULES_DRAW}, /* 11-11: another hand */
        {2, 9, 13, true, 1},         /* 12-13: the higher of two >= 11 */
        {4, 20, 23, false, RULES_DRAW}, /* 23-23 */
        {4, 0, 11, true, 1},         /* 3-11 */
        {4, 10, 12, true, 0},        /* 13-12 */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct scopa g;
        struct rules_outcome o;
        unsigned tot[4], end[4];
        final_play(&g, t[i].n, t[i].t0, t[i].t1, &o);
        if (o.is_over != t[i].is_over)
            FAIL_("case %zu: is_over %d", i, o.is_over);
        R->totals(&g, tot);
        R->end_points(&g, end);
        for (unsigned s = 0; s < t[i].n; s++) {
            CHECK_INT(tot[s], s % 2 ? t[i].t1 : t[i].t0 + 3);
            CHECK_INT(end[s], tot[s]);
        }
        CHECK_INT(R->to_move(&g, NULL), 0);
        if (o.is_over) {
            CHECK_INT(R->result(&g), t[i].result);
        } else {
            /* another hand: dealt, led by the next seat */
            card_t deck[40];
            canon_deck(deck);
            R->deal(&g, 2, deck);
            CHECK_INT(R->to_move(&g, NULL), 1u << 1);
            CHECK_INT(g.total[0], t[i].t0 + 3);
            CHECK_INT(g.total[1], t[i].t1);
            CHECK_INT(g.side[0].n_pile, 0);
        }
    }
}

TEST(sides_and_forfeits)
{
    struct scopa g;
    R->init(&g, 4);
    for (unsigned s = 0; s < 4; s++) {
        CHECK_INT(R->side_of(&g, s), s % 2);
        CHECK_INT(R->forfeit_result(&g, s), 1 - s % 2);
    }
    R->init(&g, 2);
    CHECK_INT(R->forfeit_result(&g, 0), 1);
    CHECK_INT(R->forfeit_result(&g, 1), 0);
    CHECK_INT(R->result(&g), RULES_DRAW);
    CHECK(R->is_teams && R->is_multi_hand && R->has_table && !R->has_trump);
    CHECK_INT(R->deck_size, 40);
    CHECK_INT(R->seat_counts[0], 2);
    CHECK_INT(R->seat_counts[1], 4);
    CHECK_INT(R->seat_counts[2], 0);
    CHECK_INT(R->trump(&g), CARD_NONE);
    CHECK_INT(R->trick(&g, (unsigned[4]){0}, (card_t[4]){0}), 0);
    CHECK(!R->has_passed(&g, 0));
    CHECK_INT(R->received(&g, 0, (card_t[3]){0}), 0);
    CHECK(R->pass_dir(&g) == NULL);
}

TEST(four_players_capture_for_the_team)
{
    struct scopa g;
    struct rules_outcome o;
    card_t deck[40];
    char why[SCOPA_WHY_MAX];
    /* seat 0: 2c 3c 4c | 1: 5c 6c 2d | 2: Kc Qc Jc | 3: 5h 6h 7h;
     * table Ac 3d 4d 6s */
    deck_starting(deck, "2c 3c 4c 5c 6c 2d Kc Qc Jc 5h 6h 7h Ac 3d 4d 6s");
    R->init(&g, 4);
    R->deal(&g, 1, deck);
    struct rules_move m = play_of("4c");
    CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_OK);
    CHECK_INT(m.n, 2); /* 4d, the rank match, filled in */
    R->apply(&g, 0, &m, &o);
    m = play_of("5c");
    CHECK_INT(R->check(&g, 1, &m, NULL, 0), RULES_OK);
    R->apply(&g, 1, &m, &o);
    CHECK_INT(o.n_taken, 0); /* nothing of Ac 3d 6s adds up to 5: laid */
    m = play_of("Qc");
    CHECK_INT(R->check(&g, 2, &m, why, sizeof why), RULES_BADARG);
    CHECK_STR(why, "choose a capture: Ac 3d 5c | 3d 6s");
    m = play_of("Qc 6s 3d");
    CHECK_INT(R->check(&g, 2, &m, why, sizeof why), RULES_OK);
    R->apply(&g, 2, &m, &o);
    CHECK_INT(o.n_taken, 2);
    CHECK_INT(g.side[0].n_pile, 5); /* seats 0 and 2 share one pile */
    CHECK_INT(g.side[1].n_pile, 0);
    CHECK_INT(g.last_capturer, 2);
    CHECK_INT(R->to_move(&g, NULL), 1u << 3);
}

/* ---- Auto-play ---- */

TEST(auto_move_choice)
{
    static const struct {
        const char *hand, *table, *want;
        unsigned deck_pos;
    } t[] = {
        /* a sweep first */
        {"7d 3c 5h", "2s 3s", "5h 2s 3s", 10},
        /* ... but not with the hand's last card: then settebello */
        {"Kd", "3h 7d", "Kd 3h 7d", 40},
        /* the settebello over more cards */
        {"7c 6h", "7d Ah 5s 2c 3h", "7c 7d", 10},
        /* then the most coins */
        {"6h 5s", "Ad 5d 2c 3c Kh", "6h Ad 5d", 10},
        /* then the most cards */
        {"6h 5s", "Ac 5c 2c 3c Kh", "6h Ac 2c 3c", 10},
        /* a tie: the first in legal_moves' order */
        {"5h", "Ac 4c 2s 3s Kh", "5h Ac 4c", 10},
        /* no capture: lay the lowest value, clubs before the others */
        {"Kc 2d 2c", "Qh", "2c", 10},
        {"Kc Jd", "6h Ah", "Jd", 10},
        /* a capture rather than a lay */
        {"2d Kc", "Kh Qh", "Kc Kh", 10},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct scopa g;
        struct rules_move m;
        char buf[128];
        const char *hands[2] = {t[i].hand, t[i].deck_pos == 40 ? "" : "2h"};
        board(&g, 2, 0, hands, t[i].table, t[i].deck_pos);
        R->auto_move(&g, 0, &m);
        fmt_cards(m.cards, m.n, buf);
        if (strcmp(buf, t[i].want) != 0)
            FAIL_("case %zu: auto \"%s\", want \"%s\"", i, buf, t[i].want);
        CHECK_INT(R->check(&g, 0, &m, NULL, 0), RULES_OK);
    }
}

TEST(legal_moves_order)
{
    struct scopa g;
    struct rules_move mv[16];
    char buf[64];
    const char *hands[2] = {"5d Kc 2h", "3c"};
    board(&g, 2, 0, hands, "Ac 2d 3h 4s", 10);
    static const char *want[] = {
        "5d Ac 4s", "5d 2d 3h", "Kc Ac 2d 3h 4s", "2h 2d",
    };
    CHECK_INT(R->legal_moves(&g, 0, mv, 16), 4);
    for (int i = 0; i < 4; i++)
        CHECK_STR(fmt_cards(mv[i].cards, mv[i].n, buf), want[i]);
    CHECK_INT(R->legal_moves(&g, 0, mv, 2), 4); /* count past cap */
    CHECK_INT(R->legal_moves(&g, 1, mv, 16), 0); /* not its turn */
}

/* ---- Captures against brute force ---- */

/* splitmix64: the test's own seeded source. */
static uint64_t rnd_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned rnd_below(uint64_t *s, unsigned n)
{
    return (unsigned)(rnd_next(s) % n);
}

static void shuffle(card_t deck[40], uint64_t *s)
{
    for (unsigned i = 39; i > 0; i--) {
        unsigned j = rnd_below(s, i + 1);
        card_t t = deck[i];
        deck[i] = deck[j];
        deck[j] = t;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Compares two masks as their lists of set bits, lowest first. */
static int lex_cmp(uint64_t a, uint64_t b)
{
    while (a != 0 && b != 0) {
        int i = __builtin_ctzll(a), j = __builtin_ctzll(b);
        if (i != j)
            return i < j ? -1 : 1;
        a &= a - 1;
        b &= b - 1;
    }
    return a == b ? 0 : a == 0 ? -1 : 1; /* a prefix comes first */
}

/* Random tables of up to 12 cards: scopa_captures finds exactly the
 * subsets a brute force over all 2^n finds, and check() accepts a named
 * set exactly when it is one of them. */
TEST(captures_match_brute_force)
{
    uint64_t rng = 12345;
    for (int t = 0; t < 20000; t++) {
        card_t deck[40];
        canon_deck(deck);
        shuffle(deck, &rng);
        unsigned n = rnd_below(&rng, 13);
        card_t played = deck[0], *tab = &deck[1];
        bool has_rank_match = false;
        for (unsigned j = 0; j < n; j++)
            has_rank_match |= card_rank(tab[j]) == card_rank(played);

        uint64_t want[4096], got[4096];
        unsigned n_want = 0;
        for (uint64_t m = 1; m < (UINT64_C(1) << n); m++) {
            unsigned sum = 0, k = 0;
            for (unsigned j = 0; j < n; j++)
                if (m & (UINT64_C(1) << j)) {
                    sum += scopa_value(tab[j]);
                    k++;
                }
            bool ok = has_rank_match
                          ? k == 1 && card_rank(tab[__builtin_ctzll(m)]) ==
                                          card_rank(played)
                          : sum == scopa_value(played);
            if (ok)
                want[n_want++] = m;
        }
        unsigned n_got = scopa_captures(tab, n, played, got, 4096);
        CHECK_INT(n_got, n_want);
        /* in lexicographic order of index lists */
        for (unsigned i = 1; i < n_got; i++)
            if (lex_cmp(got[i - 1], got[i]) >= 0)
                FAIL_("case %d: masks %#llx, %#llx out of order", t,
                      (unsigned long long)got[i - 1],
                      (unsigned long long)got[i]);
        qsort(got, n_got, sizeof got[0], cmp_u64);
        CHECK(memcmp(got, want, n_want * sizeof want[0]) == 0);

        /* check() on a random named set */
        struct scopa g;
        R->init(&g, 2);
        g.hand_no = 1;
        g.hand[0][0] = played;
        g.hand_len[0] = 1;
        g.hand[1][0] = deck[39];
        g.hand_len[1] = 1;
        memcpy(g.table, tab, n);
        g.n_table = (uint8_t)n;
        g.deck_pos = 10;
        if (n == 0)
            continue;
        uint64_t m = 1 + rnd_next(&rng) % ((UINT64_C(1) << n) - 1);
        if (n_want > 0 && rnd_below(&rng, 2))
            m = want[rnd_below(&rng, n_want)];
        struct rules_move mv = {.kind = MOVE_PLAY, .n = 1, .cards = {played}};
        for (unsigned j = 0; j < n && mv.n < RULES_MAX_MOVE; j++)
            if (m & (UINT64_C(1) << j))
                mv.cards[mv.n++] = tab[j];
        bool is_legal = bsearch(&m, want, n_want, sizeof m, cmp_u64) != NULL;
        CHECK_INT(R->check(&g, 0, &mv, NULL, 0),
                  is_legal ? RULES_OK : RULES_BADARG);
    }
}

/* ---- Property test ---- */

/* 100 000 matches; under AddressSanitizer, which makes them about five
 * times slower, 10 000 so the file stays near 10 s on a loaded machine (-DPROP_MATCHES=N to
 * run more). Every PROP_FULL_EVERY-th pair of matches (one of 2 seats,
 * one of 4) gets every check at every step: the census of the 40 cards,
 * every legal move through check, auto_move, and a twin replay compared
 * with memcmp; the others check what each move caused, every hand's
 * points and the match's end. */
#ifndef PROP_MATCHES
#if defined(__SANITIZE_ADDRESS__)
#define PROP_MATCHES 10000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROP_MATCHES 10000
#endif
#endif
#endif
#ifndef PROP_MATCHES
#define PROP_MATCHES 100000
#endif
#ifndef PROP_FULL_EVERY
#define PROP_FULL_EVERY 10
#endif
#define MAX_LEGAL 256

/* One random match, driven through R alone, with a twin state fed the
 * same decks and moves; returns the number of hands. */
static unsigned property_match(uint64_t *rng, unsigned n, int m_no,
                               bool is_full)
{
    _Alignas(16) unsigned char st[sizeof(struct scopa)],
        twin[sizeof(struct scopa)];
    struct rules_move legal[MAX_LEGAL];
    unsigned hand_no = 0, tot_before[4] = {0}, tot[4];
    struct rules_outcome o;

    CHECK_INT(R->state_size, sizeof st);
    /* Different garbage under each: init must set every byte. */
    memset(st, 0x55, sizeof st);
    memset(twin, 0xAA, sizeof twin);
    R->init(st, n);
    R->init(twin, n);
    memset(&o, 0, sizeof o);
    while (!o.is_over) {
        card_t deck[40];
        canon_deck(deck);
        shuffle(deck, rng);
        hand_no++;
        R->deal(st, hand_no, deck);
        R->deal(twin, hand_no, deck);
        CHECK_INT(R->hand_no(st), hand_no);
        CHECK_INT(R->to_move(st, NULL), 1u << ((hand_no - 1) % n));

        /* The test's own bookkeeping of where every card is. */
        struct scopa_side piles[2];
        memset(piles, 0, sizeof piles);
        unsigned deck_pos = 3 * n + 4, n_nobody = 0;

        for (;;) {
            enum rules_move_kind kind;
            unsigned mask = R->to_move(st, &kind);
            CHECK_INT(kind, MOVE_PLAY);
            CHECK(mask != 0 && (mask & (mask - 1)) == 0);
            unsigned seat = (unsigned)__builtin_ctz(mask);
            CHECK(seat < n);

            card_t buf[40];
            unsigned k, n_legal = 0;
            if (!is_full)
                goto move;

            /* Every card exactly once: hands, table, piles, deck. */
            unsigned char seen[52] = {0};
            unsigned total = 0;
            for (unsigned s = 0; s < n; s++) {
                k = R->hand(st, s, buf);
                CHECK(k <= 3);
                for (unsigned i = 0; i < k; i++)
                    seen[buf[i]]++;
                total += k;
            }
            k = R->table(st, buf);
            for (unsigned i = 0; i < k; i++)
                seen[buf[i]]++;
            total += k;
            for (unsigned t = 0; t < 2; t++) {
                for (unsigned i = 0; i < piles[t].n_pile; i++)
                    seen[piles[t].pile[i]]++;
                total += piles[t].n_pile;
            }
            for (unsigned i = deck_pos; i < 40; i++)
                seen[deck[i]]++;
            total += 40 - deck_pos;
            CHECK_INT(total, 40);
            for (unsigned i = 0; i < 40; i++)
                if (seen[deck[i]] != 1)
                    FAIL_("match %d hand %u: a card seen %u times", m_no,
                          hand_no, seen[deck[i]]);

            /* Legal moves: some; all pass check, unchanged; auto_move
             * too. */
            n_legal = R->legal_moves(st, seat, legal, MAX_LEGAL);
            CHECK(n_legal > 0 && n_legal <= MAX_LEGAL);
            for (unsigned i = 0; i < n_legal; i++) {
                struct rules_move c = legal[i];
                CHECK_INT(R->check(st, seat, &c, NULL, 0), RULES_OK);
                CHECK(c.n == legal[i].n &&
                      memcmp(c.cards, legal[i].cards, c.n) == 0);
            }
            CHECK_INT(R->legal_moves(st, (seat + 1) % n, legal, 0), 0);

            struct rules_move am;
            R->auto_move(st, seat, &am);
            CHECK_INT(R->check(st, seat, &am, NULL, 0), RULES_OK);
        move:;

            /* The move: the auto move, or a random card of the hand,
             * bare (accepted when it has at most one capture), and when
             * that is refused, one of its captures from legal_moves. */
            struct rules_move mv;
            if (rnd_below(rng, 5) == 0) {
                R->auto_move(st, seat, &mv);
            } else {
                k = R->hand(st, seat, buf);
                CHECK(k > 0);
                memset(&mv, 0, sizeof mv);
                mv.kind = MOVE_PLAY;
                mv.n = 1;
                mv.cards[0] = buf[rnd_below(rng, k)];
                char why[SCOPA_WHY_MAX];
                enum rules_verdict v = R->check(st, seat, &mv, why, sizeof why);
                if (v != RULES_OK) {
                    CHECK_INT(v, RULES_BADARG);
                    CHECK(strncmp(why, "choose a capture: ", 18) == 0);
                    if (n_legal == 0)
                        n_legal = R->legal_moves(st, seat, legal, MAX_LEGAL);
                    CHECK(n_legal > 0 && n_legal <= MAX_LEGAL);
                    unsigned first = 0, n_card = 0;
                    for (unsigned i = 0; i < n_legal; i++) {
                        if (legal[i].cards[0] != mv.cards[0])
                            continue;
                        if (n_card++ == 0)
                            first = i; /* a card's moves are adjacent */
                    }
                    CHECK(n_card >= 2);
                    mv = legal[first + rnd_below(rng, n_card)];
                }
            }
            CHECK_INT(R->check(st, seat, &mv, NULL, 0), RULES_OK);
            R->apply(st, seat, &mv, &o);
            if (is_full) {
                /* The twin replays the same move from the same history. */
                struct rules_move mt = mv;
                struct rules_outcome ot;
                CHECK_INT(R->check(twin, seat, &mt, NULL, 0), RULES_OK);
                R->apply(twin, seat, &mt, &ot);
                CHECK(memcmp(st, twin, sizeof st) == 0);
                CHECK(memcmp(&o, &ot, sizeof o) == 0);
            }

            /* Follow the cards from the outcome alone. */
            CHECK_INT(o.n_taken, mv.n - 1u);
            struct scopa_side *side = &piles[seat % 2];
            if (o.n_taken > 0) {
                side->pile[side->n_pile++] = mv.cards[0];
                memcpy(&side->pile[side->n_pile], o.taken, o.n_taken);
                side->n_pile = (uint8_t)(side->n_pile + o.n_taken);
            }
            if (o.is_sweep) {
                CHECK(o.n_taken > 0);
                CHECK_INT(R->table(st, buf), 0);
                side->n_sweeps++;
            }
            if (o.is_refill) {
                CHECK(!o.is_hand_over);
                deck_pos += 3 * n;
                for (unsigned s = 0; s < n; s++)
                    CHECK_INT(R->hand(st, s, buf), 3);
            }
            if (o.is_hand_over)
                break;
        }
        /* The hand's end: leftovers, points, totals. */
        CHECK_INT(deck_pos, 40);
        if (o.n_leftover > 0) {
            struct scopa_side *side = &piles[o.leftover_seat % 2];
            memcpy(&side->pile[side->n_pile], o.leftover, o.n_leftover);
            side->n_pile = (uint8_t)(side->n_pile + o.n_leftover);
        }
        /* Cards count for nobody only when nobody captured at all. */
        n_nobody = 40u - piles[0].n_pile - piles[1].n_pile;
        CHECK(n_nobody == 0 || (n_nobody == 40 && o.n_leftover == 0));
        CHECK(!o.is_sweep || o.n_leftover == 0);
        struct scopa_score sc[2];
        scopa_hand_score(piles, sc);
        R->totals(st, tot);
        for (unsigned s = 0; s < n; s++) {
            CHECK_INT(tot[s], tot_before[s] + sc[s % 2].total);
            CHECK_INT(tot[s], tot[s % 2]);
        }
        memcpy(tot_before, tot, sizeof tot);
        CHECK_INT(R->to_move(st, NULL), 0);
        bool over = (tot[0] >= 11 || tot[1] >= 11) && tot[0] != tot[1];
        CHECK_INT(o.is_over, over);
        CHECK(hand_no < 1000);
    }
    if (is_full)
        CHECK(memcmp(st, twin, sizeof st) == 0);
    unsigned end[4];
    R->end_points(st, end);
    CHECK(memcmp(end, tot, n * sizeof end[0]) == 0);
    int r = R->result(st);
    CHECK_INT(r, tot[0] > tot[1] ? 0 : 1);
    CHECK(tot[r] >= 11);
    CHECK_INT(R->legal_moves(st, 0, legal, MAX_LEGAL), 0);
    return hand_no;
}

TEST(property_random_matches)
{
    uint64_t rng = 0x5C0FA5C0FA5C0FAULL;
    unsigned long hands = 0;
    for (int m = 0; m < PROP_MATCHES; m++) {
        bool is_full = m / 2 % PROP_FULL_EVERY == 0;
        hands += property_match(&rng, m % 2 ? 4 : 2, m, is_full);
    }
    printf("     %d matches, %lu hands\n", PROP_MATCHES, hands);
}
