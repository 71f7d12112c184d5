/* The command template: GNU parallel's replacement strings, the appended item, quoting for the
 * joblog; and the termination sequence parser. */
#include "template.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "termseq.h"

/* Expand words (NULL-terminated) for item and return argv[i] joined with '|'. */
static char *expand(const char *const *words, const char *item, uint64_t seq, unsigned slot)
{
	static char out[4096];
	struct template *t = template_new((char *const *)words);
	struct template_args a = {0};
	template_expand(t, item, strlen(item), seq, slot, &a);
	out[0] = '\0';
	for (size_t i = 0; i < a.argc; i++) {
		if (i)
			strcat(out, "|");
		strcat(out, a.argv[i]);
	}
	assert_null(a.argv[a.argc]);
	template_args_free(&a);
	template_free(t);
	return out;
}

#define EXPAND(item, ...) expand((const char *const[]){__VA_ARGS__, NULL}, (item), 7, 2)

/* As expand, for an item of values separated by NUL bytes (len bytes). */
static char *expand_values(const char *const *words, const char *item, size_t len)
{
	static char out[4096];
	struct template *t = template_new((char *const *)words);
	struct template_args a = {0};
	template_set_values(t, true);
	assert_true(template_values(t));
	template_expand(t, item, len, 7, 2, &a);
	out[0] = '\0';
	for (size_t i = 0; i < a.argc; i++) {
		if (i)
			strcat(out, "|");
		strcat(out, a.argv[i]);
	}
	assert_null(a.argv[a.argc]);
	template_args_free(&a);
	template_free(t);
	return out;
}

#define VALUES(item, ...)                                                                          \
	expand_values((const char *const[]){__VA_ARGS__, NULL}, (item), sizeof(item) - 1)

static void test_template_numbered_strings_pick_a_sources_value(void **state)
{
	(void)state;
	assert_string_equal(VALUES("a\0x", "echo", "{1}-{2}"), "echo|a-x");
	assert_string_equal(VALUES("a\0x", "echo", "{2}", "{1}", "{#}"), "echo|x|a|7");
	/* {} is every value joined with a space, as parallel's. */
	assert_string_equal(VALUES("a b\0x", "echo", "{}"), "echo|a b x");
	/* Past the last value, and an empty value: empty. */
	assert_string_equal(VALUES("a\0\0c", "echo", "<{2}>", "<{4}>", "{3}"), "echo|<>|<>|c");
	/* Without replacement strings each value is an argument of its own. */
	assert_string_equal(VALUES("a b\0\0x", "echo"), "echo|a b||x");
	assert_string_equal(VALUES("a", "echo"), "echo|a");
	/* The path forms, as parallel's {1.} {2/} {2//} {2/.}. */
	assert_string_equal(
		VALUES("d/f.txt\0/x/y.tar.gz", "e", "{1.}", "{2/}", "{2//}", "{2/.}", "{1/}"),
		"e|d/f|y.tar.gz|/x|y.tar|f.txt");
	/* Numbers past nine; forms that are none stay literal. */
	assert_string_equal(VALUES("1\0002\0003\0004\0005\0006\0007\0008\0009\00010\00011", "e",
				   "{11}", "{10.}"),
			    "e|11|10");
	assert_string_equal(VALUES("a\0b", "e", "{0}", "{01}", "{1x}", "{-1}", "{1"),
			    "e|{0}|{01}|{1x}|{-1}|{1|a|b");
}

static void test_template_numbered_strings_with_one_source(void **state)
{
	(void)state;
	/* {1} is the item; a source that is not there is empty. */
	assert_string_equal(EXPAND("d/f.txt", "echo", "{1}", "{1.}", "{1/}", "<{2}>"),
			    "echo|d/f.txt|d/f|f.txt|<>");
}

static void test_template_item_is_appended_without_replacement_strings(void **state)
{
	(void)state;
	assert_string_equal(EXPAND("a b", "echo"), "echo|a b");
	assert_string_equal(EXPAND("x", "printf", "%s\\n"), "printf|%s\\n|x");
	/* A brace that is not a replacement string is literal, and does not stop the append. */
	assert_string_equal(EXPAND("x", "echo", "{a}", "{", "}{"), "echo|{a}|{|}{|x");
}

