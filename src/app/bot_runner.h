/*
 * bot_runner: bots think off the loop (PROTOCOL §14, docs/BOTS.md).
 *
 * bot_runner_ask copies a seat's view and runs bot_choose on libuv's
 * thread pool; when the bot has answered and delay_ms have passed since
 * the ask (whichever is later), the loop gets the move through the done
 * callback, with the match id, seat and generation it was asked with.
 * The runner knows nothing of matches: the caller compares the
 * generation with its seat's and drops a stale answer (the match ended,
 * the seat changed hands). The worker sees only its own copy of the
 * view, never the match.
 *
 * Hard thinks within BOT_HARD_ITERATIONS and think_ms (bot.h's
 * BOT_HARD_TIME_MS unless the caller sets it), timed by uv_hrtime.
 *
 * Owned by the server, and it must outlive the loop's last callback
 * (the server runs the loop to its end after closing it); jobs are owned by the
 * runner from ask to done (or to close). bot_runner_close may be called with
 * jobs in flight: queued ones are cancelled, running ones finish on their
 * thread and are freed without a callback, and delayed ones are dropped.
 */
#ifndef TAVOLO_APP_BOT_RUNNER_H
#define TAVOLO_APP_BOT_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "bot/bot.h"
#include "game/bot_view.h"

/* Called on the loop. rc: 0 and mv, or -1 (the bot found no move: the
 * caller auto-moves). May ask again or close the runner. */
typedef void (*bot_runner_done_fn)(void *ctx, uint64_t match_id, unsigned seat,
                                   uint64_t gen, int rc,
                                   const struct rules_move *mv);

struct bot_job;

/* The nice value of a pool thread once it has run a search (bot_runner.c;
 * docs/BOTS.md "Load"). */
#define BOT_RUNNER_NICE 10

/* What the bots cost, for the metrics (docs/BOTS.md, "Load"): answers
 * per level, the pool time they thought, and how long asks waited for a
 * pool thread. Loop thread only. */
struct bot_runner_stats {
    uint64_t n_moves[3];
    uint64_t think_us[3], max_think_us[3]; /* wall time on the pool thread */
    uint64_t cpu_us[3];                    /* CPU time of the same */
    uint64_t wait_us, max_wait_us;
};

struct bot_runner {
    uv_loop_t *loop;
    bot_runner_done_fn done;
    void *ctx;
    struct bot_job *jobs; /* every live job, a doubly linked list */
    unsigned n_jobs;
    unsigned think_ms; /* hard's time cap (BOT_HARD_TIME_MS by default) */
    bool is_closing;
    struct bot_runner_stats stats;
};

void bot_runner_init(struct bot_runner *br, uv_loop_t *loop,
                     bot_runner_done_fn done, void *ctx);

/* Asks seat v->seat's move of a bot of level: answered after delay_ms
 * at the earliest (0: as soon as it has thought). seed: its random
 * source. Returns 0, or -1 if the work could not be queued (nothing
 * will be called back). */
int bot_runner_ask(struct bot_runner *br, const struct bot_view *v,
                   enum bot_level level, uint64_t seed, uint64_t match_id,
                   uint64_t gen, unsigned delay_ms);

/* Jobs asked and not yet answered or dropped. */
unsigned bot_runner_pending(const struct bot_runner *br);

/* No more callbacks; frees what it can now and the rest as it finishes. */
void bot_runner_close(struct bot_runner *br);

#endif
