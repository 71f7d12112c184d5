/* The command line: every option, every subcommand, and the exact text of every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "job.h"
#include "util.h"

#define MAX_WORDS 32

/* One parse: an argv owned by the fixture (items point into it), the result and the error. */
struct fixture {
	char *argv[MAX_WORDS + 2];
	int argc;
	struct config cfg;
	char err[256];
};

static void fixture_argv_free(struct fixture *f)
{
	for (int i = 0; i < f->argc; i++)
		free(f->argv[i]);
	f->argc = 0;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fixture_argv_free(f);
	cli_config_free(&f->cfg);
	free(f);
	return 0;
}

/* Builds a NULL-terminated argv "pooltop WORD..." from words (itself NULL-terminated) and
 * parses it into f->cfg. */
static int parse(struct fixture *f, const char *const *words)
{
	fixture_argv_free(f);
	cli_config_free(&f->cfg);
	f->argv[f->argc++] = xstrdup("pooltop");
	for (; *words; words++) {
		assert_true(f->argc <= MAX_WORDS);
		f->argv[f->argc++] = xstrdup(*words);
	}
	f->argv[f->argc] = NULL;
	memset(f->err, 0, sizeof(f->err));
	return cli_parse(f->argc, f->argv, &f->cfg, f->err, sizeof(f->err));
}

#define PARSE(f, ...) parse((f), (const char *const[]){__VA_ARGS__, NULL})

#define assert_parses(f, ...) assert_int_equal(PARSE((f), __VA_ARGS__), 0)

/* The error is exactly msg, one line, without the "pooltop: " that main() adds. */
#define assert_parse_fails(f, msg, ...)                                                            \
	do {                                                                                       \
		assert_int_equal(PARSE((f), __VA_ARGS__), -EINVAL);                                \
		assert_string_equal((f)->err, (msg));                                              \
		assert_null(strchr((f)->err, '\n'));                                               \
	} while (0)

static unsigned cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return (unsigned)(n < 1 ? 1 : MIN(n, POOLTOP_MAX_WORKERS));
}

/* --- defaults ----------------------------------------------------------------------------- */

static void test_cli_defaults_with_only_builtin(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--builtin", "square");
	assert_int_equal(f->cfg.mode, CLI_RUN);
	assert_int_equal(f->cfg.frontend, CLI_FRONTEND_AUTO);
	assert_int_equal(f->cfg.jobs, cpus());
	assert_string_equal(f->cfg.builtin, "square");
	assert_null(f->cfg.arg_file);
	assert_null(f->cfg.items);
	assert_int_equal(f->cfg.nitems, 0);
	assert_false(f->cfg.null_sep);
	assert_false(f->cfg.keep_order);
	assert_int_equal(f->cfg.retries, 0);
	assert_int_equal(f->cfg.max_items_per_worker, 0);
	assert_null(f->cfg.joblog);
	assert_null(f->cfg.results);
	assert_false(f->cfg.resume);
	assert_false(f->cfg.resume_failed);
	assert_int_equal(f->cfg.join_timeout_ns, 10 * NS_PER_S);
	assert_int_equal(f->cfg.delay_ns, 0);
	assert_int_equal(f->cfg.memfree_bytes, 0);
	assert_false(f->cfg.quiet);
}

static void test_cli_no_arguments_is_nothing_to_run(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, (const char *const[]){NULL}), -EINVAL);
	assert_string_equal(f->err, "nothing to run: give -- COMMAND, --builtin NAME or --plugin "
				    "FILE.so (pooltop --help)");
}

static void test_cli_options_without_builtin_is_nothing_to_run(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f,
			   "nothing to run: give -- COMMAND, --builtin NAME or --plugin FILE.so "
			   "(pooltop --help)",
			   "-j", "4", "-k");
}

static void test_cli_error_leaves_config_untouched(void **state)
{
	struct fixture *f = *state;

	f->cfg.jobs = 777;
	f->cfg.builtin = "sentinel";
	assert_parse_fails(f, "-j: '0' is not a number from 1 to 1024", "--builtin", "echo", "-j",
			   "0");
	assert_int_equal(f->cfg.jobs, 777);
	assert_string_equal(f->cfg.builtin, "sentinel");
}

static void test_cli_parse_twice_gives_the_same_result(void **state)
{
	struct fixture *f = *state;

	/* getopt keeps global state: each cli_parse must start over. */
	assert_parses(f, "-j", "3", "--builtin", "square");
	assert_parses(f, "-j", "5", "--builtin", "echo");
	assert_int_equal(f->cfg.jobs, 5);
	assert_string_equal(f->cfg.builtin, "echo");
	assert_parse_fails(f, "-j needs an argument", "--builtin", "echo", "-j");
	assert_parses(f, "-j", "5", "--builtin", "echo");
	assert_int_equal(f->cfg.jobs, 5);
}

/* --- -j ------------------------------------------------------------------------------------ */

static void test_cli_jobs_in_every_form(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-j", "4", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, 4);
	assert_parses(f, "-j7", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, 7);
	assert_parses(f, "--jobs", "9", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, 9);
	assert_parses(f, "--jobs=11", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, 11);
}

static void test_cli_jobs_range_ends_are_accepted(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-j", "1", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, 1);
	assert_parses(f, "-j", "1024", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, POOLTOP_MAX_WORKERS);
}

static void test_cli_jobs_zero_is_an_error_naming_the_option(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "-j: '0' is not a number from 1 to 1024", "-j", "0", "--builtin",
			   "square");
}

static void test_cli_jobs_above_the_maximum_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "-j: '1025' is not a number from 1 to 1024", "-j", "1025",
			   "--builtin", "square");
}

static void test_cli_jobs_not_a_number_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f,
			   "-j: 'four' is not a number of workers (N from 1 to 1024, N% of the "
			   "CPUs, +N or -N)",
			   "-j", "four");
	assert_parse_fails(f,
			   "-j: '' is not a number of workers (N from 1 to 1024, N% of the CPUs, "
			   "+N or -N)",
			   "-j", "");
	assert_parse_fails(f,
			   "-j: '5x%' is not a number of workers (N from 1 to 1024, N% of the "
			   "CPUs, +N or -N)",
			   "-j", "5x%");
}

