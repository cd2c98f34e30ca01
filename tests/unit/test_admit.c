/* Unit tests for net/admit: total and per-address caps. */
#include <sodium.h>

#include "check.h"
#include "net/admit.h"

static struct net_addr A(const char *s)
{
    struct net_addr a;
    bool v4;
    if (net_addr_parse(s, &a, &v4) != 0)
        FAIL_("bad test address %s", s);
    return a;
}

TEST(per_address_cap)
{
    struct admit a;
    struct net_addr x = A("10.0.0.1"), y = A("10.0.0.2");
    CHECK(sodium_init() >= 0);
    admit_init(&a, 100, 2);
    CHECK_INT(admit_take(&a, &x), ADMIT_OK);
    CHECK_INT(admit_take(&a, &x), ADMIT_OK);
    CHECK_INT(admit_take(&a, &x), ADMIT_BUSY_ADDR);
    CHECK_INT(admit_take(&a, &y), ADMIT_OK);
    admit_release(&a, &x);
    CHECK_INT(admit_count(&a, &x), 1);
    CHECK_INT(admit_take(&a, &x), ADMIT_OK);
    admit_free(&a);
}

TEST(total_cap)
{
    struct admit a;
    CHECK(sodium_init() >= 0);
    admit_init(&a, 3, 10);
    struct net_addr x = A("::1");
    for (int i = 0; i < 3; i++)
        CHECK_INT(admit_take(&a, &x), ADMIT_OK);
    struct net_addr y = A("::2");
    CHECK_INT(admit_take(&a, &y), ADMIT_BUSY_TOTAL);
    admit_release(&a, &x);
    CHECK_INT(admit_take(&a, &y), ADMIT_OK);
    admit_free(&a);
}

TEST(many_addresses_grow_and_shrink)
{
    struct admit a;
    CHECK(sodium_init() >= 0);
    admit_init(&a, 1000000, 3);
    char s[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5000; i++) {
            sprintf(s, "10.%d.%d.1", i / 256, i % 256);
            struct net_addr x = A(s);
            CHECK_INT(admit_take(&a, &x), ADMIT_OK);
            CHECK_INT(admit_take(&a, &x), ADMIT_OK);
        }
        CHECK_INT(a.n_total, 10000);
        for (int i = 0; i < 5000; i += 2) { /* free every other address */
            sprintf(s, "10.%d.%d.1", i / 256, i % 256);
            struct net_addr x = A(s);
            admit_release(&a, &x);
            admit_release(&a, &x);
            CHECK_INT(admit_count(&a, &x), 0);
        }
        for (int i = 1; i < 5000; i += 2) { /* the rest are still counted */
            sprintf(s, "10.%d.%d.1", i / 256, i % 256);
            struct net_addr x = A(s);
            CHECK_INT(admit_count(&a, &x), 2);
            admit_release(&a, &x);
            admit_release(&a, &x);
        }
        CHECK_INT(a.n_total, 0);
        CHECK_INT(a.n_used, 0);
    }
    admit_free(&a);
}
