/* A run: input -> pool -> stdout, joblog and results.
 *
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
 * and so does the batch.
 *
 * Stopping (batch_stop): join (no more input; what was read is finished), terminate (every
 * worker gets --term-seq), kill. After a terminate, output the reader has not taken waits
 * STOP_GRACE_MS at most once the pool has finished; after a kill it is given up at once: what
 * the fd takes without waiting (a file, /dev/null, a pipe with room) is written, the rest is
 * dropped, and the items it belonged to are left out of the joblog, so --resume runs them. */
#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "input.h"
#include "joblog.h"
#include "ledger.h"
#include "output.h"
#include "results.h"
#include "run.h"
#include "template.h"

#define MAX_CODES 64
/* Bytes of a spooled output a --results record holds (its first ones). */
#define RESULTS_SPOOL_MAX (1024 * 1024)
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

/* One of the three files written: stdout, the joblog, the results. */
struct batch_file {
	struct batch *b;
	struct output *out; /* NULL when not written */
	const char *what;   /* "--joblog" */
	const char *path;
	int error; /* its first write error */
};

struct batch {
	uv_loop_t *loop;
	const struct config *cfg;
	struct run_settings run;
	struct job job;
	struct batch_hooks hooks;
	struct pool *pool;

	/* input */
	int in_fd;
	bool in_owned;
	bool in_file; /* a regular file: read directly, not polled */
	struct input *in;
	uv_poll_t in_poll;
	bool in_poll_init, in_polling;
	uv_idle_t in_idle;
	size_t next_arg; /* ::: items */
	bool input_eof, input_stopped, feeding;
	bool have_item;
	const char *item;
	size_t item_len;
	uint64_t item_seq;

	/* --resume */
	uint64_t *skip; /* a bit per sequence number */
	size_t skip_words;

	/* output */
	bool show_output;
	struct batch_file stdout_f, joblog_f, results_f;
	uint64_t appended;    /* bytes appended to stdout, ever: the ledger's positions */
	struct ledger ledger; /* finished items waiting for their output to be written */
	bool output_closed;   /* stdout's reader left while outputs were still to come */
	bool out_idle_closed; /* ...left after every output was written: fine unless more come */
	bool out_throttled;   /* feeding stopped: an output buffer is full */
	size_t ro_held;	      /* -k: outputs held in ro */
	bool draining;	      /* the pool has finished; the output buffers have not */
	bool gave_up;	      /* output was given up (batch_give_up) */
	uv_timer_t grace;     /* STOP_GRACE_MS after the pool finished stopping */
	struct reorder_entry *ro;
	size_t ro_cap;
	uint64_t ro_next;
	uv_check_t flush_check;
	int write_error;		   /* the first write error of any file */
	int read_error;			   /* reading the items failed */
	char errors[VIEW_MAX_ERRORS][240]; /* their lines, for batch_errors */
	unsigned nerrors;
	struct buf line;	      /* scratch: a joblog's Command */
	struct buf jl_text, res_text; /* scratch: an item's joblog row and results line */
	struct buf spool_text;	      /* scratch: a spooled output read into memory */
	struct template_args args;    /* the joblog's Command for command kinds */

	/* counts: of items recorded, and of those whose output was never written */
	uint64_t done, failed, skipped, too_long, unwritten;
	struct view_code_count codes[MAX_CODES];
	size_t ncodes;
	uint64_t other_codes;
	uint64_t start_ns, end_ns;
	enum view_stop stop;
	bool finished;
	int open_handles;
	void (*closed)(void *data);
	void *closed_data;
};

static void batch_feed(struct batch *b);

static void batch_vnotice(struct batch *b, enum view_event_kind kind, bool error, const char *fmt,
			  va_list ap) __attribute__((format(printf, 4, 0)));
static void batch_notice(struct batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void batch_error(struct batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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
	if (b->hooks.event)
		b->hooks.event(b->hooks.data, &ev);
}

static void batch_notice(struct batch *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, VIEW_EVENT_NOTICE, false, fmt, ap);
	va_end(ap);
}

/* A notice that is also kept for batch_errors. */
static void batch_error(struct batch *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, VIEW_EVENT_NOTICE, true, fmt, ap);
	va_end(ap);
}

/* --- --resume --- */

static bool skip_has(const struct batch *b, uint64_t seq)
{
	uint64_t w = seq / 64;
	return w < b->skip_words && (b->skip[w] >> (seq % 64) & 1);
}

static void skip_add(struct batch *b, uint64_t seq)
{
	uint64_t w = seq / 64;
	if (w >= b->skip_words) {
		size_t n = MAX(w + 1, b->skip_words * 2);
		b->skip = xrealloc(b->skip, n * sizeof(*b->skip));
		memset(b->skip + b->skip_words, 0, (n - b->skip_words) * sizeof(*b->skip));
		b->skip_words = n;
	}
	b->skip[w] |= 1ULL << (seq % 64);
}

static int resume_row_cb(void *data, const struct joblog_row *row)
{
	struct batch *b = data;
	if (b->cfg->resume_failed && (row->exitval != 0 || row->signal != 0))
		return 0; /* a failure: run it again */
	skip_add(b, row->seq);
	return 0;
}

/* --- the files --- */

