/*
 * hearts: see hearts.h; the rules are PROTOCOL §12, written out with this
 * server's choices in docs/rules/hearts.md.
 *
 * Life of a hand: deal() gives seat i the cards deck[13i..13i+12] and
 * opens the pass (hands 1, 2, 3 of every four) or the play (hand 4).
 * While passing, every seat that has not passed owes a PASS; the last
 * one moves all twelve cards at once. Then the holder of 2c leads it,
 * and thirteen tricks follow, each led by the winner of the one before.
 * After the last trick the hand is scored (shooting the moon included)
 * into the match totals, and the match is over once a total reaches 100.
 *
 * Which cards a seat may play is one function, legal_set(): check(),
 * legal_moves() and auto_move() all go through it, so they cannot
 * disagree.
 */
#include "game/hearts.h"

#include <assert.h>
#include <string.h>

_Static_assert(sizeof(struct hearts) == 168,
               "struct hearts has padding the code does not zero");

#define TWO_CLUBS ((card_t)(SUIT_C * CARD_N_RANKS + RANK_2))
#define QUEEN_SPADES ((card_t)(SUIT_S * CARD_N_RANKS + RANK_Q))
#define KING_SPADES ((card_t)(SUIT_S * CARD_N_RANKS + RANK_K))
#define ACE_SPADES ((card_t)(SUIT_S * CARD_N_RANKS + RANK_A))
#define ALL_SEATS ((1u << HEARTS_SEATS) - 1)
#define ALL_CARDS ((UINT64_C(1) << HEARTS_DECK) - 1)

static inline uint64_t bit(card_t c)
{
    return UINT64_C(1) << c;
}

static inline uint64_t suit_set(unsigned suit)
{
    return UINT64_C(0x1FFF) << (suit * CARD_N_RANKS);
}

static inline unsigned n_cards(uint64_t set)
{
    return (unsigned)__builtin_popcountll(set);
}

/* The card of a suit at a strength (0 = the 2 ... 12 = the ace). */
static inline card_t card_at(unsigned suit, unsigned strength)
{
    return card_make((strength + 1) % CARD_N_RANKS, suit);
}

unsigned hearts_card_points(card_t c)
{
    if (c == QUEEN_SPADES)
        return 13;
    return card_suit(c) == SUIT_H ? 1 : 0;
}

unsigned hearts_trick_winner(const card_t *cards, unsigned n)
{
    unsigned best = 0;

    for (unsigned i = 1; i < n; i++)
        if (card_suit(cards[i]) == card_suit(cards[0]) &&
            hearts_strength(cards[i]) > hearts_strength(cards[best]))
            best = i;
    return best;
}

unsigned hearts_pass_offset(unsigned hand)
{
    static const unsigned offset[4] = {0, 1, 3, 2}; /* by hand mod 4 */
    return offset[hand % 4];
}

void hearts_hand_score(const unsigned taken[HEARTS_SEATS],
                       unsigned score[HEARTS_SEATS])
{
    for (unsigned s = 0; s < HEARTS_SEATS; s++) {
        if (taken[s] == HEARTS_MOON) {
            for (unsigned t = 0; t < HEARTS_SEATS; t++)
                score[t] = t == s ? 0 : HEARTS_MOON;
            return;
        }
    }
    for (unsigned s = 0; s < HEARTS_SEATS; s++)
        score[s] = taken[s];
}

int hearts_lowest(const unsigned totals[HEARTS_SEATS], unsigned skip)
{
    int best = RULES_DRAW;
    unsigned n_best = 0;

    for (unsigned s = 0; s < HEARTS_SEATS; s++) {
        if (s == skip)
            continue;
        if (best == RULES_DRAW || totals[s] < totals[best]) {
            best = (int)s;
            n_best = 1;
        } else if (totals[s] == totals[best]) {
            n_best++;
        }
    }
    return n_best == 1 ? best : RULES_DRAW;
}

