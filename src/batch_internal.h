/* The batch's modules and what they share: the struct batch, the three files it writes, and the
 * calls the modules make into each other. Private to src/batch*.c; see the DESIGN comment in
 * batch.c. */
#ifndef POOLTOP_BATCH_INTERNAL_H
#define POOLTOP_BATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "batch.h"
#include "ledger.h"
#include "output.h"
#include "run.h"
#include "template.h"
#include "util.h"

struct input;
struct sources;
struct colsep;

#define MAX_CODES 64
/* After a terminate, how long output a reader has not taken may hold the end up. */
#define STOP_GRACE_MS 1000

/* -k: an item's output held until every earlier one is out, with its ledger entry and text
 * (its output, then its joblog row, then its results line, in data). */
struct reorder_entry {
	bool have;
	bool record; /* rec is to be entered once the output is appended (not a --resume skip) */
	char *data;
	size_t len;   /* of the output in data, or of the spool file */
	int spool_fd; /* the output in a spool file (ours), or -1 */
	struct ledger_entry rec;
};

/* One of the files written: stdout, the joblog, the results, the events. */
struct batch_file {
	struct batch *b;
	struct output *out; /* NULL when not written */
	const char *what;   /* "--joblog" */
	const char *path;
	int error; /* its first write error */
};

/* Where the items come from. */
enum batch_source {
	SOURCE_WORDS,	/* ::: ITEM... (run.items) */
	SOURCE_PRODUCT, /* several ::: and :::: sources: their combinations (b->sources) */
	SOURCE_DIRECT,	/* a regular file, a block device, or an fd that cannot be polled: read
			   directly, as it never blocks for long */
	SOURCE_POLLED,	/* a pipe, a terminal, a socket: read when the poll says it is readable */
	SOURCE_FEED,	/* run.feed: items from elsewhere, with a wake when there are more */
};

/* The input's state machine and the output's: see the DESIGN comment in batch.c. */
enum batch_input_state {
	INPUT_READING,	   /* items are read as the pool takes them (or the fd is waited on) */
	INPUT_POOL_FULL,   /* the pool refused the held item: until its space callback */
	INPUT_OUTPUT_FULL, /* a file's buffer is above OUTPUT_HIGH: until the reader takes it */
	INPUT_ENDED,	   /* every item was read; the pool was told */
	INPUT_FAILED,	   /* reading failed: no more items; the pool was told, as at the end */
	INPUT_STOPPED,	   /* the pool takes no more items (a stop), or has finished */
};

enum batch_output_state {
	OUTPUT_OPEN,	    /* outputs are written as they come; slow readers are waited for */
	OUTPUT_CLOSED_IDLE, /* stdout's reader left after taking every output: the next item
			       read would be lost, so it stops the batch */
	OUTPUT_CLOSED,	    /* stdout's reader left with outputs to come: the batch is stopping */
	OUTPUT_GIVEN_UP,    /* no reader is waited for (a kill, or a close before the end) */
	OUTPUT_DRAINING,    /* the pool has finished: the end waits for the readers */
	OUTPUT_DONE,	    /* every output written or dropped; the finished hook was called */
};

/* An item read that the pool has not taken yet. */
struct batch_held {
	const char *item; /* borrowed from the source until the next item is read */
	size_t len;
	uint64_t seq; /* 0 when none is held */
};

struct batch {
	uv_loop_t *loop;
	const struct config *cfg;
	struct run_settings run;
	struct job job;
	struct batch_hooks hooks;
	struct pool *pool;

	/* input (batch_input.c) */
	enum batch_input_state in_state; /* changed only by input_set */
	enum batch_source source;
	int in_fd;
	bool in_owned;
	struct input *in; /* the splitter, NULL for ::: words */
	uv_poll_t in_poll;
	uv_idle_t in_idle;	 /* the first read, from the loop */
	size_t next_arg;	 /* ::: words */
	struct sources *sources; /* several sources, else NULL */
	uint64_t ncombos;	 /* their combinations */
	uint64_t next_combo;
	struct colsep *colsep; /* --colsep, else NULL */
	struct buf combo;      /* the combination held: its values joined by combo_sep */
	char combo_sep;	       /* NUL for a command (its template splits them), else a space */
	bool feeding;	       /* batch_input_feed is running: a call from inside it returns */
	struct batch_held held;

