/* Tests for --results: the exact JSON line, string escaping, buffering and write errors. */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

/* Per test: a private directory with the results file and, for the JSON check, a script. */
struct fixture {
	char dir[64];
	char path[128];
	char script[128];
};

static int setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_results.XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/results.jsonl", fx->dir);
	snprintf(fx->script, sizeof(fx->script), "%s/check.py", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	unlink(fx->path);
	unlink(fx->script);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static struct results_record make_record(void)
{
	return (struct results_record){
		.seq = 3,
		.item = "x",
		.item_len = 1,
		.worker = 1,
		.pid = 1234,
		.exitcode = -9,
		.core = false,
		.done = false,
		.attempts = 1,
		.start = 1700000000.123456,
		.runtime = 0.000123,
		.output = "...",
		.output_len = 3,
	};
}

/* json_escape of n bytes of s, compared with want. */
static void check_escape(const char *s, size_t n, const char *want)
{
	struct buf b = {0};
	json_escape(&b, s, n);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void test_results_format_writes_known_record_exactly(void **state)
{
	(void)state;
	struct results_record r = make_record();
	struct buf b = {0};
	results_format(&b, &r);
	assert_string_equal(b.data,
			    "{\"seq\":3,\"item\":\"x\",\"worker\":1,\"pid\":1234,"
			    "\"exitcode\":-9,\"signal\":9,\"core\":false,\"status\":\"failed\","
			    "\"attempts\":1,\"start\":1700000000.123456,\"runtime\":0.000123,"
			    "\"output\":\"...\",\"stderr\":\"\"}\n");
	buf_free(&b);
}

static void test_results_format_writes_columns_after_item(void **state)
{
	(void)state;
	struct results_record r = make_record();
	static const char *const cols[] = {"a", "x \"y\"", ""};
	static const size_t lens[] = {1, 5, 0};
	r.item = "a x \"y\" ";
	r.item_len = 8;
	r.columns = cols;
	r.column_lens = lens;
	r.ncolumns = 3;
	struct buf b = {0};
	results_format(&b, &r);
	assert_non_null(strstr(b.data, "{\"seq\":3,\"item\":\"a x \\\"y\\\" \","
				       "\"columns\":[\"a\",\"x \\\"y\\\"\",\"\"],\"worker\":"));
	buf_free(&b);
}

static void test_results_format_adds_error_last_and_appends(void **state)
{
	(void)state;
	struct results_record r = make_record();
	r.exitcode = 2;
	r.core = true;
	r.done = true;
	r.worker = -1;
	r.pid = 0;
	r.attempts = 2;
	r.start = 1.5;
	r.runtime = 2;
	r.item = NULL;
	r.item_len = 0;
	r.output = NULL;
	r.output_len = 0;
	r.error = "item too long";
	struct buf b = {0};
	buf_append(&b, "before\n", 7);
	results_format(&b, &r);
	assert_string_equal(b.data,
			    "before\n{\"seq\":3,\"item\":\"\",\"worker\":-1,\"pid\":0,"
			    "\"exitcode\":2,\"signal\":0,\"core\":true,\"status\":\"done\","
			    "\"attempts\":2,\"start\":1.500000,\"runtime\":2.000000,"
			    "\"output\":\"\",\"stderr\":\"\",\"error\":\"item too long\"}\n");
	buf_free(&b);
}

static void test_results_format_writes_stderr_and_its_cut(void **state)
{
	(void)state;
	struct results_record r = make_record();
	r.err = "oops\n[... 7 bytes cut]\n";
	r.err_len = strlen(r.err);
	r.err_cut = true;
	r.timed_out = true;
	struct buf b = {0};
	results_format(&b, &r);
	const char *want = "\"output\":\"...\",\"stderr\":\"oops\\n[... 7 bytes cut]\\n\","
			   "\"stderr_cut\":true,\"timeout\":true}\n";
	assert_non_null(strstr(b.data, want));
	buf_free(&b);
}

static void test_json_escape_quotes_and_control_characters(void **state)
{
	(void)state;
	check_escape("a\"b\\c/", 6, "\"a\\\"b\\\\c/\"");
	check_escape("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
	check_escape("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	check_escape("a\0b", 3, "\"a\\u0000b\"");
	check_escape("", 0, "\"\"");
}

static void test_json_escape_copies_valid_utf8(void **state)
{
	(void)state;
	check_escape("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");	       /* é */
	check_escape("\xf0\x9f\x98\x80!", 5, "\"\xf0\x9f\x98\x80!\""); /* 😀 */
	check_escape("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");	       /* € */
	check_escape("\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"");	       /* U+D7FF */
	check_escape("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");   /* U+10FFFF */
}

static void test_json_escape_writes_invalid_bytes_as_u00xx(void **state)
{
	(void)state;
	check_escape("a\xff", 2, "\"a\\u00ff\"");
	/* A sequence cut short, at the end and before ASCII. */
	check_escape("\xe2\x82", 2, "\"\\u00e2\\u0082\"");
	check_escape("\xe2\x82x", 3, "\"\\u00e2\\u0082x\"");
	check_escape("\xf0\x9f\x98", 3, "\"\\u00f0\\u009f\\u0098\"");
	/* Overlong forms. */
	check_escape("\xc0\xaf", 2, "\"\\u00c0\\u00af\"");
	check_escape("\xe0\x80\xaf", 3, "\"\\u00e0\\u0080\\u00af\"");
	check_escape("\xf0\x8f\xbf\xbf", 4, "\"\\u00f0\\u008f\\u00bf\\u00bf\"");
	/* A surrogate, and a code point past U+10FFFF. */
	check_escape("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"");
	check_escape("\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\"");
	/* A lone continuation byte between valid characters. */
	check_escape("\xc3\xa9\x80\xc3\xa9", 5, "\"\xc3\xa9\\u0080\xc3\xa9\"");
}

/* Records whose strings hold every kind of byte. */
static const char *const nasty[] = {
	"plain",
	"quote \" backslash \\ slash /",
	"ctl \x01\x02\x1b[31m\x7f\n\r\t\b\f",
	"caf\xc3\xa9 \xf0\x9f\x98\x80",
	"bad \xff\xfe \xc0\xaf \xe2\x82 \xed\xa0\x80 \xf4\x90\x80\x80 end",
	"",
};

static void test_results_lines_parse_as_json(void **state)
{
	struct fixture *fx = *state;
	struct buf lines = {0};
	for (size_t i = 0; i < ARRAY_SIZE(nasty); i++) {
		struct results_record r = make_record();
		r.seq = i + 1;
		r.item = nasty[i];
		r.item_len = strlen(nasty[i]);
		r.output = nasty[ARRAY_SIZE(nasty) - 1 - i];
		r.output_len = strlen(r.output);
		r.error = i % 2 ? nasty[i] : NULL;
		results_format(&lines, &r);
	}
	int fd = open(fx->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, lines.data, lines.len), 0);
	close(fd);
	buf_free(&lines);

	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		/* Not skip(): cmocka 1.1.5 says "not ok # SKIP", a FAIL to automake. */
		print_message("python3 is not installed: JSON check skipped\n");
		return;
	}
	FILE *f = fopen(fx->script, "w");
	assert_non_null(f);
	/* Strict parsing; valid UTF-8 must decode to itself. */
	fprintf(f,
		"import json, sys\n"
		"lines = open(sys.argv[1], 'rb').read().split(b'\\n')\n"
		"assert lines[-1] == b'', 'no final newline'\n"
		"objs = [json.loads(l.decode('utf-8')) for l in lines[:-1]]\n"
		"assert len(objs) == %zu, len(objs)\n"
		"assert objs[3]['item'] == 'caf\\u00e9 \\U0001F600', objs[3]['item']\n"
		"assert objs[1]['item'] == 'quote \" backslash \\\\ slash /'\n"
		"assert objs[2]['item'] == 'ctl \\x01\\x02\\x1b[31m\\x7f\\n\\r\\t\\b\\f'\n"
		"assert objs[4]['item'].startswith('bad \\xff\\xfe \\xc0\\xaf')\n"
		"assert objs[1]['error'] == objs[1]['item'] and 'error' not in objs[0]\n",
		ARRAY_SIZE(nasty));
	assert_int_equal(fclose(f), 0);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", fx->script, fx->path);
	assert_int_equal(system(cmd), 0);
}

static void test_results_prepare_truncates_only_when_called(void **state)
{
	struct fixture *fx = *state;
	FILE *f = fopen(fx->path, "w");
	assert_non_null(f);
	fputs("old contents kept until the start is sure\n", f);
	fclose(f);
	int fd = open(fx->path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(st.st_size > 0);

	assert_int_equal(results_prepare(fd), 0);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_size, 0);
	close(fd);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_results_format_writes_known_record_exactly),
		T(test_results_format_writes_columns_after_item),
		T(test_results_format_adds_error_last_and_appends),
		T(test_results_format_writes_stderr_and_its_cut),
		T(test_json_escape_quotes_and_control_characters),
		T(test_json_escape_copies_valid_utf8),
		T(test_json_escape_writes_invalid_bytes_as_u00xx),
		T(test_results_lines_parse_as_json),
		T(test_results_prepare_truncates_only_when_called),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
