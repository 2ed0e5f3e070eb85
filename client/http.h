/* client/http.h: the minimal HTTP/1.1 of the wire protocol, as a client sees it. */
#ifndef KTLS_CLIENT_HTTP_H
#define KTLS_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_resp {
	int status;                     /* 100..599 */
	uint64_t content_length;
	bool close;                     /* "Connection: close" (or HTTP/1.0 without keep-alive) */
	bool until_eof;                 /* no Content-Length: the body ends when the server closes */
};

/* "GET <path> HTTP/1.1\r\nHost: <host>\r\n\r\n" into buf. The length, or
 * -ENOSPC when it does not fit, -EINVAL for a path that is not "/..." or holds
 * spaces or control characters. */
int http_format_get(char *buf, size_t len, const char *path, const char *host);

/* A request head: "<method> <path> HTTP/1.1\r\n", then "Host: <host>\r\n" unless
 * host is NULL, the headers ("Name: value" each) in order, "Content-Length:
 * <body_len>\r\n" when body_len > 0, and the blank line. The length, or
 * -ENOSPC when it does not fit, -EINVAL for a bad method, path or header
 * (see the checks below). */
int http_format_request(char *buf, size_t len, const char *method, const char *path,
			const char *host, const char *const *headers, unsigned nheaders,
			size_t body_len);

/* A method is an HTTP token (letters, digits, !#$%&'*+-.^_`|~). */
bool http_method_ok(const char *m);
/* A header is "Name: value": the name a token, the value without CR, LF or
 * other control characters (tabs allowed). The name's length, or -1. */
int http_header_name_len(const char *h);

/* Offset just past the "\r\n\r\n" that ends the head, or 0 when not there yet. */
size_t http_head_end(const char *buf, size_t len);

/* Parse a complete response head (status line and headers, up to the blank
 * line). 0; -EINVAL when malformed (no "HTTP/1.x NNN", a header without ':',
 * a bad or repeated Content-Length); -ENOTSUP for a body this client cannot
 * delimit (Transfer-Encoding, or no Content-Length on a kept-alive connection).
 * Without Content-Length on a closing connection, until_eof is set. */
int http_parse_head(const char *buf, size_t len, struct http_resp *r);

/* The body size of GET /bytes/<N> (path must be exactly that), or -1. */
int64_t http_bytes_path(const char *path);

#endif
