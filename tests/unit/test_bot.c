/* Unit tests for src/bot and game/bot_view: every level plays only legal
 * moves in every game (a property test over positions the bots reach
 * themselves), determinisations agree with the seat's view (the seat's
 * hand and every public view equal, no other seat given a card this seat
 * saw elsewhere, voids and passes respected), the no-cheating test (two
 * full states that the seat cannot tell apart give byte-identical views
 * and the same move from the same random source), and reproducibility.
 *
 * Sizes: BOT_POSITIONS positions in all (100 000 by default, split over
 * the three games and levels: 15 000 easy, 15 000 normal and 3 400 hard
 * with a budget of HARD_ITERATIONS each per game); under AddressSanitizer
 * a fifth of that, so each test stays inside check.h's 60 s alarm. */
#include "check.h"

#include "bot/bot.h"
#include "game/bot_view.h"
#include "game/briscola.h"
#include "game/hearts.h"
#include "game/rules.h"
#include "game/scopa.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCALE 5
#endif
#endif
#if !defined(SCALE) && defined(__SANITIZE_ADDRESS__)
#define SCALE 5
#endif
#ifndef SCALE
#define SCALE 1
#endif

#define N_EASY (15000 / SCALE)
#define N_NORMAL (15000 / SCALE)
#define N_HARD (3400 / SCALE)
#define HARD_ITERATIONS 24
#define MAX_LOG 4096

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint32_t uniform(void *ctx, uint32_t upper)
{
    return (uint32_t)(splitmix(ctx) % upper);
}

static uint64_t bit(card_t c)
{
    return UINT64_C(1) << c;
}

static bool same_move(const struct rules_move *a, const struct rules_move *b)
{
    return a->kind == b->kind && a->n == b->n &&
           memcmp(a->cards, b->cards, a->n) == 0;
}

/* ---- a match with every seat's view kept --------------------------- */

struct run {
    const struct rules *r;
    unsigned ns, hand;
    uint64_t deck_seed;
    card_t swap[2]; /* exchanged in the deck of hand swap_hand */
    unsigned swap_hand;
    uint8_t state[1024];
    struct bot_view views[RULES_MAX_SEATS];
    struct {
        uint8_t seat;
        unsigned hand;
        struct rules_move mv;
    } log[MAX_LOG];
    unsigned n_log;
    bool is_over;
};

static void deal(struct run *x)
{
    card_t deck[RULES_MAX_DECK];
    uint64_t s = x->deck_seed * 7919u + x->hand;

    rules_canonical_deck(x->r->deck_size, deck);
    card_shuffle(deck, x->r->deck_size, uniform, &s);
    for (unsigned i = 0; i < x->r->deck_size && x->hand == x->swap_hand; i++) {
        if (deck[i] == x->swap[0])
            deck[i] = x->swap[1];
        else if (deck[i] == x->swap[1])
            deck[i] = x->swap[0];
    }
    x->r->deal(x->state, x->hand, deck);
    for (unsigned s2 = 0; s2 < x->ns; s2++)
        bot_view_deal(&x->views[s2], x->state, x->hand);
}

/* A match from deck_seed's decks with cards c1 and c2 exchanged in
 * the deck of hand `hand` (0: none). */
static void run_start_swapped(struct run *x, const struct rules *r, unsigned ns,
                              uint64_t deck_seed, unsigned hand, card_t c1,
                              card_t c2)
{
    memset(x, 0, sizeof *x);
    CHECK(r->state_size <= sizeof x->state);
    x->r = r;
    x->ns = ns;
    x->deck_seed = deck_seed;
    x->swap[0] = c1;
    x->swap[1] = c2;
    x->swap_hand = hand;
    x->hand = 1;
    r->init(x->state, ns);
    for (unsigned s = 0; s < ns; s++)
        bot_view_init(&x->views[s], r, ns, s);
    deal(x);
}

