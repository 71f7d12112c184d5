/* The kill-safe rings: push/pop/full/empty/wrap-around, every repair branch after a holder is
 * killed at a chosen point (forked children), wake-ups never lost, and a kill storm. */
#include "queue.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scale.h"

#define CAP 4096u

struct fixture {
	void *mem;
	size_t size;
	struct queue *q;
};

static int setup_n(void **state, uint32_t nclients, uint64_t cap)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	f->size = queue_size(nclients, cap, cap);
	f->mem = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f->mem != MAP_FAILED);
	assert_int_equal(queue_init(f->mem, nclients, cap, cap), 0);
	f->q = f->mem;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_n(state, 4, CAP);
}

static int setup8(void **state)
{
	return setup_n(state, 8, CAP);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	munmap(f->mem, f->size);
	free(f);
	queue_fault_hook = NULL;
	return 0;
}

static void push_str(struct queue *q, uint64_t seq, const char *s)
{
	struct queue_ref ref = {.seq = seq, .handle = (uint32_t)seq, .attempt = 1};
	assert_int_equal(queue_input_push(q, &ref, s, strlen(s)), 0);
}

static void test_queue_pop_returns_items_in_order_with_their_bytes(void **state)
{
	struct fixture *f = *state;
	push_str(f->q, 1, "alpha");
	push_str(f->q, 2, "");
	push_str(f->q, 3, "gamma");
	assert_int_equal(queue_input_count(f->q), 3);

	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	int n = queue_pop(f->q, 0, 10, &data, offs);
	assert_int_equal(n, 3);
	struct queue_client *c = queue_client(f->q, 0);
	assert_int_equal(c->nheld, 3);
	assert_int_equal(c->published, 0);
	assert_int_equal(c->held[0].seq, 1);
	assert_int_equal(c->held[2].seq, 3);
	assert_memory_equal(data.data + offs[0], "alpha", 5);
	assert_int_equal(offs[2] - offs[1], 0);
	assert_memory_equal(data.data + offs[2], "gamma", 5);
	assert_int_equal(offs[3] - offs[2], 5);
	assert_int_equal(queue_input_count(f->q), 0);
	buf_free(&data);
}

static void test_queue_pop_on_empty_ring_returns_zero(void **state)
{
	struct fixture *f = *state;
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 1, 8, &data, offs), 0);
	assert_false(queue_input_ready(f->q));
	buf_free(&data);
}

static void test_queue_pop_takes_at_most_max(void **state)
{
	struct fixture *f = *state;
	for (uint64_t i = 1; i <= 5; i++)
		push_str(f->q, i, "x");
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 0, 2, &data, offs), 2);
	assert_int_equal(queue_input_count(f->q), 3);
	buf_free(&data);
}

static void test_queue_pop_refuses_while_results_unpublished(void **state)
{
	struct fixture *f = *state;
	push_str(f->q, 1, "a");
	push_str(f->q, 2, "b");
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 0, 1, &data, offs), 1);
	assert_int_equal(queue_pop(f->q, 0, 1, &data, offs), -EBUSY);
	buf_free(&data);
}

static void test_queue_push_reports_full_then_too_big(void **state)
{
	struct fixture *f = *state;
	char item[100];
	memset(item, 'z', sizeof(item));
	struct queue_ref ref = {.seq = 1, .attempt = 1};
	int pushed = 0;
	while (queue_input_push(f->q, &ref, item, sizeof(item)) == 0)
		pushed++;
	assert_true(pushed > 10);
	assert_int_equal(queue_input_push(f->q, &ref, item, sizeof(item)), -ENOSPC);
	char *big = xcalloc(1, CAP);
	assert_int_equal(queue_input_push(f->q, &ref, big, CAP), -E2BIG);
	assert_int_equal(queue_input_push(f->q, &ref, big, queue_max_item(f->q) + 1), -E2BIG);
	free(big);
}

static void publish_all(struct queue *q, uint32_t client, int n, const char *out)
{
	struct queue_result res[QUEUE_BATCH_MAX];
	const char *outs[QUEUE_BATCH_MAX];
	struct queue_client *c = queue_client(q, client);
	for (int k = 0; k < n; k++) {
		memset(&res[k], 0, sizeof(res[k]));
		res[k].ref = c->held[k];
		res[k].slot = (int32_t)client;
		res[k].out_len = (uint32_t)strlen(out);
		outs[k] = out;
	}
	assert_int_equal(queue_push_results(q, client, (uint32_t)n, res, outs), n);
}

/* Items of many sizes go round the ring many times: pads at the end of each lap are skipped and
 * every item comes out intact, in order. */
static void test_queue_wraps_around_with_variable_sizes(void **state)
{
	struct fixture *f = *state;
	char item[700];
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	uint64_t next_push = 1, next_pop = 1;
	srand(7);
	while (next_pop < 3000) {
		for (;;) {
			size_t len = (size_t)(next_push * 37 % sizeof(item));
			memset(item, (int)('a' + next_push % 26), len);
			struct queue_ref ref = {.seq = next_push, .handle = 0, .attempt = 1};
			if (queue_input_push(f->q, &ref, item, len) != 0)
				break;
			next_push++;
		}
		buf_reset(&data);
		int n = queue_pop(f->q, 0, (uint32_t)(1 + rand() % 5), &data, offs);
		assert_true(n > 0);
		for (int k = 0; k < n; k++) {
			struct queue_ref *ref = &queue_client(f->q, 0)->held[k];
			assert_int_equal(ref->seq, next_pop);
			size_t len = (size_t)(next_pop * 37 % sizeof(item));
			assert_int_equal(offs[k + 1] - offs[k], len);
			for (size_t i = 0; i < len; i++)
				assert_int_equal(data.data[offs[k] + i],
						 (char)('a' + next_pop % 26));
			next_pop++;
		}
		publish_all(f->q, 0, n, "ok");
		struct queue_result res;
		const char *out;
		while (queue_result_peek(f->q, &res, &out) == 1) {
			assert_int_equal(res.out_len, 2);
			assert_memory_equal(out, "ok", 2);
			queue_result_release(f->q);
		}
		queue_result_wake(f->q);
	}
	assert_true(atomic_load(&f->q->input.head) > 3 * CAP); /* many laps */
	buf_free(&data);
}

