/* stats.c -- constant-memory distributions and distinct counts (see
 * stats.h). */
#include "stats.h"

#include <math.h>
#include <string.h>

static int dist_bucket(double v)
{
    if (v < 1.0)
        return (int)(v * CORE_DIST_LINEAR);
    int k = (int)(log(v) / log(1.05));
    if (k >= CORE_DIST_LOG)
        k = CORE_DIST_LOG - 1;
    return CORE_DIST_LINEAR + k;
}

/* A value representing bucket b: its middle (geometric above 1). */
static double dist_value(int b)
{
    if (b < CORE_DIST_LINEAR)
        return (b + 0.5) / CORE_DIST_LINEAR;
    int k = b - CORE_DIST_LINEAR;
    return pow(1.05, k + 0.5);
}

void core_dist_add(core_dist *d, double v)
{
    if (v != v) /* NaN */
        return;
    if (v < 0)
        v = 0;
    if (d->n == 0 || v < d->min)
        d->min = v;
    if (d->n == 0 || v > d->max)
        d->max = v;
    d->n++;
    d->sum += v;
    d->buckets[dist_bucket(v)]++;
}

double core_dist_mean(const core_dist *d)
{
    return d->n ? d->sum / (double)d->n : 0;
}

double core_dist_quantile(const core_dist *d, double q)
{
    if (d->n == 0)
        return 0;
    unsigned long long want = (unsigned long long)ceil(q * (double)d->n);
    if (want == 0)
        want = 1;
    unsigned long long seen = 0;
    for (int b = 0; b < CORE_DIST_BUCKETS; b++) {
        seen += d->buckets[b];
        if (seen >= want) {
            double v = dist_value(b);
            /* integers stay integers when the bucket holds one value */
            if (v < d->min)
                v = d->min;
            if (v > d->max)
                v = d->max;
            return v;
        }
    }
    return d->max;
}

void core_hll_add(core_hll *h, uint64_t hash)
{
    /* mix, so FNV's weak low bits do not bias the registers */
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ULL;
    hash ^= hash >> 33;
    unsigned idx = (unsigned)(hash >> (64 - CORE_HLL_BITS));
    uint64_t rest = hash << CORE_HLL_BITS;
    uint8_t rank = 1;
    while (rank <= 64 - CORE_HLL_BITS && !(rest & (1ULL << 63))) {
        rank++;
        rest <<= 1;
    }
    if (rank > h->reg[idx])
        h->reg[idx] = rank;
}

double core_hll_count(const core_hll *h)
{
    const double m = 1 << CORE_HLL_BITS;
    double sum = 0;
    int zeros = 0;
    for (int i = 0; i < (1 << CORE_HLL_BITS); i++) {
        sum += ldexp(1.0, -h->reg[i]);
        zeros += h->reg[i] == 0;
    }
    double est = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (est <= 2.5 * m && zeros > 0)
        est = m * log(m / zeros); /* linear counting for small sets */
    return est;
}
