/* A worker kind: code that runs inside a worker process, behind one interface.
 *
 * Lifecycle, in the worker process: init once, run once per item, fini once when the worker
 * leaves gracefully (join, end of batch, --max-items-per-worker). fini does not run when the
 * worker is terminated by a signal (as Python's multiprocessing). */
#ifndef POOLTOP_JOB_H
#define POOLTOP_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct job;

struct job_kind {
	const char *name;
	const char *summary; /* one line for --help */
	/* How the ":ARG" part is used: JOB_ARG_NONE rejects one, JOB_ARG_OPTIONAL and
	 * JOB_ARG_REQUIRED take a non-negative integer. */
	int arg;
	long long arg_default;
	/* Once per worker, before the first item. 0, or a negative errno (the worker then
	 * exits with status 1 after printing why). May be NULL. */
	int (*init)(struct job *job);
	/* Once per item. Appends the item's output to out (which the caller resets between
	 * items). Returns the item's exit code: 0 success, N>0 the item failed with N and the
	 * worker lives on. A kind may also end the whole process (exit, abort, a signal): the
	 * item then ends with the process's exit code. */
	int (*run)(struct job *job, const char *item, size_t len, struct buf *out);
	/* Once, on a graceful exit. May be NULL. */
	void (*fini)(struct job *job);
};

enum { JOB_ARG_NONE, JOB_ARG_OPTIONAL, JOB_ARG_REQUIRED };

struct job {
	const struct job_kind *kind;
	long long arg; /* the ":ARG" value, or the kind's default */
	int slot;      /* the worker slot number, for messages */
	void *state;   /* owned by the kind between init and fini */
};

/* Look up "NAME" or "NAME:ARG" among the built-in kinds and fill *job (slot 0, no state).
 * Returns 0, or -EINVAL with a one-line reason in err ("unknown builtin 'x'",
 * "builtin 'sleep' needs a number of milliseconds, as sleep:MS"). */
int job_builtin_parse(const char *spec, struct job *job, char *err, size_t errlen);

/* The table of built-in kinds, for --help; ends with a NULL name. */
extern const struct job_kind job_builtin_kinds[];

#endif
