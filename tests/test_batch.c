/* A batch on a real loop with real workers, set up from a command line as pooltop's own: a
 * reader that does not read holds the input up (backpressure) until it reads, -k prints in input
 * order whatever order items finish in, --resume and --resume-failed skip what the joblog says,
 * stdout's reader leaving ends the batch with the status pooltop gives for it, a terminate waits
 * a grace for a stalled reader, and after every batch the loop closes with no handle left. */
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "joblog.h"
#include "output.h"
#include "run.h"
#include "util.h"
#include "view.h"

#include "scale.h"

#define MAX_WORDS 32
#define MAX_SEQ	  32768
/* The big inputs: items of ITEM_LEN bytes, each printed back with its newline by echo. */
#define ITEM_LEN  1000
#define BIG_ITEMS 20000

struct fixture {
	char dir[64]; /* for the files a test makes */
	char *argv[MAX_WORDS + 2];
	int argc;
	struct config cfg;
	struct run_settings run;
	struct job job;
	bool have_job;
	uv_loop_t loop;
	struct batch *b;
	uv_timer_t tick, deadline;
	int (*step)(struct fixture *f); /* every 5 ms until it returns non-zero */
	int stage;
	bool close_early;    /* the step closes the batch itself, before its end */
	int out_r, out_w;    /* stdout: a pipe; out_r is the reader's end (-1 once closed) */
	bool reading;	     /* the tick reads stdout into got */
	struct buf got;	     /* what was read from stdout */
	int in_r, in_w;	     /* the items' pipe, when the items come from a descriptor */
	uint64_t lines_sent; /* lines written to in_w */
	struct buf line;     /* the line being written, from line_off */
	size_t line_off;
	uint64_t hooked[MAX_SEQ]; /* the item hook's sequence numbers, in order */
	unsigned nhooked;
	unsigned closed_notices; /* "standard output was closed" notices */
	bool loop_open, closing; /* the loop is initialised; batch_close was called */
	bool finished, closed, timed_out;
	uint64_t stopped_ms, finished_ms; /* the loop's time at the test's stop, and at the end */
	struct view_summary sum;	  /* when it finished */
	char **items;			  /* the big ::: inputs */
	size_t nitems;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof(f->dir), "%s/test_batch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	f->out_r = f->out_w = f->in_r = f->in_w = -1;
	*state = f;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The test's directory and the files in it. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void closed_cb(void *data);

static void stop_timers(struct fixture *f)
{
	if (!uv_is_closing((uv_handle_t *)&f->tick))
		uv_close((uv_handle_t *)&f->tick, NULL);
	if (!uv_is_closing((uv_handle_t *)&f->deadline))
		uv_close((uv_handle_t *)&f->deadline, NULL);
}

/* After a failed assertion left the loop running (cmocka jumps out of the callback): end the
 * batch and close the loop, so that the next test starts clean. */
static void rescue_loop(struct fixture *f)
{
	if (!f->loop_open)
		return;
	if (f->b && !f->closing) {
		f->closing = true;
		batch_close(f->b, closed_cb, f);
	}
	stop_timers(f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&f->loop) != 0) {
		uv_walk(&f->loop, close_walk_cb, NULL);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		uv_loop_close(&f->loop);
	}
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rescue_loop(f);
	batch_free(f->b);
	if (f->have_job)
		job_release(&f->job);
	cli_config_free(&f->cfg);
	for (int i = 0; i < f->argc; i++)
		free(f->argv[i]);
	for (size_t i = 0; i < f->nitems; i++)
		free(f->items[i]);
	free(f->items);
	close_fd(&f->out_r);
	close_fd(&f->out_w);
	close_fd(&f->in_r);
	close_fd(&f->in_w);
	buf_free(&f->got);
	buf_free(&f->line);
	remove_dir(f->dir);
	free(f);
	return 0;
}

/* A path in the test's directory (one at a time). */
static const char *path(struct fixture *f, const char *name)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	return p;
}