static void batch_try_finish(struct batch *b);

#define BATCH_FILES(b)                                                                             \
	{                                                                                          \
		&(b)->stdout_f, &(b)->joblog_f, &(b)->results_f                                    \
	}

/* Whether f is written and its last write did not fail. */
static bool file_writable(const struct batch_file *f)
{
	return f->out && !f->error;
}

static void file_append(struct batch_file *f, const char *p, size_t n)
{
	if (file_writable(f))
		output_append(f->out, p, n);
}

static bool batch_out_full(const struct batch *b)
{
	const struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out && output_full(files[i]->out))
			return true;
	return false;
}

static size_t batch_out_pending(const struct batch *b)
{
	const struct batch_file *files[] = BATCH_FILES(b);
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			n += output_pending(files[i]->out);
	return n;
}

/* Stdout will write nothing more: a write failed, its reader left, or it was given up and
 * had to drop something. */
static bool stdout_dead(const struct batch *b)
{
	const struct output *o = b->stdout_f.out;
	return o && (output_failed(o) || output_dropped(o));
}

static void record_code(struct batch *b, int code)
{
	for (size_t i = 0; i < b->ncodes; i++) {
		if (b->codes[i].exitcode == code) {
			b->codes[i].n++;
			return;
		}
	}
	if (b->ncodes < MAX_CODES)
		b->codes[b->ncodes++] = (struct view_code_count){.exitcode = code, .n = 1};
	else
		b->other_codes++;
}

/* Record what the ledger holds whose output is written. Once stdout is dead, what it still
 * holds never will be: those items are counted, in --results with "stdout_written": false
 * (the record holds the output), and left out of the joblog, so --resume runs them again. */
static void batch_commit(struct batch *b)
{
	uint64_t written = b->stdout_f.out ? output_written(b->stdout_f.out) : UINT64_MAX;
	bool dead = stdout_dead(b);
	struct ledger_entry e;
	const char *jl, *res;
	while (ledger_take(&b->ledger, dead ? UINT64_MAX : written, &e, &jl, &res)) {
		if (e.done) {
			b->done++;
		} else {
			b->failed++;
			record_code(b, e.exitcode);
		}
		if (b->hooks.item)
			b->hooks.item(b->hooks.data, e.seq, e.exitcode);
		if (e.end <= written) {
			file_append(&b->joblog_f, jl, e.joblog_len);
			file_append(&b->results_f, res, e.results_len);
			continue;
		}
		b->unwritten++;
		if (e.results_len && file_writable(&b->results_f)) {
			buf_reset(&b->res_text);
			results_format_unwritten(&b->res_text, res, e.results_len);
			file_append(&b->results_f, b->res_text.data, b->res_text.len);
		}
	}
}

/* A file's first write error: said once; from then on the file is not written. */
static void file_failed(struct batch_file *f, int err)
{
	struct batch *b = f->b;
	if (f->error)
		return;
	f->error = err;
	if (!b->write_error)
		b->write_error = err;
	batch_error(b, "%s %s: %s (further rows are not written)", f->what, f->path,
		    strerror(-err));
}

/* Whether the outputs let the batch go on (feeding, finishing). */
static void out_settle(struct batch *b)
{
	batch_commit(b);
	if (b->out_throttled && !batch_out_full(b)) {
		b->out_throttled = false;
		batch_feed(b);
	}
	batch_try_finish(b);
}

static void out_progress_cb(void *data)
{
	struct batch_file *f = data;
	out_settle(f->b);
}

/* Whether every output still to come is known to be none: stdout's reader may leave then
 * without loss. */
static bool batch_outputs_all_written(struct batch *b)
{
	return ledger_len(&b->ledger) == 0 && !b->have_item && !pool_busy(b->pool) &&
	       b->ro_held == 0;
}

static void out_failed_cb(void *data, int err)
{
	struct batch_file *f = data;
	struct batch *b = f->b;
	if (f != &b->stdout_f) {
		file_failed(f, err);
		out_settle(b);
		return;
	}
	if (err == -EPIPE) {
		/* Whatever its writes took before is recorded first. */
		b->stdout_f.error = err;
		batch_commit(b);
		if (batch_outputs_all_written(b)) {
			/* A reader that took everything and left (| head -n N): nothing is lost
			 * unless more input comes (batch_feed sees to that). */
			b->out_idle_closed = true;
		} else {
			b->output_closed = true;
			batch_error(b, "standard output was closed: stopping the batch");
			batch_stop(b, VIEW_STOP_TERMINATE, NULL);
		}
	} else {
		if (!b->write_error)
			b->write_error = err;
		b->stdout_f.error = err;
		if (err == -EBADF)
			batch_error(b, "standard output is closed: the outputs are not written");
		else
			batch_error(b,
				    "writing standard output: %s (further output is not written)",
				    strerror(-err));
	}
	out_settle(b);
}

/* Append an item's output to stdout (n bytes at p, or of spool_fd, taken, when not -1); its
 * record waits in the ledger until that is written. */
