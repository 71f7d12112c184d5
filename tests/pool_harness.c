/* tests/pool_harness.c: the pool harness of tests/pool_harness.h. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scale.h"

bool step_in_check_next;

/* The test's context, also kept here: a forked worker, whose leak check at its exit scans its
 * own copy of the memory, always finds it reachable (from a worker forked where the test's
 * pointer was only in a register, valgrind reported the block definitely lost, and the worker
 * exited 99). */
static struct ctx *ctx_live;

struct ctx *ctx_new(void)
{
	ctx_live = xcalloc(1, sizeof(*ctx_live));
	return ctx_live;
}

static void result_cb(void *data, const struct pool_result *r)
{
	struct ctx *c = data;
	assert_true(r->seq >= 1 && r->seq <= MAX_ITEMS);
	c->seen[r->seq]++;
	if (c->nresults < MAX_ITEMS) {
		c->results[c->nresults] = *r;
		c->results[c->nresults].item = NULL;
		c->results[c->nresults].output = NULL;
		c->nresults++;
	}
}

void event_cb(void *data, const struct view_event *ev)
{
	struct ctx *c = data;
	if (ev->kind == VIEW_EVENT_NOTICE && strstr(ev->text, "keeps dying at start"))
		c->backoffs++;
	if (ev->kind == VIEW_EVENT_NOTICE && strstr(ev->text, "cannot start the job"))
		c->start_events++;
	if (ev->kind == VIEW_EVENT_WORKER_STARTED)
		c->starts++;
	if (ev->kind == VIEW_EVENT_WORKER_EXITED && c->nexits < 64) {
		c->exits[c->nexits] = ev->exitcode;
		c->exit_causes[c->nexits] = ev->cause;
		c->exit_fini[c->nexits] = strstr(ev->text, "fini ran") != NULL;
		c->nexits++;
	}
}

void feed(struct ctx *c)
{
	if (c->hold_input)
		return;
	while (c->next_item < c->nitems) {
		const char *it = c->items[c->next_item];
		int r = pool_submit(c->pool, c->next_item + 1, it, strlen(it));
		if (r == -EAGAIN)
			return;
		assert_int_equal(r, 0);
		c->next_item++;
	}
	pool_input_end(c->pool);
}

static void space_cb(void *data)
{
	feed(data);
}

static void pool_closed_cb(void *data)
{
	struct ctx *c = data;
	c->closed = true;
}

static void finished_cb(void *data)
{
	struct ctx *c = data;
	c->finished = true;
	pool_snapshot(c->pool, &c->totals, c->views, 8);
	if (pool_fatal(c->pool))
		snprintf(c->fatal, sizeof(c->fatal), "%s", pool_fatal(c->pool));
	uv_timer_stop(&c->driver);
	uv_timer_stop(&c->deadline);
	uv_close((uv_handle_t *)&c->driver, NULL);
	uv_close((uv_handle_t *)&c->deadline, NULL);
	uv_close((uv_handle_t *)&c->checker, NULL);
	pool_close(c->pool, pool_closed_cb, c);
}

static void driver_cb(uv_timer_t *t)
{
	struct ctx *c = t->data;
	if (!c->step_in_check && c->step && c->step(c))
		c->step = NULL;
}

static void checker_cb(uv_check_t *h)
{
	struct ctx *c = h->data;
	if (c->step_in_check && c->step && c->step(c))
		c->step = NULL;
}

static void deadline_cb(uv_timer_t *t)
{
	struct ctx *c = t->data;
	c->timed_out = true;
	pool_kill_all(c->pool);
}

void run_pool_cfg_events(struct ctx *c, struct pool_config *cfg, const char *const *items,
			 unsigned nitems, int (*step)(struct ctx *c),
			 void (*on_event)(void *data, const struct view_event *ev))
{
	assert_int_equal(uv_loop_init(&c->loop), 0);
	struct pool_callbacks cb = {
		.result = result_cb,
		.event = on_event,
		.finished = finished_cb,
		.space = space_cb,
		.data = c,
	};
	int r;
	c->pool = pool_new(&c->loop, cfg, &cb, &r);
	assert_non_null(c->pool);
	assert_int_equal(pool_start(c->pool), 0);
	c->items = items;
	c->nitems = nitems;
	feed(c);
	uv_check_init(&c->loop, &c->checker);
	c->checker.data = c;
	uv_check_start(&c->checker, checker_cb);
	c->step = step;
	c->step_in_check = step_in_check_next;
	step_in_check_next = false;
	uv_timer_init(&c->loop, &c->driver);
	uv_timer_init(&c->loop, &c->deadline);
	c->driver.data = c->deadline.data = c;
	uv_timer_start(&c->driver, driver_cb, 5, 5);
	uv_timer_start(&c->deadline, deadline_cb, scaled_ms(20000), 0);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_false(c->timed_out);
	assert_true(c->finished);
	assert_true(c->closed);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	pool_free(c->pool);
}

void run_pool_cfg(struct ctx *c, struct pool_config *cfg, const char *const *items, unsigned nitems,
		  int (*step)(struct ctx *c))
{
	run_pool_cfg_events(c, cfg, items, nitems, step, event_cb);
}

void run_pool(struct ctx *c, const char *spec, unsigned workers, unsigned retries,
	      uint64_t join_timeout_ns, const char *const *items, unsigned nitems,
	      int (*step)(struct ctx *c))
{
	memset(c, 0, sizeof(*c));
	struct pool_config cfg = {
		.workers = workers,
		.retries = retries,
		.join_timeout_ns = join_timeout_ns ? join_timeout_ns : scaled_ns(10 * NS_PER_S),
		.worker_stderr_fd = -1,
	};
	char err[128];
	assert_int_equal(job_builtin_parse(spec, &cfg.job, err, sizeof(err)), 0);
	run_pool_cfg(c, &cfg, items, nitems, step);
}

const char *sleep_spec(unsigned ms)
{
	static char spec[32];
	snprintf(spec, sizeof(spec), "sleep:%u", scaled_ms(ms));
	return spec;
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
}

const struct pool_result *result_of(const struct ctx *c, uint64_t seq)
{
	for (unsigned i = 0; i < c->nresults; i++)
		if (c->results[i].seq == seq)
			return &c->results[i];
	fail_msg("no result for item %llu", (unsigned long long)seq);
	return NULL;
}

struct view_row view(struct ctx *c, unsigned i)
{
	struct view_totals t;
	struct view_row v[8];
	unsigned n = pool_snapshot(c->pool, &t, v, 8);
	assert_true(i < n);
	return v[i];
}

void command_config(struct pool_config *cfg, unsigned workers)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = workers;
	cfg->join_timeout_ns = scaled_ns(10 * NS_PER_S);
	cfg->worker_stderr_fd = -1;
	char *argv[] = {"true", NULL};
	char err[128];
	assert_int_equal(job_command_new(argv, &cfg->job, err, sizeof(err)), 0);
}
