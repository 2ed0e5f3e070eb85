/* bench/report.h: the pieces of report.md (report.c, report_tables.c,
 * report_advice.c). */
#ifndef KTLS_BENCH_REPORT_H
#define KTLS_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "bench/bench.h"
#include "bench/format.h"

bool env_flag(const struct run *r, const char *flag);

void report_handshakes(const struct run *r, struct sbuf *b);
/* report_openssl.c: ktls-server with stock OpenSSL and with its shims, next
 * to nginx (the handshake rows a suite ran with openssl=shims,stock). */
void report_openssl_paths(const struct run *r, struct sbuf *b);
void report_bytes(const struct run *r, struct sbuf *b, enum scen_kind kind);
void report_hyperfine(const struct run *r, struct sbuf *b);
void report_advice(const struct run *r, struct sbuf *b);
void report_plots(const struct run *r, struct sbuf *b);
void report_failures(const struct run *r, struct sbuf *b);
/* report_fleet.c: the network path (did the NIC do the crypto?) and, with
 * --clients, the client fleet per scenario. */
void report_network(const struct run *r, struct sbuf *b);
void report_fleet(const struct run *r, struct sbuf *b);
/* The run's client side was a fleet on other hosts (--clients). */
bool report_is_fleet(const struct run *r);
/* env.json's receive-buffer setting: when autotuning was off
 * (tcp_moderate_rcvbuf 0), the size every socket kept (tcp_rmem's default,
 * in bytes; 1 when that is not recorded); 0 when the buffers autotuned; -1
 * when the run does not record it */
long report_rcvbuf_fixed(const struct run *r);

/* Above this share of the measured time spent on other work, the server's
 * CPU was shared and the row is disturbed. */
#define REPORT_DISTURBED 0.10
/* Share of the measured time the server's CPU spent on other work (other
 * processes, interrupts, the hypervisor), -1 when unknown. */
double report_disturbance(const struct row *w);

/* A handshake row whose server was busy less than 90% of its cores (it did
 * not set the pace), and one whose CPUs were disturbed by other work. */
bool report_unsaturated(const struct row *w);
bool report_disturbed(const struct row *w);

/* The peer row of w (nginx twin) measured in the same place, or NULL. */
const struct row *report_peer(const struct run *r, const struct row *w);

#endif