	/* --resume */
	uint64_t *skip; /* a bit per sequence number */
	size_t skip_words;

	/* output (batch_files.c, batch_output.c) */
	enum batch_output_state out_state; /* changed only by output_set */
	bool show_output;
	struct batch_file stdout_f, joblog_f, results_f, events_f;
	uint64_t appended;    /* bytes appended to stdout, ever: the ledger's positions */
	struct ledger ledger; /* finished items waiting for their output to be written */
	size_t ro_held;	      /* -k: outputs held in ro */
	uv_timer_t grace;     /* STOP_GRACE_MS after the pool finished stopping */
	struct reorder_entry *ro;
	size_t ro_cap;
	uint64_t ro_next;
	uv_check_t flush_check;
	struct buf line;	      /* scratch: a joblog's Command */
	struct buf jl_text, res_text; /* scratch: an item's joblog row and results line */
	struct buf spool_text;	      /* scratch: a spooled output read into memory */
	struct buf ev_text;	      /* scratch: an event's --events line */
	struct template_args args;    /* the joblog's Command for command kinds */
	struct buf res_item;	      /* scratch: --results' item of several sources */
	const char **res_cols;	      /* scratch: --results' columns */
	size_t *res_col_lens;
	size_t res_col_cap;
	struct buf res_split; /* scratch: --colsep's columns of a line */

	/* outcomes, for the summary and the exit status */
	uint64_t done, failed, skipped, too_long;
	uint64_t unwritten; /* of done and failed: their output was never written */
	struct view_code_count codes[MAX_CODES];
	size_t ncodes;
	uint64_t other_codes;
	bool output_closed; /* stdout's reader left with outputs to come (OUTPUT_CLOSED, kept
			       once the state has moved on) */
	int write_error;    /* the first write error of any file */
	int read_error;	    /* reading the items failed */
	char errors[VIEW_MAX_ERRORS][240]; /* their lines, for batch_errors */
	unsigned nerrors;
	struct view_failed failed_items; /* for batch_failed */

	uint64_t start_ns, end_ns;
	enum view_stop stop;
	bool halted;	   /* --halt's condition was met */
	bool halt_pending; /* ...and the stop is to be made once the records are written */
	char halt_why[160];
	int halt_status; /* the exit status it gives: the failed item's, or 0 */
	int open_handles;
	void (*closed)(void *data);
	void *closed_data;
};

#define BATCH_FILES(b)                                                                             \
	{                                                                                          \
		&(b)->stdout_f, &(b)->joblog_f, &(b)->results_f, &(b)->events_f                    \
	}

/* Whether the pool has finished: the output machine has left the states of a running pool. */
static inline bool batch_pool_finished(const struct batch *b)
{
	return b->out_state == OUTPUT_DRAINING || b->out_state == OUTPUT_DONE;
}

/* --- batch.c --- */

