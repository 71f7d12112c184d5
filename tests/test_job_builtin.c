/* Tests for the built-in worker kinds: parsing "NAME[:ARG]", running the kinds that return in
 * this process, and the kinds that end their process in forked children. */
#include "job.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitcode.h"
#include "scale.h"
#include "util.h"

#define SHA512_ABC                                                                                 \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"                         \
	"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
/* SHA-512 of SHA512_ABC's 128 characters, from `printf %s SHA512_ABC | sha512sum`. */
#define SHA512_ABC_2_ROUNDS                                                                        \
	"ee02b3dd5b2c06e4e61888d141998abac194d57692f77ae7a28d748fdf9b9f28"                         \
	"f756d980687f7290f1306857edf3fe01f8ebf4626880d49a33e029399cb2d700"
/* 1000 rounds starting from the text "sha512:1000", from Python's hashlib. */
#define SHA512_DEMO_1000_ROUNDS                                                                    \
	"22f275d37ff366fcfc10c24d69344eb4295b034a345298d4ef3de7ae36f63b78"                         \
	"3fab3d770a6fcdd575dc01fa52c8c8b5b8c5160d9563dfb01075e3d42899a686"

/* A parsed job, its worker context once initialised, and an output buffer, per test. */
struct fixture {
	struct job job;
	struct job_ctx ctx;
	bool started;
	struct job_output out;
};

static int fixture_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(struct fixture));
	f->out.fd = -1;
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	if (f->started && f->job.kind->fini)
		f->job.kind->fini(&f->job, &f->ctx);
	job_output_free(&f->out);
	free(f);
	return 0;
}

/* Parse spec and run the kind's init, as a worker does. */
static void fixture_start(struct fixture *f, const char *spec)
{
	char err[256] = "";
	assert_int_equal(job_builtin_parse(spec, &f->job, err, sizeof(err)), 0);
	if (f->job.kind->init)
		assert_int_equal(f->job.kind->init(&f->job, &f->ctx), 0);
	f->started = true;
}

/* Run one item, output into f->out (reset first). Returns the item's exit code. */
static int fixture_run(struct fixture *f, const char *item)
{
	job_output_reset(&f->out, -1, 1, 1);
	return f->job.kind->run(&f->job, &f->ctx, item, strlen(item), &f->out);
}

/* The output as a string ("" when nothing was appended). */
static const char *fixture_output(struct fixture *f)
{
	if (!f->out.mem.len)
		return "";
	buf_putc(&f->out.mem, '\0');
	f->out.mem.len--;
	return f->out.mem.data;
}

/* Stderr redirected to a temporary file while a kind runs in this process. */
struct capture {
	int saved;
	FILE *file;
	char text[1024];
};

