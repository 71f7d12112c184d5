/* The view model's commands on a batch run here (view_local_new), on a real loop with real
 * workers: a command aims at a worker as drawn, so one carrying the generation of a process
 * since replaced is refused with -ESTALE and reaches nobody; a signal or a slot that cannot be
 * is -EINVAL. */
#include "view.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "run.h"
#include "scale.h"
#include "util.h"

#define MAX_WORDS 32
#define MAX_ROWS  8

/* One batch: its command line (argv owned here: the config points into it), its view on a
 * loop, and a step that drives the test every 5 ms until it returns non-zero. */
struct fixture {
	char *argv[MAX_WORDS + 1];
	int argc;
	struct config cfg;
	struct run_settings run;
	struct job job;
	uv_loop_t loop;
	struct view *view;
	uv_timer_t driver;
	uv_timer_t deadline;
	int (*step)(struct fixture *f);
	int stage;
	struct view_row first; /* slot 0 as first drawn busy */
	struct view_row next;  /* slot 0 once its process was replaced */
	unsigned steps_done;   /* steps that returned non-zero: 1 when the test got to its end */
	bool finished, closed, timed_out;
};

static int setup(void **state)
{
	*state = xcalloc(1, sizeof(struct fixture));
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < f->argc; i++)
		free(f->argv[i]);
	free(f);
	return 0;
}

/* Slot i as a front end would draw it now. */
static struct view_row row(struct fixture *f, unsigned i)
{
	struct view_totals t;
	struct view_row rows[MAX_ROWS];
	unsigned n = view_snapshot(f->view, &t, rows, MAX_ROWS);
	assert_true(i < n);
	return rows[i];
}

/* The process drawn in r is alive (not reaped; asked to stop, it would show STOPPING). */
static void assert_running(const struct view_row *r)
{
	assert_true(r->pid > 0);
	assert_true(r->state == VIEW_IDLE || r->state == VIEW_BUSY);
	assert_int_equal(kill(r->pid, 0), 0);
}

static void view_closed_cb(void *data)
{
	struct fixture *f = data;
	f->closed = true;
}

static void finished_cb(void *data)
{
	struct fixture *f = data;
	f->finished = true;
	uv_timer_stop(&f->driver);
	uv_timer_stop(&f->deadline);
	uv_close((uv_handle_t *)&f->driver, NULL);
	uv_close((uv_handle_t *)&f->deadline, NULL);
	view_close(f->view, view_closed_cb, f);
}

static void driver_cb(uv_timer_t *t)
{
	struct fixture *f = t->data;
	if (!f->step || !f->step(f))
		return;
	f->step = NULL;
	f->steps_done++;
	view_stop(f->view, VIEW_STOP_KILL, "the test is over");
}

static void deadline_cb(uv_timer_t *t)
{
	struct fixture *f = t->data;
	f->timed_out = true;
	f->step = NULL;
	view_stop(f->view, VIEW_STOP_KILL, "the test ran out of time");
}

/* Run the command line words (n of them) in a local view, with step driving the test; then
 * check it got to its end and the loop closes cleanly. */
static void run_view_words(struct fixture *f, const char *const *words, size_t n,
			   int (*step)(struct fixture *f))
{
	char err[512];
	for (size_t i = 0; i < n; i++)
		f->argv[f->argc++] = xstrdup(words[i]);
	if (cli_parse(f->argc, f->argv, &f->cfg, err, sizeof(err)) < 0)
		fail_msg("pooltop: %s", err);
	run_settings_init(&f->run, &f->cfg);
	if (run_job_from_config(&f->cfg, &f->job, err, sizeof(err)) < 0)
		fail_msg("pooltop: %s", err);

	assert_int_equal(uv_loop_init(&f->loop), 0);
	struct view_hooks hooks = {.finished = finished_cb, .data = f};
	if (view_local_new(&f->loop, &f->cfg, &f->run, &f->job, &hooks, STDOUT_FILENO, false,
			   &f->view, err, sizeof(err)) < 0 ||
	    view_start(f->view, err, sizeof(err)) < 0)
		fail_msg("pooltop: %s", err);
	f->step = step;
	uv_timer_init(&f->loop, &f->driver);
	uv_timer_init(&f->loop, &f->deadline);
	f->driver.data = f->deadline.data = f;
	uv_timer_start(&f->driver, driver_cb, 5, 5);
	uv_timer_start(&f->deadline, deadline_cb, scaled_ms(20000), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);

	assert_false(f->timed_out);
	assert_int_equal(f->steps_done, 1);
	assert_true(f->finished);
	assert_true(f->closed);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	view_free(f->view);
	job_release(&f->job);
	cli_config_free(&f->cfg);
}