/* GNU parallel's forms: N% of the CPUs, +N and -N from them. */
static void test_cli_jobs_counts_from_the_cpus(void **state)
{
	struct fixture *f = *state;
	unsigned n = cpus();
	char want[160];

	assert_parses(f, "-j", "100%", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, n);
	assert_parses(f, "-j", "200%", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, 2 * n);
	assert_parses(f, "-j", "+3", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, n + 3);
	assert_parses(f, "-j", "+0", "--builtin", "square");
	assert_int_equal(f->cfg.jobs, n);
	if (n > 1) {
		assert_parses(f, "--jobs=50%", "--builtin", "square");
		assert_int_equal(f->cfg.jobs, n / 2);
		assert_parses(f, "-j", "-1", "--builtin", "square");
		assert_int_equal(f->cfg.jobs, n - 1);
	}
	/* Under one worker, over the most: said with what it came to. */
	snprintf(want, sizeof(want), "-j: '-%u' of %u CPU%s is under one worker", n, n,
		 n == 1 ? "" : "s");
	char arg[32];
	snprintf(arg, sizeof(arg), "-%u", n);
	assert_parse_fails(f, want, "-j", arg);
	snprintf(want, sizeof(want), "-j: '0%%' of %u CPU%s is under one worker", n,
		 n == 1 ? "" : "s");
	assert_parse_fails(f, want, "-j", "0%");
	snprintf(want, sizeof(want), "-j: '+1024' of %u CPU%s is %u workers: the most is 1024", n,
		 n == 1 ? "" : "s", n + 1024);
	assert_parse_fails(f, want, "-j", "+1024");
}

static void test_cli_jobs_error_names_the_long_form_when_given(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--jobs: '0' is not a number from 1 to 1024", "--jobs=0");
	assert_parse_fails(f, "--jobs: '0' is not a number from 1 to 1024", "--jobs", "0");
}

static void test_cli_jobs_without_argument_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "-j needs an argument", "--builtin", "square", "-j");
	assert_parse_fails(f, "--jobs needs an argument", "--builtin", "square", "--jobs");
}

/* --- --builtin ----------------------------------------------------------------------------- */

static void test_cli_builtin_with_arg_points_into_argv(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--builtin", "sleep:10");
	assert_ptr_equal(f->cfg.builtin, f->argv[2]);
	assert_string_equal(f->cfg.builtin, "sleep:10");
	assert_parses(f, "--builtin=sleep:20");
	assert_string_equal(f->cfg.builtin, "sleep:20");
}

/* The reason after "--builtin: " is job_builtin_parse's own. */
static void assert_builtin_fails_with_its_reason(struct fixture *f, const char *spec)
{
	struct job job;
	char why[200], msg[256];

	assert_int_equal(job_builtin_parse(spec, &job, why, sizeof(why)), -EINVAL);
	snprintf(msg, sizeof(msg), "--builtin: %s", why);
	assert_parse_fails(f, msg, "--builtin", spec);
}

static void test_cli_builtin_unknown_is_an_error_naming_the_option(void **state)
{
	struct fixture *f = *state;
	const char *expect = "--builtin: unknown builtin 'frob'";

	assert_builtin_fails_with_its_reason(f, "frob");
	assert_memory_equal(f->err, expect, strlen(expect));
}

static void test_cli_builtin_error_carries_the_reason_from_job_builtin_parse(void **state)
{
	struct fixture *f = *state;

	assert_builtin_fails_with_its_reason(f, "square:3");
	assert_builtin_fails_with_its_reason(f, "exit");
}

static void test_cli_builtin_without_argument_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--builtin needs an argument", "--builtin");
}

/* --- items: -a, -0, ::: --------------------------------------------------------------------- */

static void test_cli_arg_file_in_every_form(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-a", "items.txt", "--builtin", "echo");
	assert_string_equal(f->cfg.arg_file, "items.txt");
	assert_parses(f, "-aitems2.txt", "--builtin", "echo");
	assert_string_equal(f->cfg.arg_file, "items2.txt");
	assert_parses(f, "--arg-file", "items3.txt", "--builtin", "echo");
	assert_string_equal(f->cfg.arg_file, "items3.txt");
	assert_parses(f, "--arg-file=items4.txt", "--builtin", "echo");
	assert_string_equal(f->cfg.arg_file, "items4.txt");
}

static void test_cli_arg_file_dash_is_stdin(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-a", "-", "--builtin", "echo");
	assert_null(f->cfg.arg_file);
}

static void test_cli_arg_file_empty_name_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "-a: the file name is empty", "-a", "", "--builtin", "echo");
}

static void test_cli_arg_file_without_argument_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "-a needs an argument", "--builtin", "echo", "-a");
}

static void test_cli_null_and_keep_order_flags(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-0", "-k", "--builtin", "echo");
	assert_true(f->cfg.null_sep);
	assert_true(f->cfg.keep_order);
	assert_parses(f, "--null", "--keep-order", "--builtin", "echo");
	assert_true(f->cfg.null_sep);
	assert_true(f->cfg.keep_order);
	assert_parses(f, "-0k", "--builtin", "echo");
	assert_true(f->cfg.null_sep);
	assert_true(f->cfg.keep_order);
}

static void test_cli_items_after_triple_colon_point_into_argv(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--builtin", "echo", ":::", "a", "b c", "");
	assert_int_equal(f->cfg.nitems, 3);
	assert_ptr_equal(f->cfg.items, &f->argv[4]);
	assert_string_equal(f->cfg.items[0], "a");
	assert_string_equal(f->cfg.items[1], "b c");
	assert_string_equal(f->cfg.items[2], "");
	assert_null(f->cfg.arg_file);
}

static void test_cli_everything_after_triple_colon_is_an_item(void **state)
{
	struct fixture *f = *state;

	/* Options and "--" are items there; a second ::: starts a second source. */
	assert_parses(f, "--builtin", "echo", ":::", "-j", "0", "--frob", ":::", "--", "demo");
	assert_null(f->cfg.items);
	assert_int_equal(f->cfg.nsources, 2);
	assert_null(f->cfg.sources[0].file);
	assert_int_equal(f->cfg.sources[0].nitems, 3);
	assert_string_equal(f->cfg.sources[0].items[0], "-j");
	assert_string_equal(f->cfg.sources[0].items[2], "--frob");
	assert_int_equal(f->cfg.sources[1].nitems, 2);
	assert_string_equal(f->cfg.sources[1].items[0], "--");
	assert_string_equal(f->cfg.sources[1].items[1], "demo");
}

