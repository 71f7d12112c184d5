/* --results FILE: one JSON object per finished item (JSON Lines), for jq. */
#ifndef POOLTOP_RESULTS_H
#define POOLTOP_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct results;

struct results_record {
	uint64_t seq; /* 1-based input position */
	const char *item;
	size_t item_len;
	int worker;   /* slot number, -1 when no worker ran it */
	pid_t pid;    /* the worker's pid, 0 when none */
	int exitcode; /* Python semantics: 0, N>0, -SIG */
	bool core;
	bool done; /* "status": "done" or "failed" */
	unsigned attempts;
	double start;	/* seconds since the epoch */
	double runtime; /* seconds */
	const char *output;
	size_t output_len;
	bool timed_out;	   /* stopped for running past --timeout: "timeout": true */
	const char *error; /* NULL, or why pooltop itself failed the item ("item too long") */
};

/* Keys written, in order: seq, item, worker, pid, exitcode, signal (the number, 0 if none),
 * core, status, attempts, start, runtime, output, then timeout (true) and error when set. Strings
 * are JSON; bytes that are not valid UTF-8 are written as \u00XX of the byte (so a line is always
 * valid JSON), control characters escaped. */
void results_format(struct buf *b, const struct results_record *r);

/* Open (create/truncate) path. 0 or -errno. */
int results_open(const char *path, struct results **out);
/* As results_open, on fd, open for writing. Takes fd: it is closed on failure and by
 * results_close. A regular file is truncated here, not before: a caller can open its files
 * first and change none of them until all opened. */
int results_fdopen(int fd, struct results **out);
/* Append one record (buffered; flushed at least every 64 KiB and on close). 0 or -errno. */
int results_write(struct results *res, const struct results_record *r);
int results_flush(struct results *res);
/* Flush and close; NULL is a no-op. 0 or -errno. */
int results_close(struct results *res);

/* JSON string escaping as above, appended to b with the surrounding quotes. */
void json_escape(struct buf *b, const char *s, size_t n);

#endif
