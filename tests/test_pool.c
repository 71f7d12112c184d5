/* The supervisor's commands on a real loop with real workers (tests/pool_harness.h): every item
 * once, join (fini runs, no respawn), terminate and kill (-15/-9, no fini, respawn, the item
 * failed or retried), stop and continue, a signal to the job, stale generations refused, join
 * timeouts escalated. */
#include "pool_harness.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scale.h"

static void test_pool_runs_every_item_once_and_joins_workers_at_the_end(void **state)
{
	(void)state;
	static char buf[300][8];
	const char *items[300];
	for (int i = 0; i < 300; i++) {
		snprintf(buf[i], sizeof(buf[i]), "%d", i + 1);
		items[i] = buf[i];
	}
	struct ctx *c = ctx_new();
	run_pool(c, "square", 3, 0, 0, items, 300, NULL);
	assert_int_equal(c->nresults, 300);
	for (int s = 1; s <= 300; s++)
		assert_int_equal(c->seen[s], 1);
	assert_int_equal(c->totals.done, 300);
	assert_int_equal(c->totals.duplicates, 0);
	/* Each worker was joined at the end: exit 0, fini ran, not respawned. */
	assert_int_equal(c->nexits, 3);
	for (unsigned i = 0; i < c->nexits; i++) {
		assert_int_equal(c->exits[i], 0);
		assert_true(c->exit_fini[i]);
		assert_int_equal(c->exit_causes[i], VIEW_CAUSE_END);
	}
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(c->views[i].state, VIEW_EXITED);
		assert_int_equal(c->views[i].restarts, 0);
	}
	free(c);
}

/* Slot 0 busy -> join it: the item finishes, fini runs, exit 0, no respawn. */
static int step_join_busy(struct ctx *c)
{
	struct view_row v = view(c, 0);
	if (c->stage == 0) {
		if (v.state != VIEW_BUSY)
			return 0;
		c->gen = v.generation;
		c->seen[0] = (unsigned)v.cur_seq; /* remember which item it runs */
		assert_int_equal(pool_slot_join(c->pool, 0, v.generation), 0);
		c->stage = 1;
		return 0;
	}
	return 1;
}

static void test_pool_join_finishes_the_item_runs_fini_and_does_not_respawn(void **state)
{
	(void)state;
	const char *items[] = {"a", "b", "c", "d", "e", "f"};
	struct ctx *c = ctx_new();
	run_pool(c, "sleep:150", 2, 0, 0, items, 6, step_join_busy);
	uint64_t joined_item = c->seen[0];
	assert_true(joined_item >= 1);
	const struct pool_result *r = result_of(c, joined_item);
	assert_true(r->done);
	assert_int_equal(r->exitcode, 0);
	assert_int_equal(r->slot, 0);
	/* Every item done exactly once, the rest by slot 1. */
	for (int s = 1; s <= 6; s++)
		assert_int_equal(c->seen[s], s == (int)joined_item ? 1 : 1);
	assert_int_equal(c->totals.done, 6);
	/* Slot 0: one process only (generation unchanged), exit 0 with fini. */
	assert_int_equal(c->views[0].generation, c->gen);
	assert_int_equal(c->views[0].restarts, 0);
	assert_int_equal(c->views[0].last_exit, 0);
	assert_true(c->views[0].fini_ran);
	assert_int_equal(c->views[0].last_cause, VIEW_CAUSE_JOIN);
	free(c);
}

/* Slot 0 busy -> terminate (or kill) it with the generation seen. */
static int step_signal_busy(struct ctx *c, int (*cmd)(struct pool *, unsigned, uint64_t))
{
	struct view_row v = view(c, 0);
	if (c->stage == 0) {
		if (v.state != VIEW_BUSY || v.age_ns < 20 * NS_PER_MS)
			return 0;
		c->gen = v.generation;
		c->seen[0] = (unsigned)v.cur_seq;
		/* A stale generation is refused and changes nothing. */
		assert_int_equal(cmd(c->pool, 0, v.generation + 7), -ESTALE);
		assert_int_equal(cmd(c->pool, 0, v.generation), 0);
		c->stage = 1;
	}
	return c->stage == 1;
}

