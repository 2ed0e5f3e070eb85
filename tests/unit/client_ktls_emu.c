/* Unit tests: ktls-client's kTLS paths (get --rx ktls, trace --ktls) on a
 * host without kernel TLS, through the emulated kernel of tests/ktls_emu.h
 * plugged into libktls's socket seam. The server is the real
 * tests/helpers/tls_test_server (a plain OpenSSL server in another process):
 * every response the client reads was encrypted by OpenSSL and decrypted by
 * the emulated kernel with the keys libktls installed, then checked against
 * the /bytes pattern. The kernel itself is tested in the VM (tests/ktls).
 */
#include "client/client.h"
#include "tests/ktls_emu.h"
#include "osslshim/osslshim.h"
#include "tests/tap.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static char build[512], certs[600];
static pid_t server_pid = -1;

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &l))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Start tls_test_server with extra options (NULL-terminated); its port. */
static int start_server(const char *extra)
{
	char helper[600], key[700], crt[700], portbuf[16];
	int port;

	for (int tries = 0; tries < 5; tries++) {
		port = free_port();
		snprintf(helper, sizeof(helper), "%s/tests/helpers/tls_test_server", build);
		snprintf(crt, sizeof(crt), "%s/ecdsa-p256.crt", certs);
		snprintf(key, sizeof(key), "%s/ecdsa-p256.key", certs);
		snprintf(portbuf, sizeof(portbuf), "%d", port);
		server_pid = fork();
		if (server_pid == 0) {
			if (extra)
				execl(helper, helper, "--port", portbuf, "--cert", crt, "--key", key,
				      "--lifetime", "60s", extra, (char *)NULL);
			else
				execl(helper, helper, "--port", portbuf, "--cert", crt, "--key", key,
				      "--lifetime", "60s", (char *)NULL);
			_exit(127);
		}
		for (int i = 0; i < 100; i++) {
			struct timespec ts = { 0, 20 * 1000000L };
			if (port_open(port))
				return port;
			if (waitpid(server_pid, NULL, WNOHANG) == server_pid)
				break; /* port taken: try another */
			nanosleep(&ts, NULL);
		}
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = -1;
	return -1;
}

static void stop_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = -1;
}

static int parse(struct client_cfg *cfg, const char **args)
{
	int n = 0;
	while (args[n])
		n++;
	return cli_parse(cfg, n, (char **)args);
}

static void get_ktls(int port)
{
	struct client_cfg cfg;
	static struct run run;
	char p[16];

	snprintf(p, sizeof(p), "%d", port);
	const char *args[] = { "get", "--port", p, "--size", "100K", "-n", "20", "-c", "2", "--rx", "ktls",
			       "-d", "30s", "-q", NULL };
	emu_install();
	EXPECT_EQ(parse(&cfg, args), 0);
	EXPECT_EQ(engine_run(&run, &cfg, NULL), 0);
	EXPECT_STREQ(run.fatal, "");
	EXPECT_EQ(run.total.requests, 20);
	EXPECT_EQ(run.total.bytes, 20 * 102400);
	EXPECT_EQ(run.total.handshakes, 2);
	EXPECT_EQ(stats_errors(&run.total), 0);
	/* the emulated kernel really decrypted: both sockets got a TLS_RX key */
	int rx = 0;
	for (int i = 0; i < EMU_MAX_SOCKS; i++)
		rx += emu.socks[i].ulp && emu.socks[i].rx.set && !emu.socks[i].tx.set;
	EXPECT_EQ(rx, 2);
	engine_free(&run);
	cli_free(&cfg);
}

/* One request per run: the emulated kernel keys sockets by fd and, unlike the
 * real one, does not see a close, so a reconnect would reuse a stale entry. */
static void get_ktls_corrupt(int port)
{
	struct client_cfg cfg;
	static struct run run;
	char p[16];

	snprintf(p, sizeof(p), "%d", port);
	const char *args[] = { "get", "--port", p, "--size", "64K", "-n", "1", "-c", "1", "--rx", "ktls",
			       "-d", "30s", "-q", NULL };
	for (int i = 0; i < 3; i++) {
		emu_install();
		EXPECT_EQ(parse(&cfg, args), 0);
		engine_run(&run, &cfg, NULL);
		EXPECT_EQ(run.total.err[ERR_PATTERN], 1);
		EXPECT_EQ(run.total.requests, 0);
		engine_free(&run);
		cli_free(&cfg);
	}
}

