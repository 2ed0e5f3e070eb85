/* client/request.c: the requests a run sends, formatted once before it
 * starts: method, path(s), headers and body (--method, --path repeated or
 * --paths FILE, -H, --body FILE). Workers send them in turn and share them
 * read-only. */
#include "client/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "client/http.h"
#include "common/units.h"

/* A body or a path list larger than this is a mistake, not a benchmark. */
#define BODY_MAX (64u << 20)
#define PATHS_MAX 100000u
#define LINE_MAX_LEN 1024

int request_add_path(struct client_cfg *cfg, const char *path, char *err, size_t errlen)
{
	char **p;

	if (cfg->npaths >= PATHS_MAX) {
		snprintf(err, errlen, "more than %u paths", PATHS_MAX);
		return -1;
	}
	p = realloc(cfg->paths, (cfg->npaths + 1) * sizeof(*p));
	if (!p || !(p[cfg->npaths] = strdup(path))) {
		if (p)
			cfg->paths = p;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->paths = p;
	cfg->npaths++;
	return 0;
}

int request_read_paths(struct client_cfg *cfg, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	char line[LINE_MAX_LEN + 2];
	unsigned lineno = 0, before = cfg->npaths;

	if (!f) {
		snprintf(err, errlen, "--paths %s: cannot read it: %s", file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		lineno++;
		if (n && line[n - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "--paths %s:%u: a line over %d characters", file, lineno,
				 LINE_MAX_LEN);
			fclose(f);
			return -1;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
			     line[n - 1] == '\t'))
			line[--n] = 0;
		char *s = line + strspn(line, " \t");
		if (!*s || *s == '#')
			continue;
		if (*s != '/' || strpbrk(s, " \t")) {
			snprintf(err, errlen, "--paths %s:%u: '%s' is not a path (one path per line, "
				 "starting with '/', no spaces; '#' starts a comment)", file, lineno, s);
			fclose(f);
			return -1;
		}
		if (request_add_path(cfg, s, err, errlen)) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	if (cfg->npaths == before) {
		snprintf(err, errlen, "--paths %s: no path in it (one path per line, starting with '/')",
			 file);
		return -1;
	}
	return 0;
}

int request_read_body(struct client_cfg *cfg, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "rb");
	struct stat st;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "--body %s: cannot read it: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > BODY_MAX) {
		snprintf(err, errlen, "--body %s: expected a regular file of at most %u MiB", file,
			 BODY_MAX >> 20);
		fclose(f);
		return -1;
	}
	free(cfg->body);
	cfg->body = malloc((size_t)st.st_size + 1);
	if (!cfg->body) {
		fclose(f);
		snprintf(err, errlen, "--body %s: out of memory", file);
		return -1;
	}
	n = fread(cfg->body, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		snprintf(err, errlen, "--body %s: short read", file);
		return -1;
	}
	cfg->body_len = n;
	cfg->body_file = file;
	return 0;
}

/* Is header name (the first n characters of h) the same as want? */
static bool header_is(const char *h, int n, const char *want)
{
	return (size_t)n == strlen(want) && !strncasecmp(h, want, (size_t)n);
}

int request_build(struct client_cfg *cfg, const char *host_hdr, char *err, size_t errlen)
{
	bool user_host = false;

	for (unsigned i = 0; i < cfg->nheaders; i++) {
		const char *h = cfg->headers[i];
		int n = http_header_name_len(h);
		if (n < 0) {
			snprintf(err, errlen, "-H '%s': expected 'Name: value' (the name an HTTP token, "
				 "the value without control characters)", h);
			return -1;
		}
		if (header_is(h, n, "Host"))
			user_host = true;
		if (header_is(h, n, "Content-Length") || header_is(h, n, "Transfer-Encoding")) {
			snprintf(err, errlen, "-H '%s': the client sets the body's length itself (from "
				 "--body)", h);
			return -1;
		}
	}
	if (!cfg->npaths)
		return 0;
	cfg->reqs = calloc(cfg->npaths, sizeof(*cfg->reqs));
	if (!cfg->reqs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->nreqs = cfg->npaths;
	for (unsigned i = 0; i < cfg->npaths; i++) {
		struct client_req *r = &cfg->reqs[i];
		size_t cap = 512 + strlen(cfg->paths[i]) + strlen(host_hdr);
		int n;

		for (unsigned k = 0; k < cfg->nheaders; k++)
			cap += strlen(cfg->headers[k]) + 2;
		r->text = malloc(cap + cfg->body_len);
		if (!r->text) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		n = http_format_request(r->text, cap, cfg->method, cfg->paths[i],
					user_host ? NULL : host_hdr, cfg->headers, cfg->nheaders,
					cfg->body_len);
		if (n < 0) {
			snprintf(err, errlen, "'%s %s': %s", cfg->method, cfg->paths[i],
				 n == -ENOSPC ? "the request head does not fit" :
				 "a request path starts with '/' and has no spaces or control characters");
			return -1;
		}
		if (cfg->body_len)
			memcpy(r->text + n, cfg->body, cfg->body_len);
		r->len = (size_t)n + cfg->body_len;
		r->path = cfg->paths[i];
		/* only a GET of /bytes/N has a body to check against the pattern */
		r->want = !strcmp(cfg->method, "GET") ? http_bytes_path(r->path) : -1;
		if (r->want >= 0)
			cfg->verify_pattern = true;
	}
	return 0;
}

void request_free(struct client_cfg *cfg)
{
	for (unsigned i = 0; i < cfg->nreqs; i++)
		free(cfg->reqs[i].text);
	free(cfg->reqs);
	for (unsigned i = 0; i < cfg->npaths; i++)
		free(cfg->paths[i]);
	free(cfg->paths);
	free(cfg->body);
	cfg->reqs = NULL;
	cfg->paths = NULL;
	cfg->body = NULL;
	cfg->nreqs = cfg->npaths = 0;
}