static int step_terminate_busy(struct ctx *c)
{
	return step_signal_busy(c, pool_slot_terminate);
}

static int step_kill_busy(struct ctx *c)
{
	return step_signal_busy(c, pool_slot_kill);
}

static void test_pool_terminate_gives_minus_15_no_fini_fails_item_and_respawns(void **state)
{
	(void)state;
	const char *items[] = {"a", "b", "c", "d"};
	struct ctx *c = ctx_new();
	run_pool(c, sleep_spec(300), 2, 0, 0, items, 4, step_terminate_busy);
	uint64_t victim = c->seen[0];
	const struct pool_result *r = result_of(c, victim);
	assert_false(r->done);
	assert_int_equal(r->exitcode, -15);
	assert_int_equal(r->cause, VIEW_CAUSE_USER);
	assert_int_equal(c->totals.done, 3);
	assert_int_equal(c->totals.failed, 1);
	/* The first exit event is the terminated worker: -15, no fini. */
	assert_int_equal(c->exits[0], -15);
	assert_false(c->exit_fini[0]);
	assert_int_equal(c->exit_causes[0], VIEW_CAUSE_USER);
	/* The slot ran a new process afterwards. */
	assert_true(c->views[0].generation > c->gen);
	assert_int_equal(c->views[0].restarts, 1);
	free(c);
}

static void test_pool_kill_gives_minus_9_and_retries_the_item_under_retries(void **state)
{
	(void)state;
	const char *items[] = {"a", "b", "c", "d"};
	struct ctx *c = ctx_new();
	run_pool(c, sleep_spec(300), 2, 1, 0, items, 4, step_kill_busy);
	uint64_t victim = c->seen[0];
	const struct pool_result *r = result_of(c, victim);
	assert_true(r->done); /* the retry succeeded */
	assert_int_equal(r->attempts, 2);
	assert_int_equal(c->exits[0], -9);
	assert_int_equal(c->totals.done, 4);
	assert_int_equal(c->totals.retried, 1);
	for (int s = 1; s <= 4; s++)
		assert_int_equal(c->seen[s], 1);
	free(c);
}

static int step_kill_requeue_busy(struct ctx *c)
{
	return step_signal_busy(c, pool_slot_kill_requeue);
}

/* K: the killed worker's item runs again as if it never started: done once, on its first
 * attempt by the count, with no retry and no failure, even with --retries 0. */
static void test_pool_kill_requeue_runs_the_item_again_without_counting_an_attempt(void **state)
{
	(void)state;
	const char *items[] = {"a", "b", "c", "d"};
	struct ctx *c = ctx_new();
	run_pool(c, sleep_spec(300), 2, 0, 0, items, 4, step_kill_requeue_busy);
	uint64_t victim = c->seen[0];
	assert_true(victim >= 1);
	const struct pool_result *r = result_of(c, victim);
	assert_true(r->done);
	assert_int_equal(r->exitcode, 0);
	assert_int_equal(r->attempts, 1);
	assert_int_equal(c->exits[0], -9);
	assert_int_equal(c->exit_causes[0], VIEW_CAUSE_USER);
	assert_int_equal(c->totals.done, 4);
	assert_int_equal(c->totals.failed, 0);
	assert_int_equal(c->totals.retried, 0);
	assert_true(c->totals.requeued >= 1);
	assert_int_equal(c->totals.duplicates, 0);
	assert_int_equal(c->nresults, 4);
	for (int s = 1; s <= 4; s++)
		assert_int_equal(c->seen[s], 1);
	/* The slot ran a new process afterwards. */
	assert_true(c->views[0].generation > c->gen);
	free(c);
}

