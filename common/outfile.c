/* common/outfile.c: see outfile.h. */
#include "common/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int outfile_open(struct outfile *o, const char *path)
{
	struct stat st;

	memset(o, 0, sizeof *o);
	o->path = path;
	o->fd = -1;
	if (strcmp(path, "-") == 0) {
		o->open = true;
		return 0;
	}
	o->created = stat(path, &st) != 0;
	if (!o->created && S_ISDIR(st.st_mode))
		return -EISDIR;
	o->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (o->fd < 0)
		return -errno;
	o->open = true;
	return 0;
}

int outfile_write(struct outfile *o, const char *text)
{
	size_t len = strlen(text), off = 0;
	int rc = 0;

	if (!o->open)
		return -EBADF;
	o->open = false;
	if (o->fd < 0) {
		if (fputs(text, stdout) < 0 || fflush(stdout))
			return -EIO;
		return 0;
	}
	if (ftruncate(o->fd, 0) || lseek(o->fd, 0, SEEK_SET) < 0)
		rc = -errno;
	while (!rc && off < len) {
		ssize_t n = write(o->fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	if (close(o->fd) && !rc)
		rc = -errno;
	o->fd = -1;
	return rc;
}

void outfile_discard(struct outfile *o)
{
	if (!o->open)
		return;
	o->open = false;
	if (o->fd >= 0) {
		close(o->fd);
		o->fd = -1;
		if (o->created)
			unlink(o->path);
	}
}
