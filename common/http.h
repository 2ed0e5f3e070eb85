/* common/http.h: the HTTP/1.1 request parser of the wire protocol (pure: no I/O).
 *
 * The server keeps the bytes of a connection's next request in a buffer and
 * calls http_parse_request() on them whenever more arrive. The parser never
 * reads past `len`, never allocates and never writes into the buffer; the
 * request it returns points into that buffer. Everything it accepts is
 * bounded: the head by `max_head`, the number of header fields by
 * HTTP_MAX_FIELDS, the body by `max_body` (Content-Length only).
 *
 * The routes of the wire protocol (DESIGN.md):
 *     GET /bytes/<N>     N bytes of common/pattern.h
 *     GET /file/<name>   a file of the server's --docroot (no '/', no leading '.')
 *     GET /stats         the server's counters as JSON
 *     GET /              a short text naming the routes
 * HEAD is accepted wherever GET is.
 */
#ifndef KTLS_COMMON_HTTP_H
#define KTLS_COMMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_FIELDS 100            /* header fields per request */
#define HTTP_MAX_NAME 255              /* length of a /file/<name> */
#define HTTP_BYTES_MAX (1ULL << 40)    /* largest N of /bytes/<N> (1 TiB) */

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER,                    /* a well-formed token we do not serve (405) */
};

struct http_request {
	enum http_method method;
	const char *target;            /* request-target, points into the buffer */
	size_t target_len;
	int minor;                     /* HTTP/1.<minor>: 0 or 1 */
	bool keep_alive;               /* after this request, per version and Connection */
	bool has_host;
	uint64_t content_length;       /* body bytes following the head (to discard) */
	size_t head_len;               /* request line + fields + the empty line */
};

/* Parse the request at the start of buf[0..len).
 * Returns:
 *   > 0   the head is complete: its length (== req->head_len), *req filled;
 *         req->content_length body bytes follow it.
 *   0     incomplete: call again with more bytes (len < max_head).
 *   < 0   the negated HTTP status to answer with before closing the
 *         connection: -400 malformed, -414 request line over max_head,
 *         -431 head over max_head or over HTTP_MAX_FIELDS fields,
 *         -413 Content-Length over max_body, -501 Transfer-Encoding,
 *         -505 an HTTP version other than 1.0 and 1.1.
 * A 405 (method not served) is not a parse error: req->method is HTTP_OTHER.
 * Up to one empty line before the request line is skipped (RFC 9112 2.2);
 * lines may end in CRLF or a bare LF. */
ssize_t http_parse_request(const char *buf, size_t len, size_t max_head, uint64_t max_body,
			   struct http_request *req);

enum http_route_kind {
	HTTP_ROUTE_INDEX,              /* "/" */
	HTTP_ROUTE_BYTES,              /* "/bytes/<N>": route->bytes */
	HTTP_ROUTE_FILE,               /* "/file/<name>": route->name, name_len */
	HTTP_ROUTE_STATS,              /* "/stats" */
	HTTP_ROUTE_NOT_FOUND,          /* 404 */
	HTTP_ROUTE_BAD,                /* 400: a malformed N or file name */
};

struct http_route {
	enum http_route_kind kind;
	uint64_t bytes;
	const char *name;              /* points into the target; not NUL-terminated */
	size_t name_len;
};

/* Route a request-target (a query string "?..." is ignored). A file name is
 * 1..HTTP_MAX_NAME characters of [A-Za-z0-9._-] not starting with '.', so it
 * can never leave the docroot; anything else under /file/ is HTTP_ROUTE_BAD,
 * as is a /bytes/ N that is not plain decimal or exceeds HTTP_BYTES_MAX. */
void http_route(const char *target, size_t len, struct http_route *route);

/* "OK", "Not Found", ... for the statuses this server sends; "Unknown" else. */
const char *http_status_text(int status);

/* Format a response head into buf (always NUL-terminated when len > 0):
 *   HTTP/1.1 <status> <text>\r\n
 *   Content-Type: <type>\r\n           (omitted when type is NULL)
 *   Content-Length: <n>\r\n
 *   Connection: keep-alive | close\r\n
 *   <extra>                            (whole lines with CRLF, or NULL)
 *   \r\n
 * Returns the length, or -1 when it does not fit. */
int http_format_head(char *buf, size_t len, int status, const char *type,
		     uint64_t content_length, bool keep_alive, const char *extra);

#endif
