/* Tests for exitcode: real wait statuses from forked children, and the words for them. */
#include "exitcode.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

enum child_action {
	CHILD_EXIT_0,
	CHILD_EXIT_3,
	CHILD_EXIT_300,
	CHILD_ABORT,
	CHILD_RAISE_SEGV,
	CHILD_WAIT_FOR_SIGNAL,
};

/* Give sig its default action and unblock it: cmocka installs handlers for SIGSEGV and others,
 * and the child inherits them. */
static void child_signal_default(int sig)
{
	sigset_t set;
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Runs in the child: never returns, never calls cmocka. */
static void child_run(enum child_action action, int sig, int ready_fd)
{
	/* No core files on disk; a test must not rely on one being produced either way. */
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);

	switch (action) {
	case CHILD_EXIT_0:
		_exit(0);
	case CHILD_EXIT_3:
		_exit(3);
	case CHILD_EXIT_300:
		_exit(300);
	case CHILD_ABORT:
		child_signal_default(SIGABRT);
		abort();
	case CHILD_RAISE_SEGV:
		child_signal_default(SIGSEGV);
		raise(SIGSEGV);
		_exit(100);
	case CHILD_WAIT_FOR_SIGNAL:
		child_signal_default(sig);
		/* Tell the parent the signal is ready to be delivered with its default action. */
		if (write(ready_fd, "r", 1) != 1)
			_exit(101);
		for (;;)
			pause();
	}
	_exit(102);
}

/* Fork a child doing action; for CHILD_WAIT_FOR_SIGNAL, send it sig once it is ready. Returns
 * the child's wait status. */
static int child_status(enum child_action action, int sig)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_run(action, sig, fds[1]);
	}
	close(fds[1]);
	if (action == CHILD_WAIT_FOR_SIGNAL) {
		char c;
		ssize_t n;
		do {
			n = read(fds[0], &c, 1);
		} while (n < 0 && errno == EINTR);
		assert_int_equal(n, 1);
		assert_int_equal(kill(pid, sig), 0);
	}
	close(fds[0]);
	int status;
	pid_t got;
	do {
		got = waitpid(pid, &status, 0);
	} while (got < 0 && errno == EINTR);
	assert_int_equal(got, pid);
	return status;
}

static void test_exitcode_from_status_exit_0_is_0(void **state)
{
	(void)state;
	bool core = true;
	assert_int_equal(exitcode_from_status(child_status(CHILD_EXIT_0, 0), &core), 0);
	assert_false(core);
}

static void test_exitcode_from_status_exited_is_exit_status(void **state)
{
	(void)state;
	bool core = true;
	assert_int_equal(exitcode_from_status(child_status(CHILD_EXIT_3, 0), &core), 3);
	assert_false(core);
}

static void test_exitcode_from_status_exit_300_keeps_low_8_bits(void **state)
{
	(void)state;
	assert_int_equal(exitcode_from_status(child_status(CHILD_EXIT_300, 0), NULL), 44);
}

static void test_exitcode_from_status_abort_is_minus_sigabrt(void **state)
{
	(void)state;
	assert_int_equal(exitcode_from_status(child_status(CHILD_ABORT, 0), NULL), -6);
}

static void test_exitcode_from_status_signalled_is_minus_signal(void **state)
{
	(void)state;
	assert_int_equal(exitcode_from_status(child_status(CHILD_RAISE_SEGV, 0), NULL), -11);
}

static void test_exitcode_from_status_sigterm_is_minus_15(void **state)
{
	(void)state;
	bool core = true;
	int status = child_status(CHILD_WAIT_FOR_SIGNAL, SIGTERM);
	assert_int_equal(exitcode_from_status(status, &core), -15);
	/* SIGTERM's default action never dumps core. */
	assert_false(core);
}

static void test_exitcode_from_status_sigkill_is_minus_9(void **state)
{
	(void)state;
	int status = child_status(CHILD_WAIT_FOR_SIGNAL, SIGKILL);
	assert_int_equal(exitcode_from_status(status, NULL), -9);
}

