/* bench/icount.c: ktls-bench run --clock instructions, inside a guest whose
 * clock counts instructions (scripts/vm.sh --icount: QEMU TCG with
 * -icount shift=0,sleep=off, one vCPU). There one nanosecond of CPU time is
 * one guest instruction, so the server's run time from
 * /proc/PID/task/TID/schedstat (nanoseconds, every thread, user and kernel)
 * is the exact count of instructions it executed. The user/kernel split comes
 * from utime/stime (/proc/PID/stat), which the kernel samples at its tick:
 * it is good to one tick (1/CLK_TCK s: 10^9/CLK_TCK instructions) per row.
 * Alongside, /proc/net/tls_stat before and after each scenario: its TlsTxSw /
 * TlsTxDevice deltas prove a kTLS row really was offloaded (and a user row
 * was not); and the TCP segments sent (all sockets, both ends of the
 * loopback): a bulk row's count follows its segment count, which on kTLS
 * rows varies from run to run with how the two ends interleave
 * (docs/cost-lab.md, Repeatability).
 */
#include "bench/icount.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/runner.h"

/* Tcp OutSegs of /proc/net/snmp, -1 when unreadable. The file pairs a line
 * of names with a line of values ("Tcp: RtoAlgorithm ... OutSegs ..." then
 * "Tcp: 1 ..."): walk both in step. */
static long long tcp_out_segs(void)
{
	char *t = util_read_file("/proc/net/snmp", NULL);
	char *names = t ? strstr(t, "Tcp:") : NULL, *vals = names ? strstr(names + 4, "\nTcp:") : NULL;
	char *sn = NULL, *sv = NULL;
	long long v = -1;

	if (vals) {
		names[strcspn(names, "\n")] = 0;
		vals++;
		vals[strcspn(vals, "\n")] = 0;
		for (char *n = strtok_r(names, " ", &sn), *x = strtok_r(vals, " ", &sv); n && x;
		     n = strtok_r(NULL, " ", &sn), x = strtok_r(NULL, " ", &sv))
			if (!strcmp(n, "OutSegs")) {
				v = strtoll(x, NULL, 10);
				break;
			}
	}
	free(t);
	return v;
}

int icount_sample(pid_t pid, struct icount_sample *s)
{
	char path[96], buf[256];
	DIR *d;
	struct dirent *de;
	memset(s, 0, sizeof s[0]);
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return -errno;
	while ((de = readdir(d))) {
		unsigned long long ns;
		FILE *f;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.20s/schedstat", (int)pid, de->d_name);
		if (!(f = fopen(path, "r")))
			continue; /* a thread that just exited */
		if (fgets(buf, sizeof buf, f) && sscanf(buf, "%llu", &ns) == 1)
			s->ns += ns;
		fclose(f);
	}
	closedir(d);
	/* utime and stime of the whole process (its threads summed) */
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	char st[2048];
	if (!f)
		return -errno;
	size_t n = fread(st, 1, sizeof st - 1, f);
	fclose(f);
	st[n] = 0;
	char *p = strrchr(st, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &s->utime,
			 &s->stime) != 2)
		return -EINVAL;
	s->tls_stat = netif_tls_stat();
	s->tcp_out_segs = tcp_out_segs();
	s->ok = true;
	return 0;
}

void icount_sample_free(struct icount_sample *s)
{
	cJSON_Delete(s->tls_stat);
	s->tls_stat = NULL;
	s->ok = false;
}

cJSON *icount_delta_json(const struct icount_sample *a, const struct icount_sample *b)
{
	cJSON *o, *d;
	if (!a->ok || !b->ok || b->ns < a->ns)
		return NULL;
	if (!(o = cJSON_CreateObject()))
		return NULL;
	double total = (double)(b->ns - a->ns);
	double du = (double)(b->utime - a->utime), ds = (double)(b->stime - a->stime);
	long hz = sysconf(_SC_CLK_TCK);
	cJSON_AddNumberToObject(o, "total", total);
	if (du + ds > 0 && b->utime >= a->utime && b->stime >= a->stime) {
		/* whole instructions: user + kernel = total exactly */
		double user = (double)(unsigned long long)(total * du / (du + ds) + 0.5);
		cJSON_AddNumberToObject(o, "user", user);
		cJSON_AddNumberToObject(o, "kernel", total - user);
	}
	cJSON_AddNumberToObject(o, "split_ticks", du + ds);
	cJSON_AddNumberToObject(o, "split_resolution", 1e9 / (double)(hz > 0 ? hz : 100));
	if (a->tcp_out_segs >= 0 && b->tcp_out_segs >= a->tcp_out_segs)
		cJSON_AddNumberToObject(o, "tcp_out_segs", (double)(b->tcp_out_segs - a->tcp_out_segs));
	if (a->tls_stat && b->tls_stat && (d = cJSON_AddObjectToObject(o, "tls_stat_delta"))) {
		const cJSON *e;
		cJSON_ArrayForEach(e, b->tls_stat) {
			double v0 = util_json_num(a->tls_stat, e->string, 0);
			/* Curr* are gauges (open now), the rest counters */
			if (cJSON_IsNumber(e) && strncmp(e->string, "TlsCurr", 7) != 0)
				cJSON_AddNumberToObject(d, e->string, e->valuedouble - v0);
		}
	} else {
		cJSON_AddNullToObject(o, "tls_stat_delta");
	}
	return o;
}

