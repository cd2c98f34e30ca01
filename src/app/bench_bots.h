/*
 * bench_bots: --bench-bot-matches N:GAME:SEATS:LEVEL, for load benches
 * only (docs/BOTS.md, "Load"; bench/botload.sh). The server keeps N
 * matches of bots alone in play: at start, and within 200 ms of one
 * ending, a new one of GAME with SEATS bots of LEVEL begins. Nothing a
 * client sends can start one (BOT needs a person at the match; quick
 * play seats at least one person); the operator chooses it on the
 * command line, and it is off by default. Such a match is an ordinary
 * one otherwise: journaled, listed, watchable, unrated, its bots paced
 * by --bot-delay-ms and thinking on the thread pool.
 */
#ifndef TAVOLO_APP_BENCH_BOTS_H
#define TAVOLO_APP_BENCH_BOTS_H

struct server;

/* Starts the matches and their timer (nothing when the option is off).
 * Returns 0, or -1 (logged) for an unknown game or seat count. */
int bench_bots_start(struct server *srv);
/* Stops the timer (at shutdown); the matches in play stay as they are. */
void bench_bots_stop(struct server *srv);

#endif
