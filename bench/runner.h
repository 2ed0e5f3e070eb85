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
	bool clock_instr;     /* --clock instructions: count the server's instructions (QEMU icount) */
	bool tty;             /* stderr is a terminal: one live progress line */
	char cmdline[2048];
	char vm_kernel[32];   /* --vm-kernel */
	/* --clients: the client side runs through mpirun on other hosts
	 * (bench/fleet.c); the server stays here, on --listen */
	char listen[64];      /* the server's address (default 127.0.0.1) */
	int port;             /* --port: the server's port in every scenario (0: a free one each time) */
	char clients[512];    /* the hostfile, "" when the client runs here */
	char client_bin[512]; /* folder of ktls-client-mpi on the client hosts */
	unsigned ranks;       /* client processes at most (the hostfile's slots, or --ranks) */
	const char *mpi_args[16]; /* --mpi-arg, in order */
	unsigned n_mpi_args;
	cJSON *not_run;       /* --clients: scenarios that cannot run across hosts, {id, why} */
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

/* netif.c: the network interface holding the server's address (what the
 * traffic used) and whether its NIC could do TLS crypto. */
/* {address, name, loopback, driver, software_device, speed_mbps, mtu,
 * tls_features {tls-hw-tx-offload, ...}, tls_stat_before {counters}} */
cJSON *netif_json(const char *addr);
/* /proc/net/tls_stat as {counter: value}, or NULL when absent (no kTLS). */
cJSON *netif_tls_stat(void);
/* The interface holding addr: 0, -ENOENT (none), -EINVAL (not an address). */
int netif_of_addr(const char *addr, char *name, size_t len, bool *loopback);
/* A driver of a device with no hardware (loopback, veth, bridge, ...). */
bool netif_soft_driver(const char *driver);

/* fleet.c: --clients HOSTFILE. */
/* Check --listen (an address of this machine, not the wildcard; not
 * loopback with --clients) and the --clients options: the hostfile, the
 * ranks, mpirun and its root permission, ktls-client-mpi. 0, or -errno
 * with a sentence naming the fix in err. */
int fleet_setup(struct runner *R, char *err, size_t errlen);
/* Read a hostfile ("HOST [slots=N] ..." lines, # comments): the hosts in
 * order (hosts[] of {host, slots}, slots null when not given) and the sum
 * of slots; *all_slots false when a line gives none (mpirun then counts the
 * host's cores). 0, or -errno / -EINVAL with a sentence in err. */
int fleet_hostfile(const char *path, cJSON **hosts, unsigned *slots, bool *all_slots, char *err, size_t errlen);
/* The client's argv (as client_args() builds it for one local process) run
 * across the hosts: mpirun --hostfile ... -np min(ranks, connections)
 * --map-by node [--mpi-arg ...] CLIENT_BIN/ktls-client-mpi ..., without
 * --cpus (mpirun places the ranks), with --json - (rank 0's JSON arrives on
 * mpirun's stdout). NULL-terminated, malloc'd (fleet_argv_free), or NULL. */
char **fleet_client_argv(const struct runner *R, const struct scenario *sc, char *const *client);
void fleet_argv_free(char **v);
/* The ranks a scenario runs on. */
unsigned fleet_ranks_for(const struct runner *R, const struct scenario *sc);
/* Whether rank 0 wrote its "fleet started" line into the client's log. */
bool fleet_started(const char *log_path);
/* env.json's "clients": the hostfile, its hosts, the ranks, mpirun's version. */
cJSON *fleet_env_json(const struct runner *R);

#endif
