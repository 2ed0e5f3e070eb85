/* tests/unit/bench_suite.c: the suite format (good and bad text, expansion,
 * round trips) and the parsing of `openssl speed -mr` output. */
#include <errno.h>
#include <math.h>
#include <sched.h>

#include "bench/bench.h"
#include "tests/tap.h"

static int parse(struct suite *s, const char *text, char *err, size_t len)
{
	suite_free(s);
	err[0] = 0;
	return suite_parse_text(s, text, "t.suite", err, len);
}

/* The error must name the line and contain the given word. */
static void bad(const char *text, const char *where, const char *word)
{
	struct suite s = { 0 };
	char err[512];
	int rc = parse(&s, text, err, sizeof err);
	EXPECT_EQ(rc, -EINVAL);
	OK(strstr(err, where) != NULL, "error names %s: %s", where, err);
	OK(strstr(err, word) != NULL, "error mentions '%s': %s", word, err);
	suite_free(&s);
}

static void test_expansion(void)
{
	struct suite s = { 0 };
	char err[512];
	EXPECT_EQ(parse(&s, "# a comment\n\nhandshake tls=1.2,1.3 resume=no,yes conns=1,8,32  # trailing\n",
			err, sizeof err), 0);
	EXPECT_EQ(s.n, 12);
	/* conns varies fastest, then resume, then tls */
	EXPECT_EQ(s.sc[0].tls, 12);
	EXPECT_EQ(s.sc[0].conns, 1);
	EXPECT_EQ(s.sc[1].conns, 8);
	EXPECT_EQ(s.sc[2].conns, 32);
	EXPECT_EQ(s.sc[3].resume, 1);
	EXPECT_EQ(s.sc[6].tls, 13);
	EXPECT_STREQ(s.sc[0].id, "hs-12-ecdsa-p256-x25519-aes-128-gcm-full-c1");
	EXPECT_STREQ(s.sc[11].id, "hs-13-ecdsa-p256-x25519-aes-128-gcm-resumed-c32");
	EXPECT_STREQ(s.sc[0].cert, "ecdsa-p256");   /* built-in defaults */
	EXPECT_STREQ(s.sc[0].group, "X25519");
	EXPECT_STREQ(s.sc[0].layer, "user");
	EXPECT_EQ(s.sc[0].duration_ns, 2000000000ull);
	EXPECT_STREQ(s.sc[0].origin, "t.suite:3");

	/* defaults apply to later lines only; a line's own value wins; case-insensitive names */
	EXPECT_EQ(parse(&s, "bulk size=1K\ndefaults duration=250ms size=64K cipher=chacha20-poly1305\n"
			    "bulk layer=user,ktls\nbulk size=2M cipher=AES-256-GCM\n", err, sizeof err), 0);
	EXPECT_EQ(s.n, 4);
	EXPECT_EQ(s.sc[0].size, 1024);
	EXPECT_EQ(s.sc[0].duration_ns, 2000000000ull);
	EXPECT_EQ(s.sc[1].size, 65536);
	EXPECT_EQ(s.sc[1].duration_ns, 250000000ull);
	EXPECT_STREQ(s.sc[1].cipher, "CHACHA20-POLY1305");
	EXPECT_STREQ(s.sc[2].layer, "ktls");
	EXPECT_EQ(s.sc[3].size, 2u << 20);
	EXPECT_STREQ(s.sc[3].cipher, "AES-256-GCM");
	EXPECT_STREQ(s.sc[1].id, "bulk-13-chacha20-poly1305-user-64k-c1-ecdsa-p256-x25519");

	/* a defaults key that a kind does not take is ignored there */
	EXPECT_EQ(parse(&s, "defaults resume=yes size=4K\nbulk\nhandshake\n", err, sizeof err), 0);
	EXPECT_EQ(s.n, 2);
	EXPECT_EQ(s.sc[0].resume, 0);
	EXPECT_EQ(s.sc[1].resume, 1);
	EXPECT_EQ(s.sc[1].size, 0);

	/* hyperfine times both record layers unless told */
	EXPECT_EQ(parse(&s, "hyperfine size=1G runs=5\n", err, sizeof err), 0);
	EXPECT_EQ(s.n, 2);
	EXPECT_STREQ(s.sc[0].layer, "user");
	EXPECT_STREQ(s.sc[1].layer, "ktls");
	EXPECT_EQ(s.sc[1].runs, 5);
	EXPECT_EQ(s.sc[1].size, 1ull << 30);
	suite_free(&s);
}

