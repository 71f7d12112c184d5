/* A run: input -> pool -> stdout, joblog and results.
 *
 * Input streams with backpressure: an item is read only when the pool takes it; on -EAGAIN
 * reading stops (the poll handle is stopped) until the pool's space callback, so the parent
 * holds at most the pool's queue and one read buffer, whatever the input's length. Regular files
 * cannot be polled (epoll refuses them) and never block for long: they are read directly.
 * Sequence numbers are input positions (1-based), also for items skipped by --resume, so that a
 * joblog's Seq means the same line in every run.
 *
 * Output never blocks the loop (output.c): what a slow reader of stdout has not taken waits in a
 * buffer, and above OUTPUT_HIGH no new item is submitted until the reader catches up (the same
 * stop as a full pool). When the pool has finished, the batch finishes once that buffer is
 * written, or dropped (batch_drop_output). Each file (stdout, joblog, results) reports its first
 * write error once and is not written again; the others go on, and so does the batch. */
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
#include "output.h"
#include "results.h"
#include "template.h"

#define MAX_CODES 64

struct reorder_entry {
	bool have;
	char *data;
	size_t len;
};

struct batch {
	uv_loop_t *loop;
	const struct config *cfg;
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
	int out_fd;
	bool show_output;
	struct output *out; /* NULL when !show_output */
	bool output_closed;
	bool out_throttled;  /* feeding stopped: the output buffer is full */
	bool draining;	     /* the pool has finished; the output buffer has not */
	bool output_dropped; /* batch_drop_output: nothing more is written */
	uint64_t dropped_bytes;
	struct reorder_entry *ro;
	size_t ro_cap;
	uint64_t ro_next;
	uv_check_t flush_check;
	struct joblog *joblog;
	struct results *results;
	int write_error;		    /* the first write error of any file */
	int joblog_error, results_error;    /* each file's first */
	int read_error;			    /* reading the items failed */
	char errors[BATCH_MAX_ERRORS][240]; /* their lines, for batch_errors */
	unsigned nerrors;
	struct buf line;
	struct template_args args; /* the joblog's Command for command kinds */

	/* counts */
	uint64_t done, failed, skipped, too_long;
	struct batch_code_count codes[MAX_CODES];
	size_t ncodes;
	uint64_t other_codes;
	uint64_t start_ns, end_ns;
	bool finished;
	int open_handles;
	void (*closed)(void *data);
	void *closed_data;
};

static void batch_feed(struct batch *b);

