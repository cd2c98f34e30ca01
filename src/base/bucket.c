/*
 * bucket: see bucket.h.
 */
#include "base/bucket.h"

void bucket_init(struct bucket *b, uint32_t burst, uint64_t now_ms)
{
    b->milli_tokens = (uint64_t)burst * 1000;
    b->last_ms = now_ms;
}

bool bucket_take(struct bucket *b, uint32_t rate, uint32_t burst,
                 uint64_t now_ms)
{
    uint64_t cap = (uint64_t)burst * 1000;

    if (now_ms > b->last_ms) {
        /* rate tokens per 1000 ms = rate milli-tokens per ms */
        uint64_t elapsed = now_ms - b->last_ms;
        uint64_t add = elapsed * rate;
        if (rate != 0 && add / rate != elapsed)
            add = cap; /* overflow: a very long pause refills fully */
        b->milli_tokens = add >= cap || b->milli_tokens >= cap - add
                              ? cap
                              : b->milli_tokens + add;
        b->last_ms = now_ms;
    }
    if (b->milli_tokens < 1000)
        return false;
    b->milli_tokens -= 1000;
    return true;
}