static void get_no_ulp(int port)
{
	struct client_cfg cfg;
	static struct run run;
	char p[16];

	snprintf(p, sizeof(p), "%d", port);
	const char *args[] = { "get", "--port", p, "-n", "3", "-c", "1", "--rx", "ktls", "-d", "30s", "-q", NULL };
	emu_install();
	emu.no_ulp = true;
	EXPECT_EQ(parse(&cfg, args), 0);
	EXPECT_EQ(engine_run(&run, &cfg, NULL), 1);
	OK(strstr(run.fatal, "modprobe tls") != NULL, "no tls ULP: the run stops and names the fix (%s)",
	   run.fatal);
	EXPECT_EQ(run.total.requests, 0);
	engine_free(&run);
	cli_free(&cfg);
}

static cJSON *load_json(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 17];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return cJSON_Parse(buf);
}

static double num(cJSON *o, const char *a, const char *b)
{
	cJSON *x = cJSON_GetObjectItem(o, a);
	if (b)
		x = cJSON_GetObjectItem(x, b);
	return cJSON_IsNumber(x) ? x->valuedouble : -1;
}

static void trace_ktls(int port, const char *version, int want_seq)
{
	struct client_cfg cfg;
	char p[16], json[] = "/tmp/ktls-client-trace-XXXXXX";
	int fd = mkstemp(json);
	cJSON *o;

	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "%d", port);
	const char *args[] = { "trace", "--port", p, "--ktls", "--tls-version", version,
			       "--request", "/bytes/40000", "--json", json, NULL };
	emu_install();
	EXPECT_EQ(parse(&cfg, args), 0);
	/* trace prints its text on stdout: keep the TAP stream clean */
	fflush(stdout);
	int saved = dup(1), devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 1);
	int rc = trace_run(&cfg);
	cli_free(&cfg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(devnull);
	OK(rc == 0, "trace --ktls --tls-version %s exits 0 (got %d)", version, rc);
	o = load_json(json);
	OK(o != NULL, "TLS %s: trace JSON parses", version);
	cJSON *k = cJSON_GetObjectItem(o, "ktls");
	OK(cJSON_IsTrue(cJSON_GetObjectItem(k, "enabled")), "TLS %s: kTLS enabled", version);
	EXPECT_EQ(num(o, "ktls", "tx_seq"), want_seq);
	EXPECT_EQ(num(o, "ktls", "rx_seq"), want_seq);
	EXPECT_EQ(num(o, "request", "status"), 200);
	EXPECT_EQ(num(o, "request", "body_bytes"), 40000);
	OK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "request"), "pattern_ok")),
	   "TLS %s: the body decrypted by the (emulated) kernel is the pattern", version);
	if (!strcmp(version, "1.3"))
		EXPECT_EQ(num(o, "ktls", "tickets_via_kernel"), 2); /* OpenSSL sends two */
	cJSON_Delete(o);
	unlink(json);
}

int main(void)
{
	const char *b = getenv("KTLS_BUILD");
	struct stat st;
	int port;

	/* OpenSSL's memory as the client binary has it (osslshim/mem.c): a
	 * block freed by the other allocator than the one that made it fails here */
	osslshim_mem_install();
	snprintf(build, sizeof(build), "%s", b ? b : "build");
	snprintf(certs, sizeof(certs), "%s/certs/ecdsa-p256.crt", build);
	if (stat(certs, &st))
		tap_skip_all("no test certificates (make certs)");
	snprintf(certs, sizeof(certs), "%s/certs", build);
	signal(SIGPIPE, SIG_IGN);

	port = start_server(NULL);
	OK(port > 0, "test server started");
	if (port <= 0)
		return tap_done();
	get_ktls(port);
	get_no_ulp(port);
	trace_ktls(port, "1.3", 0);
	trace_ktls(port, "1.2", 1);
	stop_server();

	port = start_server("--corrupt=30000");
	OK(port > 0, "corrupting test server started");
	if (port > 0)
		get_ktls_corrupt(port);
	stop_server();
	return tap_done();
}
