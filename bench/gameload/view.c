/*
 * view.c - one player's check of a match, event by event, and its choice
 * of a legal move (PROTOCOL §7 briscola, §12 scopa and hearts).
 *
 * A player sees its own cards and the public events, nothing else, so it
 * checks what that view allows: every card is in the game's deck and is
 * seen at most once a hand (dealt, drawn, received, on the table, played);
 * a seat plays only on its TURN, in seat order, and never a card this
 * player holds, nor the face-up trump before it was drawn, nor (hearts) a
 * card of a suit it showed it has no more of; each TRICK's winner and
 * points follow from its cards; each scopa capture is legal and
 * compulsory, with SWEEP exactly when due; SCORE and END add up, and END
 * comes exactly when the game is over. The first broken rule is reported
 * as a reason and a short kind; the caller counts it and stops the match.
 *
 * Deliberately not checked: the deal's randomness (§13 needs the secret),
 * and the clock's milliseconds. Events this file does not know are
 * ignored, as a client must (§11).
 */
#include "gameload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIT(c) (1ull << (c))
#define SUIT(c) ((c) / 13)
#define RANK(c) ((c) % 13)
#define SUIT_MASK(s) (0x1fffull << (13 * (s)))
#define HEARTS SUIT_MASK(2)
#define QS (3 * 13 + 11)
#define TWO_C 1
#define SETTEBELLO (1 * 13 + 6)
#define DECK52 ((1ull << 52) - 1)
/* A..7 and J Q K of each suit: the 40-card deck of briscola and scopa. */
#define DECK40_SUIT 0x1c7full
#define DECK40                                                                 \
    (DECK40_SUIT | DECK40_SUIT << 13 | DECK40_SUIT << 26 | DECK40_SUIT << 39)

static const char RANKS[] = "A23456789TJQK";
static const char SUITS[] = "cdhs";

int card_parse(const char *w)
{
    const char *r, *s;

    if (!w[0] || !w[1] || w[2])
        return NO_CARD;
    r = strchr(RANKS, w[0]);
    s = strchr(SUITS, w[1]);
    if (!r || !s)
        return NO_CARD;
    return (int)(s - SUITS) * 13 + (int)(r - RANKS);
}

void card_text(int c, char out[3])
{
    out[0] = RANKS[RANK(c)];
    out[1] = SUITS[SUIT(c)];
    out[2] = 0;
}

static const char *const GAME_NAMES[G_COUNT] = {"briscola", "scopa", "hearts"};

int game_parse(const char *name)
{
    for (int g = 0; g < G_COUNT; g++)
        if (!strcmp(name, GAME_NAMES[g]))
            return g;
    return -1;
}

const char *game_name(int g)
{
    return GAME_NAMES[g];
}

int game_deck_size(int g)
{
    return g == G_HEARTS ? 52 : 40;
}

static uint64_t deck_of(const struct view *v)
{
    return v->game == G_HEARTS ? DECK52 : DECK40;
}

static int popcount(uint64_t m)
{
    return __builtin_popcountll(m);
}

/* The k-th (from 0) card of a mask. */
static int nth_card(uint64_t m, int k)
{
    for (; m; m &= m - 1)
        if (k-- == 0)
            return __builtin_ctzll(m);
    return NO_CARD;
}

static int random_card(uint64_t m, uint64_t *rng)
{
    int n = popcount(m);
    return n ? nth_card(m, (int)(rng_next(rng) % (uint64_t)n)) : NO_CARD;
}

/* "3c Kd" for a reason text: one of two static buffers, so one message
 * can show two sets; valid until the call after next. */
static const char *mask_text(uint64_t m)
{
    static char bufs[2][160];
    static int next;
    char *buf = bufs[next ^= 1], t[3];
    size_t n = 0;

    buf[0] = 0;
    for (; m && n + 4 < sizeof bufs[0]; m &= m - 1) {
        card_text(__builtin_ctzll(m), t);
        n += (size_t)snprintf(buf + n, sizeof bufs[0] - n, "%s%s", n ? " " : "",
                              t);
    }
    return buf;
}

#define FAIL(kind, ...)                                                        \
    do {                                                                       \
        snprintf(err, err_cap, __VA_ARGS__);                                   \
        *err_kind = (kind);                                                    \
        return -1;                                                             \
    } while (0)

/* The arguments every handler gets, so FAIL works in each. */
#define ERRARGS char *err, size_t err_cap, const char **err_kind
#define ERRPASS err, err_cap, err_kind

static int parse_int(const char *w, int lo, int hi)
{
    char *end;
    long x = strtol(w, &end, 10);

    if (!*w || *end || x < lo || x > hi)
        return -1;
    return (int)x;
}