/* A notice to the front end (an event); batch_error's is also kept for batch_errors. */
void batch_notice(struct batch *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void batch_error(struct batch *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One of the batch's loop handles is closed (batch_close counts them down). */
void batch_handle_gone(struct batch *b);

/* --- batch_input.c: the items, fed to the pool as it takes them --- */

/* Open the input (-a FILE or stdin; nothing for ::: words) and check it. 0, or a negative errno
 * with the message in err. */
int batch_input_open(struct batch *b, char *err, size_t errlen);
/* --resume, --resume-failed: the items the joblog says need not run again. 0, or a negative errno
 * with the message in err (a missing joblog is a first run: 0). */
int batch_input_resume(struct batch *b, char *err, size_t errlen);
/* Once the pool is made: the splitter and the loop handles. Never fails (an fd that cannot be
 * polled is read directly). */
void batch_input_init(struct batch *b);
/* Read the first items (from the loop, once batch_start returns). */
void batch_input_start(struct batch *b);
/* Take items from the input into the pool while it has room and the outputs are not full: from
 * INPUT_POOL_FULL when the pool has room again, from INPUT_OUTPUT_FULL when the files have. */
void batch_input_feed(struct batch *b);
/* The files' buffers went down: the input goes on if it waited for them. */
void batch_input_output_drained(struct batch *b);
/* Whether the input has not ended (it reads, or waits for the pool or the outputs). */
bool batch_input_live(const struct batch *b);
/* The pool has finished: read nothing more. */
void batch_input_stop(struct batch *b);
/* Close the input's loop handles (batch_handle_gone for each). */
void batch_input_close(struct batch *b);
/* Release the input (closes the file when it is ours). */
void batch_input_free(struct batch *b);

/* --- batch_files.c: stdout, the joblog, the results file and the events file --- */

/* Whether f is written and its last write did not fail. */
bool batch_file_writable(const struct batch_file *f);
void batch_file_append(struct batch_file *f, const char *p, size_t n);
/* A file's first write error: said once; from then on the file is not written. */
void batch_file_failed(struct batch_file *f, int err);
/* Whether any file's buffer is above OUTPUT_HIGH; the bytes waiting in all of them. */
bool batch_files_full(const struct batch *b);
size_t batch_files_pending(const struct batch *b);
/* Write what each file's fd takes now. */
void batch_files_flush(struct batch *b);
/* Name the three files (before anything can fail, so that batch_free finds them). */
void batch_files_init(struct batch *b);
/* Open the joblog (*jl_fd), the results file (*res_fd) and the events file (*ev_fd) for
 * writing, each -1 when not asked for, their contents untouched, and check that the input,
 * stdout (out_fd, -1 when not written) and they are different files. 0, or a negative errno with
 * the message in err; the fds opened are then still set, for batch_files_abandon. */
int batch_files_open(struct batch *b, int out_fd, int *jl_fd, bool *jl_created, int *res_fd,
		     bool *res_created, int *ev_fd, bool *ev_created, char *err, size_t errlen);
/* Now that nothing else can fail: make the files ready (a joblog truncated, or its cut-short
 * last line cut off) and write them from the loop from now on; jl_fd, res_fd and ev_fd are
 * taken (set to -1) when this returns 0. */
int batch_files_prepare(struct batch *b, int *jl_fd, int *res_fd, int *ev_fd, char *err,
			size_t errlen);
/* --events: ev as one JSON line (see batch_events_format), written from the loop. */
void batch_events_write(struct batch *b, const struct view_event *ev);
/* Write stdout to out_fd (borrowed) from now on. */
void batch_files_stdout(struct batch *b, int out_fd);
/* An output file when the start failed: its fd closed (if still ours), the file removed if
 * this run made it. */
void batch_files_abandon(const char *path, int fd, bool created);
/* Close the files' loop handles (batch_handle_gone for each). */
void batch_files_close(struct batch *b);
void batch_files_free(struct batch *b);

/* --- batch_output.c: results recorded once their output is written --- */

/* A finished item: its output to stdout (held first with -k), its joblog row and results line
 * into the ledger, recorded once the output is written. error: the results' error, or NULL. */
void batch_output_record(struct batch *b, const struct pool_result *r, const char *error);
/* -k: an item skipped by --resume keeps its place in the order. */
void batch_output_skipped(struct batch *b, uint64_t seq);
/* An item was read after stdout's reader left (OUTPUT_CLOSED_IDLE), or the reader left with
 * outputs to come: say so and stop the batch (a terminate). */
void batch_output_stdout_lost(struct batch *b);
/* Whether the outputs let the batch go on (feeding, finishing): the ledger committed, the
 * input resumed when it waited for the outputs, the end when all is written. */
void batch_output_settle(struct batch *b);
/* The output callbacks of every file (data: its struct batch_file). */
void batch_output_progress_cb(void *data);
void batch_output_failed_cb(void *data, int err);
/* Set up the loop handles; start writing from the loop. */
void batch_output_init(struct batch *b);
void batch_output_start(struct batch *b);
/* The pool has finished: what -k holds goes out, and the batch ends once the readers have taken
 * the rest (after a stop, STOP_GRACE_MS at most; after a kill, at once). */
void batch_output_pool_finished(struct batch *b);
/* A stop of the batch (batch_stop): a terminate starts the grace if the outputs drain already; a
 * kill gives them up. */
void batch_output_stopping(struct batch *b, enum view_stop how);
/* The batch is abandoned before its end: nothing waits for any reader. */
void batch_output_abandon(struct batch *b);
/* Close the output's loop handles (batch_handle_gone for each). */
void batch_output_close(struct batch *b);
void batch_output_free(struct batch *b);

#endif