static void test_errors(void)
{
	bad("handshake\nhandshak tls=1.3\n", "t.suite:2:", "handshak");
	bad("bulk cipers=AES-128-GCM\n", "t.suite:1:", "cipers");
	bad("handshake layer=ktls\n", "t.suite:1:", "layer");            /* not a handshake key */
	bad("bulk size=10Mx\n", "t.suite:1:", "10Mx");
	bad("bulk size=0\n", "t.suite:1:", "size");
	bad("bulk conns=-1\n", "t.suite:1:", "conns");
	bad("bulk conns=1,,8\n", "t.suite:1:", "empty value");
	bad("bulk tls=1.4\n", "t.suite:1:", "1.2, 1.3");
	bad("bulk cipher=AES-128-CBC\n", "t.suite:1:", "CHACHA20-POLY1305");
	bad("handshake cert=dsa\n", "t.suite:1:", "ecdsa-p256");
	bad("handshake group=X9\n", "t.suite:1:", "X25519");
	bad("handshake resume=maybe\n", "t.suite:1:", "yes, no");
	bad("handshake openssl=fast\n", "t.suite:1:", "shims, stock");
	bad("bulk openssl=stock\n", "t.suite:1:", "openssl");        /* a handshake key only */
	bad("bulk duration=3\x01s\n", "t.suite:1:", "duration");
	bad("bulk duration=0s\n", "t.suite:1:", "duration");
	bad("bulk size=1K size=2K\n", "t.suite:1:", "twice");
	bad("bulk sizes\n", "t.suite:1:", "key=value");
	bad("bulk =1K\n", "t.suite:1:", "key=value");
	bad("\n\n# c\nbulk size=1K\nbulk size=1K\n", "t.suite:5:", "t.suite:4");  /* a repeat */
	bad("defaults size=huge\nbulk\n", "t.suite:1:", "huge");
	bad("hyperfine size=512\n", "t.suite:1:", "1K");
	bad("hyperfine runs=0\n", "t.suite:1:", "runs");
	bad("bulk conns=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17 size=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,"
	    "17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,"
	    "50,51,52,53,54,55,56,57,58,59,60,61,62,63,64 cipher=AES-128-GCM,AES-256-GCM,CHACHA20-POLY1305 "
	    "layer=user,ktls\n", "t.suite:1:", "more than");
}

