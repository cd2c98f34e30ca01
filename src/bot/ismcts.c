/*
 * ismcts: the hard level. Single-observer information-set MCTS (Cowling,
 * Powley and Whitehouse, "Information Set Monte Carlo Tree Search", IEEE
 * TCIAIG 2012): one tree whose nodes are sequences of moves as this seat
 * sees them; each iteration draws a fresh determinisation of the current
 * hand (bot_replay_hand), walks the tree choosing among the children
 * legal in that determinisation by UCB1 with availability counts (a
 * child's exploration term counts the iterations in which it could have
 * been chosen, not its parent's visits), adds one node, plays random
 * legal moves to the end of the hand (the game's playout policy, one move
 * in five at random, where the game has one), and backs up each seat's reward.
 * A node's reward is for the seat that made its move, so opponents pick
 * their best replies and partners (teams) share a value. The answer is
 * the root child visited most.
 *
 * Bounds: at most budget->iterations iterations and nodes (one node per
 * iteration), and, with a clock, budget->time_ms (checked before
 * every iteration but the first: an iteration can be long under a
 * sanitizer).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "bot/bot_game.h"

#define MAX_MOVES 512
#define UCB_C 0.7
#ifndef PLAYOUT_RANDOM_PCT
#define PLAYOUT_RANDOM_PCT 20
#endif /* playout moves made at random */

struct node {
    struct rules_move mv;
    int32_t child, sibling; /* first child, next sibling; -1 none */
    uint32_t visits, avail;
    double total; /* rewards of mover, summed over visits */
    uint8_t seat; /* who made mv */
};

static bool same_move(const struct rules_move *a, const struct rules_move *b)
{
    return a->kind == b->kind && a->n == b->n &&
           memcmp(a->cards, b->cards, a->n) == 0;
}

/* Applies mv; true when it ended the hand (or the match). */
static bool play(const struct rules *r, void *state, unsigned seat,
                 const struct rules_move *mv)
{
    struct rules_outcome out;
    r->apply(state, seat, mv, &out);
    return out.is_hand_over || out.is_over;
}

/* Whose play is due, or -1 at the end of the hand (or at a pass, which
 * only a next hand can bring). */
static int mover(const struct rules *r, const void *state)
{
    enum rules_move_kind kind;
    unsigned mask = r->to_move(state, &kind);
    if (mask == 0 || kind != MOVE_PLAY)
        return -1;
    return __builtin_ctz(mask);
}

void bot_ismcts(struct bot_det *d, const struct bot_budget *b,
                struct bot_rng *g, struct rules_move *out)
{
    const struct rules *r = d->r;
    unsigned cap = b->iterations > 0 ? b->iterations : 1;
    struct node *nodes = mem_alloc((cap + 1) * sizeof *nodes);
    struct rules_move *moves = mem_alloc(MAX_MOVES * sizeof *moves);
    int32_t *path = mem_alloc((RULES_MAX_DECK * 2 + 2) * sizeof *path);
    void *state = mem_alloc(r->state_size);
    uint64_t t0 = b->now_ms ? b->now_ms(b->clock_ctx) : 0;
    unsigned n_nodes = 1;

    memset(&nodes[0], 0, sizeof nodes[0]);
    nodes[0].child = nodes[0].sibling = -1;
    for (unsigned it = 0; it < cap; it++) {
        if (b->now_ms && it > 0 &&
            b->now_ms(b->clock_ctx) - t0 >= b->time_ms)
            break;
        memcpy(state, d->prefix, r->state_size);
        if (!bot_replay_hand(d, d->cur, state, g))
            continue;

        unsigned depth = 0;
        int32_t at = 0;
        bool is_end = false;
        path[depth++] = 0;
        /* Selection and expansion. */
        for (;;) {
            int seat = mover(r, state);
            if (seat < 0) {
                is_end = true;
                break;
            }
            unsigned n =
                r->legal_moves(state, (unsigned)seat, moves, MAX_MOVES);
            if (n > MAX_MOVES)
                n = MAX_MOVES;
            /* Legal moves with no child yet, and the best legal child. */
            unsigned n_untried = 0;
            int32_t best = -1;
            double best_v = -1;
            for (unsigned i = 0; i < n; i++) {
                int32_t c = nodes[at].child;
                while (c >= 0 && !same_move(&nodes[c].mv, &moves[i]))
                    c = nodes[c].sibling;
                if (c < 0) {
                    moves[n_untried++] = moves[i]; /* i >= n_untried */
                    continue;
                }
                nodes[c].avail++;
                double v =
                    nodes[c].total / nodes[c].visits +
                    UCB_C * sqrt(log((double)nodes[c].avail) / nodes[c].visits);
                if (v > best_v) {
                    best_v = v;
                    best = c;
                }
            }
            if (n_untried > 0 && n_nodes <= cap) {
                unsigned k = bot_rng_below(g, n_untried);
                int32_t c = (int32_t)n_nodes++;
                memset(&nodes[c], 0, sizeof nodes[c]);
                nodes[c].mv = moves[k];
                nodes[c].seat = (uint8_t)seat;
                nodes[c].child = -1;
                nodes[c].sibling = nodes[at].child;
                nodes[c].avail = 1;
                nodes[at].child = c;
                path[depth++] = c;
                is_end = play(r, state, (unsigned)seat, &moves[k]);
                break;
            }
            if (best < 0) /* the node pool is full: play out from here */
                break;
            at = best;
            path[depth++] = at;
            if (play(r, state, (unsigned)seat, &nodes[at].mv)) {
                is_end = true;
                break;
            }
        }
        /* Playout to the end of the hand. */
        while (!is_end) {
            int seat = mover(r, state);
            if (seat < 0)
                break;
            if (d->game->playout != NULL &&
                bot_rng_below(g, 100) >= PLAYOUT_RANDOM_PCT) {
                struct rules_move mv;
                d->game->playout(r, state, (unsigned)seat, d->v->n_seats, g,
                                 &mv);
                is_end = play(r, state, (unsigned)seat, &mv);
                continue;
            }
            unsigned n =
                r->legal_moves(state, (unsigned)seat, moves, MAX_MOVES);
            if (n > MAX_MOVES)
                n = MAX_MOVES;
            is_end =
                play(r, state, (unsigned)seat, &moves[bot_rng_below(g, n)]);
        }
        double reward[RULES_MAX_SEATS];
        d->game->reward(r, d->v->n_seats, d->prefix, state, reward);
        for (unsigned i = 0; i < depth; i++) {
            struct node *nd = &nodes[path[i]];
            nd->visits++;
            nd->total += reward[nd->seat];
        }
    }

    /* The most visited root child; with no iteration at all, any legal
     * move (the caller's check still applies). */
    int32_t best = -1;
    for (int32_t c = nodes[0].child; c >= 0; c = nodes[c].sibling)
        if (best < 0 || nodes[c].visits > nodes[best].visits)
            best = c;
    if (best >= 0) {
        *out = nodes[best].mv;
    } else {
        memcpy(state, d->prefix, r->state_size);
        if (bot_replay_hand(d, d->cur, state, g) &&
            r->legal_moves(state, d->v->seat, moves, MAX_MOVES) > 0)
            *out = moves[0];
    }
    free(state);
    free(path);
    free(moves);
    free(nodes);
}
