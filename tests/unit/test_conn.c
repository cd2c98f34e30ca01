/* Unit tests for net/conn on a loopback TCP pair and the real libuv loop:
 * unconsumed input kept, hold/release, close-after-flush, and the output
 * cap for a peer that never reads. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "net/conn.h"

static struct conn_set set;
static struct conn *server_side;
static char got[1 << 16];      /* the last offer: all unconsumed bytes */
static char consumed[1 << 16]; /* everything consumed, in order */
static size_t got_len, consumed_len, n_calls, consume_upto;
static const char *closed_reason;
static int hold_on_first_call;

static size_t on_data(struct conn *c, const char *data, size_t len)
{
    n_calls++;
    memcpy(got, data, len); /* data = everything not consumed yet */
    got_len = len;
    if (hold_on_first_call && n_calls == 1)
        conn_hold(c);
    size_t used = len < consume_upto ? len : consume_upto;
    memcpy(consumed + consumed_len, data, used);
    consumed_len += used;
    return used;
}

static void on_eof(struct conn *c)
{
    conn_close_after_flush(c, "peer closed");
}

static void on_close(struct conn *c, const char *reason)
{
    (void)c;
    closed_reason = reason;
    server_side = NULL;
}

static const struct conn_ops ops = {on_data, on_eof, on_close, NULL};

static void on_connection(uv_stream_t *l, int status)
{
    CHECK_INT(status, 0);
    server_side = conn_accept(&set, l);
    CHECK(server_side != NULL);
    conn_start(server_side);
}

/* Returns the client's socket, with the server side accepted. */
static int setup(uv_loop_t *loop, uv_tcp_t *listener, size_t max_out)
{
    struct conn_limits lim = {.hwm = 4096, .lwm = 1024, .max_out = max_out,
                              .max_in = 1024, .stall_ms = 60000};
    struct sockaddr_in addr;
    int len = sizeof addr;

    CHECK_INT(uv_loop_init(loop), 0);
    CHECK_INT(conn_set_init(&set, loop, &ops, &lim), 0);
    CHECK_INT(uv_tcp_init(loop, listener), 0);
    CHECK_INT(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
    CHECK_INT(uv_tcp_bind(listener, (struct sockaddr *)&addr, 0), 0);
    CHECK_INT(uv_listen((uv_stream_t *)listener, 8, on_connection), 0);
    CHECK_INT(uv_tcp_getsockname(listener, (struct sockaddr *)&addr, &len), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_INT(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    for (int i = 0; i < 1000 && server_side == NULL; i++)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
    CHECK(server_side != NULL);
    return fd;
}

static void spin(uv_loop_t *loop, int ms)
{
    for (int i = 0; i < ms; i++)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
}

/* Closes everything and checks that no handle is left behind. */
static void teardown(uv_loop_t *loop, uv_tcp_t *listener, int fd)
{
    close(fd);
    if (server_side != NULL)
        conn_close(server_side, "test over");
    spin(loop, 20);
    CHECK(server_side == NULL);
    conn_set_close(&set);
    uv_close((uv_handle_t *)listener, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(loop), 0);
}

static size_t read_all(int fd, char *buf, size_t cap, int ms)
{
    size_t n = 0;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < ms && n < cap; i++) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r == 0)
            break; /* EOF */
        if (r > 0)
            n += (size_t)r;
        else
            usleep(1000);
    }
    return n;
}

TEST(unconsumed_input_is_offered_again_with_more)
{
    uv_loop_t loop;
    uv_tcp_t listener;
    int fd = setup(&loop, &listener, 65536);
    consume_upto = 0; /* keep everything: a partial line */
    CHECK_INT(write(fd, "PI", 2), 2);
    spin(&loop, 50);
    CHECK_INT(got_len, 2);
    CHECK_INT(write(fd, "NG\n", 3), 3);
    spin(&loop, 50);
    CHECK_MEM(got, got_len, "PING\n");
    CHECK_INT(server_side->in_len, 5);
    teardown(&loop, &listener, fd);
}