static void run_start(struct run *x, const struct rules *r, unsigned ns,
                      uint64_t deck_seed)
{
    run_start_swapped(x, r, ns, deck_seed, 0, CARD_NONE, CARD_NONE);
}

static void run_free(struct run *x)
{
    for (unsigned s = 0; s < x->ns; s++)
        bot_view_free(&x->views[s]);
}

/* The seat to move (the lowest while passing), or -1 once over. */
static int run_seat(const struct run *x, enum rules_move_kind *kind)
{
    unsigned mask = x->r->to_move(x->state, kind);
    return x->is_over || mask == 0 ? -1 : __builtin_ctz(mask);
}

/* Checks and applies mv; false (nothing changed) if refused. */
static bool run_move(struct run *x, unsigned seat, struct rules_move mv)
{
    struct rules_outcome out;

    if (x->r->check(x->state, seat, &mv, NULL, 0) != RULES_OK)
        return false;
    x->r->apply(x->state, seat, &mv, &out);
    for (unsigned s = 0; s < x->ns; s++)
        bot_view_move(&x->views[s], x->state, seat, &mv, &out);
    CHECK(x->n_log < MAX_LOG);
    x->log[x->n_log].seat = (uint8_t)seat;
    x->log[x->n_log].hand = x->hand;
    x->log[x->n_log++].mv = mv;
    if (out.is_over) {
        x->is_over = true;
    } else if (out.is_hand_over) {
        x->hand++;
        deal(x);
    }
    return true;
}

/* A uniformly random legal move from the full state. */
static void full_random_move(const struct run *x, unsigned seat,
                             enum rules_move_kind kind, uint64_t *rs,
                             struct rules_move *mv)
{
    static struct rules_move moves[512];

    memset(mv, 0, sizeof *mv);
    if (kind == MOVE_PASS) {
        card_t hand[RULES_MAX_DECK];
        unsigned n = x->r->hand(x->state, seat, hand);
        for (unsigned i = 0; i < RULES_PASS_CARDS; i++) {
            unsigned j = i + (unsigned)(splitmix(rs) % (n - i));
            card_t t = hand[i];
            hand[i] = hand[j];
            hand[j] = t;
        }
        mv->kind = MOVE_PASS;
        mv->n = RULES_PASS_CARDS;
        memcpy(mv->cards, hand, RULES_PASS_CARDS);
        return;
    }
    unsigned n = x->r->legal_moves(x->state, seat, moves, 512);
    CHECK(n > 0);
    if (n > 512)
        n = 512;
    *mv = moves[splitmix(rs) % n];
}

/* ---- determinisations agree with the view --------------------------- */

static uint64_t mask_of(const card_t *cards, unsigned n)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < n; i++)
        m |= bit(cards[i]);
    return m;
}

/* The suits each seat showed it lacks in the current hand (a card not
 * of the suit led), and what this seat passed in it. */
static void shown(const struct bot_view *v, unsigned voids[RULES_MAX_SEATS],
                  uint64_t *sent, bool *is_pass_done)
{
    unsigned n_trick = 0, led = 0;
    memset(voids, 0, RULES_MAX_SEATS * sizeof *voids);
    *sent = 0;
    *is_pass_done = false;
    for (unsigned i = bot_view_hand_start(v); i < v->n_events; i++) {
        const struct bot_event *e = &v->events[i];
        if (e->kind == BOT_EV_RECEIVED)
            *is_pass_done = true;
        if (e->kind != BOT_EV_MOVE)
            continue;
        if (e->mv.kind == MOVE_PASS) {
            if (!e->is_hidden)
                *sent = mask_of(e->mv.cards, e->mv.n);
            continue;
        }
        unsigned suit = card_suit(e->mv.cards[0]);
        if (n_trick == 0)
            led = suit;
        else if (suit != led)
            voids[e->seat] |= 1u << led;
        n_trick = (n_trick + 1) % v->n_seats;
    }
}

