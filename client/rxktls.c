/* client/rxktls.c: get --rx ktls. Once the handshake is done, the receive
 * direction moves into the kernel through libktls: the kernel decrypts the
 * responses and ktls_recv() hands over plaintext (alerts, NewSessionTickets
 * and KeyUpdates arrive as control records and are handled there). Requests
 * still go out through SSL_write: only RX is offloaded. */
#include "client/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ktls/ktls.h"

int rxktls_ctx_prepare(SSL_CTX *ctx)
{
	return ktls_ctx_prepare(ctx);
}

/* Errors that say this kernel or this session cannot do kTLS at all: every
 * connection would fail the same way, so the run stops with the reason. */
static bool is_config_error(int rc)
{
	return rc == KTLS_E_NO_ULP || rc == KTLS_E_KERNEL_CIPHER || rc == KTLS_E_CIPHER_UNSUPPORTED ||
	       rc == KTLS_E_VERSION || rc == KTLS_E_NO_SECRETS || rc == KTLS_E_COMPRESSION;
}

int rxktls_enable(struct conn *c)
{
	struct ktls_report rep;
	int rc;

	memset(&rep, 0, sizeof(rep));
	rc = ktls_enable(c->ssl, c->fd, KTLS_RX, &c->kc, &rep);
	/* plaintext that left the SSL comes first, whatever happened */
	c->rx_data = rep.rx_data;
	c->rx_len = rep.rx_len;
	c->rx_off = 0;
	if (rc == 0)
		return 0;
	if (is_config_error(rc)) {
		engine_fatal(c->w->run, "--rx ktls: %s (%s). Without kTLS, use --rx user; the "
			     "kTLS tests run inside the VM (make vm-test)", ktls_strerror(rc),
			     ktls_errname(rc));
		conn_abandon(c);
		return -1;
	}
	conn_fail(c, ERR_KTLS, -1);
	return -1;
}

ssize_t rxktls_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->rx_data) {
		size_t k = c->rx_len - c->rx_off;
		if (k > len)
			k = len;
		memcpy(buf, c->rx_data + c->rx_off, k);
		c->rx_off += k;
		if (c->rx_off == c->rx_len) {
			free(c->rx_data);
			c->rx_data = NULL;
		}
		if (k)
			return (ssize_t)k;
	}
	if (!c->kc) {
		conn_fail(c, ERR_KTLS, -1);
		return -1;
	}
	n = ktls_recv(c->kc, buf, len, MSG_DONTWAIT);
	if (n > 0) {
		phases_read(c, n);
		return n;
	}
	if (n == -EAGAIN || n == -EINTR)
		return 0;
	if (n == 0) {
		c->peer_closed = true;
		return CONN_EOF;
	}
	if (n == KTLS_E_ALERT)
		conn_fail(c, ERR_TLS, ktls_conn_alert(c->kc));
	else if (n == -ECONNRESET || n == -EPIPE)
		conn_fail(c, ERR_RESET, -1);
	else if (n >= KTLS_E_NO_ULP && n < KTLS_E_LAST)
		conn_fail(c, ERR_KTLS, -1);
	else
		conn_fail(c, ERR_IO, -1);
	return -1;
}

void rxktls_release(struct conn *c)
{
	ktls_conn_free(c->kc);
	c->kc = NULL;
	free(c->rx_data);
	c->rx_data = NULL;
	c->rx_len = c->rx_off = 0;
}
