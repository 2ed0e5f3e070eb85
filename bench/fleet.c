/* bench/fleet.c: ktls-bench --clients HOSTFILE: the client side of every
 * scenario runs as ktls-client-mpi ranks spread over the hostfile's hosts
 * by mpirun, while the server and its CPU accounting stay on this machine.
 * Rank 0's merged JSON comes back on mpirun's standard output; its "fleet
 * started" line on standard error says when the ranks' clocks started. */
#include "bench/runner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/proc.h"
#include "common/units.h"

int fleet_hostfile(const char *path, cJSON **hosts, unsigned *slots, bool *all_slots, char *err, size_t errlen)
{
	char *t = util_read_file(path, NULL);
	unsigned line = 0;
	int rc = 0;

	*hosts = NULL;
	*slots = 0;
	*all_slots = true;
	if (!t) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the hostfile %s: %s", path, strerror(errno));
		return rc;
	}
	*hosts = cJSON_CreateArray();
	for (char *l = t, *next; l && *l && !rc; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = 0;
		line++;
		char *hash = strchr(l, '#');
		if (hash)
			*hash = 0;
		char *save = NULL, *host = strtok_r(l, " \t\r", &save);
		if (!host)
			continue;
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "host", host);
		bool have = false;
		for (char *w = strtok_r(NULL, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
			uint64_t v;
			if (!strncmp(w, "slots=", 6)) {
				if (units_parse_u64(w + 6, &v) || v == 0 || v > 4096) {
					snprintf(err, errlen, "%s:%u: '%s': slots wants a number from 1 to 4096", path, line, w);
					rc = -EINVAL;
					break;
				}
				cJSON_AddNumberToObject(h, "slots", (double)v);
				*slots += (unsigned)v;
				have = true;
			} else if (strncmp(w, "max_slots=", 10) && strncmp(w, "max-slots=", 10)) {
				snprintf(err, errlen, "%s:%u: '%s': a hostfile line is 'HOST [slots=N] [max_slots=N]'",
					 path, line, w);
				rc = -EINVAL;
				break;
			}
		}
		if (!have) {
			cJSON_AddNullToObject(h, "slots");
			*all_slots = false;
		}
		cJSON_AddItemToArray(*hosts, h);
	}
	free(t);
	if (!rc && cJSON_GetArraySize(*hosts) == 0) {
		snprintf(err, errlen, "the hostfile %s names no host", path);
		rc = -EINVAL;
	}
	if (rc) {
		cJSON_Delete(*hosts);
		*hosts = NULL;
	}
	return rc;
}

unsigned fleet_ranks_for(const struct runner *R, const struct scenario *sc)
{
	/* every thread of every rank needs a connection: fewer connections,
	 * fewer ranks (the client gets at least one connection per thread) */
	unsigned n = R->ranks ? R->ranks : 1, t = scenario_client_threads(sc);
	unsigned conns = sc->conns > t ? sc->conns : t, fit = conns / t;
	return fit < n ? (fit ? fit : 1) : n;
}

char **fleet_client_argv(const struct runner *R, const struct scenario *sc, char *const *client)
{
	size_t n = 0;
	while (client[n])
		n++;
	char **v = calloc(n + 16 + R->n_mpi_args, sizeof(*v));
	size_t o = 0;
	bool fail = !v;
	char buf[700];

#define PUSH(s) do { if (!fail && !(v[o++] = strdup(s))) fail = true; } while (0)
	PUSH("mpirun");
	PUSH("--hostfile");
	PUSH(R->clients);
	PUSH("-np");
	snprintf(buf, sizeof buf, "%u", fleet_ranks_for(R, sc));
	PUSH(buf);
	/* round robin over the hosts: two ranks land on two hosts */
	PUSH("--map-by");
	PUSH("node");
	for (unsigned i = 0; i < R->n_mpi_args; i++)
		PUSH(R->mpi_args[i]);
	snprintf(buf, sizeof buf, "%s/ktls-client-mpi", R->client_bin);
	PUSH(buf);
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(client[i], "--cpus") && i + 1 < n) {
			i++; /* mpirun places the ranks */
			continue;
		}
		if (!strcmp(client[i], "--json") && i + 1 < n) {
			PUSH("--json");
			PUSH("-"); /* rank 0's JSON on mpirun's stdout, whatever host it ran on */
			i++;
			continue;
		}
		PUSH(client[i]);
	}
#undef PUSH
	if (fail) {
		fleet_argv_free(v);
		return NULL;
	}
	return v;
}

void fleet_argv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

bool fleet_started(const char *log_path)
{
	char *t = util_read_file(log_path, NULL);
	bool yes = t && strstr(t, "ktls-client-mpi: fleet started:");
	free(t);
	return yes;
}

