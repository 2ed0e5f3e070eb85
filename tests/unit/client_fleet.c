/* Unit tests: client/fleet.c, the fleet's arithmetic without MPI: how the
 * totals are split across ranks, and the merge (counts summed, histograms
 * merged bucket by bucket, timelines summed) against an independent oracle:
 * every sample of every rank sorted in one array. */
#include "client/fleet.h"
#include "tests/tap.h"

#include <cjson/cJSON.h>
#include <math.h>

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The smallest sample with at least p% of the samples at or below it, the
 * rank computed in integers (p in tenths of a percent: 99.9% of 17000 is
 * 16983 exactly, where doubles give 16983.000000000004). */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	uint64_t num = (uint64_t)(p * 10 + 0.5) * n, rank = num / 1000 + (num % 1000 != 0);
	return sorted[(rank ? rank : 1) - 1];
}

/* What the histogram reports for a value: its bucket's midpoint. */
static uint64_t bucket_mid(uint64_t v)
{
	uint64_t lo, hi;
	hist_bucket_range(hist_index(v), &lo, &hi);
	return lo + (hi - lo) / 2;
}

static void test_share(void)
{
	static const uint64_t totals[] = { 0, 1, 3, 4, 7, 64, 1000, 1000003 };
	static const unsigned ns[] = { 1, 2, 3, 4, 7, 64 };
	int bad = 0;
	for (size_t a = 0; a < sizeof(totals) / sizeof(totals[0]); a++)
		for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
			uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
			for (unsigned r = 0; r < ns[b]; r++) {
				uint64_t s = fleet_share(totals[a], r, ns[b]);
				sum += s;
				lo = s < lo ? s : lo;
				hi = s > hi ? s : hi;
			}
			if (sum != totals[a] || hi - lo > 1)
				bad++;
		}
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(fleet_share(10, 0, 4), 3);
	EXPECT_EQ(fleet_share(10, 1, 4), 3);
	EXPECT_EQ(fleet_share(10, 2, 4), 2);
}

static void base_cfg(struct client_cfg *c, enum client_mode m)
{
	memset(c, 0, sizeof(*c));
	c->mode = m;
	c->host = "192.0.2.10";
	c->port = 8443;
	c->threads = 2;
	c->connections = 16;
	c->max_inflight = 1024;
	c->duration_ns = 2 * NS_PER_S;
	tlsopts_init(&c->tls);
}

static void test_cfg_rank(void)
{
	struct client_cfg t, o;
	char err[400];
	uint64_t conns = 0, count = 0, inflight = 0;

	base_cfg(&t, MODE_HANDSHAKE);
	t.connections = 19;
	t.count = 1001;
	for (unsigned r = 0; r < 4; r++) {
		OK(fleet_cfg_rank(&t, r, 4, &o, err, sizeof(err)) == 0, "closed loop rank %u of 4 configured", r);
		conns += o.connections;
		count += o.count;
		OK(o.connections >= o.threads, "rank %u: %llu connections for %u threads", r,
		   (unsigned long long)o.connections, o.threads);
	}
	EXPECT_EQ(conns, 19);
	EXPECT_EQ(count, 1001);

	base_cfg(&t, MODE_HANDSHAKE);
	t.rate = 1000;
	t.max_inflight = 10;
	for (unsigned r = 0; r < 3; r++) {
		OK(fleet_cfg_rank(&t, r, 3, &o, err, sizeof(err)) == 0, "open loop rank %u of 3 configured", r);
		EXPECT_EQ(o.rate, 1000); /* the total: the engine interleaves the ranks */
		inflight += o.max_inflight;
	}
	EXPECT_EQ(inflight, 10);

	/* refusals, each with its reason */
	base_cfg(&t, MODE_HANDSHAKE);
	t.connections = 7; /* 4 ranks x 2 threads need 8 */
	OK(fleet_cfg_rank(&t, 0, 4, &o, err, sizeof(err)) < 0 && strstr(err, "at least 8"),
	   "too few connections refused: %s", err);
	base_cfg(&t, MODE_GET);
	t.count = 3;
	t.threads = 1;
	OK(fleet_cfg_rank(&t, 0, 4, &o, err, sizeof(err)) < 0 && strstr(err, "--requests 3"),
	   "a count below the ranks refused: %s", err);
	base_cfg(&t, MODE_HANDSHAKE);
	t.rate = 5; /* 4 x 2 threads */
	OK(fleet_cfg_rank(&t, 0, 4, &o, err, sizeof(err)) < 0 && strstr(err, "--rate 5"),
	   "a rate below one per second per thread refused: %s", err);
	base_cfg(&t, MODE_HANDSHAKE);
	t.have_cpus = true;
	OK(fleet_cfg_rank(&t, 0, 2, &o, err, sizeof(err)) < 0 && strstr(err, "--bind-to"),
	   "--cpus refused, mpirun's placement named: %s", err);
	base_cfg(&t, MODE_TRACE);
	OK(fleet_cfg_rank(&t, 0, 2, &o, err, sizeof(err)) < 0 && strstr(err, "ktls-client trace"),
	   "trace refused: %s", err);
}

#define NR 4
#define NSLOTS 3