static void test_cli_several_sources_in_order(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--link", "--", "echo", "{1}", "{2}", ":::", "a", "b", "::::", "f1", "-",
		      ":::", "x");
	assert_true(f->cfg.link);
	assert_int_equal(f->cfg.ncommand, 3);
	assert_int_equal(f->cfg.nsources, 4);
	assert_int_equal(f->cfg.sources[0].nitems, 2);
	assert_string_equal(f->cfg.sources[1].file, "f1");
	assert_string_equal(f->cfg.sources[2].file, "-");
	assert_string_equal(f->cfg.sources[3].items[0], "x");
	/* One :::: FILE is -a FILE; :::: - is standard input. */
	assert_parses(f, "--builtin", "echo", "::::", "items.txt");
	assert_int_equal(f->cfg.nsources, 0);
	assert_string_equal(f->cfg.arg_file, "items.txt");
	assert_parses(f, "--builtin", "echo", "::::", "-");
	assert_null(f->cfg.arg_file);
	assert_null(f->cfg.items);
	assert_parses(f, "--colsep", "[,;]", "--builtin", "echo", ":::", "a,b");
	assert_string_equal(f->cfg.colsep, "[,;]");
}

static void test_cli_sources_errors_name_what_is_not_supported(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "':::+' is not supported (to pair input sources use --link)", "--",
			   "echo", ":::", "a", ":::+", "b");
	assert_parse_fails(f, "'::::+' is not supported (to pair input sources use --link)", "--",
			   "echo", "::::+", "f");
	assert_parse_fails(f, "'::::' needs at least one file", "--", "echo", "::::", ":::", "a");
	assert_parse_fails(f, "':::' needs at least one item", "--", "echo", ":::", "a", ":::");
	assert_parse_fails(f, "-a and :::: both give the items; use one", "-a", "f", "--", "echo",
			   "::::", "g");
	assert_parse_fails(f, "':::: -' can read standard input only once", "--", "echo",
			   "::::", "-", "::::", "-");
	assert_parse_fails(f,
			   "--colsep with several input sources is not supported (give one ::: "
			   "or :::: source)",
			   "--colsep", ",", "--", "echo", ":::", "a", ":::", "b");
	assert_int_equal(PARSE(f, "--colsep", "a(", "--", "echo"), -EINVAL);
	assert_non_null(strstr(f->err, "--colsep: 'a(' is not a valid regular expression: "));
	assert_parse_fails(f, "unknown option '--header' (pooltop --help lists the options)",
			   "--header", ":", "--", "echo");
	assert_parse_fails(f, "-a given twice: several input files are given as :::: FILE FILE...",
			   "-a", "f", "-a", "g", "--", "echo");
	assert_parse_fails(f,
			   "--arg-file given twice: several input files are given as :::: FILE "
			   "FILE...",
			   "-a", "f", "--arg-file", "-", "--", "echo");
}

static void test_cli_triple_colon_without_items_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "':::' needs at least one item", "--builtin", "echo", ":::");
}

static void test_cli_triple_colon_with_arg_file_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "-a and ::: both give the items; use one", "-a", "f", "--builtin",
			   "echo", ":::", "x");
	assert_parse_fails(f, "-a and ::: both give the items; use one", "-a", "-", "--builtin",
			   "echo", ":::", "x");
}

static void test_cli_null_with_triple_colon_is_allowed(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-0", "--builtin", "echo", ":::", "x");
	assert_true(f->cfg.null_sep);
	assert_int_equal(f->cfg.nitems, 1);
}

static void test_cli_stray_word_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(
		f,
		"unexpected argument 'x' (items go on stdin, in -a FILE, or after ::: or ::::; a "
		"COMMAND goes after --)",
		"--builtin", "echo", "x");
}

static void test_cli_command_after_dashdash_is_parsed_with_its_arguments(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-j", "2", "--", "sha256sum", "{}", "-b");
	assert_int_equal(f->cfg.ncommand, 3);
	assert_ptr_equal(f->cfg.command[0], f->argv[4]);
	assert_string_equal(f->cfg.command[1], "{}");
	assert_string_equal(f->cfg.command[2], "-b");
	assert_null(f->cfg.command[3]);
	assert_null(f->cfg.builtin);
	assert_false(f->cfg.persistent);
	/* Words that look like options belong to the command once "--" is seen. */
	assert_parses(f, "--", "ls", "-j", "--builtin", "demo");
	assert_int_equal(f->cfg.ncommand, 4);
	assert_string_equal(f->cfg.command[1], "-j");
}

static void test_cli_command_then_items_after_triple_colon(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--", "echo", "x", ":::", "a", "b");
	assert_int_equal(f->cfg.ncommand, 2);
	assert_null(f->cfg.command[2]);
	assert_int_equal(f->cfg.nitems, 2);
	assert_string_equal(f->cfg.items[0], "a");
	assert_parse_fails(f, "':::' needs at least one item", "--", "echo", ":::");
}

static void test_cli_dashdash_without_command_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "'--' needs a COMMAND after it", "-j", "2", "--");
	assert_parse_fails(f, "'--' needs a COMMAND after it", "--", ":::", "a");
	assert_parse_fails(f, "the COMMAND after '--' is empty", "--", "", "x");
}

static void test_cli_two_kinds_at_once_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--builtin and a COMMAND both say what to run; use one", "--builtin",
			   "echo", "--", "echo");
	assert_parse_fails(f, "--builtin and --plugin both say what to run; use one", "--builtin",
			   "echo", "--plugin", "x.so");
	assert_parse_fails(f, "--plugin and a COMMAND both say what to run; use one", "--plugin",
			   "x.so", "--", "cat");
}

static void test_cli_persistent_needs_a_command(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--persistent", "--", "cat");
	assert_true(f->cfg.persistent);
	assert_int_equal(f->cfg.in_flight, CLI_IN_FLIGHT_DEFAULT);
	assert_true(CLI_IN_FLIGHT_DEFAULT > 1);
	assert_parse_fails(f,
			   "--persistent needs a COMMAND: pooltop --persistent -- COMMAND [ARG...]",
			   "--persistent", "--builtin", "echo");
	assert_parse_fails(f,
			   "--persistent cannot be used with demo (the demo runs its own workers)",
			   "demo", "--persistent");
}

static void test_cli_in_flight_is_for_persistent_and_bounded(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--persistent", "--in-flight", "1", "--", "cat");
	assert_int_equal(f->cfg.in_flight, 1);
	assert_parses(f, "--persistent", "--in-flight=64", "--", "cat");
	assert_int_equal(f->cfg.in_flight, 64);
	assert_parse_fails(f, "--in-flight: '0' is not a number from 1 to 64", "--persistent",
			   "--in-flight", "0", "--", "cat");
	assert_parse_fails(f, "--in-flight: '65' is not a number from 1 to 64", "--in-flight", "65",
			   "--persistent", "--", "cat");
	assert_parse_fails(f, "--in-flight is for --persistent programs", "--in-flight", "4", "--",
			   "cat");
}

