/* The front ends' formatting, without a terminal: durations, sizes, rates, the ETA, the run's
 * state word, each column's text and tone, and which columns fit a width. */
#include "format.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static const char *dur(uint64_t ns)
{
	static char b[32];
	format_duration(b, sizeof(b), ns);
	return b;
}

static void test_format_duration_keeps_three_ranges(void **state)
{
	(void)state;
	assert_string_equal(dur(0), "0.0s");
	assert_string_equal(dur(1500 * NS_PER_MS), "1.5s");
	assert_string_equal(dur(9949 * NS_PER_MS), "9.9s");
	assert_string_equal(dur(125 * NS_PER_S), "2m05s");
	assert_string_equal(dur(3599 * NS_PER_S), "59m59s");
	assert_string_equal(dur(3720 * NS_PER_S), "1h02m");
}

static void test_format_bytes_picks_the_unit(void **state)
{
	(void)state;
	char b[32];
	format_bytes(b, sizeof(b), 512 * 1024);
	assert_string_equal(b, "512K");
	format_bytes(b, sizeof(b), 1536 * 1024);
	assert_string_equal(b, "1.5M");
	format_bytes(b, sizeof(b), 2ULL << 30);
	assert_string_equal(b, "2.0G");
}

static void test_format_rate_picks_precision_and_unit(void **state)
{
	(void)state;
	char b[32];
	format_rate(b, sizeof(b), 0.5);
	assert_string_equal(b, "0.50/s");
	format_rate(b, sizeof(b), 12.4);
	assert_string_equal(b, "12/s");
	format_rate(b, sizeof(b), 15000);
	assert_string_equal(b, "15.0k/s");
	format_rate(b, sizeof(b), 1.2e6);
	assert_string_equal(b, "1.2M/s");
}

static void test_format_eta_says_what_it_can_tell(void **state)
{
	(void)state;
	char b[32];
	struct view_totals t = {.submitted = 100,
				.done = 40,
				.failed = 10,
				.rate_avg = 10,
				.rate_now = 10,
				.input_ended = true,
				.running = 2,
				.queued = 48};
	format_eta(b, sizeof(b), &t);
	assert_string_equal(b, "5.0s"); /* 50 left at 10/s */
	t.input_ended = false;
	format_eta(b, sizeof(b), &t);
	assert_string_equal(b, "?"); /* the input still comes: the total is unknown */
	t.input_ended = true;
	t.queued = 0;
	t.hung = t.running;
	format_eta(b, sizeof(b), &t);
	assert_string_equal(b, "?"); /* only hung items left */
	t.done = 90;
	format_eta(b, sizeof(b), &t);
	assert_string_equal(b, "0s");
}

