/* A run: input -> pool -> stdout, joblog and results. This file is the run itself (the pool's
 * callbacks, start, stop, close, the summary); batch_input.c feeds the pool, batch_files.c opens
 * and writes the three files, batch_output.c records each item once its output is written.
 *
 * DESIGN
 * Input streams with backpressure: an item is read only when the pool takes it; on -EAGAIN
 * reading stops (the poll handle is stopped) until the pool's space callback, so the parent
 * holds at most the pool's queue and one read buffer, whatever the input's length. Regular files
 * cannot be polled (epoll refuses them) and never block for long: they are read directly.
 * Sequence numbers are input positions (1-based), also for items skipped by --resume, so that a
 * joblog's Seq means the same line in every run.
 *
 * Output never blocks the loop (output.c): stdout, the joblog and the results file are each an
 * output, whose bytes a slow reader has not taken wait in a buffer; above OUTPUT_HIGH in any of
 * them no new item is submitted until the reader catches up (the same stop as a full pool).
 * A finished item is recorded (its joblog row, its results line, its count) only once its
 * output has been written to stdout (ledger.h): what the joblog calls done has its output.
 * When the pool has finished, the batch finishes once every buffer is written, or given up.
 * Each file reports its first write error once and is not written again; the others go on,
 * and so does the batch: a write error is a record of the file (batch_file.error), not a state.
 *
 * Stopping (batch_stop): join (no more input; what was read is finished), terminate (every
 * worker gets --term-seq), kill. After a terminate, output the reader has not taken waits
 * STOP_GRACE_MS at most once the pool has finished; after a kill it is given up at once: what
 * the fd takes without waiting (a file, /dev/null, a pipe with room) is written, the rest is
 * dropped, and the items it belonged to are left out of the joblog, so --resume runs them.
 *
 * Two state machines hold this together, each changed by one function that asserts the edge is
 * in its table: input_set (batch_input.c) and output_set (batch_output.c). Every other module
 * only reads them.
 *
 * The input (enum batch_input_state):
 *   READING      items are read and submitted; with nothing buffered, the fd is polled
 *   POOL_FULL    the pool refused the held item (-EAGAIN); the poll is stopped
 *   OUTPUT_FULL  a file's buffer is above OUTPUT_HIGH; the poll is stopped
 *   ENDED        the input is all read; the pool was told (pool_input_end)
 *   FAILED       reading failed; the pool was told, as at the end (the summary counts it as
 *                the input's end: the read error is said on its own)
 *   STOPPED      the pool takes no more (-EPIPE after a join or a stop), or it has finished
 * Edges, and who takes them:
 *   READING -> POOL_FULL, OUTPUT_FULL, ENDED, FAILED, STOPPED   the feed (batch_input_feed), the
 *                                                               poll callback (FAILED)
 *   POOL_FULL, OUTPUT_FULL -> READING    the feed, called by the pool's space callback and,
 *                                        once the files are below OUTPUT_HIGH again, by
 *                                        batch_output_settle
 *   READING, POOL_FULL, OUTPUT_FULL -> STOPPED   the pool's finished callback
 *   ENDED, FAILED, STOPPED: final.
 * The feed runs only in the first three (and not inside itself: a hook it calls may feed);
 * every call it makes that may re-enter the batch (a notice, a stop) is followed by a look at
 * the state again, since the pool may have finished under it.
 *
 * The output (enum batch_output_state), from the point of view of the readers:
 *   OPEN         the pool runs; outputs are written as the readers take them
 *   CLOSED_IDLE  stdout's reader left (EPIPE) when every output so far was written and no
 *                more was known to come (| head -n N of every item): nothing is lost yet, but
 *                the next item read would be, so reading one stops the batch (-> CLOSED)
 *   CLOSED       stdout's reader left with outputs to come: said once ("standard output was
 *                closed: stopping the batch"), the batch is terminated, the outputs left are
 *                recorded unwritten (the summary's output_closed)
 *   GIVEN_UP     the pool runs, but no reader is waited for: a kill, or batch_close before
 *                the end (output_give_up on every file)
 *   DRAINING     the pool has finished; the end waits for the readers to take what is
 *                buffered: for ever, or STOP_GRACE_MS after a terminate, or not at all after a
 *                kill (the outputs are given up, and the batch ends at once)
 *   DONE         every output written or dropped, the losses said, the finished hook called
 * Edges, and who takes them:
 *   OPEN -> CLOSED_IDLE, CLOSED    stdout's failed callback (EPIPE)
 *   CLOSED_IDLE -> CLOSED          the feed, on reading another item
 *   OPEN, CLOSED_IDLE, CLOSED -> GIVEN_UP    a kill (batch_stop), batch_close before the end
 *   OPEN, CLOSED_IDLE, CLOSED, GIVEN_UP -> DRAINING    the pool's finished callback
 *   DRAINING -> DONE               batch_output_settle, once nothing is pending: after every
 *                                  write, every loop iteration (the check handle), the grace
 *   DONE: final.
 * A reader leaving in GIVEN_UP, DRAINING or DONE moves no state, as nothing waits for a reader
 * any more: outputs still to come are said and recorded as for CLOSED (and the batch is
 * terminated); with none to come nothing is done, as no item can follow whose output would be
 * lost (after a kill the pool takes none, after batch_close the batch is going away, after the
 * pool's end none is read). The pool having finished is "DRAINING or DONE"
 * (batch_pool_finished); the batch is over at DONE.
 * Neither machine can stand in for the other: the input ends long before the output does, and
 * stdout's reader may leave while the input still reads. The input waits for the output only in
 * OUTPUT_FULL; the output ends only after the input (the pool finishes after its input).
 */
