/* GNU parallel's joblog: tab-separated, with its header
 *   Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
 * one row per finished item, flushed per row, so that a killed run leaves a usable log. */
#ifndef POOLTOP_JOBLOG_H
#define POOLTOP_JOBLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct joblog;

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
};

/* Open path for writing rows. With append and a non-empty file, rows are appended and no
 * header is written; otherwise the file is created/truncated and the header written.
 * Returns 0, or -errno. */
int joblog_open(const char *path, bool append, struct joblog **out);
/* As joblog_open, on fd, open for writing (with O_APPEND when append; readable too, so that a
 * cut-short last line can be found). Takes fd: it is closed on failure and by joblog_close.
 * Without append a regular file is truncated here, not before: a caller can open its files
 * first and change none of them until all opened. */
int joblog_fdopen(int fd, bool append, struct joblog **out);
/* Write one row and flush it. 0 or -errno (e.g. -ENOSPC). */
int joblog_write(struct joblog *jl, const struct joblog_row *row);
/* Flush and close; NULL is a no-op. 0 or -errno from the final flush/close. */
int joblog_close(struct joblog *jl);

/* Read a joblog for --resume: calls cb for every row (command not filled). The header must be
 * GNU parallel's; rows must have 9 tab-separated fields with numeric Seq, Exitval, Signal.
 * A last line cut short by a kill (no trailing newline) is ignored.
 * Returns 0, -errno for I/O errors (-ENOENT if missing), -EINVAL for a file that is not a
 * joblog, with a one-line reason (naming the line number) in err; cb returning non-zero stops
 * the read and that value is returned. */
int joblog_read(const char *path, int (*cb)(void *data, const struct joblog_row *row), void *data,
		char *err, size_t errlen);

#endif
