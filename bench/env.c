/* bench/env.c: env.json, what a reader needs to know about the machine a run
 * measured: CPU model and the flags that decide AEAD speed, cores, kernel,
 * library versions, what the kernel offloads (`ktls probe --json`), the exact
 * command, date and host; the network interface the traffic used (netif.c)
 * and, with --clients, the client hosts (fleet.c). */
#include "bench/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bench/proc.h"

static const char *const cpu_flags[] = {
	"aes", "vaes", "pclmulqdq", "vpclmulqdq", "avx", "avx2", "avx512f", "avx512vl",
	"sha_ni", "bmi2", "adx",
};

static void cpuinfo(cJSON *o)
{
	char *t = util_read_file("/proc/cpuinfo", NULL);
	char model[256] = "unknown";
	cJSON *flags = cJSON_AddObjectToObject(o, "cpu_flags");
	if (t) {
		char *m = strstr(t, "model name");
		if (m && (m = strchr(m, ':'))) {
			m++;
			while (*m == ' ' || *m == '\t')
				m++;
			snprintf(model, sizeof model, "%.*s", (int)strcspn(m, "\n"), m);
		}
	}
	cJSON_AddStringToObject(o, "cpu_model", model);
	char *fl = t ? strstr(t, "\nflags") : NULL;
	char line[8192] = "";
	if (fl && (fl = strchr(fl, ':')))
		snprintf(line, sizeof line, " %.*s ", (int)strcspn(fl + 1, "\n"), fl + 1);
	for (size_t i = 0; i < sizeof cpu_flags / sizeof cpu_flags[0]; i++) {
		char pat[32];
		snprintf(pat, sizeof pat, " %s ", cpu_flags[i]);
		cJSON_AddBoolToObject(flags, cpu_flags[i], strstr(line, pat) != NULL);
	}
	free(t);
}

static void add_capture(cJSON *o, const char *key, const char *cmd)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char *out = NULL;
	int st;
	if (proc_capture(argv, -1, 20, &out, &st) == 0) {
		out[strcspn(out, "\n")] = 0;
		if (*out)
			cJSON_AddStringToObject(o, key, out);
		free(out);
	}
}

/* The TCP buffer settings: they decide how many segments a response takes,
 * which shows in every CPU and instruction count of a bulk row. */
static void add_tcp_buffers(cJSON *o)
{
	static const char *const keys[] = { "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
					    "net.core.rmem_max", "net.core.wmem_max",
					    "net.ipv4.tcp_moderate_rcvbuf" };
	cJSON *t = cJSON_AddObjectToObject(o, "tcp_buffers");

	for (size_t i = 0; t && i < sizeof keys / sizeof keys[0]; i++) {
		char path[64], *v;
		snprintf(path, sizeof path, "/proc/sys/%s", keys[i]);
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		if (!(v = util_read_file(path, NULL)))
			continue;
		v[strcspn(v, "\n")] = 0;
		for (char *p = v; *p; p++)
			if (*p == '\t')
				*p = ' ';
		cJSON_AddStringToObject(t, keys[i], v);
		free(v);
	}
}

cJSON *env_collect(const struct runner *R, const char *suite_name)
{
	cJSON *o = cJSON_CreateObject();
	struct utsname u;
	char buf[512];
	time_t now = time(NULL);
	struct tm tm;

	if (!o)
		return NULL;
	util_json_add_build(o, "ktls-bench");
	gmtime_r(&now, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, "date", buf);
	if (gethostname(buf, sizeof buf) == 0) {
		buf[sizeof buf - 1] = 0;
		cJSON_AddStringToObject(o, "hostname", buf);
	}
	if (uname(&u) == 0) {
		cJSON_AddStringToObject(o, "kernel", u.release);
		cJSON_AddStringToObject(o, "arch", u.machine);
	}
	cJSON_AddStringToObject(o, "command", R->cmdline);
	cJSON_AddStringToObject(o, "suite", suite_name);
	cpuinfo(o);
	cJSON_AddNumberToObject(o, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddNumberToObject(o, "cpu_server", R->cpu_server);
	cJSON_AddNumberToObject(o, "cpu_client", R->cpu_client);
	cJSON_AddStringToObject(o, "openssl_library", OpenSSL_version(OPENSSL_VERSION));
	add_capture(o, "openssl_cli", "openssl version 2>/dev/null");
	add_capture(o, "liburing", "pkg-config --modversion liburing 2>/dev/null || "
				   "dpkg-query -W -f='${Version}' liburing2 2>/dev/null");
	add_capture(o, "hyperfine", "hyperfine --version 2>/dev/null");
	add_capture(o, "gnuplot", "gnuplot --version 2>/dev/null");
	if (R->nginx)
		add_capture(o, "nginx", "nginx -v 2>&1");
	cJSON_AddBoolToObject(o, "host_ktls", R->host_ktls);
	cJSON_AddBoolToObject(o, "perf_cycles", R->have_perf == 1);
	cJSON_AddStringToObject(o, "vm_kernel", R->vm_kernel);
	add_tcp_buffers(o);

	/* the interface the traffic used, and whether its NIC could do the crypto */
	cJSON *nif = netif_json(R->listen[0] ? R->listen : "127.0.0.1");
	if (nif)
		cJSON_AddItemToObject(o, "netif", nif);
	if (R->clients[0]) {
		cJSON *cl = fleet_env_json(R);
		if (cl)
			cJSON_AddItemToObject(o, "clients", cl);
	}

	char probe[700], *out = NULL;
	int st;
	snprintf(probe, sizeof probe, "%s/ktls", R->bin);
	char *argv[] = { probe, "probe", "--json", NULL };
	if (proc_capture(argv, -1, 30, &out, &st) == 0) {
		cJSON *p = cJSON_Parse(out);
		if (p)
			cJSON_AddItemToObject(o, "ktls_probe", p);
		free(out);
	}
	return o;
}
