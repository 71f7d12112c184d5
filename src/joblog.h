/* GNU parallel's joblog: tab-separated, with its header
 *   Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
 * one row per finished item. This module formats rows and reads them back; the batch writes
 * them (a row only once its item's output is written, see ledger.h). */
#ifndef POOLTOP_JOBLOG_H
#define POOLTOP_JOBLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct joblog_row {
	uint64_t seq;	     /* 1-based input position */
	double start;	     /* seconds since the epoch */
	double runtime;	     /* seconds */
	uint64_t send;	     /* bytes sent to the job (0 for pooltop's kinds that do not use it) */
	uint64_t receive;    /* bytes of output */
	int exitval;	     /* the exit status, 0..255 (0 when killed by a signal, as GNU parallel;
				-1 when stopped for --timeout, as GNU parallel) */
	int signal;	     /* the signal that ended it, 0 if none */
	const char *command; /* the command line run; tabs and newlines are written escaped */
	size_t command_len;
	const char *host; /* the Host column (escaped as command), or NULL: ":", this machine */
};

/* Make fd (open for writing: with O_APPEND when append, and readable, so that a cut-short last
 * line can be found) ready for rows. With append a cut-short last line of a regular file (a
 * kill in the middle of a write) is cut off; without, a regular file is truncated here, not
 * before: a caller can open its files first and change none of them until all opened. Returns
 * 1 when the header must be written first (the file is not a regular file we append to, or is
 * empty), 0 when it is there, or -errno. */
int joblog_prepare(int fd, bool append);
/* Append the header line to b. */
void joblog_format_header(struct buf *b);
/* Append one row, a whole line, to b. */
void joblog_format_row(struct buf *b, const struct joblog_row *row);

/* Read a joblog for --resume: calls cb for every row (command not filled). The header must be
 * GNU parallel's; rows must have 9 tab-separated fields with numeric Seq, Exitval, Signal.
 * A last line cut short by a kill (no trailing newline) is ignored.
 * Returns 0, -errno for I/O errors (-ENOENT if missing), -EINVAL for a file that is not a
 * joblog or not a regular file (a FIFO, a pipe, a terminal: never read, it could block), with
 * a one-line reason (naming the line number) in err; cb returning non-zero stops
 * the read and that value is returned. */
int joblog_read(const char *path, int (*cb)(void *data, const struct joblog_row *row), void *data,
		char *err, size_t errlen);

#endif