/* The state letter of pid in /proc ('T' stopped), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *e = strrchr(buf, ')');
	return e && e[1] == ' ' ? e[2] : 0;
}

/* SIGSTOP on a worker busy on a hanging item: STOPPED (its process really stopped), not HUNG
 * however long it stays so, not counted hung; SIGCONT: BUSY again, and still not HUNG (the
 * time stopped is not running time). Then it is killed (the item hangs for ever). */
static int step_stop_then_cont(struct ctx *c)
{
	struct view_totals t;
	struct view_row v[8];
	pool_snapshot(c->pool, &t, v, 8);
	uint64_t hang = t.hang_after_ns;
	switch (c->stage) {
	case 0:
		if (v[0].state != VIEW_BUSY)
			return 0;
		c->gen = v[0].generation;
		c->seen[0] = (unsigned)v[0].cur_seq;
		assert_int_equal(pool_slot_signal(c->pool, 0, v[0].generation, SIGSTOP), 0);
		c->stage = 1;
		return 0;
	default:
		assert_int_equal(v[0].state, VIEW_STOPPED);
		assert_int_equal(v[0].cur_seq, c->seen[0]);
		assert_false(v[0].hung);
		if (proc_state(v[0].pid) != 'T' || v[0].age_ns < 3 * hang)
			return 0;
		assert_int_equal(t.hung, 0);
		assert_int_equal(t.busy, 1);
		assert_int_equal(pool_slot_signal(c->pool, 0, v[0].generation, SIGCONT), 0);
		pool_snapshot(c->pool, &t, v, 8);
		assert_int_equal(v[0].state, VIEW_BUSY);
		assert_true(v[0].age_ns >= 3 * hang);
		assert_false(v[0].hung);
		assert_int_equal(t.hung, 0);
		assert_int_equal(pool_slot_kill(c->pool, 0, v[0].generation), 0);
		c->stage = 2;
		return 1;
	}
}

static void test_pool_stop_shows_stopped_not_hung_and_cont_resumes(void **state)
{
	(void)state;
	const char *items[] = {"hang", "sleep:10"};
	struct ctx *c = ctx_new();
	struct pool_config cfg = {
		.workers = 1,
		.join_timeout_ns = scaled_ns(10 * NS_PER_S),
		.hang_after_ns = scaled_ns(150 * NS_PER_MS),
		.worker_stderr_fd = -1,
	};
	char err[128];
	assert_int_equal(job_builtin_parse("demo", &cfg.job, err, sizeof(err)), 0);
	run_pool_cfg(c, &cfg, items, 2, step_stop_then_cont);
	assert_int_equal(c->stage, 2);
	assert_int_equal(result_of(c, 1)->exitcode, -9);
	assert_true(result_of(c, 2)->done);
	free(c);
}

/* A join asked of a stopped worker waits on it (it cannot see the flag until continued): the
 * row says STOPPING, and not HUNG, however long it waits. */
static int step_stop_then_join(struct ctx *c)
{
	struct view_totals t;
	struct view_row v[8];
	pool_snapshot(c->pool, &t, v, 8);
	switch (c->stage) {
	case 0:
		if (v[0].state != VIEW_BUSY)
			return 0;
		c->gen = v[0].generation;
		assert_int_equal(pool_slot_signal(c->pool, 0, v[0].generation, SIGSTOP), 0);
		assert_int_equal(pool_slot_join(c->pool, 0, v[0].generation), 0);
		c->stage = 1;
		return 0;
	default:
		assert_int_equal(v[0].state, VIEW_STOPPING);
		assert_false(v[0].hung);
		if (v[0].age_ns < 3 * t.hang_after_ns)
			return 0;
		assert_int_equal(t.hung, 0);
		assert_int_equal(pool_slot_kill(c->pool, 0, v[0].generation), 0);
		return 1;
	}
}