cJSON *fleet_env_json(const struct runner *R)
{
	cJSON *o = cJSON_CreateObject(), *hosts = NULL;
	unsigned slots = 0;
	bool all = false;
	char err[600];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "hostfile", R->clients);
	if (fleet_hostfile(R->clients, &hosts, &slots, &all, err, sizeof err) == 0)
		cJSON_AddItemToObject(o, "hosts", hosts);
	cJSON_AddNumberToObject(o, "ranks", R->ranks);
	cJSON_AddStringToObject(o, "client_bin", R->client_bin);
	cJSON_AddStringToObject(o, "listen", R->listen);
	cJSON *a = cJSON_AddArrayToObject(o, "mpi_args");
	for (unsigned i = 0; i < R->n_mpi_args; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(R->mpi_args[i]));
	char *argv[] = { "mpirun", "--version", NULL }, *out = NULL;
	int st;
	if (proc_capture(argv, -1, 20, &out, &st) == 0) {
		out[strcspn(out, "\n")] = 0;
		if (*out)
			cJSON_AddStringToObject(o, "mpirun", out);
		free(out);
	}
	return o;
}

int fleet_setup(struct runner *R, char *err, size_t errlen)
{
	unsigned char tmp[16];
	char ifname[64];
	bool lo;

	if (!R->listen[0])
		snprintf(R->listen, sizeof R->listen, "127.0.0.1");
	if (inet_pton(AF_INET, R->listen, tmp) != 1 && inet_pton(AF_INET6, R->listen, tmp) != 1) {
		snprintf(err, errlen, "--listen %s: give an IPv4 or IPv6 address of this machine", R->listen);
		return -EINVAL;
	}
	if (!strcmp(R->listen, "0.0.0.0") || !strcmp(R->listen, "::")) {
		snprintf(err, errlen, "--listen %s: give the address of the interface the clients reach (the "
			 "report names that interface and its NIC), not the wildcard", R->listen);
		return -EINVAL;
	}
	if (netif_of_addr(R->listen, ifname, sizeof ifname, &lo)) {
		snprintf(err, errlen, "--listen %s: no interface of this machine holds that address (ip -br addr "
			 "lists them)", R->listen);
		return -EINVAL;
	}
	if (!R->clients[0]) {
		if (R->ranks || R->n_mpi_args || R->client_bin[0]) {
			snprintf(err, errlen, "--ranks, --mpi-arg and --client-bin are for --clients HOSTFILE");
			return -EINVAL;
		}
		return 0;
	}
	if (lo) {
		snprintf(err, errlen, "--listen %s is on the loopback interface %s: clients on other hosts cannot "
			 "reach it; give the address of the interface they reach", R->listen, ifname);
		return -EINVAL;
	}
	char *abs = realpath(R->clients, NULL);
	if (abs) {
		snprintf(R->clients, sizeof R->clients, "%s", abs);
		free(abs);
	}
	cJSON *hosts = NULL;
	unsigned slots = 0;
	bool all = false;
	int rc = fleet_hostfile(R->clients, &hosts, &slots, &all, err, errlen);
	if (rc)
		return rc;
	cJSON_Delete(hosts);
	if (!R->ranks) {
		if (!all) {
			snprintf(err, errlen, "the hostfile %s has a host without slots=N (mpirun would count its "
				 "cores): give slots=N on every line, or --ranks N", R->clients);
			return -EINVAL;
		}
		R->ranks = slots;
	}
	if (!R->client_bin[0])
		snprintf(R->client_bin, sizeof R->client_bin, "%s", R->bin);
	if (system("command -v mpirun >/dev/null 2>&1") != 0) {
		snprintf(err, errlen, "--clients needs mpirun: apt-get install openmpi-bin (and libopenmpi-dev to "
			 "build ktls-client-mpi)");
		return -ENOENT;
	}
	bool allow = false;
	for (unsigned i = 0; i < R->n_mpi_args; i++)
		allow = allow || !strcmp(R->mpi_args[i], "--allow-run-as-root");
	const char *a = getenv("OMPI_ALLOW_RUN_AS_ROOT"), *c = getenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM");
	if (geteuid() == 0 && !allow && !(a && !strcmp(a, "1") && c && !strcmp(c, "1"))) {
		snprintf(err, errlen, "mpirun refuses to run as root: run ktls-bench as an ordinary user (the "
			 "server needs no root), or set OMPI_ALLOW_RUN_AS_ROOT=1 and "
			 "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in the environment");
		return -EPERM;
	}
	if (!strcmp(R->client_bin, R->bin)) {
		char need[700];
		snprintf(need, sizeof need, "%s/ktls-client-mpi", R->bin);
		if (access(need, X_OK)) {
			snprintf(err, errlen, "%s is missing: apt-get install libopenmpi-dev, then make (the client "
				 "hosts need it at the same path, or --client-bin DIR)", need);
			return -ENOENT;
		}
	}
	return 0;
}