/* Run "pooltop -j 2 --builtin sleep:MS ::: ..." (items that outlast the test). */
static void run_view(struct fixture *f, int (*step)(struct fixture *f))
{
	char spec[48];
	snprintf(spec, sizeof(spec), "sleep:%u", scaled_ms(60000));
	const char *words[] = {"pooltop", "-j", "2", "--builtin", spec, ":::", "a",
			       "b",	  "c",	"d", "e",	  "f",	"g",   "h"};
	run_view_words(f, words, ARRAY_SIZE(words), step);
}

/* Kill slot 0 as drawn; once it has a new process, aim every command at the old one. */
static int step_kill_then_aim_at_the_old_generation(struct fixture *f)
{
	struct view_row r = row(f, 0);
	if (f->stage == 0) {
		if (r.state != VIEW_BUSY)
			return 0;
		f->first = r;
		assert_int_equal(view_command(f->view, VIEW_KILL, 0, r.generation, 0), 0);
		f->stage = 1;
		return 0;
	}
	/* The new process, once it is up. */
	if (r.generation == f->first.generation || r.pid <= 0 ||
	    (r.state != VIEW_IDLE && r.state != VIEW_BUSY))
		return 0;
	f->next = r;
	uint64_t old = f->first.generation;
	assert_int_equal(view_command(f->view, VIEW_TERMINATE, 0, old, 0), -ESTALE);
	assert_int_equal(view_command(f->view, VIEW_KILL, 0, old, 0), -ESTALE);
	assert_int_equal(view_command(f->view, VIEW_JOIN, 0, old, 0), -ESTALE);
	assert_int_equal(view_command(f->view, VIEW_RESTART, 0, old, 0), -ESTALE);
	assert_int_equal(view_command(f->view, VIEW_SIGNAL, 0, old, SIGTERM), -ESTALE);
	/* Nothing reached the new process: drawn as before, not stopping, alive. */
	r = row(f, 0);
	assert_int_equal(r.generation, f->next.generation);
	assert_int_equal(r.pid, f->next.pid);
	assert_running(&r);
	return 1;
}

static void
test_view_command_with_a_replaced_generation_is_stale_and_spares_the_new_process(void **state)
{
	struct fixture *f = *state;
	run_view(f, step_kill_then_aim_at_the_old_generation);
	assert_int_not_equal(f->next.pid, f->first.pid);
	assert_true(f->next.generation > f->first.generation);
}

/* Slot 0 busy: signals that cannot be sent, at the process as drawn. */
static int step_send_invalid_signals(struct fixture *f)
{
	struct view_row r = row(f, 0);
	if (r.state != VIEW_BUSY)
		return 0;
	f->first = r;
	assert_int_equal(view_command(f->view, VIEW_SIGNAL, 0, r.generation, 0), -EINVAL);
	assert_int_equal(view_command(f->view, VIEW_SIGNAL, 0, r.generation, -1), -EINVAL);
	assert_int_equal(view_command(f->view, VIEW_SIGNAL, 0, r.generation, -SIGTERM), -EINVAL);
	assert_int_equal(view_command(f->view, VIEW_SIGNAL, 0, r.generation, NSIG), -EINVAL);
	assert_int_equal(view_command(f->view, VIEW_SIGNAL, 0, r.generation, INT_MAX), -EINVAL);
	r = row(f, 0);
	assert_int_equal(r.generation, f->first.generation);
	assert_running(&r);
	return 1;
}

