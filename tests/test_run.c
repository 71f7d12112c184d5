/* Tests for a run made from a parsed command line: its settings, its job, its words. */
#include "run.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "termseq.h"

#define MAX_WORDS 16

/* One parsed command line (its argv owned here: the config points into it) and a job. */
struct fixture {
	char *argv[MAX_WORDS + 2];
	int argc;
	struct config cfg;
	bool parsed;
	struct job job;
	bool have_job;
	char err[256];
};

static int setup(void **state)
{
	*state = xcalloc(1, sizeof(struct fixture));
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->have_job)
		job_release(&f->job);
	if (f->parsed)
		cli_config_free(&f->cfg);
	for (int i = 0; i < f->argc; i++)
		free(f->argv[i]);
	free(f);
	return 0;
}

/* "pooltop WORD...", which must parse (once per test). */
static void parse(struct fixture *f, const char *const *words)
{
	char err[256];

	assert_false(f->parsed);
	f->argv[f->argc++] = xstrdup("pooltop");
	for (; *words; words++) {
		assert_true(f->argc <= MAX_WORDS);
		f->argv[f->argc++] = xstrdup(*words);
	}
	if (cli_parse(f->argc, f->argv, &f->cfg, err, sizeof(err)) < 0)
		fail_msg("pooltop: %s", err);
	f->parsed = true;
}

#define PARSE(f, ...) parse((f), (const char *const[]){__VA_ARGS__, NULL})

/* The job f's command line asks for: 0, or the error (its message in f->err). */
static int job_of(struct fixture *f)
{
	int r = run_job_from_config(&f->cfg, &f->job, f->err, sizeof(f->err));

	f->have_job = r == 0;
	return r;
}

static void assert_termseq(const struct termseq *got, const char *want)
{
	struct termseq ts;
	char why[256];

	assert_int_equal(termseq_parse(want, &ts, why, sizeof(why)), 0);
	assert_int_equal(got->n, ts.n);
	assert_memory_equal(got->sig, ts.sig, ts.n * sizeof(ts.sig[0]));
	assert_memory_equal(got->ms, ts.ms, ts.n * sizeof(ts.ms[0]));
}

/* --- settings -------------------------------------------------------------------------------- */

static void test_run_settings_are_the_command_lines_workers_and_items(void **state)
{
	struct fixture *f = *state;
	struct run_settings s;

	PARSE(f, "-j", "3", "--builtin", "echo", ":::", "a", "b");
	memset(&s, 0xa5, sizeof(s));
	run_settings_init(&s, &f->cfg);
	assert_int_equal(s.jobs, 3);
	assert_ptr_equal(s.items, f->cfg.items);
	assert_int_equal(s.nitems, 2);
	assert_string_equal(s.items[1], "b");
	assert_false(s.capture_stderr);
}

static void test_run_settings_without_items_read_them_elsewhere(void **state)
{
	struct fixture *f = *state;
	struct run_settings s;

	PARSE(f, "--builtin", "echo", "-a", "items.txt");
	run_settings_init(&s, &f->cfg);
	assert_null(s.items);
	assert_int_equal(s.nitems, 0);
}

/* --- the job --------------------------------------------------------------------------------- */

static void test_run_job_is_the_builtin_with_the_default_term_seq(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--builtin", "sleep:5");
	assert_int_equal(job_of(f), 0);
	assert_string_equal(f->job.kind->name, "sleep");
	assert_int_equal(f->job.arg, 5);
	assert_termseq(&f->job.termseq, TERMSEQ_DEFAULT);
}

static void test_run_job_takes_the_term_seq_given(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--term-seq", "INT,10,KILL,5", "--builtin", "noop");
	assert_int_equal(job_of(f), 0);
	assert_termseq(&f->job.termseq, "INT,10,KILL,5");
}

static void test_run_job_of_the_demo_is_the_builtin_demo(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "demo", "--term-seq", "TERM,20");
	assert_null(f->cfg.builtin);
	assert_int_equal(job_of(f), 0);
	assert_string_equal(f->job.kind->name, "demo");
	assert_termseq(&f->job.termseq, "TERM,20");
}

static void test_run_job_of_a_command_not_found_says_so(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--", "pooltop-no-such-command", "{}");
	assert_int_equal(job_of(f), -ENOENT);
	assert_string_equal(f->err, "pooltop-no-such-command: command not found");
}

static void test_run_job_of_a_command_owns_its_template(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--", "sh", "-c", "echo {}");
	assert_int_equal(job_of(f), 0);
	assert_non_null(f->job.cmd);
	assert_null(f->job.kind->submit);
}

static void test_run_job_of_a_persistent_program_submits(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--persistent", "--in-flight", "3", "--", "cat");
	assert_int_equal(job_of(f), 0);
	assert_non_null(f->job.kind->submit);
	assert_int_equal(f->job.in_flight, 3);
}

/* --- its words ------------------------------------------------------------------------------- */

static void assert_described(struct fixture *f, const char *want)
{
	struct buf b = {0};

	run_describe(&f->cfg, &b);
	assert_non_null(b.data);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void test_run_describe_a_builtin(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--builtin", "sha512:10");
	assert_described(f, "--builtin sha512:10");
}

static void test_run_describe_a_command_quoted(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--", "sh", "-c", "echo {}");
	assert_described(f, "sh -c 'echo {}'");
}

static void test_run_describe_a_persistent_program(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--persistent", "--", "cat");
	assert_described(f, "--persistent cat");
}

static void test_run_describe_a_plugin(void **state)
{
	struct fixture *f = *state;

	PARSE(f, "--plugin", "./x.so:3");
	assert_described(f, "--plugin ./x.so:3");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_run_settings_are_the_command_lines_workers_and_items),
		T(test_run_settings_without_items_read_them_elsewhere),
		T(test_run_job_is_the_builtin_with_the_default_term_seq),
		T(test_run_job_takes_the_term_seq_given),
		T(test_run_job_of_the_demo_is_the_builtin_demo),
		T(test_run_job_of_a_command_not_found_says_so),
		T(test_run_job_of_a_command_owns_its_template),
		T(test_run_job_of_a_persistent_program_submits),
		T(test_run_describe_a_builtin),
		T(test_run_describe_a_command_quoted),
		T(test_run_describe_a_persistent_program),
		T(test_run_describe_a_plugin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
