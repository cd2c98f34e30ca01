/*
 * rating: Elo ratings for two sides (docs/PROTOCOL.md §10, "Ratings").
 *
 * A side's rating is the mean of its players' ratings (an unregistered
 * player counts as RATING_START). Every registered player of a side moves
 * by the same delta:
 *
 *     expected = 1 / (1 + 10^((R_other - R_side) / 400))
 *     delta    = K * (score - expected),  score 1 win, 0.5 draw, 0 loss
 *
 * with K = RATING_K. Pure arithmetic, no state.
 */
#ifndef TAVOLO_STORE_RATING_H
#define TAVOLO_STORE_RATING_H

#define RATING_START 1500.0
#define RATING_K 32.0

/* The probability-like expected score of a side rated `side` against a
 * side rated `other`. */
double rating_expected(double side, double other);

/* The change for a player of a side rated `side` that scored `score`. */
double rating_delta(double side, double other, double score);

#endif