static void test_queue_results_carry_outputs_and_publish_count(void **state)
{
	struct fixture *f = *state;
	push_str(f->q, 11, "a");
	push_str(f->q, 12, "b");
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 2, 2, &data, offs), 2);
	struct queue_client *c = queue_client(f->q, 2);
	struct queue_result res = {.ref = c->held[0], .slot = 2, .exitcode = 3, .out_len = 5};
	const char *out = "hello";
	assert_int_equal(queue_push_results(f->q, 2, 1, &res, &out), 1);
	assert_int_equal(c->published, 1);
	/* Publishing the same range again, or beyond what is held, is refused. */
	assert_int_equal(queue_push_results(f->q, 2, 1, &res, &out), -EINVAL);
	assert_int_equal(queue_push_results(f->q, 2, 3, &res, &out), -EINVAL);
	struct queue_result got;
	const char *gout;
	assert_int_equal(queue_result_peek(f->q, &got, &gout), 1);
	assert_int_equal(got.ref.seq, 11);
	assert_int_equal(got.exitcode, 3);
	assert_memory_equal(gout, "hello", 5);
	queue_result_release(f->q);
	assert_int_equal(queue_result_peek(f->q, &got, &gout), 0);
	buf_free(&data);
}

/* --- claims and steals --- */

static void test_queue_steal_takes_back_only_unstarted_items(void **state)
{
	struct fixture *f = *state;
	for (uint64_t i = 1; i <= 4; i++)
		push_str(f->q, i, "x");
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 0, 4, &data, offs), 4);
	assert_int_equal(queue_claim(f->q, 0), 0); /* running held[0] */
	assert_true(queue_client_has_unstarted(f->q, 0));
	assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
	struct queue_ref refs[QUEUE_BATCH_MAX];
	assert_int_equal(queue_client_steal(f->q, 0, refs), 3);
	queue_unlock(f->q);
	assert_int_equal(refs[0].seq, 2);
	assert_int_equal(refs[2].seq, 4);
	assert_false(queue_client_has_unstarted(f->q, 0));
	assert_int_equal(queue_claim(f->q, 0), -1); /* the rest is gone */
	publish_all(f->q, 0, 1, "done");
	/* Nothing is left to reclaim, and the worker may pop again. */
	assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
	assert_int_equal(queue_client_reclaim(f->q, 0, refs), 0);
	queue_unlock(f->q);
	push_str(f->q, 5, "y");
	assert_int_equal(queue_pop(f->q, 0, 4, &data, offs), 1);
	assert_int_equal(queue_claim(f->q, 0), 0);
	buf_free(&data);
}

static void test_queue_steal_of_a_finished_batch_takes_nothing(void **state)
{
	struct fixture *f = *state;
	push_str(f->q, 1, "x");
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 0, 4, &data, offs), 1);
	assert_int_equal(queue_claim(f->q, 0), 0);
	assert_int_equal(queue_claim(f->q, 0), -1);
	assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
	struct queue_ref refs[QUEUE_BATCH_MAX];
	assert_int_equal(queue_client_steal(f->q, 0, refs), 0);
	queue_unlock(f->q);
	publish_all(f->q, 0, 1, "");
	buf_free(&data);
}

/* A worker claiming and publishing item after item while the parent steals at a random moment:
 * every item is run by the worker or taken back by the parent, never both, never neither. */
static void test_queue_claims_racing_a_steal_split_every_batch_exactly(void **state)
{
	struct fixture *f = *state;
	srand(11);
	for (int round = 0; round < 200; round++) {
		for (uint64_t i = 1; i <= 40; i++)
			push_str(f->q, (uint64_t)round * 100 + i, "x");
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct buf data = {0};
			size_t offs[QUEUE_BATCH_MAX + 1];
			int n = queue_pop(f->q, 0, 40, &data, offs);
			if (n != 40)
				_exit(3);
			struct queue_result res[QUEUE_BATCH_MAX];
			const char *outs[QUEUE_BATCH_MAX];
			int k, ran = 0;
			while ((k = queue_claim(f->q, 0)) >= 0) {
				memset(&res[ran], 0, sizeof(res[ran]));
				res[ran].ref = queue_client(f->q, 0)->held[k];
				outs[ran] = "";
				ran++;
				for (volatile int spin = 0; spin < 2000; spin++)
					;
			}
			if (ran && queue_push_results(f->q, 0, (uint32_t)ran, res, outs) != ran)
				_exit(4);
			_exit(0);
		}
		struct timespec ts = {0, (rand() % 100) * 1000};
		nanosleep(&ts, NULL);
		assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
		struct queue_ref refs[QUEUE_BATCH_MAX];
		uint32_t stolen = queue_client_steal(f->q, 0, refs);
		queue_unlock(f->q);
		int status;
		waitpid(pid, &status, 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		uint8_t seen[41] = {0};
		for (uint32_t k = 0; k < stolen; k++)
			seen[refs[k].seq % 100]++;
		struct queue_result res;
		const char *out;
		unsigned ran = 0;
		while (queue_result_peek(f->q, &res, &out) == 1) {
			seen[res.ref.seq % 100]++;
			ran++;
			queue_result_release(f->q);
		}
		queue_result_wake(f->q);
		for (int i = 1; i <= 40; i++)
			assert_int_equal(seen[i], 1);
		assert_int_equal(ran + stolen, 40);
		/* Reset the client for the next round, as the parent does after a reap. */
		assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
		assert_int_equal(queue_client_reclaim(f->q, 0, refs), 0);
		queue_unlock(f->q);
	}
}