static void test_cli_plugin_is_parsed_and_checked_for_a_name(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--plugin", "./x.so:arg");
	assert_string_equal(f->cfg.plugin, "./x.so:arg");
	assert_parse_fails(f, "--plugin: the file name is empty", "--plugin", "");
	assert_parse_fails(f, "--plugin: the file name is empty", "--plugin", ":arg");
	assert_parse_fails(f, "--plugin needs an argument", "--builtin", "echo", "--plugin");
}

static void test_cli_timeout_takes_a_duration_or_a_percentage(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--timeout", "1", "--", "sleep");
	assert_int_equal(f->cfg.timeout_ns, NS_PER_S);
	assert_int_equal(f->cfg.timeout_pct, 0);
	assert_parses(f, "--timeout=2m", "--", "sleep");
	assert_int_equal(f->cfg.timeout_ns, 120 * NS_PER_S);
	assert_parses(f, "--timeout", "250ms", "--builtin", "hang");
	assert_int_equal(f->cfg.timeout_ns, 250 * NS_PER_MS);
	assert_parses(f, "--timeout", "200%", "--", "sleep");
	assert_int_equal(f->cfg.timeout_pct, 200);
	assert_int_equal(f->cfg.timeout_ns, 0);
	assert_int_equal(f->cfg.timeout_pct, 200);
}

static void test_cli_timeout_bad_is_an_error_naming_the_option(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {"0", "-1", "abc", "%", "0%", "1.5%", "10x", "", "5%%"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "--timeout: '%s' is not a duration (as 10, 1.5s, 200ms, 2m) or a "
			 "percentage of the median item time (as 200%%)",
			 bad[i]);
		assert_parse_fails(f, msg, "--timeout", bad[i], "--", "sleep");
	}
}

static void test_cli_delay_takes_a_duration(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--delay", "1.5s", "--", "true");
	assert_int_equal(f->cfg.delay_ns, 1500 * NS_PER_MS);
	assert_parses(f, "--delay=2m", "--", "true");
	assert_int_equal(f->cfg.delay_ns, 120 * NS_PER_S);
	assert_parses(f, "--delay", "0.2", "--builtin", "echo");
	assert_int_equal(f->cfg.delay_ns, 200 * NS_PER_MS);
	/* GNU parallel's --delay 0: no delay. */
	assert_parses(f, "--delay", "0", "--builtin", "echo");
	assert_int_equal(f->cfg.delay_ns, 0);
}

static void test_cli_delay_bad_is_an_error_naming_the_option(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {"-1", "abc", "", "1x", "1.", "5%"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "--delay: '%s' is not a duration (as 10, 1.5s, 200ms, 2m)", bad[i]);
		assert_parse_fails(f, msg, "--delay", bad[i], "--", "true");
	}
}

static void test_cli_memfree_takes_a_size(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--memfree", "1G", "--", "true");
	assert_int_equal(f->cfg.memfree_bytes, 1ULL << 30);
	assert_parses(f, "--memfree=512M", "--", "true");
	assert_int_equal(f->cfg.memfree_bytes, 512ULL << 20);
	assert_parses(f, "--memfree", "1.5g", "--", "true");
	assert_int_equal(f->cfg.memfree_bytes, 1500ULL * 1000 * 1000);
	assert_parses(f, "--memfree", "4096", "--", "true");
	assert_int_equal(f->cfg.memfree_bytes, 4096);
}

static void test_cli_memfree_bad_is_an_error_naming_the_option(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {"0", "0K", "-1G", "1X", "", "G", "1GB", "1.G", "9999999999T"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "--memfree: '%s' is not a size above 0 (as 512M, 1G, 1.5g)", bad[i]);
		assert_parse_fails(f, msg, "--memfree", bad[i], "--", "true");
	}
}

static void test_cli_term_seq_is_validated(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--term-seq", "INT,100,KILL,25", "--", "sleep");
	assert_string_equal(f->cfg.term_seq, "INT,100,KILL,25");
	assert_parses(f, "--term-seq", "SIGTERM,0,9,10", "--", "sleep");
	assert_parse_fails(f, "--term-seq: 'TERM,200,BOGUS,50': 'BOGUS' is not a signal",
			   "--term-seq", "TERM,200,BOGUS,50", "--", "sleep");
	assert_parse_fails(f,
			   "--term-seq: 'TERM': the last signal needs a wait after it (as KILL,25)",
			   "--term-seq", "TERM", "--", "sleep");
	assert_parse_fails(f,
			   "--term-seq: 'TERM,x': 'x' is not a wait in milliseconds from 0 to "
			   "60000",
			   "--term-seq", "TERM,x", "--", "sleep");
	assert_parse_fails(f,
			   "--term-seq: 'TERM,,KILL,1': an empty element (write "
			   "SIGNAL,MS,SIGNAL,MS...)",
			   "--term-seq", "TERM,,KILL,1", "--", "sleep");
}

static void test_cli_dashdash_as_an_option_argument_is_not_a_command(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-a", "--", "--builtin", "echo");
	assert_string_equal(f->cfg.arg_file, "--");
}

/* --- counts and durations -------------------------------------------------------------------- */

static void test_cli_retries_in_every_form(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--retries", "3", "--builtin", "echo");
	assert_int_equal(f->cfg.retries, 3);
	assert_parses(f, "--retries=0", "--builtin", "echo");
	assert_int_equal(f->cfg.retries, 0);
	assert_parses(f, "--retries=1000000", "--builtin", "echo");
	assert_int_equal(f->cfg.retries, 1000000);
}

static void test_cli_retries_bad_is_an_error_naming_the_option(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--retries: 'x' is not a number from 0 to 1000000", "--retries", "x");
	assert_parse_fails(f, "--retries: '1000001' is not a number from 0 to 1000000",
			   "--retries=1000001");
	assert_parse_fails(f, "--retries needs an argument", "--builtin", "echo", "--retries");
}

static void test_cli_max_items_per_worker_is_parsed(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--max-items-per-worker", "100", "--builtin", "echo");
	assert_int_equal(f->cfg.max_items_per_worker, 100);
	assert_parses(f, "--max-items-per-worker=1000000000000", "--builtin", "echo");
	assert_int_equal(f->cfg.max_items_per_worker, 1000000000000ULL);
}

static void test_cli_max_items_per_worker_zero_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--max-items-per-worker: '0' is not a number from 1 to 1000000000000",
			   "--max-items-per-worker", "0", "--builtin", "echo");
	assert_parse_fails(
		f,
		"--max-items-per-worker: '1000000000001' is not a number from 1 to 1000000000000",
		"--max-items-per-worker=1000000000001", "--builtin", "echo");
}

