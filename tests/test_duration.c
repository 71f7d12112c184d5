/* Tests for duration: command-line durations and bounded counts. */
#include "duration.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "util.h"

/* duration_parse's result for s, which must parse. */
static uint64_t parsed_ns(const char *s)
{
	uint64_t ns = 12345;
	assert_int_equal(duration_parse(s, &ns), 0);
	return ns;
}

static void assert_duration_rejected(const char *s)
{
	uint64_t ns = 12345;
	assert_int_equal(duration_parse(s, &ns), -EINVAL);
	/* The out-parameter is written only on success. */
	assert_int_equal(ns, 12345);
}

static void test_duration_parse_zero_is_zero(void **state)
{
	(void)state;
	assert_int_equal(parsed_ns("0"), 0);
	assert_int_equal(parsed_ns("0ms"), 0);
}

static void test_duration_parse_no_suffix_is_seconds(void **state)
{
	(void)state;
	assert_int_equal(parsed_ns("2"), 2 * NS_PER_S);
	assert_int_equal(parsed_ns("1.5"), 1500 * NS_PER_MS);
}

static void test_duration_parse_suffixes(void **state)
{
	(void)state;
	assert_int_equal(parsed_ns("200ms"), 200 * NS_PER_MS);
	assert_int_equal(parsed_ns("2s"), 2 * NS_PER_S);
	assert_int_equal(parsed_ns("3m"), 180 * NS_PER_S);
	assert_int_equal(parsed_ns("1h"), 3600 * NS_PER_S);
	assert_int_equal(parsed_ns("1d"), 86400 * NS_PER_S);
}

static void test_duration_parse_fractions_are_exact(void **state)
{
	(void)state;
	assert_int_equal(parsed_ns("0.5ms"), 500000);
	assert_int_equal(parsed_ns("0.123456789"), 123456789);
	assert_int_equal(parsed_ns("1.25m"), 75 * NS_PER_S);
	assert_int_equal(parsed_ns("0.1"), 100 * NS_PER_MS);
	/* Digits finer than a nanosecond are dropped. */
	assert_int_equal(parsed_ns("0.0000000019"), 1);
}

static void test_duration_parse_rejects_empty(void **state)
{
	(void)state;
	assert_duration_rejected("");
}

static void test_duration_parse_rejects_negative(void **state)
{
	(void)state;
	assert_duration_rejected("-1");
	assert_duration_rejected("+1");
}

static void test_duration_parse_rejects_unknown_suffix(void **state)
{
	(void)state;
	assert_duration_rejected("1x");
	assert_duration_rejected("1S");
	assert_duration_rejected("1 s");
	assert_duration_rejected("1sec");
	assert_duration_rejected("1mss");
}

static void test_duration_parse_rejects_malformed_numbers(void **state)
{
	(void)state;
	assert_duration_rejected("1.2.3");
	assert_duration_rejected(" 1");
	assert_duration_rejected("1 ");
	assert_duration_rejected("ms");
	assert_duration_rejected(".5");
	assert_duration_rejected("1.");
	assert_duration_rejected("1.s");
}

static void test_duration_parse_accepts_100_years(void **state)
{
	(void)state;
	assert_int_equal(parsed_ns("36525d"), 36525ULL * 86400 * NS_PER_S);
}

static void test_duration_parse_rejects_overflow(void **state)
{
	(void)state;
	assert_duration_rejected("36525.1d");
	assert_duration_rejected("36526d");
	assert_duration_rejected("18446744073709551616");
	assert_duration_rejected("99999999999999999999999999ms");
	assert_duration_rejected("9999999999h");
}

static void test_size_parse_suffixes_by_1024_and_by_1000(void **state)
{
	uint64_t b;
	(void)state;
	assert_int_equal(size_parse("0", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(size_parse("100", &b), 0);
	assert_int_equal(b, 100);
	assert_int_equal(size_parse("1K", &b), 0);
	assert_int_equal(b, 1024);
	assert_int_equal(size_parse("1M", &b), 0);
	assert_int_equal(b, 1ULL << 20);
	assert_int_equal(size_parse("2G", &b), 0);
	assert_int_equal(b, 2ULL << 30);
	assert_int_equal(size_parse("1T", &b), 0);
	assert_int_equal(b, 1ULL << 40);
	assert_int_equal(size_parse("1k", &b), 0);
	assert_int_equal(b, 1000);
	assert_int_equal(size_parse("3m", &b), 0);
	assert_int_equal(b, 3000000);
	assert_int_equal(size_parse("1g", &b), 0);
	assert_int_equal(b, 1000000000);
	assert_int_equal(size_parse("1.5G", &b), 0);
	assert_int_equal(b, 3ULL << 29);
	assert_int_equal(size_parse("0.5k", &b), 0);
	assert_int_equal(b, 500);
}

static void test_size_parse_rejects_malformed(void **state)
{
	const char *bad[] = {"",   "-1", "+1", " 1",   "1 ",	   "K",		 "1KB",
			     "1x", "1.", ".5", "1..5", "2000000P", "9999999999T"};
	uint64_t b = 42;
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (size_parse(bad[i], &b) != -EINVAL)
			fail_msg("size_parse accepted '%s'", bad[i]);
		assert_int_equal(b, 42);
	}
}

static void test_parse_uint_accepts_numbers_in_range(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(parse_uint("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_uint("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_uint("007", 1, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, UINT64_MAX);
}

static void test_parse_uint_rejects_non_numbers(void **state)
{
	(void)state;
	uint64_t v = 42;
	assert_int_equal(parse_uint("", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("1x", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("1.0", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("99999999999999999999x", 0, 10, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_parse_uint_out_of_range_is_erange(void **state)
{
	(void)state;
	uint64_t v = 42;
	assert_int_equal(parse_uint("0", 1, 10, &v), -ERANGE);
	assert_int_equal(parse_uint("11", 1, 10, &v), -ERANGE);
	assert_int_equal(parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_uint("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse_zero_is_zero),
		cmocka_unit_test(test_duration_parse_no_suffix_is_seconds),
		cmocka_unit_test(test_duration_parse_suffixes),
		cmocka_unit_test(test_duration_parse_fractions_are_exact),
		cmocka_unit_test(test_duration_parse_rejects_empty),
		cmocka_unit_test(test_duration_parse_rejects_negative),
		cmocka_unit_test(test_duration_parse_rejects_unknown_suffix),
		cmocka_unit_test(test_duration_parse_rejects_malformed_numbers),
		cmocka_unit_test(test_duration_parse_accepts_100_years),
		cmocka_unit_test(test_duration_parse_rejects_overflow),
		cmocka_unit_test(test_size_parse_suffixes_by_1024_and_by_1000),
		cmocka_unit_test(test_size_parse_rejects_malformed),
		cmocka_unit_test(test_parse_uint_accepts_numbers_in_range),
		cmocka_unit_test(test_parse_uint_rejects_non_numbers),
		cmocka_unit_test(test_parse_uint_out_of_range_is_erange),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
