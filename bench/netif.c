/* bench/netif.c: the network interface the benchmark's traffic used (the
 * one holding the server's address) and whether its NIC could do the TLS
 * crypto: driver, link speed, MTU, the TLS offload features `ethtool -k`
 * lists (tls-hw-tx-offload, tls-hw-rx-offload, tls-hw-record), and the
 * kernel's kTLS counters from /proc/net/tls_stat, whose *Device* counters
 * count the connections a NIC encrypted (TlsTxDevice) or decrypted
 * (TlsRxDevice). Sampled before and after the run, the counters say whether
 * the NIC did any crypto. Loopback, veth, bridges and other software
 * devices have no crypto engine: with them the kernel encrypts in software. */
#include "bench/runner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench/proc.h"

/* Drivers of devices with no hardware behind them. */
static const char *const soft_drivers[] = {
	"loopback", "veth", "bridge", "bonding", "team", "vxlan", "geneve", "tun", "macvlan", "ipvlan",
	"dummy", "ifb", "wireguard", "vrf", "gre", "ipip", "sit", "vcan", "nlmon",
};

bool netif_soft_driver(const char *driver)
{
	for (size_t i = 0; i < sizeof(soft_drivers) / sizeof(soft_drivers[0]); i++)
		if (!strcmp(driver, soft_drivers[i]))
			return true;
	return false;
}

int netif_of_addr(const char *addr, char *name, size_t len, bool *loopback)
{
	unsigned char want[16];
	int fam = inet_pton(AF_INET, addr, want) == 1 ? AF_INET : inet_pton(AF_INET6, addr, want) == 1 ? AF_INET6 : 0;
	struct ifaddrs *ifs = NULL, *i;
	int rc = -ENOENT;

	if (!fam)
		return -EINVAL;
	if (getifaddrs(&ifs))
		return -errno;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != fam)
			continue;
		const void *a = fam == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
					       : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (memcmp(a, want, fam == AF_INET ? 4 : 16))
			continue;
		snprintf(name, len, "%s", i->ifa_name);
		if (loopback)
			*loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
		rc = 0;
		break;
	}
	freeifaddrs(ifs);
	return rc;
}

cJSON *netif_tls_stat(void)
{
	char *t = util_read_file("/proc/net/tls_stat", NULL);
	cJSON *o;
	if (!t)
		return NULL;
	o = cJSON_CreateObject();
	for (char *l = strtok(t, "\n"); l && o; l = strtok(NULL, "\n")) {
		char key[64];
		unsigned long long v;
		if (sscanf(l, "%63s %llu", key, &v) == 2)
			cJSON_AddNumberToObject(o, key, (double)v);
	}
	free(t);
	return o;
}

static char *capture(char *const argv[])
{
	char *out = NULL;
	int st;
	if (proc_capture(argv, -1, 10, &out, &st) || !WIFEXITED(st) || WEXITSTATUS(st)) {
		free(out);
		return NULL;
	}
	return out;
}

static long read_long(const char *ifname, const char *file)
{
	char path[300];
	snprintf(path, sizeof path, "/sys/class/net/%s/%s", ifname, file);
	char *t = util_read_file(path, NULL);
	char *end;
	long v = t ? strtol(t, &end, 10) : -1;
	if (t && end == t)
		v = -1;
	free(t);
	return v;
}

cJSON *netif_json(const char *addr)
{
	cJSON *o = cJSON_CreateObject(), *f;
	char name[IF_NAMESIZE + 1] = "", driver[64] = "";
	bool lo = false;
	long v;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "address", addr);
	if (netif_of_addr(addr, name, sizeof name, &lo)) {
		cJSON_AddNullToObject(o, "name");
		cJSON_AddStringToObject(o, "error", "no interface of this machine holds the address");
		return o;
	}
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddBoolToObject(o, "loopback", lo);
	char *argv_i[] = { "ethtool", "-i", name, NULL };
	char *t = capture(argv_i);
	const char *d = t ? strstr(t, "driver:") : NULL;
	if (d)
		sscanf(d + 7, " %63s", driver);
	free(t);
	if (!driver[0] && lo)
		snprintf(driver, sizeof driver, "loopback");
	if (driver[0])
		cJSON_AddStringToObject(o, "driver", driver);
	else
		cJSON_AddNullToObject(o, "driver");
	cJSON_AddBoolToObject(o, "software_device", lo || (driver[0] && netif_soft_driver(driver)));
	/* Mb/s; a device without a link speed (loopback) reads as an error or -1 */
	v = read_long(name, "speed");
	if (v > 0)
		cJSON_AddNumberToObject(o, "speed_mbps", (double)v);
	else
		cJSON_AddNullToObject(o, "speed_mbps");
	v = read_long(name, "mtu");
	if (v > 0)
		cJSON_AddNumberToObject(o, "mtu", (double)v);
	f = cJSON_AddObjectToObject(o, "tls_features");
	char *argv_k[] = { "ethtool", "-k", name, NULL };
	t = capture(argv_k);
	if (!t)
		cJSON_AddStringToObject(o, "tls_features_error", "ethtool -k failed (apt-get install ethtool)");
	for (char *l = t ? strtok(t, "\n") : NULL; l; l = strtok(NULL, "\n")) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (strncmp(l, "tls-", 4))
			continue;
		char *colon = strchr(l, ':');
		if (!colon)
			continue;
		*colon = 0;
		char *val = colon + 1;
		while (*val == ' ')
			val++;
		cJSON_AddStringToObject(f, l, val);
	}
	free(t);
	cJSON *st = netif_tls_stat();
	if (st)
		cJSON_AddItemToObject(o, "tls_stat_before", st);
	else
		cJSON_AddNullToObject(o, "tls_stat_before");
	return o;
}