static void test_format_spark_scales_to_the_largest(void **state)
{
	(void)state;
	char b[64];
	const uint32_t v[] = {0, 1, 4, 8, 100};
	/* 0 blank, 1 of 100 still a mark, 100 the top one. */
	assert_int_equal(format_spark(v, 5, false, b, sizeof(b)), 5);
	assert_string_equal(b, " ...#");
	assert_int_equal(format_spark(v, 5, true, b, sizeof(b)), 5);
	assert_string_equal(b, " \u2581\u2581\u2581\u2588");
	const uint32_t w[] = {1, 2, 3, 4, 5, 6, 7, 8};
	format_spark(w, 8, false, b, sizeof(b));
	assert_string_equal(b, "._-~=+*#");
	format_spark(w, 8, true, b, sizeof(b));
	assert_string_equal(b, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588");
	/* Whole marks only: 3 bytes of room and a NUL take no more than one block. */
	assert_int_equal(format_spark(w, 8, true, b, 4), 1);
	assert_int_equal(strlen(b), 3);
	assert_int_equal(format_spark(w, 0, true, b, sizeof(b)), 0);
	assert_string_equal(b, "");
}

static void test_format_run_state_words(void **state)
{
	(void)state;
	struct view_totals t = {0};
	assert_string_equal(format_run_state(&t), "RUNNING");
	t.paused = true;
	assert_string_equal(format_run_state(&t), "PAUSED");
	t.closing = true;
	assert_string_equal(format_run_state(&t), "CLOSING, PAUSED");
	t.finished = true;
	assert_string_equal(format_run_state(&t), "WRITING OUTPUT");
	t.over = true;
	assert_string_equal(format_run_state(&t), "FINISHED");
}

static void test_columns_format_each_cell_with_its_tone(void **state)
{
	(void)state;
	char b[64];
	struct view_row r = {.index = 3,
			     .pid = 4711,
			     .state = VIEW_BUSY,
			     .has_exit = true,
			     .last_exit = -11,
			     .last_core = true,
			     .failed = 2,
			     .cur_seq = 9,
			     .age_ns = 2 * NS_PER_S,
			     .proc_known = true,
			     .rss_bytes = 3 << 20};
	assert_int_equal(columns[COL_NUM].format(&r, b, sizeof(b)), TONE_PLAIN);
	assert_string_equal(b, "3");
	columns[COL_PID].format(&r, b, sizeof(b));
	assert_string_equal(b, "4711");
	assert_int_equal(columns[COL_STATE].format(&r, b, sizeof(b)), TONE_BUSY);
	assert_string_equal(b, "BUSY");
	/* A process runs: the exit is the previous one's, labelled and dimmed. */
	assert_int_equal(columns[COL_EXIT].format(&r, b, sizeof(b)), TONE_DIM);
	assert_string_equal(b, "was -11 SIGSEGV");
	r.state = VIEW_EXITED;
	assert_int_equal(columns[COL_EXIT].format(&r, b, sizeof(b)), TONE_SIGNAL);
	assert_string_equal(b, "-11 SIGSEGV core");
	r.state = VIEW_BUSY;
	assert_int_equal(columns[COL_FAIL].format(&r, b, sizeof(b)), TONE_EXIT);
	columns[COL_AGE].format(&r, b, sizeof(b));
	assert_string_equal(b, "2.0s");
	columns[COL_RSS].format(&r, b, sizeof(b));
	assert_string_equal(b, "3.0M");
	/* The process state letter, blank until known. */
	columns[COL_PSTATE].format(&r, b, sizeof(b));
	assert_string_equal(b, "");
	r.proc_state = 'R';
	assert_int_equal(columns[COL_PSTATE].format(&r, b, sizeof(b)), TONE_BUSY);
	assert_string_equal(b, "R");
	r.hung = true;
	assert_int_equal(columns[COL_STATE].format(&r, b, sizeof(b)), TONE_HUNG);
	assert_string_equal(b, "HUNG");
	/* On a HUNG row the letter says whether it spins or sleeps. */
	assert_int_equal(columns[COL_PSTATE].format(&r, b, sizeof(b)), TONE_HUNG);
	assert_string_equal(b, "R");
	r.start_failing = true;
	assert_int_equal(columns[COL_STATE].format(&r, b, sizeof(b)), TONE_EXIT);
	assert_string_equal(b, "NOSTART");
	r.proc_known = false;
	columns[COL_CPU].format(&r, b, sizeof(b));
	assert_string_equal(b, "");
	struct view_row none = {.pid = 0, .state = VIEW_EXITED};
	columns[COL_PID].format(&none, b, sizeof(b));
	assert_string_equal(b, "-");
	assert_int_equal(columns[COL_STATE].format(&none, b, sizeof(b)), TONE_DIM);
	columns[COL_EXIT].format(&none, b, sizeof(b));
	assert_string_equal(b, "-");
}

static unsigned shown(int w, bool jobs, bool show[NCOLUMNS])
{
	columns_fit(w, jobs, show);
	unsigned n = 0;
	for (int c = 0; c < NCOLUMNS; c++)
		n += show[c];
	return n;
}

static void test_format_proc_state_words(void **state)
{
	(void)state;
	assert_string_equal(format_proc_state('R'), "running");
	assert_string_equal(format_proc_state('S'), "sleeping");
	assert_string_equal(format_proc_state('D'), "waiting on I/O");
	assert_string_equal(format_proc_state('T'), "stopped");
	assert_string_equal(format_proc_state('Z'), "zombie");
	assert_string_equal(format_proc_state('\0'), "unknown");
	assert_string_equal(format_hung_how('R'), "spinning");
	assert_string_equal(format_hung_how('S'), "sleeping");
	assert_string_equal(format_hung_how('I'), "sleeping");
	assert_string_equal(format_hung_how('D'), "blocked");
	assert_string_equal(format_hung_how('T'), "stopped");
	assert_null(format_hung_how('\0'));
}

static void test_columns_fit_drop_the_least_useful_first(void **state)
{
	(void)state;
	bool show[NCOLUMNS];
	assert_int_equal(shown(200, false, show), NCOLUMNS - 1); /* all but JOB */
	assert_false(show[COL_JOB]);
	assert_int_equal(shown(200, true, show), NCOLUMNS);
	/* 40 columns: the marks, #, PID, STATE, S and 12 for ITEM. */
	assert_int_equal(shown(40, true, show), 4);
	assert_true(show[COL_NUM] && show[COL_PID] && show[COL_STATE] && show[COL_PSTATE]);
	/* 80 columns: S is there, whether the workers run commands or not, and FAIL too. */
	shown(80, false, show);
	assert_true(show[COL_PSTATE] && show[COL_AGE]);
	shown(80, true, show);
	assert_true(show[COL_PSTATE] && show[COL_FAIL]);
	/* 80 columns: EXIT and JOB come before RSS and RST. */
	shown(80, true, show);
	assert_true(show[COL_EXIT] && show[COL_JOB]);
	assert_false(show[COL_RST]);
	/* Never wider than w. */
	for (int w = 10; w < 200; w++) {
		int used = 2 + 12;
		shown(w, true, show);
		for (int c = 0; c < NCOLUMNS; c++)
			if (show[c])
				used += columns[c].width + 1;
		assert_true(used <= w || used == 2 + 12);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_duration_keeps_three_ranges),
		cmocka_unit_test(test_format_bytes_picks_the_unit),
		cmocka_unit_test(test_format_rate_picks_precision_and_unit),
		cmocka_unit_test(test_format_eta_says_what_it_can_tell),
		cmocka_unit_test(test_format_spark_scales_to_the_largest),
		cmocka_unit_test(test_format_run_state_words),
		cmocka_unit_test(test_columns_format_each_cell_with_its_tone),
		cmocka_unit_test(test_format_proc_state_words),
		cmocka_unit_test(test_columns_fit_drop_the_least_useful_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
