/* server/main.c: ktls-server: start the workers, wait for a signal or
 * --duration, stop them gracefully, print the summary and the JSON. */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/cpus.h"
#include "common/outfile.h"
#include "osslshim/osslshim.h"

static int write_json(struct server *s, struct outfile *out)
{
	cJSON *j = stats_json(s, true);
	char *txt = j ? cJSON_Print(j) : NULL;
	int rc = 0;

	cJSON_Delete(j);
	size_t n = txt ? strlen(txt) : 0;
	char *line = txt ? realloc(txt, n + 2) : NULL;
	if (!line) {
		free(txt);
		outfile_discard(out);
		fprintf(stderr, "ktls-server: --json: out of memory\n");
		return -1;
	}
	memcpy(line + n, "\n", 2);
	rc = outfile_write(out, line);
	if (rc)
		fprintf(stderr, "ktls-server: --json %s: cannot write: %s\n", out->path, strerror(-rc));
	free(line);
	return rc ? -1 : 0;
}

/* ktls mode: find out once whether this kernel can offload at all. */
static int check_ktls(struct server *s)
{
	struct ktls_probe *p = calloc(1, sizeof *p);
	int rc;

	if (!p)
		return -ENOMEM;
	rc = ktls_probe(p);
	if (rc < 0 || !p->ulp_available)
		s->ktls_unavailable = ktls_strerror(rc < 0 ? rc : KTLS_E_NO_ULP);
	free(p);
	if (!s->ktls_unavailable)
		return 0;
	if (s->cfg.strict) {
		fprintf(stderr, "ktls-server: --tls ktls --strict: this kernel cannot offload TLS: %s\n",
			s->ktls_unavailable);
		return -1;
	}
	if (!s->cfg.quiet)
		fprintf(stderr, "ktls-server: warning: no kTLS on this kernel (%s); every connection "
			"stays in userspace and is counted under ktls_refusals\n", s->ktls_unavailable);
	return 0;
}

static void stop_workers(struct server *s, unsigned started)
{
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < started; i++)
		pthread_join(s->workers[i].thread, NULL);
}

int main(int argc, char **argv)
{
	static struct server srv;
	struct server *s = &srv;
	struct outfile json = { .fd = -1 };
	char err[512];
	sigset_t sigs;
	int rc, status = 1;
	unsigned started = 0;

	rc = config_parse(&s->cfg, argc, argv);
	if (rc > 0)
		return 0;
	if (rc < 0)
		return 2;
	/* a --json path that cannot be written fails now, not at the end */
	if (s->cfg.json_path && (rc = outfile_open(&json, s->cfg.json_path))) {
		fprintf(stderr, "ktls-server: --json %s: cannot write: %s (checked at start)\n",
			s->cfg.json_path, strerror(-rc));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Keep freed memory instead of trimming it back with madvise() as
	 * OpenSSL's many small allocations come and go with each handshake. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	s->docroot_fd = -1;
	s->nworkers = s->cfg.threads;

	if (s->cfg.mode == TLS_MODE_KTLS && check_ktls(s)) {
		outfile_discard(&json);
		return 1;
	}
	const struct osslshim_state *shim = osslshim_install(OSSLSHIM_SERVER, s->cfg.stock_openssl);
	if (!s->cfg.stock_openssl && strcmp(shim->paths, "shims") && !s->cfg.quiet)
		fprintf(stderr, "ktls-server: note: OpenSSL paths %s: %s\n", shim->paths, shim->why_stock);
	s->cfg.propq = shim->propq;
	if (tls_ctx_create(&s->cfg, &s->ctx, err, sizeof err)) {
		fprintf(stderr, "ktls-server: %s\n", err);
		osslshim_cleanup();
		outfile_discard(&json);
		return 1;
	}
	if (s->cfg.docroot) {
		s->docroot_fd = open(s->cfg.docroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->docroot_fd < 0) {
			fprintf(stderr, "ktls-server: --docroot %s: %s (give an existing directory)\n",
				s->cfg.docroot, strerror(errno));
			goto out;
		}
	}
	s->workers = calloc(s->nworkers, sizeof *s->workers);
	if (!s->workers) {
		fprintf(stderr, "ktls-server: out of memory\n");
		goto out;
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];
		w->srv = s;
		w->id = i;
		w->listen_fd = -1;
		w->cpu = s->cfg.have_cpus ? cpus_nth(&s->cfg.cpus, i) : -1;
		reasons_init(&w->st.hs_fail);
		reasons_init(&w->st.ktls_refusal);
		reasons_init(&w->st.conn_errors);
		reasons_init(&w->st.accept_errors);
		reasons_init(&w->st.closes);
	}
	if (worker_listen_all(s, err, sizeof err)) {
		fprintf(stderr, "ktls-server: %s\n", err);
		goto out;
	}

	/* Workers inherit a mask without SIGINT/SIGTERM: this thread takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sem_init(&s->ready, 0, 0);
	s->start_ns = procstat_now_ns();
	for (; started < s->nworkers; started++) {
		rc = pthread_create(&s->workers[started].thread, NULL, worker_thread, &s->workers[started]);
		if (rc) {
			fprintf(stderr, "ktls-server: cannot start worker thread: %s\n", strerror(rc));
			stop_workers(s, started);
			goto out;
		}
	}
	for (unsigned i = 0; i < s->nworkers; i++)
		sem_wait(&s->ready);
	for (unsigned i = 0; i < s->nworkers; i++) {
		if (s->workers[i].init_err) {
			fprintf(stderr, "ktls-server: %s\n", s->workers[i].init_msg);
			stop_workers(s, started);
			goto out;
		}
	}
	if (!s->cfg.quiet) {
		printf("ktls-server: listening on %s:%u (tls %s, %u thread%s, cert %s)\n", s->cfg.host,
		       (unsigned)s->port, config_mode_name(s->cfg.mode), s->nworkers,
		       s->nworkers == 1 ? "" : "s", s->cfg.cert);
		fflush(stdout);
	}

	uint64_t prev_hs = 0, prev_req = 0, prev_out = 0, prev_ns = s->start_ns;
	uint64_t next_live = s->start_ns + 1000000000ULL;
	for (;;) {
		uint64_t now = procstat_now_ns();
		uint64_t wake = next_live;
		if (s->cfg.duration_ns) {
			uint64_t end = s->start_ns + s->cfg.duration_ns;
			if (now >= end)
				break;
			if (end < wake)
				wake = end;
		}
		uint64_t dt = wake > now ? wake - now : 0;
		struct timespec ts = { (time_t)(dt / 1000000000ULL), (long)(dt % 1000000000ULL) };
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (procstat_now_ns() >= next_live) {
			next_live += 1000000000ULL;
			if (s->cfg.live)
				stats_live_line(s, stderr, &prev_hs, &prev_req, &prev_out, &prev_ns);
		}
	}
	s->stop_ns = procstat_now_ns();
	stop_workers(s, started);
	status = 0;
	if (s->cfg.json_path && write_json(s, &json))
		status = 1;
	if (!s->cfg.quiet)
		stats_print_summary(s, stdout);
out:
	outfile_discard(&json); /* a startup error: nothing to write */
	if (s->docroot_fd >= 0)
		close(s->docroot_fd);
	if (s->workers) {
		for (unsigned i = 0; i < s->nworkers; i++)
			if (s->workers[i].listen_fd >= 0)
				close(s->workers[i].listen_fd);
	}
	free(s->workers);
	SSL_CTX_free(s->ctx);
	osslshim_cleanup();
	return status;
}
