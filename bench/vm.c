/* bench/vm.c: the kTLS scenarios of a host without kTLS, run inside the VM.
 *
 * The host runs `scripts/vm.sh --kernel K --timeout T -- <bin>/ktls-bench run
 * --emit --no-ceiling --cpus 0:0 --scenario LINE ...`; inside the VM the same
 * runner runs each scenario (both record layers, one CPU) and prints every
 * file it wrote between marker lines on stdout:
 *     @@ktls-bench-file NAME LENGTH
 *     <LENGTH bytes>
 *     @@ktls-bench-end NAME
 * The host takes them back as <id>.vm.*.json, with "where": "vm" and
 * "emulated": true in the .run.json, so every figure from there is labelled
 * "emulated (TCG): correctness only, not performance".
 */
#include "bench/runner.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/proc.h"
#include "common/procstat.h"

#define BEGIN "@@ktls-bench-file "
#define END "@@ktls-bench-end "

void vm_emit_file(const char *dir, const char *name)
{
	char path[1024];
	size_t len;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	char *t = util_read_file(path, &len);
	if (!t)
		return;
	printf("\n" BEGIN "%s %zu\n", name, len);
	fwrite(t, 1, len, stdout);
	printf("\n" END "%s\n", name);
	fflush(stdout);
	free(t);
}

/* "hs-13-...-c8.client.json" -> stem "hs-13-...-c8", rest "client.json".
 * The stem is the longest known scenario id the name starts with. */
static const struct scenario *match(const char *name, const struct scenario *const *scs, size_t n,
				    const int *seqs, int *seq, const char **rest)
{
	const struct scenario *best = NULL;
	size_t blen = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(scs[i]->id);
		if (l > blen && strncmp(name, scs[i]->id, l) == 0 && name[l] == '.') {
			best = scs[i];
			blen = l;
			*seq = seqs[i];
		}
	}
	if (best)
		*rest = name + blen + 1;
	return best;
}

/* key = item, whether o has the key or not (Replace alone leaves a new key's
 * item unowned) */
static void json_set(cJSON *o, const char *key, cJSON *item)
{
	if (!item)
		return;
	if (!cJSON_ReplaceItemInObjectCaseSensitive(o, key, item) && !cJSON_AddItemToObject(o, key, item))
		cJSON_Delete(item);
}

static int write_patched(const char *dir, const struct scenario *sc, int seq, const char *rest,
			 const char *data, size_t len)
{
	char path[1024], name[300];
	snprintf(path, sizeof path, "%s/%s.vm.%s", dir, sc->id, rest);
	if (strcmp(rest, "run.json") != 0)
		return util_write_file(path, data, len);
	/* the run record: point at the renamed files and say where it ran */
	char *copy = strndup(data, len);
	cJSON *o = copy ? cJSON_Parse(copy) : NULL;
	free(copy);
	if (!o)
		return -EINVAL;
	static const char *const keys[] = { "client_json", "server_json", "hyperfine_json" };
	for (size_t i = 0; i < 3; i++) {
		cJSON *k = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
		if (!cJSON_IsString(k))
			continue;
		const char *v = k->valuestring;
		size_t il = strlen(sc->id);
		snprintf(name, sizeof name, "%s.vm%s", sc->id,
			 strncmp(v, sc->id, il) == 0 ? v + il : ".json");
		json_set(o, keys[i], cJSON_CreateString(name));
	}
	/* an error that names the scenario's log names it as it is here */
	cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (cJSON_IsString(e)) {
		char fixed[600];
		const char *at = strstr(e->valuestring, sc->id);
		size_t il = strlen(sc->id);
		if (at && at[il] == '.' && strncmp(at + il, ".vm.", 4) != 0 &&
		    snprintf(fixed, sizeof fixed, "%.*s%s.vm%s", (int)(at - e->valuestring), e->valuestring,
			     sc->id, at + il) < (int)sizeof fixed)
			json_set(o, "error", cJSON_CreateString(fixed));
	}
	json_set(o, "where", cJSON_CreateString("vm"));
	json_set(o, "emulated", cJSON_CreateBool(1));
	json_set(o, "seq", cJSON_CreateNumber(seq));
	cJSON_AddStringToObject(o, "label", "emulated (TCG): correctness only, not performance");
	int rc = util_write_json(path, o);
	cJSON_Delete(o);
	return rc;
}

