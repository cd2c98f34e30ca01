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

#define RATING_MAX_SEATS 8

/* Every seat for itself (hearts, PROTOCOL §14): every pair of seats
 * counts as one game, won by the lower total (equal: drawn), and each of
 * a seat's moves is scaled by 1/(n-1):
 *
 *     delta[i] = sum over j != i of rating_delta(rating[i], rating[j], s_ij) / (n-1)
 *
 * s_ij is 1 if total[i] < total[j], 0.5 if equal, 0 if greater; a
 * forfeiting seat (loser, or -1 for none) loses all its pairs. Every
 * move uses the ratings before the match. 2 <= n <= RATING_MAX_SEATS. */
void rating_seats(unsigned n, const double rating[], const unsigned total[],
                  int loser, double delta[]);

#endif
