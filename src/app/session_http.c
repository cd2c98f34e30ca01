/*
 * session_http: a session in the HTTP state — the web client's files,
 * the upgrade of GET /ws to a WebSocket that carries the line protocol
 * (PROTOCOL §2), and on the admin port /metrics and /healthz. Requests
 * follow each other on keep-alive connections; a head that never ends is
 * cut by the partial-line timeout.
 */
#include <stdio.h>
#include <string.h>

#include "app/metrics.h"
#include "app/relay.h"
#include "app/server.h"
#include "app/session.h"
#include "app/session_internal.h"
#include "app/web.h"
#include "net/conn.h"
#include "proto/http.h"
#include "proto/ws.h"

static void http_respond(struct session *s, int status, const char *reason,
                         const char *type, const void *body, size_t len,
                         bool head_only, bool keep_alive, const char *extra)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n"
                     "Server: tavolo\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-cache\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "%s%s\r\n",
                     status, reason, type, len, extra ? extra : "",
                     keep_alive ? "" : "Connection: close\r\n");
    metrics_http(&s->srv->metrics, status);
    conn_write(s->conn, head, (size_t)n);
    if (!head_only)
        conn_write(s->conn, body, len);
    if (!keep_alive)
        conn_close_after_flush(s->conn, "http done");
}

static void http_error(struct session *s, int status, const char *reason,
                       bool head_only, bool keep_alive, const char *extra)
{
    char body[128];
    int n = snprintf(body, sizeof body, "%d %s\n", status, reason);
    http_respond(s, status, reason, "text/plain; charset=utf-8", body, (size_t)n,
                 head_only, keep_alive, extra);
}

/* PROTOCOL §2 and docs/PROTOCOL.md §10: no Origin (not a browser) is
 * allowed; otherwise it must be this host, or listed in --allow-origin. */
static bool origin_allowed(struct session *s, const struct http_request *req)
{
    const struct http_header *origin = http_header(req, "Origin");
    const struct http_header *host = http_header(req, "Host");
    const char *allow = s->srv->cfg->allow_origin;

    if (origin == NULL)
        return true;
    if (allow != NULL) {
        if (strcmp(allow, "*") == 0)
            return true;
        for (const char *p = allow; *p;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            while (n > 0 && *p == ' ')
                p++, n--;
            while (n > 0 && p[n - 1] == ' ')
                n--;
            if (n == origin->value_len && memcmp(p, origin->value, n) == 0)
                return true;
            if (comma == NULL)
                break;
            p = comma + 1;
        }
        return false;
    }
    if (host == NULL)
        return false;
    static const char *const schemes[] = {"http://", "https://"};
    for (int i = 0; i < 2; i++) {
        size_t sl = strlen(schemes[i]);
        if (origin->value_len == sl + host->value_len &&
            memcmp(origin->value, schemes[i], sl) == 0 &&
            memcmp(origin->value + sl, host->value, host->value_len) == 0)
            return true;
    }
    return false;
}

static void ws_on_text(void *ctx, const char *text, size_t len)
{
    session_handle_line(ctx, text, len);
}

static void ws_write(void *ctx, const char *data, size_t len)
{
    struct session *s = ctx;
    if (s->conn != NULL)
        conn_write(s->conn, data, len);
}

static bool ws_is_busy(void *ctx)
{
    struct session *s = ctx;
    return s->is_waiting || s->conn == NULL || s->conn->is_closing ||
           s->conn->is_flush_closing;
}

static const struct ws_ops ws_ops = {ws_on_text, ws_write, ws_is_busy};

int session_ws_resume(struct session *s)
{
    s->ws = ws_new(&ws_ops, s, s->srv->cfg->max_line);
    if (s->ws == NULL)
        return -1;
    session_set_state(s, SESSION_WS);
    return 0;
}

/* GET /ws: RFC 6455 §4.2. Returns true if the connection is now a
 * WebSocket. */