/* --- repair after a holder is killed at a chosen point --- */

static enum queue_point kill_at;

static void kill_hook(enum queue_point point)
{
	if (point == kill_at)
		raise(SIGKILL);
}

/* In a child: install the hook and pop (and, for push points, publish) until killed. */
static void child_step_until_killed(struct queue *q, enum queue_point point, bool push)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGKILL, SIG_DFL);
		kill_at = point;
		struct buf data = {0};
		size_t offs[QUEUE_BATCH_MAX + 1];
		if (push) {
			int n = queue_pop(q, 1, 3, &data, offs);
			if (n <= 0)
				_exit(3);
			queue_fault_hook = kill_hook;
			publish_all(q, 1, n, "out");
		} else {
			queue_fault_hook = kill_hook;
			queue_pop(q, 1, 3, &data, offs);
		}
		_exit(4); /* the hook did not fire */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void fill3(struct queue *q)
{
	push_str(q, 1, "one");
	push_str(q, 2, "two");
	push_str(q, 3, "three");
}

/* After the owner's death the next locker repairs, and the mutex is usable again. */
static void lock_after_death(struct queue *q)
{
	uint64_t before = atomic_load(&q->repairs);
	assert_int_equal(queue_lock(q, scaled_ns(2 * NS_PER_S)), 0);
	assert_int_equal(atomic_load(&q->repairs), before + 1);
	queue_unlock(q);
	assert_int_equal(queue_lock(q, scaled_ns(2 * NS_PER_S)), 0);
	queue_unlock(q);
}

/* A group of results larger than the ring is published in parts, never refused forever. */
static void test_queue_push_results_publishes_the_prefix_that_fits(void **state)
{
	struct fixture *f = *state;
	for (uint64_t i = 1; i <= 3; i++)
		push_str(f->q, i, "x");
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 0, 3, &data, offs), 3);
	static char big[1500];
	memset(big, 'o', sizeof(big));
	struct queue_result res[3];
	const char *outs[3] = {big, big, big};
	for (int k = 0; k < 3; k++) {
		memset(&res[k], 0, sizeof(res[k]));
		res[k].ref = queue_client(f->q, 0)->held[k];
		res[k].out_len = sizeof(big);
	}
	/* 3 x 1.5 KiB do not fit a 4 KiB ring together: two go now. */
	assert_int_equal(queue_push_results(f->q, 0, 3, res, outs), 2);
	assert_int_equal(queue_push_results(f->q, 0, 3, res + 2, outs + 2), -ENOSPC);
	struct queue_result got;
	const char *gout;
	assert_int_equal(queue_result_peek(f->q, &got, &gout), 1);
	queue_result_release(f->q);
	/* Released space is handed back by the wake at the latest. */
	queue_result_wake(f->q);
	assert_int_equal(queue_push_results(f->q, 0, 3, res + 2, outs + 2), 1);
	assert_int_equal(queue_client(f->q, 0)->published, 3);
	buf_free(&data);
}

/* A pop cut short (before it was recorded, or after) never makes a later steal take back a
 * finished batch's items, or items still in the ring. */
static void test_queue_steal_after_a_pop_cut_short_takes_nothing(void **state)
{
	struct fixture *f = *state;
	static const enum queue_point points[] = {QUEUE_POINT_LOCKED, QUEUE_POINT_POP_RECORDED};
	for (size_t p = 0; p < ARRAY_SIZE(points); p++) {
		fill3(f->q);
		struct buf data = {0};
		size_t offs[QUEUE_BATCH_MAX + 1];
		assert_int_equal(queue_pop(f->q, 1, 3, &data, offs), 3);
		while (queue_claim(f->q, 1) >= 0)
			;
		publish_all(f->q, 1, 3, "");
		struct queue_result res;
		const char *out;
		while (queue_result_peek(f->q, &res, &out) == 1)
			queue_result_release(f->q);
		queue_result_wake(f->q);
		fill3(f->q);
		child_step_until_killed(f->q, points[p], false);
		assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
		struct queue_ref refs[QUEUE_BATCH_MAX];
		assert_int_equal(queue_client_steal(f->q, 1, refs), 0);
		assert_int_equal(queue_client_reclaim(f->q, 1, refs), 0);
		queue_unlock(f->q);
		assert_int_equal(queue_input_count(f->q), 3);
		/* Empty the ring for the next round. */
		assert_int_equal(queue_pop(f->q, 2, 3, &data, offs), 3);
		while (queue_claim(f->q, 2) >= 0)
			;
		publish_all(f->q, 2, 3, "");
		while (queue_result_peek(f->q, &res, &out) == 1)
			queue_result_release(f->q);
		queue_result_wake(f->q);
		buf_free(&data);
	}
}

