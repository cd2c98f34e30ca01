/*
 * evlog: see evlog.h. Entry = header, varint length, payload; the table
 * of verbs below is part of nothing outside this process (the text is
 * what is stored), so it may change freely.
 */
#include "game/evlog.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

/* The verbs of match events (PROTOCOL §4, §12), the ones of every move
 * first (match_form tries them in order); index 0 is a whole line. */
#define V(w) {w, sizeof w - 1}
static const struct {
    const char *w;
    size_t len;
} verbs[] = {
    {NULL, 0},     V("PLAYED"),   V("TURN"),     V("TRICK"),   V("DRAW"),
    V("HAND"),     V("TAKE"),     V("SWEEP"),    V("PASSED"),  V("PASSING"),
    V("RECEIVED"), V("TABLE"),    V("TRUMP"),    V("DEAL"),    V("SCORE"),
    V("START"),    V("COMMIT"),   V("SEATED"),   V("UNSEATED"), V("AWAY"),
    V("BACK"),     V("CHAT"),     V("TIMEOUT"),  V("REPLACED"), V("END"),
    V("REVEAL"),
};
#undef V
#define N_VERBS (sizeof verbs / sizeof verbs[0])
_Static_assert(N_VERBS <= 32, "a verb index fits five bits");

/* The verb index of "<VERB> <id_key>" at the start of line and where its
 * rest begins (after the space that follows the id), or 0. A line
 * "<VERB> <id> " with an empty rest is kept whole, so that the text
 * comes back exactly. */
static unsigned match_form(const char *id_key, const char *line, size_t len,
                           size_t *rest)
{
    size_t vlen = 0;
    while (vlen < len && vlen < 9 && line[vlen] != ' ')
        vlen++;
    if (vlen == len || line[vlen] != ' ')
        return 0;
    unsigned v = 1;
    while (v < N_VERBS &&
           (verbs[v].len != vlen || verbs[v].w[0] != line[0] ||
            memcmp(verbs[v].w, line, vlen) != 0))
        v++;
    if (v == N_VERBS)
        return 0;
    size_t klen = strlen(id_key), end = vlen + 1 + klen;
    if (len < end || memcmp(line + vlen + 1, id_key, klen) != 0)
        return 0;
    if (end < len && (line[end] != ' ' || end + 1 == len))
        return 0;
    *rest = end < len ? end + 1 : len;
    return v;
}

static void reserve(struct evlog *e, size_t more)
{
    size_t need = (size_t)e->len + more;
    if (need <= e->cap)
        return;
    /* 1.5x from 256: a briscola match's ~1.1 KB ends in a 1 296-byte
     * buffer, not the 2x growth's 2 KiB. */
    size_t cap = e->cap ? e->cap : 256;
    while (cap < need)
        cap += cap / 2;
    assert(cap <= UINT32_MAX);
    e->buf = mem_realloc(e->buf, cap);
    e->cap = (uint32_t)cap;
}

void evlog_add(struct evlog *e, const char *id_key, int seat,
               const char *line, size_t len)
{
    assert(seat >= -1 && seat <= EVLOG_MAX_SEAT);
    assert(memchr(line, '\n', len) == NULL);
    size_t rest = 0;
    unsigned v = match_form(id_key, line, len, &rest);
    const char *p = v ? line + rest : line;
    size_t n = v ? len - rest : len;

    e->text_len += (uint32_t)(len + 1 + (seat >= 0 ? 3 : 0));
    reserve(e, 1 + 5 + n);
    e->buf[e->len++] = (uint8_t)(v | (unsigned)(seat + 1) << 5);
    size_t k = n;
    do {
        e->buf[e->len++] = (uint8_t)((k & 0x7f) | (k >= 0x80 ? 0x80 : 0));
        k >>= 7;
    } while (k > 0);
    memcpy(e->buf + e->len, p, n);
    e->len += (uint32_t)n;
}

/* One entry at *at: its header, payload and length; *at moves past it. */
static void entry(const struct evlog *e, size_t *at, unsigned *h,
                  const uint8_t **p, size_t *n)
{
    size_t i = *at, k = 0;
    unsigned shift = 0;
    *h = e->buf[i++];
    for (;;) {
        uint8_t b = e->buf[i++];
        k |= (size_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    *p = e->buf + i;
    *n = k;
    *at = i + k;
}

/* The text of one entry, LF included: into out if not NULL; its length. */
static size_t put_line(char *out, const char *id_key, size_t klen,
                       unsigned h, const uint8_t *p, size_t n)
{
    unsigned v = h & 0x1f, seat1 = h >> 5;
    size_t len = 0;

#define PUT(src, sz)                                                       \
    do {                                                                   \
        if (out != NULL)                                                   \
            memcpy(out + len, (src), (sz));                                \
        len += (sz);                                                       \
    } while (0)
    if (seat1 > 0) {
        char at[3] = {'@', (char)('0' + seat1 - 1), ' '};
        PUT(at, 3);
    }
    if (v > 0) {
        PUT(verbs[v].w, verbs[v].len);
        PUT(" ", 1);
        PUT(id_key, klen);
        if (n > 0)
            PUT(" ", 1);
    }
    PUT(p, n);
    PUT("\n", 1);
#undef PUT
    return len;
}

char *evlog_text(const struct evlog *e, const char *id_key, size_t *len_out)
{
    size_t total = e->text_len, at = 0, klen = strlen(id_key);
    unsigned h;
    const uint8_t *p;
    size_t n;

    char *text = mem_alloc(total + 1);
    size_t len = 0;
    at = 0;
    while (at < e->len) {
        entry(e, &at, &h, &p, &n);
        len += put_line(text + len, id_key, klen, h, p, n);
    }
    assert(len == total);
    text[len] = '\0';
    if (len_out != NULL)
        *len_out = len;
    return text;
}

bool evlog_drop_last(struct evlog *e, const char *id_key, const char *line,
                     size_t len)
{
    size_t at = 0, last = 0;
    unsigned h = 0;
    const uint8_t *p = NULL;
    size_t n = 0;

    if (e->len == 0)
        return false;
    while (at < e->len) { /* rare (an upgrade): a scan from the start */
        last = at;
        entry(e, &at, &h, &p, &n);
    }
    size_t rest = 0;
    unsigned v = match_form(id_key, line, len, &rest);
    const char *want = v ? line + rest : line;
    size_t want_n = v ? len - rest : len;
    if (h != v || n != want_n || memcmp(p, want, n) != 0)
        return false;
    e->len = (uint32_t)last;
    e->text_len -= (uint32_t)(len + 1);
    return true;
}

void evlog_free(struct evlog *e)
{
    free(e->buf);
    e->buf = NULL;
    e->len = e->cap = e->text_len = 0;
}