unsigned hearts_danger(card_t c)
{
    unsigned below_ace = 12 - hearts_strength(c); /* 0 for an ace */

    if (c == QUEEN_SPADES)
        return 0;
    if (c == ACE_SPADES)
        return 1;
    if (c == KING_SPADES)
        return 2;
    if (card_suit(c) == SUIT_H)
        return 3 + below_ace; /* 3 .. 15 */
    /* Clubs, diamonds, spades at the same strength, in that order. */
    return 16 + below_ace * 3 + (card_suit(c) == SUIT_S ? 2 : card_suit(c));
}

/* Writes the cards of set in the hand order (suits c d h s, each from 2
 * up to A); returns how many. Within a suit the ace is the lowest bit, so
 * it comes after the bits above it. */
static unsigned set_cards(uint64_t set, card_t *out)
{
    unsigned n = 0;

    for (unsigned su = 0; su < CARD_N_SUITS; su++) {
        unsigned base = su * CARD_N_RANKS;
        uint64_t m = (set >> base) & 0x1FFF;
        for (uint64_t up = m & ~UINT64_C(1); up != 0; up &= up - 1)
            out[n++] = (card_t)(base + (unsigned)__builtin_ctzll(up));
        if (m & 1)
            out[n++] = (card_t)base; /* the ace */
    }
    return n;
}

static unsigned holder_of(const struct hearts *h, card_t c)
{
    for (unsigned s = 0; s < HEARTS_SEATS; s++)
        if (h->hand[s] & bit(c))
            return s;
    assert(!"every card is in some hand at the start of play");
    return 0;
}

/* The cards seat may play now (PLAYING, its turn), by PROTOCOL §12. */
static uint64_t legal_set(const struct hearts *h, unsigned seat)
{
    uint64_t hand = h->hand[seat];
    bool is_first = h->n_tricks == 0;

    if (h->n_trick == 0) {
        /* Only the holder of 2c leads the first trick, and with 2c. */
        if (is_first)
            return hand & bit(TWO_CLUBS);
        uint64_t not_hearts = hand & ~suit_set(SUIT_H);
        if (!h->is_broken && not_hearts)
            return not_hearts;
        return hand;
    }
    uint64_t follow = hand & suit_set(card_suit(h->trick_card[0]));
    if (follow)
        return follow;
    if (is_first) {
        /* No points on the first trick unless the hand holds nothing
         * else. */
        uint64_t safe = hand & ~(suit_set(SUIT_H) | bit(QUEEN_SPADES));
        if (safe)
            return safe;
    }
    return hand;
}

static void init(void *state, unsigned n_seats)
{
    struct hearts *h = state;

    assert(n_seats == HEARTS_SEATS);
    (void)n_seats;
    /* All of it, padding included: replays compare states bytewise. */
    memset(h, 0, sizeof *h);
    h->phase = HEARTS_IDLE;
}

static void deal(void *state, unsigned hand, const card_t *deck)
{
    struct hearts *h = state;
    uint64_t all = 0;

    assert(h->phase == HEARTS_IDLE && hand >= 1);
    h->hand_no = hand;
    for (unsigned s = 0; s < HEARTS_SEATS; s++) {
        h->hand[s] = 0;
        for (unsigned i = 0; i < HEARTS_HAND; i++)
            h->hand[s] |= bit(deck[HEARTS_HAND * s + i]);
        all |= h->hand[s];
        h->taken[s] = h->passing[s] = h->received[s] = 0;
        h->points[s] = 0;
        h->trick_seat[s] = h->trick_card[s] = 0;
    }
    assert(all == ALL_CARDS); /* 52 distinct cards */
    (void)all;
    h->n_trick = h->n_tricks = 0;
    h->passed = 0;
    h->is_broken = 0;
    if (hearts_pass_offset(hand) != 0) {
        h->phase = HEARTS_PASSING;
        h->turn = 0;
    } else {
        h->phase = HEARTS_PLAYING;
        h->turn = (uint8_t)holder_of(h, TWO_CLUBS);
    }
}

