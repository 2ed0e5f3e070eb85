/* client/fleet.h: a fleet of client processes (ranks) run together by
 * mpirun: each rank's share of the load, what a rank sends to rank 0 at the
 * end, the merged run and the per-rank report. No MPI here (client/mpi/
 * moves the bytes), so all of it is unit-tested without mpirun. */
#ifndef KTLS_CLIENT_FLEET_H
#define KTLS_CLIENT_FLEET_H

#include <stdio.h>

#include "client/client.h"

/* Rank r's share of total among n: total / n, one more for the first
 * total % n ranks (the shares add up to total). */
uint64_t fleet_share(uint64_t total, unsigned rank, unsigned n);

/* The configuration of rank r of n from the fleet's (every count a total):
 * its share of --connections, --max-inflight and --handshakes/--requests;
 * --rate stays the total (the engine interleaves the ranks' schedules).
 * 0, or -1 with a sentence in err when the load cannot be split (a rank
 * would get no connection, or no job to count) or an option makes no sense
 * in a fleet (trace, --cpus). */
int fleet_cfg_rank(const struct client_cfg *total, unsigned rank, unsigned n, struct client_cfg *out,
		   char *err, size_t errlen);

/* What one rank sends rank 0 at the end (its timeline follows it: nslots
 * struct tl_slot). Plain bytes: every rank runs the same build. */
struct fleet_rank {
	unsigned rank, threads;
	int pid;
	char host[64];
	char commit[48];
	uint64_t connections;           /* its share: --connections, or --max-inflight in open loop */
	struct client_stats st;
	double wall_s, cpu_user_s, cpu_sys_s;
	uint64_t stopped_ns;            /* when it stopped, after its t0 */
	int64_t start_realtime_ns;      /* CLOCK_REALTIME at its t0: how close the starts were */
	bool ended_by_count;
	struct negotiated neg;
	uint64_t key_decodes, key_hits, table_verifications, x25519_keygens;
};

/* Fill r from this process's finished run (and its OpenSSL path counters). */
void fleet_rank_fill(struct fleet_rank *r, const struct run *run, unsigned rank, int64_t start_realtime_ns);
/* Its CPU as a share of its threads over its measured window. */
double fleet_rank_busy(const struct fleet_rank *r);
/* The rank whose CPU was busiest: the one most likely to have set the pace. */
unsigned fleet_bottleneck(const struct fleet_rank *r, unsigned n);

/* The fleet's run from n ranks: counts summed, latency histograms merged
 * bucket by bucket (never percentiles averaged), timelines summed second by
 * second (tl: n x nslots slots, rank by rank; the sum goes into tl_out),
 * CPU summed, the measured window the longest rank's. cfg is the fleet's
 * (totals, threads = every rank's threads); it must outlive out. */
void fleet_merge(struct run *out, const struct client_cfg *cfg, const struct fleet_rank *r, unsigned n,
		 const struct tl_slot *tl, unsigned nslots, struct tl_slot *tl_out);

/* The per-rank table and the bottleneck, after report_human(). */
void fleet_report_human(FILE *f, const struct run *merged, const struct fleet_rank *r, unsigned n);
/* The merged run's JSON made a fleet's: "ranks" (one object per rank),
 * "fleet" (hosts, bottleneck, start spread), client_saturated when any rank
 * was, the OpenSSL path counters summed, config.threads per rank and
 * config.ranks. 0, or -ENOMEM. */
int fleet_report_json(struct cJSON *doc, const struct fleet_rank *r, unsigned n);

#endif
