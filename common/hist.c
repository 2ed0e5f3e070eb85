/* common/hist.c: see hist.h.
 *
 * Index layout: for v < 256, idx = v. Otherwise let msb be v's highest set
 * bit and shift = msb - 7; then v >> shift is in [128, 256) and
 * idx = shift * 128 + (v >> shift). Consecutive shifts tile the index space
 * without gaps: shift 1 covers [256, 384), and so on.
 */
#include "common/hist.h"

#include <math.h>
#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - (HIST_SUB_BITS - 1);
	return shift * HIST_HALF + (unsigned)(v >> shift);
}

void hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *hi)
{
	if (idx < HIST_SUB) {
		*lo = *hi = idx;
		return;
	}
	unsigned shift = idx / HIST_HALF - 1;
	uint64_t sub = idx - shift * HIST_HALF;   /* in [128, 256) */
	*lo = sub << shift;
	*hi = *lo + ((1ULL << shift) - 1);
}

void hist_record_n(struct hist *h, uint64_t v, uint64_t n)
{
	if (!n)
		return;
	double mean_old = h->count ? h->sum / (double)h->count : 0.0;
	h->b[hist_index(v)] += n;
	h->count += n;
	h->sum += (double)v * (double)n;
	/* Welford's update, n equal values at once */
	h->m2 += ((double)v - mean_old) * ((double)v - h->sum / (double)h->count) * (double)n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_record(struct hist *h, uint64_t v)
{
	hist_record_n(h, v, 1);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	if (dst->count) {
		/* Chan et al.: combine two groups' sums of squared deviations */
		double na = (double)dst->count, nb = (double)src->count;
		double d = src->sum / nb - dst->sum / na;
		dst->m2 += src->m2 + d * d * na * nb / (na + nb);
	} else {
		dst->m2 = src->m2;
	}
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	if (!h->count)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	/* The smallest value with at least p% of the samples at or below it. */
	uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.9999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t lo, hi, v;
			hist_bucket_range(i, &lo, &hi);
			v = lo + (hi - lo) / 2;
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}

double hist_stddev(const struct hist *h)
{
	if (h->count < 2 || h->m2 <= 0)
		return 0.0;
	return sqrt(h->m2 / (double)(h->count - 1));
}