static void test_roundtrip(void)
{
	struct suite s = { 0 }, t = { 0 };
	char err[512], line[512];
	EXPECT_EQ(parse(&s, "handshake tls=1.2 cert=rsa-2048 group=P-256 resume=yes conns=7 duration=1500ms warmup=1s\n"
			    "bulk tls=1.3 cipher=CHACHA20-POLY1305 layer=ktls size=3M conns=2 duration=3s\n"
			    "file size=12345\nhyperfine size=64M layer=ktls runs=2\n", err, sizeof err), 0);
	EXPECT_EQ(s.n, 4);
	for (size_t i = 0; i < s.n; i++) {
		EXPECT_EQ(scenario_to_line(&s.sc[i], line, sizeof line), 0);
		EXPECT_EQ(parse(&t, line, err, sizeof err), 0);
		EXPECT_EQ(t.n, 1);
		EXPECT_STREQ(t.sc[0].id, s.sc[i].id);
		EXPECT_EQ(t.sc[0].duration_ns, s.sc[i].duration_ns);
		EXPECT_EQ(t.sc[0].warmup_ns, s.sc[i].warmup_ns);
		EXPECT_EQ(t.sc[0].size, s.sc[i].size);
		EXPECT_EQ(t.sc[0].runs, s.sc[i].runs);

		cJSON *j = scenario_to_json(&s.sc[i]);
		struct scenario back;
		EXPECT_EQ(scenario_from_json(j, &back), 0);
		EXPECT_STREQ(back.id, s.sc[i].id);
		EXPECT_STREQ(back.origin, s.sc[i].origin);
		EXPECT_EQ(back.conns, s.sc[i].conns);
		cJSON_Delete(j);
	}
	EXPECT_STREQ(s.sc[0].id, "hs-12-rsa-2048-p-256-aes-128-gcm-resumed-c7");
	EXPECT_STREQ(scenario_cipher12(&s.sc[0]), "ECDHE-RSA-AES128-GCM-SHA256");
	EXPECT_STREQ(scenario_ciphersuite(&s.sc[1]), "TLS_CHACHA20_POLY1305_SHA256");

	/* openssl=shims,stock: varies fastest, the stock id has its suffix, the
	 * line says stock (and shims, the default, not at all), JSON keeps it */
	EXPECT_EQ(parse(&s, "handshake conns=1,16 openssl=shims,stock\n", err, sizeof err), 0);
	EXPECT_EQ(s.n, 4);
	EXPECT_EQ(s.sc[0].stock, 0);
	EXPECT_EQ(s.sc[1].stock, 1);
	EXPECT_EQ(s.sc[1].conns, 1);
	EXPECT_STREQ(s.sc[0].id, "hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1");
	EXPECT_STREQ(s.sc[1].id, "hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1-stock");
	EXPECT_EQ(scenario_to_line(&s.sc[1], line, sizeof line), 0);
	OK(strstr(line, " openssl=stock") != NULL, "the stock line says so: %s", line);
	EXPECT_EQ(parse(&t, line, err, sizeof err), 0);
	EXPECT_EQ(t.sc[0].stock, 1);
	EXPECT_STREQ(t.sc[0].id, "hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1-stock");
	EXPECT_EQ(scenario_to_line(&s.sc[0], line, sizeof line), 0);
	OK(strstr(line, "openssl") == NULL, "the shims line is as before: %s", line);
	cJSON *j = scenario_to_json(&s.sc[1]);
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "openssl");
	OK(cJSON_IsString(o) && !strcmp(o->valuestring, "stock"), "JSON: \"openssl\": \"stock\"");
	struct scenario back;
	EXPECT_EQ(scenario_from_json(j, &back), 0);
	EXPECT_EQ(back.stock, 1);
	cJSON_Delete(j);
	suite_free(&s);
	suite_free(&t);
}

static void test_shipped_suites(void)
{
	struct suite s = { 0 };
	char err[512] = "";
	EXPECT_EQ(suite_load(&s, "quick", "bench/suites", err, sizeof err), 0);
	OK(s.n >= 20, "quick has %zu scenarios %s", s.n, err);
	size_t kinds[SCEN_KIND_COUNT] = { 0 };
	for (size_t i = 0; i < s.n; i++)
		kinds[s.sc[i].kind]++;
	for (int k = 0; k < SCEN_KIND_COUNT; k++)
		OK(kinds[k] > 0, "quick has %s scenarios", scen_kind_name((enum scen_kind)k));
	/* every stock row of the headline handshakes has its shims twin */
	size_t stock = 0, twins = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (!s.sc[i].stock)
			continue;
		struct scenario tw = s.sc[i];
		tw.stock = false;
		scenario_make_id(&tw);
		stock++;
		for (size_t j = 0; j < s.n; j++)
			twins += !strcmp(s.sc[j].id, tw.id);
	}
	OK(stock >= 4 && twins == stock, "quick: %zu stock-OpenSSL handshake rows, %zu with their shims twin", stock,
	   twins);
	suite_free(&s);
	EXPECT_EQ(suite_load(&s, "full", "bench/suites", err, sizeof err), 0);
	OK(s.n > 100, "full has %zu scenarios", s.n);
	suite_free(&s);
	EXPECT_EQ(suite_load(&s, "no-such-suite", "bench/suites", err, sizeof err), -ENOENT);
	OK(strstr(err, "quick, full") != NULL, "missing suite error says what is valid: %s", err);
	suite_free(&s);
}

/* `openssl speed -mr` output captured from OpenSSL 3.0. */
static const char ecdsa_out[] =
	"+DTP:256:sign:ecdsa:1\n+R5:52912:256:0.99\n+DTP:256:verify:ecdsa:1\n+R6:16651:256:1.00\n"
	"+F4:3:256:53446.464646:16651.000000\n";
