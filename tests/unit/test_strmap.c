/* Unit tests for base/strmap. */
#include <sodium.h>

#include "base/strmap.h"
#include "check.h"

TEST(put_get_del)
{
    struct strmap m;
    static char keys[3000][16];
    CHECK(sodium_init() >= 0);
    strmap_init(&m);
    for (int i = 0; i < 3000; i++) {
        sprintf(keys[i], "name%d", i);
        strmap_put(&m, keys[i], keys[i]);
    }
    for (int i = 0; i < 3000; i++)
        CHECK(strmap_get(&m, keys[i], strlen(keys[i])) == keys[i]);
    CHECK(strmap_get(&m, "name", 4) == NULL);
    CHECK(strmap_get(&m, "name1x", 6) == NULL);
    for (int i = 0; i < 3000; i += 3)
        strmap_del(&m, keys[i], strlen(keys[i]));
    for (int i = 0; i < 3000; i++) {
        void *want = i % 3 == 0 ? NULL : keys[i];
        CHECK(strmap_get(&m, keys[i], strlen(keys[i])) == want);
    }
    CHECK_INT(m.n_used, 2000);
    strmap_free(&m);
}

TEST(case_sensitive_and_prefix)
{
    struct strmap m;
    CHECK(sodium_init() >= 0);
    strmap_init(&m);
    strmap_put(&m, "Bob", "1");
    CHECK(strmap_get(&m, "bob", 3) == NULL);
    CHECK(strmap_get(&m, "Bobby", 3) != NULL); /* length-delimited lookup */
    CHECK(strmap_get(&m, "Bo", 2) == NULL);
    strmap_free(&m);
}
