/* Several input sources: the cross product in GNU parallel's order, --link, a source read from
 * a file descriptor, and --colsep's split. */
#include "sources.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Every combination of s, each its values joined by ' ', the combinations by '|'. */
static char *combos(const struct sources *s)
{
	static char out[4096];
	struct buf b = {0};
	uint64_t n;

	assert_int_equal(sources_count(s, &n), 0);
	out[0] = '\0';
	for (uint64_t i = 0; i < n; i++) {
		sources_record(s, i, ' ', &b);
		if (i)
			strcat(out, "|");
		strncat(out, b.data ? b.data : "", b.len);
	}
	buf_free(&b);
	return out;
}

#define WORDS(...) (char *const[]){__VA_ARGS__}, ARRAY_SIZE(((char *const[]){__VA_ARGS__}))

static void test_sources_cross_product_varies_the_last_fastest(void **state)
{
	(void)state;
	struct sources *s = sources_new(false);
	sources_add_words(s, WORDS("a", "b"));
	sources_add_words(s, WORDS("x", "y"));
	assert_string_equal(combos(s), "a x|a y|b x|b y");
	sources_add_words(s, WORDS("1", "2", "3"));
	assert_int_equal(sources_n(s), 3);
	assert_string_equal(combos(s), "a x 1|a x 2|a x 3|a y 1|a y 2|a y 3|"
				       "b x 1|b x 2|b x 3|b y 1|b y 2|b y 3");
	/* Any value of any combination, from its index alone. */
	size_t len;
	assert_string_equal(sources_value(s, 10, 0, &len), "b");
	assert_string_equal(sources_value(s, 10, 1, &len), "y");
	assert_string_equal(sources_value(s, 10, 2, &len), "2");
	assert_int_equal(len, 1);
	sources_free(s);
}

static void test_sources_empty_source_gives_no_combination(void **state)
{
	(void)state;
	struct sources *s = sources_new(false);
	uint64_t n = 99;
	sources_add_words(s, WORDS("a", "b"));
	sources_add_words(s, NULL, 0);
	assert_int_equal(sources_count(s, &n), 0);
	assert_int_equal(n, 0);
	sources_free(s);
}

static void test_sources_link_pairs_and_wraps_the_shorter(void **state)
{
	(void)state;
	struct sources *s = sources_new(true);
	sources_add_words(s, WORDS("a", "b", "c"));
	sources_add_words(s, WORDS("x", "y", "z"));
	assert_string_equal(combos(s), "a x|b y|c z");
	sources_free(s);

	s = sources_new(true);
	sources_add_words(s, WORDS("a", "b", "c", "d", "e"));
	sources_add_words(s, WORDS("x", "y"));
	assert_string_equal(combos(s), "a x|b y|c x|d y|e x");
	sources_free(s);
}

static void test_sources_count_overflow_is_refused(void **state)
{
	(void)state;
	struct sources *s = sources_new(false);
	char *ten[1000];
	uint64_t n;
	for (size_t i = 0; i < ARRAY_SIZE(ten); i++)
		ten[i] = "v";
	/* 1000^7 = 10^21 > 2^64. */
	for (int k = 0; k < 7; k++)
		sources_add_words(s, ten, ARRAY_SIZE(ten));
	assert_int_equal(sources_count(s, &n), -EOVERFLOW);
	sources_free(s);
}

static void test_sources_fd_lines_and_values_with_nul_separator(void **state)
{
	(void)state;
	struct sources *s = sources_new(false);
	int p[2];
	assert_int_equal(pipe(p), 0);
	/* A last line without its newline counts; an empty line is a value. */
	assert_int_equal(write(p[1], "f1\n\nf3", 6), 6);
	close(p[1]);
	assert_int_equal(sources_add_fd(s, p[0], '\n'), 0);
	close(p[0]);
	sources_add_words(s, WORDS("z"));
	assert_string_equal(combos(s), "f1 z| z|f3 z");

	/* Records with NUL separators keep empty values apart. */
	struct buf b = {0};
	sources_record(s, 1, '\0', &b);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "\0z", 2);
	buf_free(&b);
	sources_free(s);

	s = sources_new(false);
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	assert_int_equal(sources_add_fd(s, p[0], '\n'), 0); /* empty: no values */
	close(p[0]);
	uint64_t n = 1;
	assert_int_equal(sources_count(s, &n), 0);
	assert_int_equal(n, 0);
	sources_free(s);
}

/* line split by regex, its columns joined by '|'. */
static char *split(const char *regex, const char *line)
{
	static char out[512];
	char err[256];
	struct buf b = {0};
	struct colsep *c = colsep_new(regex, err, sizeof(err));
	assert_non_null(c);
	colsep_split(c, line, strlen(line), '|', &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
	colsep_free(c);
	return out;
}

static void test_colsep_splits_as_parallel(void **state)
{
	(void)state;
	assert_string_equal(split(",", "a,b,c"), "a|b|c");
	assert_string_equal(split("\\t", "a\tb c\td"), "a|b c|d");
	assert_string_equal(split("[ ]+", "a   b c"), "a|b|c");
	/* Empty columns are kept, at the end too (as parallel 20221122: "[a][][b][][]"). */
	assert_string_equal(split(",", "a,,b,,"), "a||b||");
	assert_string_equal(split(",", ",a"), "|a");
	assert_string_equal(split(",", "abc"), "abc");
	assert_string_equal(split(",", ""), "");
	/* A regex that matches nothing at all moves on a byte at a time. */
	assert_string_equal(split("x*", "abc"), "a|b|c|");
	/* ^ anchors at the line's start only. */
	assert_string_equal(split("^a", "aba"), "|ba");
}

static void test_colsep_bad_regex_is_a_one_line_error_naming_it(void **state)
{
	(void)state;
	char err[256];
	assert_null(colsep_new("a(", err, sizeof(err)));
	assert_non_null(strstr(err, "'a(' is not a valid regular expression: "));
	assert_null(strchr(err, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources_cross_product_varies_the_last_fastest),
		cmocka_unit_test(test_sources_empty_source_gives_no_combination),
		cmocka_unit_test(test_sources_link_pairs_and_wraps_the_shorter),
		cmocka_unit_test(test_sources_count_overflow_is_refused),
		cmocka_unit_test(test_sources_fd_lines_and_values_with_nul_separator),
		cmocka_unit_test(test_colsep_splits_as_parallel),
		cmocka_unit_test(test_colsep_bad_regex_is_a_one_line_error_naming_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