/* Cards w[0..n) into *out: each in the deck, none twice. */
static int parse_cards(const struct view *v, char **w, int n, uint64_t *out,
                       ERRARGS)
{
    uint64_t m = 0;

    for (int i = 0; i < n; i++) {
        int c = card_parse(w[i]);
        if (c == NO_CARD || !(deck_of(v) & BIT(c)))
            FAIL("bad_card", "'%s' is not a card of %s's deck", w[i],
                 game_name(v->game));
        if (m & BIT(c))
            FAIL("dup_card", "card %s dealt twice in one line", w[i]);
        m |= BIT(c);
    }
    *out = m;
    return 0;
}

static int side_of(const struct view *v, int seat)
{
    return v->n_seats == 4 && v->game != G_HEARTS ? seat % 2 : seat;
}

/* ---------- shared steps ---------- */

static int on_turn(struct view *v, int s, ERRARGS)
{
    if (v->want_trick)
        FAIL("bad_order", "TURN %d before the TRICK of a complete trick", s);
    if (v->want_draw)
        FAIL("bad_order", "TURN %d before my DRAW", s);
    if (v->want_hand)
        FAIL("bad_order", "TURN %d before the new HAND", s);
    if (v->want_score)
        FAIL("bad_order", "TURN %d after the hand's last card", s);
    if (v->turn_open >= 0)
        FAIL("bad_order", "TURN %d while seat %d's turn is open", s,
             v->turn_open);
    if (!v->has_hand)
        FAIL("bad_order", "TURN %d before my HAND", s);
    if (v->turn >= 0 && s != v->turn)
        FAIL("bad_turn", "TURN for seat %d, but seat %d plays next", s,
             v->turn);
    if (v->hand_size[s] <= 0)
        FAIL("bad_turn", "TURN for seat %d, which has no cards", s);
    v->turn = s;
    v->turn_open = s;
    return s == v->me ? NEED_PLAY : NEED_NOTHING;
}

/* A PLAYED line's checks common to every game. */
static int on_played(struct view *v, int s, const char *w, int *card, ERRARGS)
{
    int c = card_parse(w);
    char t[3];

    if (c == NO_CARD || !(deck_of(v) & BIT(c)))
        FAIL("bad_card", "PLAYED %d %s: not a card of the deck", s, w);
    if (v->turn_open != s)
        FAIL("bad_turn", "PLAYED by seat %d without its TURN (open: %d)", s,
             v->turn_open);
    if (v->gone & BIT(c))
        FAIL("dup_card", "card %s played twice (seat %d)", w, s);
    if (s == v->me) {
        if (c != v->sent_card) {
            card_text(v->sent_card, t);
            FAIL("bad_play", "PLAYED %s for my seat; I played %s", w, t);
        }
        v->hand &= ~BIT(c);
    } else {
        if (v->hand & BIT(c))
            FAIL("impossible_play", "seat %d played %s, which is in my hand", s,
                 w);
        if (v->cannot[s] & BIT(c))
            FAIL("impossible_play",
                 "seat %d played %s, but showed earlier it could not hold it",
                 s, w);
    }
    v->hand_size[s]--;
    v->gone |= BIT(c);
    v->turn_open = -1;
    *card = c;
    return 0;
}

static int parse_end(struct view *v, char **w, int n, int *pts, ERRARGS)
{
    if (n != 4 + v->n_seats)
        FAIL("bad_end", "END with %d words, expected %d", n, 4 + v->n_seats);
    if (strcmp(w[3], "score"))
        FAIL("forfeit", "END reason '%s' (%s): nobody left this match", w[3],
             w[2]);
    for (int i = 0; i < v->n_seats; i++)
        if ((pts[i] = parse_int(w[4 + i], 0, 1000000)) < 0)
            FAIL("bad_end", "END: bad points '%s'", w[4 + i]);
    return 0;
}

/* ---------- briscola (PROTOCOL §7) ---------- */

static const int BRISCOLA_STRENGTH[13] = {
    /* A  2  3  4  5  6  7  8  9  T  J  Q  K */
    10, 1, 9, 2, 3, 4, 5, 0, 0, 0, 6, 7, 8};
static const int BRISCOLA_POINTS[13] = {11, 0, 10, 0, 0, 0, 0,
                                        0,  0, 0,  2, 3, 4};