/* Parse "pooltop WORD..." (words ends with NULL) as pooltop does, into the run and the job. */
static void parse(struct fixture *f, const char *const *words)
{
	f->argv[f->argc++] = xstrdup("pooltop");
	for (; *words; words++) {
		assert_true(f->argc < MAX_WORDS);
		f->argv[f->argc++] = xstrdup(*words);
	}
	char err[256] = "";
	if (cli_parse(f->argc, f->argv, &f->cfg, err, sizeof(err)) != 0)
		fail_msg("cli_parse: %s", err);
	run_settings_init(&f->run, &f->cfg);
	if (run_job_from_config(&f->cfg, &f->job, err, sizeof(err)) != 0)
		fail_msg("run_job_from_config: %s", err);
	f->have_job = true;
}

/* Stdout a pipe; the reader's end non-blocking, for the tick. */
static void stdout_pipe(struct fixture *f)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->out_r = p[0];
	f->out_w = p[1];
	assert_int_equal(fcntl(f->out_r, F_SETFL, O_NONBLOCK), 0);
}

/* The items from a pipe the test writes (non-blocking), as -a /dev/fd/N. Call before parse. */
static const char *items_pipe(struct fixture *f)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->in_r = p[0];
	f->in_w = p[1];
	assert_int_equal(fcntl(f->in_w, F_SETFL, O_NONBLOCK), 0);
	static char name[32];
	snprintf(name, sizeof(name), "/dev/fd/%d", f->in_r);
	return name;
}

/* BIG_ITEMS items of ITEM_LEN bytes as the ::: words ("000001xxx...": unique, sortable). */
static void big_items(struct fixture *f)
{
	f->nitems = BIG_ITEMS;
	f->items = xcalloc(f->nitems, sizeof(*f->items));
	for (size_t i = 0; i < f->nitems; i++) {
		f->items[i] = xmalloc(ITEM_LEN + 1);
		memset(f->items[i], 'x', ITEM_LEN);
		f->items[i][ITEM_LEN] = '\0';
		char seq[16];
		int n = snprintf(seq, sizeof(seq), "%06zu", i + 1);
		memcpy(f->items[i], seq, (size_t)n);
	}
	f->run.items = f->items;
	f->run.nitems = f->nitems;
}

/* Read what stdout holds now. */
static void read_stdout(struct fixture *f)
{
	char buf[65536];
	ssize_t n;
	while (f->out_r >= 0 && (n = read(f->out_r, buf, sizeof(buf))) > 0)
		buf_append(&f->got, buf, (size_t)n);
}

/* Write what the items' pipe takes of line after line (make_line fills f->line for line n,
 * 1-based), up to `upto` lines. Returns true when the pipe took all it was given. */
static bool send_lines(struct fixture *f, uint64_t upto,
		       void (*make_line)(struct buf *b, uint64_t n))
{
	for (;;) {
		if (f->line_off == f->line.len) {
			if (f->lines_sent == upto)
				return true;
			buf_reset(&f->line);
			make_line(&f->line, f->lines_sent + 1);
			f->line_off = 0;
		}
		ssize_t w = write(f->in_w, f->line.data + f->line_off, f->line.len - f->line_off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			assert_int_equal(errno, EAGAIN);
			return false;
		}
		f->line_off += (size_t)w;
		if (f->line_off == f->line.len)
			f->lines_sent++;
	}
}

static void event_cb(void *data, const struct view_event *ev)
{
	struct fixture *f = data;
	if (ev->kind == VIEW_EVENT_NOTICE && strstr(ev->text, "standard output was closed"))
		f->closed_notices++;
}

static void item_cb(void *data, uint64_t seq, int exitcode)
{
	struct fixture *f = data;
	(void)exitcode;
	assert_true(f->nhooked < MAX_SEQ);
	f->hooked[f->nhooked++] = seq;
}

static void closed_cb(void *data)
{
	struct fixture *f = data;
	f->closed = true;
}