#include "batch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_internal.h"

/* --- notices --- */

static void batch_vnotice(struct batch *b, enum view_event_kind kind, bool error, const char *fmt,
			  va_list ap) __attribute__((format(printf, 4, 0)));

static void batch_vnotice(struct batch *b, enum view_event_kind kind, bool error, const char *fmt,
			  va_list ap)
{
	struct view_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.slot = -1;
	ev.time_ns = now_ns();
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	if (error && b->nerrors < VIEW_MAX_ERRORS)
		snprintf(b->errors[b->nerrors++], sizeof(b->errors[0]), "%s", ev.text);
	batch_events_write(b, &ev);
	if (b->hooks.event)
		b->hooks.event(b->hooks.data, &ev);
}

void batch_notice(struct batch *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, VIEW_EVENT_NOTICE, false, fmt, ap);
	va_end(ap);
}

void batch_error(struct batch *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, VIEW_EVENT_NOTICE, true, fmt, ap);
	va_end(ap);
}

void batch_feed_notice(struct batch *b, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, VIEW_EVENT_NOTICE, error, fmt, ap);
	va_end(ap);
}

void batch_feed_wake(struct batch *b)
{
	batch_input_feed(b);
}

static void batch_stop_notice(struct batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void batch_stop_notice(struct batch *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, VIEW_EVENT_STOP, false, fmt, ap);
	va_end(ap);
}

/* --- the pool's callbacks --- */

static void pool_result_cb(void *data, const struct pool_result *r)
{
	batch_output_record(data, r, r->truncated ? "output truncated" : NULL);
}

static void pool_event_cb(void *data, const struct view_event *ev)
{
	struct batch *b = data;
	batch_events_write(b, ev);
	if (b->hooks.event)
		b->hooks.event(b->hooks.data, ev);
}

static void pool_space_cb(void *data)
{
	batch_input_feed(data);
}

/* The pool finishes once, so this is called once (output_set asserts it). */
static void pool_finished_cb(void *data)
{
	struct batch *b = data;
	batch_input_stop(b);
	batch_output_pool_finished(b);
}

/* --- making one --- */

static struct batch *batch_alloc(uv_loop_t *loop, const struct config *cfg,
				 const struct run_settings *run, const struct job *job,
				 const struct batch_hooks *hooks, bool show_output)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->loop = loop;
	b->cfg = cfg;
	b->run = *run;
	b->job = *job;
	if (hooks)
		b->hooks = *hooks;
	b->show_output = show_output;
	b->in_state = INPUT_READING;
	b->out_state = OUTPUT_OPEN;
	b->in_fd = -1;
	if (b->run.feed)
		b->run.feed->batch = b;
	batch_files_init(b);
	return b;
}