static void out_item(struct batch *b, const char *p, size_t n, int spool_fd,
		     struct ledger_entry *rec, const char *jl, const char *res)
{
	if (spool_fd >= 0 && b->stdout_f.out) {
		output_append_file(b->stdout_f.out, spool_fd, n);
		b->appended += n;
	} else if (spool_fd >= 0) {
		close(spool_fd);
	} else if (n && b->stdout_f.out) {
		output_append(b->stdout_f.out, p, n);
		b->appended += n;
	}
	if (rec) {
		rec->end = b->appended;
		ledger_add(&b->ledger, rec, jl, res);
	}
}

/* -k: a held output goes out, its record into the ledger. */
static void reorder_release(struct batch *b, struct reorder_entry *e)
{
	size_t mem = e->spool_fd >= 0 ? 0 : e->len;
	out_item(b, e->data, e->len, e->spool_fd, &e->rec, e->data + mem,
		 e->data + mem + e->rec.joblog_len);
	e->spool_fd = -1;
}

/* -k: hold outputs until every earlier sequence number has finished. rec (with its text jl and
 * res) is NULL for an item skipped by --resume; spool_fd (taken) holds an output of n bytes
 * too large for memory, or is -1. */
static void reorder_put(struct batch *b, uint64_t seq, const char *p, size_t n, int spool_fd,
			const struct ledger_entry *rec, const char *jl, const char *res)
{
	if (seq < b->ro_next)
		return;
	if (seq - b->ro_next >= b->ro_cap) {
		size_t cap = b->ro_cap ? b->ro_cap : 256;
		while (seq - b->ro_next >= cap)
			cap *= 2;
		struct reorder_entry *ro = xcalloc(cap, sizeof(*ro));
		for (size_t i = 0; i < b->ro_cap; i++) {
			uint64_t s = b->ro_next + i;
			ro[s % cap] = b->ro[s % b->ro_cap];
		}
		free(b->ro);
		b->ro = ro;
		b->ro_cap = cap;
	}
	struct reorder_entry *e = &b->ro[seq % b->ro_cap];
	e->have = true;
	e->len = n;
	e->spool_fd = spool_fd;
	b->ro_held++;
	if (rec) {
		/* The output (unless spooled), then the row and the line. */
		size_t mem = spool_fd >= 0 ? 0 : n;
		e->record = true;
		e->rec = *rec;
		size_t total = mem + rec->joblog_len + rec->results_len;
		e->data = xmalloc(total ? total : 1);
		/* Any of the three may be empty, and then NULL. */
		if (mem)
			memcpy(e->data, p, mem);
		if (rec->joblog_len)
			memcpy(e->data + mem, jl, rec->joblog_len);
		if (rec->results_len)
			memcpy(e->data + mem + rec->joblog_len, res, rec->results_len);
	}
	while (b->ro_cap && b->ro[b->ro_next % b->ro_cap].have) {
		e = &b->ro[b->ro_next % b->ro_cap];
		if (e->record)
			reorder_release(b, e);
		free(e->data);
		memset(e, 0, sizeof(*e));
		b->ro_next++;
		b->ro_held--;
	}
}

/* At the end: what is still held (after items that never finished) goes out in order. */
static void reorder_drain(struct batch *b)
{
	for (size_t i = 0; i < b->ro_cap; i++) {
		struct reorder_entry *e = &b->ro[(b->ro_next + i) % b->ro_cap];
		if (e->have && e->record)
			reorder_release(b, e);
		free(e->data);
		memset(e, 0, sizeof(*e));
	}
	b->ro_held = 0;
}

/* The joblog's Command: the command line a command kind ran, quoted as a shell would read it
 * back; for the other kinds what ran and the item. */
static void batch_command_line(struct batch *b, const struct pool_result *r, struct buf *line)
{
	buf_reset(line);
	if (b->job.cmd && !b->job.kind->submit && !memchr(r->item, '\0', r->item_len)) {
		template_expand(b->job.cmd, r->item, r->item_len, r->seq,
				r->slot >= 0 ? (unsigned)r->slot : 0, &b->args);
		template_quote_argv(line, b->args.argv);
		return;
	}
	if (b->job.cmd) {
		template_quote_argv(line, b->cfg->command);
		buf_putc(line, ' ');
	} else if (b->job.plugin) {
		buf_printf(line, "%s ", b->cfg->plugin);
	} else {
		buf_printf(line, "%s ", b->cfg->builtin ? b->cfg->builtin : b->job.kind->name);
	}
	buf_append(line, r->item, r->item_len);
}

