/*
 * stats.h -- summaries in constant memory: a distribution (count, mean,
 * min, max and approximate quantiles from fixed log-spaced buckets) and a
 * HyperLogLog distinct counter.  Analysis of a file of any size keeps a few
 * kilobytes per metric.
 */
#ifndef CORE_STATS_H
#define CORE_STATS_H

#include <stdint.h>

/* [0,1) in 100 linear buckets (scores), then 1.05^k up to ~10^9. */
#define CORE_DIST_LINEAR 100
#define CORE_DIST_LOG 430
#define CORE_DIST_BUCKETS (CORE_DIST_LINEAR + CORE_DIST_LOG)

typedef struct core_dist {
    unsigned long long n;
    double sum, min, max;
    unsigned long long buckets[CORE_DIST_BUCKETS];
} core_dist;

/* Add v (negative values count as 0). */
void core_dist_add(core_dist *d, double v);
/* Return the q-quantile (0..1), within 5% (1/100 below 1); 0 when empty. */
double core_dist_quantile(const core_dist *d, double q);
/* Return the mean; 0 when empty. */
double core_dist_mean(const core_dist *d);

#define CORE_HLL_BITS 12
typedef struct core_hll {
    uint8_t reg[1 << CORE_HLL_BITS];
} core_hll;

/* Add an element by its 64-bit hash. */
void core_hll_add(core_hll *h, uint64_t hash);
/* Return the estimated number of distinct elements (about 1.6% error). */
double core_hll_count(const core_hll *h);

#endif
