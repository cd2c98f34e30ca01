/*
 * deal: see deal.h. (The engine's stand-in until h-deal's module lands.)
 */
#include "game/deal.h"

#include <sodium.h>
#include <string.h>

void deal_commit_hex(const uint8_t secret[DEAL_SECRET_LEN],
                     char out[DEAL_HEX_LEN + 1])
{
    crypto_hash_sha256_state st;
    uint8_t h[32];

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)"tavolo-commit-1", 15);
    crypto_hash_sha256_update(&st, secret, DEAL_SECRET_LEN);
    crypto_hash_sha256_final(&st, h);
    deal_to_hex(h, 32, out);
}

void deal_key(const uint8_t secret[DEAL_SECRET_LEN], const char *game,
              unsigned n_seats, const char *const *seeds,
              uint8_t key[DEAL_KEY_LEN])
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
    for (unsigned s = 0; s < n_seats; s++) {
        size_t n = strlen(seeds[s]);
        b = (uint8_t)n;
        crypto_auth_hmacsha256_update(&st, &b, 1);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)seeds[s], n);
    }
    crypto_auth_hmacsha256_final(&st, key);
}

struct stream {
    const uint8_t *key;
    uint32_t hand, j;
    uint8_t block[32];
    unsigned pos;
};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint64_t next_word(struct stream *s)
{
    uint64_t w = 0;

    if (s->pos == 32) {
        uint8_t msg[12];
        memcpy(msg, "hand", 4);
        put_be32(msg + 4, s->hand);
        put_be32(msg + 8, s->j++);
        crypto_auth_hmacsha256(s->block, msg, sizeof msg, s->key);
        s->pos = 0;
    }
    for (unsigned i = 0; i < 8; i++)
        w = w << 8 | s->block[s->pos + i];
    s->pos += 8;
    return w;
}

static uint64_t uniform(struct stream *s, uint64_t n)
{
    /* 2^64 mod n, computed without 128-bit arithmetic */
    uint64_t limit = UINT64_MAX - ((UINT64_MAX % n) + 1) % n;
    for (;;) {
        uint64_t w = next_word(s);
        if (((UINT64_MAX % n) + 1) % n == 0 || w <= limit)
            return w % n;
    }
}

void deal_shuffle(const uint8_t key[DEAL_KEY_LEN], uint32_t hand,
                  card_t *deck, unsigned n)
{
    struct stream s = {.key = key, .hand = hand, .j = 0, .pos = 32};

    for (unsigned i = n; i-- > 1;) {
        unsigned k = (unsigned)uniform(&s, i + 1);
        card_t t = deck[i];
        deck[i] = deck[k];
        deck[k] = t;
    }
}

void deal_to_hex(const uint8_t *bytes, unsigned len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int deal_from_hex(const char *hex, unsigned len, uint8_t *out)
{
    for (unsigned i = 0; i < len; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