static int briscola_event(struct view *v, char **w, int n, ERRARGS)
{
    const char *verb = w[0];
    uint64_t m;
    int s, c, pts[MAX_SEATS];
    char t[3];

    if (!strcmp(verb, "TRUMP")) {
        if (n != 3 || (c = card_parse(w[2])) == NO_CARD || !(DECK40 & BIT(c)))
            FAIL("bad_card", "TRUMP '%s': not a card of the deck",
                 n > 2 ? w[2] : "");
        if (v->trump != NO_CARD)
            FAIL("bad_order", "a second TRUMP");
        v->trump = c;
        v->deck_left = 40 - 3 * v->n_seats;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "HAND")) {
        if (v->has_hand || v->trump == NO_CARD)
            FAIL("bad_order", "HAND %s",
                 v->has_hand ? "twice" : "before TRUMP");
        if (parse_cards(v, w + 2, n - 2, &m, ERRPASS))
            return -1;
        if (popcount(m) != 3)
            FAIL("bad_deal", "HAND of %d cards, not 3", popcount(m));
        if (m & BIT(v->trump))
            FAIL("dup_card", "HAND holds the face-up trump %s", w[2]);
        v->hand = m;
        v->has_hand = 1;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "TURN")) {
        if (n < 3 || (s = parse_int(w[2], 0, v->n_seats - 1)) < 0)
            FAIL("bad_turn", "TURN: bad seat");
        return on_turn(v, s, ERRPASS);
    }
    if (!strcmp(verb, "PLAYED")) {
        if (n != 4 || (s = parse_int(w[2], 0, v->n_seats - 1)) < 0)
            FAIL("bad_play", "PLAYED: bad seat or arguments");
        if (on_played(v, s, w[3], &c, ERRPASS))
            return -1;
        if (c == v->trump && v->trump_holder != s) {
            card_text(c, t);
            FAIL("impossible_play", "seat %d played the trump %s, %s", s, t,
                 v->trump_holder < 0 ? "still face up under the deck"
                                     : "which another seat drew");
        }
        v->trick[v->n_trick++] = c;
        v->turn = (s + 1) % v->n_seats;
        if (v->n_trick == v->n_seats) {
            v->want_trick = 1;
            v->turn = -1;
        }
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "TRICK")) {
        int win = 0, sum = 0, ts = SUIT(v->trump), p;
        if (!v->want_trick)
            FAIL("bad_order", "TRICK before the trick is complete");
        if (n != 4 || (s = parse_int(w[2], 0, v->n_seats - 1)) < 0 ||
            (p = parse_int(w[3], 0, 120)) < 0)
            FAIL("bad_trick", "TRICK: bad arguments");
        for (int i = 0; i < v->n_seats; i++) {
            int a = v->trick[i], b = v->trick[win];
            sum += BRISCOLA_POINTS[RANK(a)];
            if ((SUIT(a) == ts && SUIT(b) != ts) ||
                (SUIT(a) == SUIT(b) &&
                 BRISCOLA_STRENGTH[RANK(a)] > BRISCOLA_STRENGTH[RANK(b)]))
                win = i;
        }
        win = (v->leader + win) % v->n_seats;
        if (s != win || p != sum)
            FAIL("bad_trick",
                 "TRICK %d %d, but the cards give seat %d %d points", s, p, win,
                 sum);
        v->points[s] += p;
        v->n_tricks++;
        v->n_trick = 0;
        v->want_trick = 0;
        v->leader = v->turn = s;
        if (v->deck_left > 0) {
            if (v->deck_left == v->n_seats)
                v->trump_holder = (s + v->n_seats - 1) % v->n_seats;
            v->deck_left -= v->n_seats;
            for (int i = 0; i < v->n_seats; i++)
                v->hand_size[i]++;
            v->want_draw = 1;
        }
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "DRAW")) {
        if (!v->want_draw)
            FAIL("bad_order", "DRAW when none is due");
        if (n != 3 || (c = card_parse(w[2])) == NO_CARD || !(DECK40 & BIT(c)))
            FAIL("bad_card", "DRAW '%s': not a card of the deck",
                 n > 2 ? w[2] : "");
        if ((v->gone | v->hand) & BIT(c))
            FAIL("dup_card", "drew %s, which was dealt before", w[2]);
        if (c == v->trump && v->trump_holder != v->me)
            FAIL("dup_card", "drew the face-up trump %s before the last draw",
                 w[2]);
        if (c != v->trump && v->trump_holder == v->me && v->deck_left == 0)
            FAIL("bad_deal", "the last draw must be the trump, got %s", w[2]);
        v->hand |= BIT(c);
        v->want_draw = 0;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "END")) {
        int sum = 0, team[2] = {0, 0};
        const char *res;
        if (parse_end(v, w, n, pts, ERRPASS))
            return -1;
        for (int i = 0; i < v->n_seats; i++) {
            sum += pts[i];
            team[i % 2] += pts[i];
        }
        if (sum != 120)
            FAIL("bad_end", "END points add up to %d, not 120", sum);
        if (v->n_tricks != 40 / v->n_seats || v->want_trick || v->want_draw)
            FAIL("bad_end", "END after %d tricks, not %d", v->n_tricks,
                 40 / v->n_seats);
        for (int i = 0; i < v->n_seats; i++)
            if (pts[i] != v->points[i])
                FAIL("bad_end",
                     "END gives seat %d %d points; its tricks made %d", i,
                     pts[i], v->points[i]);
        res = team[0] > 60 ? "team0" : team[1] > 60 ? "team1" : "draw";
        if (strcmp(w[2], res))
            FAIL("bad_end", "END result %s, but the points say %s", w[2], res);
        return NEED_OVER;
    }
    return NEED_NOTHING;
}

