/* Unit tests: common/hist.c against a sorted-array reference on random data. */
#include "common/hist.h"
#include "tests/tap.h"

#include <math.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Reference: the smallest sample with at least p% of samples at or below it. */
static uint64_t ref_percentile(const uint64_t *sorted, size_t n, double p)
{
	if (p <= 0)
		return sorted[0];
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static void check_dist(const char *name, uint64_t (*gen)(void), size_t n)
{
	static struct hist h;
	uint64_t *v = malloc(n * sizeof(*v));
	static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
	double worst = 0;

	hist_init(&h);
	for (size_t i = 0; i < n; i++) {
		v[i] = gen();
		hist_record(&h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t want = ref_percentile(v, n, ps[i]);
		uint64_t got = hist_percentile(&h, ps[i]);
		double err = want ? fabs((double)got - (double)want) / (double)want : (double)got;
		if (err > worst)
			worst = err;
		OK(err <= 0.01, "%s: p%g = %llu within 1%% of %llu (%.3f%%)", name, ps[i],
		   (unsigned long long)got, (unsigned long long)want, err * 100);
	}
	EXPECT_EQ(h.count, n);
	EXPECT_EQ(h.min, v[0]);
	EXPECT_EQ(h.max, v[n - 1]);
	tap_diag("%s: worst relative error %.3f%%", name, worst * 100);
	free(v);
}

static uint64_t gen_uniform(void) { return rng() % 1000000; }
static uint64_t gen_small(void) { return rng() % 300; }
/* log-uniform between 1 us and 10 s, as latencies are */
static uint64_t gen_logu(void)
{
	double u = (double)(rng() >> 11) / (double)(1ULL << 53);
	return (uint64_t)(1000.0 * pow(10.0, u * 7.0));
}
static uint64_t gen_huge(void) { return rng() >> (rng() % 64); }

int main(void)
{
	static struct hist a, b, m;

	check_dist("uniform", gen_uniform, 100000);
	check_dist("small exact", gen_small, 20000);
	check_dist("log-uniform", gen_logu, 200000);
	check_dist("full 64-bit range", gen_huge, 50000);

	/* Index layout: contiguous, monotonic, ranges tile without gaps. */
	int tiled = 1;
	uint64_t prev_hi = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo, hi;
		hist_bucket_range(i, &lo, &hi);
		if ((i > 0 && lo != prev_hi + 1) || hist_index(lo) != i || hist_index(hi) != i)
			tiled = 0;
		prev_hi = hi;
	}
	OK(tiled, "buckets tile [0, 2^64) without gaps or overlaps");
	EXPECT_EQ(prev_hi, UINT64_MAX);
	EXPECT_EQ(hist_index(UINT64_MAX), HIST_BUCKETS - 1);

	/* Merge equals recording everything into one. */
	hist_init(&a); hist_init(&b); hist_init(&m);
	for (int i = 0; i < 50000; i++) {
		uint64_t x = gen_logu();
		hist_record(i % 2 ? &a : &b, x);
		hist_record(&m, x);
	}
	hist_merge(&a, &b);
	OK(memcmp(a.b, m.b, sizeof(a.b)) == 0 && a.count == m.count && a.min == m.min &&
	   a.max == m.max, "merge of two halves equals the whole");
	EXPECT_EQ(hist_percentile(&a, 99), hist_percentile(&m, 99));

	hist_init(&a);
	EXPECT_EQ(hist_percentile(&a, 50), 0);
	OK(hist_mean(&a) == 0, "empty mean is 0");
	/* Below 256 values are exact. */
	hist_record_n(&a, 100, 3);
	hist_record(&a, 250);
	OK(fabs(hist_mean(&a) - 137.5) < 1e-9, "mean of {100 x3, 250} is 137.5");
	EXPECT_EQ(hist_percentile(&a, 75), 100);
	EXPECT_EQ(hist_percentile(&a, 76), 250);

	/* Standard deviation: exact (from the values, not the buckets), the
	 * sample form (n - 1) as wrk prints it. {2,4,4,4,5,5,7,9}: mean 5, sum
	 * of squared deviations 32, sample variance 32/7. */
	hist_init(&a);
	OK(hist_stddev(&a) == 0, "empty stddev is 0");
	hist_record(&a, 2);
	OK(hist_stddev(&a) == 0, "one value: stddev 0");
	hist_record_n(&a, 4, 3);
	hist_record_n(&a, 5, 2);
	hist_record(&a, 7);
	hist_record(&a, 9);
	OK(fabs(hist_stddev(&a) - sqrt(32.0 / 7.0)) < 1e-9, "stddev of {2,4,4,4,5,5,7,9} is sqrt(32/7) (got %.12f)",
	   hist_stddev(&a));
	/* large values far from zero: a naive sum of squares would lose them */
	hist_init(&a);
	for (int i = 0; i < 1000; i++)
		hist_record(&a, 1000000000000ULL + (uint64_t)(i % 2) * 2);
	OK(fabs(hist_stddev(&a) - sqrt(1000.0 / 999.0)) < 1e-6,
	   "stddev of 10^12 and 10^12 + 2 alternating is sqrt(1000/999) (got %.9f)", hist_stddev(&a));
	/* merging two halves gives the stddev of the whole (Chan et al.) */
	hist_init(&a); hist_init(&b); hist_init(&m);
	double sum = 0, sq = 0;
	uint64_t xs[30000];
	for (int i = 0; i < 30000; i++) {
		xs[i] = gen_logu();
		hist_record(i < 10000 ? &a : &b, xs[i]);
		hist_record(&m, xs[i]);
		sum += (double)xs[i];
	}
	for (int i = 0; i < 30000; i++)
		sq += ((double)xs[i] - sum / 30000) * ((double)xs[i] - sum / 30000);
	hist_merge(&a, &b);
	OK(fabs(hist_stddev(&a) - sqrt(sq / 29999)) < 1e-6 * sqrt(sq / 29999),
	   "merged stddev %.3f equals the two-pass stddev %.3f", hist_stddev(&a), sqrt(sq / 29999));
	OK(fabs(hist_stddev(&m) - sqrt(sq / 29999)) < 1e-6 * sqrt(sq / 29999),
	   "recorded stddev %.3f equals the two-pass stddev", hist_stddev(&m));
	return tap_done();
}