static void test_exitcode_from_status_core_flag_is_reported(void **state)
{
	(void)state;
	/* A status as the kernel builds it for a core dump; a real one depends on the system's
	 * core settings, so it is made by hand. */
	bool core = false;
	assert_int_equal(exitcode_from_status(SIGSEGV | WCOREFLAG, &core), -11);
	assert_true(core);
	assert_int_equal(exitcode_from_status(SIGSEGV, &core), -11);
	assert_false(core);
}

static void test_exitcode_from_status_stopped_is_0_without_core(void **state)
{
	(void)state;
	bool core = true;
	assert_int_equal(exitcode_from_status(W_STOPCODE(SIGSTOP), &core), 0);
	assert_false(core);
}

static void test_exitcode_signal_name_standard_signals(void **state)
{
	(void)state;
	assert_string_equal(exitcode_signal_name(SIGHUP), "SIGHUP");
	assert_string_equal(exitcode_signal_name(SIGINT), "SIGINT");
	assert_string_equal(exitcode_signal_name(SIGABRT), "SIGABRT");
	assert_string_equal(exitcode_signal_name(SIGKILL), "SIGKILL");
	assert_string_equal(exitcode_signal_name(SIGSEGV), "SIGSEGV");
	assert_string_equal(exitcode_signal_name(SIGTERM), "SIGTERM");
	assert_string_equal(exitcode_signal_name(SIGCHLD), "SIGCHLD");
	assert_string_equal(exitcode_signal_name(SIGWINCH), "SIGWINCH");
	assert_string_equal(exitcode_signal_name(SIGSYS), "SIGSYS");
}

static void test_exitcode_signal_name_every_standard_signal_has_a_name(void **state)
{
	(void)state;
	for (int sig = 1; sig <= SIGSYS; sig++) {
		const char *name = exitcode_signal_name(sig);
		assert_non_null(name);
		assert_memory_equal(name, "SIG", 3);
		/* A real name, not the numeric fallback. */
		assert_false(name[3] >= '0' && name[3] <= '9');
	}
}