static void check_consistent(const struct run *x, unsigned seat, uint64_t seed)
{
    const struct rules *r = x->r;
    const struct bot_view *v = &x->views[seat];
    uint8_t det[1024];
    card_t a[RULES_MAX_DECK], b[RULES_MAX_DECK];
    unsigned sa[RULES_MAX_SEATS], sb[RULES_MAX_SEATS];
    enum rules_move_kind ka, kb;

    CHECK_INT(bot_determinise(v, seed, det), 0);
    CHECK_INT(r->to_move(det, &kb), r->to_move(x->state, &ka));
    CHECK_INT(kb, ka);
    CHECK_INT(r->hand_no(det), r->hand_no(x->state));
    CHECK_INT(r->trump(det), r->trump(x->state));
    unsigned na = r->table(x->state, a), nb = r->table(det, b);
    CHECK_INT(nb, na);
    CHECK(memcmp(a, b, na) == 0);
    na = r->trick(x->state, sa, a);
    nb = r->trick(det, sb, b);
    CHECK_INT(nb, na);
    CHECK(memcmp(a, b, na) == 0 && memcmp(sa, sb, na * sizeof *sa) == 0);
    r->totals(x->state, sa);
    r->totals(det, sb);
    CHECK(memcmp(sa, sb, x->ns * sizeof *sa) == 0);

    uint64_t seen = 0, sent = 0;
    unsigned voids[RULES_MAX_SEATS];
    bool is_pass_done;
    shown(v, voids, &sent, &is_pass_done);
    seen = 0;
    for (unsigned i = bot_view_hand_start(v); i < v->n_events; i++) {
        /* bot_view_seen's rule, written again, for this hand: everything
         * the seat saw of its deck. */
        const struct bot_event *e = &v->events[i];
        seen |= mask_of(e->cards, e->n_cards);
        if (e->kind == BOT_EV_DEAL) {
            seen |= mask_of(e->table, e->n_table);
            if (e->trump != CARD_NONE)
                seen |= bit(e->trump);
        }
        if (e->kind == BOT_EV_MOVE && !e->is_hidden)
            seen |= mask_of(e->mv.cards, e->mv.n);
    }
    unsigned to = seat;
    if (r == &hearts_rules && hearts_pass_offset(r->hand_no(x->state)))
        to = (seat + hearts_pass_offset(r->hand_no(x->state))) % 4;
    for (unsigned s = 0; s < x->ns; s++) {
        na = r->hand(x->state, s, a);
        nb = r->hand(det, s, b);
        CHECK_INT(nb, na);
        CHECK_INT(r->has_passed(det, s), r->has_passed(x->state, s));
        uint64_t hb = mask_of(b, nb);
        if (s == seat) {
            CHECK(hb == mask_of(a, na));
            continue;
        }
        /* Never a card this seat saw elsewhere: only those it passed to
         * s (hearts, after the pass) may be in s's hand. */
        uint64_t allowed = 0;
        if (s == to && is_pass_done)
            allowed = sent;
        /* briscola: the face-up trump is drawn last, by someone. */
        if (r->trump(x->state) != CARD_NONE)
            allowed |= bit(r->trump(x->state));
        CHECK((hb & seen & ~allowed) == 0);
        for (unsigned i = 0; i < nb && r == &hearts_rules; i++)
            CHECK(!(voids[s] & (1u << card_suit(b[i]))));
    }
}

/* ---- every level plays legal moves ---------------------------------- */

