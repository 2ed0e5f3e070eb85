/* Unit tests: common/http.c, the request parser and router of the wire protocol.
 * The oracle is RFC 9112 (message syntax) and RFC 9110 (status codes). */
#include "common/http.h"
#include "tests/tap.h"

#define HEAD 8192
#define BODY 65536

static ssize_t parse(const char *s, struct http_request *r)
{
	return http_parse_request(s, strlen(s), HEAD, BODY, r);
}

static void route(const char *t, struct http_route *r)
{
	http_route(t, strlen(t), r);
}

int main(void)
{
	struct http_request r;
	struct http_route rt;
	char big[HEAD + 64];

	/* a complete request */
	const char *get = "GET /bytes/100 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n";
	EXPECT_EQ(parse(get, &r), (ssize_t)strlen(get));
	EXPECT_EQ(r.method, HTTP_GET);
	EXPECT_EQ(r.minor, 1);
	OK(r.keep_alive, "HTTP/1.1 is keep-alive by default");
	EXPECT_EQ(r.target_len, 10);
	EXPECT_MEMEQ(r.target, "/bytes/100", 10);
	EXPECT_EQ(r.content_length, 0);

	/* every proper prefix is incomplete, never an error */
	int prefixes_ok = 1;
	for (size_t n = 0; n < strlen(get); n++)
		if (http_parse_request(get, n, HEAD, BODY, &r) != 0) {
			prefixes_ok = 0;
			tap_diag("prefix of %zu bytes did not return 0", n);
		}
	OK(prefixes_ok, "every prefix of a valid request is 'need more'");

	/* pipelined: the first parse stops at the first request */
	const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /stats HTTP/1.1\r\nHost: x\r\n\r\n";
	ssize_t n1 = parse(two, &r);
	EXPECT_EQ(n1, 28);
	EXPECT_EQ(parse(two + n1, &r), (ssize_t)strlen(two) - n1);
	EXPECT_EQ(r.method, HTTP_HEAD);

	/* keep-alive rules (RFC 9112 9.3) */
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r) > 0, 1);
	OK(!r.keep_alive, "1.1 with Connection: close");
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nconnection: Upgrade, CLOSE\r\n\r\n", &r) > 0, 1);
	OK(!r.keep_alive, "close token in a list, any case");
	EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0, 1);
	OK(!r.keep_alive && !r.has_host, "1.0 closes by default and needs no Host");
	EXPECT_EQ(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r) > 0, 1);
	OK(r.keep_alive, "1.0 with Connection: keep-alive");

	/* bare LF line endings and one leading empty line */
	EXPECT_EQ(parse("\r\nGET / HTTP/1.1\nHost: x\n\n", &r), 26);
	EXPECT_EQ(parse("\nGET / HTTP/1.1\nHost: x\n\n", &r), 25);
	EXPECT_EQ(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", &r), -400);

	/* field values: OWS trimmed, Content-Length */
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost:x\r\nContent-Length:  12 \r\n\r\n", &r) > 0, 1);
	EXPECT_EQ(r.content_length, 12);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &r) > 0, 1);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n", &r), -413);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n", &r) > 0, 1);
	EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", &r), -501);

	/* methods: any token parses, only GET/HEAD are served */
	EXPECT_EQ(parse("DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n", &r) > 0, 1);
	EXPECT_EQ(r.method, HTTP_OTHER);
	EXPECT_EQ(parse("get / HTTP/1.1\r\nHost: x\r\n\r\n", &r) > 0, 1);
	EXPECT_EQ(r.method, HTTP_OTHER);

	/* malformed */
	EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n", &r), -400);                 /* no Host in 1.1 */
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost : x\r\n\r\n", &r), -400);      /* space before colon */
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n", &r), -400);  /* lone CR */
	EXPECT_EQ(parse("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET x HTTP/1.1\r\nHost: x\r\n\r\n", &r), -400);       /* not origin-form */
	EXPECT_EQ(parse("GET /\x80 HTTP/1.1\r\nHost: x\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n", &r), -505);
	EXPECT_EQ(parse("GET / HTTP/1.2\r\nHost: x\r\n\r\n", &r), -505);
	EXPECT_EQ(parse("GET / HTTX/1.1\r\nHost: x\r\n\r\n", &r), -400);
	EXPECT_EQ(parse("GET / HTTP/1.1x\r\nHost: x\r\n\r\n", &r), -400);
	/* garbage is rejected as soon as it is seen, without waiting for a line */
	EXPECT_EQ(parse("\x16\x03\x01\x02\x00\x01", &r), -400);
	EXPECT_EQ(parse("GET / HT\x00", &r), 0);   /* strlen stops at NUL: still a prefix */
	EXPECT_EQ(http_parse_request("GET / HT\x00TP", 11, HEAD, BODY, &r), -400);

	/* size limits */
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	EXPECT_EQ(http_parse_request(big, HEAD - 1, HEAD, BODY, &r), 0);
	EXPECT_EQ(http_parse_request(big, HEAD, HEAD, BODY, &r), -414);
	EXPECT_EQ(http_parse_request(big, sizeof big, HEAD, BODY, &r), -414);
	int off = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
	memset(big + off, 'b', sizeof big - off);
	EXPECT_EQ(http_parse_request(big, HEAD - 1, HEAD, BODY, &r), 0);
	EXPECT_EQ(http_parse_request(big, sizeof big, HEAD, BODY, &r), -431);
	/* a head of exactly max_head bytes is accepted, one more is not */
	memcpy(big + HEAD - 4, "\r\n\r\n", 4);
	EXPECT_EQ(http_parse_request(big, HEAD, HEAD, BODY, &r), HEAD);
	EXPECT_EQ(http_parse_request(big, HEAD, HEAD - 1, BODY, &r), -431);
	/* too many fields */
	off = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < HTTP_MAX_FIELDS; i++)
		off += snprintf(big + off, sizeof big - off, "A: b\r\n");
	off += snprintf(big + off, sizeof big - off, "\r\n");
	EXPECT_EQ(http_parse_request(big, off, HEAD, BODY, &r), -431);

	/* routes */
	route("/bytes/0", &rt);
	OK(rt.kind == HTTP_ROUTE_BYTES && rt.bytes == 0, "/bytes/0");
	route("/bytes/1048576?x=1", &rt);
	OK(rt.kind == HTTP_ROUTE_BYTES && rt.bytes == 1048576, "/bytes/1048576 with a query");
	route("/bytes/1099511627776", &rt);
	OK(rt.kind == HTTP_ROUTE_BYTES && rt.bytes == HTTP_BYTES_MAX, "/bytes/ of exactly 1 TiB");
	route("/bytes/1099511627777", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_BAD);
	route("/bytes/18446744073709551616", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_BAD);
	route("/bytes/12k", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_BAD);
	route("/bytes/-1", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_BAD);
	route("/bytes/", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_NOT_FOUND);
	route("/bytes", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_NOT_FOUND);
	route("/file/data-1.bin", &rt);
	OK(rt.kind == HTTP_ROUTE_FILE && rt.name_len == 10 && !memcmp(rt.name, "data-1.bin", 10),
	   "/file/data-1.bin");
	const char *bad_files[] = { "/file/", "/file/../etc/passwd", "/file/..", "/file/.hidden",
				    "/file/a/b", "/file/%2e%2e", "/file/a b", "/file/a\\b" };
	for (size_t i = 0; i < sizeof bad_files / sizeof *bad_files; i++) {
		route(bad_files[i], &rt);
		OK(rt.kind == HTTP_ROUTE_BAD, "%s is a bad file name", bad_files[i]);
	}
	memset(big, 'n', sizeof big);
	memcpy(big, "/file/", 6);
	http_route(big, 6 + HTTP_MAX_NAME, &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_FILE);
	http_route(big, 7 + HTTP_MAX_NAME, &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_BAD);
	route("/stats", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_STATS);
	route("/stats?pretty", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_STATS);
	route("/statsx", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_NOT_FOUND);
	route("/", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_INDEX);
	route("/?a", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_INDEX);
	route("/index.html", &rt);
	EXPECT_EQ(rt.kind, HTTP_ROUTE_NOT_FOUND);

	/* response heads */
	char h[256];
	int hl = http_format_head(h, sizeof h, 404, "text/plain", 10, false, NULL);
	EXPECT_STREQ(h, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
		     "Connection: close\r\n\r\n");
	EXPECT_EQ(hl, (int)strlen(h));
	http_format_head(h, sizeof h, 405, NULL, 0, true, "Allow: GET, HEAD\r\n");
	EXPECT_STREQ(h, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
		     "Connection: keep-alive\r\nAllow: GET, HEAD\r\n\r\n");
	EXPECT_EQ(http_format_head(h, 20, 200, NULL, 0, true, NULL), -1);
	EXPECT_STREQ(http_status_text(431), "Request Header Fields Too Large");
	return tap_done();
}