static void test_queue_pop_killed_holding_lock_before_recording_leaves_items(void **state)
{
	struct fixture *f = *state;
	fill3(f->q);
	child_step_until_killed(f->q, QUEUE_POINT_LOCKED, false);
	lock_after_death(f->q);
	assert_int_equal(queue_input_count(f->q), 3);
	assert_int_equal(queue_client(f->q, 1)->nheld, 0);
}

static void test_queue_pop_killed_before_commit_leaves_items_in_ring(void **state)
{
	struct fixture *f = *state;
	fill3(f->q);
	child_step_until_killed(f->q, QUEUE_POINT_POP_RECORDED, false);
	lock_after_death(f->q);
	struct queue_client *c = queue_client(f->q, 1);
	assert_int_equal(c->op, QUEUE_OP_NONE);
	assert_int_equal(c->nheld, 0);
	/* The items are still there for someone else. */
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 0, 10, &data, offs), 3);
	assert_int_equal(queue_client(f->q, 0)->held[0].seq, 1);
	buf_free(&data);
}

static void test_queue_pop_killed_after_commit_recovers_items_as_held(void **state)
{
	struct fixture *f = *state;
	fill3(f->q);
	child_step_until_killed(f->q, QUEUE_POINT_POP_COMMITTED, false);
	lock_after_death(f->q);
	struct queue_client *c = queue_client(f->q, 1);
	assert_int_equal(c->op, QUEUE_OP_NONE);
	assert_int_equal(c->nheld, 3);
	assert_int_equal(c->published, 0);
	assert_int_equal(queue_input_count(f->q), 0);
	assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
	struct queue_ref refs[QUEUE_BATCH_MAX];
	assert_int_equal(queue_client_reclaim(f->q, 1, refs), 3);
	queue_unlock(f->q);
	assert_int_equal(refs[0].seq, 1);
	assert_int_equal(refs[2].seq, 3);
	assert_int_equal(c->nheld, 0);
}

static void test_queue_pop_killed_before_clearing_op_is_finished(void **state)
{
	struct fixture *f = *state;
	fill3(f->q);
	child_step_until_killed(f->q, QUEUE_POINT_POP_DONE, false);
	lock_after_death(f->q);
	struct queue_client *c = queue_client(f->q, 1);
	assert_int_equal(c->op, QUEUE_OP_NONE);
	assert_int_equal(c->nheld, 3);
	assert_int_equal(queue_input_count(f->q), 0);
}

static void test_queue_push_killed_after_writing_publishes_nothing(void **state)
{
	struct fixture *f = *state;
	fill3(f->q);
	child_step_until_killed(f->q, QUEUE_POINT_PUSH_WRITTEN, true);
	lock_after_death(f->q);
	struct queue_client *c = queue_client(f->q, 1);
	assert_int_equal(c->published, 0);
	assert_int_equal(c->nheld, 3);
	struct queue_result res;
	const char *out;
	assert_int_equal(queue_result_peek(f->q, &res, &out), 0);
}

static void test_queue_push_killed_before_commit_publishes_nothing(void **state)
{
	struct fixture *f = *state;
	fill3(f->q);
	child_step_until_killed(f->q, QUEUE_POINT_PUSH_RECORDED, true);
	lock_after_death(f->q);
	struct queue_client *c = queue_client(f->q, 1);
	assert_int_equal(c->op, QUEUE_OP_NONE);
	assert_int_equal(c->published, 0);
	assert_int_equal(atomic_load(&f->q->result.pushed), 0);
	struct queue_result res;
	const char *out;
	assert_int_equal(queue_result_peek(f->q, &res, &out), 0);
	assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
	struct queue_ref refs[QUEUE_BATCH_MAX];
	assert_int_equal(queue_client_reclaim(f->q, 1, refs), 3);
	queue_unlock(f->q);
}

static void test_queue_push_killed_after_commit_counts_results_published(void **state)
{
	struct fixture *f = *state;
	fill3(f->q);
	child_step_until_killed(f->q, QUEUE_POINT_PUSH_COMMITTED, true);
	lock_after_death(f->q);
	struct queue_client *c = queue_client(f->q, 1);
	assert_int_equal(c->op, QUEUE_OP_NONE);
	assert_int_equal(c->published, 3);
	/* Nothing left to reclaim: all three are in RESULT, exactly once. */
	assert_int_equal(atomic_load(&f->q->result.pushed), 3);
	assert_int_equal(queue_lock(f->q, scaled_ns(NS_PER_S)), 0);
	struct queue_ref refs[QUEUE_BATCH_MAX];
	assert_int_equal(queue_client_reclaim(f->q, 1, refs), 0);
	queue_unlock(f->q);
	struct queue_result res;
	const char *out;
	for (uint64_t seq = 1; seq <= 3; seq++) {
		assert_int_equal(queue_result_peek(f->q, &res, &out), 1);
		assert_int_equal(res.ref.seq, seq);
		queue_result_release(f->q);
	}
	assert_int_equal(queue_result_peek(f->q, &res, &out), 0);
}

static void test_queue_push_killed_before_clearing_op_is_finished(void **state)
{
	struct fixture *f = *state;
	fill3(f->q);
	child_step_until_killed(f->q, QUEUE_POINT_PUSH_DONE, true);
	lock_after_death(f->q);
	assert_int_equal(queue_client(f->q, 1)->published, 3);
	assert_int_equal(atomic_load(&f->q->result.pushed), 3);
}

/* --- wake-ups --- */