static const char rsa_out[] = "+DTP:2048:private:rsa:1\n+R1:3508:2048:0.99\n+F2:2:2048:3543.434343:65402.000000\n";
static const char ed_out[] = "+F6:0:253:Ed25519:29648.000000:11436.363636\n";
static const char ecdh_out[] = "+DTP:253::ecdh:1\n+R7:34879:253:0.99\n+F5:22:253:35231.313131:0.000028\n";
static const char evp_out[] = "+DT:AES-128-GCM:1:16384\n+R:367603:AES-128-GCM:1.000000\n+H:16384\n"
			      "+F:25:AES-128-GCM:6022807552.00\n";
static const char evp_multi[] = "+H:16:16384\n+F:25:ChaCha20-Poly1305:912345.00:3918688711.11\n";

static void test_ceiling_parse(void)
{
	double v = 0;
	EXPECT_EQ(ceiling_parse_mr(ecdsa_out, 's', &v), 0);
	OK(fabs(v - 53446.464646) < 1e-6, "ECDSA signs/s %f", v);
	EXPECT_EQ(ceiling_parse_mr(rsa_out, 's', &v), 0);
	OK(fabs(v - 3543.434343) < 1e-6, "RSA signs/s %f", v);
	EXPECT_EQ(ceiling_parse_mr(ed_out, 's', &v), 0);
	OK(fabs(v - 29648) < 1e-6, "Ed25519 signs/s %f", v);
	EXPECT_EQ(ceiling_parse_mr(ecdh_out, 'k', &v), 0);
	OK(fabs(v - 35231.313131) < 1e-6, "ECDH ops/s %f", v);
	EXPECT_EQ(ceiling_parse_mr(evp_out, 'a', &v), 0);
	OK(fabs(v - 6022807552.0) < 1, "AES-128-GCM bytes/s %f", v);
	EXPECT_EQ(ceiling_parse_mr(evp_multi, 'a', &v), 0);
	OK(fabs(v - 3918688711.11) < 1, "last -bytes size taken: %f", v);
	/* the wrong kind, no result line, garbage numbers */
	EXPECT_EQ(ceiling_parse_mr(ecdh_out, 's', &v), -EINVAL);
	EXPECT_EQ(ceiling_parse_mr(ecdsa_out, 'a', &v), -EINVAL);
	EXPECT_EQ(ceiling_parse_mr("Doing 256 bits sign ecdsa ops for 1s\n", 's', &v), -EINVAL);
	EXPECT_EQ(ceiling_parse_mr("+F4:3:256:fast:1\n", 's', &v), -EINVAL);
	EXPECT_EQ(ceiling_parse_mr("+F4:3:256:-5:1\n", 's', &v), -EINVAL);
	EXPECT_EQ(ceiling_parse_mr("", 'k', &v), -EINVAL);
	EXPECT_STREQ(ceiling_speed_alg('s', "rsa-2048"), "rsa2048");
	EXPECT_STREQ(ceiling_speed_alg('k', "P-256"), "ecdhp256");
	EXPECT_STREQ(ceiling_speed_alg('a', "CHACHA20-POLY1305"), "chacha20-poly1305");
	OK(ceiling_speed_alg('s', "X25519") == NULL, "a group is not a signature");

	/* the handshake floor: sign + 2 ECDH ops; resumption: 2 ECDH ops; TLS 1.2 resumption: none */
	struct ceiling c;
	cJSON *j = cJSON_Parse("{\"sign\":{\"ecdsa-p256\":{\"per_s\":50000}},"
			       "\"kex\":{\"X25519\":{\"per_s\":40000}},"
			       "\"aead\":{\"AES-128-GCM\":{\"bytes_per_s\":4e9}}}");
	EXPECT_EQ(ceiling_from_json(j, &c), 0);
	cJSON_Delete(j);
	struct scenario sc = { .kind = SCEN_HANDSHAKE, .tls = 13, .cert = "ecdsa-p256", .group = "X25519" };
	const char *what = NULL;
	double us = ceiling_handshake_us(&c, &sc, &what);
	OK(fabs(us - (20 + 2 * 25)) < 1e-9, "full TLS 1.3: 20 + 2x25 us (%s)", what);
	sc.resume = true;
	OK(fabs(ceiling_handshake_us(&c, &sc, &what) - 50) < 1e-9, "resumed TLS 1.3: 2x25 us");
	sc.tls = 12;
	us = ceiling_handshake_us(&c, &sc, &what);
	EXPECT_EQ((long)us, 0);
	OK(strstr(what, "symmetric") != NULL, "TLS 1.2 resumption has no public-key floor: %s", what);
	snprintf(sc.cert, sizeof sc.cert, "rsa-2048");
	sc.resume = false;
	EXPECT_EQ((long)ceiling_handshake_us(&c, &sc, &what), 0); /* not measured: unknown */
	OK(fabs(ceiling_get(&c, 'a', "AES-128-GCM") - 4e9) < 1, "AEAD from JSON");
	/* JSON round trip */
	cJSON *back = ceiling_to_json(&c);
	struct ceiling c2;
	EXPECT_EQ(ceiling_from_json(back, &c2), 0);
	OK(fabs(ceiling_get(&c2, 'k', "X25519") - 40000) < 1e-9, "ceiling JSON round trip");
	cJSON_Delete(back);
}

