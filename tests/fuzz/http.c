/* libFuzzer target: the HTTP request parser and router (common/http.c).
 *
 * The first two input bytes pick the head limit (max_head) and the body
 * limit; the rest is the request buffer (libFuzzer's exact-size copy, so a
 * read past its end is caught by ASan). Invariants:
 *   - the result is a head length (> 0), 0 (incomplete: only below the head
 *     limit) or one of the documented statuses -400 -413 -414 -431 -501 -505;
 *   - a complete head lies within the buffer and the limit, ends with an
 *     empty line, and parses the same from the head alone (the parser never
 *     looks past it); its target starts with '/' inside the head; keep-alive
 *     follows the version; the body limit holds;
 *   - a shorter prefix of a complete head is never complete;
 *   - the router keeps /file names inside the docroot (no '/', no leading
 *     '.', only [A-Za-z0-9._-]) and /bytes counts within HTTP_BYTES_MAX;
 *   - a formatted response head fits or is refused, always NUL-terminated. */
#include <stdlib.h>
#include <string.h>

#include "common/http.h"

static void check_route(const char *t, size_t n)
{
	struct http_route r;

	http_route(t, n, &r);
	if (r.kind == HTTP_ROUTE_BYTES && r.bytes > HTTP_BYTES_MAX)
		abort();
	if (r.kind == HTTP_ROUTE_FILE) {
		if (!r.name || r.name_len == 0 || r.name_len > HTTP_MAX_NAME || r.name[0] == '.' ||
		    r.name < t || r.name + r.name_len > t + n)
			abort();
		for (size_t i = 0; i < r.name_len; i++) {
			char c = r.name[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      c == '.' || c == '_' || c == '-'))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct http_request req, again;

	if (size < 2)
		return 0;
	size_t max_head = 16 + (size_t)data[0] * 64;       /* 16 .. 16336 */
	uint64_t max_body = (uint64_t)data[1] * 1000;
	const char *b = (const char *)data + 2;
	size_t len = size - 2;
	char *copy = malloc(len ? len : 1);               /* exact size: ASan sees overreads */
	if (!copy)
		return 0;
	memcpy(copy, b, len);

	ssize_t r = http_parse_request(copy, len, max_head, max_body, &req);
	if (r < 0) {
		if (r != -400 && r != -413 && r != -414 && r != -431 && r != -501 && r != -505)
			abort();
	} else if (r == 0) {
		if (len >= max_head)
			abort();                        /* over the limit is never "more, please" */
	} else {
		size_t h = (size_t)r;
		if (h != req.head_len || h > len || h > max_head || copy[h - 1] != '\n')
			abort();
		if (!req.target || req.target < copy || req.target + req.target_len > copy + h ||
		    req.target_len == 0 || req.target[0] != '/')
			abort();
		if (req.minor != 0 && req.minor != 1)
			abort();
		if (req.minor == 1 && !req.has_host)
			abort();
		if (req.content_length > max_body)
			abort();
		if (req.method != HTTP_GET && req.method != HTTP_HEAD && req.method != HTTP_OTHER)
			abort();
		/* the head alone parses the same */
		char *head = malloc(h);
		if (!head)
			abort();
		memcpy(head, copy, h);
		if (http_parse_request(head, h, max_head, max_body, &again) != r ||
		    again.keep_alive != req.keep_alive || again.content_length != req.content_length ||
		    again.target_len != req.target_len)
			abort();
		/* a strict prefix is never complete */
		if (http_parse_request(head, h - 1, max_head, max_body, &again) > 0)
			abort();
		free(head);
		check_route(req.target, req.target_len);
	}
	check_route(copy, len);

	char out[128];
	int status = 100 + (int)(len % 500);
	int n = http_format_head(out, 1 + len % sizeof out, status, len & 1 ? "text/plain" : NULL,
				 (uint64_t)len * 12345, len & 2, len & 4 ? "X: y\r\n" : NULL);
	size_t cap = 1 + len % sizeof out;
	if (n >= 0 && ((size_t)n >= cap || out[n] != 0))
		abort();
	if (n < 0 && !memchr(out, 0, cap))
		abort();
	free(copy);
	return 0;
}
