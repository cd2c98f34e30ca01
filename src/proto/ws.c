/*
 * ws: see ws.h. wslay's event API pulls bytes through recv_callback and
 * pushes them through send_callback; both are served from memory here, so
 * wslay never sees a socket.
 *
 * In front of wslay sits a frame-header check of our own. It lets through
 * only whole frames, one wslay_event_recv per frame, so that:
 *  - wslay's input buffer is empty between frames and its context (about
 *    8.5 KB: two 4 KiB buffers and queues) can be freed whenever no
 *    fragmented message is in progress and nothing is queued, and made
 *    again for the next frame: an idle WebSocket costs this struct alone;
 *  - a header that declares more than max_msg is answered with 1009 as
 *    soon as the header is here, not when (if ever) its payload arrives;
 *  - headers that wslay's frame layer rejects without a status code (a
 *    control frame over 125 bytes or fragmented, a non-minimal or 64-bit
 *    length with the top bit set) and a 1-byte close payload get a 1002
 *    close frame before the connection ends, not a bare drop;
 *  - a fragmented message may have at most WS_MAX_FRAGMENTS frames, so
 *    endless empty continuations end with 1008.
 * A partial frame stays with the caller (ws_feed does not consume it),
 * bounded by the caller's input cap: a header plus max_msg bytes.
 *
 * Text frames to the peer are framed here (a FIN text frame, unmasked, with
 * a 2-, 4- or 10-byte header): a server's frame needs no state, and this
 * keeps sending from creating a wslay context for every event line.
 */
#include "proto/ws.h"

#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "base/mem.h"

#define WS_MAX_FRAGMENTS 64 /* frames in one message, control frames too */

struct pending {
    struct pending *next;
    size_t len;
    char text[];
};

struct ws {
    wslay_event_context_ptr ev; /* NULL while idle (see above) */
    const struct ws_ops *ops;
    void *ctx;
    size_t max_msg;
    const char *in;          /* the frame being fed to wslay */
    size_t in_len, in_pos;
    struct pending *head, *tail; /* messages that arrived while busy */
    uint64_t msg_len;        /* payload so far of the message in progress */
    uint32_t n_fragments;    /* frames so far of the message in progress */
    bool is_in_message;      /* a fragmented data message has not ended */
    /* The raw data frames of that message so far (ws_replay): at most
     * WS_MAX_FRAGMENTS headers and max_msg bytes of payload. */
    char *replay;
    size_t replay_len;
    bool is_failed;          /* nothing more is read; close when flushed */
    bool is_close_sent;
};