/* threads=S[:C] and threads=sweep: 1, 2, 4, ... and the host's CPU count. */
static void test_threads(void)
{
	struct suite s = { 0 };
	char err[512], line[512];
	cpu_set_t set;
	unsigned ncpu = 1;

	if (!sched_getaffinity(0, sizeof set, &set))
		ncpu = (unsigned)CPU_COUNT(&set);
	EXPECT_EQ(parse(&s, "handshake conns=16 threads=1,2,3:2\n", err, sizeof err), 0);
	EXPECT_EQ(s.n, 3);
	EXPECT_EQ(scenario_threads(&s.sc[0]), 1);
	EXPECT_STREQ(s.sc[0].id, "hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16"); /* ids of 1 thread unchanged */
	EXPECT_STREQ(s.sc[1].id, "hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16-t2");
	EXPECT_EQ(scenario_threads(&s.sc[2]), 3);
	EXPECT_EQ(scenario_client_threads(&s.sc[2]), 2);
	EXPECT_STREQ(s.sc[2].id, "hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16-t3x2");
	/* the line round-trips with its threads */
	EXPECT_EQ(scenario_to_line(&s.sc[2], line, sizeof line), 0);
	OK(strstr(line, "threads=3:2") != NULL, "the line says threads=3:2: %s", line);
	struct suite back = { 0 };
	EXPECT_EQ(suite_parse_text(&back, line, "line", err, sizeof err), 0);
	EXPECT_STREQ(back.sc[0].id, s.sc[2].id);
	suite_free(&back);
	/* threads vary faster than everything but conns */
	EXPECT_EQ(parse(&s, "handshake threads=1,2 conns=1,4\n", err, sizeof err), 0);
	EXPECT_EQ(s.sc[1].conns, 4);
	EXPECT_EQ(scenario_threads(&s.sc[2]), 2);
	/* sweep: powers of two up to this host's CPUs, and the count itself */
	unsigned want = 0, last = 0;
	for (unsigned t = 1; t <= ncpu; t *= 2)
		want++, last = t;
	if (last != ncpu)
		want++;
	EXPECT_EQ(parse(&s, "defaults threads=sweep\nhandshake conns=4\nbulk threads=sweep:2\n", err, sizeof err), 0);
	EXPECT_EQ(s.n, 2 * want);
	EXPECT_EQ(scenario_threads(&s.sc[want - 1]), ncpu);
	EXPECT_EQ(scenario_client_threads(&s.sc[want]), 2);
	tap_diag("threads=sweep on %u CPUs: %u values", ncpu, want);
	suite_free(&s);
	bad("handshake threads=0\n", "t.suite:1:", "threads");
	bad("handshake threads=257\n", "t.suite:1:", "sweep");
	bad("handshake threads=2:0\n", "t.suite:1:", "threads");
	bad("handshake threads=two\n", "t.suite:1:", "threads");
	bad("hyperfine threads=2\n", "t.suite:1:", "unknown key");
}

int main(void)
{
	test_threads();
	test_expansion();
	test_errors();
	test_roundtrip();
	test_shipped_suites();
	test_ceiling_parse();
	return tap_done();
}