static void legal_property(const struct rules *r, enum bot_level level,
                           unsigned n_positions)
{
    struct bot_budget budget = {HARD_ITERATIONS, 0, NULL, NULL};
    static struct run x;
    uint64_t rs = 12345 + (uint64_t)level * 1000 + r->deck_size;
    unsigned positions = 0, games = 0, checked = 0;

    while (positions < n_positions) {
        unsigned n_counts = 0;
        while (n_counts < RULES_MAX_SEATS && r->seat_counts[n_counts])
            n_counts++;
        unsigned ns = r->seat_counts[games % n_counts];
        run_start(&x, r, ns, splitmix(&rs));
        games++;
        enum rules_move_kind kind;
        int seat;
        while ((seat = run_seat(&x, &kind)) >= 0 && positions < n_positions) {
            struct rules_move mv;
            CHECK_INT(
                bot_choose(&x.views[seat], level, &budget, splitmix(&rs), &mv),
                0);
            positions++;
            if (positions % 97 == 0) {
                check_consistent(&x, (unsigned)seat, splitmix(&rs));
                checked++;
            }
            if (!run_move(&x, (unsigned)seat, mv))
                FAIL_("%s %s: illegal move at position %u", r->name,
                      bot_level_name(level), positions);
        }
        run_free(&x);
    }
    printf("     %s %s: %u positions in %u matches, %u determinisations "
           "checked\n",
           r->name, bot_level_name(level), positions, games, checked);
}

TEST(briscola_easy_legal)
{
    legal_property(&briscola_rules, BOT_EASY, N_EASY);
}
TEST(briscola_normal_legal)
{
    legal_property(&briscola_rules, BOT_NORMAL, N_NORMAL);
}
TEST(briscola_hard_legal)
{
    legal_property(&briscola_rules, BOT_HARD, N_HARD);
}
TEST(scopa_easy_legal)
{
    legal_property(&scopa_rules, BOT_EASY, N_EASY);
}
TEST(scopa_normal_legal)
{
    legal_property(&scopa_rules, BOT_NORMAL, N_NORMAL);
}
TEST(scopa_hard_legal)
{
    legal_property(&scopa_rules, BOT_HARD, N_HARD);
}
TEST(hearts_easy_legal)
{
    legal_property(&hearts_rules, BOT_EASY, N_EASY);
}
TEST(hearts_normal_legal)
{
    legal_property(&hearts_rules, BOT_NORMAL, N_NORMAL);
}
TEST(hearts_hard_legal)
{
    legal_property(&hearts_rules, BOT_HARD, N_HARD);
}

/* Determinisations at positions reached by random play (not the bots'
 * own), many per position. */
static void consistent_property(const struct rules *r, unsigned n_checks)
{
    static struct run x;
    uint64_t rs = 777 + r->deck_size;
    unsigned done = 0, games = 0;

    while (done < n_checks) {
        unsigned ns = r->seat_counts[games % (r->seat_counts[1] ? 2 : 1)];
        run_start(&x, r, ns, splitmix(&rs));
        games++;
        enum rules_move_kind kind;
        int seat;
        while ((seat = run_seat(&x, &kind)) >= 0 && done < n_checks) {
            /* Every seat, not only the one to move. */
            for (unsigned s = 0; s < ns; s++, done++)
                check_consistent(&x, s, splitmix(&rs));
            struct rules_move mv;
            full_random_move(&x, (unsigned)seat, kind, &rs, &mv);
            CHECK(run_move(&x, (unsigned)seat, mv));
        }
        run_free(&x);
    }
}

TEST(briscola_determinisations_agree)
{
    consistent_property(&briscola_rules, 20000 / SCALE);
}
TEST(scopa_determinisations_agree)
{
    consistent_property(&scopa_rules, 20000 / SCALE);
}
TEST(hearts_determinisations_agree)
{
    consistent_property(&hearts_rules, 20000 / SCALE);
}

/* Hearts, by hand: after a pass the seat passed to holds the passed
 * cards in every determinisation, until it plays them. */