static void capture_begin(struct capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	assert_non_null(c->file);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Restore stderr; the captured text is then in c->text. */
static void capture_end(struct capture *c)
{
	fflush(stderr);
	assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
	close(c->saved);
	rewind(c->file);
	size_t n = fread(c->text, 1, sizeof(c->text) - 1, c->file);
	c->text[n] = '\0';
	fclose(c->file);
}

/* What a kind run in a forked child ended with. */
struct ending {
	int code;     /* exitcode_from_status */
	bool early;   /* the child ended before the signal was due */
	double cpu_s; /* the child's user + system time */
	char stderr_text[1024];
};

/* Runs in the child: a worker's life for one item, ending with _exit. Never calls cmocka. */
static _Noreturn void child_work(const char *spec, const char *item, int err_fd)
{
	/* cmocka handles these in the test process; a worker has them at their defaults. */
	static const int sigs[] = {SIGSEGV, SIGABRT, SIGILL, SIGFPE, SIGBUS, SIGSYS, SIGTERM};
	sigset_t none;
	struct rlimit no_core = {0, 0};
	struct job job;
	struct job_ctx ctx = {0};
	struct job_output out = {.fd = -1};
	job_output_reset(&out, -1, 1, 1);
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setrlimit(RLIMIT_CORE, &no_core);
	if (dup2(err_fd, STDERR_FILENO) < 0)
		_exit(120);
	if (job_builtin_parse(spec, &job, err, sizeof(err)) < 0)
		_exit(121);
	if (job.kind->init && job.kind->init(&job, &ctx) < 0)
		_exit(122);
	int code = job.kind->run(&job, &ctx, item, strlen(item), &out);
	if (job.kind->fini)
		job.kind->fini(&job, &ctx);
	_exit(code);
}

/* Run spec on item in a child. With sig, send it sig after after_ms milliseconds (noting
 * whether it had already ended). */
static void run_in_child(const char *spec, const char *item, int sig, long after_ms,
			 struct ending *e)
{
	int fds[2];
	int status;
	struct rusage ru;

	memset(e, 0, sizeof(*e));
	assert_int_equal(pipe(fds), 0);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_work(spec, item, fds[1]);
	}
	close(fds[1]);
	if (sig) {
		struct timespec ts = {after_ms / 1000, (after_ms % 1000) * 1000000};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			continue;
		e->early = waitpid(pid, &status, WNOHANG) != 0;
		if (!e->early)
			assert_int_equal(kill(pid, sig), 0);
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fds[0], e->stderr_text + len, sizeof(e->stderr_text) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	e->stderr_text[len] = '\0';
	close(fds[0]);
	if (!e->early) {
		pid_t got;
		do {
			got = wait4(pid, &status, 0, &ru);
		} while (got < 0 && errno == EINTR);
		assert_int_equal(got, pid);
		e->cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	}
	e->code = exitcode_from_status(status, NULL);
}

/* ---- parsing ----------------------------------------------------------------------------------
 */

static void assert_parse_fails(const char *spec, const char *message)
{
	struct job job = {.kind = NULL, .arg = 77, .in_flight = 5, .plugin_arg = message};
	char err[256] = "";
	assert_int_equal(job_builtin_parse(spec, &job, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, message);
	/* The job is written only on success. */
	assert_null(job.kind);
	assert_int_equal(job.arg, 77);
	assert_int_equal(job.in_flight, 5);
	assert_ptr_equal(job.plugin_arg, message);
}

static void test_job_builtin_parse_name_fills_kind_default_arg_rest_zeroed(void **state)
{
	(void)state;
	struct job job = {.in_flight = 9, .plugin_arg = "x"};
	char err[256];
	assert_int_equal(job_builtin_parse("sha512", &job, err, sizeof(err)), 0);
	assert_string_equal(job.kind->name, "sha512");
	assert_int_equal(job.arg, 1);
	assert_int_equal(job.in_flight, 0);
	assert_null(job.plugin_arg);
	assert_int_equal(job_builtin_parse("square", &job, err, sizeof(err)), 0);
	assert_string_equal(job.kind->name, "square");
}

static void test_job_builtin_parse_name_with_arg_takes_the_arg(void **state)
{
	(void)state;
	struct job job;
	char err[256];
	assert_int_equal(job_builtin_parse("sleep:200", &job, err, sizeof(err)), 0);
	assert_string_equal(job.kind->name, "sleep");
	assert_int_equal(job.arg, 200);
	assert_int_equal(job_builtin_parse("sha512:1000", &job, err, sizeof(err)), 0);
	assert_int_equal(job.arg, 1000);
	assert_int_equal(job_builtin_parse("exit:0", &job, err, sizeof(err)), 0);
	assert_int_equal(job.arg, 0);
	assert_int_equal(job_builtin_parse("exit:300", &job, err, sizeof(err)), 0);
	assert_int_equal(job.arg, 300);
}

static void test_job_builtin_parse_unknown_name_fails(void **state)
{
	(void)state;
	assert_parse_fails("x", "unknown builtin 'x' (pooltop --help lists them)");
	assert_parse_fails("squares:3", "unknown builtin 'squares' (pooltop --help lists them)");
	assert_parse_fails("", "unknown builtin '' (pooltop --help lists them)");
	assert_parse_fails("SQUARE", "unknown builtin 'SQUARE' (pooltop --help lists them)");
}

static void test_job_builtin_parse_arg_on_argless_kind_fails(void **state)
{
	(void)state;
	assert_parse_fails("echo:3", "builtin 'echo' takes no argument");
	assert_parse_fails("demo:1", "builtin 'demo' takes no argument");
	assert_parse_fails("square:", "builtin 'square' takes no argument");
}

static void test_job_builtin_parse_missing_required_arg_fails(void **state)
{
	(void)state;
	assert_parse_fails("exit", "builtin 'exit' needs a number, as exit:N");
}

static void test_job_builtin_parse_arg_not_a_number_fails(void **state)
{
	(void)state;
	assert_parse_fails("sleep:abc", "builtin 'sleep': 'abc' is not a number");
	assert_parse_fails("sleep:", "builtin 'sleep': '' is not a number");
	assert_parse_fails("sleep:-1", "builtin 'sleep': '-1' is not a number");
	assert_parse_fails("exit:3x", "builtin 'exit': '3x' is not a number");
	assert_parse_fails("sha512:1:2", "builtin 'sha512': '1:2' is not a number");
}

static void test_job_builtin_parse_arg_out_of_range_fails(void **state)
{
	(void)state;
	assert_parse_fails("exit:1001", "builtin 'exit': '1001' is out of range (0..1000)");
	assert_parse_fails("sha512:0", "builtin 'sha512': '0' is out of range (at least 1)");
	assert_parse_fails("sleep:99999999999999999999",
			   "builtin 'sleep': '99999999999999999999' is out of range (at least 0)");
}

static void test_job_builtin_kinds_are_all_listed_with_summaries(void **state)
{
	(void)state;
	static const char *const names[] = {
		"square",     "noop",	 "echo",	 "sleep",      "sha512", "exit",
		"raises",     "abort",	 "segv",	 "hang",       "spin",	 "fail",
		"exit_error", "exit_ok", "return_value", "terminated", "demo",
	};
	size_t n = 0;
	for (const struct job_kind *k = job_builtin_kinds; k->name; k++, n++) {
		assert_non_null(k->summary);
		assert_true(strlen(k->summary) > 0);
		assert_null(strchr(k->summary, '\n'));
		assert_non_null(k->run);
	}
	assert_int_equal(n, ARRAY_SIZE(names));
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct job job;
		char err[256];
		const char *spec = strcmp(names[i], "exit") ? names[i] : "exit:1";
		assert_int_equal(job_builtin_parse(spec, &job, err, sizeof(err)), 0);
		assert_string_equal(job.kind->name, names[i]);
	}
}

/* ---- kinds that return ------------------------------------------------------------------------
 */

static void test_job_builtin_square_prints_the_square(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "square");
	assert_int_equal(fixture_run(f, "12"), 0);
	assert_string_equal(fixture_output(f), "144\n");
	assert_int_equal(fixture_run(f, "-3"), 0);
	assert_string_equal(fixture_output(f), "9\n");
	assert_int_equal(fixture_run(f, "0"), 0);
	assert_string_equal(fixture_output(f), "0\n");
	assert_int_equal(fixture_run(f, "3037000499"), 0);
	assert_string_equal(fixture_output(f), "9223372030926249001\n");
}

