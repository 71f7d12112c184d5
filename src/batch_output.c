/* The batch's outputs: each finished item's output to stdout (held for input order with -k), its
 * joblog row and results line recorded through the ledger once that output is written, and the
 * end: waiting for slow readers, or giving them up. See the DESIGN comment in batch.c. */
#include "batch_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joblog.h"
#include "results.h"
#include "sources.h"

/* Bytes of a spooled output a --results record holds (its first ones). */
#define RESULTS_SPOOL_MAX (1024 * 1024)

/* --- the state machine --- */

#define TO(s) (1u << (s))

/* The edges allowed, from each state: see the DESIGN comment in batch.c. */
static const unsigned output_edges[] = {
	[OUTPUT_OPEN] = TO(OUTPUT_CLOSED_IDLE) | TO(OUTPUT_CLOSED) | TO(OUTPUT_GIVEN_UP) |
			TO(OUTPUT_DRAINING),
	[OUTPUT_CLOSED_IDLE] = TO(OUTPUT_CLOSED) | TO(OUTPUT_GIVEN_UP) | TO(OUTPUT_DRAINING),
	[OUTPUT_CLOSED] = TO(OUTPUT_GIVEN_UP) | TO(OUTPUT_DRAINING),
	[OUTPUT_GIVEN_UP] = TO(OUTPUT_DRAINING),
	[OUTPUT_DRAINING] = TO(OUTPUT_DONE),
	[OUTPUT_DONE] = 0,
};

/* Every change of the output's state. */
static void output_set(struct batch *b, enum batch_output_state to)
{
	assert(output_edges[b->out_state] & TO(to));
	b->out_state = to;
}

/* --- recording --- */

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

/* --halt: once its condition is met (N items failed or succeeded, or N% of those finished, once
 * three have), stop: soon drains, now terminates. The exit status is then the failed item's (a
 * signal N as a shell shows it, 128+N), or 0 for success=. */
static void halt_check(struct batch *b, const struct ledger_entry *e)
{
	const struct cli_halt *h = &b->cfg->halt;
	if (h->when == CLI_HALT_NEVER || b->halted || e->done != h->on_success)
		return;
	uint64_t count = h->on_success ? b->done : b->failed, total = b->done + b->failed;
	bool met = h->percent ? total >= 3 && count * 100 >= (uint64_t)h->n * total : count >= h->n;
	if (!met)
		return;
	b->halted = b->halt_pending = true;
	b->halt_status = h->on_success	   ? 0
			 : e->exitcode < 0 ? 128 - e->exitcode
					   : e->exitcode & 255;
	snprintf(b->halt_why, sizeof(b->halt_why), "--halt %s: item %llu %s", b->cfg->halt_arg,
		 (unsigned long long)e->seq, e->done ? "succeeded" : "failed");
}

/* The stop --halt asked for, made once the ledger is not being walked. */
static void halt_apply(struct batch *b)
{
	if (!b->halt_pending)
		return;
	b->halt_pending = false;
	batch_stop(b, b->cfg->halt.when == CLI_HALT_NOW ? VIEW_STOP_TERMINATE : VIEW_STOP_DRAIN,
		   b->halt_why);
}

/* Record what the ledger holds whose output is written. Once stdout is dead, what it still
 * holds never will be: those items are counted, in --results with "stdout_written": false
 * (the record holds the output), and left out of the joblog, so --resume runs them again. */
static void output_commit(struct batch *b)
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
		halt_check(b, &e);
		if (e.end <= written) {
			batch_file_append(&b->joblog_f, jl, e.joblog_len);
			batch_file_append(&b->results_f, res, e.results_len);
			continue;
		}
		b->unwritten++;
		if (e.results_len && batch_file_writable(&b->results_f)) {
			buf_reset(&b->res_text);
			results_format_unwritten(&b->res_text, res, e.results_len);
			batch_file_append(&b->results_f, b->res_text.data, b->res_text.len);
		}
	}
	halt_apply(b);
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

/* --- -k --- */

/* A held output goes out, its record into the ledger. */
static void reorder_release(struct batch *b, struct reorder_entry *e)
{
	size_t mem = e->spool_fd >= 0 ? 0 : e->len;
	out_item(b, e->data, e->len, e->spool_fd, &e->rec, e->data + mem,
		 e->data + mem + e->rec.joblog_len);
	e->spool_fd = -1;
}

