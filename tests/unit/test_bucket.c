/* Unit tests for base/bucket with an injected clock. */
#include "base/bucket.h"
#include "check.h"

TEST(starts_full_then_refuses)
{
    struct bucket b;
    bucket_init(&b, 40, 1000);
    for (int i = 0; i < 40; i++)
        CHECK(bucket_take(&b, 20, 40, 1000));
    CHECK(!bucket_take(&b, 20, 40, 1000));
}

TEST(refills_at_rate)
{
    struct bucket b;
    bucket_init(&b, 40, 0);
    for (int i = 0; i < 40; i++)
        CHECK(bucket_take(&b, 20, 40, 0));
    CHECK(!bucket_take(&b, 20, 40, 49)); /* 0.98 token */
    CHECK(bucket_take(&b, 20, 40, 50));  /* 1 token after 50 ms at 20/s */
    CHECK(!bucket_take(&b, 20, 40, 50));
    int n = 0;
    while (bucket_take(&b, 20, 40, 1050))
        n++;
    CHECK_INT(n, 20); /* one second later: 20 more */
}

TEST(capped_at_burst)
{
    struct bucket b;
    bucket_init(&b, 5, 0);
    int n = 0;
    while (bucket_take(&b, 20, 5, 3600 * 1000ULL))
        n++;
    CHECK_INT(n, 5);
}

TEST(clock_backwards_refills_nothing)
{
    struct bucket b;
    bucket_init(&b, 1, 1000);
    CHECK(bucket_take(&b, 1, 1, 1000));
    CHECK(!bucket_take(&b, 1, 1, 500));
    CHECK(!bucket_take(&b, 1, 1, 1999));
    CHECK(bucket_take(&b, 1, 1, 2000));
}

TEST(huge_rate_no_overflow)
{
    struct bucket b;
    bucket_init(&b, 4000000000u, 0);
    for (int i = 0; i < 1000; i++)
        CHECK(bucket_take(&b, 4000000000u, 4000000000u, UINT64_MAX / 2));
}