/* Read up to max bytes of fd from offset 0 into b (reset first). */
static void spool_read(int fd, size_t max, struct buf *b)
{
	buf_reset(b);
	buf_reserve(b, max);
	while (b->len < max) {
		ssize_t n = pread(fd, b->data + b->len, max - b->len, (off_t)b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b->len += (size_t)n;
	}
}

/* One finished item: its output to stdout, its joblog row and results line into the ledger,
 * recorded once the output is written. */
static void batch_record(struct batch *b, const struct pool_result *r, const char *error)
{
	/* An output in a spool file stays there: stdout copies it from a descriptor of ours (or,
	 * when none can be had, from memory). */
	const char *output = r->output;
	int spool = -1;
	if (r->spool_fd >= 0 && b->show_output) {
		spool = fcntl(r->spool_fd, F_DUPFD_CLOEXEC, 3);
		if (spool < 0) {
			spool_read(r->spool_fd, r->output_len, &b->spool_text);
			output = b->spool_text.data;
		}
	}
	struct ledger_entry rec = {
		.seq = r->seq,
		.exitcode = r->exitcode,
		.done = r->done,
	};
	buf_reset(&b->jl_text);
	buf_reset(&b->res_text);
	if (file_writable(&b->joblog_f)) {
		batch_command_line(b, r, &b->line);
		struct joblog_row row = {
			.seq = r->seq,
			.start = r->start,
			.runtime = r->runtime,
			.send = 0,
			.receive = r->output_len,
			.exitval = r->timed_out	     ? -1
				   : r->exitcode > 0 ? r->exitcode
						     : 0,
			.signal = r->exitcode < 0 ? -r->exitcode : 0,
			.command = b->line.data,
			.command_len = b->line.len,
		};
		joblog_format_row(&b->jl_text, &row);
		rec.joblog_len = (uint32_t)b->jl_text.len;
	}
	if (file_writable(&b->results_f)) {
		struct results_record res = {
			.seq = r->seq,
			.item = r->item,
			.item_len = r->item_len,
			.worker = r->slot,
			.pid = r->pid,
			.exitcode = r->exitcode,
			.core = r->core,
			.done = r->done,
			.attempts = r->attempts,
			.start = r->start,
			.runtime = r->runtime,
			.output = r->output,
			.output_len = r->output_len,
			.timed_out = r->timed_out,
			.error = error,
		};
		if (r->spool_fd >= 0) {
			/* The record holds the output's first part; stdout gets it whole. */
			struct buf head = {0};
			spool_read(r->spool_fd, MIN(r->output_len, RESULTS_SPOOL_MAX), &head);
			res.output = head.data;
			res.output_len = head.len;
			res.output_total = r->output_len;
			results_format(&b->res_text, &res);
			buf_free(&head);
		} else {
			results_format(&b->res_text, &res);
		}
		rec.results_len = (uint32_t)b->res_text.len;
	}
	if (b->show_output && b->cfg->keep_order)
		reorder_put(b, r->seq, output, r->output_len, spool, &rec, b->jl_text.data,
			    b->res_text.data);
	else
		out_item(b, output, b->show_output ? r->output_len : 0, spool, &rec,
			 b->jl_text.data, b->res_text.data);
	batch_commit(b);
}

static void pool_result_cb(void *data, const struct pool_result *r)
{
	batch_record(data, r, r->truncated ? "output truncated" : NULL);
}

static void pool_event_cb(void *data, const struct view_event *ev)
{
	struct batch *b = data;
	if (b->hooks.event)
		b->hooks.event(b->hooks.data, ev);
}

static void pool_space_cb(void *data)
{
	batch_feed(data);
}

static void flush_all(struct batch *b)
{
	struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			output_flush(files[i]->out);
}

/* Stop waiting for readers: what each file takes now is written, the rest dropped (and the
 * items whose output that was are left out of the joblog). */
static void batch_give_up(struct batch *b)
{
	if (b->gave_up)
		return;
	b->gave_up = true;
	uv_timer_stop(&b->grace);
	struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			output_give_up(files[i]->out);
	out_settle(b);
}

static void grace_cb(uv_timer_t *t)
{
	batch_give_up(t->data);
}

/* What was lost, said once at the end. */
static void batch_say_losses(struct batch *b)
{
	const struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		const struct batch_file *f = files[i];
		uint64_t n = f->out ? output_dropped(f->out) : 0;
		if (n)
			batch_error(b, "%s: %llu bytes not written (the reader had not taken them)",
				    f == &b->stdout_f ? "standard output" : f->path,
				    (unsigned long long)n);
	}
	/* Why the output was not written was said when it happened; what it means for the joblog
	 * is said here. */
	uint64_t n = b->unwritten;
	if (n && b->joblog_f.out)
		batch_error(b,
			    "%llu finished item%s not in the joblog: %s output was not written "
			    "(--resume runs %s)",
			    (unsigned long long)n, n == 1 ? " is" : "s are",
			    n == 1 ? "its" : "their", n == 1 ? "it" : "them");
}

/* Every item finished and every output written (or given up): tell the front end. */
static void batch_try_finish(struct batch *b)
{
	if (!b->draining)
		return;
	batch_commit(b);
	if (batch_out_pending(b) || ledger_len(&b->ledger))
		return;
	b->draining = false;
	uv_timer_stop(&b->grace);
	b->end_ns = now_ns();
	batch_say_losses(b);
	if (b->hooks.finished)
		b->hooks.finished(b->hooks.data);
}

static void pool_finished_cb(void *data)
{
	struct batch *b = data;
	if (b->finished)
		return;
	b->finished = true;
	if (b->in_polling) {
		uv_poll_stop(&b->in_poll);
		b->in_polling = false;
	}
	uv_idle_stop(&b->in_idle);
	if (b->cfg->keep_order)
		reorder_drain(b);
	flush_all(b);
	/* A slow reader may not have taken all of the output yet: finish when it has (after a
	 * stop, STOP_GRACE_MS at most). */
	b->draining = true;
	if (b->stop >= VIEW_STOP_TERMINATE)
		uv_timer_start(&b->grace, grace_cb, STOP_GRACE_MS, 0);
	if (b->stop >= VIEW_STOP_KILL)
		batch_give_up(b);
	out_settle(b);
}

