/* Unit tests for proto/http: request edge cases and the upgrade key. */
#include "check.h"
#include "proto/http.h"

static const char simple[] =
    "GET /app.js?x=1 HTTP/1.1\r\nHost: example\r\nConnection: keep-alive, Upgrade\r\n"
    "Upgrade: WebSocket\r\n\r\n";

TEST(parses_a_request_and_its_headers)
{
    struct http_request r;
    ssize_t n = http_parse(simple, strlen(simple), 8192, &r);
    CHECK_INT(n, (ssize_t)strlen(simple));
    CHECK_MEM(r.method, r.method_len, "GET");
    CHECK_MEM(r.path, r.path_len, "/app.js?x=1");
    CHECK_INT(r.minor_version, 1);
    CHECK_INT(r.n_headers, 3);
    const struct http_header *h = http_header(&r, "host");
    CHECK(h != NULL);
    CHECK_MEM(h->value, h->value_len, "example");
    CHECK(http_has_token(http_header(&r, "Connection"), "upgrade"));
    CHECK(http_has_token(http_header(&r, "Connection"), "keep-alive"));
    CHECK(!http_has_token(http_header(&r, "Connection"), "close"));
    CHECK(http_has_token(http_header(&r, "Upgrade"), "websocket"));
    CHECK(http_header(&r, "Origin") == NULL);
    CHECK(!http_wants_close(&r));
    CHECK(!http_has_body(&r));
}

TEST(every_split_needs_more_until_complete)
{
    struct http_request r;
    size_t len = strlen(simple);
    for (size_t k = 0; k < len; k++)
        CHECK_INT(http_parse(simple, k, 8192, &r), 0);
    CHECK_INT(http_parse(simple, len, 8192, &r), (ssize_t)len);
}

TEST(malformed_and_too_large)
{
    struct http_request r;
    const char *bad[] = {"GET\r\n\r\n", "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                         "GET / HTTP/9\r\n\r\n", "\x01\x02 / HTTP/1.1\r\n\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(http_parse(bad[i], strlen(bad[i]), 8192, &r), HTTP_BAD);
    char big[9000];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    CHECK_INT(http_parse(big, sizeof big, 8192, &r), HTTP_TOO_LARGE);
    CHECK_INT(http_parse(big, 4000, 8192, &r), 0); /* still growing */
    char many[4096];
    size_t n = (size_t)sprintf(many, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
        n += (size_t)sprintf(many + n, "H%d: v\r\n", i);
    n += (size_t)sprintf(many + n, "\r\n");
    CHECK_INT(http_parse(many, n, 8192, &r), HTTP_TOO_LARGE);
}

TEST(bodies_and_keep_alive)
{
    struct http_request r;
    const char *a = "GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
    CHECK(http_parse(a, strlen(a), 8192, &r) > 0);
    CHECK(!http_has_body(&r));
    const char *b = "GET / HTTP/1.1\r\nContent-Length: 12\r\n\r\n";
    CHECK(http_parse(b, strlen(b), 8192, &r) > 0);
    CHECK(http_has_body(&r));
    const char *c = "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(http_parse(c, strlen(c), 8192, &r) > 0);
    CHECK(http_has_body(&r));
    const char *d = "GET / HTTP/1.0\r\n\r\n";
    CHECK(http_parse(d, strlen(d), 8192, &r) > 0);
    CHECK(http_wants_close(&r));
    const char *e = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    CHECK(http_parse(e, strlen(e), 8192, &r) > 0);
    CHECK(!http_wants_close(&r));
    const char *f = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    CHECK(http_parse(f, strlen(f), 8192, &r) > 0);
    CHECK(http_wants_close(&r));
}

TEST(websocket_accept_key)
{
    char out[29];
    /* the example of RFC 6455 §1.3 */
    CHECK_INT(http_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out), 0);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_INT(http_ws_accept("short", 5, out), -1);
    CHECK_INT(http_ws_accept("dGhlIHNhbXBsZSBub25jZQ=!", 24, out), -1);
    CHECK_INT(http_ws_accept("dGhlIHNhbXBsZSBub25jZQAA", 24, out), -1); /* 18 bytes */
}

TEST(no_overread_at_page_end)
{
    char *end = guard_page_end();
    struct http_request r;
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\n";
    size_t len = strlen(req);
    /* every prefix of an unfinished head, ending right at the guard page */
    for (size_t k = 0; k <= len; k++) {
        memcpy(end - k, req, k);
        CHECK_INT(http_parse(end - k, k, 8192, &r), 0);
    }
}

TEST(other_versions_are_505)
{
    struct http_request r;
    const char *v[] = {"GET / HTTP/1.9\r\nHost: a\r\n\r\n",
                       "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
                       "GET / HTTP/0.9\r\n", /* as soon as the line is in */
                       "HEAD /x HTTP/3.0\r\nHost: a\r\n"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        CHECK_INT(http_parse(v[i], strlen(v[i]), 8192, &r), HTTP_BAD_VERSION);
    const char *ok = "GET / HTTP/1.0\r\n\r\n";
    CHECK_INT(http_parse(ok, strlen(ok), 8192, &r), (ssize_t)strlen(ok));
}

TEST(ambiguous_heads_are_bad)
{
    struct http_request r;
    const char *bad[] = {
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n",
        "GET / HTTP/1.1\r\ncontent-length: 0, 7\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(http_parse(bad[i], strlen(bad[i]), 8192, &r), HTTP_BAD);
    /* the same length twice says one thing: allowed (RFC 9112 §6.3) */
    const char *same = "GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0, 0\r\n\r\n";
    CHECK_INT(http_parse(same, strlen(same), 8192, &r), (ssize_t)strlen(same));
}