TEST(hearts_passed_cards_stay_with_the_receiver)
{
    static struct run x;
    uint64_t rs = 99;
    run_start(&x, &hearts_rules, 4, 4242);
    enum rules_move_kind kind;
    int seat;
    while ((seat = run_seat(&x, &kind)) >= 0 && kind == MOVE_PASS) {
        struct rules_move mv;
        full_random_move(&x, (unsigned)seat, kind, &rs, &mv);
        CHECK(run_move(&x, (unsigned)seat, mv));
    }
    uint64_t sent = mask_of(x.log[0].mv.cards, 3); /* seat 0's, to seat 1 */
    CHECK_INT(x.log[0].seat, 0);
    for (unsigned t = 0; t < 200; t++) {
        uint8_t det[sizeof(struct hearts)];
        card_t h[HEARTS_HAND + 3];
        CHECK_INT(bot_determinise(&x.views[0], t, det), 0);
        unsigned n = hearts_rules.hand(det, 1, h);
        CHECK((mask_of(h, n) & sent) == sent);
    }
    run_free(&x);
}

/* What the seat saw of the current hand's deck. */
static uint64_t seen_in_hand(const struct bot_view *v)
{
    struct bot_view cur = *v;
    unsigned at = bot_view_hand_start(v);
    cur.events = v->events + at;
    cur.n_events = v->n_events - at;
    return bot_view_seen(&cur);
}

/* ---- no cheating ---------------------------------------------------- */

/* Plays a random prefix, then builds a second match whose decks differ
 * by two cards the seat to move never saw, with the same moves; the
 * seat's views must be equal byte for byte while the full states
 * differ, and every level must choose the same move from the same
 * seed in both. */
static void no_cheating(const struct rules *r, unsigned ns, unsigned trials)
{
    static struct run a, b;
    struct bot_budget budget = {64, 0, NULL, NULL};
    uint64_t rs = 31337 + ns + r->deck_size;
    unsigned found = 0;

    for (unsigned t = 0; t < trials; t++) {
        run_start(&a, r, ns, splitmix(&rs));
        unsigned k = (unsigned)(splitmix(&rs) % (r->deck_size + 20));
        enum rules_move_kind kind;
        int seat;
        for (unsigned i = 0; i < k && (seat = run_seat(&a, &kind)) >= 0; i++) {
            struct rules_move mv;
            full_random_move(&a, (unsigned)seat, kind, &rs, &mv);
            CHECK(run_move(&a, (unsigned)seat, mv));
        }
        if ((seat = run_seat(&a, &kind)) < 0) {
            run_free(&a);
            continue;
        }
        uint64_t seen = seen_in_hand(&a.views[seat]);
        bool ok = false;
        for (unsigned p = 0; p < 200 && !ok; p++) {
            card_t c1 = (card_t)(splitmix(&rs) % 52);
            card_t c2 = (card_t)(splitmix(&rs) % 52);
            card_t all[RULES_MAX_DECK];
            rules_canonical_deck(r->deck_size, all);
            if (!memchr(all, c1, r->deck_size) ||
                !memchr(all, c2, r->deck_size) || c1 == c2 ||
                (seen & (bit(c1) | bit(c2))))
                continue;
            run_start_swapped(&b, r, ns, a.deck_seed, a.hand, c1, c2);
            ok = true;
            for (unsigned i = 0; i < a.n_log && ok; i++) {
                struct rules_move mv = a.log[i].mv;
                for (unsigned j = 0; j < mv.n && a.log[i].hand == a.hand; j++)
                    mv.cards[j] = mv.cards[j] == c1   ? c2
                                  : mv.cards[j] == c2 ? c1
                                                      : mv.cards[j];
                ok = run_move(&b, a.log[i].seat, mv);
            }
            ok = ok && memcmp(a.state, b.state, r->state_size) != 0;
            if (!ok)
                run_free(&b);
        }
        if (!ok) {
            run_free(&a);
            continue;
        }
        found++;
        CHECK(bot_view_equal(&a.views[seat], &b.views[seat]));
        for (unsigned lv = BOT_EASY; lv <= BOT_HARD; lv++) {
            struct rules_move ma, mb;
            uint64_t s = splitmix(&rs);
            CHECK_INT(
                bot_choose(&a.views[seat], (enum bot_level)lv, &budget, s, &ma),
                0);
            CHECK_INT(
                bot_choose(&b.views[seat], (enum bot_level)lv, &budget, s, &mb),
                0);
            CHECK(same_move(&ma, &mb));
        }
        run_free(&a);
        run_free(&b);
    }
    printf("     %s %u seats: %u of %u trials found a pair\n", r->name, ns,
           found, trials);
    CHECK(found * 2 >= trials);
}

