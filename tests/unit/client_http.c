/* Unit tests: client/http.c, the response-head parser of ktls-client, and
 * client/stats.c's error naming. */
#include "client/client.h"
#include "client/http.h"
#include "tests/tap.h"

#include <errno.h>

static int parse(const char *s, struct http_resp *r)
{
	return http_parse_head(s, strlen(s), r);
}

static void test_format(void)
{
	char buf[128];
	int n = http_format_get(buf, sizeof(buf), "/bytes/10", "127.0.0.1:8443");

	EXPECT_EQ(n, (int)strlen("GET /bytes/10 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\n"));
	EXPECT_STREQ(buf, "GET /bytes/10 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\n");
	EXPECT_EQ(http_format_get(buf, sizeof(buf), "bytes/10", "h"), -EINVAL);
	EXPECT_EQ(http_format_get(buf, sizeof(buf), "/a b", "h"), -EINVAL);
	EXPECT_EQ(http_format_get(buf, sizeof(buf), "/a\r\nX: y", "h"), -EINVAL);
	EXPECT_EQ(http_format_get(buf, 20, "/bytes/10", "127.0.0.1:8443"), -ENOSPC);
}

static void test_head_end(void)
{
	const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
	size_t full = strlen(h);

	EXPECT_EQ(http_head_end(h, full), full - 3);
	EXPECT_EQ(http_head_end(h, full - 4), 0);  /* the blank line is not complete */
	EXPECT_EQ(http_head_end(h, 0), 0);
	EXPECT_EQ(http_head_end("\r\n\r\n", 4), 4);
	EXPECT_EQ(http_head_end("\r\r\n\r\n", 5), 5);
	EXPECT_EQ(http_head_end("a\r\nb\r\n", 6), 0);
}

static void test_parse(void)
{
	struct http_resp r;

	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n", &r), 0);
	EXPECT_EQ(r.status, 200);
	EXPECT_EQ(r.content_length, 65536);
	EXPECT_EQ(r.close, 0);
	EXPECT_EQ(r.until_eof, 0);

	/* header names are case-insensitive, values may carry blanks */
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\ncontent-length:  7 \r\nCONNECTION: keep-alive, Close\r\n\r\n", &r), 0);
	EXPECT_EQ(r.content_length, 7);
	EXPECT_EQ(r.close, 1);

	/* nginx-style head */
	EXPECT_EQ(parse("HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
			"Content-Type: text/html\r\nContent-Length: 153\r\nConnection: keep-alive\r\n\r\n", &r), 0);
	EXPECT_EQ(r.status, 404);
	EXPECT_EQ(r.content_length, 153);
	EXPECT_EQ(r.close, 0);

	/* HTTP/1.0 without a length: the body runs to the close (openssl s_server -www) */
	EXPECT_EQ(parse("HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n", &r), 0);
	EXPECT_EQ(r.close, 1);
	EXPECT_EQ(r.until_eof, 1);
	/* HTTP/1.0 keep-alive with a length */
	EXPECT_EQ(parse("HTTP/1.0 200 ok\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", &r), 0);
	EXPECT_EQ(r.close, 0);

	/* bodiless statuses need no length */
	EXPECT_EQ(parse("HTTP/1.1 204 No Content\r\n\r\n", &r), 0);
	EXPECT_EQ(r.content_length, 0);
	EXPECT_EQ(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", &r), 0);
	EXPECT_EQ(r.content_length, 0);

	/* what this client cannot delimit */
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &r), -ENOTSUP);
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", &r), -ENOTSUP);

	/* malformed */
	EXPECT_EQ(parse("HTTP/2 200 OK\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("HTTP/1.1 20 OK\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("HTTP/1.1 2000 OK\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("HTTP/1.1 099 X\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &r), -EINVAL);
	/* a repeated, equal length is fine (RFC 9110 8.6) */
	EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", &r), 0);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n", &r), -EINVAL);
	EXPECT_EQ(parse("", &r), -EINVAL);
}

static void test_bytes_path(void)
{
	EXPECT_EQ(http_bytes_path("/bytes/0"), 0);
	EXPECT_EQ(http_bytes_path("/bytes/65536"), 65536);
	EXPECT_EQ(http_bytes_path("/bytes/1073741824"), 1073741824LL);
	EXPECT_EQ(http_bytes_path("/bytes/"), -1);
	EXPECT_EQ(http_bytes_path("/bytes/12k"), -1);
	EXPECT_EQ(http_bytes_path("/file/x"), -1);
	EXPECT_EQ(http_bytes_path("/bytes/1234567890123456789"), -1);
}

static void count_name(const char *name, uint64_t n, void *arg)
{
	char *out = arg;
	char one[64];
	snprintf(one, sizeof(one), "%s%s=%llu", *out ? " " : "", name, (unsigned long long)n);
	strcat(out, one);
}

static void test_error_names(void)
{
	static struct client_stats a, b;
	char names[512] = "";

	stats_init(&a);
	stats_init(&b);
	a.err[ERR_CONNECT_REFUSED] = 3;
	a.alert[40] = 2; /* handshake_failure */
	b.http[404] = 5;
	b.err[ERR_PATTERN] = 1;
	b.handshakes = 7;
	hist_record(&a.lat, 1000);
	hist_record(&b.lat, 3000);
	stats_merge(&a, &b);
	EXPECT_EQ(stats_errors(&a), 11);
	EXPECT_EQ(a.handshakes, 7);
	EXPECT_EQ(a.lat.count, 2);
	EXPECT_EQ(a.lat.max, 3000);
	stats_each_error(&a, count_name, names);
	EXPECT_STREQ(names, "connect_refused=3 pattern_mismatch=1 alert_handshake_failure=2 http_404=5");
	for (int k = 0; k < ERR__COUNT; k++)
		OK(strcmp(err_kind_name(k), "unknown") && !strchr(err_kind_name(k), ' '),
		   "error kind %d has a name: %s", k, err_kind_name(k));
}

int main(void)
{
	test_format();
	test_head_end();
	test_parse();
	test_bytes_path();
	test_error_names();
	return tap_done();
}
