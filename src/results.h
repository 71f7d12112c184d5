/* --results FILE: one JSON object per finished item (JSON Lines), for jq. This module formats
 * them; the batch writes them (once the item's output is written, see ledger.h). */
#ifndef POOLTOP_RESULTS_H
#define POOLTOP_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct results_record {
	uint64_t seq; /* 1-based input position */
	const char *item;
	size_t item_len;
	/* Several input sources: each one's value ("columns", after "item"), else ncolumns 0. */
	const char *const *columns;
	const size_t *column_lens;
	size_t ncolumns;
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
	uint64_t output_total; /* the whole output's length when output holds only its first
				  output_len bytes (a spooled output), else 0 */
	bool timed_out;	       /* stopped for running past --timeout: "timeout": true */
	const char *error;     /* NULL, or why pooltop itself failed the item ("item too long") */
	/* The item's stderr, as kept (pool.h): "stderr"; err_cut: it was cut, "stderr_cut". */
	const char *err;
	size_t err_len;
	bool err_cut;
};

/* Keys written, in order: seq, item, columns (an array, with several input sources), worker, pid,
 * exitcode, signal (the number, 0 if none), core, status, attempts, start, runtime, output, then
 * output_cut (true) and output_bytes (the whole length) when output holds only the first part,
 * stderr (always, "" when none), then stderr_cut (true) when it was cut (its last line says how
 * much), timeout (true) and error when set. Strings are JSON; bytes that are not valid UTF-8 are
 * written as \u00XX of the byte (so a line is always valid JSON), control characters escaped. */
void results_format(struct buf *b, const struct results_record *r);
/* Append line (one record from results_format, len bytes with its newline) to b with the key
 * "stdout_written": false added last: the item's output never reached standard output (a
 * reader that left or stalled, a failed write); it is in the record, and the joblog has no row
 * for the item, so --resume runs it again. */
void results_format_unwritten(struct buf *b, const char *line, size_t len);

/* Make fd, open for writing, ready for records: a regular file is truncated here, not before,
 * so a caller can open its files first and change none of them until all opened. 0 or -errno. */
int results_prepare(int fd);

/* JSON string escaping as above, appended to b with the surrounding quotes. */
void json_escape(struct buf *b, const char *s, size_t n);

#endif
