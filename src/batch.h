/* A run: items from the input (stdin, -a FILE or ::: ITEM...) through the pool, and their
 * results to stdout (as they complete, or in input order with -k), the joblog and the results
 * file; --resume skips what a joblog says is finished. The front ends drive a batch and read its
 * pool; they never see the input or the files. */
#ifndef POOLTOP_BATCH_H
#define POOLTOP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cli.h"
#include "pool.h"

struct batch;
struct run_settings;

struct batch_hooks {
	/* Something happened (the pool's events, and the batch's own: an item too long...). */
	void (*event)(void *data, const struct pool_event *ev);
	/* The batch is over: every item finished or abandoned, every worker gone, files flushed. */
	void (*finished)(void *data);
	void *data;
};

struct batch_code_count {
	int exitcode;
	uint64_t n;
};

struct batch_summary {
	uint64_t done, failed, not_run, skipped, too_long;
	uint64_t unwritten;  /* of done and failed: their output never reached stdout, so they
				are not in the joblog */
	bool input_complete; /* all of the input was read */
	struct batch_code_count codes[16]; /* failures by exit code, most frequent first */
	size_t ncodes;
	uint64_t other_codes;	/* failures with codes beyond the first 16 */
	double elapsed;		/* seconds */
	double rate;		/* items per second */
	bool output_closed;	/* stdout went away (EPIPE): the batch was stopped */
	int write_error;	/* the first -errno writing stdout, the joblog or results, or 0 */
	int read_error;		/* the -errno that stopped reading the items, or 0 */
	uint64_t dropped_bytes; /* output given up when a reader did not take it (a stop) */
};

/* At most this many lines kept by batch_errors. */
#define BATCH_MAX_ERRORS 8

/* A batch for cfg running job, with the workers and the items run says (copied; the items
 * are borrowed). Opens the input and the files; reads the joblog for --resume.
 * Returns 0, or a negative errno with a one-line message in err ("--joblog x: Permission
 * denied"). Items are written to out_fd (usually 1) when show_output. */
int batch_new(uv_loop_t *loop, const struct config *cfg, const struct run_settings *run,
	      const struct job *job, const struct batch_hooks *hooks, int out_fd, bool show_output,
	      struct batch **out, char *err, size_t errlen);
/* Start the workers and the reading. 0 or a negative errno (message in err). */
int batch_start(struct batch *b, char *err, size_t errlen);
struct pool *batch_pool(struct batch *b);
void batch_summary(const struct batch *b, struct batch_summary *s);
/* GNU parallel's rule: 0 all done; 1-100 the number of failed (or not run) items; 101 more;
 * 255 when all were done but a file could not be written, stdout was closed (the items not read
 * cannot be counted), output was dropped or the input could not be read. */
int batch_exit_status(const struct batch *b);
/* The run's errors so far, one line each without "pooltop: " (a file that could not be written,
 * the items that could not be read, stdout closed), also sent as notices when they happened:
 * for a front end that could not show those then (the dashboard, -q). lines[i] are borrowed
 * until batch_free. Returns how many. */
unsigned batch_errors(const struct batch *b, const char *lines[BATCH_MAX_ERRORS]);
/* Output waiting for a slow reader of stdout, in bytes. */
size_t batch_output_pending(const struct batch *b);
/* True while a slow reader of stdout holds the batch up: no new item is taken until it reads,
 * or the pool has finished and the batch waits for it to take the rest. */
bool batch_output_blocked(const struct batch *b);
/* How a batch is stopped, weakest first. */
enum batch_stop {
	BATCH_RUN,	 /* not stopped */
	BATCH_JOIN,	 /* read no more input; the items read are finished (a running item is
			    stopped past --join-timeout, see pool_join_all) */
	BATCH_TERMINATE, /* every worker gets --term-seq; items never started are not run; output
			    a reader has not taken waits a second at most once the pool ends */
	BATCH_KILL,	 /* SIGKILL every worker; output a reader has not taken is given up */
};
/* Stop the batch at least as hard as how (a weaker stop than the one in force does nothing).
 * why begins the event that says so ("SIGTERM: terminating all workers"); NULL when the caller
 * has said why itself.
 * Output given up is written as far as the fd takes it without waiting; the items whose
 * output was dropped are left out of the joblog and --results, so --resume runs them. */
void batch_stop(struct batch *b, enum batch_stop how, const char *why);
/* One step harder than the stop in force, and at least first: Ctrl-C is first=BATCH_JOIN
 * (join, terminate, kill), SIGTERM first=BATCH_TERMINATE (terminate, kill). Returns the stop
 * now in force. */
enum batch_stop batch_escalate(struct batch *b, enum batch_stop first, const char *why);
enum batch_stop batch_stopping(const struct batch *b);
/* Close everything (kills workers still alive); closed(data) when done, then batch_free. */
void batch_close(struct batch *b, void (*closed)(void *data), void *data);
void batch_free(struct batch *b);

#endif
