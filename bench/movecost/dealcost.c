/*
 * dealcost: the wall-clock cost of one hand's verifiable shuffle
 * (PROTOCOL §13, game/deal.c over libcrypto) beside the same stream over
 * libsodium's HMAC-SHA256 (what deal.c used before), on this CPU.
 * callgrind cannot show the difference: valgrind does not emulate the
 * SHA extensions, so under it libcrypto runs its AVX2 code.
 *   cmake --build build --target dealcost && build/dealcost [HANDS] [CARDS]
 * Prints the median of 9 rounds for each, in ns per hand. Not a test.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "game/deal.h"
#include "game/rules.h"

struct ref_stream {
    const uint8_t *key;
    uint32_t hand, next_block;
    uint8_t block[32];
    unsigned used;
    crypto_auth_hmacsha256_state keyed;
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
        crypto_auth_hmacsha256_state st = s->keyed; /* keyed once, as before */
        crypto_auth_hmacsha256_update(&st, msg, sizeof msg);
        crypto_auth_hmacsha256_final(&st, s->block);
        s->used = 0;
    }
    uint64_t w = 0;
    for (int i = 0; i < 8; i++)
        w = w << 8 | s->block[s->used + i];
    s->used += 8;
    return w;
}

static void ref_shuffle(const uint8_t *key, uint32_t hand, card_t *deck, unsigned n)
{
    struct ref_stream s = {.key = key, .hand = hand, .used = 32};
    crypto_auth_hmacsha256_init(&s.keyed, key, DEAL_KEY_LEN);
    deal_shuffle_words(deck, n, ref_word, &s);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    unsigned hands = argc > 1 ? (unsigned)atoi(argv[1]) : 20000;
    unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 40;
    uint8_t key[DEAL_KEY_LEN];
    card_t a[52], b[52];
    double t_lib[9], t_ref[9];

    if (sodium_init() < 0 || n < 2 || n > 52 || hands == 0)
        return 2;
    randombytes_buf(key, sizeof key);
    for (int r = 0; r < 9; r++) {
        double t0 = now_ns();
        for (unsigned h = 1; h <= hands; h++) {
            rules_canonical_deck(n > 40 ? 52 : 40, a);
            deal_shuffle(key, h, a, n);
        }
        double t1 = now_ns();
        for (unsigned h = 1; h <= hands; h++) {
            rules_canonical_deck(n > 40 ? 52 : 40, b);
            ref_shuffle(key, h, b, n);
        }
        double t2 = now_ns();
        if (memcmp(a, b, n * sizeof a[0]) != 0) {
            fprintf(stderr, "dealcost: the two shuffles differ\n");
            return 1;
        }
        t_lib[r] = (t1 - t0) / hands;
        t_ref[r] = (t2 - t1) / hands;
    }
    qsort(t_lib, 9, sizeof t_lib[0], cmp);
    qsort(t_ref, 9, sizeof t_ref[0], cmp);
    printf("%u-card hand: libcrypto %.0f ns, libsodium %.0f ns (x%.2f)\n", n,
           t_lib[4], t_ref[4], t_ref[4] / t_lib[4]);
    return 0;
}
