/* client/url.h: the target as a URL, as wrk and h2load take it:
 * https://HOST[:PORT][/PATH[?QUERY]]. */
#ifndef KTLS_CLIENT_URL_H
#define KTLS_CLIENT_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct url {
	char host[256];                 /* a name, an IPv4 address, or an IPv6 address without [] */
	uint16_t port;                  /* 443 when the URL has none */
	bool have_port;
	char path[1024];                /* "" when the URL has no path; else from the '/' on, query included */
};

/* Parse s into u. 0, or -1 with a sentence in err naming what is wrong
 * (wrong scheme, user info, fragment, empty host, bad port, a path with
 * spaces or control characters, too long). */
int url_parse(const char *s, struct url *u, char *err, size_t errlen);

#endif
