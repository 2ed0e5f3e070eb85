/* client/stats.c: what a worker counts, and merging workers into a run. */
#include "client/client.h"

#include <stdio.h>
#include <string.h>

static const char *const err_names[ERR__COUNT] = {
	[ERR_CONNECT_REFUSED] = "connect_refused",
	[ERR_CONNECT] = "connect_error",
	[ERR_ADDRNOTAVAIL] = "connect_addrnotavail",
	[ERR_FD_LIMIT] = "fd_limit",
	[ERR_TIMEOUT_CONNECT] = "timeout_connect",
	[ERR_TIMEOUT_HANDSHAKE] = "timeout_handshake",
	[ERR_TIMEOUT_REQUEST] = "timeout_request",
	[ERR_RESET] = "reset",
	[ERR_EOF] = "eof",
	[ERR_IO] = "io_error",
	[ERR_TLS] = "tls_error",
	[ERR_CERT_VERIFY] = "cert_verify_failed",
	[ERR_HTTP_BAD] = "http_bad_response",
	[ERR_HTTP_UNSUPPORTED] = "http_unsupported",
	[ERR_PATTERN] = "pattern_mismatch",
	[ERR_KTLS] = "ktls_error",
	[ERR_SCHEDULE_MISSED] = "schedule_missed",
	[ERR_NO_TICKET] = "no_ticket",
};

const char *err_kind_name(enum err_kind k)
{
	return (unsigned)k < ERR__COUNT ? err_names[k] : "unknown";
}

void stats_init(struct client_stats *s)
{
	memset(s, 0, sizeof(*s));
	hist_init(&s->lat);
	hist_init(&s->hs_lat);
	for (int i = 0; i < PH__COUNT; i++)
		hist_init(&s->ph[i]);
}

void stats_merge(struct client_stats *d, const struct client_stats *s)
{
	d->handshakes += s->handshakes;
	d->resumed += s->resumed;
	d->offered += s->offered;
	d->requests += s->requests;
	d->bytes += s->bytes;
	d->connections += s->connections;
	d->unfinished += s->unfinished;
	if (s->unfinished_max_age_ns > d->unfinished_max_age_ns)
		d->unfinished_max_age_ns = s->unfinished_max_age_ns;
	d->late_starts += s->late_starts;
	if (s->max_start_lag_ns > d->max_start_lag_ns)
		d->max_start_lag_ns = s->max_start_lag_ns;
	for (int i = 0; i < ERR__COUNT; i++)
		d->err[i] += s->err[i];
	for (int i = 0; i < 256; i++)
		d->alert[i] += s->alert[i];
	for (int i = 0; i < HTTP_STATUS_MAX; i++)
		d->http[i] += s->http[i];
	hist_merge(&d->lat, &s->lat);
	hist_merge(&d->hs_lat, &s->hs_lat);
	d->early_sent += s->early_sent;
	d->early_accepted += s->early_accepted;
	d->early_rejected += s->early_rejected;
	d->early_too_early += s->early_too_early;
	d->early_not_allowed += s->early_not_allowed;
	for (int i = 0; i < PH__COUNT; i++)
		hist_merge(&d->ph[i], &s->ph[i]);
	for (int i = 0; i <= RT_MAX; i++)
		d->round_trips[i] += s->round_trips[i];
	d->hello_retries += s->hello_retries;
}

const char *phase_name(enum phase p)
{
	static const char *const n[PH__COUNT] = { "connect", "server_hello", "server_finished",
						  "handshake", "ttfb", "total" };
	return (unsigned)p < PH__COUNT ? n[p] : "?";
}

uint64_t stats_errors(const struct client_stats *s)
{
	uint64_t n = 0;
	for (int i = 0; i < ERR__COUNT; i++)
		n += s->err[i];
	for (int i = 0; i < 256; i++)
		n += s->alert[i];
	for (int i = 0; i < HTTP_STATUS_MAX; i++)
		n += s->http[i];
	return n;
}

void stats_each_error(const struct client_stats *s,
		      void (*fn)(const char *name, uint64_t n, void *arg), void *arg)
{
	char name[96], alert[64];

	for (int i = 0; i < ERR__COUNT; i++)
		if (s->err[i])
			fn(err_names[i], s->err[i], arg);
	for (int i = 0; i < 256; i++)
		if (s->alert[i]) {
			snprintf(name, sizeof(name), "alert_%s", tls_alert_short(i, alert, sizeof(alert)));
			fn(name, s->alert[i], arg);
		}
	for (int i = 0; i < HTTP_STATUS_MAX; i++)
		if (s->http[i]) {
			snprintf(name, sizeof(name), "http_%d", i);
			fn(name, s->http[i], arg);
		}
}