static void test_cli_join_timeout_takes_a_duration(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--join-timeout", "1.5s", "--builtin", "echo");
	assert_int_equal(f->cfg.join_timeout_ns, 1500 * NS_PER_MS);
	assert_parses(f, "--join-timeout=200ms", "--builtin", "echo");
	assert_int_equal(f->cfg.join_timeout_ns, 200 * NS_PER_MS);
	assert_parses(f, "--join-timeout=2m", "--builtin", "echo");
	assert_int_equal(f->cfg.join_timeout_ns, 120 * NS_PER_S);
	assert_parses(f, "--join-timeout", "3", "--builtin", "echo");
	assert_int_equal(f->cfg.join_timeout_ns, 3 * NS_PER_S);
}

static void test_cli_hang_after_and_refresh_are_parsed(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--hang-after", "1.5s", "--refresh", "100", "--builtin", "echo");
	assert_int_equal(f->cfg.hang_after_ns, 1500 * NS_PER_MS);
	assert_int_equal(f->cfg.refresh_ms, 100);
	assert_parses(f, "--builtin", "echo");
	assert_int_equal(f->cfg.hang_after_ns, 0); /* automatic */
	assert_int_equal(f->cfg.refresh_ms, 0);	   /* the default */
}

static void test_cli_hang_after_and_refresh_errors_name_the_option(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--hang-after: 'soon' is not a duration (as 10, 1.5s, 200ms, 2m)",
			   "--hang-after", "soon", "--builtin", "echo");
	assert_parse_fails(f, "--hang-after: '0' is not a duration (as 10, 1.5s, 200ms, 2m)",
			   "--hang-after=0", "--builtin", "echo");
	assert_parse_fails(f, "--refresh: '5' is not a number from 10 to 10000", "--refresh", "5",
			   "--builtin", "echo");
	assert_parse_fails(f, "--refresh: 'fast' is not a number from 10 to 10000",
			   "--refresh=fast", "--builtin", "echo");
}

static void test_cli_join_timeout_bad_is_an_error_naming_the_option(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--join-timeout: 'abc' is not a duration (as 10, 1.5s, 200ms, 2m)",
			   "--join-timeout", "abc", "--builtin", "echo");
	assert_parse_fails(f, "--join-timeout: '5x' is not a duration (as 10, 1.5s, 200ms, 2m)",
			   "--join-timeout=5x", "--builtin", "echo");
	assert_parse_fails(f, "--join-timeout needs an argument", "--builtin", "echo",
			   "--join-timeout");
}

/* --- files ------------------------------------------------------------------------------------ */

static void test_cli_joblog_and_results_are_parsed(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--joblog", "jl.tsv", "--results=r.jsonl", "--builtin", "echo");
	assert_string_equal(f->cfg.joblog, "jl.tsv");
	assert_string_equal(f->cfg.results, "r.jsonl");
	assert_parse_fails(f, "--joblog: the file name is empty", "--joblog=", "--builtin", "echo");
	assert_parse_fails(f, "--results needs an argument", "--builtin", "echo", "--results");
}

static void test_cli_resume_with_joblog_is_parsed(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--resume", "--joblog", "jl", "--builtin", "echo");
	assert_true(f->cfg.resume);
	assert_false(f->cfg.resume_failed);
	assert_parses(f, "--resume-failed", "--joblog", "jl", "--builtin", "echo");
	assert_false(f->cfg.resume);
	assert_true(f->cfg.resume_failed);
}

static void test_cli_resume_without_joblog_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--resume needs --joblog FILE", "--resume", "--builtin", "echo");
	assert_parse_fails(f, "--resume-failed needs --joblog FILE", "--resume-failed", "--builtin",
			   "echo");
}

/* --- front end ---------------------------------------------------------------------------------
 */

static void test_cli_headless_and_quiet_flags(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--headless", "-q", "--builtin", "echo");
	assert_int_equal(f->cfg.frontend, CLI_FRONTEND_HEADLESS);
	assert_true(f->cfg.quiet);
	assert_parses(f, "--quiet", "--builtin", "echo");
	assert_true(f->cfg.quiet);
	assert_int_equal(f->cfg.frontend, CLI_FRONTEND_AUTO);
}

/* --- help and version --------------------------------------------------------------------------
 */

static void test_cli_help_in_both_forms(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-h");
	assert_int_equal(f->cfg.mode, CLI_HELP);
	assert_parses(f, "--help");
	assert_int_equal(f->cfg.mode, CLI_HELP);
}

static void test_cli_help_wins_over_what_follows(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--help", "-j", "0", "--frob", "stray");
	assert_int_equal(f->cfg.mode, CLI_HELP);
	assert_parses(f, "demo", "--help", "--builtin", "echo");
	assert_int_equal(f->cfg.mode, CLI_HELP);
}

static void test_cli_version_in_both_forms(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-V");
	assert_int_equal(f->cfg.mode, CLI_VERSION);
	assert_parses(f, "--version", "stray");
	assert_int_equal(f->cfg.mode, CLI_VERSION);
}

/* --- unknown and malformed options ---------------------------------------------------------- */

static void test_cli_unknown_long_option_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "unknown option '--frob' (pooltop --help lists the options)",
			   "--builtin", "echo", "--frob");
	assert_parse_fails(f, "unknown option '--frob' (pooltop --help lists the options)",
			   "--frob=3", "--builtin", "echo");
}

static void test_cli_unknown_short_option_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "unknown option '-x' (pooltop --help lists the options)", "-x");
	assert_parse_fails(f, "unknown option '-x' (pooltop --help lists the options)", "-kx");
}

/* A word quoted in an error may hold a newline (-$'\n', an argument "1<newline>2"); the
 * message stays one line, control characters shown as '?'. */
static void test_cli_error_quoting_control_characters_stays_one_line(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "unknown option '-?' (pooltop --help lists the options)", "-\n");
	assert_parse_fails(
		f,
		"-j: '1?2' is not a number of workers (N from 1 to 1024, N% of the CPUs, +N or -N)",
		"-j", "1\n2");
	assert_parse_fails(f,
			   "unexpected argument 'a??b?c' (items go on stdin, in -a FILE, or after "
			   "::: or ::::; a COMMAND goes after --)",
			   "a\r\nb\033c");
	assert_parse_fails(f, "--term-seq: 'TERM?,5': 'TERM?' is not a signal", "--term-seq",
			   "TERM\n,5");
}