/* A consumer asleep on INPUT always wakes when an item comes: each of many rounds, with the push
 * landing at varying moments around the consumer's going to sleep, is answered long before the
 * sleep's own timeout. */
static void test_queue_sleeping_consumer_always_wakes(void **state)
{
	struct fixture *f = *state;
	enum { ROUNDS = 300 };
	int done_pipe[2];
	assert_int_equal(pipe(done_pipe), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct buf data = {0};
		size_t offs[QUEUE_BATCH_MAX + 1];
		for (int round = 0; round < ROUNDS; round++) {
			uint64_t t0 = now_ns();
			int n;
			while ((n = queue_pop(f->q, 0, 1, &data, offs)) == 0)
				queue_wait_input(f->q, 0, NULL, scaled_ns(3 * NS_PER_S));
			publish_all(f->q, 0, n, "");
			uint64_t waited = now_ns() - t0;
			/* A lost wake-up shows as a wait of the whole 3 s timeout (both scaled). */
			char c = waited >= scaled_ns(2 * NS_PER_S) ? 'L' : 'k';
			if (write(done_pipe[1], &c, 1) != 1)
				_exit(2);
		}
		_exit(0);
	}
	close(done_pipe[1]);
	int lost = 0;
	for (int round = 0; round < ROUNDS; round++) {
		/* Vary the moment of the push around the consumer's sleep. */
		struct timespec ts = {0, (long)(round % 17) * 20000};
		nanosleep(&ts, NULL);
		push_str(f->q, (uint64_t)round + 1, "w");
		queue_input_wake(f->q, 1);
		char c;
		assert_int_equal(read(done_pipe[0], &c, 1), 1);
		lost += c == 'L';
		struct queue_result res;
		const char *out;
		while (queue_result_peek(f->q, &res, &out) == 1)
			queue_result_release(f->q);
		queue_result_wake(f->q);
	}
	int status;
	waitpid(pid, &status, 0);
	close(done_pipe[0]);
	assert_int_equal(lost, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A consumer for the wake-up tests: pops up to 4 items, publishes them, and otherwise sleeps
 * on INPUT for a minute, far longer than any test waits. */
static _Noreturn void sleepy_consumer(struct queue *q, uint32_t client)
{
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	for (;;) {
		buf_reset(&data);
		int n = queue_pop(q, client, 4, &data, offs);
		if (n > 0)
			publish_all(q, client, n, "x");
		else
			queue_wait_input(q, client, NULL, 60 * NS_PER_S);
	}
}

static pid_t sleepy_spawn(struct queue *q, uint32_t client)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A failed test leaves it behind: it must not outlive the test program. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sleepy_consumer(q, client);
	}
	return pid;
}

/* The state letter of a process (R, S, Z...) from /proc, '?' when unknown. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return '?';
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Poll (every millisecond, up to 20 s) until the n consumers are all counted asleep on INPUT and
 * blocked in the kernel: then a wake-up can only reach them through the futex. */
static void wait_all_asleep(struct queue *q, const pid_t *pids, const uint32_t *clients, int n)
{
	uint64_t deadline = now_ns() + 20 * NS_PER_S;
	for (;;) {
		int asleep = 0;
		for (int k = 0; k < n; k++)
			asleep += atomic_load(&queue_client(q, clients[k])->asleep) &&
				  proc_state(pids[k]) == 'S';
		if (asleep == n)
			return;
		assert_true(now_ns() < deadline);
		usleep(1000);
	}
}

/* Poll until n results are in RESULT (each from one of the consumers), consume them; returns
 * the slot of the last. Fails past 20 s, a third of the consumers' own timeout: a result
 * that only a timeout would have brought fails the test. */
static int32_t wait_results(struct queue *q, unsigned n)
{
	uint64_t deadline = now_ns() + 20 * NS_PER_S;
	int32_t slot = -1;
	for (unsigned got = 0; got < n;) {
		struct queue_result res;
		const char *out;
		if (queue_result_peek(q, &res, &out) == 1) {
			slot = res.slot;
			queue_result_release(q);
			got++;
			continue;
		}
		assert_true(now_ns() < deadline);
		usleep(1000);
	}
	queue_result_wake(q);
	return slot;
}

static void stop_children(pid_t *pids, int n)
{
	for (int k = 0; k < n; k++) {
		kill(pids[k], SIGKILL);
		waitpid(pids[k], NULL, 0);
	}
}

/* Six workers asleep: a push of one item wakes one of them, not six; a push of nine items,
 * once a worker has asked for batches of four, wakes three. Each item is taken. */
static void test_queue_push_wakes_one_sleeper_per_batch_not_all(void **state)
{
	struct fixture *f = *state;
	enum { N = 6 };
	pid_t pids[N];
	uint32_t clients[N];
	for (int k = 0; k < N; k++) {
		clients[k] = (uint32_t)k;
		pids[k] = sleepy_spawn(f->q, clients[k]);
	}
	wait_all_asleep(f->q, pids, clients, N);
	assert_int_equal(atomic_load(&f->q->input.data_sleepers), N);

	push_str(f->q, 1, "one");
	assert_int_equal(queue_input_wake(f->q, 1), 1);
	wait_results(f->q, 1);
	/* The woken worker asked for 4 items. */
	assert_int_equal(atomic_load(&f->q->input.batch_hint), 4);

	wait_all_asleep(f->q, pids, clients, N);
	for (uint64_t seq = 2; seq <= 10; seq++)
		push_str(f->q, seq, "many");
	assert_int_equal(queue_input_wake(f->q, 9), 3);
	wait_results(f->q, 9);
	assert_int_equal(queue_input_count(f->q), 0);
	stop_children(pids, N);
}