static void test_job_builtin_square_not_an_integer_fails_with_1(void **state)
{
	struct fixture *f = *state;
	struct capture c;
	fixture_start(f, "square");
	capture_begin(&c);
	int code = fixture_run(f, "1.5");
	capture_end(&c);
	assert_int_equal(code, 1);
	assert_string_equal(fixture_output(f), "");
	assert_string_equal(c.text, "pooltop: square: not an integer: '1.5'\n");

	capture_begin(&c);
	assert_int_equal(fixture_run(f, ""), 1);
	assert_int_equal(fixture_run(f, "-"), 1);
	assert_int_equal(fixture_run(f, " 1"), 1);
	assert_int_equal(fixture_run(f, "+1"), 1);
	capture_end(&c);
}

static void test_job_builtin_square_overflow_fails_with_1(void **state)
{
	struct fixture *f = *state;
	struct capture c;
	fixture_start(f, "square");
	capture_begin(&c);
	int code = fixture_run(f, "3037000500");
	capture_end(&c);
	assert_int_equal(code, 1);
	assert_string_equal(c.text, "pooltop: square: overflows: '3037000500'\n");

	capture_begin(&c);
	code = fixture_run(f, "99999999999999999999");
	capture_end(&c);
	assert_int_equal(code, 1);
	assert_string_equal(c.text, "pooltop: square: overflows: '99999999999999999999'\n");
}

static void test_job_builtin_square_quotes_a_long_item_cut(void **state)
{
	struct fixture *f = *state;
	struct capture c;
	char item[501];
	memset(item, 'x', sizeof(item) - 1);
	item[sizeof(item) - 1] = '\0';
	fixture_start(f, "square");
	capture_begin(&c);
	assert_int_equal(fixture_run(f, item), 1);
	capture_end(&c);
	/* "pooltop: square: not an integer: '" 200 x "...'\n" */
	assert_int_equal(strlen(c.text), 34 + 200 + 5);
	assert_string_equal(c.text + 34 + 200, "...'\n");
}

static void test_job_builtin_echo_prints_the_item(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "echo");
	assert_int_equal(fixture_run(f, "hello world"), 0);
	assert_string_equal(fixture_output(f), "hello world\n");
	assert_int_equal(fixture_run(f, ""), 0);
	assert_string_equal(fixture_output(f), "\n");
}

