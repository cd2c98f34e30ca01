/*
 * deal: verifiable decks (PROTOCOL §13).
 *
 * A deck is a pure function of the match's secret S, drawn when the
 * match is created, and of the seeds the seated players chose before
 * START. The commitment SHA-256("tavolo-commit-1" || S) is published
 * before any seed is used, and S is revealed after END, so anyone can
 * recompute every deck. libsodium provides SHA-256 and HMAC-SHA256;
 * nothing here is hand-written cryptography. Pure: no I/O, no clock, no
 * allocation, no global state.
 */
#ifndef TAVOLO_GAME_DEAL_H
#define TAVOLO_GAME_DEAL_H

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
 * digits of either case into bytes (0, or -1 if malformed). */
void deal_to_hex(const uint8_t *bytes, unsigned len, char *out);
int deal_from_hex(const char *hex, unsigned len, uint8_t *out);

#endif