/* ---------- scopa (PROTOCOL §12) ---------- */

static const int SCOPA_VALUE[13] = {1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 8, 9, 10};
static const int PRIMIERA[13] = {16, 12, 13, 14, 15, 18, 21,
                                 0,  0,  0,  10, 10, 10};

/* A set of table cards adding up to `want`, from cards[i..]; 0 if none. */
static uint64_t sum_set(const int *cards, int n, int i, int want)
{
    for (; i < n; i++) {
        int val = SCOPA_VALUE[RANK(cards[i])];
        if (val == want)
            return BIT(cards[i]);
        if (val < want) {
            uint64_t rest = sum_set(cards, n, i + 1, want - val);
            if (rest)
                return rest | BIT(cards[i]);
        }
    }
    return 0;
}

/* The capture this client makes with card c: one table card of its rank,
 * or else the first set adding up to its value; 0 when there is none. */
static uint64_t scopa_capture(uint64_t table, int c)
{
    int cards[40], n = 0;

    for (uint64_t m = table; m; m &= m - 1) {
        int t = __builtin_ctzll(m);
        if (RANK(t) == RANK(c))
            return BIT(t);
        cards[n++] = t;
    }
    return sum_set(cards, n, 0, SCOPA_VALUE[RANK(c)]);
}

static int scopa_legal_take(uint64_t table, int c, uint64_t take)
{
    int sum = 0;

    if (!take || (take & ~table))
        return 0;
    for (uint64_t m = table; m; m &= m - 1)
        if (RANK(__builtin_ctzll(m)) == RANK(c))
            return popcount(take) == 1 &&
                   RANK(__builtin_ctzll(take)) == RANK(c);
    for (uint64_t m = take; m; m &= m - 1)
        sum += SCOPA_VALUE[RANK(__builtin_ctzll(m))];
    return sum == SCOPA_VALUE[RANK(c)];
}

static int all_empty(const struct view *v)
{
    for (int i = 0; i < v->n_seats; i++)
        if (v->hand_size[i])
            return 0;
    return 1;
}

/* The play in progress is complete: no more TAKE or SWEEP for it. */
static int scopa_finish(struct view *v, ERRARGS)
{
    char t[3];

    if (v->pend_seat < 0)
        return 0;
    card_text(v->pend_card, t);
    if (!v->pend_took) {
        if (v->pend_could_take)
            FAIL("bad_take",
                 "seat %d played %s and took nothing, but a "
                 "capture was possible (%s)",
                 v->pend_seat, t, mask_text(v->pend_before));
        if (!v->pend_laid)
            v->table |= BIT(v->pend_card);
    }
    if (v->pend_sweep_due)
        FAIL("bad_sweep", "seat %d emptied the table with %s: no SWEEP",
             v->pend_seat, t);
    if (v->pend_last) {
        if (v->table && v->last_capturer >= 0 && !v->pend_leftover)
            FAIL("bad_take",
                 "hand over with %s on the table: no TAKE to "
                 "seat %d",
                 mask_text(v->table), v->last_capturer);
        v->want_score = 1;
    } else if (all_empty(v)) {
        v->want_hand = 1;
    }
    v->pend_seat = -1;
    return 0;
}

static void scopa_hand_points(const struct view *v, int pts[2])
{
    int cards[2], coins[2], prim[2];

    for (int s = 0; s < 2; s++) {
        cards[s] = popcount(v->taken[s]);
        coins[s] = popcount(v->taken[s] & SUIT_MASK(1));
        prim[s] = 0;
        for (int suit = 0; suit < 4; suit++) {
            int best = 0;
            for (uint64_t m = v->taken[s] & SUIT_MASK(suit); m; m &= m - 1)
                if (PRIMIERA[RANK(__builtin_ctzll(m))] > best)
                    best = PRIMIERA[RANK(__builtin_ctzll(m))];
            if (!best) {
                prim[s] = -1; /* missing a suit: cannot take the primiera */
                break;
            }
            prim[s] += best;
        }
        pts[s] = v->sweeps[s] + ((v->taken[s] >> SETTEBELLO) & 1);
    }
    for (int s = 0; s < 2; s++) {
        pts[s] += cards[s] > cards[1 - s];
        pts[s] += coins[s] > coins[1 - s];
        pts[s] += prim[s] >= 0 && prim[s] > prim[1 - s];
    }
}