static bool upgrade(struct session *s, const struct http_request *req)
{
    const struct http_header *key = http_header(req, "Sec-WebSocket-Key");
    const struct http_header *version = http_header(req, "Sec-WebSocket-Version");
    char accept[29], extra[160];

    if (req->minor_version < 1 ||
        !http_has_token(http_header(req, "Upgrade"), "websocket") ||
        !http_has_token(http_header(req, "Connection"), "upgrade")) {
        http_error(s, 426, "Upgrade Required", false, false,
                   "Upgrade: websocket\r\n");
        return false;
    }
    if (version == NULL || version->value_len != 2 ||
        memcmp(version->value, "13", 2) != 0) {
        http_error(s, 426, "Upgrade Required", false, false,
                   "Sec-WebSocket-Version: 13\r\n");
        return false;
    }
    if (key == NULL || http_ws_accept(key->value, key->value_len, accept) != 0) {
        http_error(s, 400, "Bad Request", false, false, NULL);
        return false;
    }
    if (!origin_allowed(s, req)) {
        http_error(s, 403, "Forbidden", false, false, NULL);
        return false;
    }
    s->ws = ws_new(&ws_ops, s, s->srv->cfg->max_line);
    if (s->ws == NULL) {
        http_error(s, 500, "Internal Server Error", false, false, NULL);
        return false;
    }
    int n = snprintf(extra, sizeof extra,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    metrics_http(&s->srv->metrics, 101);
    s->srv->metrics.ws_upgrades++;
    conn_write(s->conn, extra, (size_t)n);
    session_set_state(s, SESSION_WS);
    session_greet(s); /* HELLO as the first text message (PROTOCOL §2) */
    return true;
}

static void serve_admin(struct session *s, const char *path, size_t len,
                        bool head_only, bool keep_alive)
{
    const char *why = NULL;
    if (len == 8 && memcmp(path, "/healthz", 8) == 0 &&
        !relay_is_healthy(s->srv, &why)) {
        /* docs/CLUSTER.md: a load balancer drains this node */
        char body[64];
        int n = snprintf(body, sizeof body, "%s\n", why);
        http_respond(s, 503, "Service Unavailable", "text/plain; charset=utf-8",
                     body, (size_t)n, head_only, keep_alive, NULL);
    } else if (len == 8 && memcmp(path, "/healthz", 8) == 0) {
        http_respond(s, 200, "OK", "text/plain; charset=utf-8", "ok\n", 3,
                     head_only, keep_alive, NULL);
    } else if (len == 8 && memcmp(path, "/metrics", 8) == 0) {
        static char body[32768];
        size_t n = metrics_render(s->srv, body, sizeof body);
        http_respond(s, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                     body, n, head_only, keep_alive, NULL);
    } else {
        http_error(s, 404, "Not Found", head_only, keep_alive, NULL);
    }
}

static void serve_file(struct session *s, const char *path, size_t len,
                       bool head_only, bool keep_alive)
{
    if (len == 1 && path[0] == '/') {
        path = "/index.html";
        len = strlen(path);
    }
    for (const struct web_asset *a = web_assets; a->path != NULL; a++) {
        if (strlen(a->path) == len && memcmp(a->path, path, len) == 0) {
            http_respond(s, 200, "OK", a->type, a->data, a->len, head_only,
                         keep_alive,
                         "Content-Security-Policy: default-src 'self'; "
                         "connect-src 'self' ws: wss:; img-src 'self' data:\r\n");
            return;
        }
    }
    http_error(s, 404, "Not Found", head_only, keep_alive, NULL);
}

/* One request after another on a keep-alive connection; the partial-line
 * clock guards a head that never completes (a slow-loris client). */
size_t session_http_on_data(struct session *s, const char *data, size_t len)
{
    struct conn *c = s->conn;
    size_t used = 0;

    while (used < len && !c->is_closing && !c->is_flush_closing &&
           s->state == SESSION_HTTP) {
        struct http_request req;
        ssize_t n = http_parse(data + used, len - used, HTTP_MAX_HEAD, &req);
        if (n == 0)
            break;
        if (n == HTTP_BAD) {
            http_error(s, 400, "Bad Request", false, false, NULL);
            return len;
        }
        if (n == HTTP_BAD_VERSION) {
            http_error(s, 505, "HTTP Version Not Supported", false, false, NULL);
            return len;
        }
        if (n == HTTP_TOO_LARGE) {
            http_error(s, 431, "Request Header Fields Too Large", false, false, NULL);
            return len;
        }
        used += (size_t)n;
        bool is_get = req.method_len == 3 && memcmp(req.method, "GET", 3) == 0;
        bool is_head = req.method_len == 4 && memcmp(req.method, "HEAD", 4) == 0;
        bool keep_alive = !http_wants_close(&req);
        size_t path_len = req.path_len;
        const char *q = memchr(req.path, '?', req.path_len);
        if (q != NULL)
            path_len = (size_t)(q - req.path);
        if (!is_get && !is_head) {
            /* a body we will not read may follow: close after answering */
            http_error(s, 405, "Method Not Allowed", false, false,
                       "Allow: GET, HEAD\r\n");
            return len;
        }
        if (http_has_body(&req)) {
            http_error(s, 413, "Content Too Large", is_head, false, NULL);
            return len;
        }
        if (s->is_admin) {
            serve_admin(s, req.path, path_len, is_head, keep_alive);
        } else if (path_len == 3 && memcmp(req.path, "/ws", 3) == 0 && is_get) {
            if (upgrade(s, &req)) {
                dq_remove(&s->line_node);
                return used + session_on_data(c, data + used, len - used);
            }
            return len;
        } else {
            serve_file(s, req.path, path_len, is_head, keep_alive);
        }
    }
    if (c->is_closing || c->is_flush_closing || used == len)
        dq_remove(&s->line_node);
    else if (used > 0 || !dq_linked(&s->line_node))
        server_deadline_push(s->srv, &s->srv->line_q, &s->line_node);
    return c->is_closing || c->is_flush_closing ? len : used;
}