static unsigned to_move(const void *state, enum rules_move_kind *kind)
{
    const struct hearts *h = state;
    enum rules_move_kind k = MOVE_PLAY;
    unsigned mask = 0;

    if (h->phase == HEARTS_PASSING) {
        k = MOVE_PASS;
        mask = ALL_SEATS & ~(unsigned)h->passed;
    } else if (h->phase == HEARTS_PLAYING) {
        mask = 1u << h->turn;
    }
    if (kind != NULL)
        *kind = k;
    return mask;
}

/* Copies a reason for BADARG into why (NUL-terminated, cap bytes). */
static enum rules_verdict bad(char *why, size_t cap, const char *text)
{
    if (why != NULL && cap > 0) {
        size_t n = strlen(text);
        if (n >= cap)
            n = cap - 1;
        memcpy(why, text, n);
        why[n] = '\0';
    }
    return RULES_BADARG;
}

/* Checks, in the order of docs/rules/hearts.md: the move's form (BADARG),
 * then whose move it is (NOTYOURTURN, ALREADY), then the cards
 * (NOTINHAND, ILLEGAL). */
static enum rules_verdict check(const void *state, unsigned seat,
                                struct rules_move *mv, char *why,
                                size_t why_cap)
{
    const struct hearts *h = state;
    uint64_t set = 0;

    if (mv->kind != MOVE_PLAY && mv->kind != MOVE_PASS)
        return bad(why, why_cap, "not a hearts move");
    if (mv->kind == MOVE_PLAY && mv->n != 1)
        return bad(why, why_cap, "play one card");
    if (mv->kind == MOVE_PASS && mv->n != RULES_PASS_CARDS)
        return bad(why, why_cap, "pass three cards");
    for (unsigned i = 0; i < mv->n; i++) {
        if (mv->cards[i] >= HEARTS_DECK)
            return bad(why, why_cap, "not a card");
        if (set & bit(mv->cards[i]))
            return bad(why, why_cap, "pass three different cards");
        set |= bit(mv->cards[i]);
    }
    if (seat >= HEARTS_SEATS)
        return RULES_NOTYOURTURN;

    if (mv->kind == MOVE_PASS) {
        if (h->phase != HEARTS_PASSING)
            return RULES_NOTYOURTURN;
        if (h->passed & (1u << seat))
            return RULES_ALREADY;
        if ((h->hand[seat] & set) != set)
            return RULES_NOTINHAND;
        return RULES_OK;
    }
    if (h->phase != HEARTS_PLAYING || seat != h->turn)
        return RULES_NOTYOURTURN;
    if (!(h->hand[seat] & set))
        return RULES_NOTINHAND;
    if (!(legal_set(h, seat) & set))
        return RULES_ILLEGAL;
    return RULES_OK;
}

static void apply_pass(struct hearts *h, unsigned seat,
                       const struct rules_move *mv, struct rules_outcome *out)
{
    uint64_t set = 0;

    for (unsigned i = 0; i < RULES_PASS_CARDS; i++)
        set |= bit(mv->cards[i]);
    assert(h->phase == HEARTS_PASSING && !(h->passed & (1u << seat)));
    assert(n_cards(set) == RULES_PASS_CARDS && (h->hand[seat] & set) == set);
    h->passing[seat] = set;
    h->passed |= (uint8_t)(1u << seat);
    if (h->passed != ALL_SEATS)
        return;

    /* Every seat has chosen: the cards move at once, so nobody passes
     * on a card it was passed. */
    unsigned off = hearts_pass_offset(h->hand_no);
    for (unsigned s = 0; s < HEARTS_SEATS; s++)
        h->hand[s] &= ~h->passing[s];
    for (unsigned s = 0; s < HEARTS_SEATS; s++) {
        unsigned to = (s + off) % HEARTS_SEATS;
        h->received[to] = h->passing[s];
        h->hand[to] |= h->passing[s];
    }
    h->phase = HEARTS_PLAYING;
    h->turn = (uint8_t)holder_of(h, TWO_CLUBS);
    out->is_pass_done = true;
}

