/*
 * rating: see rating.h.
 */
#include "store/rating.h"

#include <math.h>

double rating_expected(double side, double other)
{
    return 1.0 / (1.0 + pow(10.0, (other - side) / 400.0));
}

double rating_delta(double side, double other, double score)
{
    return RATING_K * (score - rating_expected(side, other));
}

void rating_seats(unsigned n, const double rating[], const unsigned total[],
                  int loser, double delta[])
{
    for (unsigned i = 0; i < n; i++) {
        delta[i] = 0;
        for (unsigned j = 0; j < n; j++) {
            if (j == i)
                continue;
            double score = (int)i == loser ? 0.0
                         : (int)j == loser ? 1.0
                         : total[i] < total[j] ? 1.0
                         : total[i] == total[j] ? 0.5 : 0.0;
            delta[i] += rating_delta(rating[i], rating[j], score);
        }
        if (n > 1)
            delta[i] /= (double)(n - 1);
    }
}
