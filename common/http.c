/* common/http.c: see http.h. */
#include "common/http.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte that may appear in a field value or a request line: VCHAR, SP,
 * HTAB and obs-text; no other control character (a CR only before LF). */
static bool is_line_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The end of the line starting at p (index of its '\n'), or -1 when none
 * before lim; *bad set when a byte no request may contain shows up first. */
static ssize_t line_end(const char *b, size_t p, size_t lim, bool *bad)
{
	for (size_t i = p; i < lim; i++) {
		unsigned char c = (unsigned char)b[i];
		if (c == '\n')
			return (ssize_t)i;
		if (c == '\r') {
			if (i + 1 < lim && b[i + 1] != '\n') {
				*bad = true;
				return -1;
			}
			continue;
		}
		if (!is_line_char(c)) {
			*bad = true;
			return -1;
		}
	}
	return -1;
}

/* Length of a line without its CR (the LF at index e). */
static size_t line_len(const char *b, size_t p, size_t e)
{
	return (e > p && b[e - 1] == '\r') ? e - 1 - p : e - p;
}

static bool field_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Connection: a comma-separated list of tokens. */
static void parse_connection(const char *v, size_t n, bool *close, bool *keep)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (field_is(v + s, i - s, "close"))
			*close = true;
		else if (field_is(v + s, i - s, "keep-alive"))
			*keep = true;
	}
}

static ssize_t parse_request_line(const char *b, size_t p, size_t n, struct http_request *req)
{
	size_t i = p, end = p + n;

	while (i < end && is_tchar((unsigned char)b[i]))
		i++;
	if (i == p || i >= end || b[i] != ' ')
		return -400;
	size_t mlen = i - p;
	if (mlen == 3 && !memcmp(b + p, "GET", 3))
		req->method = HTTP_GET;
	else if (mlen == 4 && !memcmp(b + p, "HEAD", 4))
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_OTHER;

	size_t t = ++i;
	while (i < end && b[i] != ' ') {
		unsigned char c = (unsigned char)b[i];
		if (c <= 0x20 || c >= 0x7f)
			return -400;
		i++;
	}
	if (i == t || i >= end)
		return -400;
	req->target = b + t;
	req->target_len = i - t;
	if (b[t] != '/')
		return -400;
	i++;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT, then the end of the line */
	if (end - i != 8 || memcmp(b + i, "HTTP/", 5) || b[i + 6] != '.' ||
	    b[i + 5] < '0' || b[i + 5] > '9' || b[i + 7] < '0' || b[i + 7] > '9')
		return -400;
	if (b[i + 5] != '1' || (b[i + 7] != '0' && b[i + 7] != '1'))
		return -505;
	req->minor = b[i + 7] - '0';
	return 0;
}

ssize_t http_parse_request(const char *b, size_t len, size_t max_head, uint64_t max_body,
			   struct http_request *req)
{
	size_t lim = len < max_head ? len : max_head;
	size_t p = 0;
	bool bad = false, close = false, keep = false, have_cl = false;
	unsigned fields = 0;
	ssize_t e;

	memset(req, 0, sizeof(*req));
	/* one empty line before the request line may be skipped */
	if (lim >= 1 && b[0] == '\n')
		p = 1;
	else if (lim >= 2 && b[0] == '\r' && b[1] == '\n')
		p = 2;
	else if (lim == 1 && b[0] == '\r')
		return 0;

	e = line_end(b, p, lim, &bad);
	if (bad)
		return -400;
	if (e < 0)
		return len >= max_head ? -414 : 0;
	ssize_t rc = parse_request_line(b, p, line_len(b, p, (size_t)e), req);
	if (rc < 0)
		return rc;
	p = (size_t)e + 1;

	for (;;) {
		e = line_end(b, p, lim, &bad);
		if (bad)
			return -400;
		if (e < 0)
			return len >= max_head ? -431 : 0;
		size_t n = line_len(b, p, (size_t)e);
		const char *l = b + p;
		p = (size_t)e + 1;
		if (n == 0)
			break;
		if (++fields > HTTP_MAX_FIELDS)
			return -431;
		if (l[0] == ' ' || l[0] == '\t')
			return -400;                      /* obs-fold */
		size_t c = 0;
		while (c < n && is_tchar((unsigned char)l[c]))
			c++;
		if (c == 0 || c >= n || l[c] != ':')
			return -400;                      /* includes "Name :" */
		const char *v = l + c + 1;
		size_t vn = n - c - 1;
		while (vn && (*v == ' ' || *v == '\t'))
			v++, vn--;
		while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		if (field_is(l, c, "host")) {
			if (req->has_host)
				return -400;
			req->has_host = true;
		} else if (field_is(l, c, "connection")) {
			parse_connection(v, vn, &close, &keep);
		} else if (field_is(l, c, "content-length")) {
			uint64_t cl;
			if (parse_u64(v, vn, &cl) || (have_cl && cl != req->content_length))
				return -400;
			req->content_length = cl;
			have_cl = true;
		} else if (field_is(l, c, "transfer-encoding")) {
			return -501;
		}
	}
	if (req->minor == 1 && !req->has_host)
		return -400;
	if (req->content_length > max_body)
		return -413;
	req->keep_alive = req->minor == 1 ? !close : (keep && !close);
	req->head_len = p;
	return (ssize_t)p;
}

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

void http_route(const char *t, size_t len, struct http_route *r)
{
	const char *q = memchr(t, '?', len);
	size_t n = q ? (size_t)(q - t) : len;

	memset(r, 0, sizeof(*r));
	r->kind = HTTP_ROUTE_NOT_FOUND;
	if (n == 1 && t[0] == '/') {
		r->kind = HTTP_ROUTE_INDEX;
	} else if (n == 6 && !memcmp(t, "/stats", 6)) {
		r->kind = HTTP_ROUTE_STATS;
	} else if (n > 7 && !memcmp(t, "/bytes/", 7)) {
		if (n - 7 > 20 || parse_u64(t + 7, n - 7, &r->bytes) || r->bytes > HTTP_BYTES_MAX)
			r->kind = HTTP_ROUTE_BAD;
		else
			r->kind = HTTP_ROUTE_BYTES;
	} else if (n >= 6 && !memcmp(t, "/file/", 6)) {
		const char *name = t + 6;
		size_t nl = n - 6;
		r->kind = HTTP_ROUTE_BAD;
		if (nl == 0 || nl > HTTP_MAX_NAME || name[0] == '.')
			return;
		for (size_t i = 0; i < nl; i++)
			if (!name_char((unsigned char)name[i]))
				return;
		r->kind = HTTP_ROUTE_FILE;
		r->name = name;
		r->name_len = nl;
	}
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 425: return "Too Early";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

int http_format_head(char *buf, size_t len, int status, const char *type,
		     uint64_t content_length, bool keep_alive, const char *extra)
{
	int n = snprintf(buf, len,
			 "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %" PRIu64 "\r\n"
			 "Connection: %s\r\n%s\r\n",
			 status, http_status_text(status), type ? "Content-Type: " : "",
			 type ? type : "", type ? "\r\n" : "", content_length,
			 keep_alive ? "keep-alive" : "close", extra ? extra : "");
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