TEST(briscola_no_cheating)
{
    no_cheating(&briscola_rules, 2, 200);
    no_cheating(&briscola_rules, 4, 100);
}
TEST(scopa_no_cheating)
{
    no_cheating(&scopa_rules, 2, 200);
    no_cheating(&scopa_rules, 4, 100);
}
TEST(hearts_no_cheating)
{
    no_cheating(&hearts_rules, 4, 200);
}

/* ---- reproducibility ----------------------------------------------- */

TEST(same_seed_same_move)
{
    static const struct rules *const games[] = {&briscola_rules, &scopa_rules,
                                                &hearts_rules};
    struct bot_budget budget = {200, 0, NULL, NULL};
    static struct run x;
    uint64_t rs = 5;

    for (unsigned g = 0; g < 3; g++) {
        const struct rules *r = games[g];
        run_start(&x, r, r->seat_counts[0] == 4 ? 4 : 2, 77);
        enum rules_move_kind kind;
        int seat;
        for (unsigned i = 0; i < 30 && (seat = run_seat(&x, &kind)) >= 0; i++) {
            for (unsigned lv = BOT_EASY; lv <= BOT_HARD; lv++) {
                struct rules_move m1, m2;
                uint64_t s = splitmix(&rs);
                CHECK_INT(bot_choose(&x.views[seat], (enum bot_level)lv,
                                     &budget, s, &m1),
                          0);
                CHECK_INT(bot_choose(&x.views[seat], (enum bot_level)lv,
                                     &budget, s, &m2),
                          0);
                CHECK(same_move(&m1, &m2));
            }
            struct rules_move mv;
            full_random_move(&x, (unsigned)seat, kind, &rs, &mv);
            CHECK(run_move(&x, (unsigned)seat, mv));
        }
        run_free(&x);
    }
}

TEST(no_move_when_not_due)
{
    static struct run x;
    struct rules_move mv;
    run_start(&x, &briscola_rules, 2, 1);
    /* Seat 0 leads; seat 1 has nothing to do. */
    CHECK_INT(bot_choose(&x.views[1], BOT_NORMAL, NULL, 1, &mv), -1);
    CHECK_INT(bot_choose(&x.views[0], BOT_NORMAL, NULL, 1, &mv), 0);
    run_free(&x);
}

/* The view replayed from the decks and the move log is the view built
 * move by move, for every seat. */
static void replay_deck(void *ctx, unsigned hand, card_t *deck)
{
    const struct run *x = ctx;
    uint64_t s = x->deck_seed * 7919u + hand;
    rules_canonical_deck(x->r->deck_size, deck);
    card_shuffle(deck, x->r->deck_size, uniform, &s);
}

