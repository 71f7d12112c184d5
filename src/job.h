/* A worker kind: code that runs inside a worker process, behind one interface.
 *
 * DESIGN
 *
 * Two structs, two owners. struct job is the fixed job spec, what the command line asked for
 * (the kind, its ARG, the command, the plugin's path, the --term-seq...): the parent makes it
 * once (job_*_new, job_builtin_parse), every worker gets a copy at fork, and nobody writes it
 * after that: every operation of a kind takes it const. struct job_ctx is one worker's context,
 * what a single process keeps while it runs the job: the hooks and shared-memory places the
 * worker sets up before init, the kind's state (a plugin's handle, a persistent program's pid
 * and pipes), the item in hand and what the kind reports back (timed out, the exit status).
 * The worker owns it; the kind's operations get both.
 *
 * Lifecycle, in the worker process: init once, run once per item, fini once when the worker
 * leaves gracefully (join, end of batch, --max-items-per-worker). fini does not run when the
 * worker is terminated by a signal (as Python's multiprocessing). */
#ifndef POOLTOP_JOB_H
#define POOLTOP_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "termseq.h"
#include "util.h"

struct job;
struct job_ctx;
struct shm_notes;
struct shm_start;
struct template;

/* An item's output as a kind writes it: in memory while small, and past JOB_OUTPUT_MEM spilled
 * to a spool file of its own, so an output of any size costs bounded memory (the worker sets
 * where the spool goes before each item, and hands the output on after it). */
struct job_output {
	struct buf mem; /* the output while in memory; once spilled, bytes not yet in the file */
	int fd;		/* the spool file once spilled, -1 before */
	uint64_t len;	/* bytes written, in all */
	int err;	/* the first error spilling (-errno): the output is cut where it happened */
	char last;	/* the last byte kept */
	int spool_dirfd;  /* set by the worker: the spool directory, -1 when there is none */
	uint64_t seq;	  /* the item, and its attempt: the spool file is "SEQ.ATTEMPT", named */
	uint32_t attempt; /* only when it is made (a printf per item was a quarter of a trivial
			     item's cost) */
	/* --tag: written before each line of the output (the item and a tab), or NULL. */
	const char *tag;
	size_t tag_len;
	bool line_start; /* the next byte begins a line */
};

/* Bytes of an output kept in memory before it spills; less than the RESULT ring takes. */
#define JOB_OUTPUT_MEM (1024u * 1024u)

void job_output_spill(struct job_output *o, const void *p, size_t n);
void job_output_write_tagged(struct job_output *o, const void *p, size_t n);
/* Append n bytes at p to the item's output, as they are. */
static inline void job_output_put(struct job_output *o, const void *p, size_t n)
{
	if (o->fd < 0 && o->mem.len + n <= JOB_OUTPUT_MEM && !o->err) {
		buf_append(&o->mem, p, n);
		o->len += n;
		if (n)
			o->last = ((const char *)p)[n - 1];
		return;
	}
	job_output_spill(o, p, n);
}
/* Append n bytes at p to the item's output (each line after the tag, with --tag). */
static inline void job_output_write(struct job_output *o, const void *p, size_t n)
{
	if (o->tag)
		job_output_write_tagged(o, p, n);
	else
		job_output_put(o, p, n);
}
/* Start an item's output: empty, in memory, spilling (if it must) to "SEQ.ATTEMPT" in the spool
 * directory. */
void job_output_reset(struct job_output *o, int spool_dirfd, uint64_t seq, uint32_t attempt);
/* The item is over: what waits is written to the spool file, which is closed. Returns true
 * when the output is in the file ("SEQ.ATTEMPT"), false when it is in mem. */
bool job_output_finish(struct job_output *o);
void job_output_free(struct job_output *o);

/* An item's stderr as kept for --results and the detail view: its first JOB_STDERR_MAX bytes,
 * and how many more were cut (the worker ends the kept part with a line that says so). Kept
 * apart from where stderr goes: the terminal or the dashboard still get all of it. */
struct job_stderr {
	struct buf mem;
	uint64_t cut; /* bytes written past JOB_STDERR_MAX */
};

#define JOB_STDERR_MAX (64u << 10)

/* Keep n bytes at p of the item's stderr (e may be NULL: nothing is kept). */
void job_stderr_write(struct job_stderr *e, const void *p, size_t n);
/* The item is over: the kept part gets its "[... N bytes cut]" line when bytes were cut. */
void job_stderr_finish(struct job_stderr *e);
void job_stderr_reset(struct job_stderr *e);