/* A worker killed while asleep stays in the sleeper count until the parent reclaims its client:
 * pushes meanwhile still wake the live sleeper at once (the kernel wakes live waiters only),
 * and the reclaim gives the dead one's count back. */
static void test_queue_killed_sleeper_does_not_strand_a_live_one(void **state)
{
	struct fixture *f = *state;
	pid_t pids[2];
	uint32_t clients[2] = {0, 1};
	for (int k = 0; k < 2; k++)
		pids[k] = sleepy_spawn(f->q, clients[k]);
	wait_all_asleep(f->q, pids, clients, 2);
	kill(pids[0], SIGKILL);
	waitpid(pids[0], NULL, 0);
	assert_int_equal(atomic_load(&f->q->input.data_sleepers), 2);

	for (uint64_t seq = 1; seq <= 3; seq++) {
		wait_all_asleep(f->q, pids + 1, clients + 1, 1);
		push_str(f->q, seq, "x");
		assert_int_equal(queue_input_wake(f->q, 1), 1);
		assert_int_equal(wait_results(f->q, 1), 1);
	}

	wait_all_asleep(f->q, pids + 1, clients + 1, 1);
	assert_int_equal(queue_lock(f->q, NS_PER_S), 0);
	struct queue_ref refs[QUEUE_BATCH_MAX];
	assert_int_equal(queue_client_reclaim(f->q, 0, refs), 0);
	queue_unlock(f->q);
	assert_int_equal(atomic_load(&queue_client(f->q, 0)->asleep), 0);
	assert_int_equal(atomic_load(&f->q->input.data_sleepers), 1);
	stop_children(pids + 1, 1);
}

/* Items pushed with no wake-up (as when the woken worker died before its pop) are not left to
 * the sleepers' timeouts: the parent's per-tick check wakes sleepers for those that were there
 * at the previous tick and still are, and not before (a fresh push is not a stall), even
 * while another worker pops some of them. */
static void test_queue_rewake_wakes_sleepers_for_items_left_a_tick(void **state)
{
	struct fixture *f = *state;
	pid_t pids[2];
	uint32_t clients[2] = {0, 1};
	for (int k = 0; k < 2; k++)
		pids[k] = sleepy_spawn(f->q, clients[k]);
	wait_all_asleep(f->q, pids, clients, 2);
	struct queue_watch watch = {0};
	assert_int_equal(queue_input_rewake(f->q, &watch), 0); /* nothing waits */

	push_str(f->q, 1, "lost");
	assert_int_equal(queue_input_rewake(f->q, &watch), 0); /* new this tick */
	assert_int_equal(queue_input_rewake(f->q, &watch), 1); /* still there: stalled */
	wait_results(f->q, 1);
	assert_int_equal(queue_input_rewake(f->q, &watch), 0); /* popped since */
	assert_int_equal(queue_input_rewake(f->q, &watch), 0);

	/* Three more, and a busy worker (client 2, here) takes one of them in between: the two
	 * left still had a whole tick, so sleepers are woken for them. */
	wait_all_asleep(f->q, pids, clients, 2);
	for (uint64_t seq = 2; seq <= 4; seq++)
		push_str(f->q, seq, "lost");
	assert_int_equal(queue_input_rewake(f->q, &watch), 0);
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	assert_int_equal(queue_pop(f->q, 2, 1, &data, offs), 1);
	publish_all(f->q, 2, 1, "busy");
	buf_free(&data);
	/* The hint is now 1 (client 2 asked for one): one sleeper per item, two sleepers. */
	assert_int_equal(queue_input_rewake(f->q, &watch), 2);
	wait_results(f->q, 3);
	assert_int_equal(queue_input_count(f->q), 0);
	stop_children(pids, 2);
}

/* The one worker woken for an item is killed holding the lock, before its pop: the item stays
 * in INPUT and the other worker sleeps on (for a minute). The parent's per-tick check wakes it
 * on the second tick, it repairs the lock and takes the item. */
static void test_queue_woken_worker_killed_before_its_pop_is_covered_by_rewake(void **state)
{
	struct fixture *f = *state;
	pid_t pids[2];
	uint32_t clients[2] = {0, 1};
	/* The first sleeper is the first the kernel wakes (FIFO among equals); it dies at its
	 * next lock. */
	pids[0] = fork();
	assert_true(pids[0] >= 0);
	if (pids[0] == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		kill_at = QUEUE_POINT_LOCKED;
		queue_fault_hook = kill_hook;
		sleepy_consumer(f->q, 0);
	}
	wait_all_asleep(f->q, pids, clients, 1);
	pids[1] = sleepy_spawn(f->q, 1);
	wait_all_asleep(f->q, pids, clients, 2);
	uint64_t repairs = atomic_load(&f->q->repairs);

	push_str(f->q, 1, "orphan");
	assert_int_equal(queue_input_wake(f->q, 1), 1);
	uint64_t deadline = now_ns() + 20 * NS_PER_S;
	int status;
	while (waitpid(pids[0], &status, WNOHANG) != pids[0]) {
		assert_true(now_ns() < deadline);
		usleep(1000);
	}
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(queue_input_count(f->q), 1);

	struct queue_watch watch = {0};
	assert_int_equal(queue_input_rewake(f->q, &watch), 0);
	assert_int_equal(queue_input_rewake(f->q, &watch), 1);
	assert_int_equal(wait_results(f->q, 1), 1);
	assert_int_equal(atomic_load(&f->q->repairs), repairs + 1);
	stop_children(pids + 1, 1);
}

