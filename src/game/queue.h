/*
 * queue: the quick-play queue of PROTOCOL §14, pure: players come in
 * as opaque pointers with a game, a seat count and a rating, time comes
 * in as now_ms arguments, and tables come out as lists of players in the
 * order they joined. No sockets, no clock, no matches: the caller
 * (app/verbs_quick.c) creates the match and seats the players.
 *
 * Matching. A player's window is ±QUEUE_WINDOW at first and QUEUE_WINDOW
 * wider for every QUEUE_WIDEN_MS it has waited. Two players fit when
 * they want the same game and seat count and each one's rating lies in
 * the other's window (|a - b| <= the smaller window). A table is the
 * longest-waiting player and the next players in queue order that fit
 * it and everyone already taken; queue_form forms the first full one.
 * After bot_ms of waiting (0: never), queue_fill takes the
 * longest-waiting player's table as it is, to be completed with bots.
 *
 * Owns its entries; the players stay the caller's.
 */
#ifndef TAVOLO_GAME_QUEUE_H
#define TAVOLO_GAME_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "game/rules.h"

#define QUEUE_WINDOW 100    /* rating points */
#define QUEUE_WIDEN_MS 5000 /* the window widens by QUEUE_WINDOW this often */

struct queue_entry {
    void *who;
    const struct rules *rules;
    unsigned n_seats;
    int rating;
    uint64_t since_ms;
};

struct queue {
    struct queue_entry *entries; /* in the order they joined */
    size_t n, cap;
};

/* A table: the players in queue order (n of them) and, for queue_fill,
 * how many seats bots take after them. */
struct queue_table {
    const struct rules *rules;
    unsigned n_seats;
    unsigned n;
    void *who[RULES_MAX_SEATS];
    unsigned n_bots;
};

void queue_init(struct queue *q);
void queue_free(struct queue *q);

/* Appends who (not already queued). */
void queue_add(struct queue *q, void *who, const struct rules *r,
               unsigned n_seats, int rating, uint64_t now_ms);
/* Removes who; false if it was not queued. */
bool queue_remove(struct queue *q, void *who);
bool queue_has(const struct queue *q, const void *who);

/* The rating window of e at now_ms. */
unsigned queue_window(const struct queue_entry *e, uint64_t now_ms);

/* Forms the first full table (anchored at the longest-waiting player
 * that has one) and removes its players: true and *t; false if none. */
bool queue_form(struct queue *q, uint64_t now_ms, struct queue_table *t);

/* When the longest-waiting player has waited bot_ms or more (bot_ms >
 * 0): its table as it stands, players removed, the other seats for
 * bots: true and *t; false otherwise. */
bool queue_fill(struct queue *q, uint64_t now_ms, uint64_t bot_ms,
                struct queue_table *t);

/* When something may change next (a window widens, a bot fill falls
 * due), for the caller's timer: an absolute time > now_ms, or UINT64_MAX
 * when the queue is empty. */
uint64_t queue_next_ms(const struct queue *q, uint64_t now_ms, uint64_t bot_ms);

#endif
