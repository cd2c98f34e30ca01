/*
 * bucket: a token bucket for per-connection rate limits (PROTOCOL §6).
 *
 * Pure: time comes in as an argument (milliseconds from any monotonic
 * origin), so tests drive it with an injected clock. Tokens are kept in
 * thousandths so that refill is exact integer arithmetic.
 */
#ifndef TAVOLO_BASE_BUCKET_H
#define TAVOLO_BASE_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct bucket {
    uint64_t milli_tokens;
    uint64_t last_ms;
};

/* Starts full: `burst` tokens available at time now_ms. */
void bucket_init(struct bucket *b, uint32_t burst, uint64_t now_ms);

/* Refills at `rate` tokens per second (capped at `burst`), then takes one
 * token if there is one. Returns true if the caller may proceed. A clock
 * that goes backwards refills nothing. */
bool bucket_take(struct bucket *b, uint32_t rate, uint32_t burst,
                 uint64_t now_ms);

#endif