int vm_collect(const char *text, const char *dir, const int *seqs, const struct scenario *const *scs,
	       size_t n, size_t *got)
{
	const char *p = text;
	*got = 0;
	while ((p = strstr(p, BEGIN))) {
		char name[300];
		size_t len;
		int used = 0;
		p += strlen(BEGIN);
		if (sscanf(p, "%299s %zu%n", name, &len, &used) != 2 || p[used] != '\n')
			continue;
		const char *data = p + used + 1;
		if (strnlen(data, len) < len)
			return -EINVAL; /* truncated output */
		char endm[320];
		snprintf(endm, sizeof endm, "\n" END "%s", name);
		if (strncmp(data + len, endm, strlen(endm)) != 0)
			return -EINVAL;
		int seq = 0;
		const char *rest = NULL;
		const struct scenario *sc = match(name, scs, n, seqs, &seq, &rest);
		if (sc && !strchr(rest, '/')) {
			int rc = write_patched(dir, sc, seq, rest, data, len);
			if (rc)
				return rc;
			if (strcmp(rest, "run.json") == 0)
				(*got)++;
		}
		p = data + len;
	}
	return 0;
}

/* Under TCG the AEAD runs at ~20 MB/s: a run must last long enough for a few
 * whole responses, or a large size would measure nothing. The scenario line
 * sent to the VM (and kept in its .run.json) carries the longer duration. */
#define VM_BYTES_PER_S 10e6
uint64_t vm_duration_ns(const struct scenario *sc)
{
	if (sc->kind != SCEN_BULK && sc->kind != SCEN_FILE)
		return sc->duration_ns;
	/* whole seconds, so that the line stays readable */
	uint64_t need = ((uint64_t)(3.0 * (double)sc->size / VM_BYTES_PER_S) + 2) * 1000000000ull;
	return need > sc->duration_ns ? need : sc->duration_ns;
}

int scenario_to_line_vm(const struct scenario *sc, char *buf, size_t len)
{
	struct scenario v = *sc;
	v.duration_ns = vm_duration_ns(sc);
	return scenario_to_line(&v, buf, len);
}

/* A failed record for every scenario that did not come back, so that the
 * report lists them with the reason instead of leaving them out silently. */
static void vm_record_missing(struct runner *R, const struct scenario *const *scs, const int *seqs,
			      size_t n, int status)
{
	char path[1100], err[300];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s.vm.run.json", R->out, scs[i]->id);
		if (access(path, F_OK) == 0)
			continue;
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return;
		cJSON_AddItemToObject(o, "scenario", scenario_to_json(scs[i]));
		cJSON_AddNumberToObject(o, "seq", seqs[i]);
		cJSON_AddStringToObject(o, "peer", "ktls-server");
		cJSON_AddStringToObject(o, "where", "vm");
		cJSON_AddBoolToObject(o, "emulated", true);
		cJSON_AddBoolToObject(o, "ok", false);
		snprintf(err, sizeof err, "did not come back from the VM (harness exit %d): see vm.log and "
			 "vm.stderr.log", status);
		cJSON_AddStringToObject(o, "error", err);
		util_write_json(path, o);
		cJSON_Delete(o);
	}
}

/* vm.log: what the VM printed, less the result files themselves (they are in
 * the run folder): one line stands for each. */
