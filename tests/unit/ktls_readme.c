/* Unit test: docs/libktls.md's example is ktls/examples/client.c
 * verbatim, compiles (it is included here), and fetches a page from a local
 * TLS server through kTLS (the emulated kernel of tests/ktls_emu.h). */
#include "tests/ktls_emu.h"
#include "tests/tls_pair.h"
#include "tests/tap.h"

#include <pthread.h>
#include <stdlib.h>

/* The example uses plain send(); here it must reach the emulated kernel. */
static ssize_t send_via_seam(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	return ktls_sys_sendmsg(fd, &m, flags);
}
#define send send_via_seam
#include "ktls/examples/client.c"
#undef send

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return buf;
}

static int lfd;

static void *serve(void *arg)
{
	SSL_CTX *ctx = arg;
	int fd = accept(lfd, NULL, NULL);
	SSL *ssl = SSL_new(ctx);
	char req[512];
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1 && SSL_read(ssl, req, sizeof(req)) > 0)
		SSL_write(ssl, resp, sizeof(resp) - 1);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	return NULL;
}

int main(void)
{
	char *readme = slurp("docs/libktls.md"), *example = slurp("ktls/examples/client.c");
	OK(readme && example, "docs/libktls.md and ktls/examples/client.c readable (run from the top folder)");
	OK(readme && example && strstr(readme, example) != NULL,
	   "docs/libktls.md carries ktls/examples/client.c verbatim");
	free(readme);
	free(example);

	/* A local server whose certificate the example trusts via SSL_CERT_FILE. */
	char cafile[] = "/tmp/ktls-readme-ca-XXXXXX";
	int cfd = mkstemp(cafile);
	SSL_CTX *sctx = tp_ctx(true, TLS1_3_VERSION, NULL);
	FILE *cf = fdopen(cfd, "w");
	PEM_write_X509(cf, tp_cert);
	fclose(cf);
	setenv("SSL_CERT_FILE", cafile, 1);

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	bind(lfd, (struct sockaddr *)&sa, sizeof(sa));
	listen(lfd, 1);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	char port[16];
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	pthread_t th;
	pthread_create(&th, NULL, serve, sctx);

	emu_install();
	char out[256] = "";
	int n = ktls_example_get("127.0.0.1", port, out, sizeof(out) - 1);
	pthread_join(th, NULL);
	OK(n > 0 && strstr(out, "200 OK") && strstr(out, "hello"), "the example fetched the page over kTLS (%d bytes)", n);
	unlink(cafile);
	close(lfd);
	SSL_CTX_free(sctx);
	tp_free_cert();
	return tap_done();
}