/* The pool that runs the items, with the batch as its callbacks. */
static int batch_pool_new(struct batch *b, char *err, size_t errlen)
{
	const struct config *cfg = b->cfg;
	struct pool_config pc = {
		.workers = b->run.jobs,
		.job = b->job,
		.retries = cfg->retries,
		.max_items_per_worker = cfg->max_items_per_worker,
		.tag = cfg->tag,
		.join_timeout_ns = cfg->join_timeout_ns,
		.hang_after_ns = cfg->hang_after_ns,
		.timeout_ns = cfg->timeout_ns,
		.timeout_pct = cfg->timeout_pct,
		.delay_ns = cfg->delay_ns,
		.memfree_bytes = cfg->memfree_bytes,
		.worker_stderr_fd = -1,
		.spool_parent = getenv("TMPDIR"),
		.capture_stderr = b->run.capture_stderr,
	};
	struct pool_callbacks pcb = {
		.result = pool_result_cb,
		.event = pool_event_cb,
		.space = pool_space_cb,
		.finished = pool_finished_cb,
		.data = b,
	};
	int r;
	b->pool = pool_new(b->loop, &pc, &pcb, &r);
	if (!b->pool) {
		snprintf(err, errlen, "cannot set up the pool: %s", strerror(-r));
		return r;
	}
	return 0;
}