struct job_kind {
	const char *name;
	const char *summary; /* one line for --help */
	/* How the ":ARG" part is used: JOB_ARG_NONE rejects one, JOB_ARG_OPTIONAL and
	 * JOB_ARG_REQUIRED take a non-negative integer. */
	int arg;
	long long arg_default;
	/* Once per worker, before the first item: may set ctx->state. 0, or a negative errno
	 * (the worker then exits with status 1 after printing why). May be NULL. */
	int (*init)(const struct job *job, struct job_ctx *ctx);
	/* Once per item. Appends the item's output to out (job_output_write; the caller resets
	 * it between items). Returns the item's exit code: 0 success, N>0 the item failed with N
	 * and the worker lives on. A kind may also end the whole process (exit, abort, a signal):
	 * the item then ends with the process's exit code. */
	int (*run)(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		   struct job_output *out);
	/* Once, on a graceful exit: releases ctx->state. May be NULL. */
	void (*fini)(const struct job *job, struct job_ctx *ctx);
	/* A pipelined kind (persistent) has submit and collect instead of run. submit hands one
	 * item over (0, or a negative errno: the program is gone, and collect reports it);
	 * collect waits for the result of the oldest item submitted and returns its exit code,
	 * its output appended to out. The worker keeps up to job->in_flight items submitted. */
	int (*submit)(const struct job *job, struct job_ctx *ctx, const char *item, size_t len);
	int (*collect)(const struct job *job, struct job_ctx *ctx, struct job_output *out);
	/* The kind stops an item past --timeout itself (it runs the item in a child process and
	 * sets ctx->timed_out). Otherwise the parent stops the whole worker. */
	bool own_timeout;
};

enum { JOB_ARG_NONE, JOB_ARG_OPTIONAL, JOB_ARG_REQUIRED };

/* The fixed job spec: made in the parent, read-only everywhere after (see DESIGN). */
struct job {
	const struct job_kind *kind;
	long long arg;		/* builtin: the ":ARG" value, or the kind's default */
	struct template *cmd;	/* command, persistent: COMMAND [ARG...]; owned, see job_release */
	char *plugin;		/* plugin: the shared object's path; owned, see job_release */
	const char *plugin_arg; /* plugin: what follows ':' in FILE.so:ARG, or NULL */
	unsigned in_flight;	/* persistent: items handed to the program ahead of results */
	struct termseq termseq; /* how an item past --timeout is stopped */
	bool dry_run;		/* command: print the command line as its output, run nothing */
};

/* A worker's context: one process's state while it runs a job (see DESIGN). */
struct job_ctx {
	/* Set by the worker before init, fixed for the process. */
	int slot; /* the worker slot number, for messages */
	/* child_pid: where a kind publishes the pid of the process group running its item (0
	 * when none), for the dashboard and for the parent, which signals that group with the
	 * worker. timeout_ns: the --timeout in force, 0 when none; the parent may change it
	 * during the run (N% of the median). */
	_Atomic int32_t *child_pid;
	const _Atomic uint64_t *timeout_ns;
	/* For kinds that start processes (spawn.h): where a start being retried is reported, and
	 * where notices for the event log go (shm.h); waiting is called with waiting_data before a
	 * long wait, to publish the results the worker holds. */
	struct shm_start *start_report;
	struct shm_notes *notes;
	void (*waiting)(void *data);
	void *waiting_data;
	/* Where a failing init may write its one-line reason (NUL-terminated, at most why_len
	 * bytes with the NUL); left empty, the worker writes "KIND: strerror". */
	char *why;
	size_t why_len;
	/* The worker's stderr is its own (a pipe the parent keeps per slot), so a job's stderr
	 * may go there as it comes; otherwise it is shared with other workers, and each item's
	 * stderr goes in one write when the item ends, never interleaved. */
	bool stderr_private;
	/* Where the item's stderr is kept (job_stderr_write), besides going where stderr goes; the
	 * worker takes it when the item ends and starts it again, so what a kind writes between
	 * two items counts for the next one. NULL when nobody keeps it (unit tests). */
	struct job_stderr *item_err;

	/* The kind's own, between init and fini (a plugin's handle, a persistent program). */
	void *state;

	/* Set by the worker before each item: its sequence number (1, 2, ... in input order). */
	uint64_t seq;
	/* Set by an own_timeout kind after an item it stopped for running past the timeout. */
	bool timed_out;
	/* May be set by fini: the worker then leaves with this exit code rather than 0 (a
	 * persistent program's own exit code; -N: the worker ends itself with signal N). */
	int exit_status;
};

/* Release what a job made by job_command_new, job_persistent_new or job_plugin_new owns (a
 * builtin owns nothing). */
void job_release(struct job *job);

/* A plugin job: FILE.so[:ARG], checked here (the file loads, it exports pooltop_plugin_run);
 * loaded again in each worker. -ENOENT/-EINVAL with the reason in err. */
int job_plugin_new(const char *spec, struct job *job, char *err, size_t errlen);

/* A command-per-item job: argv is COMMAND [ARG...] with replacement strings (template.h).
 * When COMMAND itself holds none, it must be found in PATH (or be a path) and be executable:
 * -ENOENT or -EACCES otherwise, with "COMMAND: command not found" in err. */
int job_command_new(char *const *argv, struct job *job, char *err, size_t errlen);
/* A persistent job: COMMAND [ARG...] started once per worker, items on its stdin, one result
 * line per item on its stdout. Same checks as job_command_new. */
int job_persistent_new(char *const *argv, unsigned in_flight, struct job *job, char *err,
		       size_t errlen);

/* Look up "NAME" or "NAME:ARG" among the built-in kinds and fill *job (the rest zeroed).
 * Returns 0, or -EINVAL with a one-line reason in err ("unknown builtin 'x'",
 * "builtin 'sleep' needs a number of milliseconds, as sleep:MS"). */
int job_builtin_parse(const char *spec, struct job *job, char *err, size_t errlen);

/* The table of built-in kinds, for --help; ends with a NULL name. */
extern const struct job_kind job_builtin_kinds[];

#endif
