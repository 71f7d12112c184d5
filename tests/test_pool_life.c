/* test_pool_life.c: the slot state machine's edge table (pool.c's slot_set_life refuses, with
 * an assert, any edge not in it; test_pool drives real pools through it). Walked here as a
 * graph: what must be reachable, what must never be. */
#include "pool_internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const enum pool_life all[] = {LIFE_EMPTY,  LIFE_ALIVE,  LIFE_STOPPING,
				     LIFE_REAPED, LIFE_EXITED, LIFE_BACKOFF};
#define NLIFE (sizeof(all) / sizeof(all[0]))

static bool has_process(enum pool_life l)
{
	return l == LIFE_ALIVE || l == LIFE_STOPPING;
}

/* The states reachable from `from` along the table's edges (from itself included). */
static void reachable(enum pool_life from, bool seen[POOL_LIFE_N])
{
	memset(seen, 0, POOL_LIFE_N * sizeof(bool));
	enum pool_life stack[POOL_LIFE_N * POOL_LIFE_N];
	size_t n = 0;
	stack[n++] = from;
	seen[from] = true;
	while (n) {
		enum pool_life l = stack[--n];
		for (size_t k = 0; k < NLIFE; k++) {
			if (pool_life_edge(l, all[k]) && !seen[all[k]]) {
				seen[all[k]] = true;
				stack[n++] = all[k];
			}
		}
	}
}

static void test_every_state_is_named_and_the_table_is_bounded(void **state)
{
	(void)state;
	assert_int_equal(NLIFE, POOL_LIFE_N);
	for (size_t i = 0; i < NLIFE; i++) {
		assert_string_not_equal(pool_life_name(all[i]), "?");
		/* Out of range is never an edge. */
		assert_false(pool_life_edge(all[i], (enum pool_life)POOL_LIFE_N));
		assert_false(pool_life_edge((enum pool_life)POOL_LIFE_N, all[i]));
	}
}

/* A slot starts EMPTY and can get to every state; from every state the slot can end
 * (EXITED) and, but for EXITED's own end, start again: nothing is a dead end. */
static void test_every_state_is_reachable_and_none_is_a_dead_end(void **state)
{
	(void)state;
	bool seen[POOL_LIFE_N];
	reachable(LIFE_EMPTY, seen);
	for (size_t i = 0; i < NLIFE; i++)
		assert_true(seen[all[i]]);
	for (size_t i = 0; i < NLIFE; i++) {
		reachable(all[i], seen);
		assert_true(seen[LIFE_EXITED]);
		assert_true(seen[LIFE_ALIVE]);
	}
}

/* A process comes only from a fork (into ALIVE), and goes only by its reaping (REAPED) or by
 * pool_close's on-the-spot kill and reap (EXITED): never to BACKOFF or EMPTY while it runs. */
static void test_a_process_starts_alive_and_ends_reaped_or_exited(void **state)
{
	(void)state;
	for (size_t i = 0; i < NLIFE; i++) {
		for (size_t k = 0; k < NLIFE; k++) {
			enum pool_life from = all[i], to = all[k];
			if (!pool_life_edge(from, to))
				continue;
			if (!has_process(from) && has_process(to))
				assert_int_equal(to, LIFE_ALIVE);
			if (has_process(from) && !has_process(to))
				assert_true(to == LIFE_REAPED || to == LIFE_EXITED);
			/* REAPED only from a process, and left only by its dispatch. */
			if (to == LIFE_REAPED)
				assert_true(has_process(from));
		}
	}
}

/* The edges that must never be: back to EMPTY; a stop without a process; a reaping of no
 * process; a running worker parked in BACKOFF; ALIVE to itself (a spawn over a live one). */
static void test_forbidden_edges(void **state)
{
	(void)state;
	for (size_t i = 0; i < NLIFE; i++) {
		assert_false(pool_life_edge(all[i], LIFE_EMPTY));
		if (!has_process(all[i])) {
			assert_false(pool_life_edge(all[i], LIFE_STOPPING));
			assert_false(pool_life_edge(all[i], LIFE_REAPED));
		}
	}
	assert_false(pool_life_edge(LIFE_ALIVE, LIFE_BACKOFF));
	assert_false(pool_life_edge(LIFE_STOPPING, LIFE_BACKOFF));
	assert_false(pool_life_edge(LIFE_ALIVE, LIFE_ALIVE));
	assert_false(pool_life_edge(LIFE_STOPPING, LIFE_ALIVE));
	assert_false(pool_life_edge(LIFE_REAPED, LIFE_REAPED));
	assert_false(pool_life_edge(LIFE_EMPTY, LIFE_EXITED));
}

/* The edges the pool takes (pool.c's table comment): each must be allowed. */
static void test_the_edges_the_pool_takes(void **state)
{
	(void)state;
	static const enum pool_life edges[][2] = {
		{LIFE_EMPTY, LIFE_ALIVE},     {LIFE_EMPTY, LIFE_BACKOFF},
		{LIFE_ALIVE, LIFE_STOPPING},  {LIFE_STOPPING, LIFE_STOPPING},
		{LIFE_ALIVE, LIFE_REAPED},    {LIFE_STOPPING, LIFE_REAPED},
		{LIFE_ALIVE, LIFE_EXITED},    {LIFE_STOPPING, LIFE_EXITED},
		{LIFE_REAPED, LIFE_ALIVE},    {LIFE_REAPED, LIFE_BACKOFF},
		{LIFE_REAPED, LIFE_EXITED},   {LIFE_EXITED, LIFE_ALIVE},
		{LIFE_EXITED, LIFE_BACKOFF},  {LIFE_BACKOFF, LIFE_ALIVE},
		{LIFE_BACKOFF, LIFE_BACKOFF}, {LIFE_BACKOFF, LIFE_EXITED},
	};
	size_t allowed = 0;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		assert_true(pool_life_edge(edges[i][0], edges[i][1]));
	for (size_t i = 0; i < NLIFE; i++)
		for (size_t k = 0; k < NLIFE; k++)
			allowed += pool_life_edge(all[i], all[k]);
	/* ...and no other. */
	assert_int_equal(allowed, sizeof(edges) / sizeof(edges[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_state_is_named_and_the_table_is_bounded),
		cmocka_unit_test(test_every_state_is_reachable_and_none_is_a_dead_end),
		cmocka_unit_test(test_a_process_starts_alive_and_ends_reaped_or_exited),
		cmocka_unit_test(test_forbidden_edges),
		cmocka_unit_test(test_the_edges_the_pool_takes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
