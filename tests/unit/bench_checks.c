/* tests/unit/bench_checks.c: the report's consistency checks (bench/checks.c).
 *
 * A row consistent with a made-up machine (AES-128-GCM at 4000 MB/s per core,
 * ECDSA P-256 at 50,000 signs/s, X25519 at 40,000 derives/s) passes; then
 * each bound is broken on its own and exactly that check must fail. The
 * oracle is arithmetic done here by hand on the same figures. Last, a run
 * folder whose client wrote the old throughput_mbps (megabits per second) is
 * loaded: the rate must come out in MB/s (divided by 8, not relabelled), and
 * the same figure written under megabytes_per_s must fail rate_cpu.
 */
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "tests/tap.h"

static struct run R;

static void machine(void)
{
	memset(&R, 0, sizeof R);
	R.have_ceiling = true;
	snprintf(R.ceil.aead[0].name, sizeof R.ceil.aead[0].name, "AES-128-GCM");
	R.ceil.aead[0].per_s = 4e9;             /* 0.25 ns/B */
	R.ceil.n_aead = 1;
	snprintf(R.ceil.sign[0].name, sizeof R.ceil.sign[0].name, "ecdsa-p256");
	R.ceil.sign[0].per_s = 50000;           /* 20 µs */
	R.ceil.n_sign = 1;
	snprintf(R.ceil.kex[0].name, sizeof R.ceil.kex[0].name, "X25519");
	R.ceil.kex[0].per_s = 40000;            /* 25 µs */
	R.ceil.n_kex = 1;
	R.env = cJSON_Parse("{\"commit\": \"abc1234\"}");
}

static void base(struct row *w, enum scen_kind kind)
{
	static const double lat[ROW_LAT_N] = { 400, 600, 1500, 3000, 5000 };
	memset(w, 0, sizeof *w);
	w->sc.kind = kind;
	w->sc.tls = 13;
	snprintf(w->sc.cert, sizeof w->sc.cert, "ecdsa-p256");
	snprintf(w->sc.group, sizeof w->sc.group, "X25519");
	snprintf(w->sc.cipher, sizeof w->sc.cipher, "AES-128-GCM");
	snprintf(w->sc.layer, sizeof w->sc.layer, "user");
	w->sc.conns = 1;
	w->ok = true;
	w->duration_s = 2.0;
	w->server_cpu_window_s = 2.05;
	w->server_cpu_other_s = 0.02;
	w->server_threads = w->client_threads = 1;
	w->client_cpu_s = 1.2;
	w->cycles = -1;
	w->hf_mean_s = w->hf_sd_s = -1;
	memcpy(w->lat_us, lat, sizeof lat);
	for (int i = 0; i < ROW_LAT_N; i++)
		w->hs_lat_us[i] = -1;
	snprintf(w->commit_client, sizeof w->commit_client, "abc1234");
	snprintf(w->commit_server, sizeof w->commit_server, "abc1234");
	if (kind == SCEN_HANDSHAKE) {
		/* 8000 handshakes in 2 s, 1.6 s of server CPU: 200 µs each (floor 45 µs) */
		w->handshakes = 8000;
		w->server_cpu_s = 1.6;
		w->server_handshakes = 8000;
		w->server_resumed = 0;
		w->server_requests = w->server_bytes_out = 0;
		w->sc.conns = 16;
	} else {
		/* 2048 responses of 1 MiB in 2 s: 1073.7 MB/s; 1.6 s of server CPU:
		 * 0.745 ns/B (floor 0.25); the client 1.2 s: 0.56 ns/B */
		w->sc.size = 1 << 20;
		w->requests = 2048;
		w->bytes = 2048.0 * (1 << 20);
		w->handshakes = 1;
		w->server_cpu_s = 1.6;
		w->server_handshakes = 1;
		w->server_requests = 2049;
		w->server_bytes_out = w->bytes + 2049 * 100.0;
	}
	w->handshakes_per_s = w->handshakes / w->duration_s;
	w->hs_per_s_json = w->handshakes_per_s;
	w->mb_per_s = w->bytes / w->duration_s / 1e6;
	w->mb_per_s_json = w->mb_per_s;
	row_derive(w);
}

/* w must fail exactly `want` (a CHECK_* bit). */
static void expect(struct row *w, unsigned want, const char *what)
{
	unsigned got = row_check(&R, w);
	if (!OK(got == want, "%s: fails %s only", what, want ? check_name(want) : "nothing"))
		printf("#   failed bits 0x%x: %s\n", got, w->check_why);
	else if (want)
		printf("#   %s\n", w->check_why);
}

