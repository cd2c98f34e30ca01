/* Unit tests for net/ban: parsing and matching. */
#include <sodium.h>

#include "check.h"
#include "net/ban.h"

static struct net_addr A(const char *s)
{
    struct net_addr a;
    bool v4;
    if (net_addr_parse(s, &a, &v4) != 0)
        FAIL_("bad test address %s", s);
    return a;
}

static struct ban_set *parse(const char *text)
{
    size_t n, bad = 0;
    struct ban_set *set = ban_parse(text, strlen(text), &n, &bad);
    if (set == NULL)
        FAIL_("parse failed at line %zu", bad);
    return set;
}


static bool hit(struct ban_set *set, const char *s)
{
    struct net_addr a = A(s);
    return ban_match(set, &a);
}

TEST(single_addresses_v4_v6_and_mapped)
{
    struct ban_set *set = parse("10.1.2.3\n2001:db8::1\n");
    CHECK(hit(set, "10.1.2.3"));
    CHECK(hit(set, "::ffff:10.1.2.3")); /* a mapped peer matches the v4 entry */
    CHECK(!hit(set, "10.1.2.4"));
    CHECK(hit(set, "2001:db8::1"));
    CHECK(!hit(set, "2001:db8::2"));
    ban_free(set);
}

TEST(cidr_edges)
{
    struct ban_set *set = parse("192.168.0.0/16\n2001:db8:abcd::/48\n127.0.0.5/32\n::1/128\n");
    CHECK(hit(set, "192.168.0.0"));
    CHECK(hit(set, "192.168.255.255"));
    CHECK(!hit(set, "192.169.0.0"));
    CHECK(!hit(set, "192.167.255.255"));
    CHECK(hit(set, "2001:db8:abcd:ffff:ffff:ffff:ffff:ffff"));
    CHECK(!hit(set, "2001:db8:abce::"));
    CHECK(hit(set, "127.0.0.5"));
    CHECK(!hit(set, "127.0.0.4"));
    CHECK(!hit(set, "127.0.0.6"));
    CHECK(hit(set, "::1"));
    CHECK(!hit(set, "::2"));
    ban_free(set);
}

TEST(slash_zero)
{
    struct ban_set *v4all = parse("0.0.0.0/0");
    CHECK(hit(v4all, "1.2.3.4"));
    CHECK(hit(v4all, "255.255.255.255"));
    CHECK(!hit(v4all, "2001:db8::1")); /* v4 /0 is all of IPv4 only */
    ban_free(v4all);
    struct ban_set *all = parse("::/0");
    CHECK(hit(all, "2001:db8::1"));
    CHECK(hit(all, "1.2.3.4"));
    ban_free(all);
}

TEST(host_bits_ignored)
{
    struct ban_set *set = parse("10.9.8.7/8");
    CHECK(hit(set, "10.0.0.0"));
    CHECK(hit(set, "10.255.255.255"));
    CHECK(!hit(set, "11.0.0.0"));
    ban_free(set);
}

TEST(comments_blank_lines_spaces)
{
    struct ban_set *set = parse("# a comment\n\n   \n  10.0.0.1  # trailing\r\n\t::1\n");
    CHECK(hit(set, "10.0.0.1"));
    CHECK(hit(set, "::1"));
    CHECK(!hit(set, "10.0.0.2"));
    ban_free(set);
}

TEST(bad_lines_report_line_number)
{
    const char *cases[] = {"10.0.0.1\nnot-an-ip\n", "10.0.0.1\n10.0.0.0/33\n",
                           "10.0.0.1\n::/129\n", "10.0.0.1\n10.0.0.1/\n",
                           "10.0.0.1\n10.0.0.1/-1\n", "10.0.0.1\n10.0.0.256\n",
                           "10.0.0.1\n1.2.3.4 5.6.7.8\n"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n, bad = 0;
        CHECK(ban_parse(cases[i], strlen(cases[i]), &n, &bad) == NULL);
        CHECK_INT(bad, 2);
    }
}

TEST(overlaps_merge)
{
    struct ban_set *set = parse("10.0.0.0/24\n10.0.0.128/25\n10.0.1.0/24\n10.0.3.0/24\n");
    CHECK_INT(ban_n_ranges(set), 2); /* 10.0.0.0-10.0.1.255 and 10.0.3.0/24 */
    CHECK(hit(set, "10.0.1.77"));
    CHECK(!hit(set, "10.0.2.1"));
    CHECK(hit(set, "10.0.3.1"));
    ban_free(set);
}

TEST(empty_and_null_sets)
{
    struct ban_set *set = parse("# nothing\n");
    CHECK(!hit(set, "1.2.3.4"));
    ban_free(set);
    struct net_addr a = A("1.2.3.4");
    CHECK(!ban_match(NULL, &a));
    ban_free(NULL);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static bool in_sorted(const uint32_t *v, size_t n, uint32_t x)
{
    return bsearch(&x, v, n, sizeof *v, cmp_u32) != NULL;
}

TEST(hundred_thousand_entries_against_an_oracle)
{
    /* Random /32s and /24s: every lookup agrees with a naive oracle. The
     * oracle is two sorted lists of the entries' bases (exact /32s, /24
     * networks) searched by bsearch, written apart from ban.c's merged
     * ranges. It was a linear scan over all N entries per lookup: 10^9
     * comparisons, ~21 s in the release build and past check.h's 60 s
     * alarm under ASan on a loaded 2-core machine (scripts/fresh-check.sh
     * found it). Same entries, same 20000 lookups. */
    enum { N = 100000 };
    static uint32_t base[N];
    static uint8_t is24[N];
    char *text = malloc((size_t)N * 24);
    size_t len = 0;
    CHECK(sodium_init() >= 0);
    for (int i = 0; i < N; i++) {
        base[i] = randombytes_random();
        is24[i] = (uint8_t)(randombytes_uniform(4) == 0);
        if (is24[i])
            base[i] &= 0xFFFFFF00u;
        len += (size_t)sprintf(text + len, "%u.%u.%u.%u%s\n", base[i] >> 24,
                               (base[i] >> 16) & 255, (base[i] >> 8) & 255,
                               base[i] & 255, is24[i] ? "/24" : "");
    }
    size_t n, bad;
    struct ban_set *set = ban_parse(text, len, &n, &bad);
    CHECK(set != NULL);
    CHECK_INT(n, N);
    static uint32_t exact[N], net24[N];
    size_t n32 = 0, n24 = 0;
    for (int i = 0; i < N; i++) {
        if (is24[i])
            net24[n24++] = base[i];
        else
            exact[n32++] = base[i];
    }
    qsort(exact, n32, sizeof exact[0], cmp_u32);
    qsort(net24, n24, sizeof net24[0], cmp_u32);
    for (int k = 0; k < 20000; k++) {
        uint32_t ip = k % 2 ? randombytes_random() : base[randombytes_uniform(N)] + randombytes_uniform(3);
        bool want = in_sorted(exact, n32, ip) || in_sorted(net24, n24, ip & 0xFFFFFF00u);
        char s[32];
        sprintf(s, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
        if (hit(set, s) != want)
            FAIL_("%s: got %d want %d", s, !want, want);
    }
    ban_free(set);
    free(text);
}
