/* client/worker.c: worker threads, each an epoll loop over many non-blocking
 * connections; closed-loop refill or open-loop schedule; timeouts; the
 * measured window and the per-second timeline. */
#include "client/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common/cpus.h"
#include "common/procstat.h"

#define RBUF_LEN (256u * 1024)
#define MAX_EVENTS 256
/* an open-loop start more than this after its scheduled time is "late" */
#define LATE_NS NS_PER_MS

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

void engine_fatal(struct run *run, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&run->lock);
	if (!run->fatal[0]) {
		va_start(ap, fmt);
		vsnprintf(run->fatal, sizeof(run->fatal), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&run->lock);
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELEASE);
}

/* --- deadlines: a list ordered by deadline, since every deadline is "now +
 * the same timeout" appending keeps it ordered --------------------------- */
void worker_deadline_clear(struct worker *w, struct conn *c)
{
	if (!c->on_dl)
		return;
	if (c->dl_prev)
		c->dl_prev->dl_next = c->dl_next;
	else
		w->dl_head = c->dl_next;
	if (c->dl_next)
		c->dl_next->dl_prev = c->dl_prev;
	else
		w->dl_tail = c->dl_prev;
	c->dl_prev = c->dl_next = NULL;
	c->on_dl = false;
}

void worker_deadline_set(struct worker *w, struct conn *c, uint64_t deadline)
{
	worker_deadline_clear(w, c);
	c->deadline = deadline;
	/* walk back from the tail in the rare case the list is not in order */
	struct conn *p = w->dl_tail;
	while (p && p->deadline > deadline)
		p = p->dl_prev;
	c->dl_prev = p;
	c->dl_next = p ? p->dl_next : w->dl_head;
	if (c->dl_next)
		c->dl_next->dl_prev = c;
	else
		w->dl_tail = c;
	if (p)
		p->dl_next = c;
	else
		w->dl_head = c;
	c->on_dl = true;
}

/* --- accounting ----------------------------------------------------------- */
#define TL_ADD(slot, field, v) \
	__atomic_store_n(&(slot)->field, (slot)->field + (v), __ATOMIC_RELAXED)

static struct tl_slot *tl_at(struct worker *w, uint64_t t)
{
	uint64_t i = t > w->run->t0 ? (t - w->run->t0) / NS_PER_S : 0;
	if (i >= w->run->nslots)
		i = w->run->nslots - 1;
	return &w->tl[i];
}

uint64_t worker_window_time(const struct worker *w, uint64_t t)
{
	/* while a batch of events is processed, what it completes is placed
	 * at the time the batch was seen */
	return w->t_seen && t > w->t_seen ? w->t_seen : t;
}

bool worker_in_window(const struct worker *w, uint64_t t)
{
	t = worker_window_time(w, t);
	return t >= w->run->t_measure && t < w->run->t_end;
}

bool worker_claim(struct worker *w)
{
	uint64_t n = w->cfg->count;

	if (!n)
		return true;
	if (__atomic_load_n(&w->run->claimed, __ATOMIC_RELAXED) >= n)
		return false;
	return __atomic_fetch_add(&w->run->claimed, 1, __ATOMIC_RELAXED) < n;
}

void worker_record_error(struct worker *w, enum err_kind k, int alert)
{
	uint64_t t = now_ns();

	TL_ADD(tl_at(w, t), errors, 1);
	if (!worker_in_window(w, t))
		return;
	if (alert >= 0 && alert < 256)
		w->st.alert[alert]++;
	else
		w->st.err[k]++;
}

void worker_record_http(struct worker *w, int status)
{
	uint64_t t = now_ns();

	TL_ADD(tl_at(w, t), errors, 1);
	if (worker_in_window(w, t))
		w->st.http[status >= 0 && status < HTTP_STATUS_MAX ? status : 0]++;
}

void worker_record_handshake(struct worker *w, uint64_t t, uint64_t lat, bool resumed)
{
	struct tl_slot *s = tl_at(w, t);

	TL_ADD(s, handshakes, 1);
	if (resumed)
		TL_ADD(s, resumed, 1);
	if (!worker_in_window(w, t))
		return;
	w->st.handshakes++;
	w->st.resumed += resumed;
	hist_record(&w->st.hs_lat, lat);
}