int batch_new(uv_loop_t *loop, const struct config *cfg, const struct run_settings *run,
	      const struct job *job, const struct batch_hooks *hooks, int out_fd, bool show_output,
	      struct batch **out, char *err, size_t errlen)
{
	struct batch *b = batch_alloc(loop, cfg, run, job, hooks, show_output);
	if (!b) {
		snprintf(err, errlen, "cannot start: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	int jl_fd = -1, res_fd = -1, ev_fd = -1;
	bool jl_created = false, res_created = false, ev_created = false;
	int r;
	/* Everything that can fail comes before anything is written: a bad start leaves an
	 * existing joblog or results file as it was and creates neither. */
	if ((r = batch_input_open(b, err, errlen)) < 0 ||
	    (r = batch_input_resume(b, err, errlen)) < 0 ||
	    (r = batch_files_open(b, show_output ? out_fd : -1, &jl_fd, &jl_created, &res_fd,
				  &res_created, &ev_fd, &ev_created, err, errlen)) < 0 ||
	    (r = batch_pool_new(b, err, errlen)) < 0 ||
	    (r = batch_files_prepare(b, &jl_fd, &res_fd, &ev_fd, err, errlen)) < 0)
		goto fail;
	/* All is well: from here nothing fails. */
	batch_input_init(b);
	batch_output_init(b);
	if (show_output)
		batch_files_stdout(b, out_fd);
	*out = b;
	return 0;

fail:
	batch_free(b);
	batch_files_abandon(cfg->events, ev_fd, ev_created);
	batch_files_abandon(cfg->results, res_fd, res_created);
	batch_files_abandon(cfg->joblog, jl_fd, jl_created);
	return r < 0 ? r : -EINVAL;
}

int batch_start(struct batch *b, char *err, size_t errlen)
{
	b->start_ns = now_ns();
	int r = pool_start(b->pool);
	if (r) {
		snprintf(err, errlen, "cannot start the workers: %s", uv_strerror(r));
		return r;
	}
	batch_output_start(b);
	batch_input_start(b);
	return 0;
}

/* --- what the front end reads --- */

struct pool *batch_pool(struct batch *b)
{
	return b->pool;
}

static int code_cmp(const void *x, const void *y)
{
	const struct view_code_count *a = x, *c = y;
	if (a->n != c->n)
		return a->n < c->n ? 1 : -1;
	return a->exitcode - c->exitcode;
}

void batch_summary(const struct batch *b, struct view_summary *s)
{
	memset(s, 0, sizeof(*s));
	struct view_totals t;
	pool_snapshot(b->pool, &t, NULL, 0);
	s->done = b->done;
	s->failed = b->failed;
	s->not_run = t.not_run;
	s->unwritten = b->unwritten;
	s->skipped = b->skipped;
	s->too_long = b->too_long;
	/* A read error ends the input too: the error is said on its own. */
	s->input_complete = b->in_state == INPUT_ENDED || b->in_state == INPUT_FAILED;
	s->terminated = b->stop >= VIEW_STOP_TERMINATE;
	s->halted = b->halted;
	s->halt_status = b->halt_status;
	s->output_closed = b->output_closed;
	s->write_error = b->write_error;
	s->read_error = b->read_error;
	const struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			s->dropped_bytes += output_dropped(files[i]->out);
	struct view_code_count codes[MAX_CODES];
	memcpy(codes, b->codes, b->ncodes * sizeof(codes[0]));
	qsort(codes, b->ncodes, sizeof(codes[0]), code_cmp);
	s->ncodes = MIN(b->ncodes, ARRAY_SIZE(s->codes));
	memcpy(s->codes, codes, s->ncodes * sizeof(codes[0]));
	s->other_codes = b->other_codes;
	for (size_t i = s->ncodes; i < b->ncodes; i++)
		s->other_codes += codes[i].n;
	const char *fatal = pool_fatal(b->pool);
	if (fatal)
		snprintf(s->fatal, sizeof(s->fatal), "%s", fatal);
	uint64_t end = b->end_ns ? b->end_ns : now_ns();
	s->elapsed = (double)(end - b->start_ns) / 1e9;
	s->rate = s->elapsed > 0 ? (double)(b->done + b->failed) / s->elapsed : 0;
	if (b->run.feed && b->run.feed->summary)
		b->run.feed->summary(b->run.feed->data, s);
}

unsigned batch_errors(const struct batch *b, const char *lines[VIEW_MAX_ERRORS])
{
	for (unsigned i = 0; i < b->nerrors; i++)
		lines[i] = b->errors[i];
	return b->nerrors;
}

void batch_failed(const struct batch *b, struct view_failed *f)
{
	*f = b->failed_items;
}

size_t batch_output_pending(const struct batch *b)
{
	return batch_files_pending(b);
}

bool batch_over(const struct batch *b)
{
	return b->out_state == OUTPUT_DONE;
}

bool batch_output_blocked(const struct batch *b)
{
	return b->in_state == INPUT_OUTPUT_FULL ||
	       (b->out_state == OUTPUT_DRAINING && batch_output_pending(b));
}

/* --- stopping and closing --- */

static const char *const stop_words[] = {
	[VIEW_STOP_NONE] = "",
	[VIEW_STOP_JOIN] =
		"joining all workers: no more input is read, the items read are finished "
		"(again: terminate)",
	[VIEW_STOP_DRAIN] = "draining: no new item starts, the running ones are finished "
			    "(again: terminate)",
	[VIEW_STOP_TERMINATE] = "terminating all workers (again: kill)",
	[VIEW_STOP_KILL] = "killing all workers",
};

void batch_stop(struct batch *b, enum view_stop how, const char *why)
{
	if (how <= b->stop)
		return;
	b->stop = how;
	if (why && !batch_pool_finished(b))
		batch_stop_notice(b, "%s: %s", why, stop_words[how]);
	switch (how) {
	case VIEW_STOP_NONE:
		return;
	case VIEW_STOP_JOIN:
		pool_join_all(b->pool);
		return;
	case VIEW_STOP_DRAIN:
		pool_drain(b->pool);
		return;
	case VIEW_STOP_TERMINATE:
		pool_terminate_all(b->pool);
		batch_output_stopping(b, how);
		return;
	case VIEW_STOP_KILL:
		pool_kill_all(b->pool);
		batch_output_stopping(b, how);
		return;
	}
}

enum view_stop batch_stopping(const struct batch *b)
{
	return b->stop;
}

void batch_handle_gone(struct batch *b)
{
	if (--b->open_handles == 0 && b->closed)
		b->closed(b->closed_data);
}

static void batch_pool_closed_cb(void *data)
{
	struct batch *b = data;
	batch_input_close(b);
	batch_output_close(b);
	batch_files_close(b);
}

void batch_close(struct batch *b, void (*closed)(void *data), void *data)
{
	b->closed = closed;
	b->closed_data = data;
	/* Abandoned before its end: nothing waits for anyone. */
	if (!batch_pool_finished(b))
		batch_output_abandon(b);
	pool_close(b->pool, batch_pool_closed_cb, b);
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	batch_input_free(b);
	batch_output_free(b);
	batch_files_free(b);
	pool_free(b->pool);
	free(b);
}