static ssize_t recv_cb(wslay_event_context_ptr ev, uint8_t *buf, size_t len,
                       int flags, void *user)
{
    struct ws *ws = user;
    (void)flags;
    size_t left = ws->in_len - ws->in_pos;

    if (left == 0) {
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

/* The wslay context, made on first need. Returns false if wslay cannot
 * make one (out of memory inside wslay). */
static bool engine(struct ws *ws)
{
    if (ws->ev != NULL)
        return true;
    if (wslay_event_context_server_init(&ws->ev, &callbacks, ws) != 0) {
        ws->ev = NULL;
        return false;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ev, ws->max_msg);
    return true;
}

static void flush(struct ws *ws)
{
    if (ws->ev == NULL)
        return;
    /* Also after a failure: the close frame wslay or we queued must go
     * out before the connection closes. */
    if (wslay_event_want_write(ws->ev) && wslay_event_send(ws->ev) != 0)
        ws->is_failed = true;
    if (wslay_event_get_close_sent(ws->ev))
        ws->is_close_sent = true;
}

/* Frees the context when it holds nothing: no message in progress, no
 * output queued, no close begun. A fresh one behaves the same. */
static void idle(struct ws *ws)
{
    if (ws->ev == NULL || ws->is_in_message || ws->is_failed ||
        ws->is_close_sent || wslay_event_want_write(ws->ev) ||
        !wslay_event_get_read_enabled(ws->ev) ||
        wslay_event_get_close_received(ws->ev))
        return;
    wslay_event_context_free(ws->ev);
    ws->ev = NULL;
}

/* A protocol violation found in a header: close with code, then read no
 * more. */
static void fail(struct ws *ws, uint16_t code, const char *reason)
{
    if (!ws->is_failed && !ws->is_close_sent && engine(ws))
        wslay_event_queue_close(ws->ev, code, (const uint8_t *)reason,
                                strlen(reason));
    ws->is_failed = true;
    flush(ws);
}

struct ws *ws_new(const struct ws_ops *ops, void *ctx, size_t max_msg)
{
    struct ws *ws = mem_calloc(1, sizeof *ws);

    ws->ops = ops;
    ws->ctx = ctx;
    ws->max_msg = max_msg;
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
    free(ws->replay);
    free(ws);
}

/* RFC 6455 §5.2 header of the frame at data: returns its length (>0), 0
 * if more bytes are needed, or -1 after failing the connection. Checks
 * what can be checked before the payload. */
static ssize_t check_head(struct ws *ws, const unsigned char *p, size_t len,
                          uint64_t *payload_len)
{
    if (len < 2)
        return 0;
    bool fin = p[0] & 0x80, is_masked = p[1] & 0x80;
    unsigned rsv = p[0] & 0x70, op = p[0] & 0x0F, n7 = p[1] & 0x7F;
    size_t head = 2 + (n7 == 126 ? 2 : n7 == 127 ? 8 : 0) + (is_masked ? 4 : 0);
    bool is_control = op >= 8;

    if (rsv != 0 || !is_masked || (op > 2 && op < 8) || op > 10) {
        fail(ws, WSLAY_CODE_PROTOCOL_ERROR, "bad frame header");
        return -1;
    }
    if (is_control && (!fin || n7 > 125)) {
        fail(ws, WSLAY_CODE_PROTOCOL_ERROR, "bad control frame");
        return -1;
    }
    if (is_control && op == WSLAY_CONNECTION_CLOSE && n7 == 1) {
        fail(ws, WSLAY_CODE_PROTOCOL_ERROR, "1-byte close payload");
        return -1;
    }
    if (len < 2 + (n7 == 126 ? 2u : n7 == 127 ? 8u : 0u))
        return 0;
    uint64_t n = n7;
    if (n7 == 126) {
        n = (uint64_t)p[2] << 8 | p[3];
        if (n < 126) {
            fail(ws, WSLAY_CODE_PROTOCOL_ERROR, "non-minimal length");
            return -1;
        }
    } else if (n7 == 127) {
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | p[2 + i];
        if (n >> 63 || n < 65536) {
            fail(ws, WSLAY_CODE_PROTOCOL_ERROR, "bad 64-bit length");
            return -1;
        }
    }
    if (!is_control) {
        /* Checked against what the message has so far, now: waiting for
         * 2^40 bytes of payload would mean never answering. */
        bool is_continuation = op == WSLAY_CONTINUATION_FRAME;
        if (is_continuation != ws->is_in_message) {
            fail(ws, WSLAY_CODE_PROTOCOL_ERROR, "bad fragment sequence");
            return -1;
        }
        if ((is_continuation ? ws->msg_len : 0) + n > ws->max_msg) {
            fail(ws, WSLAY_CODE_MESSAGE_TOO_BIG, "message too long");
            return -1;
        }
    }
    if (ws->is_in_message && ++ws->n_fragments > WS_MAX_FRAGMENTS) {
        fail(ws, WSLAY_CODE_POLICY_VIOLATION, "too many fragments");
        return -1;
    }
    if (len < head)
        return 0;
    *payload_len = n;
    return (ssize_t)head;
}

/* One whole frame through wslay, and what it means for the message. */
static void feed_frame(struct ws *ws, const char *frame, size_t len,
                       uint64_t payload_len)
{
    unsigned op = (unsigned char)frame[0] & 0x0F;
    bool fin = frame[0] & 0x80;

    if (!engine(ws)) {
        ws->is_failed = true;
        return;
    }
    ws->in = frame;
    ws->in_len = len;
    ws->in_pos = 0;
    if (wslay_event_recv(ws->ev) != 0)
        ws->is_failed = true; /* wslay queued its close */
    else if (!wslay_event_get_read_enabled(ws->ev))
        ws->is_failed = true; /* closing: wslay answered or refused */
    ws->in = NULL;
    ws->in_len = ws->in_pos = 0;
    if (op < 8) { /* a data frame: where the message stands */
        ws->msg_len = op == WSLAY_CONTINUATION_FRAME
                          ? ws->msg_len + payload_len : payload_len;
        ws->is_in_message = !fin;
        if (fin) {
            ws->msg_len = 0;
            ws->n_fragments = 0;
            free(ws->replay);
            ws->replay = NULL;
            ws->replay_len = 0;
        } else {
            if (op != WSLAY_CONTINUATION_FRAME)
                ws->n_fragments = 1;
            ws->replay = mem_realloc(ws->replay, ws->replay_len + len);
            memcpy(ws->replay + ws->replay_len, frame, len);
            ws->replay_len += len;
        }
    }
}

size_t ws_feed(struct ws *ws, const char *data, size_t len)
{
    size_t used = 0;

    /* Messages kept while busy go first, in order. */
    while (ws->head != NULL && !ws->ops->is_busy(ws->ctx)) {
        struct pending *p = ws->head;
        ws->head = p->next;
        if (ws->head == NULL)
            ws->tail = NULL;
        ws->ops->on_text(ws->ctx, p->text, p->len);
        free(p);
    }
    while (!ws->is_failed && !ws->is_close_sent && used < len &&
           ws->head == NULL && !ws->ops->is_busy(ws->ctx)) {
        uint64_t payload_len = 0;
        ssize_t head = check_head(ws, (const unsigned char *)data + used,
                                  len - used, &payload_len);
        if (head <= 0)
            break;
        if (payload_len > len - used - (size_t)head)
            break; /* the caller keeps the partial frame */
        size_t frame_len = (size_t)head + (size_t)payload_len;
        feed_frame(ws, data + used, frame_len, payload_len);
        used += frame_len;
        flush(ws);
    }
    flush(ws);
    idle(ws);
    /* After a protocol error or once closing, the rest is never read. */
    return ws->is_failed || ws->is_close_sent ? len : used;
}

void ws_send_text(struct ws *ws, const char *text, size_t len)
{
    unsigned char head[10];
    size_t n;

    if (ws->is_failed || ws->is_close_sent)
        return;
    head[0] = 0x80 | WSLAY_TEXT_FRAME;
    if (len < 126) {
        head[1] = (unsigned char)len;
        n = 2;
    } else if (len < 65536) {
        head[1] = 126;
        head[2] = (unsigned char)(len >> 8);
        head[3] = (unsigned char)len;
        n = 4;
    } else {
        head[1] = 127;
        for (int i = 0; i < 8; i++)
            head[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        n = 10;
    }
    ws->ops->write(ws->ctx, (const char *)head, n);
    ws->ops->write(ws->ctx, text, len);
}

bool ws_is_portable(const struct ws *ws)
{
    if (ws->head != NULL || ws->is_failed || ws->is_close_sent)
        return false;
    return ws->ev == NULL ||
           (ws->is_in_message && !wslay_event_want_write(ws->ev) &&
            wslay_event_get_read_enabled(ws->ev) &&
            !wslay_event_get_close_received(ws->ev));
}

const char *ws_replay(const struct ws *ws, size_t *len)
{
    *len = ws->is_in_message ? ws->replay_len : 0;
    return *len != 0 ? ws->replay : NULL;
}

bool ws_in_progress(const struct ws *ws)
{
    return ws->is_in_message;
}

bool ws_is_done(const struct ws *ws)
{
    /* Once our close frame is out we do not wait for the peer's: a client
     * that never answers must not keep the connection (RFC 6455 §7.1.1
     * lets the server close the TCP connection first). */
    return ws->is_failed || ws->is_close_sent;
}