static void vm_write_log(const char *path, const char *out)
{
	FILE *f = fopen(path, "w");
	const char *p = out;
	if (!f)
		return;
	for (;;) {
		const char *b = strstr(p, BEGIN);
		if (!b) {
			fputs(p, f);
			break;
		}
		fwrite(p, 1, (size_t)(b - p), f);
		const char *name = b + strlen(BEGIN);
		int nlen = (int)strcspn(name, " \n");
		fprintf(f, "[result file %.*s, taken into the run folder]\n", nlen, name);
		const char *e = strstr(name, END);
		if (!e)
			break;
		p = e + strlen(END);
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	fclose(f);
}

struct vm_tick {
	struct runner *R;
	size_t n;
	double budget;
	uint64_t t0;
};

/* Progress: how many scenarios came back from the VM so far. */
static void vm_progress(const char *out, size_t len, void *arg)
{
	struct vm_tick *t = arg;
	size_t got = 0;
	char what[120];
	(void)len;
	for (const char *p = out; p && (p = strstr(p, END)); p++) {
		const char *nl = strchr(p, '\n');
		if (nl && nl - p > 9 && strncmp(nl - 9, ".run.json", 9) == 0)
			got++;
	}
	snprintf(what, sizeof what, "VM (%s, emulated): %zu of %zu scenarios back", t->R->vm_kernel, got, t->n);
	runner_progress(t->R, what, (double)(procstat_now_ns() - t->t0) / 1e9, t->budget);
}

int vm_run_scenarios(struct runner *R, const struct scenario *const *scs, const int *seqs, size_t n)
{
	char vmsh[700], tmo[32], line[512], logp[1100];
	size_t nargs = 32 + 2 * n, k = 0;
	char **argv = calloc(nargs + 1, sizeof *argv);
	char (*lines)[512] = calloc(n, sizeof *lines);
	double budget = 120; /* boot, module loading */
	int rc;

	if (!argv || !lines) {
		free(argv);
		free(lines);
		return -ENOMEM;
	}
	snprintf(vmsh, sizeof vmsh, "%s", R->vm_script);
	if (access(vmsh, X_OK)) {
		fprintf(stderr, "ktls-bench: %zu kTLS scenarios need the VM harness, but %s is missing: "
			"they are left out (run on a host with kTLS, or add scripts/vm.sh)\n", n, vmsh);
		free(argv);
		free(lines);
		return -ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		budget += (double)(vm_duration_ns(scs[i]) + scs[i]->warmup_ns) / 1e9 + 20;
		if (scs[i]->kind == SCEN_HYPERFINE)
			budget += scs[i]->runs * ((double)scs[i]->size / 10e6 + 5);
	}
	snprintf(tmo, sizeof tmo, "%.0f", budget);
	argv[k++] = vmsh;
	argv[k++] = "--kernel";
	argv[k++] = R->vm_kernel;
	argv[k++] = "--timeout";
	argv[k++] = tmo;
	argv[k++] = "--quiet";
	argv[k++] = "--";
	char bench[600], certs[600];
	snprintf(bench, sizeof bench, "%s/ktls-bench", R->bin);
	snprintf(certs, sizeof certs, "%s", R->certs);
	argv[k++] = bench;
	argv[k++] = "run";
	argv[k++] = "--emit";
	argv[k++] = "--no-ceiling";
	argv[k++] = "--cpus";
	argv[k++] = "0:0";
	argv[k++] = "--certs";
	argv[k++] = certs;
	argv[k++] = "--bin";
	argv[k++] = R->bin;
	for (size_t i = 0; i < n; i++) {
		if (scenario_to_line_vm(scs[i], lines[i], sizeof lines[i]))
			continue;
		argv[k++] = "--scenario";
		argv[k++] = lines[i];
	}
	argv[k] = NULL;
	if (k > nargs) /* a bug, not an input error: the count above must cover every argument */
		abort();

	snprintf(line, sizeof line, "VM (%s, emulated): %zu scenarios", R->vm_kernel, n);
	runner_progress(R, line, 0, budget);
	/* bounded here, and vm.sh bounds the guest itself too; Ctrl-C stops it
	 * and keeps the scenarios that came back before */
	struct vm_tick t = { .R = R, .n = n, .budget = budget, .t0 = procstat_now_ns() };
	char errp[1100];
	snprintf(errp, sizeof errp, "%s/vm.stderr.log", R->out);
	struct proc_capture_opts o = { .timeout_s = (unsigned)budget + 60, .err_path = errp,
				       .tick = vm_progress, .arg = &t, .stop = &runner_stop,
				       .keep_on_error = true };
	char *out = NULL;
	int st = 0;
	rc = proc_capture_ex(argv, -1, &o, &out, &st);
	snprintf(logp, sizeof logp, "%s/vm.log", R->out);
	if (out) {
		vm_write_log(logp, out);
		size_t got = 0;
		int crc = vm_collect(out, R->out, seqs, scs, n, &got);
		R->done += got;
		if (crc == 0 && got < n && rc != -EINTR)
			vm_record_missing(R, scs, seqs, n, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		if (rc == 0 && crc == 0 && got < n) {
			fprintf(stderr, "\nktls-bench: the VM returned %zu of %zu scenarios (exit %d): see %s and %s\n",
				got, n, WIFEXITED(st) ? WEXITSTATUS(st) : -1, logp, errp);
			R->failed += n - got;
		}
		if (rc == 0)
			rc = crc;
		free(out);
	}
	if (rc && rc != -EINTR) {
		fprintf(stderr, "\nktls-bench: the VM run failed: %s (see %s)\n", strerror(-rc), errp);
		if (!out)
			vm_record_missing(R, scs, seqs, n, -1);
	}
	free(argv);
	free(lines);
	return rc;
}
