/* client/http.c: see http.h. Only what GET /bytes/N and GET /file/x responses
 * need: a status, a Content-Length, and whether the server will close. */
#include "client/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool http_method_ok(const char *m)
{
	if (!m || !*m)
		return false;
	for (; *m; m++)
		if (!tchar((unsigned char)*m))
			return false;
	return true;
}

int http_header_name_len(const char *h)
{
	const char *colon = strchr(h, ':');

	if (!colon || colon == h)
		return -1;
	for (const char *p = h; p < colon; p++)
		if (!tchar((unsigned char)*p))
			return -1;
	for (const char *p = colon + 1; *p; p++)
		if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
			return -1;
	return (int)(colon - h);
}

static bool path_ok(const char *path)
{
	if (!path || path[0] != '/')
		return false;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int http_format_request(char *buf, size_t len, const char *method, const char *path,
			const char *host, const char *const *headers, unsigned nheaders,
			size_t body_len)
{
	size_t used = 0;
	int n;

	if (!http_method_ok(method) || !path_ok(path))
		return -EINVAL;
#define PUT(...) do { \
		n = snprintf(buf + used, len > used ? len - used : 0, __VA_ARGS__); \
		if (n < 0 || (size_t)n >= (len > used ? len - used : 0)) \
			return -ENOSPC; \
		used += (size_t)n; \
	} while (0)
	PUT("%s %s HTTP/1.1\r\n", method, path);
	if (host)
		PUT("Host: %s\r\n", host);
	for (unsigned i = 0; i < nheaders; i++) {
		if (http_header_name_len(headers[i]) < 0)
			return -EINVAL;
		PUT("%s\r\n", headers[i]);
	}
	if (body_len)
		PUT("Content-Length: %zu\r\n", body_len);
	PUT("\r\n");
#undef PUT
	return (int)used;
}

int http_format_get(char *buf, size_t len, const char *path, const char *host)
{
	return http_format_request(buf, len, "GET", path, host, NULL, 0, 0);
}

size_t http_head_end(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (end - p >= 4) {
		const char *cr = memchr(p, '\r', (size_t)(end - p) - 3);
		if (!cr)
			return 0;
		if (cr[1] == '\n' && cr[2] == '\r' && cr[3] == '\n')
			return (size_t)(cr + 4 - buf);
		p = cr + 1;
	}
	return 0;
}

/* Does the comma-separated header value v (length n) contain token tok? */
static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);
	size_t i = 0;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, tok, tl))
			return true;
	}
	return false;
}

static int parse_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (!n || n > 19)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -EINVAL;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

int http_parse_head(const char *buf, size_t len, struct http_resp *r)
{
	const char *p = buf, *end = buf + len;
	bool have_len = false, http10 = false, keep_alive = false;
	int minor;

	memset(r, 0, sizeof(*r));
	/* status line: HTTP/1.x NNN reason */
	if (len < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (len > 12 && p[12] != ' ' && p[12] != '\r'))
		return -EINVAL;
	minor = p[7] - '0';
	http10 = minor == 0;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (r->status < 100)
		return -EINVAL;
	p = memchr(p, '\n', len);
	if (!p)
		return -EINVAL;
	p++;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return -EINVAL;
		size_t ll = (size_t)(eol - p);
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break; /* the blank line */
		const char *colon = memchr(p, ':', ll);
		if (!colon || colon == p)
			return -EINVAL;
		size_t nl = (size_t)(colon - p);
		const char *v = colon + 1;
		size_t vl = ll - nl - 1;

		if (nl == 14 && !strncasecmp(p, "Content-Length", 14)) {
			uint64_t x;
			if (parse_length(v, vl, &x) || (have_len && x != r->content_length))
				return -EINVAL;
			r->content_length = x;
			have_len = true;
		} else if (nl == 17 && !strncasecmp(p, "Transfer-Encoding", 17)) {
			return -ENOTSUP;
		} else if (nl == 10 && !strncasecmp(p, "Connection", 10)) {
			if (has_token(v, vl, "close"))
				r->close = true;
			if (has_token(v, vl, "keep-alive"))
				keep_alive = true;
		}
		p = eol + 1;
	}
	if (http10 && !keep_alive)
		r->close = true;
	/* 1xx, 204 and 304 have no body */
	if (r->status < 200 || r->status == 204 || r->status == 304) {
		r->content_length = 0;
		return 0;
	}
	if (!have_len) {
		if (!r->close)
			return -ENOTSUP;
		r->until_eof = true; /* HTTP/1.0 style: the body ends at the close */
		r->content_length = UINT64_MAX;
	}
	return 0;
}

int64_t http_bytes_path(const char *path)
{
	const char *p;
	int64_t n = 0;

	if (strncmp(path, "/bytes/", 7))
		return -1;
	p = path + 7;
	if (!*p || strlen(p) > 18)
		return -1;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}
