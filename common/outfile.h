/* common/outfile.h: a result file (--json PATH) opened before the work that
 * fills it, so that a mistyped or unwritable path stops the program at once
 * instead of losing a long run's results at the end. "-" is stdout. */
#ifndef KTLS_COMMON_OUTFILE_H
#define KTLS_COMMON_OUTFILE_H

#include <stdbool.h>

struct outfile {
	const char *path;
	int fd;          /* -1: stdout ("-") or closed */
	bool created;    /* the file did not exist before outfile_open() */
	bool open;
};

/* Open path for writing (created if missing, left as it is until written).
 * 0, or -errno (the caller names the path and the cause). */
int outfile_open(struct outfile *o, const char *path);
/* Replace the file's contents with text and close it (stdout: print it).
 * 0 or -errno. */
int outfile_write(struct outfile *o, const char *text);
/* Close without writing; a file outfile_open() created is removed. */
void outfile_discard(struct outfile *o);

#endif
