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
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "app/server.h"
#include "app/session.h"
#include "base/log.h"
#include "base/rnd.h"
#include "game/lobby.h"
#include "net/conn.h"

#define N_CONNS 4

static uv_loop_t loop;
static struct config cfg;
static struct server srv;

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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conn *conns[N_CONNS];
    uint64_t clock = uv_now(&loop);

    setup();
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
    /* Dropped players' seats are held by their matches; end them all. */
    lobby_tick(srv.lobby, clock + 100ULL * (cfg.turn_ms + cfg.grace_ms));
    return 0;
}