static void test_view_signal_that_is_no_signal_is_einval(void **state)
{
	run_view(*state, step_send_invalid_signals);
}

/* Once the pool runs: every command at slots that cannot exist. */
static int step_aim_at_slots_out_of_range(struct fixture *f)
{
	static const enum view_command cmds[] = {VIEW_TERMINATE, VIEW_KILL, VIEW_JOIN, VIEW_RESTART,
						 VIEW_SIGNAL};
	static const unsigned slots[] = {POOLTOP_MAX_WORKERS, POOLTOP_MAX_WORKERS + 1, UINT_MAX};
	struct view_row r = row(f, 0);
	if (r.state != VIEW_BUSY)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		for (size_t j = 0; j < ARRAY_SIZE(slots); j++)
			assert_int_equal(
				view_command(f->view, cmds[i], slots[j], r.generation, SIGTERM),
				-EINVAL);
	assert_running(&r);
	return 1;
}

static void test_view_command_on_a_slot_out_of_range_is_einval(void **state)
{
	run_view(*state, step_aim_at_slots_out_of_range);
}

#define ITEM_SCRIPT "case $1 in [0-9]*) sleep $1;; esac; echo out-$1; echo err-$1 >&2; exit 3"

/* Once items 1 and 2 are done on slot 0: each one in full, by its seq. */
static int step_open_the_recent_items(struct fixture *f)
{
	static struct view_detail d;
	static struct view_item it;
	assert_int_equal(view_detail(f->view, 0, &d), 0);
	if (d.nrecent < 2)
		return 0;
	for (uint64_t seq = 1; seq <= 2; seq++) {
		const char *name = seq == 1 ? "a" : "b";
		char want[160];
		assert_int_equal(view_item(f->view, 0, seq, &it), 0);
		assert_int_equal(it.h.seq, seq);
		assert_int_equal(it.h.exitcode, 3);
		assert_int_equal(it.attempts, 1);
		assert_true(it.start > 1e9);
		snprintf(want, sizeof(want), "sh -c '" ITEM_SCRIPT "' _ %s", name);
		assert_int_equal(it.cmd_len, strlen(want));
		assert_memory_equal(it.cmd, want, it.cmd_len);
		snprintf(want, sizeof(want), "out-%s\n", name);
		assert_int_equal(it.out_len, strlen(want));
		assert_memory_equal(it.out, want, it.out_len);
		snprintf(want, sizeof(want), "err-%s\n", name);
		assert_int_equal(it.err_len, strlen(want));
		assert_int_equal(it.err_total, strlen(want));
		assert_memory_equal(it.err, want, it.err_len);
		assert_int_equal(it.item_len, 1);
		assert_memory_equal(it.item, name, 1);
	}
	assert_int_equal(view_item(f->view, 0, 3, &it), -ENOENT); /* running, not recent */
	assert_int_equal(view_item(f->view, 1, 1, &it), -ENOENT);
	assert_int_equal(view_item(f->view, POOLTOP_MAX_WORKERS, 1, &it), -EINVAL);
	return 1;
}

static void test_view_item_gives_a_recent_item_in_full(void **state)
{
	char slow[64];
	snprintf(slow, sizeof(slow), "%u", scaled_ms(60000) / 1000);
	const char *words[] = {"pooltop", "-j", "1",   "--", "sh", "-c", ITEM_SCRIPT,
			       "_",	  "{}", ":::", "a",  "b",  slow};
	run_view_words(*state, words, ARRAY_SIZE(words), step_open_the_recent_items);
}

#define VIEW_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		VIEW_TEST(
			test_view_command_with_a_replaced_generation_is_stale_and_spares_the_new_process),
		VIEW_TEST(test_view_signal_that_is_no_signal_is_einval),
		VIEW_TEST(test_view_command_on_a_slot_out_of_range_is_einval),
		VIEW_TEST(test_view_item_gives_a_recent_item_in_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
