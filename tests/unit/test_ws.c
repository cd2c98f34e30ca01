/* Unit tests for proto/ws: frames from a scripted peer, no sockets. */
#include "check.h"
#include "proto/ws.h"

struct peer {
    char out[65536];  /* what the server wrote */
    size_t out_len;
    char msgs[64][1024];
    size_t n_msgs;
    int busy;
};

static void on_text(void *ctx, const char *text, size_t len)
{
    struct peer *p = ctx;
    memcpy(p->msgs[p->n_msgs], text, len);
    p->msgs[p->n_msgs++][len] = '\0';
}

static void on_write(void *ctx, const char *data, size_t len)
{
    struct peer *p = ctx;
    memcpy(p->out + p->out_len, data, len);
    p->out_len += len;
}

static bool is_busy(void *ctx)
{
    return ((struct peer *)ctx)->busy != 0;
}

static const struct ws_ops ops = {on_text, on_write, is_busy};

/* A masked client frame. */
static size_t frame(char *out, int fin, int opcode, const char *payload,
                    size_t len)
{
    const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    size_t n = 0;
    out[n++] = (char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        out[n++] = (char)(0x80 | len);
    } else {
        out[n++] = (char)(0x80 | 126);
        out[n++] = (char)(len >> 8);
        out[n++] = (char)(len & 255);
    }
    memcpy(out + n, key, 4);
    n += 4;
    for (size_t i = 0; i < len; i++)
        out[n + i] = (char)(payload[i] ^ key[i % 4]);
    return n + len;
}

TEST(masked_text_message)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    char buf[256];
    size_t n = frame(buf, 1, 1, "PING hello", 10);
    CHECK_INT(ws_feed(ws, buf, n), n);
    CHECK_INT(p.n_msgs, 1);
    CHECK_STR(p.msgs[0], "PING hello");
    CHECK(!ws_is_done(ws));
    ws_free(ws);
}

TEST(server_frames_are_unmasked_text)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    ws_send_text(ws, "OK PING", 7);
    CHECK_INT(p.out_len, 9);
    CHECK_INT((unsigned char)p.out[0], 0x81);
    CHECK_INT((unsigned char)p.out[1], 7); /* no mask bit */
    CHECK(memcmp(p.out + 2, "OK PING", 7) == 0);
    ws_free(ws);
}

TEST(fragments_with_a_ping_between)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    char buf[512];
    size_t n = frame(buf, 0, 1, "PI", 2);
    n += frame(buf + n, 1, 9, "hb", 2);         /* ping, interleaved */
    n += frame(buf + n, 0, 0, "NG ", 3);
    n += frame(buf + n, 1, 0, "frag", 4);
    /* every split of the input gives the same result */
    for (size_t cut = 0; cut <= n; cut++) {
        struct peer q = {0};
        struct ws *w2 = ws_new(&ops, &q, 512);
        /* whole frames are consumed; a partial one is left to the
         * caller, which offers it again with the rest (as conn.c does) */
        size_t used = ws_feed(w2, buf, cut);
        CHECK(used <= cut);
        CHECK_INT(ws_feed(w2, buf + used, n - used), n - used);
        CHECK_INT(q.n_msgs, 1);
        CHECK_STR(q.msgs[0], "PING frag");
        /* the pong: 0x8A, length 2, "hb" */
        CHECK_INT(q.out_len, 4);
        CHECK_INT((unsigned char)q.out[0], 0x8A);
        CHECK(memcmp(q.out + 2, "hb", 2) == 0);
        ws_free(w2);
    }
    ws_free(ws);
}

static unsigned close_code(const struct peer *p)
{
    /* the last frame written must be a close frame */
    for (size_t i = 0; i + 4 <= p->out_len;) {
        unsigned op = (unsigned char)p->out[i] & 15, len = (unsigned char)p->out[i + 1] & 127;
        if (op == 8 && i + 2 + len == p->out_len)
            return ((unsigned char)p->out[i + 2] << 8) | (unsigned char)p->out[i + 3];
        i += 2 + len;
    }
    return 0;
}

TEST(oversized_message_closes_1009)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 64);
    char payload[200], buf[512];
    memset(payload, 'x', sizeof payload);
    size_t n = frame(buf, 1, 1, payload, sizeof payload);
    ws_feed(ws, buf, n);
    CHECK_INT(p.n_msgs, 0);
    CHECK(ws_is_done(ws));
    CHECK_INT(close_code(&p), 1009);
    ws_free(ws);
}

TEST(binary_refused_1003)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    char buf[64];
    size_t n = frame(buf, 1, 2, "\x01\x02", 2);
    ws_feed(ws, buf, n);
    CHECK_INT(p.n_msgs, 0);
    CHECK(ws_is_done(ws));
    CHECK_INT(close_code(&p), 1003);
    ws_free(ws);
}

TEST(close_handshake_answered)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    char buf[64];
    size_t n = frame(buf, 1, 8, "\x03\xe8" "bye", 5);
    ws_feed(ws, buf, n);
    CHECK(ws_is_done(ws));
    CHECK_INT(close_code(&p), 1000);
    ws_send_text(ws, "late", 4); /* nothing after the close */
    CHECK_INT(close_code(&p), 1000);
    ws_free(ws);
}

TEST(unmasked_client_frame_is_a_protocol_error)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    const char raw[] = "\x81\x04PING";
    ws_feed(ws, raw, 6);
    CHECK_INT(p.n_msgs, 0);
    CHECK(ws_is_done(ws));
    ws_free(ws);
}

