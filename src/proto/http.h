/*
 * http: HTTP/1.1 requests for the web client and the WebSocket upgrade.
 *
 * Parsing is picohttpparser's (stateless, allocation-free); this module
 * adds the limits and rules of a strict GET/HEAD server: header size cap,
 * no request bodies, header lookup, keep-alive, and the RFC 6455 accept
 * key (SHA-1 and base64 from nettle). Pure: views into the caller's
 * buffer, valid while it is.
 */
#ifndef TAVOLO_PROTO_HTTP_H
#define TAVOLO_PROTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HTTP_MAX_HEADERS 32
#define HTTP_BAD (-1)       /* malformed: 400 */
#define HTTP_TOO_LARGE (-2) /* head over the cap or too many headers: 431 */
#define HTTP_BAD_VERSION (-3) /* HTTP/x.y other than 1.0 and 1.1: 505 */

/* Same layout as picohttpparser's struct phr_header. */
struct http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct http_request {
    const char *method, *path;
    size_t method_len, path_len;
    int minor_version;
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t n_headers;
};

/* Parses the request head at buf. Returns its length (> 0), 0 if more
 * bytes are needed, HTTP_BAD (malformed; also several Host headers, or
 * Content-Length headers that disagree: RFC 9112 §3.2, §6.3),
 * HTTP_TOO_LARGE, or HTTP_BAD_VERSION (a well-formed request line of
 * another HTTP version, as soon as that line is complete). */
ssize_t http_parse(const char *buf, size_t len, size_t max_head,
                   struct http_request *req);

/* The value of the first header called name (case-insensitive) or NULL. */
const struct http_header *http_header(const struct http_request *req,
                                      const char *name);

/* Does the comma-separated header value contain token (case-insensitive)? */
bool http_has_token(const struct http_header *h, const char *token);

/* Does the request carry a body (Content-Length > 0 or chunked)? */
bool http_has_body(const struct http_request *req);

/* Should the connection close after the response (HTTP/1.0 without
 * keep-alive, or Connection: close)? */
bool http_wants_close(const struct http_request *req);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: 0 and 28 characters plus
 * NUL in out, or -1 if the key is not base64 of 16 bytes. */
int http_ws_accept(const char *key, size_t key_len, char out[29]);

#endif
