/*
 * ban: see ban.h.
 *
 * Addresses are compared as unsigned 128-bit integers (big-endian bytes
 * to a GCC/Clang __int128), which makes prefix masks and range merging
 * plain arithmetic.
 */
#include "net/ban.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

typedef unsigned __int128 u128;

struct range {
    u128 lo, hi;
};

struct ban_set {
    struct range *ranges;
    size_t n_ranges;
};

static u128 to_u128(const struct net_addr *a)
{
    u128 v = 0;
    for (int i = 0; i < 16; i++)
        v = (v << 8) | a->b[i];
    return v;
}

/* Parses one entry (already trimmed, NUL-terminated). */
static int parse_entry(char *s, struct range *out)
{
    struct net_addr a;
    bool is_v4;
    long prefix = -1;
    char *slash = strchr(s, '/');

    if (slash != NULL) {
        char *end;
        *slash = '\0';
        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (errno != 0 || *end != '\0')
            return -1;
    }
    if (net_addr_parse(s, &a, &is_v4) != 0)
        return -1;
    long max = is_v4 ? 32 : 128;
    if (prefix < 0)
        prefix = max;
    if (prefix > max)
        return -1;
    int bits = (int)(prefix + (is_v4 ? 96 : 0)); /* prefix within 128 bits */
    u128 host_mask = bits == 0 ? ~(u128)0
                   : bits == 128 ? 0
                   : (((u128)1) << (128 - bits)) - 1;
    u128 v = to_u128(&a);
    out->lo = v & ~host_mask;
    out->hi = v | host_mask;
    return 0;
}

static int cmp_range(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

struct ban_set *ban_parse(const char *text, size_t len, size_t *n_entries,
                          size_t *bad_line)
{
    struct range *r = NULL;
    size_t n = 0, cap = 0, line_no = 0, pos = 0;
    char entry[128];

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = pos, b = end;
        line_no++;
        pos = end + 1;

        const char *hash = memchr(text + a, '#', b - a);
        if (hash != NULL)
            b = (size_t)(hash - text);
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a &&
               (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (a == b)
            continue;
        if (b - a >= sizeof entry)
            goto bad;
        memcpy(entry, text + a, b - a);
        entry[b - a] = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            r = mem_realloc(r, cap * sizeof *r);
        }
        if (parse_entry(entry, &r[n]) != 0)
            goto bad;
        n++;
    }
    *n_entries = n;

    /* Sort and merge overlapping or adjacent ranges, so that ranges are
     * disjoint and a binary search on lo finds the only candidate. */
    if (n > 0)
        qsort(r, n, sizeof *r, cmp_range);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && (r[i].lo <= r[m - 1].hi ||
                      (r[m - 1].hi != ~(u128)0 && r[i].lo == r[m - 1].hi + 1))) {
            if (r[i].hi > r[m - 1].hi)
                r[m - 1].hi = r[i].hi;
        } else {
            r[m++] = r[i];
        }
    }
    struct ban_set *set = mem_alloc(sizeof *set);
    set->ranges = r;
    set->n_ranges = m;
    return set;

bad:
    free(r);
    *bad_line = line_no;
    return NULL;
}

struct ban_set *ban_load_file(const char *path, size_t *n_entries, char *err,
                              size_t err_cap)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0, bad_line = 0;
    struct ban_set *set = NULL;

    if (f == NULL) {
        snprintf(err, err_cap, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 65536;
            text = mem_realloc(text, cap);
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, err_cap, "cannot read %s", path);
        goto out;
    }
    set = ban_parse(text, len, n_entries, &bad_line);
    if (set == NULL)
        snprintf(err, err_cap, "%s:%zu: not an IPv4/IPv6 address or CIDR block",
                 path, bad_line);
out:
    fclose(f);
    free(text);
    return set;
}

bool ban_match(const struct ban_set *set, const struct net_addr *addr)
{
    if (set == NULL || set->n_ranges == 0)
        return false;
    u128 v = to_u128(addr);
    size_t lo = 0, hi = set->n_ranges; /* find the last range with lo <= v */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->ranges[mid].lo <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && v <= set->ranges[lo - 1].hi;
}

size_t ban_n_ranges(const struct ban_set *set)
{
    return set ? set->n_ranges : 0;
}

void ban_free(struct ban_set *set)
{
    if (set == NULL)
        return;
    free(set->ranges);
    free(set);
}