void worker_record_job(struct worker *w, uint64_t t, uint64_t lat, bool request)
{
	struct tl_slot *s = tl_at(w, t);

	if (request)
		TL_ADD(s, requests, 1);
	TL_ADD(s, lat_sum_ns, lat);
	TL_ADD(s, lat_n, 1);
	if (lat > s->lat_max_ns)
		__atomic_store_n(&s->lat_max_ns, lat, __ATOMIC_RELAXED);
	if (!worker_in_window(w, t))
		return;
	w->st.requests += request;
	hist_record(&w->st.lat, lat);
	hdrlog_worker_record(w, worker_window_time(w, t), lat); /* (in the window's last second) */
	if (w->cfg->fleet && w->cfg->fleet->sample)
		w->cfg->fleet->sample(w->cfg->fleet, w->id, t - lat - w->run->t0, lat);
}

void worker_record_bytes(struct worker *w, uint64_t t, uint64_t n)
{
	TL_ADD(tl_at(w, t), bytes, n);
	if (worker_in_window(w, t))
		w->st.bytes += n;
}

/* --- the loop ----------------------------------------------------------------- */
static void start_jobs(struct worker *w, uint64_t now)
{
	const struct client_cfg *cfg = w->cfg;

	if (w->interval_ns && cfg->mode == MODE_GET) {
		/* get --rate: keep the connections open, then start the requests
		 * that are due on the idle ones */
		for (unsigned tries = w->target; tries && w->inflight < w->target && w->free_list; tries--) {
			struct conn *c = w->free_list;
			w->free_list = c->next_free;
			conn_start(c, now_ns());
		}
		get_dispatch(w, now_ns());
		return;
	}
	if (w->interval_ns) {
		/* open loop: every scheduled start that is due, late or not */
		while (w->next_sched <= now && w->next_sched < w->sched_end) {
			struct conn *c = w->free_list;
			if (!c)
				return; /* all slots busy: the backlog waits, its lateness counted */
			if (!worker_claim(w)) {
				w->ending = true;
				return;
			}
			uint64_t lag = now - w->next_sched;
			if (worker_in_window(w, now)) {
				if (lag > LATE_NS)
					w->st.late_starts++;
				if (lag > w->st.max_start_lag_ns)
					w->st.max_start_lag_ns = lag;
			}
			w->free_list = c->next_free;
			conn_start(c, w->next_sched);
			w->next_sched += w->interval_ns;
		}
		return;
	}
	/* closed loop: refill to the target, at most one attempt per slot per pass
	 * (a refused connect fails at once and must not spin here) */
	for (unsigned tries = w->target; tries && w->inflight < w->target && w->free_list; tries--) {
		struct conn *c = w->free_list;
		if (cfg->mode == MODE_HANDSHAKE ? !worker_claim(w) :
		    cfg->count && __atomic_load_n(&w->run->claimed, __ATOMIC_RELAXED) >= cfg->count) {
			w->ending = true; /* (get: no request left for a new connection) */
			return;
		}
		w->free_list = c->next_free;
		conn_start(c, now_ns());
	}
}

static void check_timeouts(struct worker *w, uint64_t now)
{
	while (w->dl_head && w->dl_head->deadline <= now) {
		struct conn *c = w->dl_head;
		switch (c->st) {
		case CS_CONNECTING: conn_fail(c, ERR_TIMEOUT_CONNECT, -1); break;
		case CS_HANDSHAKE: conn_fail(c, ERR_TIMEOUT_HANDSHAKE, -1); break;
		case CS_TICKET: {
			char why[120];
			snprintf(why, sizeof why, "sent no TLS 1.3 session ticket within --timeout (%.1f s) "
				 "after the handshake",
				 (double)w->cfg->timeout_ns / 1e9);
			handshake_no_ticket(c, why);
			break;
		}
		case CS_SEND:
		case CS_RECV: conn_fail(c, ERR_TIMEOUT_REQUEST, -1); break;
		default: worker_deadline_clear(w, c); break;
		}
	}
}

/* How long epoll may sleep: until the next deadline, scheduled start, or the
 * end of the warmup or of the run; 0 when a closed-loop slot is free. */
