/* common/hist.h: a log-linear latency histogram (HdrHistogram-style).
 *
 * Values (usually nanoseconds) below 256 are counted exactly; above, each
 * power of two is split into 128 linear sub-buckets, so a percentile read
 * back is within 0.4% of the true value (the bucket's midpoint, clamped to
 * the recorded min and max). Fixed size (about 58 KiB), no allocation,
 * mergeable: record per thread, merge at the end.
 */
#ifndef KTLS_COMMON_HIST_H
#define KTLS_COMMON_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 8
#define HIST_SUB      (1u << HIST_SUB_BITS)          /* 256 */
#define HIST_HALF     (HIST_SUB / 2)                 /* 128 */
#define HIST_BUCKETS  ((64 - HIST_SUB_BITS + 1) * HIST_HALF + HIST_HALF)

struct hist {
	uint64_t count;
	uint64_t min, max;
	double sum;
	double m2;                      /* sum of squared deviations from the mean (Welford) */
	uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
void hist_record_n(struct hist *h, uint64_t v, uint64_t n);
void hist_merge(struct hist *dst, const struct hist *src);
/* p in [0, 100]; 0 for an empty histogram. hist_percentile(h, 100) == max. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);
/* The sample standard deviation of the recorded values (exact, not from the
 * buckets); 0 with fewer than two values. */
double hist_stddev(const struct hist *h);

/* Bucket index of v, and the [lo, hi] range of values a bucket holds. */
unsigned hist_index(uint64_t v);
void hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *hi);

#endif