/* --- input --- */

static void item_too_long(struct batch *b, uint64_t seq, size_t len)
{
	char err[128];
	snprintf(err, sizeof(err), "item of %zu bytes is longer than the limit of %zu bytes", len,
		 pool_max_item(b->pool));
	batch_notice(b, "input line %llu: %s: not run", (unsigned long long)seq, err);
	b->too_long++;
	struct pool_result r = {
		.seq = seq,
		.item = "",
		.slot = -1,
		.spool_fd = -1,
		.exitcode = 1,
		.start = wall_s(),
	};
	batch_record(b, &r, err);
}

/* 1: an item; 0: none now (input_eof says whether ever); -E2BIG: too long (*seq, *len set). */
static int source_next(struct batch *b, const char **item, size_t *len, uint64_t *seq)
{
	if (b->run.items) {
		if (b->next_arg >= b->run.nitems) {
			b->input_eof = true;
			return 0;
		}
		*item = b->run.items[b->next_arg];
		*len = strlen(*item);
		*seq = ++b->next_arg;
		if (*len > pool_max_item(b->pool))
			return -E2BIG;
		return 1;
	}
	int r = input_next(b->in, item, len, seq);
	if (r == 0 && input_done(b->in))
		b->input_eof = true;
	return r;
}

static void in_poll_cb(uv_poll_t *h, int status, int events);
static void in_idle_cb(uv_idle_t *h);

static void in_wait_readable(struct batch *b)
{
	if (b->in_file) {
		uv_idle_start(&b->in_idle, in_idle_cb);
		return;
	}
	if (!b->in_polling && b->in_poll_init) {
		uv_poll_start(&b->in_poll, UV_READABLE | UV_DISCONNECT, in_poll_cb);
		b->in_polling = true;
	}
}

static void in_pause(struct batch *b)
{
	if (b->in_polling) {
		uv_poll_stop(&b->in_poll);
		b->in_polling = false;
	}
}

static void input_read_error(struct batch *b, ssize_t n)
{
	if (!b->read_error)
		b->read_error = (int)n;
	batch_error(b, "reading the items: %s; no more items are read", strerror((int)-n));
	b->input_eof = true;
}

static void batch_feed(struct batch *b)
{
	if (b->feeding || b->finished)
		return;
	b->feeding = true;
	while (!b->input_eof && !b->input_stopped) {
		if (batch_out_full(b)) {
			/* A slow reader: take no more until it catches up (out_settle). */
			b->out_throttled = true;
			in_pause(b);
			break;
		}
		if (!b->have_item) {
			const char *item;
			size_t len;
			uint64_t seq;
			int r = source_next(b, &item, &len, &seq);
			if (r == -E2BIG) {
				item_too_long(b, seq, len);
				continue;
			}
			if (r == 0) {
				if (b->input_eof)
					break;
				if (b->in_file) {
					ssize_t n = input_fill(b->in);
					if (n < 0)
						input_read_error(b, n);
					continue;
				}
				in_wait_readable(b);
				break;
			}
			if (skip_has(b, seq)) {
				b->skipped++;
				if (b->cfg->keep_order && b->show_output)
					reorder_put(b, seq, NULL, 0, -1, NULL, NULL, NULL);
				continue;
			}
			if (b->out_idle_closed) {
				/* Stdout's reader left when every output so far was written, and
				 * here comes more: it cannot go anywhere. */
				b->output_closed = true;
				batch_error(b, "standard output was closed: stopping the batch");
				batch_stop(b, VIEW_STOP_TERMINATE, NULL);
				break;
			}
			b->have_item = true;
			b->item = item;
			b->item_len = len;
			b->item_seq = seq;
		}
		int r = pool_submit(b->pool, b->item_seq, b->item, b->item_len);
		if (r == 0) {
			b->have_item = false;
		} else if (r == -EAGAIN) {
			in_pause(b);
			break;
		} else if (r == -E2BIG) {
			b->have_item = false;
			item_too_long(b, b->item_seq, b->item_len);
		} else {
			b->input_stopped = true; /* -EPIPE: the pool was closed */
			in_pause(b);
		}
	}
	if (b->input_eof || b->input_stopped) {
		in_pause(b);
		if (b->input_eof)
			pool_input_end(b->pool);
	}
	b->feeding = false;
}

static void in_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct batch *b = h->data;
	if (status < 0) {
		input_read_error(b, status);
	} else {
		ssize_t n = input_fill(b->in);
		if (n < 0)
			input_read_error(b, n);
	}
	batch_feed(b);
}

static void in_idle_cb(uv_idle_t *h)
{
	uv_idle_stop(h);
	batch_feed(h->data);
}

static void flush_check_cb(uv_check_t *h)
{
	struct batch *b = h->data;
	flush_all(b);
	out_settle(b);
}

/* --- life --- */