static uint64_t wait_ns(struct worker *w, uint64_t now)
{
	uint64_t next = w->run->t_end;

	if (!w->measuring && w->run->t_measure < next)
		next = w->run->t_measure;
	if (w->dl_head && w->dl_head->deadline < next)
		next = w->dl_head->deadline;
	if (!w->ending) {
		bool get_rate = w->interval_ns && w->cfg->mode == MODE_GET;
		if (get_rate && w->inflight < w->target && w->free_list)
			return 0; /* a connection to reopen */
		if (w->interval_ns) {
			if ((get_rate ? w->idle_head != NULL : w->free_list != NULL) && w->next_sched < next)
				next = w->next_sched;
		} else if (w->inflight < w->target && w->free_list) {
			return 0;
		}
	}
	/* --hdr-log: wake at each second of the measured window to hand it over */
	if (w->ivl && now >= w->run->t_measure) {
		uint64_t sec_end = w->run->t_measure + (w->ivl_sec + 1) * NS_PER_S;
		if (sec_end < next)
			next = sec_end;
	}
	if (next <= now)
		return 0;
	return next - now > NS_PER_S ? NS_PER_S : next - now;
}

/* epoll_pwait2 sleeps with nanosecond precision (open-loop starts keep
 * their schedule); kernels before 5.11 get epoll_wait's milliseconds. */
