/* bench/icount.h: instruction counts under QEMU icount (icount.c), the
 * report's section on them (report_icount.c) and the regression guard
 * against a committed baseline (cost_check.c). */
#ifndef KTLS_BENCH_ICOUNT_H
#define KTLS_BENCH_ICOUNT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "bench/bench.h"

struct icount_sample {
	bool ok;
	unsigned long long ns;            /* schedstat run time, all threads */
	unsigned long long utime, stime;  /* clock ticks, /proc/PID/stat */
	cJSON *tls_stat;                  /* /proc/net/tls_stat, NULL: none */
	long long tcp_out_segs;           /* /proc/net/snmp Tcp OutSegs, -1: unknown */
};

/* The guest's clock counts instructions (scripts/vm.sh --icount set
 * KTLS_VM_ICOUNT=1). */
bool icount_guest(void);
/* Sample process pid. 0 or -errno. */
int icount_sample(pid_t pid, struct icount_sample *s);
void icount_sample_free(struct icount_sample *s);
/* {"total", "user", "kernel", "split_ticks", "split_resolution",
 * "tcp_out_segs", "tls_stat_delta": {...}} from a to b, NULL when either
 * sample failed. */
cJSON *icount_delta_json(const struct icount_sample *a, const struct icount_sample *b);

/* A row's "instructions" member (a .run.json) into w->instr*, w->tls_*. */
void icount_row(struct row *w, const cJSON *run);
/* Handshakes (handshake rows) or response bytes (bulk, file) the count is per. */
double icount_units(const struct row *w);
double icount_per_unit(const struct row *w, double v);
/* The crypto's own instructions per unit, from the run's `openssl speed`
 * measured in the same guest (1 ns = 1 instruction), -1 when unknown. */
double icount_floor(const struct run *r, const struct row *w);
/* The bounds a counted row must meet before any figure of it is printed:
 * user + kernel = total, not below the crypto floor, no more than
 * ICOUNT_MAX_SEG response bytes a TCP segment, kTLS rows offloaded (tls_stat
 * grew), user rows not. 0, or -1 with the reason in why. */
int icount_check(const struct run *r, const struct row *w, char *why, size_t len);
/* The most payload a TCP segment carries here (loopback MTU 65536) */
#define ICOUNT_MAX_SEG 65536
/* The user/kernel split is shown from this many ticks of the process's
 * utime + stime on (each tick's share is sampled: fewer say little). */
#define ICOUNT_SPLIT_TICKS 20
bool icount_split_shown(const struct row *w);
/* The samples (ticks) behind one part of the split, from its share of the
 * total; a part with fewer than ICOUNT_PART_TICKS is marked as uncertain. */
#define ICOUNT_PART_TICKS 3
double icount_part_ticks(const struct row *w, double part);
/* The receive buffer scripts/cost.sh fixes in the guest (tcp_rmem's
 * default, autotuning off), in bytes: the report says how far rows repeat
 * by it (docs/cost-lab.md, Repeatability). */
#define COST_RCVBUF 524288
/* The run counted instructions (env.json "clock": "instructions"). */
bool icount_run(const struct run *r);

/* report_icount.c */
struct sbuf;
void report_icount(const struct run *r, struct sbuf *b);
/* The sections of the instruction-count runs in DIR/cost/KERNEL/ (make bench
 * on a host without kTLS), after a run's own. */
void report_icount_folders(const struct run *r, struct sbuf *b);

/* cost_check.c: ktls-bench cost-check */
int cost_check_main(int argc, char **argv);

#endif