static int batch_open_input(struct batch *b, char *err, size_t errlen)
{
	if (b->run.items)
		return 0;
	if (b->cfg->arg_file) {
		b->in_fd = open(b->cfg->arg_file, O_RDONLY | O_CLOEXEC);
		if (b->in_fd < 0) {
			int e = errno;
			snprintf(err, errlen, "-a %s: %s", b->cfg->arg_file, strerror(e));
			return -e;
		}
		b->in_owned = true;
	} else {
		b->in_fd = 0;
		int fl = fcntl(0, F_GETFL);
		if (fl >= 0 && (fl & O_ACCMODE) == O_WRONLY) {
			snprintf(err, errlen,
				 "reading the items: standard input is closed "
				 "(give them with -a FILE or ::: ITEM...)");
			return -EBADF;
		}
	}
	struct stat st;
	if (fstat(b->in_fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "reading the items: %s", strerror(e));
		return -e;
	}
	/* read() of a directory fails only later, which would make it an empty batch. */
	if (S_ISDIR(st.st_mode)) {
		if (b->cfg->arg_file)
			snprintf(err, errlen, "-a %s: %s", b->cfg->arg_file, strerror(EISDIR));
		else
			snprintf(err, errlen, "standard input: %s", strerror(EISDIR));
		return -EISDIR;
	}
	b->in_file = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
	return 0;
}

/* open(path, flags) for writing, creating the file when it is missing; *created says whether
 * this call made it. Returns the fd or -errno. */
static int batch_output_try(const char *path, int flags, bool *created)
{
	int fd = -1;
	*created = false;
	/* Twice at most: a file made or removed by someone else in between is tried again
	 * once; a dangling symlink (ENOENT, then EEXIST) ends in a plain O_CREAT, which makes
	 * its target. */
	for (int i = 0; i < 2 && fd < 0; i++) {
		fd = open(path, flags);
		if (fd >= 0 || errno != ENOENT)
			break;
		fd = open(path, flags | O_CREAT | O_EXCL, 0666);
		if (fd >= 0)
			*created = true;
		else if (errno != EEXIST)
			break;
	}
	if (fd < 0 && (errno == ENOENT || errno == EEXIST))
		fd = open(path, flags | O_CREAT, 0666);
	return fd < 0 ? -errno : fd;
}

/* An output file (--joblog, --results) opened for writing, its contents not yet touched, so
 * that a start that fails later leaves it as it was (and removes it if *created). With append,
 * in append mode, and readable when allowed: joblog_fdopen looks at the tail. Returns the fd
 * or -errno. */