static void test_exitcode_signal_name_realtime_counts_from_both_ends(void **state)
{
	(void)state;
	assert_string_equal(exitcode_signal_name(SIGRTMIN), "SIGRTMIN");
	assert_string_equal(exitcode_signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
	assert_string_equal(exitcode_signal_name(SIGRTMAX), "SIGRTMAX");
	assert_string_equal(exitcode_signal_name(SIGRTMAX - 2), "SIGRTMAX-2");
}

static void test_exitcode_signal_name_unknown_is_numeric(void **state)
{
	(void)state;
	assert_string_equal(exitcode_signal_name(99), "SIG99");
	assert_string_equal(exitcode_signal_name(0), "SIG0");
}

static void test_exitcode_signal_parse_accepts_names_any_case(void **state)
{
	(void)state;
	assert_int_equal(exitcode_signal_parse("TERM"), SIGTERM);
	assert_int_equal(exitcode_signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(exitcode_signal_parse("term"), SIGTERM);
	assert_int_equal(exitcode_signal_parse("sigKill"), SIGKILL);
	assert_int_equal(exitcode_signal_parse("SEGV"), SIGSEGV);
	assert_int_equal(exitcode_signal_parse("RTMIN+3"), SIGRTMIN + 3);
}

static void test_exitcode_signal_parse_accepts_numbers_1_to_64(void **state)
{
	(void)state;
	assert_int_equal(exitcode_signal_parse("15"), 15);
	assert_int_equal(exitcode_signal_parse("1"), 1);
	assert_int_equal(exitcode_signal_parse("64"), 64);
}

static void test_exitcode_signal_parse_rejects_the_rest(void **state)
{
	(void)state;
	assert_int_equal(exitcode_signal_parse(""), -1);
	assert_int_equal(exitcode_signal_parse("0"), -1);
	assert_int_equal(exitcode_signal_parse("65"), -1);
	assert_int_equal(exitcode_signal_parse("-15"), -1);
	assert_int_equal(exitcode_signal_parse("15x"), -1);
	assert_int_equal(exitcode_signal_parse("99999999999"), -1);
	assert_int_equal(exitcode_signal_parse("SIG"), -1);
	assert_int_equal(exitcode_signal_parse("TERMS"), -1);
	assert_int_equal(exitcode_signal_parse(" TERM"), -1);
	assert_int_equal(exitcode_signal_parse(NULL), -1);
}

static void test_exitcode_shell_is_status_or_128_plus_signal(void **state)
{
	(void)state;
	assert_int_equal(exitcode_shell(0), 0);
	assert_int_equal(exitcode_shell(3), 3);
	assert_int_equal(exitcode_shell(300), 44);
	assert_int_equal(exitcode_shell(-15), 143);
	assert_int_equal(exitcode_shell(-11), 139);
	assert_int_equal(exitcode_shell(-9), 137);
}

static void test_exitcode_format_examples(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(exitcode_format(0, false, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "0");
	exitcode_format(3, false, buf, sizeof(buf));
	assert_string_equal(buf, "3");
	exitcode_format(-15, false, buf, sizeof(buf));
	assert_string_equal(buf, "-15 SIGTERM");
	exitcode_format(-11, true, buf, sizeof(buf));
	assert_string_equal(buf, "-11 SIGSEGV (core dumped)");
}

static void test_exitcode_format_truncates_and_returns_full_length(void **state)
{
	(void)state;
	char buf[5];
	assert_int_equal(exitcode_format(-15, false, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "-15 ");
	assert_int_equal(exitcode_format(-15, false, NULL, 0), 11);
}

static void test_exitcode_describe_examples(void **state)
{
	(void)state;
	char buf[80];
	exitcode_describe(0, false, buf, sizeof(buf));
	assert_string_equal(buf, "exited 0 (success)");
	exitcode_describe(3, false, buf, sizeof(buf));
	assert_string_equal(buf, "exited 3");
	exitcode_describe(-15, false, buf, sizeof(buf));
	assert_string_equal(buf, "exited -15 (SIGTERM; a shell shows 143)");
	int n = exitcode_describe(-11, true, buf, sizeof(buf));
	assert_string_equal(buf, "exited -11 (SIGSEGV, core dumped; a shell shows 139)");
	assert_int_equal(n, (int)strlen(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exitcode_from_status_exit_0_is_0),
		cmocka_unit_test(test_exitcode_from_status_exited_is_exit_status),
		cmocka_unit_test(test_exitcode_from_status_exit_300_keeps_low_8_bits),
		cmocka_unit_test(test_exitcode_from_status_abort_is_minus_sigabrt),
		cmocka_unit_test(test_exitcode_from_status_signalled_is_minus_signal),
		cmocka_unit_test(test_exitcode_from_status_sigterm_is_minus_15),
		cmocka_unit_test(test_exitcode_from_status_sigkill_is_minus_9),
		cmocka_unit_test(test_exitcode_from_status_core_flag_is_reported),
		cmocka_unit_test(test_exitcode_from_status_stopped_is_0_without_core),
		cmocka_unit_test(test_exitcode_signal_name_standard_signals),
		cmocka_unit_test(test_exitcode_signal_name_every_standard_signal_has_a_name),
		cmocka_unit_test(test_exitcode_signal_name_realtime_counts_from_both_ends),
		cmocka_unit_test(test_exitcode_signal_name_unknown_is_numeric),
		cmocka_unit_test(test_exitcode_signal_parse_accepts_names_any_case),
		cmocka_unit_test(test_exitcode_signal_parse_accepts_numbers_1_to_64),
		cmocka_unit_test(test_exitcode_signal_parse_rejects_the_rest),
		cmocka_unit_test(test_exitcode_shell_is_status_or_128_plus_signal),
		cmocka_unit_test(test_exitcode_format_examples),
		cmocka_unit_test(test_exitcode_format_truncates_and_returns_full_length),
		cmocka_unit_test(test_exitcode_describe_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
