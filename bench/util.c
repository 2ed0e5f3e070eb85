/* bench/util.c: files and JSON for ktls-bench. */
#include "bench/bench.h"
#include "common/version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *util_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int saved;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			size_t nc = cap ? cap * 2 : 8192;
			char *p = nc > (64u << 20) ? NULL : realloc(buf, nc);
			if (!p) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = p;
			cap = nc;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	saved = ferror(f) ? EIO : 0;
	fclose(f);
	if (saved) {
		free(buf);
		errno = saved;
		return NULL;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* Written to a temporary name, then renamed: a reader never sees half a file. */
int util_write_file(const char *path, const char *data, size_t len)
{
	char tmp[1100];
	int fd, rc = 0;

	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		data += w;
		len -= (size_t)w;
	}
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

cJSON *util_read_json(const char *path)
{
	char *text = util_read_file(path, NULL);
	cJSON *o;
	if (!text)
		return NULL;
	o = cJSON_Parse(text);
	free(text);
	if (!o)
		errno = EINVAL;
	return o;
}

int util_write_json(const char *path, const cJSON *o)
{
	char *text = cJSON_Print(o);
	int rc;
	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	text[n] = '\n'; /* cJSON allocates room for the NUL; reuse it, then re-terminate */
	rc = util_write_file(path, text, n + 1);
	cJSON_free(text);
	return rc;
}

void util_json_add_build(cJSON *o, const char *tool)
{
	cJSON_AddStringToObject(o, "tool", tool);
	cJSON_AddStringToObject(o, "version", build_version());
	cJSON_AddStringToObject(o, "commit", build_commit());
}

double util_json_num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	if (cJSON_IsNumber(v))
		return v->valuedouble;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? 1 : 0;
	return dflt;
}

int util_mkdir_p(const char *path)
{
	char buf[1024];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		char c = buf[i];
		buf[i] = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		buf[i] = c;
	}
	return 0;
}
