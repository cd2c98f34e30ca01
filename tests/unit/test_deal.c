/* Unit tests for game/deal and the canonical deck: the known answers of
 * PROTOCOL §13, what the key depends on, the rejection bound of
 * uniform(n), chi-squared tests of card positions (10^6 shuffles of the
 * algorithm, 2 * 10^5 of the real HMAC stream, and proof that the same
 * statistic catches two classic biased shuffles), the hex helpers, and
 * deal.c's HMAC-SHA256 over libcrypto against libsodium's on random
 * inputs. */
#include <sodium.h>

#include "check.h"
#include "game/deal.h"
#include "game/rules.h"

/* S = 00 01 02 ... 1f, the secret of §13's known answers. */
static void counting_secret(uint8_t s[DEAL_SECRET_LEN])
{
    for (unsigned i = 0; i < DEAL_SECRET_LEN; i++)
        s[i] = (uint8_t)i;
}

/* The deck as space-separated codes, for comparing with §13's text. */
static void deck_text(const card_t *deck, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++) {
        card_format(deck[i], out);
        out[2] = i + 1 < n ? ' ' : '\0';
        out += 3;
    }
}

static void dealt(const char *game, const char *const *seeds, unsigned n_seats,
                  uint32_t hand, card_t deck[40])
{
    uint8_t s[DEAL_SECRET_LEN], k[DEAL_KEY_LEN];

    counting_secret(s);
    deal_key(s, game, n_seats, seeds, k);
    rules_canonical_deck(40, deck);
    deal_shuffle(k, hand, deck, 40);
}

/* ---- known answers (PROTOCOL §13) ---- */

TEST(commit_known_answer)
{
    uint8_t s[DEAL_SECRET_LEN];
    char hex[DEAL_HEX_LEN + 1];

    counting_secret(s);
    deal_commit_hex(s, hex);
    CHECK_STR(hex, "584cf6db9210672e9eb34e59c81d94b0"
                   "76a334b2f58b4912f6b42b1762095fe5");
}

TEST(briscola_known_answer)
{
    const char *seeds[] = {"00ff", ""};
    card_t deck[40];
    char text[120];

    dealt("briscola", seeds, 2, 1, deck);
    deck_text(deck, 40, text);
    CHECK_STR(text, "4c 5h Ac Ad Ah As 3h Kh Kd 2d Kc 7s Qh Js 2c 5s Qc 5d "
                    "3s Qd 4h 6d Ks 6s 7h 3c 7c Jd 4s 7d Jh 6h 2s 3d 2h Jc "
                    "5c 4d 6c Qs");
}

TEST(scopa_known_answer)
{
    const char *seeds[] = {"c0ffee", "1234"};
    card_t deck[40];
    char text[120];

    dealt("scopa", seeds, 2, 2, deck);
    deck_text(deck, 40, text);
    CHECK_STR(text, "7d 4c 7c 7h 5s Jh Jd 2c Qh 6s 2d 3h Ac Kh 6d Ks Ah 6c "
                    "Kd As 2s 3d 4d 4h Qd 4s Js 6h 5d Jc 5c 3s Qs Ad 2h 5h "
                    "Qc 3c 7s Kc");
}

TEST(canonical_decks)
{
    card_t deck[52];
    char text[160];

    rules_canonical_deck(40, deck);
    deck_text(deck, 40, text);
    CHECK_STR(text, "Ac 2c 3c 4c 5c 6c 7c Jc Qc Kc Ad 2d 3d 4d 5d 6d 7d Jd "
                    "Qd Kd Ah 2h 3h 4h 5h 6h 7h Jh Qh Kh As 2s 3s 4s 5s 6s "
                    "7s Js Qs Ks");
    rules_canonical_deck(52, deck);
    for (unsigned i = 0; i < 52; i++)
        CHECK_INT(deck[i], i); /* card_t is suit * 13 + rank, A..K */
}

/* ---- what the deck depends on ---- */

static int same_deck(const card_t *a, const card_t *b)
{
    return memcmp(a, b, 40) == 0;
}