/* Hold outputs until every earlier sequence number has finished. rec (with its text jl and
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

void batch_output_skipped(struct batch *b, uint64_t seq)
{
	if (b->cfg->keep_order && b->show_output)
		reorder_put(b, seq, NULL, 0, -1, NULL, NULL, NULL);
}

/* --- a finished item --- */

/* The joblog's Command: the command line a command kind ran, quoted as a shell would read it
 * back; for the other kinds what ran and the item. */
static void command_line(struct batch *b, const struct pool_result *r, struct buf *line)
{
	buf_reset(line);
	if (b->job.cmd && !b->job.kind->submit &&
	    (template_values(b->job.cmd) || !memchr(r->item, '\0', r->item_len))) {
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

/* The item's joblog row, into b->jl_text. */
static void format_joblog_row(struct batch *b, const struct pool_result *r)
{
	command_line(b, r, &b->line);
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
}

/* Room for n columns in --results' scratch. */
static void results_columns_room(struct batch *b, size_t n)
{
	if (n <= b->res_col_cap)
		return;
	b->res_col_cap = MAX(n, 2 * b->res_col_cap);
	b->res_cols = xrealloc(b->res_cols, b->res_col_cap * sizeof(*b->res_cols));
	b->res_col_lens = xrealloc(b->res_col_lens, b->res_col_cap * sizeof(*b->res_col_lens));
}

/* Several sources, --colsep: the item in --results is the values joined with a space (what {}
 * is), or for kinds other than a command with --colsep the line they were given; "columns"
 * holds each value. An item too long to run has neither. */
static void results_columns(struct batch *b, const struct pool_result *r,
			    struct results_record *res)
{
	const char *p;
	size_t n = 0, len;

	if (r->item_len == 0 || (!b->sources && !b->colsep))
		return;
	if (b->sources) {
		n = sources_n(b->sources);
		results_columns_room(b, n);
		for (size_t k = 0; k < n; k++)
			b->res_cols[k] =
				sources_value(b->sources, r->seq - 1, k, &b->res_col_lens[k]);
		sources_record(b->sources, r->seq - 1, ' ', &b->res_item);
		res->item = b->res_item.data;
		res->item_len = b->res_item.len;
	} else {
		if (b->combo_sep == '\0') {
			/* A command's item is its columns separated by NUL bytes. */
			buf_reset(&b->res_split);
			buf_append(&b->res_split, r->item, r->item_len);
		} else {
			colsep_split(b->colsep, r->item, r->item_len, '\0', &b->res_split);
		}
		p = b->res_split.data;
		len = b->res_split.len;
		for (size_t i = 0; i < len; i++)
			n += p[i] == '\0';
		n += len > 0;
		results_columns_room(b, n);
		for (size_t k = 0, at = 0; k < n; k++) {
			const char *nul = memchr(p + at, '\0', len - at);
			b->res_cols[k] = p + at;
			b->res_col_lens[k] = nul ? (size_t)(nul - (p + at)) : len - at;
			at += b->res_col_lens[k] + 1;
		}
		if (b->combo_sep == '\0') {
			buf_reset(&b->res_item);
			buf_append(&b->res_item, r->item, r->item_len);
			for (size_t i = 0; i < b->res_item.len; i++)
				if (b->res_item.data[i] == '\0')
					b->res_item.data[i] = ' ';
			res->item = b->res_item.data;
			res->item_len = b->res_item.len;
		}
	}
	res->columns = b->res_cols;
	res->column_lens = b->res_col_lens;
	res->ncolumns = n;
}

/* The item's --results line, into b->res_text. */
static void format_results_line(struct batch *b, const struct pool_result *r, const char *error)
{
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
		.err = r->err,
		.err_len = r->err_len,
		.err_cut = r->err_cut,
		.timed_out = r->timed_out,
		.error = error,
	};
	results_columns(b, r, &res);
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
}

/* A failed item for batch_failed: the first VIEW_FAILED_KEPT are kept, the rest counted. */
static void keep_failed(struct batch *b, const struct pool_result *r)
{
	struct view_failed *f = &b->failed_items;
	f->total++;
	if (f->n >= VIEW_FAILED_KEPT)
		return;
	struct view_failed_item *it = &f->items[f->n++];
	it->seq = r->seq;
	it->exitcode = r->exitcode;
	it->core = r->core;
	it->item_len = r->item_len;
	if (r->item_len)
		memcpy(it->item, r->item, MIN(r->item_len, sizeof(it->item)));
	/* The values of several sources show joined with a space, as {} joins them. */
	for (size_t i = 0; i < MIN(r->item_len, sizeof(it->item)); i++)
		if (it->item[i] == '\0')
			it->item[i] = ' ';
}

/* The feed's record of the item: its --results line and its joblog Command. */
static void feed_result(struct batch *b, const struct pool_result *r, const char *error)
{
	buf_reset(&b->res_text);
	format_results_line(b, r, error);
	command_line(b, r, &b->line);
	b->run.feed->result(b->run.feed->data, r, b->res_text.data, b->res_text.len, b->line.data,
			    b->line.len);
}

void batch_output_record(struct batch *b, const struct pool_result *r, const char *error)
{
	if (!r->done)
		keep_failed(b, r);
	if (b->run.feed)
		feed_result(b, r, error);
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
	if (batch_file_writable(&b->joblog_f)) {
		format_joblog_row(b, r);
		rec.joblog_len = (uint32_t)b->jl_text.len;
	}
	if (batch_file_writable(&b->results_f)) {
		format_results_line(b, r, error);
		rec.results_len = (uint32_t)b->res_text.len;
	}
	if (b->show_output && b->cfg->keep_order)
		reorder_put(b, r->seq, output, r->output_len, spool, &rec, b->jl_text.data,
			    b->res_text.data);
	else
		out_item(b, output, b->show_output ? r->output_len : 0, spool, &rec,
			 b->jl_text.data, b->res_text.data);
	output_commit(b);
}

/* --- the end --- */

/* What was lost, said once at the end. */
static void say_losses(struct batch *b)
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
static void try_finish(struct batch *b)
{
	if (b->out_state != OUTPUT_DRAINING)
		return;
	output_commit(b);
	if (batch_files_pending(b) || ledger_len(&b->ledger))
		return;
	output_set(b, OUTPUT_DONE);
	uv_timer_stop(&b->grace);
	b->end_ns = now_ns();
	say_losses(b);
	if (b->hooks.finished)
		b->hooks.finished(b->hooks.data);
}

void batch_output_settle(struct batch *b)
{
	output_commit(b);
	batch_input_output_drained(b);
	try_finish(b);
}

void batch_output_progress_cb(void *data)
{
	struct batch_file *f = data;
	batch_output_settle(f->b);
}

/* Whether every output still to come is known to be none: stdout's reader may leave then
 * without loss. */
static bool outputs_all_written(struct batch *b)
{
	return ledger_len(&b->ledger) == 0 && !b->held.seq && !pool_busy(b->pool) &&
	       b->ro_held == 0;
}

void batch_output_stdout_lost(struct batch *b)
{
	if (b->out_state == OUTPUT_OPEN || b->out_state == OUTPUT_CLOSED_IDLE)
		output_set(b, OUTPUT_CLOSED);
	b->output_closed = true;
	batch_error(b, "standard output was closed: stopping the batch");
	batch_stop(b, VIEW_STOP_TERMINATE, NULL);
}

/* Stdout's reader left (-EPIPE). */
static void stdout_reader_left(struct batch *b)
{
	/* Whatever its writes took before is recorded first. */
	b->stdout_f.error = -EPIPE;
	output_commit(b);
	if (!outputs_all_written(b))
		batch_output_stdout_lost(b);
	else if (b->out_state == OUTPUT_OPEN)
		/* A reader that took everything and left (| head -n N): nothing is lost unless
		 * more input comes (read_one in batch_input.c sees to that). Once the output is
		 * given up or the pool has finished, no more comes. */
		output_set(b, OUTPUT_CLOSED_IDLE);
}

/* Stdout could not be written: said once; the batch goes on without it. */
static void stdout_failed(struct batch *b, int err)
{
	if (!b->write_error)
		b->write_error = err;
	b->stdout_f.error = err;
	if (err == -EBADF)
		batch_error(b, "standard output is closed: the outputs are not written");
	else
		batch_error(b, "writing standard output: %s (further output is not written)",
			    strerror(-err));
}

void batch_output_failed_cb(void *data, int err)
{
	struct batch_file *f = data;
	struct batch *b = f->b;
	if (f != &b->stdout_f)
		batch_file_failed(f, err);
	else if (err == -EPIPE)
		stdout_reader_left(b);
	else
		stdout_failed(b, err);
	batch_output_settle(b);
}

static void give_files_up(struct batch *b)
{
	uv_timer_stop(&b->grace);
	struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			output_give_up(files[i]->out);
}

/* Stop waiting for readers: what each file takes now is written, the rest dropped (and the
 * items whose output that was are left out of the joblog). While the pool runs the output is
 * OUTPUT_GIVEN_UP from now on; once it has finished, what is left is dropped and the batch
 * ends at once. */
static void give_up(struct batch *b)
{
	switch (b->out_state) {
	case OUTPUT_OPEN:
	case OUTPUT_CLOSED_IDLE:
	case OUTPUT_CLOSED:
		output_set(b, OUTPUT_GIVEN_UP);
		break;
	case OUTPUT_DRAINING:
		break;
	case OUTPUT_GIVEN_UP:
	case OUTPUT_DONE:
		return;
	}
	give_files_up(b);
	batch_output_settle(b);
}

static void grace_cb(uv_timer_t *t)
{
	give_up(t->data);
}

void batch_output_pool_finished(struct batch *b)
{
	bool given_up = b->out_state == OUTPUT_GIVEN_UP;
	if (b->cfg->keep_order)
		reorder_drain(b);
	batch_files_flush(b);
	/* A slow reader may not have taken all of the output yet: finish when it has (after a
	 * stop, STOP_GRACE_MS at most). */
	output_set(b, OUTPUT_DRAINING);
	if (b->stop >= VIEW_STOP_TERMINATE)
		uv_timer_start(&b->grace, grace_cb, STOP_GRACE_MS, 0);
	if (b->stop >= VIEW_STOP_KILL && !given_up)
		give_up(b);
	batch_output_settle(b);
}

void batch_output_stopping(struct batch *b, enum view_stop how)
{
	if (how == VIEW_STOP_TERMINATE) {
		/* Output a reader has not taken waits a little once the pool has finished. */
		if (b->out_state == OUTPUT_DRAINING && !uv_is_active((uv_handle_t *)&b->grace))
			uv_timer_start(&b->grace, grace_cb, STOP_GRACE_MS, 0);
	} else if (how == VIEW_STOP_KILL) {
		give_up(b);
	}
}

void batch_output_abandon(struct batch *b)
{
	if (b->cfg->keep_order)
		reorder_drain(b);
	give_up(b);
}

/* --- the loop --- */

static void flush_check_cb(uv_check_t *h)
{
	struct batch *b = h->data;
	batch_files_flush(b);
	batch_output_settle(b);
}

void batch_output_init(struct batch *b)
{
	b->ro_next = 1;
	uv_check_init(b->loop, &b->flush_check);
	uv_timer_init(b->loop, &b->grace);
	b->flush_check.data = b->grace.data = b;
	b->open_handles += 2;
}

void batch_output_start(struct batch *b)
{
	uv_check_start(&b->flush_check, flush_check_cb);
}

static void out_handle_closed_cb(uv_handle_t *h)
{
	batch_handle_gone(h->data);
}

void batch_output_close(struct batch *b)
{
	uv_close((uv_handle_t *)&b->flush_check, out_handle_closed_cb);
	uv_close((uv_handle_t *)&b->grace, out_handle_closed_cb);
}

void batch_output_free(struct batch *b)
{
	buf_free(&b->res_item);
	buf_free(&b->res_split);
	free(b->res_cols);
	free(b->res_col_lens);
	for (size_t i = 0; i < b->ro_cap; i++) {
		free(b->ro[i].data);
		if (b->ro[i].have && b->ro[i].spool_fd >= 0)
			close(b->ro[i].spool_fd);
	}
	free(b->ro);
	ledger_free(&b->ledger);
	buf_free(&b->line);
	buf_free(&b->jl_text);
	buf_free(&b->res_text);
	buf_free(&b->spool_text);
	template_args_free(&b->args);
}
