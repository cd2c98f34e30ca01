/* Unit tests for base/pool. */
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "check.h"

TEST(reuses_what_it_keeps_zeroed)
{
    struct pool p;
    pool_init(&p, 100, 4);
    unsigned char *a = pool_get(&p), *b = pool_get(&p);
    CHECK(a != NULL && b != NULL && a != b);
    memset(a, 0xab, 100);
    pool_put(&p, a);
    CHECK_INT(p.n, 1);
    unsigned char *c = pool_get(&p);
    CHECK(c == a); /* the kept one, not a new one */
    for (int i = 0; i < 100; i++)
        CHECK_INT(c[i], 0);
    CHECK_INT(p.n, 0);
    CHECK_INT(p.n_made, 2);
    CHECK_INT(p.n_reused, 1);
    pool_put(&p, b);
    pool_put(&p, c);
    pool_put(&p, NULL); /* nothing */
    CHECK_INT(p.n, 2);
    pool_drain(&p);
    CHECK_INT(p.n, 0);
    CHECK(p.free_list == NULL);
}

TEST(keeps_at_most_max_and_takes_malloced_objects)
{
    struct pool p;
    void *v[10];
    pool_init(&p, 64, 3);
    for (int i = 0; i < 10; i++)
        v[i] = i % 2 ? pool_get(&p) : calloc(1, 64);
    for (int i = 0; i < 10; i++)
        pool_put(&p, v[i]); /* past 3, freed (ASan: no leak, no double free) */
    CHECK_INT(p.n, 3);
    /* Last in, first out: the three kept are v[0], v[1], v[2]. */
    void *a = pool_get(&p), *b = pool_get(&p), *c = pool_get(&p);
    CHECK(a == v[2] && b == v[1] && c == v[0]);
    void *d = pool_get(&p); /* empty: a new one */
    CHECK(d != a && d != b && d != c);
    free(a); /* what pool_get gives may go to free() */
    pool_put(&p, b);
    pool_put(&p, c);
    pool_put(&p, d);
    pool_drain(&p);
}

TEST(tiny_objects_hold_the_link)
{
    struct pool p;
    pool_init(&p, 1, 2);
    CHECK(p.size >= sizeof(void *));
    void *a = pool_get(&p), *b = pool_get(&p);
    pool_put(&p, a);
    pool_put(&p, b);
    CHECK(pool_get(&p) == b);
    CHECK(pool_get(&p) == a);
    free(a);
    free(b);
}

