/* tests/helpers/bench_fake_peer.c: a stand-in for ktls-server and ktls-client
 * that tests ktls-bench's runner (spawn, pinning, port wait, SIGTERM, JSON
 * collection, Ctrl-C, the VM hand-off) without TLS. Installed under the names
 * ktls-server and ktls-client (symlinks); it acts by the name it was run as.
 *
 * server: listens on 127.0.0.1:--port, accepts and closes connections, burns
 *         a little CPU per connection; on SIGTERM writes --json and exits 0.
 * client: opens connections for --duration (or --requests), writes --json.
 * Both record the CPUs they were pinned to ("affinity"), the --threads and
 * --cpus they were given ("threads_arg", "cpus_arg"), and their pid into
 * $FAKE_PID_DIR/<name>.<pid> when that is set, so tests can check pinning and
 * that nothing was left running. FAKE_CLIENT_EXIT=N makes the client exit N;
 * FAKE_SERVER_EXIT=N makes the server exit N at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/procstat.h"
#include "common/units.h"

static volatile sig_atomic_t stop;
static const char *arg_threads = "", *arg_cpus = ""; /* as given: recorded in the JSON */
static void on_term(int s) { (void)s; stop = 1; }

static cJSON *affinity(void)
{
	cpu_set_t set;
	cJSON *a = cJSON_CreateArray();
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cJSON_AddItemToArray(a, cJSON_CreateNumber(i));
	return a;
}

static void write_json(const char *path, cJSON *o)
{
	char *t = cJSON_Print(o);
	FILE *f = path ? fopen(path, "w") : NULL;
	if (f && t) {
		fputs(t, f);
		fclose(f);
	}
	free(t);
}

static void note_pid(const char *name)
{
	const char *d = getenv("FAKE_PID_DIR");
	char p[512];
	if (!d)
		return;
	snprintf(p, sizeof p, "%s/%s.%d", d, name, (int)getpid());
	FILE *f = fopen(p, "w");
	if (f)
		fclose(f);
}

static void burn(unsigned us)
{
	uint64_t end = procstat_now_ns() + us * 1000ull;
	volatile unsigned x = 0;
	while (procstat_now_ns() < end)
		x++;
}

static int server(int port, const char *json)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint64_t n = 0, t0 = procstat_now_ns();
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 128)) {
		perror("fake server: bind");
		return 1;
	}
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			continue;
		burn(200);
		close(c);
		n++;
	}
	struct cpu_times t;
	procstat_process_cpu(&t);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "handshakes_full", (double)n);
	cJSON_AddNumberToObject(o, "handshakes_resumed", 0);
	cJSON_AddNumberToObject(o, "cpu_user_s", t.user_s);
	cJSON_AddNumberToObject(o, "cpu_sys_s", t.sys_s);
	cJSON_AddNumberToObject(o, "duration_s", (double)(procstat_now_ns() - t0) / 1e9);
	cJSON_AddItemToObject(o, "affinity", affinity());
	cJSON_AddStringToObject(o, "threads_arg", arg_threads);
	cJSON_AddStringToObject(o, "cpus_arg", arg_cpus);
	write_json(json, o);
	cJSON_Delete(o);
	return 0;
}

static int client(int port, const char *json, uint64_t dur_ns, uint64_t requests, uint64_t size)
{
	uint64_t n = 0, t0 = procstat_now_ns();
	while (!stop && (requests ? n < requests : procstat_now_ns() - t0 < dur_ns)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
			n++;
		char b;
		if (read(fd, &b, 1) < 0)
			n += 0;
		close(fd);
	}
	double secs = (double)(procstat_now_ns() - t0) / 1e9;
	struct cpu_times t;
	procstat_process_cpu(&t);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", size ? "get" : "handshake");
	cJSON_AddNumberToObject(o, "handshakes", (double)n);
	cJSON_AddNumberToObject(o, "handshakes_per_s", n / secs);
	cJSON_AddNumberToObject(o, "resumed", 0);
	cJSON_AddNumberToObject(o, "requests", size ? (double)n : 0);
	cJSON_AddNumberToObject(o, "bytes", (double)(n * size));
	cJSON_AddNumberToObject(o, "megabytes_per_s", (double)(n * size) / secs / 1e6);
	cJSON *l = cJSON_AddObjectToObject(o, "latency_us");
	cJSON_AddNumberToObject(l, "p50", 100);
	cJSON_AddNumberToObject(l, "p99", 200);
	cJSON_AddObjectToObject(o, "errors");
	cJSON_AddNumberToObject(o, "cpu_user_s", t.user_s);
	cJSON_AddNumberToObject(o, "cpu_sys_s", t.sys_s);
	cJSON_AddBoolToObject(o, "client_saturated", false);
	cJSON_AddNumberToObject(o, "duration_s", secs);
	cJSON_AddItemToObject(o, "affinity", affinity());
	cJSON_AddStringToObject(o, "threads_arg", arg_threads);
	cJSON_AddStringToObject(o, "cpus_arg", arg_cpus);
	write_json(json, o);
	cJSON_Delete(o);
	const char *e = getenv("FAKE_CLIENT_EXIT");
	return e ? atoi(e) : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' }, { "json", required_argument, NULL, 'j' },
		{ "duration", required_argument, NULL, 'd' }, { "requests", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		/* accepted and ignored: what ktls-bench passes to the real programs */
		{ "tls", required_argument, NULL, 0 }, { "host", required_argument, NULL, 0 },
		{ "threads", required_argument, NULL, 't' }, { "cpus", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 0 }, { "key", required_argument, NULL, 0 },
		{ "tls-version", required_argument, NULL, 0 }, { "ciphers", required_argument, NULL, 0 },
		{ "ciphersuites", required_argument, NULL, 0 }, { "groups", required_argument, NULL, 0 },
		{ "tickets", required_argument, NULL, 0 }, { "docroot", required_argument, NULL, 0 },
		{ "connections", required_argument, NULL, 0 }, { "warmup", required_argument, NULL, 0 },
		{ "path", required_argument, NULL, 0 }, { "resume", no_argument, NULL, 0 },
		{ 0 }
	};
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	bool is_server = strstr(name, "server") != NULL;
	const char *json = NULL;
	uint64_t port = 0, dur = 1000000000ull, req = 0, size = 0;
	int c;
	if (!is_server && argc > 1 && argv[1][0] != '-') {
		argv++; /* the client's mode word */
		argc--;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': units_parse_u64(optarg, &port); break;
		case 'j': json = optarg; break;
		case 'd': units_parse_duration(optarg, &dur); break;
		case 'r': units_parse_u64(optarg, &req); break;
		case 's': units_parse_size(optarg, &size); break;
		case 't': arg_threads = optarg; break;
		case 'c': arg_cpus = optarg; break;
		case 0: break;
		default: return 2;
		}
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	note_pid(is_server ? "server" : "client");
	if (is_server) {
		const char *e = getenv("FAKE_SERVER_EXIT");
		if (e)
			return atoi(e);
		return server((int)port, json);
	}
	return client((int)port, json, dur, req, size);
}