TEST(view_replay_equals_view_built_as_it_went)
{
    static const struct rules *const games[] = {&briscola_rules, &scopa_rules,
                                                &hearts_rules};
    static struct run x;
    static struct bot_logged_move log[MAX_LOG];
    uint64_t rs = 8;

    for (unsigned g = 0; g < 3; g++) {
        const struct rules *r = games[g];
        for (unsigned m = 0; m < 6; m++) {
            unsigned ns = r == &hearts_rules ? 4 : m % 2 ? 4 : 2;
            run_start(&x, r, ns, splitmix(&rs));
            enum rules_move_kind kind;
            int seat;
            unsigned stop = (unsigned)(splitmix(&rs) % 400);
            for (unsigned i = 0; i < stop && (seat = run_seat(&x, &kind)) >= 0;
                 i++) {
                struct rules_move mv;
                full_random_move(&x, (unsigned)seat, kind, &rs, &mv);
                CHECK(run_move(&x, (unsigned)seat, mv));
            }
            for (unsigned i = 0; i < x.n_log; i++) {
                log[i].seat = x.log[i].seat;
                log[i].mv = x.log[i].mv;
            }
            for (unsigned s = 0; s < ns; s++) {
                struct bot_view v;
                bot_view_init(&v, r, ns, s);
                CHECK_INT(bot_view_replay(&v, replay_deck, &x, log, x.n_log),
                          0);
                CHECK(bot_view_equal(&v, &x.views[s]));
                struct bot_view c;
                bot_view_copy(&c, &v);
                CHECK(bot_view_equal(&c, &v));
                bot_view_free(&c);
                bot_view_free(&v);
            }
            /* A log that does not fit is refused. */
            if (x.n_log > 0) {
                struct bot_view v;
                log[x.n_log - 1].seat =
                    (uint8_t)((log[x.n_log - 1].seat + 1) % ns);
                bot_view_init(&v, r, ns, 0);
                CHECK_INT(bot_view_replay(&v, replay_deck, &x, log, x.n_log),
                          -1);
                bot_view_free(&v);
            }
            run_free(&x);
        }
    }
}

/* A view the engine did not build (bytes changed at random) gives a
 * legal-looking answer or -1, never a crash (ASan, UBSan). */
TEST(mangled_views_are_refused_or_survived)
{
    static const struct rules *const games[] = {&briscola_rules, &scopa_rules,
                                                &hearts_rules};
    static struct run x;
    struct bot_budget budget = {16, 0, NULL, NULL};
    uint64_t rs = 4711;
    unsigned refused = 0, answered = 0;

    for (unsigned t = 0; t < 600 / SCALE; t++) {
        const struct rules *r = games[t % 3];
        run_start(&x, r, r == &hearts_rules ? 4 : 2, splitmix(&rs));
        unsigned k = (unsigned)(splitmix(&rs) % 80);
        enum rules_move_kind kind;
        int seat;
        for (unsigned i = 0; i < k && (seat = run_seat(&x, &kind)) >= 0; i++) {
            struct rules_move mv;
            full_random_move(&x, (unsigned)seat, kind, &rs, &mv);
            CHECK(run_move(&x, (unsigned)seat, mv));
        }
        if ((seat = run_seat(&x, &kind)) < 0) {
            run_free(&x);
            continue;
        }
        struct bot_view v;
        bot_view_copy(&v, &x.views[seat]);
        unsigned n_flips = 1 + (unsigned)(splitmix(&rs) % 3);
        for (unsigned f = 0; f < n_flips; f++) {
            uint8_t *bytes = (uint8_t *)v.events;
            size_t at = splitmix(&rs) % (v.n_events * sizeof *v.events);
            bytes[at] = (uint8_t)splitmix(&rs);
        }
        for (unsigned lv = BOT_EASY; lv <= BOT_HARD; lv++) {
            struct rules_move mv;
            if (bot_choose(&v, (enum bot_level)lv, &budget, splitmix(&rs),
                           &mv) == 0)
                answered++;
            else
                refused++;
        }
        bot_view_free(&v);
        run_free(&x);
    }
    printf("     %u answered, %u refused\n", answered, refused);
}

TEST(level_names)
{
    enum bot_level l;
    CHECK_INT(bot_level_parse("hard", 4, &l), 0);
    CHECK_INT(l, BOT_HARD);
    CHECK_INT(bot_level_parse("easy", 4, &l), 0);
    CHECK_INT(l, BOT_EASY);
    CHECK_INT(bot_level_parse("normal", 6, &l), 0);
    CHECK_INT(l, BOT_NORMAL);
    CHECK_INT(bot_level_parse("Hard", 4, &l), -1);
    CHECK_INT(bot_level_parse("har", 3, &l), -1);
    CHECK_STR(bot_level_name(BOT_NORMAL), "normal");
}
