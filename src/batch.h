/* A run: items from the input (stdin, -a FILE or ::: ITEM...) through the pool, and their
 * results to stdout (as they complete, or in input order with -k), the joblog and the results
 * file; --resume skips what a joblog says is finished. The view model (view_local.c) serves it
 * to the front ends, which never see the batch, its pool, its input or its files. */
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

/* Items from elsewhere instead of the input: this machine as a host of a batch across machines
 * (cluster_host.c). The batch runs what it is given and hands back each result. */
struct batch_feed {
	/* The next item: 1 with *item, *len (borrowed until the next call) and *seq set; 0 when
	 * none is here now (the feed calls batch_feed_wake when there is); -ENODATA when no more
	 * will ever come. */
	int (*next)(void *data, const char **item, size_t *len, uint64_t *seq);
	/* An item finished: r, its --results line (record, with its newline) and its joblog
	 * Command (command), all borrowed for the call. */
	void (*result)(void *data, const struct pool_result *r, const char *record,
		       size_t record_len, const char *command, size_t command_len);
	/* The summary as the batch counts it, for the feed to amend (the whole batch's counts,
	 * why the host stopped). May be NULL. */
	void (*summary)(void *data, struct view_summary *s);
	void *data;
	struct batch *batch; /* set by batch_new */
};
/* The feed has items again after its next answered 0. */
void batch_feed_wake(struct batch *b);
/* A notice from the feed to the front end (error: kept for batch_errors too). */
void batch_feed_notice(struct batch *b, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct batch_hooks {
	/* Something happened (the pool's events, and the batch's own: an item too long...). */
	void (*event)(void *data, const struct view_event *ev);
	/* An item finished, with its exit code (as recorded: after its output). May be NULL. */
	void (*item)(void *data, uint64_t seq, int exitcode);
	/* The batch is over: every item finished or abandoned, every worker gone, files flushed. */
	void (*finished)(void *data);
	void *data;
};

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
/* The batch in numbers (summary.fatal: the pool's reason for giving up, or ""). */
void batch_summary(const struct batch *b, struct view_summary *s);
/* The run's errors so far, one line each without "pooltop: " (a file that could not be written,
 * the items that could not be read, stdout closed), also sent as notices when they happened:
 * for a front end that could not show those then (the dashboard, -q). lines[i] are borrowed
 * until batch_free. Returns how many. */
unsigned batch_errors(const struct batch *b, const char *lines[VIEW_MAX_ERRORS]);
/* The items that failed for good so far: the first VIEW_FAILED_KEPT, and how many in all. */
void batch_failed(const struct batch *b, struct view_failed *f);
/* Output waiting for a slow reader of stdout, in bytes. */
size_t batch_output_pending(const struct batch *b);
/* True while a slow reader of stdout holds the batch up: no new item is taken until it reads,
 * or the pool has finished and the batch waits for it to take the rest. */
bool batch_output_blocked(const struct batch *b);
/* True once the batch is over (the finished hook was called). */
bool batch_over(const struct batch *b);
/* Stop the batch at least as hard as how (enum view_stop: join, terminate, kill; a weaker stop
 * than the one in force does nothing). why begins the event that says so ("SIGTERM:
 * terminating all workers"); NULL when the caller has said why itself. Output given up is
 * written as far as the fd takes it without waiting; the items whose output was dropped are
 * left out of the joblog, so --resume runs them. */
void batch_stop(struct batch *b, enum view_stop how, const char *why);
enum view_stop batch_stopping(const struct batch *b);
/* Close everything (kills workers still alive); closed(data) when done, then batch_free. */
void batch_close(struct batch *b, void (*closed)(void *data), void *data);
void batch_free(struct batch *b);

#endif