TEST(a_different_seed_changes_the_deck)
{
    const char *base[] = {"00ff", ""};
    const char *other[] = {"00fe", ""};  /* one bit of seat 0's seed */
    const char *second[] = {"00ff", "0"}; /* seat 1 sets a seed */
    card_t a[40], b[40];

    dealt("briscola", base, 2, 1, a);
    dealt("briscola", other, 2, 1, b);
    CHECK(!same_deck(a, b));
    dealt("briscola", second, 2, 1, b);
    CHECK(!same_deck(a, b));
    dealt("briscola", base, 2, 1, b); /* and the same seeds the same deck */
    CHECK(same_deck(a, b));
}

TEST(key_binds_seats_lengths_game_and_secret)
{
    const char *ab[] = {"abc", "d"}, *cd[] = {"ab", "cd"};
    const char *swap1[] = {"00ff", ""}, *swap2[] = {"", "00ff"};
    const char *none[] = {"", "", "", ""};
    uint8_t s[DEAL_SECRET_LEN], k1[DEAL_KEY_LEN], k2[DEAL_KEY_LEN];

    counting_secret(s);
    /* The length bytes keep the seats' seeds apart. */
    deal_key(s, "scopa", 2, ab, k1);
    deal_key(s, "scopa", 2, cd, k2);
    CHECK(memcmp(k1, k2, sizeof k1) != 0);
    /* A seed belongs to its seat. */
    deal_key(s, "scopa", 2, swap1, k1);
    deal_key(s, "scopa", 2, swap2, k2);
    CHECK(memcmp(k1, k2, sizeof k1) != 0);
    /* The game's name and the seat count. */
    deal_key(s, "briscola", 2, none, k1);
    deal_key(s, "scopa", 2, none, k2);
    CHECK(memcmp(k1, k2, sizeof k1) != 0);
    deal_key(s, "briscola", 4, none, k2);
    CHECK(memcmp(k1, k2, sizeof k1) != 0);
    /* The secret. */
    s[31] ^= 1;
    deal_key(s, "briscola", 2, none, k2);
    CHECK(memcmp(k1, k2, sizeof k1) != 0);
}

TEST(each_hand_has_its_own_deck)
{
    const char *seeds[] = {"c0ffee", "1234"};
    card_t a[40], b[40];

    dealt("scopa", seeds, 2, 1, a);
    dealt("scopa", seeds, 2, 2, b);
    CHECK(!same_deck(a, b));
}

TEST(shuffle_is_a_permutation)
{
    uint8_t k[DEAL_KEY_LEN] = {7};
    card_t deck[52];

    for (uint32_t h = 1; h <= 1000; h++) {
        unsigned seen[52] = {0};
        rules_canonical_deck(52, deck);
        deal_shuffle(k, h, deck, 52);
        for (unsigned i = 0; i < 52; i++) {
            CHECK(deck[i] < 52);
            seen[deck[i]]++;
        }
        for (unsigned c = 0; c < 52; c++)
            CHECK_INT(seen[c], 1);
    }
}

/* ---- libcrypto (deal.c) against libsodium, on random inputs ---- */

/* §13 written again over libsodium's SHA-256 and HMAC-SHA256 (what
 * deal.c was before it used libcrypto): the reference. */
static void ref_commit_hex(const uint8_t secret[DEAL_SECRET_LEN], char out[DEAL_HEX_LEN + 1])
{
    crypto_hash_sha256_state st;
    uint8_t d[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)"tavolo-commit-1", 15);
    crypto_hash_sha256_update(&st, secret, DEAL_SECRET_LEN);
    crypto_hash_sha256_final(&st, d);
    deal_to_hex(d, sizeof d, out);
}