static void test_job_builtin_echo_keeps_every_byte(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "echo");
	job_output_reset(&f->out, -1, 1, 1);
	assert_int_equal(f->job.kind->run(&f->job, &f->ctx, "a\0b", 3, &f->out), 0);
	assert_int_equal(f->out.len, 4);
	assert_memory_equal(f->out.mem.data, "a\0b\n", 4);
}

static void test_job_builtin_noop_succeeds_silently(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "noop");
	assert_int_equal(fixture_run(f, "anything"), 0);
	assert_int_equal(f->out.len, 0);
}

static void test_job_builtin_fail_fails_with_1_silently(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "fail");
	assert_int_equal(fixture_run(f, "anything"), 1);
	assert_int_equal(f->out.len, 0);
	/* The worker lives on: the next item runs too. */
	assert_int_equal(fixture_run(f, "again"), 1);
}

static void test_job_builtin_exit_ok_succeeds_silently(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "exit_ok");
	assert_int_equal(fixture_run(f, "x"), 0);
	assert_int_equal(f->out.len, 0);
}

static void test_job_builtin_return_value_prints_1_and_succeeds(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "return_value");
	assert_int_equal(fixture_run(f, "x"), 0);
	assert_string_equal(fixture_output(f), "1\n");
}

static void test_job_builtin_sleep_arg_sleeps_that_long(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "sleep:50");
	uint64_t t0 = now_ns();
	assert_int_equal(fixture_run(f, "ignored"), 0);
	uint64_t took = now_ns() - t0;
	assert_true(took >= 50 * NS_PER_MS);
	assert_true(took < scaled_ns(2000 * NS_PER_MS));
	assert_int_equal(f->out.len, 0);
}

static void test_job_builtin_sleep_without_arg_reads_the_item(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "sleep");
	uint64_t t0 = now_ns();
	assert_int_equal(fixture_run(f, "30"), 0);
	assert_true(now_ns() - t0 >= 30 * NS_PER_MS);
	assert_int_equal(fixture_run(f, "0"), 0);
}

static void test_job_builtin_sleep_item_not_a_number_fails_with_1(void **state)
{
	struct fixture *f = *state;
	struct capture c;
	fixture_start(f, "sleep");
	capture_begin(&c);
	int code = fixture_run(f, "abc");
	capture_end(&c);
	assert_int_equal(code, 1);
	assert_string_equal(c.text, "pooltop: sleep: not a number of milliseconds: 'abc'\n");
}

/* SIGALRM every 5 ms interrupts nanosleep; the sleep still lasts its full time. */
static void alarm_cb(int sig)
{
	(void)sig;
}

static void test_job_builtin_sleep_resumes_after_a_signal(void **state)
{
	struct fixture *f = *state;
	struct sigaction sa = {.sa_handler = alarm_cb}, old_sa;
	struct itimerval every_5ms = {{0, 5000}, {0, 5000}}, off = {{0, 0}, {0, 0}};

	fixture_start(f, "sleep:60");
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old_sa), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &every_5ms, NULL), 0);
	uint64_t t0 = now_ns();
	int code = fixture_run(f, "x");
	uint64_t took = now_ns() - t0;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old_sa, NULL);
	assert_int_equal(code, 0);
	assert_true(took >= 60 * NS_PER_MS);
}

static void test_job_builtin_sha512_matches_the_abc_vector(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "sha512");
	assert_int_equal(fixture_run(f, "abc"), 0);
	assert_string_equal(fixture_output(f), SHA512_ABC "\n");
}

static void test_job_builtin_sha512_two_rounds_hash_the_hex(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "sha512:2");
	assert_int_equal(fixture_run(f, "abc"), 0);
	assert_string_equal(fixture_output(f), SHA512_ABC_2_ROUNDS "\n");
}

static void test_job_builtin_sha512_items_do_not_affect_each_other(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "sha512:2");
	assert_int_equal(fixture_run(f, "something else"), 0);
	assert_int_equal(fixture_run(f, "abc"), 0);
	assert_string_equal(fixture_output(f), SHA512_ABC_2_ROUNDS "\n");
	assert_int_equal(fixture_run(f, "abc"), 0);
	assert_string_equal(fixture_output(f), SHA512_ABC_2_ROUNDS "\n");
}