static int batch_output_open(const char *path, bool append, bool *created)
{
	/* Non-blocking, so that a FIFO nobody reads fails (ENXIO) instead of holding the open
	 * for ever; the writes are made non-blocking by output.c, on a description of its own. */
	int base = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int fd;
	if (!append) {
		fd = batch_output_try(path, base | O_WRONLY, created);
	} else {
		fd = batch_output_try(path, base | O_RDWR | O_APPEND, created);
		if (fd == -EACCES)
			fd = batch_output_try(path, base | O_WRONLY | O_APPEND, created);
	}
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

/* The reason an output file could not be opened, in words. */
static const char *batch_output_why(const char *path, int r)
{
	struct stat st;
	if (r == -ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return "a FIFO that nobody reads";
	return strerror(-r);
}

/* Whether fds a and c are the same file, pipe or socket (devices such as /dev/null or a
 * terminal may be shared). */
static bool batch_same_file(int a, int c)
{
	struct stat sa, sc;
	return a >= 0 && c >= 0 && fstat(a, &sa) == 0 && fstat(c, &sc) == 0 &&
	       !S_ISCHR(sa.st_mode) && !S_ISBLK(sa.st_mode) && sa.st_dev == sc.st_dev &&
	       sa.st_ino == sc.st_ino;
}

/* The input, stdout, the joblog and the results must be four files: an output that is the
 * input would be truncated before it is read, two outputs would write over each other. */
static int batch_check_files(const struct batch *b, int out_fd, int jl_fd, int res_fd, char *err,
			     size_t errlen)
{
	const struct config *c = b->cfg;
	int in_fd = b->in_fd;
	if (batch_same_file(jl_fd, out_fd) || batch_same_file(res_fd, out_fd)) {
		bool jl = batch_same_file(jl_fd, out_fd);
		snprintf(err, errlen,
			 "%s %s: that is standard output, where the outputs go (give another file)",
			 jl ? "--joblog" : "--results", jl ? c->joblog : c->results);
		return -EINVAL;
	}
	if (batch_same_file(jl_fd, in_fd) || batch_same_file(res_fd, in_fd)) {
		bool jl = batch_same_file(jl_fd, in_fd);
		snprintf(err, errlen, "%s %s: that is the file the items are read from",
			 jl ? "--joblog" : "--results", jl ? c->joblog : c->results);
		return -EINVAL;
	}
	if (batch_same_file(jl_fd, res_fd)) {
		snprintf(err, errlen,
			 "--joblog %s and --results %s are the same file: give each its own",
			 c->joblog, c->results);
		return -EINVAL;
	}
	return 0;
}

/* An output file when the start failed: its fd closed (if still ours), the file removed if
 * this run made it. */
static void batch_output_abandon(const char *path, int fd, bool created)
{
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(path);
}

static void batch_file_init(struct batch *b, struct batch_file *f, const char *what,
			    const char *path)
{
	f->b = b;
	f->what = what;
	f->path = path;
}

/* Write f to fd (taken when own) from now on. */
static void batch_file_open(struct batch *b, struct batch_file *f, int fd, bool own)
{
	struct output_callbacks ocb = {
		.progress = out_progress_cb,
		.failed = out_failed_cb,
		.data = f,
	};
	f->out = output_new(b->loop, fd, own, &ocb);
	b->open_handles++;
}

int batch_new(uv_loop_t *loop, const struct config *cfg, const struct run_settings *run,
	      const struct job *job, const struct batch_hooks *hooks, int out_fd, bool show_output,
	      struct batch **out, char *err, size_t errlen)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "cannot start: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	b->loop = loop;
	b->cfg = cfg;
	b->run = *run;
	b->job = *job;
	if (hooks)
		b->hooks = *hooks;
	b->show_output = show_output;
	b->ro_next = 1;
	b->in_fd = -1;
	batch_file_init(b, &b->stdout_f, "standard output", "standard output");
	batch_file_init(b, &b->joblog_f, "--joblog", cfg->joblog);
	batch_file_init(b, &b->results_f, "--results", cfg->results);
	bool append = cfg->resume || cfg->resume_failed;
	int jl_fd = -1, res_fd = -1;
	bool jl_created = false, res_created = false;
	int r;

	/* Everything that can fail comes before anything is written: a bad start leaves an
	 * existing joblog or results file as it was and creates neither. */
	if ((r = batch_open_input(b, err, errlen)) < 0)
		goto fail;
	if (append) {
		char why[512];
		r = joblog_read(cfg->joblog, resume_row_cb, b, why, sizeof(why));
		if (r == -ENOENT) {
			r = 0; /* nothing to resume: a first run */
		} else if (r == -EINVAL) {
			snprintf(err, errlen, "--joblog %s", why); /* why names the file and line */
			goto fail;
		} else if (r < 0) {
			snprintf(err, errlen, "--joblog %s: %s", cfg->joblog, strerror(-r));
			goto fail;
		}
	}
	if (cfg->joblog) {
		jl_fd = r = batch_output_open(cfg->joblog, append, &jl_created);
		if (r < 0) {
			snprintf(err, errlen, "--joblog %s: %s", cfg->joblog,
				 batch_output_why(cfg->joblog, r));
			goto fail;
		}
	}
	if (cfg->results) {
		res_fd = r = batch_output_open(cfg->results, false, &res_created);
		if (r < 0) {
			snprintf(err, errlen, "--results %s: %s", cfg->results,
				 batch_output_why(cfg->results, r));
			goto fail;
		}
	}
	if ((r = batch_check_files(b, show_output ? out_fd : -1, jl_fd, res_fd, err, errlen)) < 0)
		goto fail;
	struct pool_config pc = {
		.workers = run->jobs,
		.job = *job,
		.retries = cfg->retries,
		.max_items_per_worker = cfg->max_items_per_worker,
		.join_timeout_ns = cfg->join_timeout_ns,
		.hang_after_ns = cfg->hang_after_ns,
		.timeout_ns = cfg->timeout_ns,
		.timeout_pct = cfg->timeout_pct,
		.worker_stderr_fd = -1,
		.spool_parent = getenv("TMPDIR"),
		.capture_stderr = run->capture_stderr,
	};
	struct pool_callbacks pcb = {
		.result = pool_result_cb,
		.event = pool_event_cb,
		.space = pool_space_cb,
		.finished = pool_finished_cb,
		.data = b,
	};
	b->pool = pool_new(loop, &pc, &pcb, &r);
	if (!b->pool) {
		snprintf(err, errlen, "cannot set up the pool: %s", strerror(-r));
		goto fail;
	}
	/* All is well: now the files may change (a joblog is truncated, or its cut-short last
	 * line cut off). */
	int header = 0;
	if (jl_fd >= 0 && (header = joblog_prepare(jl_fd, append)) < 0) {
		r = header;
		snprintf(err, errlen, "--joblog %s: %s", cfg->joblog, strerror(-r));
		goto fail;
	}
	if (res_fd >= 0 && (r = results_prepare(res_fd)) < 0) {
		snprintf(err, errlen, "--results %s: %s", cfg->results, strerror(-r));
		goto fail;
	}
	if (jl_fd >= 0) {
		batch_file_open(b, &b->joblog_f, jl_fd, true);
		jl_fd = -1;
		/* The header goes out with the first rows (or at the end), so a full disk shows
		 * up like any other failed write. */
		if (header) {
			joblog_format_header(&b->jl_text);
			output_append(b->joblog_f.out, b->jl_text.data, b->jl_text.len);
		}
	}
	if (res_fd >= 0) {
		batch_file_open(b, &b->results_f, res_fd, true);
		res_fd = -1;
	}
	/* The splitter drops an item longer than the pool takes as it streams: a line of any
	 * length costs no more memory than the longest item that can run. */
	if (b->in_fd >= 0)
		b->in = input_new(b->in_fd, cfg->null_sep ? '\0' : '\n', pool_max_item(b->pool));
	uv_idle_init(loop, &b->in_idle);
	uv_check_init(loop, &b->flush_check);
	uv_timer_init(loop, &b->grace);
	b->in_idle.data = b->flush_check.data = b->grace.data = b;
	b->open_handles += 3;
	if (show_output)
		batch_file_open(b, &b->stdout_f, out_fd, false);
	if (b->in && !b->in_file) {
		r = uv_poll_init(loop, &b->in_poll, b->in_fd);
		if (r == 0) {
			/* uv_poll_init made the file description non-blocking: that is shared
			 * with whoever else holds it (a terminal, a pipe's writer's shell). */
			int fl = fcntl(b->in_fd, F_GETFL);
			if (fl >= 0)
				fcntl(b->in_fd, F_SETFL, fl & ~O_NONBLOCK);
			b->in_poll.data = b;
			b->in_poll_init = true;
			b->open_handles++;
		} else {
			b->in_file = true; /* not pollable: read it directly */
		}
	}
	*out = b;
	return 0;

fail:
	batch_free(b);
	batch_output_abandon(cfg->results, res_fd, res_created);
	batch_output_abandon(cfg->joblog, jl_fd, jl_created);
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
	uv_check_start(&b->flush_check, flush_check_cb);
	uv_idle_start(&b->in_idle, in_idle_cb);
	return 0;
}

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
	s->input_complete = b->input_eof;
	s->terminated = b->stop >= VIEW_STOP_TERMINATE;
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
}