static void test_merge(void)
{
	static struct fleet_rank r[NR];
	static struct tl_slot tl[NR * NSLOTS], sum[NSLOTS];
	static struct run m;
	static struct hist one;
	struct client_cfg cfg;
	size_t cap = 0, n = 0;
	uint64_t *all = NULL, hs = 0;

	base_cfg(&cfg, MODE_HANDSHAKE);
	cfg.threads = NR; /* one thread per rank */
	hist_init(&one);
	for (unsigned i = 0; i < NR; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		stats_init(&r[i].st);
		r[i].rank = i;
		r[i].threads = 1;
		snprintf(r[i].host, sizeof(r[i].host), "host%u", i / 2);
		snprintf(r[i].commit, sizeof(r[i].commit), "abc");
		/* each rank its own distribution: rank i around (i+1) ms, and
		 * rank 3 with a slow tail, with different sample counts */
		size_t k = 2000 + 1500 * i;
		for (size_t j = 0; j < k; j++) {
			uint64_t v = (i + 1) * 1000000ull + rng() % 500000;
			if (i == 3 && j % 20 == 0)
				v = 40000000ull + rng() % 10000000;
			hist_record(&r[i].st.lat, v);
			hist_record(&one, v);
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				all = realloc(all, cap * sizeof(*all));
			}
			all[n++] = v;
		}
		r[i].st.handshakes = k;
		r[i].st.err[ERR_RESET] = i;
		r[i].wall_s = 2.0 + 0.01 * i;
		r[i].cpu_user_s = 0.5 * i;
		r[i].cpu_sys_s = 0.1;
		r[i].start_realtime_ns = 1000000000 + 1000 * i;
		hs += k;
		for (unsigned s = 0; s < NSLOTS; s++) {
			struct tl_slot *x = &tl[i * NSLOTS + s];
			x->handshakes = 100 * (i + 1) + s;
			x->lat_sum_ns = 1000;
			x->lat_n = 1;
			x->lat_max_ns = 10 * i + s;
		}
	}
	fleet_merge(&m, &cfg, r, NR, tl, NSLOTS, sum);
	EXPECT_EQ(m.total.handshakes, hs);
	EXPECT_EQ(m.total.err[ERR_RESET], 0 + 1 + 2 + 3);
	EXPECT_EQ(m.total.lat.count, n);
	OK(fabs(m.cpu_user_s - 3.0) < 1e-9 && fabs(m.cpu_sys_s - 0.4) < 1e-9, "CPU summed over ranks");
	OK(fabs(m.wall_s - 2.03) < 1e-9, "the measured window is the longest rank's (%.2f s)", m.wall_s);
	EXPECT_EQ(memcmp(m.total.lat.b, one.b, sizeof(one.b)), 0); /* bucket for bucket */
	for (unsigned s = 0; s < NSLOTS; s++) {
		struct tl_slot got;
		engine_timeline(&m, s, &got);
		EXPECT_EQ(got.handshakes, 100 + 200 + 300 + 400 + 4 * s);
		EXPECT_EQ(got.lat_n, NR);
		EXPECT_EQ(got.lat_max_ns, 30 + s); /* the max, not a sum */
	}

	/* the oracle: every sample together */
	qsort(all, n, sizeof(*all), cmp_u64);
	static const double ps[] = { 50, 90, 99, 99.9 };
	for (size_t i = 0; i < 4; i++) {
		uint64_t exact = exact_percentile(all, n, ps[i]);
		EXPECT_EQ(hist_percentile(&m.total.lat, ps[i]), bucket_mid(exact));
	}
	/* averaging the ranks' p99 would be far off: ranks 0-2 have no tail */
	double avg = 0;
	for (unsigned i = 0; i < NR; i++)
		avg += (double)hist_percentile(&r[i].st.lat, 99) / NR;
	uint64_t p99 = hist_percentile(&m.total.lat, 99);
	OK(fabs((double)p99 - avg) > 0.2 * (double)p99,
	   "the merged p99 (%.2f ms) is not the mean of the ranks' p99 (%.2f ms)", (double)p99 / 1e6, avg / 1e6);

	/* the busiest rank is the bottleneck */
	r[2].cpu_user_s = 1.95;
	EXPECT_EQ(fleet_bottleneck(r, NR), 2);
	OK(fleet_rank_busy(&r[2]) >= CLIENT_SATURATED, "rank 2 saturated (%.2f)", fleet_rank_busy(&r[2]));

	/* the JSON: the same keys as one client, plus ranks[] and fleet */
	cJSON *doc = report_json_doc(&m);
	EXPECT_EQ(fleet_report_json(doc, r, NR), 0);
	const cJSON *ranks = cJSON_GetObjectItemCaseSensitive(doc, "ranks"), *e;
	EXPECT_EQ(cJSON_GetArraySize(ranks), NR);
	double sum_hs = 0;
	cJSON_ArrayForEach(e, ranks)
		sum_hs += cJSON_GetObjectItemCaseSensitive(e, "handshakes")->valuedouble;
	EXPECT_EQ((uint64_t)sum_hs, (uint64_t)cJSON_GetObjectItemCaseSensitive(doc, "handshakes")->valuedouble);
	OK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "client_saturated")),
	   "client_saturated when one rank is");
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(doc, "fleet");
	EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(fl, "bottleneck_rank")->valueint, 2);
	EXPECT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(fl, "hosts")), 2);
	OK(fabs(cJSON_GetObjectItemCaseSensitive(fl, "start_spread_us")->valuedouble - 3.0) < 1e-9,
	   "start spread from the ranks' clocks (3 us)");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "config");
	EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(c, "threads")->valueint, 1);
	EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(c, "ranks")->valueint, NR);
	double p99_json = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "latency_us"),
							   "p99")->valuedouble;
	OK(fabs(p99_json - (double)bucket_mid(exact_percentile(all, n, 99)) / 1e3) < 1e-6,
	   "JSON latency_us.p99 (%.3f us) is the merged histogram's", p99_json);
	cJSON_Delete(doc);
	free(all);
}

int main(void)
{
	test_share();
	test_cfg_rank();
	test_merge();
	return tap_done();
}