static void test_job_builtin_demo_integer_is_squared(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "demo");
	assert_int_equal(fixture_run(f, "12"), 0);
	assert_string_equal(fixture_output(f), "144\n");
	assert_int_equal(fixture_run(f, "-4"), 0);
	assert_string_equal(fixture_output(f), "16\n");
}

static void test_job_builtin_demo_runs_the_kind_on_the_instruction_text(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "demo");
	assert_int_equal(fixture_run(f, "echo"), 0);
	assert_string_equal(fixture_output(f), "echo\n");
	assert_int_equal(fixture_run(f, "noop"), 0);
	assert_string_equal(fixture_output(f), "");
	assert_int_equal(fixture_run(f, "return_value"), 0);
	assert_string_equal(fixture_output(f), "1\n");
	assert_int_equal(fixture_run(f, "fail"), 1);
	assert_string_equal(fixture_output(f), "");
}

static void test_job_builtin_demo_sleep_instruction_sleeps(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "demo");
	uint64_t t0 = now_ns();
	assert_int_equal(fixture_run(f, "sleep:40"), 0);
	assert_true(now_ns() - t0 >= 40 * NS_PER_MS);
	assert_string_equal(fixture_output(f), "");
}

static void test_job_builtin_demo_sha512_instruction_hashes_itself(void **state)
{
	struct fixture *f = *state;
	fixture_start(f, "demo");
	assert_int_equal(fixture_run(f, "sha512:1000"), 0);
	assert_string_equal(fixture_output(f), SHA512_DEMO_1000_ROUNDS "\n");
	/* Again, and with another round count: each instruction hashes afresh. */
	assert_int_equal(fixture_run(f, "sha512:1000"), 0);
	assert_string_equal(fixture_output(f), SHA512_DEMO_1000_ROUNDS "\n");
	assert_int_equal(fixture_run(f, "sha512:1"), 0);
	assert_int_equal(f->out.len, 129);
}

static void test_job_builtin_demo_unknown_instruction_fails_with_2(void **state)
{
	struct fixture *f = *state;
	struct capture c;
	fixture_start(f, "demo");
	capture_begin(&c);
	int code = fixture_run(f, "bogus");
	capture_end(&c);
	assert_int_equal(code, 2);
	assert_string_equal(c.text, "pooltop: demo: unknown instruction 'bogus'\n");
}

static void test_job_builtin_demo_refuses_itself(void **state)
{
	struct fixture *f = *state;
	struct capture c;
	fixture_start(f, "demo");
	capture_begin(&c);
	int code = fixture_run(f, "demo");
	capture_end(&c);
	assert_int_equal(code, 2);
	assert_string_equal(c.text, "pooltop: demo: unknown instruction 'demo'\n");
}

static void test_job_builtin_demo_bad_argument_fails_with_2(void **state)
{
	struct fixture *f = *state;
	struct capture c;
	fixture_start(f, "demo");
	capture_begin(&c);
	int code = fixture_run(f, "exit:abc");
	capture_end(&c);
	assert_int_equal(code, 2);
	assert_string_equal(c.text, "pooltop: demo: instruction 'exit:abc': builtin 'exit': "
				    "'abc' is not a number\n");
}

/* ---- kinds that end the process ----------------------------------------------------------------
 */

static void test_job_builtin_exit_3_exits_3(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("exit:3", "x", 0, 0, &e);
	assert_int_equal(e.code, 3);
}

static void test_job_builtin_exit_300_exits_44(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("exit:300", "x", 0, 0, &e);
	assert_int_equal(e.code, 44);
}

static void test_job_builtin_raises_prints_like_python_and_exits_1(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("raises", "item 7", 0, 0, &e);
	assert_int_equal(e.code, 1);
	assert_string_equal(e.stderr_text, "pooltop: worker 0: raises: RuntimeError: There was an "
					   "error! (item 'item 7')\n");
}

static void test_job_builtin_abort_dies_of_sigabrt(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("abort", "x", 0, 0, &e);
	assert_int_equal(e.code, -SIGABRT);
}

static void test_job_builtin_segv_dies_of_sigsegv(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("segv", "x", 0, 0, &e);
	assert_int_equal(e.code, -SIGSEGV);
}

static void test_job_builtin_exit_error_exits_1(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("exit_error", "x", 0, 0, &e);
	assert_int_equal(e.code, 1);
	assert_string_equal(e.stderr_text, "");
}

static void test_job_builtin_demo_exit_instruction_exits(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("demo", "exit:3", 0, 0, &e);
	assert_int_equal(e.code, 3);
	run_in_child("demo", "segv", 0, 0, &e);
	assert_int_equal(e.code, -SIGSEGV);
}

