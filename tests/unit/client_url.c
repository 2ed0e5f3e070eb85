/* Unit tests: client/url.c (the https://host:port/path target) and
 * client/http.c's request formatting with a method, headers and a body. */
#include "client/http.h"
#include "client/url.h"
#include "tests/tap.h"

#include <errno.h>

static void good(const char *s, const char *host, unsigned port, bool have_port, const char *path)
{
	struct url u;
	char err[256];
	int rc = url_parse(s, &u, err, sizeof err);

	OK(rc == 0, "'%s' parses (%s)", s, rc ? err : "ok");
	if (rc)
		return;
	EXPECT_STREQ(u.host, host);
	EXPECT_EQ(u.port, port);
	EXPECT_EQ(u.have_port, have_port);
	EXPECT_STREQ(u.path, path);
}

static void bad(const char *s, const char *why)
{
	struct url u;
	char err[256] = "";

	OK(url_parse(s, &u, err, sizeof err) == -1 && strstr(err, why),
	   "'%s' is refused: %s", s, err);
}

int main(void)
{
	char buf[512];
	const char *hdrs[] = { "X-A: 1", "Accept: */*" };

	good("https://127.0.0.1:8443/bytes/10", "127.0.0.1", 8443, true, "/bytes/10");
	good("https://localhost", "localhost", 443, false, "");
	good("https://localhost/", "localhost", 443, false, "/");
	good("HTTPS://h:1/a?b=c&d", "h", 1, true, "/a?b=c&d");
	good("https://h?q=1", "h", 443, false, "/?q=1");
	good("https://[::1]:9000/x", "::1", 9000, true, "/x");
	good("https://[::1]", "::1", 443, false, "");
	bad("http://h/", "TLS only");
	bad("ftp://h/", "expected https://");
	bad("https://", "no host");
	bad("https://:80/", "no host");
	bad("https://h:/", "without a port");
	bad("https://h:0/", "1 to 65535");
	bad("https://h:65536/", "1 to 65535");
	bad("https://h:12a/", "1 to 65535");
	bad("https://u@h/", "user information");
	bad("https://h/a#frag", "fragment");
	bad("https://[::1:80/", "closing ']'");
	bad("https://[::1]x/", "expected ':PORT'");
	bad("https://h/a b", "spaces");

	/* the request head: method, Host, headers in order, Content-Length, blank line */
	int n = http_format_request(buf, sizeof buf, "POST", "/p", "h:1", hdrs, 2, 5);
	EXPECT_STREQ(buf, "POST /p HTTP/1.1\r\nHost: h:1\r\nX-A: 1\r\nAccept: */*\r\nContent-Length: 5\r\n\r\n");
	EXPECT_EQ(n, (int)strlen(buf));
	n = http_format_request(buf, sizeof buf, "GET", "/", NULL, NULL, 0, 0);
	EXPECT_STREQ(buf, "GET / HTTP/1.1\r\n\r\n");
	EXPECT_EQ(http_format_request(buf, sizeof buf, "G T", "/", "h", NULL, 0, 0), -EINVAL);
	EXPECT_EQ(http_format_request(buf, 20, "GET", "/long/path", "host", NULL, 0, 0), -ENOSPC);
	const char *badh[] = { "X-A 1" };
	EXPECT_EQ(http_format_request(buf, sizeof buf, "GET", "/", "h", badh, 1, 0), -EINVAL);
	EXPECT_EQ(http_header_name_len("Host: x"), 4);
	EXPECT_EQ(http_header_name_len(": x"), -1);
	EXPECT_EQ(http_header_name_len("A: x\r\nB: y"), -1);
	EXPECT_EQ(http_header_name_len("A:\tx"), 1);
	OK(http_method_ok("PATCH") && !http_method_ok("") && !http_method_ok("GET\r"), "methods are tokens");
	return tap_done();
}