static void test_cli_argument_to_a_flag_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--null takes no argument", "--null=1", "--builtin", "echo");
	assert_parse_fails(f, "--resume takes no argument", "--resume=yes", "--builtin", "echo");
}

static void test_cli_unique_abbreviation_is_accepted(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--keep", "--max-items=5", "--builtin", "echo");
	assert_true(f->cfg.keep_order);
	assert_int_equal(f->cfg.max_items_per_worker, 5);
}

static void test_cli_ambiguous_abbreviation_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f,
			   "option '--re' is ambiguous: write more of its name (pooltop --help "
			   "lists the options)",
			   "--re", "--builtin", "echo");
}

/* --- demo ---------------------------------------------------------------------------------------
 */

static void test_cli_demo_is_a_subcommand(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "demo");
	assert_int_equal(f->cfg.mode, CLI_DEMO);
	assert_null(f->cfg.builtin);
}

static void test_cli_demo_exitcodes_is_a_subcommand(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "demo", "exitcodes");
	assert_int_equal(f->cfg.mode, CLI_DEMO_EXITCODES);
}

static void test_cli_demo_takes_options_before_and_after(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "-j", "3", "demo", "--headless");
	assert_int_equal(f->cfg.mode, CLI_DEMO);
	assert_int_equal(f->cfg.jobs, 3);
	assert_int_equal(f->cfg.frontend, CLI_FRONTEND_HEADLESS);
	assert_parses(f, "-q", "demo", "exitcodes", "-j", "2", "--joblog=jl");
	assert_int_equal(f->cfg.mode, CLI_DEMO_EXITCODES);
	assert_int_equal(f->cfg.jobs, 2);
	assert_true(f->cfg.quiet);
	assert_string_equal(f->cfg.joblog, "jl");
}

static void test_cli_demo_option_errors_name_the_option(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "-j: '0' is not a number from 1 to 1024", "demo", "-j0");
	assert_parse_fails(f, "--resume needs --joblog FILE", "demo", "--resume");
}

static void test_cli_demo_unknown_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "demo: unknown demo 'x' (try: pooltop demo, pooltop demo exitcodes)",
			   "demo", "x");
}

static void test_cli_demo_with_builtin_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "--builtin cannot be used with demo (the demo runs its own workers)",
			   "--builtin", "echo", "demo");
	assert_parse_fails(f, "--builtin cannot be used with demo (the demo runs its own workers)",
			   "demo", "exitcodes", "--builtin=echo");
}

static void test_cli_demo_with_items_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "-a cannot be used with demo (the demo makes its own items)", "-a",
			   "f", "demo");
	assert_parse_fails(
		f,
		"demo: unexpected argument ':::' (the demo runs its own workers on its own items)",
		"demo", "exitcodes", ":::", "a");
	assert_parse_fails(
		f,
		"demo: unexpected argument ':::' (the demo runs its own workers on its own items)",
		"demo", ":::", "a");
	assert_parse_fails(
		f,
		"demo: unexpected argument 'more' (the demo runs its own workers on its own items)",
		"demo", "exitcodes", "more");
	assert_parse_fails(
		f,
		"demo: unexpected argument '--' (the demo runs its own workers on its own items)",
		"demo", "--", "ls");
}

static void test_cli_demo_is_only_a_subcommand_as_the_first_word(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "--builtin", "echo", ":::", "demo");
	assert_int_equal(f->cfg.mode, CLI_RUN);
	assert_string_equal(f->cfg.items[0], "demo");
}

/* --- usage --------------------------------------------------------------------------------------
 */