static void test_bounds(void)
{
	struct row w;

	base(&w, SCEN_BULK);
	expect(&w, 0, "a consistent bulk row");
	base(&w, SCEN_HANDSHAKE);
	expect(&w, 0, "a consistent handshake row");

	/* cpu_share: 2.3 s of CPU in a 2.05 s window on one thread */
	base(&w, SCEN_BULK);
	w.server_cpu_s = 2.3;
	w.server_cpu_other_s = -1;
	row_derive(&w);
	w.mb_per_s_json = -1; /* (the stated rate is checked on its own below) */
	expect(&w, CHECK_CPU_SHARE, "server CPU over 100% of its window");
	base(&w, SCEN_BULK);
	w.client_cpu_s = 2.2;
	expect(&w, CHECK_CPU_SHARE, "client CPU over 100% of its window");
	/* the same CPU time with two server threads is possible */
	base(&w, SCEN_BULK);
	w.server_cpu_s = 2.3;
	w.server_cpu_other_s = -1;
	w.server_threads = 2;
	w.mb_per_s_json = -1;
	row_derive(&w);
	expect(&w, 0, "2.3 s of CPU in 2.05 s on two threads");

	/* cpu_busy: server 1.6 s + other work 0.6 s in 2.05 s ("CPU shared 114%") */
	base(&w, SCEN_BULK);
	w.server_cpu_other_s = 0.6;
	expect(&w, CHECK_CPU_BUSY, "the server's CPU busier than 100%");

	/* aead_floor: 0.2 ns/B of server CPU against a 0.25 ns/B AEAD */
	base(&w, SCEN_BULK);
	w.server_cpu_s = 0.2 * w.bytes / 1e9;
	row_derive(&w);
	w.mb_per_s_json = -1;
	expect(&w, CHECK_AEAD_FLOOR, "server cheaper per byte than its AEAD");
	/* the kernel's AEAD is another implementation: half the floor is allowed */
	snprintf(w.sc.layer, sizeof w.sc.layer, "ktls");
	expect(&w, 0, "kTLS row at 0.8x OpenSSL's floor");
	w.server_cpu_s = 0.1 * w.bytes / 1e9;
	row_derive(&w);
	expect(&w, CHECK_AEAD_FLOOR, "kTLS row at 0.4x OpenSSL's floor");
	base(&w, SCEN_BULK);
	w.client_cpu_s = 0.2 * w.bytes / 1e9;
	expect(&w, CHECK_AEAD_FLOOR, "client cheaper per byte than the AEAD it decrypts with");
	w.client_rx_kernel = true;
	expect(&w, 0, "... unless the kernel decrypted (--rx ktls)");

	/* aead_rate: 9000 MB/s through one core of a 4000 MB/s AEAD (the old
	 * report's 25,219 "MB/s" against 6,560 MB/s) */
	base(&w, SCEN_BULK);
	w.bytes = 9e9 * w.duration_s;
	w.requests = round(w.bytes / w.sc.size);
	w.mb_per_s = w.mb_per_s_json = 9000;
	w.server_cpu_s = 1.9;
	w.client_cpu_s = 1.9;
	w.server_bytes_out = w.bytes;
	w.server_requests = w.requests;
	w.server_cpu_other_s = 0;
	row_derive(&w);
	unsigned got = row_check(&R, &w);
	OK(got & CHECK_AEAD_RATE, "9000 MB/s on one 4000 MB/s core fails aead_rate (%s)", w.check_why);
	/* hyperfine: a whole transfer faster than the AEAD */
	base(&w, SCEN_HYPERFINE);
	w.sc.size = 1ull << 30;
	w.hf_mean_s = 0.1; /* 10,737 MB/s */
	w.client_cpu_s = 0;
	w.server_cpu_s = -1;
	w.bytes = w.requests = 0;
	w.mb_per_s_json = -1;
	w.server_requests = w.server_bytes_out = -1;
	expect(&w, CHECK_AEAD_RATE, "hyperfine: 1 GiB in 0.1 s on one core");
	w.hf_mean_s = 0.5;
	expect(&w, 0, "hyperfine: 1 GiB in 0.5 s");

	/* hs_floor: 30 µs per handshake against a 45 µs signature + derive */
	base(&w, SCEN_HANDSHAKE);
	w.server_cpu_s = 30e-6 * w.handshakes;
	w.server_cpu_other_s = 0;
	row_derive(&w);
	expect(&w, CHECK_HS_FLOOR, "a handshake cheaper than its signature and key exchange");
	w.sc.tls = 12;
	w.sc.resume = true;
	expect(&w, 0, "30 µs is possible for a TLS 1.2 resumption (no public key)");

	/* rate_cpu: the stated rate in megabits (8x) against counts in bytes */
	base(&w, SCEN_BULK);
	w.mb_per_s_json = w.mb_per_s * 8;
	expect(&w, CHECK_RATE_CPU, "MB/s stated in megabits");
	base(&w, SCEN_HANDSHAKE);
	w.hs_per_s_json = 2 * w.handshakes_per_s;
	expect(&w, CHECK_RATE_CPU, "handshakes/s twice the counts");

	/* percentiles */
	base(&w, SCEN_BULK);
	w.lat_us[2] = 500; /* p99 < p90 */
	expect(&w, CHECK_PERCENTILES, "p99 below p90");
	base(&w, SCEN_HANDSHAKE);
	w.hs_lat_us[0] = 300;
	w.hs_lat_us[4] = 200;
	expect(&w, CHECK_PERCENTILES, "handshake max below p50");

	/* counts */
	base(&w, SCEN_HANDSHAKE);
	w.resumed = w.handshakes + 1;
	expect(&w, CHECK_COUNTS, "more resumed than handshakes");
	base(&w, SCEN_HANDSHAKE);
	w.server_handshakes = w.handshakes - 100;
	expect(&w, CHECK_COUNTS, "the server completed fewer handshakes than the client counted");
	base(&w, SCEN_BULK);
	w.requests -= 10;
	w.server_cpu_other_s = 0;
	expect(&w, CHECK_COUNTS, "bytes are not requests x size");
	base(&w, SCEN_BULK);
	w.server_bytes_out = w.bytes / 2;
	expect(&w, CHECK_COUNTS, "the client received more than the server sent");
	base(&w, SCEN_BULK);
	w.server_requests = 10;
	expect(&w, CHECK_COUNTS, "the client counted more requests than the server answered");

	/* build */
	base(&w, SCEN_BULK);
	snprintf(w.commit_server, sizeof w.commit_server, "def5678");
	expect(&w, CHECK_BUILD, "the server's JSON from another commit");

	/* the VM: no timing is shown, so none is checked; counts still are */
	base(&w, SCEN_BULK);
	w.emulated = true;
	w.server_cpu_s = 50;
	row_derive(&w);
	expect(&w, 0, "an emulated row's timing is not checked");
	w.requests = 3;
	expect(&w, CHECK_COUNTS, "an emulated row's counts are");

	/* a failed row is listed with its error, not checked */
	base(&w, SCEN_BULK);
	w.ok = false;
	w.server_cpu_s = 50;
	expect(&w, 0, "a failed row");
}

