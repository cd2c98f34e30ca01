/*
 * bench_bots: see bench_bots.h.
 */
#include "app/bench_bots.h"

#include <inttypes.h>
#include <string.h>

#include "app/config.h"
#include "app/server.h"
#include "base/log.h"
#include "base/mem.h"
#include "game/lobby.h"
#include "game/rules.h"

#define BENCH_BOTS_TICK_MS 200

/* Every slot whose match is gone gets a new one. */
static void refill(struct server *srv)
{
    const struct config *cfg = srv->cfg;
    uint64_t now = uv_now(srv->loop);

    outbox_begin(&srv->outbox);
    for (uint32_t i = 0; i < cfg->bench_bots_n; i++) {
        if (srv->bench_ids[i] != 0 && lobby_has_match(srv->lobby, srv->bench_ids[i]))
            continue;
        srv->bench_ids[i] = lobby_bot_match(srv->lobby, srv->bench_rules,
                                            cfg->bench_bots_seats,
                                            cfg->bench_bots_level, now);
    }
    outbox_end(&srv->outbox);
}

static void on_tick(uv_timer_t *t)
{
    refill(t->data);
}

int bench_bots_start(struct server *srv)
{
    const struct config *cfg = srv->cfg;

    if (cfg->bench_bots_n == 0)
        return 0;
    srv->bench_rules = rules_find(cfg->bench_bots_game, strlen(cfg->bench_bots_game));
    if (srv->bench_rules == NULL ||
        !rules_has_seats(srv->bench_rules, cfg->bench_bots_seats)) {
        log_error("--bench-bot-matches: no game %s with %" PRIu32 " seats",
                  cfg->bench_bots_game, cfg->bench_bots_seats);
        return -1;
    }
    srv->bench_ids = mem_calloc(cfg->bench_bots_n, sizeof *srv->bench_ids);
    uv_timer_init(srv->loop, &srv->bench_timer);
    srv->bench_timer.data = srv;
    srv->has_bench_timer = true;
    refill(srv);
    uv_timer_start(&srv->bench_timer, on_tick, BENCH_BOTS_TICK_MS,
                   BENCH_BOTS_TICK_MS);
    log_warn("--bench-bot-matches: %" PRIu32 " matches of %" PRIu32
             " %s bots at %s kept in play (a load bench's option)",
             cfg->bench_bots_n, cfg->bench_bots_seats,
             cfg->bench_bots_level == 0   ? "easy"
             : cfg->bench_bots_level == 1 ? "normal"
                                          : "hard",
             cfg->bench_bots_game);
    return 0;
}

void bench_bots_stop(struct server *srv)
{
    if (!srv->has_bench_timer)
        return;
    srv->has_bench_timer = false;
    uv_close((uv_handle_t *)&srv->bench_timer, NULL);
}