static void finished_cb(void *data)
{
	struct fixture *f = data;
	f->finished = true;
	f->finished_ms = uv_now(&f->loop);
	assert_true(batch_over(f->b));
	batch_summary(f->b, &f->sum);
	stop_timers(f);
	f->closing = true;
	batch_close(f->b, closed_cb, f);
}

static void tick_cb(uv_timer_t *t)
{
	struct fixture *f = t->data;
	if (f->reading)
		read_stdout(f);
	if (f->step && f->step(f))
		f->step = NULL;
}

static void deadline_cb(uv_timer_t *t)
{
	struct fixture *f = t->data;
	f->timed_out = true;
	if (f->close_early) {
		stop_timers(f);
		f->closing = true;
		batch_close(f->b, closed_cb, f);
		return;
	}
	batch_stop(f->b, VIEW_STOP_KILL, "the test's deadline");
}

/* Run the batch parsed, its outputs to the stdout pipe, with step driving the test; returns when
 * the loop has nothing left, and checks that it closes: no handle left behind. */
static void run_batch(struct fixture *f, int (*step)(struct fixture *f))
{
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->loop_open = true;
	struct batch_hooks hooks = {
		.event = event_cb,
		.item = item_cb,
		.finished = finished_cb,
		.data = f,
	};
	char err[512] = "";
	uv_timer_init(&f->loop, &f->tick);
	uv_timer_init(&f->loop, &f->deadline);
	if (batch_new(&f->loop, &f->cfg, &f->run, &f->job, &hooks, f->out_w, true, &f->b, err,
		      sizeof(err)) != 0)
		fail_msg("batch_new: %s", err);
	/* The batch has its own description of the items' pipe now. */
	close_fd(&f->in_r);
	if (batch_start(f->b, err, sizeof(err)) != 0)
		fail_msg("batch_start: %s", err);
	f->tick.data = f->deadline.data = f;
	f->step = step;
	uv_timer_start(&f->tick, tick_cb, 5, 5);
	uv_timer_start(&f->deadline, deadline_cb, scaled_ms(30000), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_false(f->timed_out);
	assert_true(f->closed);
	assert_true(f->finished != f->close_early);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	f->loop_open = false;
	/* The rest of the output, now that no one writes. */
	close_fd(&f->out_w);
	if (f->reading)
		read_stdout(f);
}

static struct view_totals totals(struct fixture *f)
{
	struct view_totals t;
	pool_snapshot(batch_pool(f->b), &t, NULL, 0);
	return t;
}

/* The exit status pooltop gives for the batch: view_exit_status over its summary. */
struct status_view {
	struct view v;
	const struct batch *b;
};

static void status_summary(const struct view *v, struct view_summary *s)
{
	batch_summary(((const struct status_view *)v)->b, s);
}

static int exit_status(struct fixture *f)
{
	static const struct view_ops ops = {.summary = status_summary};
	struct status_view sv = {.v = {.ops = &ops}, .b = f->b};
	return view_exit_status(&sv.v);
}

static unsigned count_errors(struct fixture *f, const char *text)
{
	const char *lines[VIEW_MAX_ERRORS];
	unsigned n = batch_errors(f->b, lines), k = 0;
	for (unsigned i = 0; i < n; i++)
		if (strstr(lines[i], text))
			k++;
	return k;
}

/* Every one of the big items' outputs, whole, once, in any order. */
static void assert_big_outputs(struct fixture *f, uint64_t n)
{
	assert_int_equal(f->got.len, n * (ITEM_LEN + 1));
	char *seen = xcalloc(n + 1, 1);
	for (uint64_t i = 0; i < n; i++) {
		const char *line = f->got.data + i * (ITEM_LEN + 1);
		assert_int_equal(line[ITEM_LEN], '\n');
		unsigned long seq = strtoul(line, NULL, 10);
		assert_true(seq >= 1 && seq <= n);
		assert_false(seen[seq]);
		seen[seq] = 1;
	}
	free(seen);
}

/* --- backpressure --- */

/* The pool has finished every item it took, and the batch gives it no more: a reader that does
 * not read holds the input up. Then it reads. */
static int step_stalled_then_read(struct fixture *f)
{
	struct view_totals t = totals(f);
	if (!batch_output_blocked(f->b) || t.done + t.failed != t.submitted)
		return 0;
	assert_true(t.submitted < f->nitems);
	assert_false(t.input_ended);
	/* What waits is bounded by the high mark and the items in flight, not the input. */
	assert_true(batch_output_pending(f->b) < f->nitems * (ITEM_LEN + 1) / 2);
	assert_true(batch_output_pending(f->b) >= OUTPUT_HIGH);
	f->reading = true;
	return 1;
}

static void test_batch_stops_reading_words_while_stdout_is_full_and_resumes_once_read(void **state)
{
	struct fixture *f = *state;
	parse(f, (const char *[]){"-j", "2", "--builtin", "echo", NULL});
	big_items(f);
	stdout_pipe(f);
	run_batch(f, step_stalled_then_read);
	assert_int_equal(f->sum.done, f->nitems);
	assert_true(f->sum.input_complete);
	assert_big_outputs(f, f->nitems);
	assert_int_equal(exit_status(f), 0);
}

static void big_line(struct buf *b, uint64_t n)
{
	buf_printf(b, "%06llu", (unsigned long long)n);
	while (b->len < ITEM_LEN)
		buf_putc(b, 'x');
	buf_putc(b, '\n');
}

/* The items' pipe fills: the batch has stopped reading it, while the pool has nothing to do and
 * stdout's reader does not read. Then it reads, and the rest of the items go through. */
static int step_fd_stalled_then_read(struct fixture *f)
{
	if (f->stage == 0) {
		bool all = send_lines(f, BIG_ITEMS, big_line);
		assert_false(all); /* BIG_ITEMS lines are more than stdout and the pipes hold */
		struct view_totals t = totals(f);
		if (!batch_output_blocked(f->b) || t.done + t.failed != t.submitted)
			return 0;
		assert_true(t.submitted < f->lines_sent);
		assert_false(t.input_ended);
		f->reading = true;
		f->stage = 1;
	}
	if (!send_lines(f, BIG_ITEMS, big_line))
		return 0;
	close_fd(&f->in_w);
	return 1;
}

static void test_batch_stops_reading_a_pipe_while_stdout_is_full_and_resumes_once_read(void **state)
{
	struct fixture *f = *state;
	const char *in = items_pipe(f);
	parse(f, (const char *[]){"-j", "2", "-a", in, "--builtin", "echo", NULL});
	stdout_pipe(f);
	run_batch(f, step_fd_stalled_then_read);
	assert_int_equal(f->sum.done, BIG_ITEMS);
	assert_true(f->sum.input_complete);
	assert_big_outputs(f, BIG_ITEMS);
}

/* --- -k --- */

/* The second and third items have finished while the first waits for the flag: nothing of theirs
 * is out yet. Then the first may finish. */
static int step_hold_first(struct fixture *f)
{
	struct view_totals t = totals(f);
	if (t.done < 2)
		return 0;
	read_stdout(f);
	assert_int_equal(f->got.len, 0);
	assert_int_equal(f->nhooked, 0);
	int fd = open(path(f, "flag"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	f->reading = true;
	return 1;
}

static void test_batch_keep_order_prints_in_input_order_items_that_finish_out_of_order(void **state)
{
	struct fixture *f = *state;
	char script[256];
	snprintf(script, sizeof(script),
		 "if [ \"$1\" = first ]; then while [ ! -e '%s' ]; do sleep 0.01; done; fi; "
		 "echo \"$1\"",
		 path(f, "flag"));
	parse(f, (const char *[]){"-j", "3", "-k", "--", "sh", "-c", script, "sh", "{}",
				  ":::", "first", "second", "third", NULL});
	stdout_pipe(f);
	run_batch(f, step_hold_first);
	assert_string_equal(f->got.data, "first\nsecond\nthird\n");
	assert_int_equal(f->nhooked, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(f->hooked[i], i + 1);
	assert_int_equal(f->sum.done, 3);
}

/* --- --resume --- */

/* A joblog saying items 1 and 3 are done and item 4 failed. */
static void write_joblog(const char *file)
{
	struct buf b = {0};
	joblog_format_header(&b);
	const struct {
		uint64_t seq;
		int exitval;
	} rows[] = {{1, 0}, {3, 0}, {4, 1}};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct joblog_row r = {
			.seq = rows[i].seq,
			.start = 1e9,
			.exitval = rows[i].exitval,
			.command = "square",
			.command_len = 6,
		};
		joblog_format_row(&b, &r);
	}
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, b.data, b.len), 0);
	close(fd);
	buf_free(&b);
}

struct seqs {
	unsigned n;
	uint64_t seq[16];
	int exitval[16];
};

static int seq_cb(void *data, const struct joblog_row *row)
{
	struct seqs *s = data;
	assert_true(s->n < 16);
	s->exitval[s->n] = row->exitval;
	s->seq[s->n++] = row->seq;
	return 0;
}

static void run_resume(struct fixture *f, const char *flag, const char *expect_out,
		       const uint64_t *expect_hooked, unsigned nexpect, uint64_t skipped)
{
	const char *jl = xstrdup(path(f, "joblog"));
	write_joblog(jl);
	parse(f, (const char *[]){"-j", "2", "-k", "--joblog", jl, flag, "--builtin", "square",
				  ":::", "1", "2", "3", "4", "5", NULL});
	stdout_pipe(f);
	f->reading = true;
	run_batch(f, NULL);
	assert_string_equal(f->got.data, expect_out);
	assert_int_equal(f->nhooked, nexpect);
	for (unsigned i = 0; i < nexpect; i++)
		assert_int_equal(f->hooked[i], expect_hooked[i]);
	assert_int_equal(f->sum.skipped, skipped);
	assert_int_equal(f->sum.done, nexpect);
	/* The joblog keeps its rows and gains the new ones. */
	struct seqs s = {0};
	char err[256];
	assert_int_equal(joblog_read(jl, seq_cb, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3 + nexpect);
	for (unsigned i = 0; i < nexpect; i++) {
		assert_int_equal(s.seq[3 + i], expect_hooked[i]);
		assert_int_equal(s.exitval[3 + i], 0);
	}
	free((char *)jl);
}

static void test_batch_resume_skips_the_items_the_joblog_has(void **state)
{
	run_resume(*state, "--resume", "4\n25\n", (const uint64_t[]){2, 5}, 2, 3);
}

static void test_batch_resume_failed_also_runs_the_failed_ones_again(void **state)
{
	run_resume(*state, "--resume-failed", "4\n16\n25\n", (const uint64_t[]){2, 4, 5}, 3, 2);
}

/* --- stdout's reader leaving --- */

/* Every worker is past its start, where it closes what it inherited (stdout's reader end
 * among them): a reader that leaves then is gone. */
static bool workers_ready(struct fixture *f)
{
	struct view_totals t;
	struct view_row rows[8];
	unsigned n = pool_snapshot(batch_pool(f->b), &t, rows, 8);
	for (unsigned i = 0; i < n; i++)
		if (rows[i].state != VIEW_IDLE && rows[i].state != VIEW_BUSY)
			return false;
	return n == t.size;
}

/* The reader takes the first output and leaves while the other item still runs. */
static int step_leave_after_first(struct fixture *f)
{
	if (strcmp(f->got.data ? f->got.data : "", "25\n") != 0 || !workers_ready(f))
		return 0;
	f->reading = false;
	close_fd(&f->out_r);
	return 1;
}

static void test_batch_reader_leaving_with_outputs_to_come_stops_the_batch(void **state)
{
	struct fixture *f = *state;
	parse(f, (const char *[]){"-j", "2", "--builtin", "demo", ":::", "hang", "5", NULL});
	stdout_pipe(f);
	f->reading = true;
	run_batch(f, step_leave_after_first);
	assert_true(f->sum.output_closed);
	assert_int_equal(f->sum.done, 1);
	/* The hanging item, terminated: by SIGTERM, or by the SIGKILL that ends --term-seq when
	 * the machine is too loaded for the worker to die in time. */
	assert_int_equal(f->sum.failed, 1);
	assert_true(f->sum.codes[0].exitcode == -15 || f->sum.codes[0].exitcode == -9);
	assert_int_equal(count_errors(f, "standard output was closed: stopping the batch"), 1);
	assert_int_equal(f->closed_notices, 1);
	/* pooltop's exit status: the items that failed. */
	assert_int_equal(exit_status(f), 1);
}

static void number_line(struct buf *b, uint64_t n)
{
	buf_printf(b, "%llu\n", (unsigned long long)n);
}

/* Items 1 to 3; once their outputs are read, the reader leaves; a tick later (the loop has polled
 * since: the batch has seen it go), the input ends, or (more) brings two more items. */
static int step_reader_leaves_idle(struct fixture *f, bool more)
{
	switch (f->stage) {
	case 0:
		assert_true(send_lines(f, 3, number_line));
		f->stage = 1;
		return 0;
	case 1:
		if (strcmp(f->got.data ? f->got.data : "", "1\n4\n9\n") != 0 || !workers_ready(f))
			return 0;
		f->reading = false;
		close_fd(&f->out_r);
		f->stage = 2;
		return 0;
	default:
		if (more)
			assert_true(send_lines(f, 5, number_line));
		close_fd(&f->in_w);
		return 1;
	}
}

static int step_reader_leaves_idle_then_input_ends(struct fixture *f)
{
	return step_reader_leaves_idle(f, false);
}

static void test_batch_reader_leaving_after_every_output_is_no_error(void **state)
{
	struct fixture *f = *state;
	const char *in = items_pipe(f);
	parse(f, (const char *[]){"-j", "2", "-k", "-a", in, "--builtin", "square", NULL});
	stdout_pipe(f);
	f->reading = true;
	run_batch(f, step_reader_leaves_idle_then_input_ends);
	assert_false(f->sum.output_closed);
	assert_int_equal(f->sum.done, 3);
	assert_int_equal(f->sum.unwritten, 0);
	assert_int_equal(count_errors(f, "standard output"), 0);
	assert_int_equal(exit_status(f), 0);
}

static int step_reader_leaves_idle_then_more_comes(struct fixture *f)
{
	return step_reader_leaves_idle(f, true);
}

/* More input after the reader took everything and left: its output could go nowhere, so the
 * batch stops, and says so once, whatever else was read. */
static void test_batch_item_read_after_the_reader_left_stops_the_batch_once(void **state)
{
	struct fixture *f = *state;
	const char *in = items_pipe(f);
	parse(f, (const char *[]){"-j", "2", "-k", "-a", in, "--builtin", "square", NULL});
	stdout_pipe(f);
	f->reading = true;
	run_batch(f, step_reader_leaves_idle_then_more_comes);
	assert_true(f->sum.output_closed);
	assert_int_equal(f->sum.done, 3);
	assert_int_equal(count_errors(f, "standard output was closed: stopping the batch"), 1);
	assert_int_equal(f->closed_notices, 1);
	/* Nothing failed, but an item's output had nowhere to go. */
	assert_int_equal(exit_status(f), 255);
}

/* --- stopping --- */

/* batch.c's STOP_GRACE_MS: how long a terminate lets a stalled reader hold up the end. */
#define STOP_GRACE_MS 1000

/* The pool has finished, the outputs wait for a reader that never reads: terminate. */
static int step_terminate_while_draining(struct fixture *f)
{
	struct view_totals t = totals(f);
	if (!t.finished || !batch_output_blocked(f->b))
		return 0;
	assert_false(batch_over(f->b));
	f->stopped_ms = uv_now(&f->loop);
	batch_stop(f->b, VIEW_STOP_TERMINATE, "test");
	return 1;
}

static void test_batch_terminate_gives_a_stalled_reader_a_grace_then_gives_up(void **state)
{
	struct fixture *f = *state;
	parse(f, (const char *[]){"-j", "2", "--builtin", "echo", NULL});
	big_items(f);
	f->run.nitems = 200; /* 200 KB: more than the pipe takes, less than the high mark */
	stdout_pipe(f);
	run_batch(f, step_terminate_while_draining);
	assert_true(f->stopped_ms > 0);
	/* A lower bound the code promises: not scaled. */
	assert_true(f->finished_ms - f->stopped_ms >= STOP_GRACE_MS);
	assert_int_equal(f->sum.done, 200);
	assert_true(f->sum.dropped_bytes > 0);
	assert_true(f->sum.unwritten > 0);
	/* Nothing failed, but outputs were lost. */
	assert_int_equal(exit_status(f), 255);
}

/* Both items hang: close the batch before its end. */
static int step_close_while_busy(struct fixture *f)
{
	struct view_totals t = totals(f);
	if (t.busy < 2)
		return 0;
	stop_timers(f);
	f->closing = true;
	batch_close(f->b, closed_cb, f);
	return 1;
}

/* --- the failed items --- */

/* The items that failed, for a front end to list: the first VIEW_FAILED_KEPT in the order they
 * failed, each with its exit code and text; the others only counted, so memory stays bounded. */
static void test_batch_keeps_the_first_failed_items_and_counts_the_rest(void **state)
{
	struct fixture *f = *state;
	const char *words[40] = {"-j", "1", "--builtin", "fail", ":::"};
	char items[25][8];
	size_t n = 5;
	for (int i = 0; i < 25; i++) {
		snprintf(items[i], sizeof(items[i]), "x%d", i + 1);
		words[n++] = items[i];
	}
	words[n] = NULL;
	parse(f, words);
	stdout_pipe(f);
	f->reading = true;
	run_batch(f, NULL);
	struct view_failed fl;
	batch_failed(f->b, &fl);
	assert_int_equal(f->sum.failed, 25);
	assert_int_equal(fl.total, 25);
	assert_int_equal(fl.n, VIEW_FAILED_KEPT);
	for (unsigned i = 0; i < fl.n; i++) {
		char want[16];
		snprintf(want, sizeof(want), "x%u", i + 1);
		assert_int_equal(fl.items[i].seq, i + 1);
		assert_int_equal(fl.items[i].exitcode, 1);
		assert_int_equal(fl.items[i].item_len, strlen(want));
		assert_memory_equal(fl.items[i].item, want, strlen(want));
	}
}

static void test_batch_closed_before_its_end_leaves_no_handle(void **state)
{
	struct fixture *f = *state;
	parse(f, (const char *[]){"-j", "2", "--builtin", "hang", ":::", "a", "b", NULL});
	stdout_pipe(f);
	f->close_early = true;
	run_batch(f, step_close_while_busy);
	assert_false(batch_over(f->b));
}

int main(void)
{
	/* Writes to a pipe whose reader left fail with EPIPE, as in pooltop. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_batch_stops_reading_words_while_stdout_is_full_and_resumes_once_read,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_stops_reading_a_pipe_while_stdout_is_full_and_resumes_once_read,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_keep_order_prints_in_input_order_items_that_finish_out_of_order,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_resume_skips_the_items_the_joblog_has,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_resume_failed_also_runs_the_failed_ones_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_reader_leaving_with_outputs_to_come_stops_the_batch, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_reader_leaving_after_every_output_is_no_error, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_item_read_after_the_reader_left_stops_the_batch_once, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_terminate_gives_a_stalled_reader_a_grace_then_gives_up, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_keeps_the_first_failed_items_and_counts_the_rest, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_batch_closed_before_its_end_leaves_no_handle,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