static int scopa_event(struct view *v, char **w, int n, ERRARGS)
{
    const char *verb = w[0];
    uint64_t m;
    int s, c, k, pts[MAX_SEATS];

    if (strcmp(verb, "TAKE") && strcmp(verb, "SWEEP") &&
        scopa_finish(v, ERRPASS))
        return -1;
    if (!strcmp(verb, "DEAL")) {
        if (n != 3 || (k = parse_int(w[2], 1, 1000000)) != v->hand_no + 1)
            FAIL("bad_order", "DEAL %s after hand %d", n > 2 ? w[2] : "",
                 v->hand_no);
        if (v->hand_no && !v->scored)
            FAIL("bad_order", "DEAL %d before the SCORE of hand %d", k,
                 v->hand_no);
        if (v->over_due)
            FAIL("bad_score", "DEAL %d, but a side has won (%d-%d)", k,
                 v->totals[0], v->totals[1]);
        v->hand_no = k;
        v->gone = v->table = v->hand = v->taken[0] = v->taken[1] = 0;
        v->sweeps[0] = v->sweeps[1] = 0;
        v->last_capturer = -1;
        for (int i = 0; i < v->n_seats; i++)
            v->hand_size[i] = 0;
        v->deck_left = 40;
        v->turn = (k - 1) % v->n_seats;
        v->turn_open = -1;
        v->has_hand = v->scored = v->want_score = 0;
        v->want_hand = 1;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "TABLE")) {
        if (!v->hand_no || v->deck_left != 40)
            FAIL("bad_order", "TABLE outside a deal");
        if (parse_cards(v, w + 2, n - 2, &m, ERRPASS))
            return -1;
        if (popcount(m) != 4)
            FAIL("bad_deal", "TABLE of %d cards, not 4", popcount(m));
        v->table = m;
        v->gone |= m;
        v->deck_left -= 4;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "HAND")) {
        if (!v->want_hand)
            FAIL("bad_order", "HAND while cards are still held");
        if (parse_cards(v, w + 2, n - 2, &m, ERRPASS))
            return -1;
        if (popcount(m) != 3)
            FAIL("bad_deal", "HAND of %d cards, not 3", popcount(m));
        if (m & (v->gone | v->hand))
            FAIL("dup_card", "HAND deals %s again", mask_text(m & v->gone));
        if (v->deck_left < 3 * v->n_seats)
            FAIL("bad_deal", "HAND with %d cards left in the deck",
                 v->deck_left);
        v->hand = m;
        v->deck_left -= 3 * v->n_seats;
        for (int i = 0; i < v->n_seats; i++)
            v->hand_size[i] = 3;
        v->want_hand = 0;
        v->has_hand = 1;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "TURN")) {
        if (n < 3 || (s = parse_int(w[2], 0, v->n_seats - 1)) < 0)
            FAIL("bad_turn", "TURN: bad seat");
        return on_turn(v, s, ERRPASS);
    }
    if (!strcmp(verb, "PLAYED")) {
        if (n != 4 || (s = parse_int(w[2], 0, v->n_seats - 1)) < 0)
            FAIL("bad_play", "PLAYED: bad seat or arguments");
        if (on_played(v, s, w[3], &c, ERRPASS))
            return -1;
        v->pend_seat = s;
        v->pend_card = c;
        v->pend_before = v->table;
        v->pend_could_take = scopa_capture(v->table, c) != 0;
        v->pend_took = v->pend_laid = v->pend_sweep_due = 0;
        v->pend_leftover = 0;
        v->pend_last = v->deck_left == 0 && all_empty(v);
        v->turn = (s + 1) % v->n_seats;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "TAKE")) {
        if (n < 4 || (s = parse_int(w[2], 0, v->n_seats - 1)) < 0)
            FAIL("bad_take", "TAKE: bad seat or no cards");
        if (parse_cards(v, w + 3, n - 3, &m, ERRPASS))
            return -1;
        if (v->pend_seat < 0)
            FAIL("bad_take", "TAKE %d %s after no PLAYED", s, mask_text(m));
        if (!v->pend_took && v->pend_could_take) {
            if (s != v->pend_seat ||
                !scopa_legal_take(v->pend_before, v->pend_card, m))
                FAIL("bad_take", "TAKE %d %s is not a legal capture from %s", s,
                     mask_text(m), mask_text(v->pend_before));
            if (s == v->me && m != v->sent_takes)
                FAIL("bad_take", "TAKE %s for me; I named %s", mask_text(m),
                     mask_text(v->sent_takes));
            v->table &= ~m;
            v->taken[side_of(v, s)] |= m | BIT(v->pend_card);
            v->last_capturer = s;
            v->pend_took = 1;
            v->pend_sweep_due = !v->table && !v->pend_last;
            return NEED_NOTHING;
        }
        if (v->pend_last && !v->pend_leftover) {
            if (!v->pend_took && !v->pend_laid) {
                v->table |= BIT(v->pend_card);
                v->pend_laid = 1;
            }
            if (s != v->last_capturer || m != v->table)
                FAIL("bad_take",
                     "TAKE %d %s at the hand's end; the table "
                     "holds %s for seat %d",
                     s, mask_text(m), mask_text(v->table), v->last_capturer);
            v->taken[side_of(v, s)] |= m;
            v->table = 0;
            v->pend_leftover = 1;
            return NEED_NOTHING;
        }
        FAIL("bad_take", "TAKE %d %s not due", s, mask_text(m));
    }
    if (!strcmp(verb, "SWEEP")) {
        if (n != 3 || (s = parse_int(w[2], 0, v->n_seats - 1)) < 0 ||
            v->pend_seat != s || !v->pend_sweep_due)
            FAIL("bad_sweep", "SWEEP %s not due", n > 2 ? w[2] : "");
        v->sweeps[side_of(v, s)]++;
        v->pend_sweep_due = 0;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "SCORE")) {
        int hp[2];
        if (!v->want_score)
            FAIL("bad_order", "SCORE before the hand's last card");
        if (n != 2 + v->n_seats)
            FAIL("bad_score", "SCORE with %d totals", n - 2);
        scopa_hand_points(v, hp);
        v->totals[0] += hp[0];
        v->totals[1] += hp[1];
        for (int i = 0; i < v->n_seats; i++)
            if (parse_int(w[2 + i], 0, 1000000) != v->totals[side_of(v, i)])
                FAIL("bad_score", "SCORE gives seat %d %s; the cards make %d",
                     i, w[2 + i], v->totals[side_of(v, i)]);
        v->over_due = (v->totals[0] >= 11 || v->totals[1] >= 11) &&
                      v->totals[0] != v->totals[1];
        v->scored = 1;
        v->want_score = 0;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "END")) {
        const char *res = v->totals[0] > v->totals[1] ? "team0" : "team1";
        if (parse_end(v, w, n, pts, ERRPASS))
            return -1;
        if (!v->scored || !v->over_due)
            FAIL("bad_end", "END though no side has won (%d-%d)", v->totals[0],
                 v->totals[1]);
        for (int i = 0; i < v->n_seats; i++)
            if (pts[i] != v->totals[side_of(v, i)])
                FAIL("bad_end", "END gives seat %d %d; the totals are %d", i,
                     pts[i], v->totals[side_of(v, i)]);
        if (strcmp(w[2], res))
            FAIL("bad_end", "END result %s, but the totals say %s", w[2], res);
        return NEED_OVER;
    }
    return NEED_NOTHING;
}