/* A stop flag already set (a join asked before the worker went to sleep) is not slept through:
 * the wait returns at once, and the sleeper count is back to zero. */
static void test_queue_wait_input_does_not_sleep_through_a_stop_flag(void **state)
{
	struct fixture *f = *state;
	_Atomic uint32_t stop = 1;
	uint64_t t0 = now_ns();
	queue_wait_input(f->q, 2, &stop, 30 * NS_PER_S);
	assert_true(now_ns() - t0 < 10 * NS_PER_S);
	assert_int_equal(atomic_load(&f->q->input.data_sleepers), 0);
	assert_int_equal(atomic_load(&queue_client(f->q, 2)->asleep), 0);
}

/* --- a kill storm on the queue alone --- */

/* A consumer that sleeps at most wait_ns on INPUT at a time. */
static _Noreturn void storm_consumer(struct queue *q, uint32_t client, uint64_t wait_ns)
{
	struct buf data = {0};
	size_t offs[QUEUE_BATCH_MAX + 1];
	struct queue_result res[QUEUE_BATCH_MAX];
	const char *outs[QUEUE_BATCH_MAX];
	for (;;) {
		buf_reset(&data);
		int n = queue_pop(q, client, 1 + client % 4, &data, offs);
		if (n <= 0) {
			if (n == 0)
				queue_wait_input(q, client, NULL, wait_ns);
			continue;
		}
		struct queue_client *c = queue_client(q, client);
		for (int k = 0; k < n; k++) {
			memset(&res[k], 0, sizeof(res[k]));
			res[k].ref = c->held[k];
			res[k].slot = (int32_t)client;
			res[k].out_len = (uint32_t)(offs[k + 1] - offs[k]);
			outs[k] = data.data + offs[k];
		}
		for (int done = 0; done < n;) {
			uint64_t head = queue_result_head(q);
			int r = queue_push_results(q, client, (uint32_t)n, res + done, outs + done);
			if (r > 0)
				done += r;
			else
				queue_wait_space(q, head, 10 * NS_PER_MS);
		}
	}
}

static pid_t storm_spawn(struct queue *q, uint32_t client, uint64_t wait_ns)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		storm_consumer(q, client, wait_ns);
	}
	return pid;
}

/* Consumers popping and publishing are SIGKILLed at random moments, over and over; the parent
 * reclaims each dead client's items and requeues them. Every item comes back exactly once, with
 * its own bytes, and the lock keeps working. */
