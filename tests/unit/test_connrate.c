/* Unit tests for net/connrate with an injected clock: the burst, the
 * refill, refusals that turn into "flood", independence of addresses, and
 * a table that stays bounded under many addresses. */
#include <stdio.h>

#include "check.h"
#include "net/connrate.h"

static struct net_addr addr(unsigned i)
{
    struct net_addr a = {{0}};
    char text[32];
    bool is_v4;
    snprintf(text, sizeof text, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
             i & 255);
    CHECK_INT(net_addr_parse(text, &a, &is_v4), 0);
    return a;
}

TEST(burst_then_busy_then_flood)
{
    struct connrate r;
    struct net_addr a = addr(1);
    connrate_init(&r, 20, 40);
    for (int i = 0; i < 40; i++)
        CHECK_INT(connrate_take(&r, &a, 1000), CONNRATE_OK);
    for (int i = 0; i < 40; i++)
        CHECK_INT(connrate_take(&r, &a, 1000), CONNRATE_BUSY);
    CHECK_INT(connrate_take(&r, &a, 1000), CONNRATE_FLOOD);
    /* 50 ms at 20/s: one connection more, and one polite refusal more */
    CHECK_INT(connrate_take(&r, &a, 1050), CONNRATE_OK);
    CHECK_INT(connrate_take(&r, &a, 1050), CONNRATE_BUSY);
    CHECK_INT(connrate_take(&r, &a, 1050), CONNRATE_FLOOD);
    connrate_free(&r);
}

TEST(addresses_are_independent)
{
    struct connrate r;
    struct net_addr a = addr(1), b = addr(2);
    connrate_init(&r, 1, 2);
    CHECK_INT(connrate_take(&r, &a, 10), CONNRATE_OK);
    CHECK_INT(connrate_take(&r, &a, 10), CONNRATE_OK);
    CHECK_INT(connrate_take(&r, &a, 10), CONNRATE_BUSY);
    CHECK_INT(connrate_take(&r, &b, 10), CONNRATE_OK);
    connrate_free(&r);
}

TEST(zero_rate_is_no_limit)
{
    struct connrate r;
    struct net_addr a = addr(1);
    connrate_init(&r, 0, 1);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(connrate_take(&r, &a, 5), CONNRATE_OK);
    connrate_free(&r);
}

TEST(many_addresses_keep_a_hot_one_limited)
{
    struct connrate r;
    struct net_addr hot = addr(7);
    connrate_init(&r, 1, 3);
    uint64_t now = 100;
    for (int i = 0; i < 3; i++)
        CHECK_INT(connrate_take(&r, &hot, now), CONNRATE_OK);
    /* 100 000 other addresses pass through the fixed-size table while the
     * hot one keeps knocking: it stays refused, never reset to a full
     * burst by being forgotten */
    for (unsigned i = 0; i < 100000; i++) {
        struct net_addr other = addr(1000 + i);
        CHECK_INT(connrate_take(&r, &other, now), CONNRATE_OK);
        if (i % 100 == 0)
            CHECK(connrate_take(&r, &hot, now) != CONNRATE_OK);
    }
    connrate_free(&r);
}