/* ---------- hearts (PROTOCOL §12) ---------- */

static int hearts_value(int c)
{
    return RANK(c) == 0 ? 14 : RANK(c) + 1;
}

static int hearts_event(struct view *v, char **w, int n, ERRARGS)
{
    const char *verb = w[0];
    static const char *const DIRS[3] = {"left", "right", "across"};
    uint64_t m;
    int s, c, k;

    if (!strcmp(verb, "DEAL")) {
        if (n != 3 || (k = parse_int(w[2], 1, 1000000)) != v->hand_no + 1)
            FAIL("bad_order", "DEAL %s after hand %d", n > 2 ? w[2] : "",
                 v->hand_no);
        if (v->hand_no && !v->scored)
            FAIL("bad_order", "DEAL %d before the SCORE of hand %d", k,
                 v->hand_no);
        if (v->over_due)
            FAIL("bad_score", "DEAL %d after a total reached 100", k);
        v->hand_no = k;
        v->gone = v->hand = 0;
        for (int i = 0; i < 4; i++) {
            v->cannot[i] = 0;
            v->points[i] = 0;
            v->hand_size[i] = 13;
        }
        v->broken = v->n_trick = v->n_tricks = 0;
        v->turn = v->turn_open = -1;
        v->pass_due = k % 4 != 0;
        v->passed = v->got_received = 0;
        v->pass_cards = 0;
        v->has_hand = v->scored = v->want_score = v->want_trick = 0;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "HAND")) {
        if (parse_cards(v, w + 2, n - 2, &m, ERRPASS))
            return -1;
        if (popcount(m) != 13)
            FAIL("bad_deal", "HAND of %d cards, not 13", popcount(m));
        if (!v->has_hand) {
            v->hand = m;
            v->has_hand = 1;
            return NEED_NOTHING;
        }
        if (v->got_received != 1)
            FAIL("bad_order", "a second HAND without RECEIVED");
        if (m != ((v->hand_before_pass & ~v->pass_cards) | v->received))
            FAIL("bad_deal", "HAND after the pass is %s", mask_text(m));
        v->hand = m;
        v->got_received = 2;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "PASSING")) {
        if (!v->has_hand || !v->pass_due || v->passed)
            FAIL("bad_order", "PASSING not due in hand %d", v->hand_no);
        if (n < 3 || strcmp(w[2], DIRS[(v->hand_no - 1) % 4]))
            FAIL("bad_order", "PASSING %s in hand %d, expected %s",
                 n > 2 ? w[2] : "", v->hand_no, DIRS[(v->hand_no - 1) % 4]);
        v->passed = 1;
        return NEED_PASS;
    }
    if (!strcmp(verb, "RECEIVED")) {
        if (!v->pass_cards || v->got_received)
            FAIL("bad_order", "RECEIVED before my PASS, or twice");
        if (parse_cards(v, w + 2, n - 2, &m, ERRPASS))
            return -1;
        if (popcount(m) != 3)
            FAIL("bad_deal", "RECEIVED %d cards, not 3", popcount(m));
        if (m & v->hand_before_pass)
            FAIL("dup_card", "RECEIVED %s, which I held",
                 mask_text(m & v->hand_before_pass));
        v->received = m;
        v->got_received = 1;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "TURN")) {
        if (n < 3 || (s = parse_int(w[2], 0, 3)) < 0)
            FAIL("bad_turn", "TURN: bad seat");
        if (v->pass_due && v->got_received != 2)
            FAIL("bad_order", "TURN %d before the pass is complete", s);
        if (v->n_tricks == 0 && v->n_trick == 0 &&
            ((v->hand & BIT(TWO_C)) != 0) != (s == v->me))
            FAIL("bad_turn", "first TURN to seat %d; the 2c is %s", s,
                 v->hand & BIT(TWO_C) ? "mine" : "not mine");
        return on_turn(v, s, ERRPASS);
    }
    if (!strcmp(verb, "PLAYED")) {
        if (n != 4 || (s = parse_int(w[2], 0, 3)) < 0)
            FAIL("bad_play", "PLAYED: bad seat or arguments");
        if (on_played(v, s, w[3], &c, ERRPASS))
            return -1;
        if (v->n_tricks == 0 && v->n_trick == 0 && c != TWO_C)
            FAIL("impossible_play", "seat %d led %s, not 2c", s, w[3]);
        if (v->n_trick == 0) {
            v->leader = s; /* the first trick's leader held the 2c */
            if (SUIT(c) == 2 && !v->broken)
                v->cannot[s] |= DECK52 & ~HEARTS; /* only hearts left */
        } else {
            int led = SUIT(v->trick[0]);
            if (SUIT(c) != led)
                v->cannot[s] |= SUIT_MASK(led);
            if (SUIT(c) != led && v->n_tricks == 0 && (SUIT(c) == 2 || c == QS))
                v->cannot[s] |= DECK52 & ~(HEARTS | BIT(QS));
        }
        if (SUIT(c) == 2)
            v->broken = 1;
        v->trick[v->n_trick++] = c;
        v->turn = (s + 1) % 4;
        if (v->n_trick == 4) {
            v->want_trick = 1;
            v->turn = -1;
        }
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "TRICK")) {
        int win = 0, sum = 0, p;
        if (!v->want_trick)
            FAIL("bad_order", "TRICK before the trick is complete");
        if (n != 4 || (s = parse_int(w[2], 0, 3)) < 0 ||
            (p = parse_int(w[3], 0, 26)) < 0)
            FAIL("bad_trick", "TRICK: bad arguments");
        for (int i = 0; i < 4; i++) {
            int a = v->trick[i], b = v->trick[win];
            sum += (SUIT(a) == 2) + 13 * (a == QS);
            if (SUIT(a) == SUIT(b) && hearts_value(a) > hearts_value(b))
                win = i;
        }
        win = (v->leader + win) % 4;
        if (s != win || p != sum)
            FAIL("bad_trick",
                 "TRICK %d %d, but the cards give seat %d %d points", s, p, win,
                 sum);
        v->points[s] += p;
        v->n_tricks++;
        v->n_trick = 0;
        v->want_trick = 0;
        v->leader = v->turn = s;
        if (v->n_tricks == 13)
            v->want_score = 1;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "SCORE")) {
        int moon = -1;
        if (!v->want_score)
            FAIL("bad_order", "SCORE before the hand's last trick");
        if (n != 6)
            FAIL("bad_score", "SCORE with %d totals", n - 2);
        for (int i = 0; i < 4; i++)
            if (v->points[i] == 26)
                moon = i;
        for (int i = 0; i < 4; i++)
            v->totals[i] += moon < 0 ? v->points[i] : i == moon ? 0 : 26;
        for (int i = 0; i < 4; i++)
            if (parse_int(w[2 + i], 0, 1000000) != v->totals[i])
                FAIL("bad_score", "SCORE gives seat %d %s; the tricks make %d",
                     i, w[2 + i], v->totals[i]);
        v->over_due = 0;
        for (int i = 0; i < 4; i++)
            v->over_due |= v->totals[i] >= 100;
        v->scored = 1;
        v->want_score = 0;
        return NEED_NOTHING;
    }
    if (!strcmp(verb, "END")) {
        int pts[MAX_SEATS], low = 0, n_low = 0;
        char res[16];
        if (parse_end(v, w, n, pts, ERRPASS))
            return -1;
        if (!v->scored || !v->over_due)
            FAIL("bad_end", "END before any total reached 100");
        for (int i = 0; i < 4; i++) {
            if (pts[i] != v->totals[i])
                FAIL("bad_end", "END gives seat %d %d; the totals are %d", i,
                     pts[i], v->totals[i]);
            if (v->totals[i] < v->totals[low])
                low = i;
        }
        for (int i = 0; i < 4; i++)
            n_low += v->totals[i] == v->totals[low];
        if (n_low > 1)
            snprintf(res, sizeof res, "draw");
        else
            snprintf(res, sizeof res, "seat%d", low);
        if (strcmp(w[2], res))
            FAIL("bad_end", "END result %s, but the totals say %s", w[2], res);
        return NEED_OVER;
    }
    return NEED_NOTHING;
}

