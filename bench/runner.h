/* bench/runner.h: running a suite (runner.c), its peers (nginx.c), the VM
 * part (vm.c) and the environment record (env.c). */
#ifndef KTLS_BENCH_RUNNER_H
#define KTLS_BENCH_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/bench.h"

struct runner {
	/* options */
	char bin[512];        /* folder of ktls-server, ktls-client, ktls */
	char certs[512];      /* folder of <cert>.crt / <cert>.key */
	char out[512];        /* the run folder */
	char scripts[512];    /* folder of plot.sh */
	char vm_script[600];  /* the VM harness, scripts/vm.sh */
	int cpu_server, cpu_client;
	bool nginx;           /* --peer nginx */
	bool dry_run;
	bool emit;            /* print every result file on stdout (inside the VM) */
	bool force_vm;        /* run kTLS scenarios in the VM even with host kTLS */
	bool host_ktls;       /* the host kernel offloads (ktls_probe) */
	bool tty;             /* stderr is a terminal: one live progress line */
	char cmdline[2048];
	char vm_kernel[32];   /* --vm-kernel */
	/* state */
	char tmp[256];        /* private temp folder: docroot, nginx prefix */
	size_t done, total, failed;
	uint64_t t0_ns;
	int have_perf;        /* -1 unknown, 0 no, 1 yes */
	int have_hyperfine;
};

extern volatile sig_atomic_t runner_stop;

/* Run every scenario of the suite (and its nginx twin with --peer nginx);
 * kTLS scenarios go to the VM when the host has no kTLS. Writes the result
 * files into R->out as each finishes. 0, 1 when some failed, 130 on Ctrl-C. */
int runner_run_suite(struct runner *R, const struct suite *s);
/* One scenario against ours (nginx false) or nginx. Writes <stem>.run.json. */
int runner_scenario(struct runner *R, const struct scenario *sc, int seq, bool nginx);
/* The cycles counted in `perf stat -x, -e cycles` output, or -1 (absent,
 * "<not supported>", "<not counted>"). */
double runner_perf_cycles(const char *text);
/* The live progress line (stderr). */
void runner_progress(struct runner *R, const char *what, double elapsed_s, double total_s);
void runner_progress_done(struct runner *R);
/* Create (once) a file of size bytes of the /bytes pattern under R->tmp/www/SUB/. */
int runner_docroot_file(struct runner *R, const char *sub, uint64_t size, char *path, size_t len);

/* nginx.c: write the config of a private nginx for sc into R->tmp and start it
 * pinned to R->cpu_server. 0 or -errno with err. */
int nginx_write_conf(struct runner *R, const struct scenario *sc, int port, const char *prefix,
		     char *err, size_t errlen);
int nginx_start(struct runner *R, const struct scenario *sc, int port, pid_t *pid,
		char *err, size_t errlen);
/* "nginx version: nginx/1.22.1" or "" */
void nginx_version(char *buf, size_t len);

/* vm.c: run these scenarios inside scripts/vm.sh and bring their files back,
 * labelled emulated. 0 or -errno. */
int vm_run_scenarios(struct runner *R, const struct scenario *const *scs, const int *seqs, size_t n);
/* The duration a scenario gets in the VM (long enough for a few responses at
 * emulated speed), and its suite line with it. */
uint64_t vm_duration_ns(const struct scenario *sc);
int scenario_to_line_vm(const struct scenario *sc, char *buf, size_t len);
/* Print a result file on stdout between markers (inside the VM). */
void vm_emit_file(const char *dir, const char *name);
/* Parse marked output: write each file into dir as <stem>.vm.<rest>, patched. */
int vm_collect(const char *text, const char *dir, const int *seqs, const struct scenario *const *scs,
	       size_t n, size_t *got);

/* env.c: env.json. */
cJSON *env_collect(const struct runner *R, const char *suite_name);

#endif
