/* client/url.c: see url.h. Only what a TLS load generator needs: the
 * scheme must be https (this client speaks nothing else), no user info, no
 * fragment (a fragment never reaches the server). */
#include "client/url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *url, const char *why)
{
	snprintf(err, errlen, "URL '%s': %s", url, why);
	return -1;
}

int url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
	const char *p, *host, *host_end, *port = NULL, *port_end = NULL, *path;
	size_t hl;

	memset(u, 0, sizeof(*u));
	u->port = 443;
	if (!strncasecmp(s, "http://", 7))
		return fail(err, errlen, s, "ktls-client speaks TLS only: use https://");
	if (strncasecmp(s, "https://", 8))
		return fail(err, errlen, s, "expected https://HOST[:PORT][/PATH]");
	p = s + 8;
	/* the authority ends at the first '/', '?' or '#' */
	path = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(path - p)))
		return fail(err, errlen, s, "user information (user@) is not supported");
	if (*path == '#' || strchr(path, '#'))
		return fail(err, errlen, s, "a fragment (#...) never reaches the server: leave it out");
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(path - host));
		if (!host_end)
			return fail(err, errlen, s, "an IPv6 address needs its closing ']'");
		p = host_end + 1;
		if (p < path && *p != ':')
			return fail(err, errlen, s, "expected ':PORT' or the path after ']'");
	} else {
		host = p;
		host_end = memchr(p, ':', (size_t)(path - p));
		if (!host_end)
			host_end = path;
		p = host_end;
	}
	if (p < path && *p == ':') {
		port = p + 1;
		port_end = path;
	}
	hl = (size_t)(host_end - host);
	if (!hl)
		return fail(err, errlen, s, "no host");
	if (hl >= sizeof(u->host))
		return fail(err, errlen, s, "the host name is too long");
	memcpy(u->host, host, hl);
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)u->host[i] <= ' ' || u->host[i] == 0x7f)
			return fail(err, errlen, s, "the host has spaces or control characters");
	if (port) {
		unsigned long v = 0;
		if (port == port_end)
			return fail(err, errlen, s, "':' without a port");
		for (const char *q = port; q < port_end; q++) {
			if (*q < '0' || *q > '9' || v > 65535)
				return fail(err, errlen, s, "the port is not a number from 1 to 65535");
			v = v * 10 + (unsigned long)(*q - '0');
		}
		if (v == 0 || v > 65535)
			return fail(err, errlen, s, "the port is not a number from 1 to 65535");
		u->port = (uint16_t)v;
		u->have_port = true;
	}
	if (*path == '?') {
		/* https://host?q: the path is "/" */
		if (strlen(path) + 1 >= sizeof(u->path))
			return fail(err, errlen, s, "the path is too long");
		snprintf(u->path, sizeof(u->path), "/%s", path);
	} else {
		if (strlen(path) >= sizeof(u->path))
			return fail(err, errlen, s, "the path is too long");
		snprintf(u->path, sizeof(u->path), "%s", path);
	}
	for (const char *q = u->path; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return fail(err, errlen, s, "the path has spaces or control characters "
				    "(percent-encode them: %20)");
	return 0;
}