static void ref_key(const uint8_t secret[DEAL_SECRET_LEN], const char *game,
                    unsigned n_seats, const char *const *seeds, uint8_t key[DEAL_KEY_LEN])
{
    crypto_auth_hmacsha256_state st;
    uint8_t b;

    crypto_auth_hmacsha256_init(&st, secret, DEAL_SECRET_LEN);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)"tavolo-deal-1", 13);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)game, strlen(game));
    b = 0;
    crypto_auth_hmacsha256_update(&st, &b, 1);
    b = (uint8_t)n_seats;
    crypto_auth_hmacsha256_update(&st, &b, 1);
    for (unsigned i = 0; i < n_seats; i++) {
        b = (uint8_t)strlen(seeds[i]);
        crypto_auth_hmacsha256_update(&st, &b, 1);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)seeds[i], b);
    }
    crypto_auth_hmacsha256_final(&st, key);
}

struct ref_stream {
    const uint8_t *key;
    uint32_t hand, next_block;
    uint8_t block[32];
    unsigned used;
    unsigned n_blocks;
};

static uint64_t ref_word(void *ctx)
{
    struct ref_stream *s = ctx;

    if (s->used == sizeof s->block) {
        uint8_t msg[12] = {'h', 'a', 'n', 'd'};
        for (int i = 0; i < 4; i++) {
            msg[4 + i] = (uint8_t)(s->hand >> (24 - 8 * i));
            msg[8 + i] = (uint8_t)(s->next_block >> (24 - 8 * i));
        }
        s->next_block++;
        s->n_blocks++;
        crypto_auth_hmacsha256(s->block, msg, sizeof msg, s->key);
        s->used = 0;
    }
    uint64_t w = 0;
    for (int i = 0; i < 8; i++)
        w = w << 8 | s->block[s->used + i];
    s->used += 8;
    return w;
}

static uint32_t rnd_below(uint32_t n)
{
    return randombytes_uniform(n);
}

TEST(libcrypto_hmac_matches_libsodium_on_random_inputs)
{
    static const char *const games[] = {"briscola", "scopa", "hearts", "", "x"};
    unsigned n_blocks_max = 0;

    CHECK(sodium_init() >= 0);
    for (unsigned iter = 0; iter < 2000; iter++) {
        uint8_t secret[DEAL_SECRET_LEN], k1[DEAL_KEY_LEN], k2[DEAL_KEY_LEN];
        char c1[DEAL_HEX_LEN + 1], c2[DEAL_HEX_LEN + 1];
        char seed_text[8][DEAL_SEED_MAX + 1];
        const char *seeds[8];
        unsigned n_seats = 1 + rnd_below(8);

        randombytes_buf(secret, sizeof secret);
        deal_commit_hex(secret, c1);
        ref_commit_hex(secret, c2);
        CHECK_STR(c1, c2);
        for (unsigned i = 0; i < n_seats; i++) {
            unsigned len = rnd_below(DEAL_SEED_MAX + 1); /* 0: no seed */
            for (unsigned j = 0; j < len; j++)
                seed_text[i][j] = "0123456789abcdef"[rnd_below(16)];
            seed_text[i][len] = '\0';
            seeds[i] = seed_text[i];
        }
        const char *game = games[rnd_below(5)];
        deal_key(secret, game, n_seats, seeds, k1);
        ref_key(secret, game, n_seats, seeds, k2);
        CHECK(memcmp(k1, k2, sizeof k1) == 0);
        /* Any key (not only a derived one), any hand, any deck size:
         * up to 52 cards, many blocks of the stream. */
        if (iter % 2)
            randombytes_buf(k1, sizeof k1);
        uint32_t hand = iter % 3 ? randombytes_random() : 1 + iter % 7;
        unsigned n = 1 + rnd_below(52);
        card_t a[52], b[52];
        rules_canonical_deck(n > 40 ? 52 : 40, a);
        memcpy(b, a, sizeof a);
        deal_shuffle(k1, hand, a, n);
        struct ref_stream rs = {.key = k1, .hand = hand, .used = 32};
        deal_shuffle_words(b, n, ref_word, &rs);
        CHECK(memcmp(a, b, n * sizeof a[0]) == 0);
        if (rs.n_blocks > n_blocks_max)
            n_blocks_max = rs.n_blocks;
    }
    CHECK(n_blocks_max >= 13); /* 51 words of a 52-card deck: 13 blocks */
}

/* ---- uniform(n): the rejection bound ---- */