static void test_template_any_replacement_string_stops_the_append(void **state)
{
	(void)state;
	assert_string_equal(EXPAND("f.txt", "cp", "{}", "{}.bak"), "cp|f.txt|f.txt.bak");
	assert_string_equal(EXPAND("f.txt", "echo", "{#}"), "echo|7");
	assert_string_equal(EXPAND("f.txt", "echo", "slot{%}"), "echo|slot3");
	assert_string_equal(EXPAND("a", "sh", "-c", "echo {} {}", "_"), "sh|-c|echo a a|_");
}

/* The expected values are what parallel 20221122 printed for the same items. */
static void test_template_path_strings_match_gnu_parallel(void **state)
{
	static const struct {
		const char *item, *noext, *base, *dir, *basenoext;
	} cases[] = {
		{"a/b.c.d", "a/b.c", "b.c.d", "a", "b.c"},
		{"a.b/c", "a.b/c", "c", "a.b", "c"},
		{"/abs/x.y", "/abs/x", "x.y", "/abs", "x"},
		{"x", "x", "x", ".", "x"},
		{"dir/", "dir/", "", ".", ""},
		{"a//b.c", "a//b", "b.c", "a", "b"},
		{"a b.tar.gz", "a b.tar", "a b.tar.gz", ".", "a b.tar"},
		{"/", "/", "", "/", ""},
		{"./x.y", "./x", "x.y", ".", "x"},
		{".hidden", "", ".hidden", ".", ""},
		{"/x", "/x", "x", "/", "x"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512];
		snprintf(want, sizeof(want), "e|%s|%s|%s|%s", cases[i].noext, cases[i].base,
			 cases[i].dir, cases[i].basenoext);
		assert_string_equal(EXPAND(cases[i].item, "e", "{.}", "{/}", "{//}", "{/.}"), want);
	}
}

static void test_template_hostile_items_stay_one_argument_byte_for_byte(void **state)
{
	static const char *const items[] = {
		"it's \"quoted\"", "$(touch /tmp/pwned)", "a; rm -rf /", "-n", "--help",
		"  spaces  ",	   "\xff\xfe not utf-8",  "`id`",	 "*",  "\t",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		struct template *t = template_new((char *const[]){"echo", NULL});
		struct template_args a = {0};
		template_expand(t, items[i], strlen(items[i]), 1, 0, &a);
		assert_int_equal(a.argc, 2);
		assert_string_equal(a.argv[1], items[i]);
		template_args_free(&a);
		template_free(t);
	}
}

static void test_template_args_are_reused_from_item_to_item(void **state)
{
	struct template *t = template_new((char *const[]){"x", "{}", "{}", "{}", NULL});
	struct template_args a = {0};
	char big[5000];
	(void)state;
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	template_expand(t, "small", 5, 1, 0, &a);
	template_expand(t, big, strlen(big), 2, 0, &a);
	assert_int_equal(a.argc, 4);
	assert_string_equal(a.argv[3], big);
	template_expand(t, "s", 1, 3, 0, &a);
	assert_string_equal(a.argv[1], "s");
	template_args_free(&a);
	template_free(t);
}

static void test_template_fixed_command_is_known_before_the_run(void **state)
{
	(void)state;
	struct template *t = template_new((char *const[]){"sha256sum", "{}", NULL});
	assert_string_equal(template_fixed_command(t), "sha256sum");
	assert_true(template_has_placeholders(t));
	template_free(t);
	t = template_new((char *const[]){"{}", "arg", NULL});
	assert_null(template_fixed_command(t));
	template_free(t);
	t = template_new((char *const[]){"./bin/{/}", NULL});
	assert_null(template_fixed_command(t));
	template_free(t);
}