static void end_hand(struct hearts *h, struct rules_outcome *out)
{
    unsigned taken[HEARTS_SEATS], score[HEARTS_SEATS];
    bool is_over = false;

    for (unsigned s = 0; s < HEARTS_SEATS; s++)
        taken[s] = h->points[s];
    hearts_hand_score(taken, score);
    for (unsigned s = 0; s < HEARTS_SEATS; s++) {
        h->totals[s] = (uint16_t)(h->totals[s] + score[s]);
        if (h->totals[s] >= HEARTS_TARGET)
            is_over = true;
    }
    h->phase = is_over ? HEARTS_OVER : HEARTS_IDLE;
    out->is_hand_over = true;
    out->is_over = is_over;
}

static void apply_play(struct hearts *h, unsigned seat, card_t c,
                       struct rules_outcome *out)
{
    assert(h->phase == HEARTS_PLAYING && seat == h->turn);
    assert(legal_set(h, seat) & bit(c));
    h->hand[seat] &= ~bit(c);
    h->trick_seat[h->n_trick] = (uint8_t)seat;
    h->trick_card[h->n_trick] = c;
    h->n_trick++;
    if (card_suit(c) == SUIT_H)
        h->is_broken = 1; /* Qs does not break hearts (PROTOCOL §12) */
    if (h->n_trick < HEARTS_SEATS) {
        h->turn = (uint8_t)((seat + 1) % HEARTS_SEATS);
        return;
    }

    unsigned winner =
        h->trick_seat[hearts_trick_winner(h->trick_card, HEARTS_SEATS)];
    unsigned pts = 0;
    for (unsigned i = 0; i < HEARTS_SEATS; i++) {
        pts += hearts_card_points(h->trick_card[i]);
        h->taken[winner] |= bit(h->trick_card[i]);
        /* Cleared, so equal positions are equal states. */
        h->trick_seat[i] = h->trick_card[i] = 0;
    }
    h->points[winner] = (uint16_t)(h->points[winner] + pts);
    h->n_trick = 0;
    h->n_tricks++;
    h->turn = (uint8_t)winner;
    out->trick_done = true;
    out->trick_winner = winner;
    out->trick_points = pts;
    if (h->n_tricks == HEARTS_HAND)
        end_hand(h, out);
}

static void apply(void *state, unsigned seat, const struct rules_move *mv,
                  struct rules_outcome *out)
{
    struct hearts *h = state;

    memset(out, 0, sizeof *out);
    assert(seat < HEARTS_SEATS);
    if (mv->kind == MOVE_PASS)
        apply_pass(h, seat, mv, out);
    else
        apply_play(h, seat, mv->cards[0], out);
}

static unsigned legal_moves(const void *state, unsigned seat,
                            struct rules_move *out, unsigned cap)
{
    const struct hearts *h = state;
    card_t cards[HEARTS_HAND];

    if (h->phase != HEARTS_PLAYING || seat != h->turn)
        return 0; /* not enumerated while passing (rules.h) */
    unsigned n = set_cards(legal_set(h, seat), cards);
    for (unsigned i = 0; i < n && i < cap; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].kind = MOVE_PLAY;
        out[i].n = 1;
        out[i].cards[0] = cards[i];
    }
    return n;
}

/* The most dangerous card of set (hearts_danger); set is not empty. */
static card_t most_dangerous(uint64_t set)
{
    card_t best = CARD_NONE;
    unsigned best_danger = HEARTS_DECK * 2;

    for (; set != 0; set &= set - 1) {
        card_t c = (card_t)__builtin_ctzll(set);
        if (hearts_danger(c) < best_danger) {
            best = c;
            best_danger = hearts_danger(c);
        }
    }
    return best;
}

/* The weakest card of set, the first of the suits c d h s on a tie; set
 * is not empty. */
static card_t weakest(uint64_t set)
{
    for (unsigned k = 0; k < CARD_N_RANKS; k++)
        for (unsigned su = 0; su < CARD_N_SUITS; su++)
            if (set & bit(card_at(su, k)))
                return card_at(su, k);
    return CARD_NONE;
}

/* Timed out (PROTOCOL §12; docs/rules/hearts.md "Auto-move"): pass the
 * three most dangerous cards; lead or follow with the weakest legal
 * card; when void in the suit led, discard the most dangerous legal one.
 */
