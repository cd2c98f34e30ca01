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
