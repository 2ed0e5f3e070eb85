/* Unit tests: bench/fleet.c, the pieces of ktls-bench --clients that need no
 * mpirun: reading a hostfile, and turning the local client's argv into
 * mpirun's. */
#include "bench/report.h"
#include "bench/runner.h"
#include "tests/tap.h"

#include <errno.h>
#include <unistd.h>

static char path[] = "/tmp/bench_fleet.XXXXXX";

static void put(const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_hostfile(void)
{
	cJSON *h = NULL;
	unsigned slots;
	bool all;
	char err[300];
	int fd = mkstemp(path);

	OK(fd >= 0, "temp file");
	if (fd >= 0)
		close(fd);
	put("# clients\nclient1 slots=4\n\nclient2 slots=2 max_slots=8   # the small one\n");
	EXPECT_EQ(fleet_hostfile(path, &h, &slots, &all, err, sizeof err), 0);
	EXPECT_EQ(slots, 6);
	OK(all, "every line gives its slots");
	EXPECT_EQ(cJSON_GetArraySize(h), 2);
	EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(h, 1), "host")->valuestring, "client2");
	cJSON_Delete(h);

	put("client1 slots=4\nclient2\n");
	EXPECT_EQ(fleet_hostfile(path, &h, &slots, &all, err, sizeof err), 0);
	OK(!all, "a line without slots= is noticed (mpirun would count that host's cores)");
	EXPECT_EQ(slots, 4);
	cJSON_Delete(h);

	put("client1 slots=four\n");
	OK(fleet_hostfile(path, &h, &slots, &all, err, sizeof err) == -EINVAL && strstr(err, ":1:") &&
	   strstr(err, "slots=four"), "a bad slots count names the line: %s", err);
	put("client1 cpus=4\n");
	OK(fleet_hostfile(path, &h, &slots, &all, err, sizeof err) == -EINVAL && strstr(err, "cpus=4"),
	   "an unknown word is refused: %s", err);
	put("# nothing\n\n");
	OK(fleet_hostfile(path, &h, &slots, &all, err, sizeof err) == -EINVAL && strstr(err, "no host"),
	   "a hostfile without hosts is refused: %s", err);
	unlink(path);
	OK(fleet_hostfile(path, &h, &slots, &all, err, sizeof err) == -ENOENT, "a missing hostfile: %s", err);
}

static int find(char **v, const char *s)
{
	for (int i = 0; v[i]; i++)
		if (!strcmp(v[i], s))
			return i;
	return -1;
}

static void test_argv(void)
{
	struct runner R = { 0 };
	struct scenario sc = { .kind = SCEN_HANDSHAKE, .conns = 2 };
	char *client[] = { "/b/ktls-client", "handshake", "--host", "10.0.0.1", "--connections", "2",
			   "--cpus", "1", "--json", "/out/x.client.json", "--duration", "2000ms", NULL };

	snprintf(R.clients, sizeof R.clients, "/h/hosts");
	snprintf(R.client_bin, sizeof R.client_bin, "/remote/bin");
	R.ranks = 8;
	R.mpi_args[R.n_mpi_args++] = "--bind-to";
	R.mpi_args[R.n_mpi_args++] = "core";
	char **v = fleet_client_argv(&R, &sc, client);
	OK(v != NULL, "argv built");
	if (!v)
		return;
	EXPECT_STREQ(v[0], "mpirun");
	int np = find(v, "-np");
	OK(np > 0 && !strcmp(v[np + 1], "2"), "-np is the scenario's 2 connections, not the 8 slots");
	OK(find(v, "--hostfile") > 0 && !strcmp(v[find(v, "--hostfile") + 1], "/h/hosts"), "the hostfile");
	OK(find(v, "--map-by") > 0 && !strcmp(v[find(v, "--map-by") + 1], "node"), "round robin over the hosts");
	int b = find(v, "--bind-to"), p = find(v, "/remote/bin/ktls-client-mpi");
	OK(b > 0 && p > b && !strcmp(v[b + 1], "core"), "--mpi-arg words before the program, in order");
	OK(p > 0 && !strcmp(v[p + 1], "handshake"), "then ktls-client-mpi from --client-bin and the command");
	OK(find(v, "--cpus") < 0 && find(v, "1") < 0, "no --cpus, nor its value (mpirun places the ranks)");
	int j = find(v, "--json");
	OK(j > p && !strcmp(v[j + 1], "-"), "--json - (rank 0's JSON on mpirun's stdout)");
	OK(find(v, "--duration") > p && find(v, "10.0.0.1") > p, "the other options as they were");
	fleet_argv_free(v);

	sc.conns = 64;
	EXPECT_EQ(fleet_ranks_for(&R, &sc), 8);
	sc.conns = 1;
	EXPECT_EQ(fleet_ranks_for(&R, &sc), 1);
}

/* report.md's Network path: the NIC's verdict from env.json alone */
static char *network(const char *netif)
{
	struct run r = { 0 };
	struct sbuf b = { 0 };
	char env[2048];
	snprintf(env, sizeof env, "{\"netif\": %s}", netif);
	r.env = cJSON_Parse(env);
	report_network(&r, &b);
	cJSON_Delete(r.env);
	return b.buf;
}

static void test_network(void)
{
	char *t;
	t = network("{\"address\": \"192.0.2.10\", \"name\": \"enp1s0f0np0\", \"driver\": \"mlx5_core\","
		    " \"software_device\": false, \"speed_mbps\": 100000, \"mtu\": 9000,"
		    " \"tls_features\": {\"tls-hw-tx-offload\": \"on\", \"tls-hw-rx-offload\": \"on\"},"
		    " \"tls_stat_before\": {\"TlsTxDevice\": 10, \"TlsRxDevice\": 4, \"TlsTxSw\": 7},"
		    " \"tls_stat_after\": {\"TlsTxDevice\": 74, \"TlsRxDevice\": 4, \"TlsTxSw\": 7}}");
	OK(t && strstr(t, "**Did the NIC do the crypto?** Yes.") && strstr(t, "TlsTxDevice +64") &&
	   strstr(t, "100000 Mb/s") && strstr(t, "| TlsTxDevice | 10 | 74 |"),
	   "a NIC whose Device counters grew did the crypto");
	free(t);
	t = network("{\"address\": \"192.0.2.10\", \"name\": \"enp1s0f0np0\", \"driver\": \"mlx5_core\","
		    " \"software_device\": false, \"tls_features\": {\"tls-hw-tx-offload\": \"off [fixed]\"},"
		    " \"tls_stat_before\": {\"TlsTxDevice\": 10}, \"tls_stat_after\": {\"TlsTxDevice\": 10}}");
	OK(t && strstr(t, "crypto?** No. The kernel's Device counters did not grow") &&
	   strstr(t, "which offers no TLS transmit offload"), "a NIC whose counters did not grow did not");
	free(t);
	t = network("{\"address\": \"127.0.0.1\", \"name\": \"lo\", \"driver\": \"loopback\", \"loopback\": true,"
		    " \"software_device\": true, \"speed_mbps\": null, \"mtu\": 65536,"
		    " \"tls_stat_before\": null, \"tls_stat_after\": null}");
	OK(t && strstr(t, "No. lo is a software device (`loopback`)") && strstr(t, "loopback and veth") &&
	   strstr(t, "none (no physical link)"), "loopback never does, said plainly");
	free(t);
	t = network("{\"address\": \"192.0.2.99\", \"name\": null}");
	OK(t && strstr(t, "the interface is unknown"), "an address no interface held");
	free(t);
}

int main(void)
{
	test_hostfile();
	test_argv();
	test_network();
	return tap_done();
}