/* ---------- the interface ---------- */

void view_start(struct view *v, int game, int n_seats, int me, int version)
{
    memset(v, 0, sizeof *v);
    v->game = game;
    v->n_seats = n_seats;
    v->me = me;
    v->version = version;
    v->turn_open = -1;
    v->trump = v->sent_card = NO_CARD;
    v->trump_holder = v->last_capturer = v->pend_seat = -1;
    if (game == G_BRISCOLA) {
        v->hand_no = 1;
        v->turn = v->leader = 0;
        for (int i = 0; i < n_seats; i++)
            v->hand_size[i] = 3;
    } else {
        v->turn = -1;
    }
}

int view_event(struct view *v, char **w, int n, char *err, size_t err_cap,
               const char **err_kind)
{
    if (!strcmp(w[0], "TIMEOUT"))
        FAIL("timeout", "TIMEOUT for seat %s: the server played for it",
             n > 2 ? w[2] : "?");
    if (v->game == G_BRISCOLA)
        return briscola_event(v, w, n, ERRPASS);
    if (v->game == G_SCOPA)
        return scopa_event(v, w, n, ERRPASS);
    return hearts_event(v, w, n, ERRPASS);
}

static uint64_t hearts_legal(const struct view *v)
{
    uint64_t h = v->hand, f;

    if (v->n_tricks == 0 && v->n_trick == 0)
        return h & BIT(TWO_C);
    if (v->n_trick == 0)
        return !v->broken && (h & ~HEARTS) ? h & ~HEARTS : h;
    if ((f = h & SUIT_MASK(SUIT(v->trick[0]))))
        return f;
    if (v->n_tricks == 0 && (h & ~(HEARTS | BIT(QS))))
        return h & ~(HEARTS | BIT(QS));
    return h;
}

