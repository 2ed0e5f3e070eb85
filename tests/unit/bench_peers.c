/* tests/unit/bench_peers.c: what ktls-bench reads from and writes for the
 * other programs: `perf stat -x,` output, the marked files that come back from
 * the VM (good, truncated, hostile), and the private nginx configuration
 * (checked by `nginx -t` itself when nginx is installed). */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/runner.h"
#include "tests/tap.h"

static char tmp[] = "/tmp/bench_peers.XXXXXX";

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void test_perf(void)
{
	OK(runner_perf_cycles("4294967296,,cycles,1000432,100.00,,\n") == 4294967296.0, "cycles counted");
	OK(runner_perf_cycles("# started on ...\n\n1234,,cycles,10,100.00,,\n") == 1234.0, "after perf's header");
	OK(runner_perf_cycles("<not supported>,,cycles,0,100.00,,\n") < 0, "<not supported> is unknown");
	OK(runner_perf_cycles("<not counted>,,cycles,0,0.00,,\n") < 0, "<not counted> is unknown");
	OK(runner_perf_cycles("99,,instructions,10,100.00,,\n") < 0, "another event is not cycles");
	OK(runner_perf_cycles("") < 0, "empty output");
}

static struct suite one(const char *line)
{
	struct suite s = { 0 };
	char err[256];
	if (suite_parse_text(&s, line, "t", err, sizeof err))
		printf("# %s\n", err);
	return s;
}

static char *marked(const char *name, const char *body)
{
	char *t = malloc(strlen(body) + 512);
	sprintf(t, "\n@@ktls-bench-file %s %zu\n%s\n@@ktls-bench-end %s\n", name, strlen(body), body, name);
	return t;
}

static void test_vm_collect(void)
{
	struct suite s = one("bulk layer=ktls size=4K");
	const struct scenario *scs[1] = { &s.sc[0] };
	int seqs[1] = { 7 };
	char dir[128], path[300], text[8192], name[200];
	size_t got = 99;
	const char *id = s.sc[0].id;

	snprintf(dir, sizeof dir, "%s/collect", tmp);
	EXPECT_EQ(util_mkdir_p(dir), 0);
	snprintf(name, sizeof name, "%s.client.json", id);
	char run[600];
	snprintf(run, sizeof run, "{\"scenario\": {\"line\": \"bulk layer=ktls size=4K\"}, \"where\": \"host\", "
		 "\"emulated\": false, \"seq\": 0, \"ok\": true, \"client_json\": \"%s.client.json\", "
		 "\"server_json\": \"%s.server.json\"}", id, id);
	char rn[200];
	snprintf(rn, sizeof rn, "%s.run.json", id);
	char *a = marked(rn, run), *b = marked(name, "{\"bytes\": 4096,\n \"handshakes\": 1}");
	snprintf(text, sizeof text, "[    0.1] console noise\n%s\nmore noise @@ktls-bench-file\n%s", a, b);
	free(a);
	free(b);
	EXPECT_EQ(vm_collect(text, dir, seqs, scs, 1, &got), 0);
	EXPECT_EQ(got, 1);
	snprintf(path, sizeof path, "%s/%s.vm.run.json", dir, id);
	cJSON *r = util_read_json(path);
	OK(r != NULL, "the run record came back as %s.vm.run.json", id);
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "where");
	EXPECT_STREQ(cJSON_IsString(w) ? w->valuestring : NULL, "vm");
	OK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "emulated")), "labelled emulated");
	EXPECT_EQ(util_json_num(r, "seq", -1), 7);
	const cJSON *cj = cJSON_GetObjectItemCaseSensitive(r, "client_json");
	snprintf(name, sizeof name, "%s.vm.client.json", id);
	EXPECT_STREQ(cJSON_IsString(cj) ? cj->valuestring : NULL, name);
	const cJSON *lab = cJSON_GetObjectItemCaseSensitive(r, "label");
	EXPECT_STREQ(cJSON_IsString(lab) ? lab->valuestring : NULL,
		     "emulated (TCG): correctness only, not performance");
	cJSON_Delete(r);
	snprintf(path, sizeof path, "%s/%s.vm.client.json", dir, id);
	char *c = util_read_file(path, NULL);
	EXPECT_STREQ(c, "{\"bytes\": 4096,\n \"handshakes\": 1}");
	free(c);

	/* a failed run: its error names the server's log by its name here,
	 * and the log itself comes back */
	snprintf(run, sizeof run, "{\"scenario\": {\"line\": \"bulk layer=ktls size=4K\"}, \"where\": \"host\", "
		 "\"ok\": false, \"error\": \"ktls-server did not exit cleanly on SIGTERM (status 0xb): see "
		 "%s.server.log\"}", id);
	snprintf(name, sizeof name, "%s.server.log", id);
	a = marked(rn, run);
	b = marked(name, "ktls-server: listening\nsummary");
	snprintf(text, sizeof text, "%s%s", a, b);
	free(a);
	free(b);
	EXPECT_EQ(vm_collect(text, dir, seqs, scs, 1, &got), 0);
	snprintf(path, sizeof path, "%s/%s.vm.run.json", dir, id);
	r = util_read_json(path);
	const cJSON *er = cJSON_GetObjectItemCaseSensitive(r, "error");
	char want[600];
	snprintf(want, sizeof want, "ktls-server did not exit cleanly on SIGTERM (status 0xb): see %s.vm.server.log", id);
	EXPECT_STREQ(cJSON_IsString(er) ? er->valuestring : NULL, want);
	OK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "emulated")), "a record without the key is labelled emulated too");
	EXPECT_EQ(util_json_num(r, "seq", -1), 7);
	cJSON_Delete(r);
	snprintf(path, sizeof path, "%s/%s.vm.server.log", dir, id);
	c = util_read_file(path, NULL);
	EXPECT_STREQ(c, "ktls-server: listening\nsummary");
	free(c);

	/* truncated output, a wrong length, a missing end marker: refused */
	snprintf(text, sizeof text, "@@ktls-bench-file %s.client.json 400\n{\"bytes\": 1}\n", id);
	EXPECT_EQ(vm_collect(text, dir, seqs, scs, 1, &got), -EINVAL);
	snprintf(text, sizeof text, "@@ktls-bench-file %s.client.json 3\n{\"bytes\": 1}\n@@ktls-bench-end %s.client.json\n",
		 id, id);
	EXPECT_EQ(vm_collect(text, dir, seqs, scs, 1, &got), -EINVAL);

	/* names that are not this run's, or that try to leave the folder: ignored */
	snprintf(text, sizeof text,
		 "@@ktls-bench-file other.run.json 2\n{}\n@@ktls-bench-end other.run.json\n"
		 "@@ktls-bench-file %s./../../escape 2\n{}\n@@ktls-bench-end %s./../../escape\n", id, id);
	EXPECT_EQ(vm_collect(text, dir, seqs, scs, 1, &got), 0);
	EXPECT_EQ(got, 0);
	snprintf(path, sizeof path, "%s/escape", tmp);
	OK(access(path, F_OK) != 0, "nothing written outside the run folder");
	snprintf(path, sizeof path, "%s/other.vm.run.json", dir);
	OK(access(path, F_OK) != 0, "no file for a scenario this run did not send");
	suite_free(&s);
}