static int wait_events(struct worker *w, struct epoll_event *ev, int max, uint64_t ns)
{
	static int no_pwait2;

	if (!__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
		struct timespec ts = { .tv_sec = (time_t)(ns / NS_PER_S), .tv_nsec = (long)(ns % NS_PER_S) };
		int n = epoll_pwait2(w->epfd, ev, max, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		__atomic_store_n(&no_pwait2, 1, __ATOMIC_RELAXED);
	}
	return epoll_wait(w->epfd, ev, max, (int)((ns + NS_PER_MS - 1) / NS_PER_MS));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	struct epoll_event ev[MAX_EVENTS];

	if (w->cpu >= 0) {
		int rc = cpus_pin_self(w->cpu);
		if (rc) /* never run unpinned while the report says pinned */
			engine_fatal(run, "cannot pin thread %u to CPU %d: %s (check --cpus against the CPUs "
				     "this process may use)", w->id, w->cpu, strerror(-rc));
	}
	for (;;) {
		uint64_t now = now_ns();
		if (now >= run->t_end || __atomic_load_n(&run->stop, __ATOMIC_ACQUIRE))
			break;
		w->measuring = now >= run->t_measure;
		hdrlog_worker_tick(w, now, false);
		if (!w->ending)
			start_jobs(w, now);
		check_timeouts(w, now);
		if (w->ending && w->inflight == 0)
			break;
		int n = wait_events(w, ev, MAX_EVENTS, wait_ns(w, now));
		if (n < 0 && errno != EINTR) {
			engine_fatal(run, "epoll_wait: %s", strerror(errno));
			break;
		}
		/* Events seen after the window closed are left alone: their jobs
		 * are unfinished. Those seen before it are processed in full and
		 * count in it even when the processing ends past t_end (see
		 * worker_in_window): a handshake the client finishes, the server
		 * finishes too, so both count it or neither does. */
		uint64_t seen = now_ns();
		if (n > 0 && seen >= run->t_end)
			break;
		w->t_seen = seen;
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			if (c->st == CS_IDLE)
				continue;
			if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				c->readable = true;
			conn_step(c);
		}
		w->t_seen = 0;
	}

	/* the end: open-loop starts that were due (by more than the lateness
	 * threshold) but never started: every slot was busy */
	uint64_t now = now_ns();
	if (w->interval_ns && !w->ending) {
		uint64_t end = now < w->sched_end ? now : w->sched_end;
		uint64_t from = w->next_sched > run->t_measure ? w->next_sched : run->t_measure;
		if (end > from + LATE_NS)
			w->st.err[ERR_SCHEDULE_MISSED] +=
				(end - LATE_NS - from + w->interval_ns - 1) / w->interval_ns;
	}
	for (unsigned i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		if (c->st == CS_IDLE)
			continue;
		if (c->st == CS_READY) { /* an open connection with no request: no job */
			conn_abandon(c);
			continue;
		}
		/* the job's age: in get mode a request's (the connection may be as
		 * old as the run), else the connection's */
		uint64_t since = w->cfg->mode == MODE_GET && (c->st == CS_SEND || c->st == CS_RECV)
				 ? c->t_req : c->t_start;
		w->st.unfinished++;
		if (now - since > w->st.unfinished_max_age_ns)
			w->st.unfinished_max_age_ns = now - since;
		conn_abandon(c);
	}
	hdrlog_worker_tick(w, now, true);
	__atomic_fetch_add(&run->workers_done, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_lock(&run->lock);
	pthread_cond_broadcast(&run->done_cond);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

/* --- setup ------------------------------------------------------------------- */
static unsigned fleet_size(const struct client_cfg *cfg)
{
	return cfg->fleet ? cfg->fleet->size : 1;
}

static unsigned fleet_rank(const struct client_cfg *cfg)
{
	return cfg->fleet ? cfg->fleet->rank : 0;
}

static int worker_init(struct worker *w, struct run *run, unsigned id, char *err, size_t errlen)
{
	const struct client_cfg *cfg = run->cfg;
	unsigned T = cfg->threads;

	w->id = id;
	w->run = run;
	w->cfg = cfg;
	w->mode = cfg->mode == MODE_GET ? &get_mode : &handshake_mode;
	w->cpu = cfg->have_cpus ? cpus_nth(&cfg->cpus, id) : -1;
	w->epfd = -1;
	stats_init(&w->st);
	w->ctx = tls_ctx_new(cfg, cfg->rx == RX_KTLS, err, errlen);
	if (!w->ctx)
		return -1;
	phases_ctx_prepare(w->ctx, cfg->rx == RX_KTLS);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	if (cfg->mode == MODE_HANDSHAKE && cfg->rate) {
		w->nconns = (unsigned)((cfg->max_inflight + T - 1) / T);
	} else {
		w->target = (unsigned)(cfg->connections / T + (id < cfg->connections % T));
		w->nconns = w->target;
	}
	if (cfg->rate) {
		/* thread k starts at k/R, then every T/R seconds (in a fleet of N
		 * ranks, thread k of rank r is thread r*T + k of N*T) */
		w->interval_ns = (uint64_t)((double)NS_PER_S * T * fleet_size(cfg) / (double)cfg->rate);
		if (!w->interval_ns)
			w->interval_ns = 1;
	}
	w->next_req = cfg->nreqs ? id % cfg->nreqs : 0;
	w->next_bind = cfg->nbinds ? id % cfg->nbinds : 0;
	if (cfg->nbinds) {
		w->bind_used = calloc(cfg->nbinds, sizeof(*w->bind_used));
		w->bind_exhausted = calloc(cfg->nbinds, sizeof(*w->bind_exhausted));
		if (!w->bind_used || !w->bind_exhausted) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (hdrlog_worker_init(w)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->conns = calloc(w->nconns, sizeof(*w->conns));
	w->rbuf_len = RBUF_LEN;
	w->rbuf = malloc(w->rbuf_len);
	w->tl = calloc(run->nslots, sizeof(*w->tl));
	if (!w->conns || !w->rbuf || !w->tl) {
		snprintf(err, errlen, "out of memory for %u connections", w->nconns);
		return -1;
	}
	for (unsigned i = w->nconns; i-- > 0;) {
		struct conn *c = &w->conns[i];
		c->w = w;
		c->fd = -1;
		c->next_free = w->free_list;
		w->free_list = c;
	}
	return 0;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	for (unsigned i = 0; w->conns && i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		if (c->st != CS_IDLE)
			conn_abandon(c);
		SSL_free(c->ssl);
		SSL_SESSION_free(c->sess);
	}
	free(w->conns);
	free(w->rbuf);
	free(w->tl);
	free(w->bind_used);
	free(w->bind_exhausted);
	hdrlog_worker_free(w);
	if (w->epfd >= 0)
		close(w->epfd);
	SSL_CTX_free(w->ctx);
	free(w);
}

/* Enough descriptors for every connection: raise the soft limit if needed. */
static int check_fds(const struct client_cfg *cfg, char *err, size_t errlen)
{
	struct rlimit rl;
	uint64_t need = (cfg->mode == MODE_HANDSHAKE && cfg->rate) ? cfg->max_inflight :
								     cfg->connections;
	need += 32 + 2 * cfg->threads;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max >= need || rl.rlim_max == RLIM_INFINITY) {
		rl.rlim_cur = need;
		if (!setrlimit(RLIMIT_NOFILE, &rl))
			return 0;
	}
	snprintf(err, errlen, "%llu connections need %llu file descriptors but the limit is %llu: "
		 "raise it (ulimit -n %llu) or use fewer connections",
		 (unsigned long long)(need - 32 - 2 * cfg->threads), (unsigned long long)need,
		 (unsigned long long)rl.rlim_max, (unsigned long long)need);
	return -1;
}

void engine_timeline(const struct run *run, unsigned i, struct tl_slot *out)
{
	if (run->tl_merged) {
		*out = run->tl_merged[i];
		return;
	}
	memset(out, 0, sizeof(*out));
	for (unsigned k = 0; k < run->cfg->threads; k++) {
		const struct tl_slot *s = &run->workers[k]->tl[i];
		out->handshakes += __atomic_load_n(&s->handshakes, __ATOMIC_RELAXED);
		out->resumed += __atomic_load_n(&s->resumed, __ATOMIC_RELAXED);
		out->requests += __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
		out->bytes += __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
		out->errors += __atomic_load_n(&s->errors, __ATOMIC_RELAXED);
		out->lat_sum_ns += __atomic_load_n(&s->lat_sum_ns, __ATOMIC_RELAXED);
		out->lat_n += __atomic_load_n(&s->lat_n, __ATOMIC_RELAXED);
		uint64_t m = __atomic_load_n(&s->lat_max_ns, __ATOMIC_RELAXED);
		if (m > out->lat_max_ns)
			out->lat_max_ns = m;
	}
}

static uint64_t inflight_total(const struct run *run)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < run->cfg->threads; k++)
		n += __atomic_load_n(&run->workers[k]->inflight, __ATOMIC_RELAXED);
	return n;
}

static void abs_time(uint64_t t_ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(t_ns / NS_PER_S);
	ts->tv_nsec = (long)(t_ns % NS_PER_S);
}

/* Sleep until t (CLOCK_MONOTONIC) or until every worker is done. */
static bool wait_until(struct run *run, uint64_t t)
{
	struct timespec ts;
	bool all_done;

	abs_time(t, &ts);
	pthread_mutex_lock(&run->lock);
	while (!(all_done = __atomic_load_n(&run->workers_done, __ATOMIC_ACQUIRE) ==
			    (int)run->cfg->threads) && now_ns() < t) {
		if (got_signal)
			__atomic_store_n(&run->stop, 1, __ATOMIC_RELEASE);
		if (pthread_cond_timedwait(&run->done_cond, &run->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&run->lock);
	if (got_signal)
		__atomic_store_n(&run->stop, 1, __ATOMIC_RELEASE);
	return all_done;
}

int engine_run(struct run *run, const struct client_cfg *cfg, struct hdrlog *hdr)
{
	struct sigaction sa = { .sa_handler = on_signal };
	pthread_condattr_t ca;
	struct cpu_times c0 = { 0 }, c1 = { 0 };
	char err[512];
	unsigned started = 0;
	int rc = 1;

	memset(run, 0, sizeof(*run));
	run->cfg = cfg;
	run->hdr = hdr;
	pthread_mutex_init(&run->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&run->done_cond, &ca);
	pthread_condattr_destroy(&ca);
	stats_init(&run->total);
	run->nslots = (unsigned)((cfg->warmup_ns + cfg->duration_ns + NS_PER_S - 1) / NS_PER_S);

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (check_fds(cfg, err, sizeof(err))) {
		engine_fatal(run, "%s", err);
		return 1;
	}
	run->workers = calloc(cfg->threads, sizeof(*run->workers));
	if (!run->workers) {
		engine_fatal(run, "out of memory");
		return 1;
	}
	for (unsigned i = 0; i < cfg->threads; i++) {
		run->workers[i] = calloc(1, sizeof(struct worker));
		if (!run->workers[i] || worker_init(run->workers[i], run, i, err, sizeof(err))) {
			engine_fatal(run, "%s", run->workers[i] ? err : "out of memory");
			return 1;
		}
	}
	/* a fleet's ranks start together, or not at all */
	if (cfg->fleet && !cfg->fleet->gate(cfg->fleet, run)) {
		engine_fatal(run, "another rank of the fleet could not start: nothing was run");
		return 1;
	}
	run->t0 = now_ns();
	run->t_measure = run->t0 + cfg->warmup_ns;
	run->t_end = run->t_measure + cfg->duration_ns;
	if (run->hdr)
		hdrlog_start(run->hdr, run->t_measure, cfg->mode == MODE_GET ?
			     "get: the latency of each request, first byte sent (the scheduled start "
			     "with --rate) to last byte received" :
			     cfg->request_path ? "handshake: each connection, start to the response's last byte" :
			     "handshake: each connection, start to the handshake's end");
	for (unsigned i = 0; i < cfg->threads; i++) {
		struct worker *w = run->workers[i];
		if (w->interval_ns) {
			w->next_sched = run->t0 + (uint64_t)((double)NS_PER_S * (fleet_rank(cfg) * cfg->threads + i) /
							     (double)cfg->rate);
			w->sched_end = run->t_end;
		}
		if (pthread_create(&w->tid, NULL, worker_main, w)) {
			engine_fatal(run, "cannot start thread %u: %s", i, strerror(errno));
			break;
		}
		started++;
	}

	/* measured window: from the end of the warmup to the end (or until the
	 * count is reached); the progress line once a second */
	bool done = started < cfg->threads, cpu_started = false;
	bool progress = cfg->progress || (!cfg->quiet && isatty(STDERR_FILENO));
	uint64_t t_a = 0, tick = run->t0 + NS_PER_S;
	unsigned sec = 0;
	if (!cfg->warmup_ns) {
		procstat_process_cpu(&c0);
		t_a = now_ns();
		cpu_started = true;
	}
	while (!done) {
		uint64_t next = tick < run->t_end ? tick : run->t_end;
		if (!cpu_started && run->t_measure < next)
			next = run->t_measure;
		done = wait_until(run, next);
		uint64_t now = now_ns();
		if (!cpu_started && now >= run->t_measure) {
			procstat_process_cpu(&c0);
			t_a = now;
			cpu_started = true;
		}
		if (now >= tick) {
			if (progress && sec < run->nslots)
				report_progress(run, sec, inflight_total(run));
			sec++;
			tick += NS_PER_S;
		}
		hdrlog_poll(run);
		if (now >= run->t_end || __atomic_load_n(&run->stop, __ATOMIC_ACQUIRE))
			break;
	}
	if (!cpu_started) {
		procstat_process_cpu(&c0);
		t_a = now_ns();
	}
	uint64_t t_b = now_ns();
	procstat_process_cpu(&c1);
	for (unsigned i = 0; i < started; i++)
		pthread_join(run->workers[i]->tid, NULL);
	run->t_stopped = t_b;
	run->wall_s = (double)(t_b - t_a) / 1e9;
	run->cpu_user_s = c1.user_s - c0.user_s;
	run->cpu_sys_s = c1.sys_s - c0.sys_s;
	run->ended_by_count = cfg->count && t_b < run->t_end;
	for (unsigned i = 0; i < started; i++)
		stats_merge(&run->total, &run->workers[i]->st);
	if (cfg->nbinds) {
		run->bind_used = calloc(cfg->nbinds, sizeof(*run->bind_used));
		run->bind_exhausted = calloc(cfg->nbinds, sizeof(*run->bind_exhausted));
		for (unsigned i = 0; run->bind_used && run->bind_exhausted && i < started; i++)
			for (unsigned b = 0; b < cfg->nbinds; b++) {
				run->bind_used[b] += run->workers[i]->bind_used[b];
				run->bind_exhausted[b] += run->workers[i]->bind_exhausted[b];
			}
	}
	if (run->hdr) {
		int hr = hdrlog_close(run, t_b);
		if (hr)
			engine_fatal(run, "--hdr-log %s: cannot write: %s", cfg->hdr_log_path, strerror(-hr));
	}
	if (started == cfg->threads && !run->fatal[0])
		rc = 0;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return rc;
}

void engine_free(struct run *run)
{
	if (run->workers)
		for (unsigned i = 0; i < run->cfg->threads; i++)
			worker_free(run->workers[i]);
	free(run->workers);
	run->workers = NULL;
	free(run->bind_used);
	free(run->bind_exhausted);
	run->bind_used = run->bind_exhausted = NULL;
	hdrlog_discard(run->hdr);
	run->hdr = NULL;
	pthread_mutex_destroy(&run->lock);
	pthread_cond_destroy(&run->done_cond);
}