static char *usage_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	cli_usage(f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_cli_usage_lists_every_option(void **state)
{
	static const char *const options[] = {
		"-j, --jobs N",
		"--builtin NAME[:ARG]",
		"-a, --arg-file FILE",
		"-0, --null",
		"-k, --keep-order",
		"--retries N",
		"--max-items-per-worker N",
		"--joblog FILE",
		"--results FILE",
		"--resume",
		"--resume-failed",
		"--join-timeout DURATION",
		"--persistent -- COMMAND [ARG...]",
		"--plugin FILE.so[:ARG]",
		"--in-flight N",
		"--timeout DURATION",
		"--term-seq SEQ",
		"--delay DURATION",
		"--memfree SIZE",
		"--hang-after DURATION",
		"--refresh MS",
		"--headless",
		"-q, --quiet",
		"-h, --help",
		"-V, --version",
	};
	char *text = usage_text();

	(void)state;
	assert_non_null(strstr(text, "pooltop [OPTIONS] --builtin NAME[:ARG] [::: ITEM...]"));
	assert_non_null(strstr(text, "pooltop [OPTIONS] -- COMMAND [ARG...] [::: ITEM...]"));
	assert_non_null(strstr(text, "pooltop demo\n"));
	assert_non_null(strstr(text, "pooltop demo exitcodes\n"));
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (!strstr(text, options[i]))
			fail_msg("--help does not list '%s'", options[i]);
	free(text);
}

/* Each option --help lists (between "What each worker runs:" and the built-in workers): its
 * long name, its short name ('\0' when none), and the word the form shows after the long name
 * (an argument, "--" for --persistent's COMMAND, "" for none). Returns how many. */
struct usage_option {
	char name[40];
	char shortname;
	char argh[40];
};

static size_t usage_options(const char *text, struct usage_option *out, size_t max)
{
	const char *p = strstr(text, "What each worker runs:\n");
	const char *end = strstr(text, "Built-in workers");
	size_t n = 0;

	assert_non_null(p);
	assert_non_null(end);
	for (; p && p < end; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		struct usage_option o = {.shortname = '\0'};
		const char *q = p + strspn(p, " ");
		size_t len;

		if (q == p)
			continue; /* a heading */
		if (q[0] == '-' && q[1] != '-' && q[2] == ',') {
			o.shortname = q[1];
			q += 4;
		}
		if (strncmp(q, "--", 2) != 0 || q[2] == ' ')
			continue; /* a line of help, or the "-- COMMAND" form */
		len = strcspn(q + 2, " \n");
		assert_true(len < sizeof(o.name));
		memcpy(o.name, q + 2, len);
		q += 2 + len;
		if (q[0] == ' ' && q[1] != ' ') {
			len = strcspn(q + 1, " \n");
			assert_true(len < sizeof(o.argh));
			memcpy(o.argh, q + 1, len);
		}
		assert_true(n < max);
		out[n++] = o;
	}
	return n;
}

/* --help and the parser are made from one table: every option listed is one the parser knows,
 * by both its names, and it needs an argument exactly when the help shows one. */
static void test_cli_usage_options_are_the_ones_parsed(void **state)
{
	struct fixture *f = *state;
	struct usage_option opts[64];
	char *text = usage_text();
	size_t n = usage_options(text, opts, ARRAY_SIZE(opts));

	assert_int_equal(n, 40);
	for (size_t i = 0; i < n; i++) {
		bool arg = opts[i].argh[0] && strcmp(opts[i].argh, "--") != 0;
		char words[2][48], needs[96];

		snprintf(words[0], sizeof(words[0]), "--%.40s", opts[i].name);
		snprintf(words[1], sizeof(words[1]), "-%c", opts[i].shortname);
		for (int w = 0; w < (opts[i].shortname ? 2 : 1); w++) {
			int r = PARSE(f, words[w]);

			snprintf(needs, sizeof(needs), "%.48s needs an argument", words[w]);
			if (arg) {
				assert_int_equal(r, -EINVAL);
				assert_string_equal(f->err, needs);
				continue;
			}
			if (r < 0 && (strncmp(f->err, "unknown option", 14) == 0 ||
				      strstr(f->err, "ambiguous") || strcmp(f->err, needs) == 0))
				fail_msg("%s, shown in --help without an argument: %s", words[w],
					 f->err);
		}
	}
	free(text);
}

/* text with every run of spaces and newlines made one space: a wrapped line reads whole. */
static void squeeze_spaces(char *text)
{
	char *out = text;

	for (const char *p = text; *p; p++) {
		bool space = *p == ' ' || *p == '\n';

		if (space && out > text && out[-1] == ' ')
			continue;
		*out++ = space ? ' ' : *p;
	}
	*out = '\0';
}

static void test_cli_usage_lists_every_builtin_with_its_summary(void **state)
{
	char *text = usage_text();

	(void)state;
	for (const struct job_kind *k = job_builtin_kinds; k->name; k++) {
		char line[256];

		snprintf(line, sizeof(line), "\n  %s ", k->name);
		if (!strstr(text, line))
			fail_msg("--help does not list builtin '%s'", k->name);
	}
	squeeze_spaces(text);
	for (const struct job_kind *k = job_builtin_kinds; k->name; k++)
		if (k->summary && !strstr(text, k->summary))
			fail_msg("--help does not give the summary of '%s'", k->name);
	free(text);
}

static void test_cli_usage_gives_exit_codes_and_exit_status(void **state)
{
	char *text = usage_text();

	(void)state;
	assert_non_null(strstr(text, "killed by signal N (a shell shows 128+N)"));
	assert_non_null(strstr(text, "1-100   the number of items that failed"));
	assert_non_null(strstr(text, "101     more than 100 items failed"));
	assert_non_null(strstr(text, "255     a usage error"));
	free(text);
}

/* --- submit, collect ------------------------------------------------------------------ */

static void test_cli_submit_takes_redis_batch_and_items(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "submit", "--redis", "unix:///tmp/r.sock", "--batch", "b1", "--more",
		      ":::", "a", "-b", "c");
	assert_int_equal(f->cfg.mode, CLI_SUBMIT);
	assert_string_equal(f->cfg.redis, "unix:///tmp/r.sock");
	assert_string_equal(f->cfg.batch, "b1");
	assert_true(f->cfg.more);
	assert_int_equal(f->cfg.nitems, 3);
	assert_string_equal(f->cfg.items[1], "-b");
	assert_parses(f, "submit", "--redis=redis://h", "--batch=x.y_z-1", "-0", "-a", "in");
	assert_string_equal(f->cfg.arg_file, "in");
	assert_true(f->cfg.null_sep);
	assert_false(f->cfg.more);
	assert_null(f->cfg.items);
}

static void test_cli_collect_takes_its_files_and_wait(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "collect", "--redis", "redis://h:1/2", "--batch", "b", "--joblog", "j",
		      "--results", "r", "--wait");
	assert_int_equal(f->cfg.mode, CLI_COLLECT);
	assert_string_equal(f->cfg.joblog, "j");
	assert_string_equal(f->cfg.results, "r");
	assert_true(f->cfg.wait);
}

static void test_cli_submit_collect_errors_are_one_line(void **state)
{
	struct fixture *f = *state;

	assert_parse_fails(f, "submit needs --redis URL (redis://HOST[:PORT][/DB] or unix:///PATH)",
			   "submit", "--batch", "b");
	assert_parse_fails(f, "collect needs --batch NAME", "collect", "--redis", "redis://h");
	assert_parse_fails(f, "--redis: 'http://h': the scheme 'http' is not redis:// or unix://",
			   "submit", "--redis", "http://h", "--batch", "b");
	assert_parse_fails(f,
			   "--batch: 'a/b' is not a batch name (letters, digits, '.', '_' and "
			   "'-'; 1 to 64 bytes)",
			   "submit", "--redis", "redis://h", "--batch", "a/b");
	assert_parse_fails(f, "--batch: the name is empty", "collect", "--redis", "redis://h",
			   "--batch", "");
	assert_parse_fails(f, "submit: --wait is not one of its options", "submit", "--redis",
			   "redis://h", "--batch", "b", "--wait");
	assert_parse_fails(f, "collect: --more is not one of its options", "collect", "--batch",
			   "b", "--more");
	assert_parse_fails(f, "collect: -a is not one of its options", "collect", "-a", "F");
	assert_parse_fails(f, "submit: --joblog is not one of its options", "submit", "--joblog",
			   "j");
	assert_parse_fails(f, "submit: -a FILE and ::: both give the items; use one", "submit",
			   "--redis", "redis://h", "--batch", "b", "-a", "F", ":::", "x");
	assert_parse_fails(f, "submit: unexpected 'x' (items go after :::, in -a FILE or on stdin)",
			   "submit", "--redis", "redis://h", "--batch", "b", "x");
	assert_parse_fails(f, "collect: unexpected ':::'", "collect", "--redis", "redis://h",
			   "--batch", "b", ":::", "x");
	assert_parse_fails(f, "submit: --redis needs an argument", "submit", "--redis");
}

