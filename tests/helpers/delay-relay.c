/* tests/helpers/delay-relay.c: a TCP relay that delays every byte, each way.
 *
 *   delay-relay --to PORT [--delay 100ms]
 *
 * Listens on 127.0.0.1 (a port the kernel picks, printed as "port N" on
 * stdout), and relays each accepted connection to 127.0.0.1:PORT. What one
 * side sends is held --delay before it is written to the other side, in the
 * pieces it was read in and in order, in both directions: a round trip
 * through the relay costs 2 x --delay more than without it. An EOF is
 * delayed the same way (then shutdown(SHUT_WR) on the other side). The TCP
 * handshake with the relay itself is not delayed: the kernel completes it
 * before the relay sees the connection. Runs until killed. Exit 1 on a
 * setup error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/units.h"

#define MAXP 64

struct chunk {
	struct chunk *next;
	uint64_t due;
	size_t len, off;                /* len 0: the EOF */
	char data[];
};

struct dir {
	int from, to;
	struct chunk *head, *tail;
	bool eof_read, done;
};

struct pair {
	bool used;
	struct dir d[2];                /* 0: client -> server, 1: server -> client */
};

static struct pair pairs[MAXP];
static uint64_t delay_ns = 100000000ULL;

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void push(struct dir *d, const char *p, size_t n)
{
	struct chunk *c = malloc(sizeof *c + n);
	if (!c) {
		perror("delay-relay: malloc");
		exit(1);
	}
	c->next = NULL;
	c->due = now_ns() + delay_ns;
	c->len = n;
	c->off = 0;
	memcpy(c->data, p, n);
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
}

static void pair_close(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		struct chunk *c = p->d[i].head;
		while (c) {
			struct chunk *n = c->next;
			free(c);
			c = n;
		}
	}
	close(p->d[0].from);
	close(p->d[0].to);
	memset(p, 0, sizeof *p);
}

/* Write what is due; 0, or -1 when the connection is gone. */
static int flush(struct dir *d, uint64_t now)
{
	while (d->head && d->head->due <= now) {
		struct chunk *c = d->head;
		if (c->len == 0) {
			shutdown(d->to, SHUT_WR);
			d->done = true;
		} else {
			ssize_t w = send(d->to, c->data + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (w < 0)
				return -1;
			c->off += (size_t)w;
			if (c->off < c->len)
				return 0;
		}
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' }, { "delay", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	long to = -1;
	char *end;
	int o, one = 1;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 't') {
			to = strtol(optarg, &end, 10);
			if (*end || to <= 0 || to > 65535)
				to = -2;
		} else if (o == 'd') {
			if (units_parse_duration(optarg, &delay_ns))
				to = -2;
		} else {
			to = -2;
		}
	}
	if (to < 0 || optind < argc) {
		fprintf(stderr, "usage: delay-relay --to PORT [--delay 100ms]\n");
		return 2;
	}
	struct sockaddr_in a = { .sin_family = AF_INET }, up = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	up.sin_addr = a.sin_addr;
	up.sin_port = htons((uint16_t)to);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 128) ||
	    getsockname(ls, (struct sockaddr *)&a, &alen)) {
		perror("delay-relay: listen");
		return 1;
	}
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);

	for (;;) {
		struct pollfd pf[1 + 2 * MAXP];
		int map[1 + 2 * MAXP][2];
		unsigned n = 0;
		uint64_t now = now_ns(), next = UINT64_MAX;

		pf[n].fd = ls;
		pf[n].events = POLLIN;
		n++;
		for (int i = 0; i < MAXP; i++) {
			struct pair *p = &pairs[i];
			if (!p->used)
				continue;
			for (int k = 0; k < 2; k++) {
				struct dir *d = &p->d[k];
				short ev = d->eof_read ? 0 : POLLIN;
				if (d->head && d->head->due > now && d->head->due < next)
					next = d->head->due;
				if (d->head && d->head->due <= now)
					next = now;
				pf[n].fd = d->from;
				pf[n].events = ev;
				map[n][0] = i;
				map[n][1] = k;
				n++;
			}
		}
		int tmo = next == UINT64_MAX ? -1 : (int)((next - now + 999999) / 1000000);
		if (poll(pf, n, tmo) < 0 && errno != EINTR) {
			perror("delay-relay: poll");
			return 1;
		}
		if (pf[0].revents & POLLIN) {
			int cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
			int i = 0;
			while (i < MAXP && pairs[i].used)
				i++;
			if (cs >= 0 && i < MAXP) {
				int ss = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
				if (ss >= 0 && !connect(ss, (struct sockaddr *)&up, sizeof up)) {
					setsockopt(cs, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					setsockopt(ss, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					pairs[i].used = true;
					pairs[i].d[0] = (struct dir){ .from = cs, .to = ss };
					pairs[i].d[1] = (struct dir){ .from = ss, .to = cs };
				} else {
					if (ss >= 0)
						close(ss);
					close(cs);
				}
			} else if (cs >= 0) {
				close(cs);
			}
		}
		for (unsigned j = 1; j < n; j++) {
			struct pair *p = &pairs[map[j][0]];
			struct dir *d = &p->d[map[j][1]];
			if (!p->used || !(pf[j].revents & (POLLIN | POLLHUP | POLLERR)) || d->eof_read)
				continue;
			char buf[65536];
			ssize_t r = recv(d->from, buf, sizeof buf, MSG_DONTWAIT);
			if (r > 0) {
				push(d, buf, (size_t)r);
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				push(d, buf, 0);
				d->eof_read = true;
			}
		}
		now = now_ns();
		for (int i = 0; i < MAXP; i++) {
			struct pair *p = &pairs[i];
			if (!p->used)
				continue;
			if (flush(&p->d[0], now) || flush(&p->d[1], now) || (p->d[0].done && p->d[1].done))
				pair_close(p);
		}
	}
}
