/* tests/pool_harness.h: a pool on a real loop with real workers, driven by a test's step
 * function, for tests/test_pool.c and tests/test_pool_flow.c: every result and event the tests
 * look at is kept in a struct ctx. */
#ifndef POOLTOP_TESTS_POOL_HARNESS_H
#define POOLTOP_TESTS_POOL_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "pool.h"

#define MAX_ITEMS 512

/* The next run_pool runs its step from a check handle: after the loop's poll, so that the
 * next iteration's timers come before any pump. */
extern bool step_in_check_next;

struct ctx {
	uv_loop_t loop;
	struct pool *pool;
	uv_timer_t driver;
	uv_timer_t deadline;
	uv_check_t checker; /* runs the step after the loop's poll, when step_in_check */
	bool step_in_check;
	int (*step)(struct ctx *c); /* called every 5 ms until it returns non-zero */
	int stage;
	uint64_t gen;
	unsigned nresults;
	struct pool_result results[MAX_ITEMS];
	unsigned seen[MAX_ITEMS + 1];
	int exits[64]; /* exit events' codes */
	enum view_cause exit_causes[64];
	bool exit_fini[64];
	unsigned nexits;
	unsigned backoffs;	  /* "keeps dying at start" notices */
	unsigned starts;	  /* workers started */
	const char *const *items; /* what is left to submit, fed as the pool takes it */
	unsigned nitems, next_item;
	bool finished, timed_out, closed;
	struct view_totals totals;
	struct view_row views[8];
	bool hold_input;	 /* feed nothing until cleared */
	unsigned start_events;	 /* "cannot start the job" notices */
	struct view_row failing; /* a slot seen retrying a start */
	unsigned failing_total;	 /* totals.start_failing then */
	char fatal[256];	 /* pool_fatal at the end */
	uint64_t held[8];	 /* items seen running since a pause */
	unsigned nheld;
};

/* A cleared context, kept reachable for the leak checks of forked workers. */
struct ctx *ctx_new(void);

/* Counts the events the tests look at (exits, starts, back-offs, start failures). */
void event_cb(void *data, const struct view_event *ev);

/* Submits what the pool takes; the rest when it says it has room again. */
void feed(struct ctx *c);

/* Runs items through a pool configured as cfg, step driving the test every 5 ms, on_event
 * seeing every event; c is not cleared (hold_input may be set before). */
void run_pool_cfg_events(struct ctx *c, struct pool_config *cfg, const char *const *items,
			 unsigned nitems, int (*step)(struct ctx *c),
			 void (*on_event)(void *data, const struct view_event *ev));

/* run_pool_cfg_events with event_cb. */
void run_pool_cfg(struct ctx *c, struct pool_config *cfg, const char *const *items, unsigned nitems,
		  int (*step)(struct ctx *c));

/* Runs items through a pool of `workers` running builtin spec, with step driving the test. */
void run_pool(struct ctx *c, const char *spec, unsigned workers, unsigned retries,
	      uint64_t join_timeout_ns, const char *const *items, unsigned nitems,
	      int (*step)(struct ctx *c));

/* "sleep:MS", MS scaled: for items that must still be running when the test acts on them. */
const char *sleep_spec(unsigned ms);

/* Sleeps ms milliseconds, whatever signals come. */
void sleep_ms(unsigned ms);

/* The result of item seq (a failure if there is none). */
const struct pool_result *result_of(const struct ctx *c, uint64_t seq);

/* The view of slot i, fresh. */
struct view_row view(struct ctx *c, unsigned i);

/* A pool of `workers` running the command `true` per item. */
void command_config(struct pool_config *cfg, unsigned workers);

#endif
