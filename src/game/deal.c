/*
 * deal: see deal.h. The byte layouts here are PROTOCOL §13 exactly;
 * tools/verify-deal (Python) and web/deal.js (JavaScript) implement the
 * same function, and all three are tested against §13's known answers.
 *
 * The HMAC state keyed with K is set up once per shuffle and copied for
 * each 32-byte block, so a block costs two SHA-256 compressions rather
 * than four. Key material left on the stack is wiped before returning
 * (best effort: S and K are secret only until REVEAL).
 */
#include "game/deal.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

static const char commit_label[] = "tavolo-commit-1";
static const char key_label[] = "tavolo-deal-1";
static const char hand_label[] = "hand";

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static bool is_lower_hex(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

void deal_commit_hex(const uint8_t secret[DEAL_SECRET_LEN],
                     char out[DEAL_HEX_LEN + 1])
{
    crypto_hash_sha256_state st;
    uint8_t digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)commit_label,
                              sizeof commit_label - 1);
    crypto_hash_sha256_update(&st, secret, DEAL_SECRET_LEN);
    crypto_hash_sha256_final(&st, digest);
    deal_to_hex(digest, sizeof digest, out);
    sodium_memzero(&st, sizeof st);
}

void deal_key(const uint8_t secret[DEAL_SECRET_LEN], const char *game,
              unsigned n_seats, const char *const *seeds,
              uint8_t key[DEAL_KEY_LEN])
{
    crypto_auth_hmacsha256_state st;
    const uint8_t zero = 0, n = (uint8_t)n_seats;

    /* N and every length are single bytes (PROTOCOL §13). */
    assert(n_seats >= 1 && n_seats <= 255);
    crypto_auth_hmacsha256_init(&st, secret, DEAL_SECRET_LEN);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)key_label,
                                  sizeof key_label - 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)game, strlen(game));
    crypto_auth_hmacsha256_update(&st, &zero, 1);
    crypto_auth_hmacsha256_update(&st, &n, 1);
    for (unsigned i = 0; i < n_seats; i++) {
        size_t len = strlen(seeds[i]);
        uint8_t len_byte = (uint8_t)len;

        /* The session stores seeds already checked and lowercased. */
        assert(len <= DEAL_SEED_MAX && is_lower_hex(seeds[i]));
        crypto_auth_hmacsha256_update(&st, &len_byte, 1);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)seeds[i], len);
    }
    crypto_auth_hmacsha256_final(&st, key);
    sodium_memzero(&st, sizeof st);
}

/* The stream B0 || B1 || ... of one hand, consumed 8 bytes at a time. */
struct stream {
    crypto_auth_hmacsha256_state keyed; /* HMAC state after keying with K */
    uint8_t msg[sizeof hand_label - 1 + 8]; /* "hand" || h || j */
    uint32_t next_block;                    /* j of the next block */
    uint8_t block[crypto_auth_hmacsha256_BYTES];
    unsigned used;                          /* bytes of block consumed */
};

static uint64_t stream_word(void *ctx)
{
    struct stream *s = ctx;

    if (s->used == sizeof s->block) {
        crypto_auth_hmacsha256_state st = s->keyed;

        put_be32(s->msg + sizeof hand_label - 1 + 4, s->next_block++);
        crypto_auth_hmacsha256_update(&st, s->msg, sizeof s->msg);
        crypto_auth_hmacsha256_final(&st, s->block);
        sodium_memzero(&st, sizeof st);
        s->used = 0;
    }
    /* 32 is a multiple of 8: a word never straddles two blocks. */
    uint64_t w = get_be64(s->block + s->used);
    s->used += 8;
    return w;
}

uint64_t deal_uniform_max(uint64_t n)
{
    assert(n > 0);
    /* In 64-bit arithmetic (0 - n) % n is (2^64 - n) mod n = 2^64 mod n. */
    uint64_t rem = (0 - n) % n;
    return UINT64_MAX - rem;
}

uint64_t deal_uniform(uint64_t n, deal_word_fn next_word, void *ctx)
{
    uint64_t max = deal_uniform_max(n);

    for (;;) {
        uint64_t w = next_word(ctx);
        if (w <= max)
            return w % n;
    }
}

void deal_shuffle(const uint8_t key[DEAL_KEY_LEN], uint32_t hand,
                  card_t *deck, unsigned n)
{
    struct stream s;

    crypto_auth_hmacsha256_init(&s.keyed, key, DEAL_KEY_LEN);
    memcpy(s.msg, hand_label, sizeof hand_label - 1);
    put_be32(s.msg + sizeof hand_label - 1, hand);
    s.next_block = 0;
    s.used = sizeof s.block; /* empty: the first word computes B0 */
    deal_shuffle_words(deck, n, stream_word, &s);
    sodium_memzero(&s, sizeof s);
}

void deal_shuffle_words(card_t *deck, unsigned n, deal_word_fn next_word,
                        void *ctx)
{
    for (unsigned i = n; i-- > 1;) {
        unsigned j = (unsigned)deal_uniform(i + 1, next_word, ctx);
        card_t t = deck[i];
        deck[i] = deck[j];
        deck[j] = t;
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

/* The value of a hex digit of either case, or -1. */
static int hex_value(char c)
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
    /* Digits are checked in order, so a short string stops at its NUL and
     * nothing past it is read; out is written only once all are good. */
    for (unsigned i = 0; i < 2 * len; i++)
        if (hex_value(hex[i]) < 0)
            return -1;
    for (unsigned i = 0; i < len; i++)
        out[i] = (uint8_t)(hex_value(hex[2 * i]) << 4 |
                           hex_value(hex[2 * i + 1]));
    return 0;
}

int deal_seed_parse(const char *text, size_t len,
                    char out[DEAL_SEED_MAX + 1])
{
    static const char digits[] = "0123456789abcdef";

    if (len == 0 || len > DEAL_SEED_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (hex_value(text[i]) < 0)
            return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = digits[hex_value(text[i])];
    out[len] = '\0';
    return 0;
}