TEST(hold_stops_input_and_release_offers_it_again)
{
    uv_loop_t loop;
    uv_tcp_t listener;
    int fd = setup(&loop, &listener, 65536);
    hold_on_first_call = 1;
    consume_upto = 0;
    CHECK_INT(write(fd, "A\n", 2), 2);
    spin(&loop, 50);
    CHECK_INT(n_calls, 1);
    CHECK_INT(write(fd, "B\n", 2), 2);
    spin(&loop, 100);
    CHECK_INT(n_calls, 1); /* held: not offered */
    /* but read: kept behind the unconsumed "A\n", still reading */
    CHECK_MEM(server_side->in, server_side->in_len, "A\nB\n");
    CHECK(server_side->is_reading);
    consume_upto = 1 << 20;
    conn_release(server_side);
    spin(&loop, 100);
    CHECK(n_calls >= 2);
    /* the kept bytes first, then the ones read while held */
    CHECK_MEM(consumed, consumed_len, "A\nB\n");
    teardown(&loop, &listener, fd);
}

TEST(held_input_stops_at_the_cap_and_the_rest_waits_in_the_kernel)
{
    uv_loop_t loop;
    uv_tcp_t listener;
    int fd = setup(&loop, &listener, 65536); /* max_in 1024 */
    static char lines[3001]; /* a string for CHECK_MEM */
    hold_on_first_call = 1;
    consume_upto = 2;
    CHECK_INT(write(fd, "A\n", 2), 2);
    spin(&loop, 50);
    CHECK_INT(n_calls, 1);
    for (size_t i = 0; i < sizeof lines - 1; i++)
        lines[i] = (i % 10 == 9) ? '\n' : (char)('a' + i % 26);
    CHECK_INT(write(fd, lines, 3000), 3000);
    spin(&loop, 100);
    CHECK_INT(n_calls, 1);
    CHECK_INT(server_side->in_len, 1024); /* exactly the cap, no more */
    CHECK(!server_side->is_reading);
    CHECK(closed_reason == NULL);
    consume_upto = 1 << 20;
    conn_release(server_side);
    spin(&loop, 100);
    CHECK_INT(consumed_len, 2 + 3000);
    CHECK_MEM(consumed + 2, consumed_len - 2, lines);
    CHECK(server_side != NULL && server_side->is_reading);
    teardown(&loop, &listener, fd);
}

TEST(eof_while_held_is_handled_after_the_release)
{
    uv_loop_t loop;
    uv_tcp_t listener;
    int fd = setup(&loop, &listener, 65536);
    hold_on_first_call = 1;
    consume_upto = 2;
    CHECK_INT(write(fd, "A\nB\n", 4), 4);
    spin(&loop, 50);
    CHECK_INT(n_calls, 1);
    CHECK_INT(shutdown(fd, SHUT_WR), 0);
    spin(&loop, 100);
    CHECK(closed_reason == NULL); /* the held command is not answered yet */
    CHECK(server_side->is_eof_pending);
    consume_upto = 1 << 20;
    conn_release(server_side);
    spin(&loop, 100);
    CHECK_MEM(consumed, consumed_len, "A\nB\n"); /* B offered before EOF */
    CHECK_STR(closed_reason, "peer closed");
    teardown(&loop, &listener, fd);
}

TEST(close_after_flush_delivers_everything_first)
{
    uv_loop_t loop;
    uv_tcp_t listener;
    int fd = setup(&loop, &listener, 65536);
    static char big[60000], back[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    conn_write(server_side, big, sizeof big);
    conn_close_after_flush(server_side, "done");
    spin(&loop, 20);
    size_t n = 0;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 3000; i++) { /* read while the loop writes */
        ssize_t r = read(fd, back + n, sizeof back - n);
        if (r == 0)
            break;
        if (r > 0)
            n += (size_t)r;
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(200);
    }
    CHECK_INT(n, sizeof big);
    CHECK(memcmp(back, big, sizeof big) == 0);
    CHECK_STR(closed_reason, "done");
    teardown(&loop, &listener, fd);
}

TEST(a_peer_that_never_reads_is_dropped_at_the_cap)
{
    uv_loop_t loop;
    uv_tcp_t listener;
    int fd = setup(&loop, &listener, 65536);
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    /* the kernel buffers fill first; then our queue; past 64 KiB: closed */
    for (int i = 0; i < 20000 && server_side != NULL; i++) {
        conn_write(server_side, chunk, sizeof chunk);
        if (server_side != NULL && !server_side->is_closing)
            CHECK(conn_pending_out(server_side) <= 65536);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    CHECK(server_side == NULL);
    CHECK(strstr(closed_reason, "peer not reading") != NULL);
    CHECK(set.stats.n_closed_overflow == 1);
    char sink[4096];
    CHECK(read_all(fd, sink, sizeof sink, 10) > 0); /* what the kernel took */
    teardown(&loop, &listener, fd);
}