static void test_queue_kill_storm_loses_and_duplicates_nothing(void **state)
{
	struct fixture *f = *state;
	enum { N = 20000, CLIENTS = 3 };
	uint8_t *seen = xcalloc(N + 1, 1);
	uint64_t *requeue = xcalloc(N + 1, sizeof(*requeue));
	size_t nrequeue = 0;
	pid_t pids[CLIENTS];
	for (uint32_t i = 0; i < CLIENTS; i++)
		pids[i] = storm_spawn(f->q, i, 10 * NS_PER_MS);
	uint64_t next = 1, got = 0, kills = 0;
	char item[32];
	srand(42);
	uint64_t deadline = now_ns() + scaled_ns(60 * NS_PER_S);
	while (got < N) {
		assert_true(now_ns() < deadline);
		/* Produce: requeued items first, then new ones. */
		uint64_t pushed = 0;
		while (nrequeue || next <= N) {
			uint64_t seq = nrequeue ? requeue[nrequeue - 1] : next;
			int len =
				snprintf(item, sizeof(item), "item-%llu", (unsigned long long)seq);
			struct queue_ref ref = {.seq = seq, .handle = (uint32_t)seq, .attempt = 1};
			if (queue_input_push(f->q, &ref, item, (size_t)len) != 0)
				break;
			pushed++;
			if (nrequeue)
				nrequeue--;
			else
				next++;
		}
		if (pushed)
			queue_input_wake(f->q, pushed);
		/* Consume. */
		struct queue_result res;
		const char *out;
		while (queue_result_peek(f->q, &res, &out) == 1) {
			uint64_t seq = res.ref.seq;
			assert_true(seq >= 1 && seq <= N);
			assert_int_equal(seen[seq], 0); /* no duplicate */
			seen[seq] = 1;
			got++;
			int len =
				snprintf(item, sizeof(item), "item-%llu", (unsigned long long)seq);
			assert_int_equal(res.out_len, len);
			assert_memory_equal(out, item, (size_t)len);
			queue_result_release(f->q);
		}
		queue_result_wake(f->q);
		/* Kill one at random, every so often, and replace it. */
		if (rand() % 4 == 0) {
			uint32_t victim = (uint32_t)rand() % CLIENTS;
			struct timespec ts = {0, (rand() % 200) * 1000};
			nanosleep(&ts, NULL);
			kill(pids[victim], SIGKILL);
			waitpid(pids[victim], NULL, 0);
			kills++;
			assert_int_equal(queue_lock(f->q, scaled_ns(5 * NS_PER_S)), 0);
			struct queue_ref refs[QUEUE_BATCH_MAX];
			uint32_t n = queue_client_reclaim(f->q, victim, refs);
			queue_unlock(f->q);
			for (uint32_t k = 0; k < n; k++)
				requeue[nrequeue++] = refs[k].seq;
			pids[victim] = storm_spawn(f->q, victim, 10 * NS_PER_MS);
		}
	}
	for (uint32_t i = 0; i < CLIENTS; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	for (uint64_t s = 1; s <= N; s++)
		assert_int_equal(seen[s], 1);
	/* The rings' item counters survived every repair: nothing counted twice or lost. */
	assert_int_equal(queue_input_count(f->q), 0);
	assert_int_equal(atomic_load(&f->q->input.pushed), atomic_load(&f->q->input.popped));
	assert_int_equal(atomic_load(&f->q->result.pushed), atomic_load(&f->q->result.popped));
	assert_true(kills > 100);
	print_message("# %llu kills, %llu lock repairs\n", (unsigned long long)kills,
		      (unsigned long long)atomic_load(&f->q->repairs));
	free(seen);
	free(requeue);
}

/* Rounds of a few items each, woken one sleeper per batch, with a consumer SIGKILLed in each
 * round (half the time right after the wake-up) and replaced only once the round is over. The
 * consumers sleep two minutes at a time and nothing else is pushed until every item of the
 * round is back, so an item left in INPUT by a dead wakee can only come back through
 * queue_input_rewake, called every 10 ms as the parent's timer does. Every item comes back
 * exactly once, long before any sleeper's timeout. */
static void test_queue_kill_storm_with_partial_wakes_strands_nothing(void **state)
{
	struct fixture *f = *state;
	enum { ROUNDS = 300, CLIENTS = 8 };
	pid_t pids[CLIENTS];
	for (uint32_t i = 0; i < CLIENTS; i++)
		pids[i] = storm_spawn(f->q, i, 120 * NS_PER_S);
	struct queue_watch watch = {0};
	uint64_t seq = 0, rescued = 0;
	char item[32];
	srand(43);
	uint64_t deadline = now_ns() + 60 * NS_PER_S;
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t first = seq + 1, m = 1 + (uint64_t)rand() % 8;
		for (uint64_t k = 0; k < m; k++) {
			seq++;
			int len =
				snprintf(item, sizeof(item), "item-%llu", (unsigned long long)seq);
			struct queue_ref ref = {.seq = seq, .handle = (uint32_t)seq, .attempt = 1};
			assert_int_equal(queue_input_push(f->q, &ref, item, (size_t)len), 0);
		}
		queue_input_wake(f->q, m);
		/* Half the time at once: the woken have not popped yet. */
		if (rand() % 2) {
			struct timespec ts = {0, (rand() % 100) * 1000};
			nanosleep(&ts, NULL);
		}
		uint32_t victim = (uint32_t)rand() % CLIENTS;
		kill(pids[victim], SIGKILL);
		waitpid(pids[victim], NULL, 0);
		assert_int_equal(queue_lock(f->q, 5 * NS_PER_S), 0);
		struct queue_ref refs[QUEUE_BATCH_MAX];
		uint32_t n = queue_client_reclaim(f->q, victim, refs);
		queue_unlock(f->q);
		for (uint32_t k = 0; k < n; k++) {
			int len = snprintf(item, sizeof(item), "item-%llu",
					   (unsigned long long)refs[k].seq);
			assert_int_equal(queue_input_push(f->q, &refs[k], item, (size_t)len), 0);
		}
		if (n)
			queue_input_wake(f->q, n);
		uint8_t seen[9] = {0};
		uint64_t tick = now_ns();
		for (uint64_t got = 0; got < m;) {
			assert_true(now_ns() < deadline);
			struct queue_result res;
			const char *out;
			if (queue_result_peek(f->q, &res, &out) == 1) {
				assert_true(res.ref.seq >= first && res.ref.seq < first + m);
				assert_int_equal(seen[res.ref.seq - first]++, 0);
				got++;
				queue_result_release(f->q);
				continue;
			}
			queue_result_wake(f->q);
			if (now_ns() - tick >= 10 * NS_PER_MS) {
				tick = now_ns();
				rescued += queue_input_rewake(f->q, &watch) > 0;
			}
			usleep(200);
		}
		queue_result_wake(f->q);
		pids[victim] = storm_spawn(f->q, victim, 120 * NS_PER_S);
	}
	for (uint32_t i = 0; i < CLIENTS; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	print_message("# %d rounds, %llu rescued by queue_input_rewake\n", ROUNDS,
		      (unsigned long long)rescued);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_queue_pop_returns_items_in_order_with_their_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_pop_on_empty_ring_returns_zero, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_pop_takes_at_most_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_pop_refuses_while_results_unpublished,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_push_reports_full_then_too_big, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_wraps_around_with_variable_sizes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_results_carry_outputs_and_publish_count,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_steal_takes_back_only_unstarted_items,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_steal_of_a_finished_batch_takes_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_claims_racing_a_steal_split_every_batch_exactly, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_push_results_publishes_the_prefix_that_fits, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_steal_after_a_pop_cut_short_takes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_pop_killed_holding_lock_before_recording_leaves_items, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_pop_killed_before_commit_leaves_items_in_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_pop_killed_after_commit_recovers_items_as_held, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_pop_killed_before_clearing_op_is_finished, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_push_killed_after_writing_publishes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_push_killed_before_commit_publishes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_push_killed_after_commit_counts_results_published, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_push_killed_before_clearing_op_is_finished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_sleeping_consumer_always_wakes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_push_wakes_one_sleeper_per_batch_not_all,
						setup8, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_killed_sleeper_does_not_strand_a_live_one, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_rewake_wakes_sleepers_for_items_left_a_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_woken_worker_killed_before_its_pop_is_covered_by_rewake, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_wait_input_does_not_sleep_through_a_stop_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_kill_storm_loses_and_duplicates_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_kill_storm_with_partial_wakes_strands_nothing, setup8, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