int view_move(struct view *v, int need, uint64_t *rng, char *out, size_t cap)
{
    size_t len;
    char t[3];
    int c;

    if (need == NEED_PASS) {
        uint64_t m = 0, left = v->hand;
        len = (size_t)snprintf(out, cap, "PASS");
        for (int i = 0; i < 3; i++) {
            c = random_card(left, rng);
            if (c == NO_CARD)
                return -1;
            left &= ~BIT(c);
            m |= BIT(c);
            card_text(c, t);
            len += (size_t)snprintf(out + len, cap - len, " %s", t);
        }
        v->pass_cards = m;
        v->hand_before_pass = v->hand;
        return (int)len;
    }
    c = random_card(v->game == G_HEARTS ? hearts_legal(v) : v->hand, rng);
    if (c == NO_CARD)
        return -1;
    v->sent_card = c;
    card_text(c, t);
    if (cap < 8)
        return -1;
    memcpy(out, "PLAY ", 5);
    memcpy(out + 5, t, 3); /* the code and its NUL */
    len = 7;
    v->sent_takes = 0;
    if (v->game == G_SCOPA) {
        v->sent_takes = scopa_capture(v->table, c);
        for (uint64_t m = v->sent_takes; m; m &= m - 1) {
            card_text(__builtin_ctzll(m), t);
            len += (size_t)snprintf(out + len, cap - len, " %s", t);
        }
    }
    return (int)len;
}

const char *view_waiting(const struct view *v)
{
    if (v->want_trick)
        return "TRICK after the trick's last PLAYED";
    if (v->want_draw)
        return "DRAW after TRICK";
    if (v->want_hand)
        return "HAND for the next deal";
    if (v->want_score)
        return "SCORE after the hand's last card";
    if (v->turn_open >= 0)
        return "PLAYED after TURN (a dropped move?)";
    if (v->pass_due && v->passed && v->got_received != 2)
        return "RECEIVED/HAND after PASS";
    return "TURN after PLAYED (a dropped move?)";
}