static void test_job_builtin_hang_blocks_until_killed_without_cpu(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("hang", "x", SIGKILL, 100, &e);
	assert_false(e.early);
	assert_int_equal(e.code, -SIGKILL);
	assert_true(e.cpu_s < 0.05);
}

static void test_job_builtin_spin_runs_until_killed(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("spin", "x", SIGKILL, 100, &e);
	assert_false(e.early);
	assert_int_equal(e.code, -SIGKILL);
}

static void test_job_builtin_terminated_is_still_sleeping_for_sigterm(void **state)
{
	(void)state;
	struct ending e;
	run_in_child("terminated", "x", SIGTERM, 100, &e);
	assert_false(e.early);
	assert_int_equal(e.code, -SIGTERM);
}

#define FIXTURE_TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_builtin_parse_name_fills_kind_default_arg_rest_zeroed),
		cmocka_unit_test(test_job_builtin_parse_name_with_arg_takes_the_arg),
		cmocka_unit_test(test_job_builtin_parse_unknown_name_fails),
		cmocka_unit_test(test_job_builtin_parse_arg_on_argless_kind_fails),
		cmocka_unit_test(test_job_builtin_parse_missing_required_arg_fails),
		cmocka_unit_test(test_job_builtin_parse_arg_not_a_number_fails),
		cmocka_unit_test(test_job_builtin_parse_arg_out_of_range_fails),
		cmocka_unit_test(test_job_builtin_kinds_are_all_listed_with_summaries),
		FIXTURE_TEST(test_job_builtin_square_prints_the_square),
		FIXTURE_TEST(test_job_builtin_square_not_an_integer_fails_with_1),
		FIXTURE_TEST(test_job_builtin_square_overflow_fails_with_1),
		FIXTURE_TEST(test_job_builtin_square_quotes_a_long_item_cut),
		FIXTURE_TEST(test_job_builtin_echo_prints_the_item),
		FIXTURE_TEST(test_job_builtin_echo_keeps_every_byte),
		FIXTURE_TEST(test_job_builtin_noop_succeeds_silently),
		FIXTURE_TEST(test_job_builtin_fail_fails_with_1_silently),
		FIXTURE_TEST(test_job_builtin_exit_ok_succeeds_silently),
		FIXTURE_TEST(test_job_builtin_return_value_prints_1_and_succeeds),
		FIXTURE_TEST(test_job_builtin_sleep_arg_sleeps_that_long),
		FIXTURE_TEST(test_job_builtin_sleep_without_arg_reads_the_item),
		FIXTURE_TEST(test_job_builtin_sleep_item_not_a_number_fails_with_1),
		FIXTURE_TEST(test_job_builtin_sleep_resumes_after_a_signal),
		FIXTURE_TEST(test_job_builtin_sha512_matches_the_abc_vector),
		FIXTURE_TEST(test_job_builtin_sha512_two_rounds_hash_the_hex),
		FIXTURE_TEST(test_job_builtin_sha512_items_do_not_affect_each_other),
		FIXTURE_TEST(test_job_builtin_demo_integer_is_squared),
		FIXTURE_TEST(test_job_builtin_demo_runs_the_kind_on_the_instruction_text),
		FIXTURE_TEST(test_job_builtin_demo_sleep_instruction_sleeps),
		FIXTURE_TEST(test_job_builtin_demo_sha512_instruction_hashes_itself),
		FIXTURE_TEST(test_job_builtin_demo_unknown_instruction_fails_with_2),
		FIXTURE_TEST(test_job_builtin_demo_refuses_itself),
		FIXTURE_TEST(test_job_builtin_demo_bad_argument_fails_with_2),
		cmocka_unit_test(test_job_builtin_exit_3_exits_3),
		cmocka_unit_test(test_job_builtin_exit_300_exits_44),
		cmocka_unit_test(test_job_builtin_raises_prints_like_python_and_exits_1),
		cmocka_unit_test(test_job_builtin_abort_dies_of_sigabrt),
		cmocka_unit_test(test_job_builtin_segv_dies_of_sigsegv),
		cmocka_unit_test(test_job_builtin_exit_error_exits_1),
		cmocka_unit_test(test_job_builtin_demo_exit_instruction_exits),
		cmocka_unit_test(test_job_builtin_hang_blocks_until_killed_without_cpu),
		cmocka_unit_test(test_job_builtin_spin_runs_until_killed),
		cmocka_unit_test(test_job_builtin_terminated_is_still_sleeping_for_sigterm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