unsigned batch_errors(const struct batch *b, const char *lines[VIEW_MAX_ERRORS])
{
	for (unsigned i = 0; i < b->nerrors; i++)
		lines[i] = b->errors[i];
	return b->nerrors;
}

size_t batch_output_pending(const struct batch *b)
{
	return batch_out_pending(b);
}

bool batch_over(const struct batch *b)
{
	return b->end_ns != 0;
}

bool batch_output_blocked(const struct batch *b)
{
	return b->out_throttled || (b->draining && batch_output_pending(b));
}

static const char *const stop_words[] = {
	[VIEW_STOP_NONE] = "",
	[VIEW_STOP_JOIN] =
		"joining all workers: no more input is read, the items read are finished "
		"(again: terminate)",
	[VIEW_STOP_TERMINATE] = "terminating all workers (again: kill)",
	[VIEW_STOP_KILL] = "killing all workers",
};

static void batch_stop_notice(struct batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void batch_stop_notice(struct batch *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, VIEW_EVENT_STOP, false, fmt, ap);
	va_end(ap);
}

void batch_stop(struct batch *b, enum view_stop how, const char *why)
{
	if (how <= b->stop)
		return;
	b->stop = how;
	if (why && !b->finished)
		batch_stop_notice(b, "%s: %s", why, stop_words[how]);
	switch (how) {
	case VIEW_STOP_NONE:
		return;
	case VIEW_STOP_JOIN:
		pool_join_all(b->pool);
		return;
	case VIEW_STOP_TERMINATE:
		pool_terminate_all(b->pool);
		/* Output a reader has not taken waits a little once the pool has finished. */
		if (b->draining && !uv_is_active((uv_handle_t *)&b->grace) && !b->gave_up)
			uv_timer_start(&b->grace, grace_cb, STOP_GRACE_MS, 0);
		return;
	case VIEW_STOP_KILL:
		pool_kill_all(b->pool);
		batch_give_up(b);
		return;
	}
}

enum view_stop batch_stopping(const struct batch *b)
{
	return b->stop;
}

static void batch_handle_gone(struct batch *b)
{
	if (--b->open_handles == 0 && b->closed)
		b->closed(b->closed_data);
}

static void batch_handle_closed_cb(uv_handle_t *h)
{
	batch_handle_gone(h->data);
}

static void batch_output_closed_cb(void *data)
{
	batch_handle_gone(data);
}

static void batch_pool_closed_cb(void *data)
{
	struct batch *b = data;
	uv_close((uv_handle_t *)&b->in_idle, batch_handle_closed_cb);
	uv_close((uv_handle_t *)&b->flush_check, batch_handle_closed_cb);
	uv_close((uv_handle_t *)&b->grace, batch_handle_closed_cb);
	if (b->in_poll_init)
		uv_close((uv_handle_t *)&b->in_poll, batch_handle_closed_cb);
	struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			output_close(files[i]->out, batch_output_closed_cb, b);
}

void batch_close(struct batch *b, void (*closed)(void *data), void *data)
{
	b->closed = closed;
	b->closed_data = data;
	if (!b->finished) {
		/* Abandoned before its end: nothing waits for anyone. */
		if (b->cfg->keep_order)
			reorder_drain(b);
		batch_give_up(b);
	}
	pool_close(b->pool, batch_pool_closed_cb, b);
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	input_free(b->in);
	if (b->in_owned && b->in_fd >= 0)
		close(b->in_fd);
	for (size_t i = 0; i < b->ro_cap; i++) {
		free(b->ro[i].data);
		if (b->ro[i].have && b->ro[i].spool_fd >= 0)
			close(b->ro[i].spool_fd);
	}
	free(b->ro);
	free(b->skip);
	struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		output_free(files[i]->out);
	ledger_free(&b->ledger);
	buf_free(&b->line);
	buf_free(&b->jl_text);
	buf_free(&b->res_text);
	buf_free(&b->spool_text);
	template_args_free(&b->args);
	pool_free(b->pool);
	free(b);
}