static void auto_move(const void *state, unsigned seat, struct rules_move *out)
{
    const struct hearts *h = state;

    memset(out, 0, sizeof *out);
    assert(seat < HEARTS_SEATS);
    if (h->phase == HEARTS_PASSING) {
        uint64_t left = h->hand[seat];
        out->kind = MOVE_PASS;
        out->n = RULES_PASS_CARDS;
        for (unsigned i = 0; i < RULES_PASS_CARDS; i++) {
            out->cards[i] = most_dangerous(left);
            left &= ~bit(out->cards[i]);
        }
        return;
    }
    assert(h->phase == HEARTS_PLAYING && seat == h->turn);
    uint64_t legal = legal_set(h, seat);
    bool is_void =
        h->n_trick > 0 && !(legal & suit_set(card_suit(h->trick_card[0])));
    out->kind = MOVE_PLAY;
    out->n = 1;
    out->cards[0] = is_void ? most_dangerous(legal) : weakest(legal);
}

static unsigned hand(const void *state, unsigned seat, card_t *out)
{
    const struct hearts *h = state;
    return set_cards(h->hand[seat], out);
}

static card_t trump(const void *state)
{
    (void)state;
    return CARD_NONE;
}

static unsigned table(const void *state, card_t *out)
{
    (void)state;
    (void)out;
    return 0;
}

static unsigned trick(const void *state, unsigned *seats, card_t *cards)
{
    const struct hearts *h = state;

    for (unsigned i = 0; i < h->n_trick; i++) {
        seats[i] = h->trick_seat[i];
        cards[i] = h->trick_card[i];
    }
    return h->n_trick;
}

static unsigned hand_no(const void *state)
{
    return ((const struct hearts *)state)->hand_no;
}

static bool has_passed(const void *state, unsigned seat)
{
    return (((const struct hearts *)state)->passed >> seat) & 1u;
}

static unsigned received(const void *state, unsigned seat, card_t *out)
{
    const struct hearts *h = state;
    return set_cards(h->received[seat], out); /* 0 until all have passed */
}

static const char *pass_dir(const void *state)
{
    static const char *const dir[4] = {NULL, "left", "across", "right"};
    const struct hearts *h = state;

    /* NULL unless a pass is under way: the engine may test this alone. */
    if (h->phase != HEARTS_PASSING)
        return NULL;
    return dir[hearts_pass_offset(h->hand_no)];
}

static void totals(const void *state, unsigned *per_seat)
{
    const struct hearts *h = state;
    for (unsigned s = 0; s < HEARTS_SEATS; s++)
        per_seat[s] = h->totals[s];
}

static unsigned side_of(const void *state, unsigned seat)
{
    (void)state;
    return seat; /* every seat for itself */
}

static int result(const void *state)
{
    unsigned t[HEARTS_SEATS];
    totals(state, t);
    return hearts_lowest(t, HEARTS_SEATS);
}

static int forfeit_result(const void *state, unsigned seat)
{
    unsigned t[HEARTS_SEATS];
    totals(state, t);
    return hearts_lowest(t, seat);
}

const struct rules hearts_rules = {
    .name = "hearts",
    .seat_counts = {4, 0, 0, 0},
    .state_size = sizeof(struct hearts),
    .deck_size = HEARTS_DECK,
    .is_teams = false,
    .is_multi_hand = true,
    .has_trump = false,
    .has_table = false,
    .init = init,
    .deal = deal,
    .to_move = to_move,
    .check = check,
    .apply = apply,
    .legal_moves = legal_moves,
    .auto_move = auto_move,
    .hand = hand,
    .trump = trump,
    .table = table,
    .trick = trick,
    .hand_no = hand_no,
    .has_passed = has_passed,
    .received = received,
    .pass_dir = pass_dir,
    .totals = totals,
    .end_points = totals, /* END's points are the match totals (§12) */
    .side_of = side_of,
    .result = result,
    .forfeit_result = forfeit_result,
};