/* The cluster view (attach --redis URL --batch NAME) and ls --redis URL. */
static void test_cli_attach_and_ls_take_redis(void **state)
{
	struct fixture *f = *state;

	assert_parses(f, "attach", "--redis", "unix:///tmp/r.sock", "--batch", "b1", "--read-only");
	assert_int_equal(f->cfg.mode, CLI_ATTACH);
	assert_string_equal(f->cfg.redis, "unix:///tmp/r.sock");
	assert_string_equal(f->cfg.batch, "b1");
	assert_true(f->cfg.read_only);
	assert_null(f->cfg.target);
	assert_parses(f, "ls", "--redis=redis://h", "--json");
	assert_int_equal(f->cfg.mode, CLI_LS);
	assert_string_equal(f->cfg.redis, "redis://h");
	assert_true(f->cfg.json);

	assert_parse_fails(f, "attach: --redis URL and --batch NAME go together", "attach",
			   "--redis", "redis://h");
	assert_parse_fails(f, "attach: --redis URL and --batch NAME go together", "attach",
			   "--batch", "b");
	assert_parse_fails(f,
			   "attach: --redis --batch names the batch: no NAME, --socket or "
			   "--exit-when-done with them",
			   "attach", "--redis", "redis://h", "--batch", "b", "web");
	assert_parse_fails(f, "--redis: 'http://h': the scheme 'http' is not redis:// or unix://",
			   "attach", "--redis", "http://h", "--batch", "b");
	assert_parse_fails(f,
			   "--batch: 'a/b' is not a batch name (letters, digits, '.', '_' and "
			   "'-'; 1 to 64 bytes)",
			   "attach", "--redis", "redis://h", "--batch", "a/b");
	assert_parse_fails(f, "ls: --batch is not one of its options", "ls", "--redis", "redis://h",
			   "--batch", "b");
	assert_parse_fails(f, "status: --redis is not one of its options", "status", "--redis",
			   "redis://h");
	assert_parse_fails(f, "ls: --wipe is for the batches of this machine, not --redis", "ls",
			   "--redis", "redis://h", "--wipe");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cli_defaults_with_only_builtin),
		T(test_cli_submit_takes_redis_batch_and_items),
		T(test_cli_collect_takes_its_files_and_wait),
		T(test_cli_submit_collect_errors_are_one_line),
		T(test_cli_attach_and_ls_take_redis),
		T(test_cli_no_arguments_is_nothing_to_run),
		T(test_cli_options_without_builtin_is_nothing_to_run),
		T(test_cli_error_leaves_config_untouched),
		T(test_cli_parse_twice_gives_the_same_result),
		T(test_cli_jobs_in_every_form),
		T(test_cli_jobs_range_ends_are_accepted),
		T(test_cli_jobs_zero_is_an_error_naming_the_option),
		T(test_cli_jobs_above_the_maximum_is_an_error),
		T(test_cli_jobs_counts_from_the_cpus),
		T(test_cli_jobs_not_a_number_is_an_error),
		T(test_cli_jobs_error_names_the_long_form_when_given),
		T(test_cli_jobs_without_argument_is_an_error),
		T(test_cli_builtin_with_arg_points_into_argv),
		T(test_cli_builtin_unknown_is_an_error_naming_the_option),
		T(test_cli_builtin_error_carries_the_reason_from_job_builtin_parse),
		T(test_cli_builtin_without_argument_is_an_error),
		T(test_cli_arg_file_in_every_form),
		T(test_cli_arg_file_dash_is_stdin),
		T(test_cli_arg_file_empty_name_is_an_error),
		T(test_cli_arg_file_without_argument_is_an_error),
		T(test_cli_null_and_keep_order_flags),
		T(test_cli_items_after_triple_colon_point_into_argv),
		T(test_cli_everything_after_triple_colon_is_an_item),
		T(test_cli_several_sources_in_order),
		T(test_cli_sources_errors_name_what_is_not_supported),
		T(test_cli_triple_colon_without_items_is_an_error),
		T(test_cli_triple_colon_with_arg_file_is_an_error),
		T(test_cli_null_with_triple_colon_is_allowed),
		T(test_cli_stray_word_is_an_error),
		T(test_cli_command_after_dashdash_is_parsed_with_its_arguments),
		T(test_cli_command_then_items_after_triple_colon),
		T(test_cli_dashdash_without_command_is_an_error),
		T(test_cli_two_kinds_at_once_is_an_error),
		T(test_cli_persistent_needs_a_command),
		T(test_cli_in_flight_is_for_persistent_and_bounded),
		T(test_cli_plugin_is_parsed_and_checked_for_a_name),
		T(test_cli_timeout_takes_a_duration_or_a_percentage),
		T(test_cli_timeout_bad_is_an_error_naming_the_option),
		T(test_cli_delay_takes_a_duration),
		T(test_cli_delay_bad_is_an_error_naming_the_option),
		T(test_cli_memfree_takes_a_size),
		T(test_cli_memfree_bad_is_an_error_naming_the_option),
		T(test_cli_term_seq_is_validated),
		T(test_cli_dashdash_as_an_option_argument_is_not_a_command),
		T(test_cli_retries_in_every_form),
		T(test_cli_retries_bad_is_an_error_naming_the_option),
		T(test_cli_max_items_per_worker_is_parsed),
		T(test_cli_max_items_per_worker_zero_is_an_error),
		T(test_cli_join_timeout_takes_a_duration),
		T(test_cli_hang_after_and_refresh_are_parsed),
		T(test_cli_hang_after_and_refresh_errors_name_the_option),
		T(test_cli_join_timeout_bad_is_an_error_naming_the_option),
		T(test_cli_joblog_and_results_are_parsed),
		T(test_cli_resume_with_joblog_is_parsed),
		T(test_cli_resume_without_joblog_is_an_error),
		T(test_cli_headless_and_quiet_flags),
		T(test_cli_help_in_both_forms),
		T(test_cli_help_wins_over_what_follows),
		T(test_cli_version_in_both_forms),
		T(test_cli_unknown_long_option_is_an_error),
		T(test_cli_unknown_short_option_is_an_error),
		T(test_cli_error_quoting_control_characters_stays_one_line),
		T(test_cli_argument_to_a_flag_is_an_error),
		T(test_cli_unique_abbreviation_is_accepted),
		T(test_cli_ambiguous_abbreviation_is_an_error),
		T(test_cli_demo_is_a_subcommand),
		T(test_cli_demo_exitcodes_is_a_subcommand),
		T(test_cli_demo_takes_options_before_and_after),
		T(test_cli_demo_option_errors_name_the_option),
		T(test_cli_demo_unknown_is_an_error),
		T(test_cli_demo_with_builtin_is_an_error),
		T(test_cli_demo_with_items_is_an_error),
		T(test_cli_demo_is_only_a_subcommand_as_the_first_word),
		T(test_cli_usage_lists_every_option),
		T(test_cli_usage_options_are_the_ones_parsed),
		T(test_cli_usage_lists_every_builtin_with_its_summary),
		T(test_cli_usage_gives_exit_codes_and_exit_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
