/*
 * deal: see deal.h. The byte layouts here are PROTOCOL §13 exactly;
 * tools/verify-deal (Python) and web/deal.js (JavaScript) implement the
 * same function, and all three are tested against §13's known answers.
 *
 * SHA-256 is libcrypto's (OpenSSL), which uses the CPU's SHA extensions
 * where it has them (docs/PERFORMANCE.md, "Third round": a hand's shuffle
 * ~2x cheaper than over libsodium's portable SHA-256, bench/movecost/
 * dealcost.c; the rest is EVP's own work). HMAC-SHA256 is RFC 2104
 * over it: every key here is 32 bytes, less than SHA-256's 64-byte
 * block, so it is the key zero-padded to a block, XORed with 0x36
 * (inner) and 0x5c (outer). The two keyed states are computed once per
 * shuffle and copied for each 32-byte block, so a block costs two
 * compressions rather than four. tests/unit/test_deal.c compares every
 * function here with libsodium's HMAC-SHA256 on random inputs. Key
 * material left on the stack is wiped before returning (best effort: S
 * and K are secret only until REVEAL); EVP_MD_CTX_free wipes a state.
 */
#include "game/deal.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

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

/* libcrypto's digest calls fail only when it cannot allocate (or is
 * broken): as for any allocation here (base/mem), that ends the process. */
static void need(int ok)
{
    if (!ok) {
        fprintf(stderr, "tavolo: libcrypto's SHA-256 failed (out of memory?)\n");
        abort();
    }
}

/* libcrypto's SHA-256, fetched once: EVP_sha256() would fetch it again
 * at every EVP_DigestInit_ex (~5 800 instructions, a lock and a lookup).
 * Immutable once fetched, shared by every thread; never freed. */
static EVP_MD *sha256_md;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    need(pthread_once(&once, fetch_sha256) == 0 && sha256_md != NULL);
    return sha256_md;
}

static EVP_MD_CTX *md_new(void)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    need(c != NULL);
    return c;
}

/* An HMAC-SHA256 keyed with a key of at most one block: the states after
 * the inner and the outer padded key. */
struct hmac {
    EVP_MD_CTX *inner, *outer;
};

static void hmac_init(struct hmac *h, const uint8_t *key, size_t len)
{
    uint8_t pad[SHA256_BLOCK];

    assert(len <= SHA256_BLOCK);
    h->inner = md_new();
    h->outer = md_new();
    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < len; i++)
        pad[i] ^= key[i];
    need(EVP_DigestInit_ex(h->inner, sha256(), NULL));
    need(EVP_DigestUpdate(h->inner, pad, sizeof pad));
    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < len; i++)
        pad[i] ^= key[i];
    need(EVP_DigestInit_ex(h->outer, sha256(), NULL));
    need(EVP_DigestUpdate(h->outer, pad, sizeof pad));
    OPENSSL_cleanse(pad, sizeof pad);
}

static void hmac_free(struct hmac *h)
{
    EVP_MD_CTX_free(h->inner);
    EVP_MD_CTX_free(h->outer);
    h->inner = h->outer = NULL;
}

/* Ends the MAC whose message went into `inner` (a copy of h->inner, or
 * h->inner itself): out = SHA-256(outer key || SHA-256(inner ...)).
 * `work` is scratch for the outer state. */
static void hmac_final(const struct hmac *h, EVP_MD_CTX *inner,
                       EVP_MD_CTX *work, uint8_t out[SHA256_LEN])
{
    uint8_t digest[SHA256_LEN];
    unsigned len;

    need(EVP_DigestFinal_ex(inner, digest, &len) && len == SHA256_LEN);
    need(EVP_MD_CTX_copy_ex(work, h->outer));
    need(EVP_DigestUpdate(work, digest, sizeof digest));
    need(EVP_DigestFinal_ex(work, out, &len) && len == SHA256_LEN);
    OPENSSL_cleanse(digest, sizeof digest);
}

void deal_commit_hex(const uint8_t secret[DEAL_SECRET_LEN],
                     char out[DEAL_HEX_LEN + 1])
{
    EVP_MD_CTX *c = md_new();
    uint8_t digest[SHA256_LEN];
    unsigned len;

    need(EVP_DigestInit_ex(c, sha256(), NULL));
    need(EVP_DigestUpdate(c, commit_label, sizeof commit_label - 1));
    need(EVP_DigestUpdate(c, secret, DEAL_SECRET_LEN));
    need(EVP_DigestFinal_ex(c, digest, &len) && len == SHA256_LEN);
    EVP_MD_CTX_free(c);
    deal_to_hex(digest, sizeof digest, out);
}

void deal_key(const uint8_t secret[DEAL_SECRET_LEN], const char *game,
              unsigned n_seats, const char *const *seeds,
              uint8_t key[DEAL_KEY_LEN])
{
    struct hmac h;
    const uint8_t zero = 0, n = (uint8_t)n_seats;

    /* N and every length are single bytes (PROTOCOL §13). */
    assert(n_seats >= 1 && n_seats <= 255);
    hmac_init(&h, secret, DEAL_SECRET_LEN);
    need(EVP_DigestUpdate(h.inner, key_label, sizeof key_label - 1));
    need(EVP_DigestUpdate(h.inner, game, strlen(game)));
    need(EVP_DigestUpdate(h.inner, &zero, 1));
    need(EVP_DigestUpdate(h.inner, &n, 1));
    for (unsigned i = 0; i < n_seats; i++) {
        size_t len = strlen(seeds[i]);
        uint8_t len_byte = (uint8_t)len;

        /* The session stores seeds already checked and lowercased. */
        assert(len <= DEAL_SEED_MAX && is_lower_hex(seeds[i]));
        need(EVP_DigestUpdate(h.inner, &len_byte, 1));
        need(EVP_DigestUpdate(h.inner, seeds[i], len));
    }
    EVP_MD_CTX *work = md_new();
    hmac_final(&h, h.inner, work, key);
    EVP_MD_CTX_free(work);
    hmac_free(&h);
}

/* The stream B0 || B1 || ... of one hand, consumed 8 bytes at a time. */
struct stream {
    struct hmac keyed;                      /* keyed with K, once */
    EVP_MD_CTX *work;                       /* a block's inner state */
    EVP_MD_CTX *work_outer;                 /* ... and its outer one */
    uint8_t msg[sizeof hand_label - 1 + 8]; /* "hand" || h || j */
    uint32_t next_block;                    /* j of the next block */
    uint8_t block[SHA256_LEN];
    unsigned used;                          /* bytes of block consumed */
};

static uint64_t stream_word(void *ctx)
{
    struct stream *s = ctx;

    if (s->used == sizeof s->block) {
        put_be32(s->msg + sizeof hand_label - 1 + 4, s->next_block++);
        need(EVP_MD_CTX_copy_ex(s->work, s->keyed.inner));
        need(EVP_DigestUpdate(s->work, s->msg, sizeof s->msg));
        hmac_final(&s->keyed, s->work, s->work_outer, s->block);
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

    hmac_init(&s.keyed, key, DEAL_KEY_LEN);
    s.work = md_new();
    s.work_outer = md_new();
    memcpy(s.msg, hand_label, sizeof hand_label - 1);
    put_be32(s.msg + sizeof hand_label - 1, hand);
    s.next_block = 0;
    s.used = sizeof s.block; /* empty: the first word computes B0 */
    deal_shuffle_words(deck, n, stream_word, &s);
    hmac_free(&s.keyed);
    EVP_MD_CTX_free(s.work);
    EVP_MD_CTX_free(s.work_outer);
    OPENSSL_cleanse(s.block, sizeof s.block);
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
