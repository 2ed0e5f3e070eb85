/* client/hdrlog.c: --hdr-log, the latencies as an HdrHistogram interval log.
 *
 * The format HdrHistogram's own tools read (HistogramLogReader,
 * HistogramLogProcessor, the plotting pages, and the ports of the library):
 * comment lines starting with '#' (the format version, "#[StartTime: <epoch
 * seconds> ...]"), a legend line, then one line per interval:
 *
 *   <start s since StartTime>,<length s>,<max in ms>,<histogram>
 *
 * where the histogram is HdrHistogram's "V2 compressed" encoding in base64:
 * a big-endian header (cookie 0x1c849314, the length of what follows) and a
 * zlib stream of the uncompressed V2 encoding: cookie 0x1c849313, payload
 * length, normalizing index offset (0), significant digits, lowest
 * discernible value, highest trackable value, the integer-to-double ratio
 * (a double, 1.0), then the counts array up to the bucket of the largest
 * value, each count a ZigZag LEB128 (at most 9 bytes, the ninth carrying 8
 * bits), a run of n > 1 empty buckets written as -n.
 *
 * common/hist.c buckets values exactly as an HdrHistogram with 2 significant
 * digits and a lowest discernible value of 1 does (256 sub-buckets, the
 * upper 128 of each repeated per power of two), so its counts are written
 * as they are: the log holds what the run measured, not a re-binning.
 *
 * Workers keep the current second's histogram and hand each finished second
 * to the log (merged under a lock, once a second per worker); the main
 * thread writes a second once every worker has moved past it.
 */
#include "client/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <openssl/evp.h>

#include "common/version.h"

#define V2_COOKIE 0x1c849313u
#define V2_COMPRESSED_COOKIE 0x1c849314u
#define SIG_DIGITS 2
/* the highest trackable value written: an hour in ns, or the largest value */
#define HIGHEST_DEFAULT (3600ULL * NS_PER_S)

struct hdrlog {
	FILE *f;
	bool is_stdout;
	pthread_mutex_t lock;
	struct hist **acc;              /* per second of the measured window, NULL: none yet */
	uint64_t nacc;
	uint64_t next;                  /* the next second to write */
	uint64_t t_measure;
	int err;                        /* the first write error (-errno) */
};

/* --- the encoding ------------------------------------------------------------- */
static size_t put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

static size_t put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
	return 8;
}

/* ZigZag, then LEB128 with at most 9 bytes (the ninth keeps all 8 bits). */
static size_t put_zigzag(uint8_t *p, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;

	for (int i = 0; i < 8; i++) {
		if (z >> 7 == 0) {
			p[n++] = (uint8_t)z;
			return n;
		}
		p[n++] = (uint8_t)((z & 0x7f) | 0x80);
		z >>= 7;
	}
	p[n++] = (uint8_t)z; /* the remaining 8 bits */
	return n;
}

char *hdrlog_encode(const struct hist *h)
{
	unsigned limit = h->count ? hist_index(h->max) + 1 : 1;
	size_t raw_cap = 40 + (size_t)limit * 9, n = 0;
	uint8_t *raw = malloc(raw_cap), *packed = NULL;
	uint64_t highest = h->count && h->max > HIGHEST_DEFAULT ? h->max : HIGHEST_DEFAULT;
	union { double d; uint64_t u; } one = { .d = 1.0 };
	uLongf zlen;
	char *b64 = NULL;

	if (!raw)
		return NULL;
	n += put_be32(raw + n, V2_COOKIE);
	n += put_be32(raw + n, 0); /* payload length, below */
	n += put_be32(raw + n, 0); /* normalizing index offset */
	n += put_be32(raw + n, SIG_DIGITS);
	n += put_be64(raw + n, 1); /* lowest discernible value */
	n += put_be64(raw + n, highest);
	n += put_be64(raw + n, one.u);
	size_t payload = n;
	for (unsigned i = 0; i < limit;) {
		uint64_t c = h->b[i++];
		if (c == 0) {
			int64_t zeros = 1;
			while (i < limit && h->b[i] == 0) {
				zeros++;
				i++;
			}
			n += put_zigzag(raw + n, zeros > 1 ? -zeros : 0);
		} else {
			n += put_zigzag(raw + n, (int64_t)c);
		}
	}
	put_be32(raw + 4, (uint32_t)(n - payload));

	zlen = compressBound((uLong)n);
	packed = malloc(8 + zlen);
	if (!packed || compress2(packed + 8, &zlen, raw, (uLong)n, Z_BEST_COMPRESSION) != Z_OK)
		goto out;
	put_be32(packed, V2_COMPRESSED_COOKIE);
	put_be32(packed + 4, (uint32_t)zlen);
	b64 = malloc(4 * ((8 + zlen + 2) / 3) + 1);
	if (b64)
		EVP_EncodeBlock((unsigned char *)b64, packed, (int)(8 + zlen));
out:
	free(raw);
	free(packed);
	return b64;
}