static void batch_vnotice(struct batch *b, bool error, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void batch_notice(struct batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void batch_error(struct batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void batch_vnotice(struct batch *b, bool error, const char *fmt, va_list ap)
{
	struct pool_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = POOL_EVENT_NOTICE;
	ev.slot = -1;
	ev.time_ns = now_ns();
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	if (error && b->nerrors < BATCH_MAX_ERRORS)
		snprintf(b->errors[b->nerrors++], sizeof(b->errors[0]), "%s", ev.text);
	if (b->hooks.event)
		b->hooks.event(b->hooks.data, &ev);
}

static void batch_notice(struct batch *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, false, fmt, ap);
	va_end(ap);
}

/* A notice that is also kept for batch_errors. */
static void batch_error(struct batch *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	batch_vnotice(b, true, fmt, ap);
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

/* --- output --- */

static void batch_finish(struct batch *b);

static void out_flush(struct batch *b)
{
	if (b->out)
		output_flush(b->out);
}

static void out_append(struct batch *b, const char *p, size_t n)
{
	if (b->out && !b->output_dropped)
		output_append(b->out, p, n);
}

/* Whether the output buffer (or the pool's end) lets the batch go on. */
static void out_settle(struct batch *b)
{
	if (b->out_throttled && !output_full(b->out)) {
		b->out_throttled = false;
		batch_feed(b);
	}
	if (b->draining && !output_pending(b->out))
		batch_finish(b);
}

static void out_progress_cb(void *data)
{
	out_settle(data);
}

static void out_failed_cb(void *data, int err)
{
	struct batch *b = data;
	if (err == -EPIPE) {
		b->output_closed = true;
		batch_error(b, "standard output was closed: stopping the batch");
		b->input_stopped = true;
		pool_terminate_all(b->pool);
	} else {
		if (!b->write_error)
			b->write_error = err;
		if (err == -EBADF)
			batch_error(b, "standard output is closed: the outputs are not written");
		else
			batch_error(b,
				    "writing standard output: %s (further output is not written)",
				    strerror(-err));
	}
	/* Everything written from now on is dropped: nothing to wait for. */
	out_settle(b);
}

/* -k: hold outputs until every earlier sequence number has finished. */
static void reorder_put(struct batch *b, uint64_t seq, const char *p, size_t n)
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
	e->data = n ? xmemdup(p, n) : NULL;
	e->len = n;
	while (b->ro_cap && b->ro[b->ro_next % b->ro_cap].have) {
		e = &b->ro[b->ro_next % b->ro_cap];
		if (e->len)
			out_append(b, e->data, e->len);
		free(e->data);
		memset(e, 0, sizeof(*e));
		b->ro_next++;
	}
}

/* At the end: what is still held (after items that never finished) goes out in order. */
static void reorder_drain(struct batch *b)
{
	for (size_t i = 0; i < b->ro_cap; i++) {
		struct reorder_entry *e = &b->ro[(b->ro_next + i) % b->ro_cap];
		if (e->have && e->len)
			out_append(b, e->data, e->len);
		free(e->data);
		memset(e, 0, sizeof(*e));
	}
}

static void output_item(struct batch *b, uint64_t seq, const char *p, size_t n)
{
	if (!b->show_output)
		return;
	if (b->cfg->keep_order)
		reorder_put(b, seq, p, n);
	else if (n)
		out_append(b, p, n);
}

/* A file's first write error: said once; *file_error keeps the file from being written again. */
static void note_write_error(struct batch *b, int *file_error, const char *what, const char *path,
			     int r)
{
	if (r >= 0 || *file_error)
		return;
	*file_error = r;
	if (!b->write_error)
		b->write_error = r;
	batch_error(b, "%s %s: %s (further rows are not written)", what, path, strerror(-r));
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
		b->codes[b->ncodes++] = (struct batch_code_count){.exitcode = code, .n = 1};
	else
		b->other_codes++;
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

/* One finished item: the files, the counts, stdout. */
static void batch_record(struct batch *b, const struct pool_result *r, const char *error)
{
	if (r->done) {
		b->done++;
	} else {
		b->failed++;
		record_code(b, r->exitcode);
	}
	if (b->joblog && !b->joblog_error) {
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
		note_write_error(b, &b->joblog_error, "--joblog", b->cfg->joblog,
				 joblog_write(b->joblog, &row));
	}
	if (b->results && !b->results_error) {
		struct results_record rec = {
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
		note_write_error(b, &b->results_error, "--results", b->cfg->results,
				 results_write(b->results, &rec));
	}
	output_item(b, r->seq, r->output, r->output_len);
}

static void pool_result_cb(void *data, const struct pool_result *r)
{
	batch_record(data, r, r->truncated ? "output truncated" : NULL);
}

static void pool_event_cb(void *data, const struct pool_event *ev)
{
	struct batch *b = data;
	if (b->hooks.event)
		b->hooks.event(b->hooks.data, ev);
}

static void pool_space_cb(void *data)
{
	batch_feed(data);
}

static void batch_finish_files(struct batch *b)
{
	if (b->cfg->keep_order)
		reorder_drain(b);
	out_flush(b);
	if (b->joblog) {
		int r = joblog_close(b->joblog);
		b->joblog = NULL;
		note_write_error(b, &b->joblog_error, "--joblog", b->cfg->joblog, r);
	}
	if (b->results) {
		int r = results_close(b->results);
		b->results = NULL;
		note_write_error(b, &b->results_error, "--results", b->cfg->results, r);
	}
}

/* Every item finished and the output written (or given up): tell the front end. */
static void batch_finish(struct batch *b)
{
	if (!b->draining)
		return;
	b->draining = false;
	b->end_ns = now_ns();
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
	batch_finish_files(b);
	/* A slow reader may not have taken all of the output yet: finish when it has. */
	b->draining = true;
	if (!b->out || !output_pending(b->out))
		batch_finish(b);
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
		.exitcode = 1,
		.start = wall_s(),
	};
	batch_record(b, &r, err);
}

/* 1: an item; 0: none now (input_eof says whether ever); -E2BIG: too long (*seq, *len set). */
static int source_next(struct batch *b, const char **item, size_t *len, uint64_t *seq)
{
	if (b->cfg->items) {
		if (b->next_arg >= b->cfg->nitems) {
			b->input_eof = true;
			return 0;
		}
		*item = b->cfg->items[b->next_arg];
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
		if (b->out && output_full(b->out)) {
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
					reorder_put(b, seq, NULL, 0);
				continue;
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
	out_flush(b);
	if (b->results && !b->results_error)
		note_write_error(b, &b->results_error, "--results", b->cfg->results,
				 results_flush(b->results));
	if (b->out)
		out_settle(b);
}

/* --- life --- */

static int batch_open_input(struct batch *b, char *err, size_t errlen)
{
	if (b->cfg->items)
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
		fd = open(path, flags | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		fd = open(path, flags | O_CLOEXEC | O_CREAT | O_EXCL, 0666);
		if (fd >= 0)
			*created = true;
		else if (errno != EEXIST)
			break;
	}
	if (fd < 0 && (errno == ENOENT || errno == EEXIST))
		fd = open(path, flags | O_CLOEXEC | O_CREAT, 0666);
	return fd < 0 ? -errno : fd;
}

/* An output file (--joblog, --results) opened for writing, its contents not yet touched, so
 * that a start that fails later leaves it as it was (and removes it if *created). With append,
 * in append mode, and readable when allowed: joblog_fdopen looks at the tail. Returns the fd
 * or -errno. */
static int batch_output_open(const char *path, bool append, bool *created)
{
	if (!append)
		return batch_output_try(path, O_WRONLY, created);
	int fd = batch_output_try(path, O_RDWR | O_APPEND, created);
	if (fd == -EACCES)
		fd = batch_output_try(path, O_WRONLY | O_APPEND, created);
	return fd;
}

/* Whether fds a and c are the same regular file (devices such as /dev/null may be shared). */
static bool batch_same_file(int a, int c)
{
	struct stat sa, sc;
	return a >= 0 && c >= 0 && fstat(a, &sa) == 0 && fstat(c, &sc) == 0 &&
	       S_ISREG(sa.st_mode) && sa.st_dev == sc.st_dev && sa.st_ino == sc.st_ino;
}

/* The input, the joblog and the results must be three files: an output that is the input
 * would be truncated before it is read, two outputs would write over each other. */
static int batch_check_files(const struct batch *b, int jl_fd, int res_fd, char *err, size_t errlen)
{
	const struct config *c = b->cfg;
	int in_fd = b->in_fd;
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

int batch_new(uv_loop_t *loop, const struct config *cfg, const struct job *job,
	      const struct batch_hooks *hooks, int out_fd, bool show_output, struct batch **out,
	      char *err, size_t errlen)
{
	struct batch *b = xcalloc(1, sizeof(*b));
	b->loop = loop;
	b->cfg = cfg;
	b->job = *job;
	if (hooks)
		b->hooks = *hooks;
	b->out_fd = out_fd;
	b->show_output = show_output;
	b->ro_next = 1;
	b->in_fd = -1;
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
			snprintf(err, errlen, "--joblog %s: %s", cfg->joblog, strerror(-r));
			goto fail;
		}
	}
	if (cfg->results) {
		res_fd = r = batch_output_open(cfg->results, false, &res_created);
		if (r < 0) {
			snprintf(err, errlen, "--results %s: %s", cfg->results, strerror(-r));
			goto fail;
		}
	}
	if ((r = batch_check_files(b, jl_fd, res_fd, err, errlen)) < 0)
		goto fail;
	struct pool_config pc = {
		.workers = cfg->jobs,
		.job = *job,
		.retries = cfg->retries,
		.max_items_per_worker = cfg->max_items_per_worker,
		.join_timeout_ns = cfg->join_timeout_ns,
		.hang_after_ns = cfg->hang_after_ns,
		.timeout_ns = cfg->timeout_ns,
		.timeout_pct = cfg->timeout_pct,
		.worker_stderr_fd = -1,
		.capture_stderr = cfg->capture_stderr,
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
	 * line cut off). Each call takes its fd, also when it fails. */
	if (jl_fd >= 0) {
		r = joblog_fdopen(jl_fd, append, &b->joblog);
		jl_fd = -1;
		if (r < 0) {
			snprintf(err, errlen, "--joblog %s: %s", cfg->joblog, strerror(-r));
			goto fail;
		}
	}
	if (res_fd >= 0) {
		r = results_fdopen(res_fd, &b->results);
		res_fd = -1;
		if (r < 0) {
			snprintf(err, errlen, "--results %s: %s", cfg->results, strerror(-r));
			goto fail;
		}
	}
	/* The splitter drops an item longer than the pool takes as it streams: a line of any
	 * length costs no more memory than the longest item that can run. */
	if (b->in_fd >= 0)
		b->in = input_new(b->in_fd, cfg->null_sep ? '\0' : '\n', pool_max_item(b->pool));
	uv_idle_init(loop, &b->in_idle);
	uv_check_init(loop, &b->flush_check);
	b->in_idle.data = b->flush_check.data = b;
	b->open_handles = 2;
	if (show_output) {
		struct output_callbacks ocb = {
			.progress = out_progress_cb,
			.failed = out_failed_cb,
			.data = b,
		};
		b->out = output_new(loop, out_fd, &ocb);
		b->open_handles++;
	}
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
	const struct batch_code_count *a = x, *c = y;
	if (a->n != c->n)
		return a->n < c->n ? 1 : -1;
	return a->exitcode - c->exitcode;
}

void batch_summary(const struct batch *b, struct batch_summary *s)
{
	memset(s, 0, sizeof(*s));
	struct pool_totals t;
	pool_snapshot(b->pool, &t, NULL, 0);
	s->done = b->done;
	s->failed = b->failed;
	s->not_run = t.not_run;
	s->skipped = b->skipped;
	s->too_long = b->too_long;
	s->input_complete = b->input_eof;
	s->output_closed = b->output_closed;
	s->write_error = b->write_error;
	s->read_error = b->read_error;
	s->dropped_bytes = b->dropped_bytes;
	struct batch_code_count codes[MAX_CODES];
	memcpy(codes, b->codes, b->ncodes * sizeof(codes[0]));
	qsort(codes, b->ncodes, sizeof(codes[0]), code_cmp);
	s->ncodes = MIN(b->ncodes, ARRAY_SIZE(s->codes));
	memcpy(s->codes, codes, s->ncodes * sizeof(codes[0]));
	s->other_codes = b->other_codes;
	for (size_t i = s->ncodes; i < b->ncodes; i++)
		s->other_codes += codes[i].n;
	uint64_t end = b->end_ns ? b->end_ns : now_ns();
	s->elapsed = (double)(end - b->start_ns) / 1e9;
	s->rate = s->elapsed > 0 ? (double)(b->done + b->failed) / s->elapsed : 0;
}

int batch_exit_status(const struct batch *b)
{
	struct batch_summary s;
	batch_summary(b, &s);
	uint64_t bad = s.failed + s.not_run;
	bool lost = s.write_error || s.read_error || s.output_closed || s.dropped_bytes;
	if ((bad == 0 && lost) || pool_fatal(b->pool))
		return 255;
	return bad == 0 ? 0 : bad > 100 ? 101 : (int)bad;
}

unsigned batch_errors(const struct batch *b, const char *lines[BATCH_MAX_ERRORS])
{
	for (unsigned i = 0; i < b->nerrors; i++)
		lines[i] = b->errors[i];
	return b->nerrors;
}

size_t batch_output_pending(const struct batch *b)
{
	return b->out ? output_pending(b->out) : 0;
}

bool batch_output_blocked(const struct batch *b)
{
	return b->out_throttled || (b->draining && batch_output_pending(b));
}

void batch_drop_output(struct batch *b)
{
	if (!b->out || b->output_dropped)
		return;
	b->output_dropped = true;
	size_t n = output_drop(b->out);
	b->dropped_bytes = n;
	if (n)
		batch_error(
			b, "standard output: %zu bytes not written (the reader had not taken them)",
			n);
	out_settle(b);
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
	if (b->in_poll_init)
		uv_close((uv_handle_t *)&b->in_poll, batch_handle_closed_cb);
	if (b->out)
		output_close(b->out, batch_output_closed_cb, b);
}

void batch_close(struct batch *b, void (*closed)(void *data), void *data)
{
	b->closed = closed;
	b->closed_data = data;
	if (!b->finished)
		batch_finish_files(b);
	pool_close(b->pool, batch_pool_closed_cb, b);
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	joblog_close(b->joblog);
	results_close(b->results);
	input_free(b->in);
	if (b->in_owned && b->in_fd >= 0)
		close(b->in_fd);
	for (size_t i = 0; i < b->ro_cap; i++)
		free(b->ro[i].data);
	free(b->ro);
	free(b->skip);
	output_free(b->out);
	buf_free(&b->line);
	template_args_free(&b->args);
	pool_free(b->pool);
	free(b);
}