bool icount_guest(void)
{
	const char *v = getenv("KTLS_VM_ICOUNT");
	return v && strcmp(v, "1") == 0;
}

void icount_row(struct row *w, const cJSON *run)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(run, "instructions");
	const cJSON *d;
	w->instr = w->instr_user = w->instr_kernel = -1;
	w->tls_tx = w->tls_rx = w->tls_err = w->tcp_segs = -1;
	if (!cJSON_IsObject(o))
		return;
	w->instr = util_json_num(o, "total", -1);
	w->instr_user = util_json_num(o, "user", -1);
	w->instr_kernel = util_json_num(o, "kernel", -1);
	w->instr_split_res = util_json_num(o, "split_resolution", -1);
	w->instr_split_ticks = util_json_num(o, "split_ticks", -1);
	w->tcp_segs = util_json_num(o, "tcp_out_segs", -1);
	d = cJSON_GetObjectItemCaseSensitive(o, "tls_stat_delta");
	if (cJSON_IsObject(d)) {
		w->tls_tx = util_json_num(d, "TlsTxSw", 0) + util_json_num(d, "TlsTxDevice", 0);
		w->tls_rx = util_json_num(d, "TlsRxSw", 0) + util_json_num(d, "TlsRxDevice", 0);
		w->tls_err = util_json_num(d, "TlsDecryptError", 0);
	}
}

double icount_units(const struct row *w)
{
	if (w->sc.kind == SCEN_HANDSHAKE)
		return w->handshakes;
	if (w->sc.kind == SCEN_BULK || w->sc.kind == SCEN_FILE)
		return w->bytes;
	return -1;
}

double icount_per_unit(const struct row *w, double v)
{
	double u = icount_units(w);
	return v >= 0 && u > 0 ? v / u : -1;
}

double icount_floor(const struct run *r, const struct row *w)
{
	if (!r->have_ceiling)
		return -1;
	if (w->sc.kind == SCEN_HANDSHAKE) {
		const char *what;
		double us = ceiling_handshake_us(&r->ceil, &w->sc, &what);
		return us > 0 ? us * 1e3 : -1; /* 1 ns = 1 instruction */
	}
	double bps = ceiling_get(&r->ceil, 'a', w->sc.cipher);
	return bps > 0 ? 1e9 / bps : -1;
}

int icount_check(const struct run *r, const struct row *w, char *why, size_t len)
{
	double per = icount_per_unit(w, w->instr), fl = icount_floor(r, w);
	bool ktls = strcmp(w->sc.layer, "ktls") == 0 && w->sc.kind != SCEN_HANDSHAKE;
	why[0] = 0;
	if (!w->ok || w->instr < 0)
		snprintf(why, len, "not counted%s%s", w->error[0] ? ": " : "", w->error);
	else if (!(per > 0))
		snprintf(why, len, "no handshakes or bytes to count per");
	else if (w->instr_user >= 0 && w->instr_kernel >= 0 && w->instr_user + w->instr_kernel != w->instr)
		snprintf(why, len, "user %.0f + kernel %.0f != total %.0f instructions", w->instr_user,
			 w->instr_kernel, w->instr);
	else if (fl > 0 && per < fl)
		snprintf(why, len, "%.4g instructions per %s, below the %s floor of %.4g (the crypto alone)",
			 per, w->sc.kind == SCEN_HANDSHAKE ? "handshake" : "byte",
			 w->sc.kind == SCEN_HANDSHAKE ? "public-key" : w->sc.cipher, fl);
	else if (w->sc.kind != SCEN_HANDSHAKE && w->tcp_segs >= 0 && w->tcp_segs < w->bytes / ICOUNT_MAX_SEG)
		/* no segment carries more than the loopback's 64 KiB */
		snprintf(why, len, "%.0f response bytes in %.0f TCP segments: more than %d bytes a segment",
			 w->bytes, w->tcp_segs, ICOUNT_MAX_SEG);
	else if (w->tls_tx >= 0) {
		/* the kernel's kTLS counters: a kTLS row must have offloaded, a
		 * user row must not have (a silent fallback either way) */
		if (ktls && w->tls_tx == 0)
			snprintf(why, len, "not offloaded: /proc/net/tls_stat TlsTxSw and TlsTxDevice did not "
				 "grow (a silent fallback to userspace encryption)");
		else if (!ktls && w->sc.kind != SCEN_HANDSHAKE && w->tls_tx > 0)
			snprintf(why, len, "a userspace row, but TlsTxSw grew by %.0f: the kernel encrypted",
				 w->tls_tx);
	}
	return why[0] ? -1 : 0;
}

bool icount_run(const struct run *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->env, "clock");
	return cJSON_IsString(e) && strcmp(e->valuestring, "instructions") == 0;
}

bool icount_split_shown(const struct row *w)
{
	return w->instr_user >= 0 && w->instr_kernel >= 0 && w->instr_split_ticks >= ICOUNT_SPLIT_TICKS;
}

double icount_part_ticks(const struct row *w, double part)
{
	if (!(w->instr > 0) || part < 0 || w->instr_split_ticks < 0)
		return -1;
	return w->instr_split_ticks * part / w->instr;
}
