/* The ledger: a finished item's record comes out only once its output has been written, in
 * the order the items finished, with its joblog row and results line intact. */
#include "ledger.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void add(struct ledger *l, uint64_t seq, uint64_t end, const char *jl, const char *res)
{
	struct ledger_entry e = {
		.seq = seq,
		.end = end,
		.done = true,
		.joblog_len = (uint32_t)strlen(jl),
		.results_len = (uint32_t)strlen(res),
	};
	ledger_add(l, &e, jl, res);
}

static void take_expect(struct ledger *l, uint64_t written, uint64_t seq, const char *jl,
			const char *res)
{
	struct ledger_entry e;
	const char *j, *r;
	assert_true(ledger_take(l, written, &e, &j, &r));
	assert_int_equal(e.seq, seq);
	assert_int_equal(e.joblog_len, strlen(jl));
	assert_int_equal(e.results_len, strlen(res));
	if (e.joblog_len)
		assert_memory_equal(j, jl, e.joblog_len);
	if (e.results_len)
		assert_memory_equal(r, res, e.results_len);
}

static bool nothing(struct ledger *l, uint64_t written)
{
	struct ledger_entry e;
	const char *j, *r;
	return !ledger_take(l, written, &e, &j, &r);
}

static void test_ledger_record_waits_until_its_output_is_written(void **state)
{
	(void)state;
	struct ledger l;
	ledger_init(&l);
	add(&l, 1, 10, "row1\n", "{1}\n");
	assert_true(nothing(&l, 0));
	assert_true(nothing(&l, 9));
	assert_int_equal(ledger_len(&l), 1);
	take_expect(&l, 10, 1, "row1\n", "{1}\n");
	assert_int_equal(ledger_len(&l), 0);
	ledger_free(&l);
}

static void test_ledger_records_come_out_in_order_as_far_as_written(void **state)
{
	(void)state;
	struct ledger l;
	ledger_init(&l);
	add(&l, 3, 5, "a", "");
	add(&l, 1, 5, "", "b"); /* no output of its own: out as soon as 3's is */
	add(&l, 2, 12, "c", "d");
	assert_true(nothing(&l, 4));
	take_expect(&l, 5, 3, "a", "");
	take_expect(&l, 5, 1, "", "b");
	assert_true(nothing(&l, 11));
	take_expect(&l, 12, 2, "c", "d");
	assert_true(nothing(&l, UINT64_MAX));
	ledger_free(&l);
}

static void test_ledger_take_all_hands_out_what_will_never_be_written(void **state)
{
	(void)state;
	struct ledger l;
	ledger_init(&l);
	add(&l, 1, 100, "x", "y");
	add(&l, 2, 200, "", "");
	assert_true(nothing(&l, 50));
	take_expect(&l, UINT64_MAX, 1, "x", "y");
	take_expect(&l, UINT64_MAX, 2, "", "");
	assert_int_equal(ledger_len(&l), 0);
	ledger_free(&l);
}

/* Many entries, taken while others are added: the ring grows and the text is compacted, and
 * every row comes out whole and in order. */
static void test_ledger_text_survives_growth_and_compaction(void **state)
{
	(void)state;
	struct ledger l;
	ledger_init(&l);
	char jl[64], res[64];
	uint64_t next_out = 1;
	for (uint64_t seq = 1; seq <= 200000; seq++) {
		snprintf(jl, sizeof(jl), "%llu\t:\trow\n", (unsigned long long)seq);
		snprintf(res, sizeof(res), "{\"seq\":%llu}\n", (unsigned long long)seq);
		add(&l, seq, seq * 3, jl, res);
		if (seq % 7 == 0) {
			/* Written up to this item's end, less one byte: all but the last come out.
			 */
			while (next_out < seq) {
				snprintf(jl, sizeof(jl), "%llu\t:\trow\n",
					 (unsigned long long)next_out);
				snprintf(res, sizeof(res), "{\"seq\":%llu}\n",
					 (unsigned long long)next_out);
				take_expect(&l, seq * 3 - 1, next_out, jl, res);
				next_out++;
			}
			assert_true(nothing(&l, seq * 3 - 1));
		}
	}
	assert_int_equal(ledger_len(&l), 200000 - next_out + 1);
	ledger_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ledger_record_waits_until_its_output_is_written),
		cmocka_unit_test(test_ledger_records_come_out_in_order_as_far_as_written),
		cmocka_unit_test(test_ledger_take_all_hands_out_what_will_never_be_written),
		cmocka_unit_test(test_ledger_text_survives_growth_and_compaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