TEST(busy_keeps_messages_in_order)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    char buf[512];
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        char text[16];
        int len = sprintf(text, "CMD %d", i);
        n += frame(buf + n, 1, 1, text, (size_t)len);
    }
    p.busy = 1;
    size_t used = ws_feed(ws, buf, n);
    CHECK_INT(used, 0); /* nothing consumed while busy */
    CHECK_INT(p.n_msgs, 0);
    p.busy = 0;
    used = ws_feed(ws, buf, n);
    CHECK_INT(used, n);
    CHECK_INT(p.n_msgs, 3);
    CHECK_STR(p.msgs[2], "CMD 2");
    ws_free(ws);
}

/* A hand-made header: b0, the 7-bit length field and its extension, a zero
 * mask key; no payload. */
static size_t head(char *out, unsigned b0, unsigned n7, const unsigned char *ext,
                   size_t ext_len)
{
    size_t n = 0;
    out[n++] = (char)b0;
    out[n++] = (char)(0x80 | n7);
    if (ext_len > 0)
        memcpy(out + n, ext, ext_len);
    n += ext_len;
    memset(out + n, 0, 4);
    return n + 4;
}

TEST(bad_headers_get_1002_before_done)
{
    const unsigned char len126[2] = {0, 126}, top[8] = {0x80, 0, 0, 0, 0, 0, 0, 5},
                        small[2] = {0, 5};
    struct { unsigned b0, n7; const unsigned char *ext; size_t ext_len; } cases[] = {
        {0x89, 126, len126, 2}, /* a 126-byte ping */
        {0x09, 2, NULL, 0},     /* a fragmented ping */
        {0x88, 1, NULL, 0},     /* a 1-byte close payload */
        {0x81, 127, top, 8},    /* 64-bit length, top bit set */
        {0x81, 126, small, 2},  /* non-minimal 16-bit length */
        {0xC1, 2, NULL, 0},     /* a reserved bit */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct peer p = {0};
        struct ws *ws = ws_new(&ops, &p, 512);
        char buf[64];
        size_t n = head(buf, cases[i].b0, cases[i].n7, cases[i].ext, cases[i].ext_len);
        CHECK_INT(ws_feed(ws, buf, n), n);
        CHECK(ws_is_done(ws));
        CHECK_INT(close_code(&p), 1002);
        ws_free(ws);
    }
}

TEST(huge_declared_length_gets_1009_from_the_header)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    const unsigned char len[8] = {0, 0, 1, 0, 0, 0, 0, 0}; /* 2^40 */
    char buf[32];
    size_t n = head(buf, 0x81, 127, len, 8);
    ws_feed(ws, buf, n); /* no payload at all */
    CHECK(ws_is_done(ws));
    CHECK_INT(close_code(&p), 1009);
    ws_free(ws);
}

TEST(endless_empty_continuations_get_1008)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    char buf[2048];
    size_t n = frame(buf, 0, 1, "PI", 2);
    for (int i = 0; i < 100; i++)
        n += frame(buf + n, 0, 0, "", 0);
    ws_feed(ws, buf, n);
    CHECK(ws_is_done(ws));
    CHECK_INT(close_code(&p), 1008);
    CHECK_INT(p.n_msgs, 0);
    ws_free(ws);
}

TEST(message_in_progress_is_reported)
{
    struct peer p = {0};
    struct ws *ws = ws_new(&ops, &p, 512);
    char buf[64];
    size_t n = frame(buf, 0, 1, "PI", 2);
    CHECK_INT(ws_feed(ws, buf, n), n);
    CHECK(ws_in_progress(ws));
    n = frame(buf, 1, 0, "NG", 2);
    CHECK_INT(ws_feed(ws, buf, n), n);
    CHECK(!ws_in_progress(ws));
    CHECK_INT(p.n_msgs, 1);
    CHECK_STR(p.msgs[0], "PING");
    ws_free(ws);
}

TEST(replay_of_a_message_in_progress_continues_it_in_a_new_ws)
{
    struct peer a = {0}, b = {0};
    struct ws *old = ws_new(&ops, &a, 512);
    char buf[256];
    size_t len = 0, n;
    CHECK(ws_is_portable(old));
    CHECK(ws_replay(old, &len) == NULL && len == 0);
    n = frame(buf, 0, 1, "PING fr", 7);
    n += frame(buf + n, 1, 9, "hb", 2); /* a ping between: answered here */
    n += frame(buf + n, 0, 0, "ag-", 3);
    CHECK_INT(ws_feed(old, buf, n), n);
    CHECK(a.out_len > 0); /* the pong */
    CHECK(ws_is_portable(old));
    const char *replay = ws_replay(old, &len);
    CHECK(replay != NULL);
    CHECK_INT(len, n - 8); /* the data frames, not the ping (2 + 4 + 2) */

    struct ws *new_ws = ws_new(&ops, &b, 512);
    CHECK_INT(ws_feed(new_ws, replay, len), len);
    CHECK_INT(b.n_msgs, 0);
    CHECK_INT(b.out_len, 0); /* no second pong */
    n = frame(buf, 1, 0, "ment", 4);
    CHECK_INT(ws_feed(new_ws, buf, n), n);
    CHECK_INT(b.n_msgs, 1);
    CHECK_STR(b.msgs[0], "PING frag-ment");
    CHECK(ws_replay(new_ws, &len) == NULL && len == 0);
    ws_free(old);
    ws_free(new_ws);
}