TEST(uniform_bound_table)
{
    static const struct {
        uint64_t n, rem; /* rem = 2^64 mod n */
    } t[] = {
        {1, 0},
        {2, 0},
        {3, 1},
        {10, 6},
        {40, 16}, /* 2^64 = 461168601842738790 * 40 + 16 */
        {52, 16}, /* 2^64 = 354745078340568300 * 52 + 16 */
        {1ULL << 32, 0},
        {(1ULL << 63) + 1, (1ULL << 63) - 1},
        {UINT64_MAX, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_INT(UINT64_MAX - deal_uniform_max(t[i].n), t[i].rem);
}

TEST(uniform_bound_is_a_multiple_of_n)
{
    /* Every n a 52-card shuffle uses, and some that don't divide 2^64:
     * the accepted words 0..max are a whole number of runs of n, and
     * fewer than n words are rejected. */
    static const uint64_t extra[] = {
        1000003, 0x123456789ULL, (1ULL << 62) + 3, UINT64_MAX - 1,
    };
    for (uint64_t n = 1; n <= 60 + 4; n++) {
        uint64_t m = n <= 60 ? n : extra[n - 61];
        uint64_t max = deal_uniform_max(m);
        CHECK_INT((max % m), m - 1); /* so (max + 1) is a multiple of m */
        CHECK(UINT64_MAX - max < m);
    }
}

struct words {
    const uint64_t *w;
    unsigned n, used;
};

static uint64_t next_word(void *ctx)
{
    struct words *ws = ctx;
    if (ws->used >= ws->n)
        FAIL_("uniform read more words than expected (%u)", ws->n);
    return ws->w[ws->used++];
}

TEST(uniform_rejects_words_above_the_bound)
{
    uint64_t max40 = UINT64_MAX - 16;
    uint64_t w1[] = {UINT64_MAX, max40 + 1, max40};
    struct words ws = {w1, 3, 0};

    /* The two words above the bound are skipped; the bound itself is
     * accepted. */
    CHECK_INT(deal_uniform(40, next_word, &ws), max40 % 40);
    CHECK_INT(ws.used, 3);
    CHECK_INT(max40 % 40, 39);

    /* n = 3: 2^64 - 1 is the one rejected word; 2^64 - 2 = 2 mod 3. */
    uint64_t w2[] = {UINT64_MAX, UINT64_MAX - 1};
    ws = (struct words){w2, 2, 0};
    CHECK_INT(deal_uniform(3, next_word, &ws), 2);
    CHECK_INT(ws.used, 2);

    /* A power of two rejects nothing. */
    uint64_t w3[] = {UINT64_MAX};
    ws = (struct words){w3, 1, 0};
    CHECK_INT(deal_uniform(8, next_word, &ws), 7);
    CHECK_INT(ws.used, 1);

    /* A word below the bound is used at once, mod n. */
    uint64_t w4[] = {12345};
    ws = (struct words){w4, 1, 0};
    CHECK_INT(deal_uniform(40, next_word, &ws), 12345 % 40);
}

/* ---- chi-squared: every card uniform over the positions ---- */

#define CHI_N 40

/* Counts of the card at canonical index c found at position p. */
struct tally {
    uint32_t at[CHI_N][CHI_N];
    unsigned long n_shuffles;
};

static void tally_add(struct tally *t, const card_t *deck)
{
    static uint8_t index_of[52];
    static int is_ready;

    if (!is_ready) {
        card_t canon[CHI_N];
        rules_canonical_deck(CHI_N, canon);
        memset(index_of, 0xff, sizeof index_of);
        for (unsigned i = 0; i < CHI_N; i++)
            index_of[canon[i]] = (uint8_t)i;
        is_ready = 1;
    }
    for (unsigned p = 0; p < CHI_N; p++) {
        CHECK(deck[p] < 52 && index_of[deck[p]] < CHI_N);
        t->at[index_of[deck[p]]][p]++;
    }
    t->n_shuffles++;
}

/* Largest per-card statistic (39 degrees of freedom), and the whole
 * table's statistic scaled to (n-1)^2 = 1521 degrees of freedom: for
 * random permutations the raw table sum is n/(n-1) times a chi-squared
 * of (n-1)^2 degrees, because every row and column total is fixed. */
static void chi2(const struct tally *t, double *worst_card, double *table)
{
    double e = (double)t->n_shuffles / CHI_N, sum = 0;

    *worst_card = 0;
    for (unsigned c = 0; c < CHI_N; c++) {
        double row = 0;
        for (unsigned p = 0; p < CHI_N; p++) {
            double d = t->at[c][p] - e;
            row += d * d / e;
        }
        if (row > *worst_card)
            *worst_card = row;
        sum += row;
    }
    *table = sum * (CHI_N - 1) / CHI_N;
}

/* Critical values at p = 1e-8 (computed with the regularized incomplete
 * gamma function): a correct shuffle exceeds one of the 40 per-card
 * limits with probability below 4e-7, the table's below 1e-8. */
#define CHI2_39_P1E8 110.27
#define CHI2_1521_P1E8 1851.12

/* splitmix64: a cheap, well-mixed word source for 10^6 shuffles. */
static uint64_t splitmix(void *ctx)
{
    uint64_t *s = ctx;
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void check_uniform(const char *what, const struct tally *t)
{
    double worst, table;

    chi2(t, &worst, &table);
    printf("  %s, %lu shuffles: worst card %.1f (limit %.1f), "
           "table %.1f (limit %.1f)\n",
           what, t->n_shuffles, worst, CHI2_39_P1E8, table, CHI2_1521_P1E8);
    if (!(worst < CHI2_39_P1E8) || !(table < CHI2_1521_P1E8))
        FAIL_("%s: positions not uniform", what);
}

TEST(chi2_shuffle_uniform_over_positions)
{
    /* 10^6 shuffles by deal_shuffle_words, the code deal_shuffle runs,
     * over a cheap deterministic source: the test of the algorithm (the
     * direction of the loop, uniform(i + 1), the rejection). The HMAC
     * stream costs about 12 us a shuffle on libsodium's SHA-256, so it
     * gets a smaller run of its own below. */
    static struct tally t;
    card_t deck[CHI_N];
    uint64_t rng = 2026;

    for (unsigned r = 0; r < 1000000; r++) {
        rules_canonical_deck(CHI_N, deck);
        deal_shuffle_words(deck, CHI_N, splitmix, &rng);
        tally_add(&t, deck);
    }
    check_uniform("deal_shuffle_words", &t);
}

TEST(chi2_dealt_decks_uniform_over_positions)
{
    /* The real path, key and stream: 200 keys (seat 0's seed counts up)
     * times hands 1..1000 of each, deterministic. */
    static struct tally t;
    card_t deck[CHI_N];
    uint8_t s[DEAL_SECRET_LEN], k[DEAL_KEY_LEN];
    char seed[9];
    const char *seeds[] = {seed, ""};

    counting_secret(s);
    for (unsigned i = 0; i < 200; i++) {
        snprintf(seed, sizeof seed, "%08x", i);
        deal_key(s, "briscola", 2, seeds, k);
        for (uint32_t h = 1; h <= 1000; h++) {
            rules_canonical_deck(CHI_N, deck);
            deal_shuffle(k, h, deck, CHI_N);
            tally_add(&t, deck);
        }
    }
    check_uniform("deal_shuffle", &t);
}

TEST(chi2_catches_biased_shuffles)
{
    /* The same statistic over 10^5 shuffles from two classic mistakes:
     * Sattolo's (swap i with uniform(i): no card stays in place) and the
     * naive one (swap i with uniform(n)). The tests above must not be
     * ones that cannot fail. */
    static struct tally sattolo, naive;
    uint64_t rng = 42;
    card_t deck[CHI_N];
    double worst, table;

    for (unsigned r = 0; r < 100000; r++) {
        rules_canonical_deck(CHI_N, deck);
        for (unsigned i = CHI_N - 1; i >= 1; i--) {
            unsigned j = (unsigned)deal_uniform(i, splitmix, &rng);
            card_t c = deck[i];
            deck[i] = deck[j];
            deck[j] = c;
        }
        tally_add(&sattolo, deck);
        rules_canonical_deck(CHI_N, deck);
        for (unsigned i = CHI_N - 1; i >= 1; i--) {
            unsigned j = (unsigned)deal_uniform(CHI_N, splitmix, &rng);
            card_t c = deck[i];
            deck[i] = deck[j];
            deck[j] = c;
        }
        tally_add(&naive, deck);
    }
    chi2(&sattolo, &worst, &table);
    printf("  sattolo: worst card %.1f, table %.1f\n", worst, table);
    CHECK(worst > CHI2_39_P1E8 && table > CHI2_1521_P1E8);
    chi2(&naive, &worst, &table);
    printf("  naive: worst card %.1f, table %.1f\n", worst, table);
    CHECK(worst > CHI2_39_P1E8 && table > CHI2_1521_P1E8);
}

/* ---- hex ---- */

TEST(hex_round_trip)
{
    uint8_t all[256], back[256];
    char hex[513];

    for (unsigned i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    deal_to_hex(all, 256, hex);
    CHECK_INT(strlen(hex), 512);
    CHECK_MEM(hex, 8, "00010203");
    CHECK_MEM(hex + 504, 8, "fcfdfeff"); /* lowercase */
    CHECK_INT(deal_from_hex(hex, 256, back), 0);
    CHECK(memcmp(all, back, 256) == 0);

    uint8_t b[4];
    CHECK_INT(deal_from_hex("DeadBEEF", 4, b), 0); /* either case */
    CHECK_INT(b[0], 0xde);
    CHECK_INT(b[3], 0xef);
    deal_to_hex(b, 0, hex);
    CHECK_STR(hex, "");
}

TEST(hex_rejects_bad_input)
{
    static const char *bad[] = {
        "0g", "g0", " 00", "0x", "-1", "0\n", "\xc3\xa9", "0:",
        "0@", "0`", "0G", "0/",
    };
    uint8_t out[1] = {0x5a};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (deal_from_hex(bad[i], 1, out) != -1)
            FAIL_("accepted \"%s\"", bad[i]);
        CHECK_INT(out[0], 0x5a); /* untouched */
    }
}

TEST(hex_stops_at_the_end_of_a_short_string)
{
    /* "abc" and its NUL end right before an unreadable page: asking for
     * 4 bytes (8 digits) must stop at the NUL, not read past it. */
    char *end = guard_page_end();
    char *p = end - 4;
    uint8_t out[4];

    memcpy(p, "abc", 4);
    CHECK_INT(deal_from_hex(p, 4, out), -1);
    /* Exactly the digits asked for, ending at the page: nothing more. */
    memcpy(end - 4, "a1B2", 4);
    CHECK_INT(deal_from_hex(end - 4, 2, out), 0);
    CHECK_INT(out[0], 0xa1);
    CHECK_INT(out[1], 0xb2);
}

TEST(seed_parse)
{
    char out[DEAL_SEED_MAX + 1];
    char long_seed[DEAL_SEED_MAX + 2];

    CHECK_INT(deal_seed_parse("00FFaB", 6, out), 0);
    CHECK_STR(out, "00ffab");
    CHECK_INT(deal_seed_parse("7", 1, out), 0);
    CHECK_STR(out, "7");
    memset(long_seed, 'F', sizeof long_seed);
    CHECK_INT(deal_seed_parse(long_seed, DEAL_SEED_MAX, out), 0);
    CHECK_INT(strlen(out), DEAL_SEED_MAX);
    CHECK_INT(out[0], 'f');

    strcpy(out, "kept");
    CHECK_INT(deal_seed_parse(long_seed, DEAL_SEED_MAX + 1, out), -1);
    CHECK_INT(deal_seed_parse("", 0, out), -1);
    CHECK_INT(deal_seed_parse("12 4", 4, out), -1);
    CHECK_INT(deal_seed_parse("0x12", 4, out), -1);
    CHECK_INT(deal_seed_parse("-", 1, out), -1); /* REVEAL's "no seed" */
    CHECK_STR(out, "kept");
}
