/*
 * deal: verifiable decks (PROTOCOL §13).
 *
 * A deck is a pure function of the match's secret S, drawn when the
 * match is created, and of the seeds the seated players chose before
 * START. The commitment SHA-256("tavolo-commit-1" || S) is published
 * before any seed is used, and S is revealed after END, so anyone can
 * recompute every deck. libcrypto (OpenSSL) provides SHA-256, with the
 * CPU's SHA instructions where it has them; HMAC-SHA256 is RFC 2104's
 * two keyed hashes over it, tested against libsodium's. Pure: no I/O, no
 * clock, no state but libcrypto's SHA-256 handle, fetched once per
 * process; libcrypto allocates its hash states (an allocation failure
 * ends the process, as everywhere: base/mem.h).
 */
#ifndef TAVOLO_GAME_DEAL_H
#define TAVOLO_GAME_DEAL_H

#include <stddef.h>
#include <stdint.h>

#include "game/card.h"

#define DEAL_SECRET_LEN 32
#define DEAL_KEY_LEN 32
#define DEAL_SEED_MAX 64 /* hex digits */
#define DEAL_HEX_LEN 64  /* a secret or a commitment in hex */

/* commit = SHA-256("tavolo-commit-1" || S), as 64 lowercase hex + NUL. */
void deal_commit_hex(const uint8_t secret[DEAL_SECRET_LEN],
                     char out[DEAL_HEX_LEN + 1]);

/* K = HMAC-SHA256(S, "tavolo-deal-1" || game || 0x00 || N ||
 * for each seat: len(seed) || seed). seeds[i] is seat i's seed as
 * lowercase hex ("" for none), at most DEAL_SEED_MAX digits. */
void deal_key(const uint8_t secret[DEAL_SECRET_LEN], const char *game,
              unsigned n_seats, const char *const *seeds,
              uint8_t key[DEAL_KEY_LEN]);

/* Shuffles deck[0..n) (the canonical deck of rules.h on entry) for hand
 * `hand` (from 1) with the stream HMAC-SHA256(K, "hand" || h || j) and
 * rejection sampling, Fisher-Yates from the last index down. */
void deal_shuffle(const uint8_t key[DEAL_KEY_LEN], uint32_t hand,
                  card_t *deck, unsigned n);

/* Hex helpers: lowercase hex of len bytes (out: 2*len+1); parse 2*len hex
 * digits of either case into bytes (0, or -1 if malformed, out untouched).
 * Parsing stops at the first non-digit, so it never reads past a NUL. */
void deal_to_hex(const uint8_t *bytes, unsigned len, char *out);
int deal_from_hex(const char *hex, unsigned len, uint8_t *out);

/* A SEED argument (PROTOCOL §13): 1 to DEAL_SEED_MAX hex digits of either
 * case, not NUL-terminated. Writes it in lowercase with a NUL into out and
 * returns 0; returns -1 (out untouched) for an empty, longer or non-hex
 * text. */
int deal_seed_parse(const char *text, size_t len,
                    char out[DEAL_SEED_MAX + 1]);

/* uniform(n) of §13 over any source of 64-bit words: takes words until
 * one is at most deal_uniform_max(n), returns it mod n. n > 0. Exposed
 * for tests (deal_shuffle draws from the hand's HMAC stream). */
typedef uint64_t (*deal_word_fn)(void *ctx);
uint64_t deal_uniform(uint64_t n, deal_word_fn next_word, void *ctx);

/* The Fisher-Yates of §13 over any word source: for i from n-1 down to
 * 1, swaps deck[i] and deck[uniform(i+1)]. deal_shuffle is this over the
 * hand's HMAC stream; exposed so tests can run it over a cheap source. */
void deal_shuffle_words(card_t *deck, unsigned n, deal_word_fn next_word,
                        void *ctx);

/* The largest word uniform(n) accepts: 2^64 - (2^64 mod n) - 1, so that
 * every residue mod n has the same number of accepted words. UINT64_MAX
 * when n is a power of two (nothing is rejected). n > 0. */
uint64_t deal_uniform_max(uint64_t n);

#endif
