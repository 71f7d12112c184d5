/* The STATS queue (lossy, never blocking) and smoothed rates. */
#include "stats.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void test_stats_drain_returns_records_in_order(void **state)
{
	(void)state;
	struct stats_ring *r = xcalloc(1, sizeof(*r));
	for (uint64_t i = 1; i <= 10; i++) {
		struct stats_record rec = {.seq = i, .runtime_ns = i * 10, .exitcode = (int)i % 2};
		assert_true(stats_push(r, &rec));
	}
	struct stats_record out[4];
	assert_int_equal(stats_drain(r, out, 4), 4);
	assert_int_equal(out[0].seq, 1);
	assert_int_equal(out[3].seq, 4);
	struct stats_record rest[STATS_RING_CAP];
	assert_int_equal(stats_drain(r, rest, STATS_RING_CAP), 6);
	assert_int_equal(rest[5].seq, 10);
	assert_int_equal(rest[5].runtime_ns, 100);
	assert_int_equal(stats_drain(r, rest, STATS_RING_CAP), 0);
	free(r);
}

static void test_stats_push_on_full_ring_drops_and_counts(void **state)
{
	(void)state;
	struct stats_ring *r = xcalloc(1, sizeof(*r));
	struct stats_record rec = {.seq = 1};
	for (int i = 0; i < STATS_RING_CAP; i++)
		assert_true(stats_push(r, &rec));
	assert_false(stats_push(r, &rec));
	assert_false(stats_push(r, &rec));
	assert_int_equal(atomic_load(&r->dropped), 2);
	struct stats_record out[1];
	assert_int_equal(stats_drain(r, out, 1), 1);
	assert_true(stats_push(r, &rec)); /* room again */
	free(r);
}

static void test_stats_exp_neg_matches_libm(void **state)
{
	(void)state;
	for (double x = 0; x < 60; x += 0.01) {
		double want = exp(-x), got = stats_exp_neg(x);
		if (fabs(got - want) > 1e-12 * want + 1e-300)
			fail_msg("exp(-%g): %.17g, want %.17g", x, got, want);
	}
	assert_true(stats_exp_neg(0) == 1.0);
	assert_true(stats_exp_neg(800) == 0.0);
	assert_true(stats_exp_neg(1e308) == 0.0);
	assert_true(stats_exp_neg(NAN) == 0.0);
}

static void test_stats_rate_converges_to_a_steady_rate(void **state)
{
	(void)state;
	struct stats_rate rate = {0};
	uint64_t t = 1000 * NS_PER_S;
	for (uint64_t i = 0; i <= 100; i++)
		stats_rate_update(&rate, i * 50, t + i * 100 * NS_PER_MS); /* 500 per second */
	assert_true(rate.rate > 490 && rate.rate < 510);
	/* Intervals too short to mean anything change nothing. */
	double before = rate.rate;
	stats_rate_update(&rate, 100000, t + 100 * 100 * NS_PER_MS + 1000);
	assert_true(rate.rate == before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_drain_returns_records_in_order),
		cmocka_unit_test(test_stats_push_on_full_ring_drops_and_counts),
		cmocka_unit_test(test_stats_exp_neg_matches_libm),
		cmocka_unit_test(test_stats_rate_converges_to_a_steady_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