static void test_pool_stopped_worker_asked_to_join_is_stopping_not_hung(void **state)
{
	(void)state;
	const char *items[] = {"hang"};
	struct ctx *c = ctx_new();
	struct pool_config cfg = {
		.workers = 1,
		.join_timeout_ns = scaled_ns(10 * NS_PER_S),
		.hang_after_ns = scaled_ns(150 * NS_PER_MS),
		.worker_stderr_fd = -1,
	};
	char err[128];
	assert_int_equal(job_builtin_parse("demo", &cfg.job, err, sizeof(err)), 0);
	run_pool_cfg(c, &cfg, items, 1, step_stop_then_join);
	assert_int_equal(c->stage, 1);
	assert_int_equal(result_of(c, 1)->exitcode, -9);
	free(c);
}

/* A signal for a command's job goes to the job's group, not to the worker (whose SIGUSR1 is
 * at its default): the job ends with -10, the worker lives on. */
static int step_usr1_to_job(struct ctx *c)
{
	struct view_row v = view(c, 0);
	if (v.state != VIEW_BUSY || v.job_pid <= 0)
		return 0;
	c->gen = v.generation;
	c->seen[0] = (unsigned)v.cur_seq;
	assert_int_equal(pool_slot_signal(c->pool, 0, v.generation, SIGUSR1), 0);
	return 1;
}

static void test_pool_signal_goes_to_the_job_not_its_worker(void **state)
{
	(void)state;
	static const char *items[] = {"30", "0"};
	struct ctx *c = ctx_new();
	struct pool_config cfg;
	command_config(&cfg, 1);
	char *argv[] = {"sleep", NULL};
	char err[128];
	job_release(&cfg.job);
	assert_int_equal(job_command_new(argv, &cfg.job, err, sizeof(err)), 0);
	run_pool_cfg(c, &cfg, items, 2, step_usr1_to_job);
	job_release(&cfg.job);
	const struct pool_result *r = result_of(c, c->seen[0]);
	assert_false(r->done);
	assert_int_equal(r->exitcode, -SIGUSR1);
	assert_int_equal(c->totals.done, 1);
	/* One worker throughout, joined at the end. */
	assert_int_equal(c->views[0].generation, c->gen);
	assert_int_equal(c->nexits, 1);
	assert_int_equal(c->exits[0], 0);
	free(c);
}

static void test_pool_join_past_timeout_is_terminated(void **state)
{
	(void)state;
	const char *items[] = {"a"};
	struct ctx *c = ctx_new();
	/* A hanging item never lets the join finish: after 200 ms, SIGTERM; SIGKILL only a
	 * grace as long again (at least 1 s) later. Scaled: under valgrind a process killed by a
	 * signal does its leak check before it dies. */
	run_pool(c, "hang", 1, 0, scaled_ns(200 * NS_PER_MS), items, 1, step_join_busy);
	assert_int_equal(c->exits[0], -15);
	assert_int_equal(c->exit_causes[0], VIEW_CAUSE_JOIN_TIMEOUT);
	assert_false(c->exit_fini[0]);
	const struct pool_result *r = result_of(c, 1);
	assert_int_equal(r->exitcode, -15);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_runs_every_item_once_and_joins_workers_at_the_end),
		cmocka_unit_test(test_pool_join_finishes_the_item_runs_fini_and_does_not_respawn),
		cmocka_unit_test(
			test_pool_terminate_gives_minus_15_no_fini_fails_item_and_respawns),
		cmocka_unit_test(test_pool_kill_gives_minus_9_and_retries_the_item_under_retries),
		cmocka_unit_test(
			test_pool_kill_requeue_runs_the_item_again_without_counting_an_attempt),
		cmocka_unit_test(test_pool_stop_shows_stopped_not_hung_and_cont_resumes),
		cmocka_unit_test(test_pool_stopped_worker_asked_to_join_is_stopping_not_hung),
		cmocka_unit_test(test_pool_signal_goes_to_the_job_not_its_worker),
		cmocka_unit_test(test_pool_join_past_timeout_is_terminated),
	};
	return _cmocka_run_group_tests("test_pool", tests, sizeof(tests) / sizeof(tests[0]), NULL,
				       NULL);
}