/* --- the file ------------------------------------------------------------------ */
struct hdrlog *hdrlog_open(const char *path, char *err, size_t errlen)
{
	struct hdrlog *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->is_stdout = !strcmp(path, "-");
	l->f = l->is_stdout ? stdout : fopen(path, "w");
	if (!l->f) {
		snprintf(err, errlen, "--hdr-log %s: cannot write: %s (checked before the run; nothing "
			 "was run)", path, strerror(errno));
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void hdrlog_start(struct hdrlog *l, uint64_t t_measure, const char *what)
{
	struct timespec rt;
	char date[64] = "";
	struct tm tm;
	uint64_t now = now_ns();

	l->t_measure = t_measure;
	/* the wall-clock time of t_measure */
	clock_gettime(CLOCK_REALTIME, &rt);
	double start = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9 -
		       ((double)now - (double)t_measure) / 1e9;
	time_t st = (time_t)start;
	if (gmtime_r(&st, &tm))
		strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);
	fprintf(l->f, "#[ktls-client %s (%s): %s; values in nanoseconds, Interval_Max in "
		"milliseconds]\n", build_version(), build_commit(), what);
	fprintf(l->f, "#[Histogram log format version 1.3]\n");
	fprintf(l->f, "#[StartTime: %.3f (seconds since epoch), %s]\n", start, date);
	fprintf(l->f, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
		"\"Interval_Compressed_Histogram\"\n");
	fflush(l->f);
}

/* Merge h into second sec (workers, under the lock). */
static void hdrlog_add(struct hdrlog *l, uint64_t sec, const struct hist *h)
{
	pthread_mutex_lock(&l->lock);
	if (sec >= l->nacc) {
		uint64_t n = sec + 16;
		struct hist **a = realloc(l->acc, n * sizeof(*a));
		if (!a)
			goto out;
		memset(a + l->nacc, 0, (n - l->nacc) * sizeof(*a));
		l->acc = a;
		l->nacc = n;
	}
	if (!l->acc[sec]) {
		l->acc[sec] = malloc(sizeof(struct hist));
		if (!l->acc[sec])
			goto out;
		hist_init(l->acc[sec]);
	}
	hist_merge(l->acc[sec], h);
out:
	pthread_mutex_unlock(&l->lock);
}

/* Write second k, end_s seconds into the window at the latest. */
static void write_interval(struct hdrlog *l, uint64_t k, double end_s)
{
	struct hist *h = NULL, empty;
	double len = end_s - (double)k;
	char *b64;

	pthread_mutex_lock(&l->lock);
	if (k < l->nacc) {
		h = l->acc[k];
		l->acc[k] = NULL;
	}
	pthread_mutex_unlock(&l->lock);
	if (!h) {
		hist_init(&empty);
		h = &empty;
	}
	b64 = hdrlog_encode(h);
	if (!b64) {
		if (!l->err)
			l->err = -ENOMEM;
	} else if (fprintf(l->f, "%.3f,%.3f,%.3f,%s\n", (double)k, len > 1 ? 1.0 : len,
			   h->count ? (double)h->max / 1e6 : 0.0, b64) < 0 && !l->err) {
		l->err = -errno;
	}
	free(b64);
	if (h != &empty)
		free(h);
}

void hdrlog_poll(struct run *run)
{
	struct hdrlog *l = run->hdr;
	uint64_t done = UINT64_MAX;

	if (!l)
		return;
	for (unsigned i = 0; i < run->cfg->threads; i++) {
		uint64_t d = __atomic_load_n(&run->workers[i]->ivl_done, __ATOMIC_ACQUIRE);
		if (d < done)
			done = d;
	}
	/* a worker that has not started has handed over nothing */
	uint64_t window = (run->t_end - run->t_measure + NS_PER_S - 1) / NS_PER_S;
	if (done > window)
		done = window;
	double end_s = (double)(run->t_end - run->t_measure) / 1e9;
	while (l->next < done)
		write_interval(l, l->next++, end_s);
	fflush(l->f);
}

int hdrlog_close(struct run *run, uint64_t t_end)
{
	struct hdrlog *l = run->hdr;
	int rc;

	if (!l)
		return 0;
	if (t_end > run->t_end)
		t_end = run->t_end;
	if (t_end > run->t_measure) {
		uint64_t n = (t_end - run->t_measure + NS_PER_S - 1) / NS_PER_S;
		double end_s = (double)(t_end - run->t_measure) / 1e9;
		while (l->next < n)
			write_interval(l, l->next++, end_s);
	}
	rc = l->err;
	if (fflush(l->f) && !rc)
		rc = -errno;
	if (!l->is_stdout && fclose(l->f) && !rc)
		rc = -errno;
	l->f = NULL;
	hdrlog_discard(l);
	run->hdr = NULL;
	return rc;
}

void hdrlog_discard(struct hdrlog *l)
{
	if (!l)
		return;
	if (l->f && !l->is_stdout)
		fclose(l->f);
	for (uint64_t i = 0; i < l->nacc; i++)
		free(l->acc[i]);
	free(l->acc);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* --- the workers' side ------------------------------------------------------------ */
int hdrlog_worker_init(struct worker *w)
{
	if (!w->run->hdr)
		return 0;
	w->ivl = malloc(sizeof(*w->ivl));
	if (!w->ivl)
		return -1;
	hist_init(w->ivl);
	return 0;
}

void hdrlog_worker_free(struct worker *w)
{
	free(w->ivl);
	w->ivl = NULL;
}

static void hand_over(struct worker *w)
{
	if (w->ivl->count) {
		hdrlog_add(w->run->hdr, w->ivl_sec, w->ivl);
		hist_init(w->ivl);
	}
}

void hdrlog_worker_record(struct worker *w, uint64_t t, uint64_t v)
{
	if (!w->ivl)
		return;
	uint64_t sec = (t - w->run->t_measure) / NS_PER_S;
	if (sec > w->ivl_sec) {
		hand_over(w);
		w->ivl_sec = sec;
		__atomic_store_n(&w->ivl_done, sec, __ATOMIC_RELEASE);
	}
	hist_record(w->ivl, v);
}

void hdrlog_worker_tick(struct worker *w, uint64_t now, bool last)
{
	if (!w->ivl)
		return;
	if (last) {
		hand_over(w);
		__atomic_store_n(&w->ivl_done, UINT64_MAX, __ATOMIC_RELEASE);
		return;
	}
	if (now < w->run->t_measure)
		return;
	uint64_t sec = (now - w->run->t_measure) / NS_PER_S;
	if (sec > w->ivl_sec) {
		hand_over(w);
		w->ivl_sec = sec;
		__atomic_store_n(&w->ivl_done, sec, __ATOMIC_RELEASE);
	}
}