static void test_template_quote_argv_reads_back_in_a_shell(void **state)
{
	struct buf b = {0};
	(void)state;
	template_quote_argv(&b, (char *const[]){"sha256sum", "a/b-c_d.txt", NULL});
	assert_string_equal(b.data, "sha256sum a/b-c_d.txt");
	buf_reset(&b);
	template_quote_argv(&b, (char *const[]){"echo", "it's", "", "$x y", NULL});
	assert_string_equal(b.data, "echo 'it'\\''s' '' '$x y'");
	buf_free(&b);
}

/* GNU parallel's --retry-failed runs the joblog's Command through a shell: a command word
 * the shell would take as an assignment or a keyword (bash's time) is quoted. */
static void test_template_quote_argv_quotes_command_read_as_assignment_or_keyword(void **state)
{
	struct buf b = {0};
	(void)state;
	template_quote_argv(&b, (char *const[]){"FOO=bar", "x=1", NULL});
	assert_string_equal(b.data, "'FOO=bar' x=1");
	buf_reset(&b);
	template_quote_argv(&b, (char *const[]){"time", "-v", "time", NULL});
	assert_string_equal(b.data, "'time' -v time");
	buf_reset(&b);
	template_quote_argv(&b, (char *const[]){"if", NULL});
	assert_string_equal(b.data, "'if'");
	buf_reset(&b);
	template_quote_argv(&b, (char *const[]){"timeout", "1", NULL});
	assert_string_equal(b.data, "timeout 1");
	buf_free(&b);
}

static void test_termseq_default_is_gnu_parallels(void **state)
{
	struct termseq t;
	char err[256];
	(void)state;
	assert_int_equal(termseq_parse(TERMSEQ_DEFAULT, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.sig[0], SIGTERM);
	assert_int_equal(t.ms[0], 200);
	assert_int_equal(t.sig[3], SIGKILL);
	assert_int_equal(t.ms[3], 25);
	assert_int_equal(termseq_total_ns(&t), 375 * NS_PER_MS);
}

static void test_termseq_names_numbers_and_errors(void **state)
{
	struct termseq t;
	char err[256];
	(void)state;
	assert_int_equal(termseq_parse("sigint,10,9,0", &t, err, sizeof(err)), 0);
	assert_int_equal(t.sig[0], SIGINT);
	assert_int_equal(t.sig[1], SIGKILL);
	assert_int_equal(t.ms[1], 0);
	static const char *const bad[] = {"",	    "TERM",    "TERM,",		",TERM,1",
					  "NOPE,1", "TERM,-1", "TERM,60001",	"TERM,1,KILL",
					  "0,1",    "TERM,1x", "TERM,1,,KILL,1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.n = 99;
		err[0] = '\0';
		assert_int_equal(termseq_parse(bad[i], &t, err, sizeof(err)), -EINVAL);
		assert_int_equal(t.n, 99); /* untouched */
		assert_non_null(strstr(err, bad[i]));
	}
	/* Sixteen signals fit; seventeen do not. */
	char many[512] = "";
	for (int i = 0; i < 17; i++)
		strcat(many, i ? ",TERM,1" : "TERM,1");
	assert_int_equal(termseq_parse(many, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 16 signals"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_item_is_appended_without_replacement_strings),
		cmocka_unit_test(test_template_any_replacement_string_stops_the_append),
		cmocka_unit_test(test_template_path_strings_match_gnu_parallel),
		cmocka_unit_test(test_template_numbered_strings_pick_a_sources_value),
		cmocka_unit_test(test_template_numbered_strings_with_one_source),
		cmocka_unit_test(test_template_hostile_items_stay_one_argument_byte_for_byte),
		cmocka_unit_test(test_template_args_are_reused_from_item_to_item),
		cmocka_unit_test(test_template_fixed_command_is_known_before_the_run),
		cmocka_unit_test(test_template_quote_argv_reads_back_in_a_shell),
		cmocka_unit_test(
			test_template_quote_argv_quotes_command_read_as_assignment_or_keyword),
		cmocka_unit_test(test_termseq_default_is_gnu_parallels),
		cmocka_unit_test(test_termseq_names_numbers_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
