/*
 * fuzz_session: framer + tokenizer + dispatch + lobby + match, in process.
 *
 * The input is a script for four connections: each segment starts with a
 * control byte whose low two bits pick connection 0, 1 or 2 (3 = advance
 * the game clock by a turn and run due deadlines; a byte whose low three
 * bits are 4 picks connection 3, so hearts' four seats can fill),
 * followed by bytes up to the next 0xFF, which that connection
 * "receives". Everything runs through the
 * real session code on detached connections (no sockets, no loop runs).
 *
 * TLS (PROTOCOL §10): a connection whose first byte is 0x16 takes the
 * TLS path. Without a certificate it is closed; if the first control
 * byte has bit 0x40 set, the server has one (made by `openssl req` at
 * the first run, when openssl is there), and the bytes after 0x16 reach
 * OpenSSL's ClientHello parsing and the server's first flight.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "app/server.h"
#include "app/session.h"
#include "base/log.h"
#include "base/rnd.h"
#include "game/lobby.h"
#include "net/conn.h"
#include "net/tls.h"

#define N_CONNS 4

static uv_loop_t loop;
static struct config cfg;
static struct server srv;
static struct tls_server *test_tls; /* NULL if no certificate could be made */

static void make_test_tls(void)
{
    char dir[] = "/tmp/tavolo-fuzz-tls-XXXXXX", cmd[512], err[400];
    char cert[128], key[128];

    if (mkdtemp(dir) == NULL)
        return;
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -keyout %s -out %s -days 2 -subj /CN=fuzz "
             ">/dev/null 2>&1", key, cert);
    if (system(cmd) != 0)
        return;
    struct tls_ctx *ctx = tls_ctx_load(cert, key, err, sizeof err);
    if (ctx == NULL)
        return;
    test_tls = tls_server_new();
    tls_server_swap(test_tls, ctx);
}

static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    log_set_level(LOG_ERROR);
    rnd_init();
    uv_loop_init(&loop);
    config_defaults(&cfg);
    cfg.rate = 1000000;
    cfg.burst = 1000000;
    cfg.turn_ms = 1000;
    cfg.grace_ms = 5000;
    if (server_init(&srv, &loop, &cfg) != 0)
        abort();
    make_test_tls();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conn *conns[N_CONNS];
    uint64_t clock = uv_now(&loop);

    setup();
    srv.tls = size > 0 && (data[0] & 0x40) ? test_tls : NULL;
    for (int i = 0; i < N_CONNS; i++) {
        conns[i] = conn_new_detached(&srv.conns);
        session_new(&srv, conns[i]);
    }
    size_t pos = 0;
    while (pos < size) {
        uint8_t ctl = data[pos++];
        size_t end = pos;
        while (end < size && data[end] != 0xFF)
            end++;
        if ((ctl & 7) == 4) {
            conn_feed_detached(conns[3], (const char *)data + pos, end - pos);
        } else if ((ctl & 3) == 3) {
            clock += cfg.turn_ms;
            lobby_tick(srv.lobby, clock);
        } else {
            conn_feed_detached(conns[ctl & 3], (const char *)data + pos, end - pos);
        }
        pos = end + 1;
    }
    for (int i = 0; i < N_CONNS; i++)
        conn_free_detached(conns[i]);
    srv.tls = NULL;
    /* Dropped players' seats are held by their matches; end them all. */
    lobby_tick(srv.lobby, clock + 100ULL * (cfg.turn_ms + cfg.grace_ms));
    return 0;
}
