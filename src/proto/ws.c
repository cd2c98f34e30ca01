/*
 * ws: see ws.h. wslay's event API pulls bytes through recv_callback and
 * pushes them through send_callback; both are served from memory here, so
 * wslay never sees a socket.
 */
#include "proto/ws.h"

#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "base/mem.h"

struct pending {
    struct pending *next;
    size_t len;
    char text[];
};

struct ws {
    wslay_event_context_ptr ev;
    const struct ws_ops *ops;
    void *ctx;
    const char *in;          /* the bytes being fed */
    size_t in_len, in_pos;
    struct pending *head, *tail; /* messages that arrived while busy */
    bool is_failed;
};

static ssize_t recv_cb(wslay_event_context_ptr ev, uint8_t *buf, size_t len,
                       int flags, void *user)
{
    struct ws *ws = user;
    (void)flags;
    size_t left = ws->in_len - ws->in_pos;

    if (left == 0 || ws->ops->is_busy(ws->ctx)) {
        wslay_event_set_error(ev, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = left < len ? left : len;
    memcpy(buf, ws->in + ws->in_pos, n);
    ws->in_pos += n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ev, const uint8_t *data,
                       size_t len, int flags, void *user)
{
    struct ws *ws = user;
    (void)ev;
    (void)flags;
    ws->ops->write(ws->ctx, (const char *)data, len);
    return (ssize_t)len;
}

static int genmask_cb(wslay_event_context_ptr ev, uint8_t *buf, size_t len,
                      void *user)
{
    (void)ev;
    (void)user;
    memset(buf, 0, len); /* a server never masks */
    return 0;
}

static void on_msg(wslay_event_context_ptr ev,
                   const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    struct ws *ws = user;

    if (arg->opcode == WSLAY_BINARY_FRAME) {
        wslay_event_queue_close(ev, WSLAY_CODE_UNSUPPORTED_DATA,
                                (const uint8_t *)"text frames only", 16);
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME)
        return; /* ping, pong, close: wslay answers them itself */
    if (ws->head == NULL && !ws->ops->is_busy(ws->ctx)) {
        ws->ops->on_text(ws->ctx, (const char *)arg->msg, arg->msg_length);
        return;
    }
    struct pending *p = mem_alloc(sizeof *p + arg->msg_length);
    p->next = NULL;
    p->len = arg->msg_length;
    memcpy(p->text, arg->msg, arg->msg_length);
    if (ws->tail)
        ws->tail->next = p;
    else
        ws->head = p;
    ws->tail = p;
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .genmask_callback = genmask_cb,
    .on_msg_recv_callback = on_msg,
};

struct ws *ws_new(const struct ws_ops *ops, void *ctx, size_t max_msg)
{
    struct ws *ws = mem_calloc(1, sizeof *ws);

    ws->ops = ops;
    ws->ctx = ctx;
    if (wslay_event_context_server_init(&ws->ev, &callbacks, ws) != 0) {
        free(ws);
        return NULL;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ev, max_msg);
    return ws;
}

void ws_free(struct ws *ws)
{
    if (ws == NULL)
        return;
    while (ws->head) {
        struct pending *p = ws->head;
        ws->head = p->next;
        free(p);
    }
    wslay_event_context_free(ws->ev);
    free(ws);
}

static void flush(struct ws *ws)
{
    if (!ws->is_failed && wslay_event_want_write(ws->ev) &&
        wslay_event_send(ws->ev) != 0)
        ws->is_failed = true;
}

size_t ws_feed(struct ws *ws, const char *data, size_t len)
{
    /* Messages kept while busy go first, in order. */
    while (ws->head != NULL && !ws->ops->is_busy(ws->ctx)) {
        struct pending *p = ws->head;
        ws->head = p->next;
        if (ws->head == NULL)
            ws->tail = NULL;
        ws->ops->on_text(ws->ctx, p->text, p->len);
        free(p);
    }
    ws->in = data;
    ws->in_len = len;
    ws->in_pos = 0;
    if (!ws->is_failed && len > 0 && wslay_event_want_read(ws->ev) &&
        wslay_event_recv(ws->ev) != 0)
        ws->is_failed = true; /* a protocol error: wslay queued the close */
    flush(ws);
    size_t used = ws->in_pos;
    ws->in = NULL;
    ws->in_len = ws->in_pos = 0;
    /* After a protocol error or once closing, the rest is never read. */
    return ws->is_failed || !wslay_event_want_read(ws->ev) ? len : used;
}

void ws_send_text(struct ws *ws, const char *text, size_t len)
{
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};

    if (ws->is_failed || wslay_event_get_close_sent(ws->ev))
        return;
    if (wslay_event_queue_msg(ws->ev, &msg) == 0)
        flush(ws);
}

bool ws_is_done(const struct ws *ws)
{
    /* Once our close frame is out we do not wait for the peer's: a client
     * that never answers must not keep the connection (RFC 6455 §7.1.1
     * lets the server close the TCP connection first). */
    return ws->is_failed || wslay_event_get_close_sent(ws->ev) ||
           (!wslay_event_want_read(ws->ev) && !wslay_event_want_write(ws->ev));
}