/* --- the old key, read from files ---------------------------------------------- */
static char dir[] = "/tmp/bench_checks.XXXXXX";

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void put(const char *name, const char *text)
{
	char path[300];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	OK(util_write_file(path, text, strlen(text)) == 0, "write %s", name);
}

static const char *RUN =
	"{\"scenario\": {\"line\": \"bulk tls=1.3 cipher=AES-128-GCM layer=user size=1M conns=1 duration=2s\"},"
	" \"peer\": \"ktls-server\", \"ok\": true, \"client_json\": \"b.client.json\","
	" \"server_cpu_s\": 1.6, \"server_cpu_other_s\": 0.0, \"wall_s\": 2.1}";

static void test_old_key(void)
{
	struct run r;
	char err[300];
	/* 2048 MiB in 2 s = 1073.74 MB/s = 8589.93 megabits/s */
	const char *client_old = "{\"duration_s\": 2.0, \"requests\": 2048, \"bytes\": 2147483648,"
				 " \"throughput_mbps\": 8589.934592, \"cpu_user_s\": 0.8, \"cpu_sys_s\": 0.4}";
	const char *client_bad = "{\"duration_s\": 2.0, \"requests\": 2048, \"bytes\": 2147483648,"
				 " \"megabytes_per_s\": 8589.934592, \"cpu_user_s\": 0.8, \"cpu_sys_s\": 0.4}";

	if (!mkdtemp(dir)) {
		OK(0, "mkdtemp");
		return;
	}
	put("b.run.json", RUN);
	put("b.client.json", client_old);
	put("ceiling.json", "{\"aead\": {\"AES-128-GCM\": {\"bytes_per_s\": 4e9}}}");
	EXPECT_EQ(run_load(&r, dir, err, sizeof err), 0);
	if (r.n == 1) {
		OK(fabs(r.rows[0].mb_per_s - 1073.741824) < 1e-6, "MB/s from the counts: %.6f", r.rows[0].mb_per_s);
		OK(fabs(r.rows[0].mb_per_s_json - 1073.741824) < 1e-6,
		   "old throughput_mbps (megabits) read as %.6f MB/s", r.rows[0].mb_per_s_json);
		EXPECT_EQ(r.rows[0].check_failed, 0);
	}
	run_free(&r);
	put("b.client.json", client_bad);
	EXPECT_EQ(run_load(&r, dir, err, sizeof err), 0);
	if (r.n == 1) {
		EXPECT_EQ(r.rows[0].check_failed, CHECK_RATE_CPU);
		OK(r.rows[0].mb_per_s > 1073 && r.rows[0].mb_per_s < 1074,
		   "the table's MB/s still comes from the counts (%.1f)", r.rows[0].mb_per_s);
	}
	run_free(&r);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	machine();
	test_bounds();
	test_old_key();
	cJSON_Delete(R.env);
	return tap_done();
}
