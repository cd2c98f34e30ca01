/*
 * ws: a server-side WebSocket (RFC 6455) after the upgrade, over wslay.
 *
 * Bytes from the peer go in with ws_feed; each complete text message comes
 * out through ops->on_text (wslay unmasks, reassembles fragments and
 * answers pings). Text goes out with ws_send_text, as bytes through
 * ops->write. Binary messages are refused with close code 1003, messages
 * over max_msg bytes with 1009 (as soon as a frame header announces it),
 * malformed frames with 1002, a message of more than 64 frames with 1008;
 * the close frame is always written before ws_is_done turns true. While
 * ops->is_busy says so, messages are kept in order and offered again by
 * ws_feed(ws, NULL, 0), and no more bytes are consumed: the caller's flow
 * control reaches through.
 *
 * Memory: an idle WebSocket (between messages) holds only its struct;
 * wslay's context exists while a frame is handled or a fragmented message
 * is in progress.
 */
#ifndef TAVOLO_PROTO_WS_H
#define TAVOLO_PROTO_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ws;

struct ws_ops {
    void (*on_text)(void *ctx, const char *text, size_t len);
    void (*write)(void *ctx, const char *data, size_t len);
    bool (*is_busy)(void *ctx);
};

struct ws *ws_new(const struct ws_ops *ops, void *ctx, size_t max_msg);
void ws_free(struct ws *ws);

/* Offers bytes; returns how many were consumed: whole frames only, so a
 * partial frame at the end (at most a header and max_msg bytes) is left
 * for the caller to offer again with more. Once done, consumes all. */
size_t ws_feed(struct ws *ws, const char *data, size_t len);

/* True while a fragmented message has begun and not ended: its end is
 * due within the caller's partial-line timeout (PROTOCOL §6). */
bool ws_in_progress(const struct ws *ws);

/* True when a fresh ws_new, offered ws_replay's bytes before the rest of
 * the input, continues this one exactly (a zero-downtime upgrade moves
 * such a WebSocket to another process): between messages, or inside a
 * fragmented one, with nothing kept for later, no output queued, not
 * done. */
bool ws_is_portable(const struct ws *ws);

/* The raw data frames received so far of the fragmented message in
 * progress (NULL and 0 when none), as the peer sent them (masked). The
 * control frames between them are not among them: they were answered. */
const char *ws_replay(const struct ws *ws, size_t *len);

void ws_send_text(struct ws *ws, const char *text, size_t len);

/* True once the connection should close (after its output is flushed):
 * a close frame was sent (ours or the answer to the peer's), or the peer
 * broke the protocol. */
bool ws_is_done(const struct ws *ws);

#endif
