/* client/bind.c: source addresses (--bind) and opening a connection's socket.
 *
 * A TCP connection to one server is told apart from the others by its source
 * address and port, so one source address gives at most as many connections
 * to a server as net.ipv4.ip_local_port_range has ports, counting those
 * still in TIME_WAIT after the client closed first (every handshake-mode
 * connection). A high handshake rate runs out of them; each extra source
 * address (the whole of 127.0.0.0/8 is local) gives as many again. Sockets
 * bind with IP_BIND_ADDRESS_NO_PORT, so the port is chosen at connect() for
 * the full four-tuple. When an address has no port left, the connection tries
 * the next one; each time an address ran out is counted against it, and a
 * connection fails (connect_addrnotavail) only when every address had none.
 */
#include "client/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIND_MAX 4096u

static int add(struct sockaddr_storage **out, unsigned *n, const struct sockaddr_storage *a,
	       char *err, size_t errlen)
{
	struct sockaddr_storage *p;

	if (*n >= BIND_MAX) {
		snprintf(err, errlen, "more than %u addresses", BIND_MAX);
		return -1;
	}
	p = realloc(*out, (*n + 1) * sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p[(*n)++] = *a;
	*out = p;
	return 0;
}

int bind_parse(const char *s, struct sockaddr_storage **out, unsigned *n, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *item;

	*n = 0;
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		struct sockaddr_storage ss;
		char *dash = strchr(item, '-');
		memset(&ss, 0, sizeof(ss));
		if (dash) {
			struct in_addr lo, hi;
			*dash = 0;
			if (inet_pton(AF_INET, item, &lo) != 1 || inet_pton(AF_INET, dash + 1, &hi) != 1) {
				snprintf(err, errlen, "'%s-%s' is not a range of IPv4 addresses (such as "
					 "127.0.0.2-127.0.0.9; list IPv6 addresses with commas)", item, dash + 1);
				return -1;
			}
			uint32_t a = ntohl(lo.s_addr), b = ntohl(hi.s_addr);
			if (a > b) {
				snprintf(err, errlen, "'%s-%s': the range runs backwards", item, dash + 1);
				return -1;
			}
			if ((uint64_t)b - a + 1 + *n > BIND_MAX) {
				snprintf(err, errlen, "more than %u addresses", BIND_MAX);
				return -1;
			}
			for (uint64_t x = a; x <= b; x++) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
				sin->sin_family = AF_INET;
				sin->sin_addr.s_addr = htonl((uint32_t)x);
				if (add(out, n, &ss, err, errlen))
					return -1;
			}
			continue;
		}
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, item, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
		} else if (inet_pton(AF_INET6, item, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
		} else {
			snprintf(err, errlen, "'%s' is not an IP address (a list such as "
				 "127.0.0.2-127.0.0.9,127.0.1.1 is expected)", item);
			return -1;
		}
		if (add(out, n, &ss, err, errlen))
			return -1;
	}
	if (!*n) {
		snprintf(err, errlen, "no address");
		return -1;
	}
	for (unsigned i = 1; i < *n; i++)
		if ((*out)[i].ss_family != (*out)[0].ss_family) {
			snprintf(err, errlen, "IPv4 and IPv6 addresses mixed: the server has one family");
			return -1;
		}
	return 0;
}

const char *bind_addr_text(const struct sockaddr_storage *a, char *buf, size_t len)
{
	const void *p = a->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr
						 : (const void *)&((const struct sockaddr_in *)a)->sin_addr;
	if (!inet_ntop(a->ss_family, p, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

int bind_check(const struct client_cfg *cfg, char *err, size_t errlen)
{
	char t[64];

	if (cfg->binds[0].ss_family != cfg->addr.ss_family) {
		snprintf(err, errlen, "the addresses are IPv%d but the server's is IPv%d",
			 cfg->binds[0].ss_family == AF_INET6 ? 6 : 4,
			 cfg->addr.ss_family == AF_INET6 ? 6 : 4);
		return -1;
	}
	/* each must be an address of this machine: a trial bind (port 0) says so */
	for (unsigned i = 0; i < cfg->nbinds; i++) {
		int fd = socket(cfg->binds[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&cfg->binds[i], addr_len(&cfg->binds[i]))) {
			int e = errno;
			close(fd);
			snprintf(err, errlen, "%s: %s%s", bind_addr_text(&cfg->binds[i], t, sizeof t),
				 strerror(e), e == EADDRNOTAVAIL ? " (not an address of this machine: "
				 "127.0.0.0/8 is all local, other addresses must be on an interface)" : "");
			return -1;
		}
		close(fd);
	}
	return 0;
}

int bind_connect(struct conn *c, bool nodelay)
{
	struct worker *w = c->w;
	const struct client_cfg *cfg = w->cfg;
	unsigned tries = cfg->nbinds ? cfg->nbinds : 1;
	int one = 1, fd = -1, e = 0;

	for (unsigned t = 0; t < tries; t++) {
		fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (nodelay)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		unsigned b = 0;
		if (cfg->nbinds) {
			b = w->next_bind;
			w->next_bind = (w->next_bind + 1) % cfg->nbinds;
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
			if (bind(fd, (const struct sockaddr *)&cfg->binds[b], addr_len(&cfg->binds[b]))) {
				e = errno;
				close(fd);
				fd = -1;
				if (e != EADDRINUSE && e != EADDRNOTAVAIL)
					return -e;
				w->bind_exhausted[b]++;
				continue;
			}
		}
		if (!connect(fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) || errno == EINPROGRESS) {
			if (cfg->nbinds)
				w->bind_used[b]++;
			return fd;
		}
		e = errno;
		close(fd);
		fd = -1;
		/* no ephemeral port left on this source address: try the next */
		if (e != EADDRNOTAVAIL || !cfg->nbinds)
			return -e;
		w->bind_exhausted[b]++;
	}
	return -(e ? e : EADDRNOTAVAIL);
}
