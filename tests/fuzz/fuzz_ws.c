/*
 * fuzz_ws: the WebSocket adapter (wslay underneath) on arbitrary bytes,
 * fed in chunks whose sizes come from the input, with the busy flag
 * toggling, and everything it says sent back out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ws.h"

struct sink {
    int busy;
    size_t n_text;
    struct ws *ws;
};

static void on_text(void *ctx, const char *text, size_t len)
{
    struct sink *s = ctx;
    s->n_text++;
    ws_send_text(s->ws, text, len); /* echo: exercises the send path */
}

static void on_write(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
}

static bool is_busy(void *ctx)
{
    return ((struct sink *)ctx)->busy != 0;
}

static const struct ws_ops ops = {on_text, on_write, is_busy};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sink s = {0, 0, NULL};
    s.ws = ws_new(&ops, &s, 512);
    size_t pos = 0;
    char *pending = NULL;
    size_t pending_len = 0;

    while (pos < size && !ws_is_done(s.ws)) {
        size_t chunk = 1 + data[pos] % 64;
        s.busy = (data[pos] & 0x80) != 0;
        pos++;
        if (chunk > size - pos)
            chunk = size - pos;
        /* keep what was not consumed, as conn.c does */
        pending = realloc(pending, pending_len + chunk + 1);
        memcpy(pending + pending_len, data + pos, chunk);
        pending_len += chunk;
        pos += chunk;
        size_t used = ws_feed(s.ws, pending, pending_len);
        memmove(pending, pending + used, pending_len - used);
        pending_len -= used;
    }
    s.busy = 0;
    ws_feed(s.ws, NULL, 0);
    free(pending);
    ws_free(s.ws);
    return 0;
}
