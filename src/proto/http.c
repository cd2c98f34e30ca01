/*
 * http: see http.h.
 *
 * Debian ships picohttpparser inside libh2o (its phr_* functions are
 * exported) but not its header; the declaration below is the library's
 * documented interface (picohttpparser.h).
 */
#include "proto/http.h"

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int phr_parse_request(const char *buf, size_t len, const char **method,
                      size_t *method_len, const char **path, size_t *path_len,
                      int *minor_version, struct http_header *headers,
                      size_t *num_headers, size_t last_len);

/* One Host at most (RFC 9112 §3.2), and Content-Length headers (or list
 * members) that all say the same (§6.3): a request that two parsers could
 * read differently is refused, not guessed at. */
static bool heads_agree(const struct http_request *req)
{
    const char *cl = NULL;
    size_t cl_len = 0;
    int n_host = 0;

    for (size_t i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name_len == 4 && strncasecmp(h->name, "Host", 4) == 0 &&
            ++n_host > 1)
            return false;
        if (h->name_len != 14 || strncasecmp(h->name, "Content-Length", 14) != 0)
            continue;
        for (size_t at = 0; at <= h->value_len;) {
            const char *comma = memchr(h->value + at, ',', h->value_len - at);
            size_t end = comma ? (size_t)(comma - h->value) : h->value_len;
            size_t b = at, e = end;
            while (b < e && (h->value[b] == ' ' || h->value[b] == '\t'))
                b++;
            while (e > b && (h->value[e - 1] == ' ' || h->value[e - 1] == '\t'))
                e--;
            if (cl == NULL) {
                cl = h->value + b;
                cl_len = e - b;
            } else if (e - b != cl_len || memcmp(h->value + b, cl, cl_len) != 0) {
                return false;
            }
            at = end + 1;
        }
    }
    return true;
}

/* Is the complete first line a request line of an HTTP version that is
 * not 1.x ("GET / HTTP/2.0")? picohttpparser only knows 1.x. */
static bool other_version(const char *buf, size_t len)
{
    const char *eol = memchr(buf, '\n', len);
    if (eol == NULL)
        return false;
    size_t n = (size_t)(eol - buf);
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    /* "HTTP/d.d" at the end, after a space */
    if (n < 9 || buf[n - 9] != ' ' || memcmp(buf + n - 8, "HTTP/", 5) != 0)
        return false;
    const char *v = buf + n - 3;
    return v[0] >= '0' && v[0] <= '9' && v[1] == '.' && v[2] >= '0' &&
           v[2] <= '9' && v[0] != '1';
}

ssize_t http_parse(const char *buf, size_t len, size_t max_head,
                   struct http_request *req)
{
    size_t scan = len < max_head ? len : max_head;

    req->n_headers = HTTP_MAX_HEADERS;
    int n = phr_parse_request(buf, scan, &req->method, &req->method_len,
                              &req->path, &req->path_len, &req->minor_version,
                              req->headers, &req->n_headers, 0);
    if (n > 0) {
        if (req->minor_version > 1)
            return HTTP_BAD_VERSION;
        return heads_agree(req) ? n : HTTP_BAD;
    }
    if (n == -1) {
        if (other_version(buf, scan))
            return HTTP_BAD_VERSION;
        /* picohttpparser also says -1 when the header array is full */
        return req->n_headers == HTTP_MAX_HEADERS ? HTTP_TOO_LARGE : HTTP_BAD;
    }
    return len >= max_head ? HTTP_TOO_LARGE : 0; /* -2: incomplete */
}

const struct http_header *http_header(const struct http_request *req,
                                      const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++)
        if (req->headers[i].name_len == len &&
            strncasecmp(req->headers[i].name, name, len) == 0)
            return &req->headers[i];
    return NULL;
}

bool http_has_token(const struct http_header *h, const char *token)
{
    size_t tlen = strlen(token), i = 0;

    if (h == NULL)
        return false;
    while (i < h->value_len) {
        while (i < h->value_len && (h->value[i] == ' ' || h->value[i] == ','))
            i++;
        size_t start = i;
        while (i < h->value_len && h->value[i] != ',')
            i++;
        size_t end = i;
        while (end > start && h->value[end - 1] == ' ')
            end--;
        if (end - start == tlen && strncasecmp(h->value + start, token, tlen) == 0)
            return true;
    }
    return false;
}

bool http_has_body(const struct http_request *req)
{
    const struct http_header *cl = http_header(req, "Content-Length");
    if (http_header(req, "Transfer-Encoding") != NULL)
        return true;
    if (cl == NULL)
        return false;
    for (size_t i = 0; i < cl->value_len; i++)
        if (cl->value[i] != '0' && cl->value[i] != ' ')
            return true;
    return false;
}

bool http_wants_close(const struct http_request *req)
{
    const struct http_header *c = http_header(req, "Connection");
    if (req->minor_version == 0)
        return !http_has_token(c, "keep-alive");
    return http_has_token(c, "close");
}

int http_ws_accept(const char *key, size_t key_len, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    uint8_t raw[BASE64_DECODE_LENGTH(64)];
    size_t raw_len = sizeof raw;
    struct base64_decode_ctx dec;
    struct sha1_ctx sha;
    uint8_t digest[SHA1_DIGEST_SIZE];

    /* The key must be base64 of exactly 16 bytes (RFC 6455 §4.1): 24 chars. */
    if (key_len != 24)
        return -1;
    base64_decode_init(&dec);
    if (!base64_decode_update(&dec, &raw_len, raw, key_len, (const char *)key) ||
        !base64_decode_final(&dec) || raw_len != 16)
        return -1;
    sha1_init(&sha);
    sha1_update(&sha, key_len, (const uint8_t *)key);
    sha1_update(&sha, sizeof guid - 1, (const uint8_t *)guid);
    sha1_digest(&sha, sizeof digest, digest);
    base64_encode_raw((char *)out, sizeof digest, digest);
    out[28] = '\0';
    return 0;
}