static void test_nginx_conf(void)
{
	struct runner R = { 0 };
	char prefix[200], path[600], err[256];
	snprintf(R.tmp, sizeof R.tmp, "%s", tmp);
	/* absolute, as the runner's is: nginx resolves relative paths against -p */
	char *build = realpath(getenv("KTLS_BUILD") ? getenv("KTLS_BUILD") : "build", NULL);
	snprintf(R.certs, sizeof R.certs, "%s/certs", build ? build : "build");
	free(build);
	bool have_nginx = system("command -v nginx >/dev/null 2>&1") == 0;
	snprintf(path, sizeof path, "%s/ecdsa-p256.crt", R.certs);
	bool have_certs = access(path, R_OK) == 0;

	static const struct { const char *line, *want[6], *absent; } cases[] = {
		{ "handshake tls=1.2 resume=no", { "ssl_protocols TLSv1.2;", "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;",
		  "ssl_ecdh_curve X25519:P-256;", "ssl_session_tickets off;", "ssl_session_cache off;", "sendfile off;" },
		  "Options KTLS" },
		{ "handshake tls=1.3 cert=rsa-2048 group=P-256 resume=yes", { "ssl_protocols TLSv1.3;",
		  "ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;", "ssl_ecdh_curve P-256;",
		  "ssl_session_tickets on;", "rsa-2048.key;", "master_process off;" }, "Options KTLS" },
		{ "bulk layer=ktls cipher=CHACHA20-POLY1305", { "ssl_conf_command Options KTLS;", "sendfile on;",
		  "Ciphersuites TLS_CHACHA20_POLY1305_SHA256;", "worker_processes 1;", "listen 127.0.0.1:4433 ssl;",
		  "access_log off;" }, "/var/" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct suite s = one(cases[i].line);
		snprintf(prefix, sizeof prefix, "%s/nginx%zu", tmp, i);
		EXPECT_EQ(nginx_write_conf(&R, &s.sc[0], 4433, prefix, err, sizeof err), 0);
		snprintf(path, sizeof path, "%s/nginx.conf", prefix);
		char *conf = util_read_file(path, NULL);
		for (int k = 0; k < 6; k++)
			OK(conf && strstr(conf, cases[i].want[k]), "%s: has '%s'", cases[i].line, cases[i].want[k]);
		OK(conf && !strstr(conf, cases[i].absent), "%s: no '%s'", cases[i].line, cases[i].absent);
		free(conf);
		if (have_nginx && have_certs) {
			char cmd[800];
			snprintf(cmd, sizeof cmd, "nginx -t -q -p %s -c %s/nginx.conf -e %s/test.log 2>/dev/null",
				 prefix, prefix, prefix);
			EXPECT_EQ(system(cmd), 0);
		} else {
			tap_skip(1, "nginx or build/certs missing: nginx -t not run");
		}
		suite_free(&s);
	}
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_perf();
	test_vm_collect();
	test_nginx_conf();
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
