/* CPU and memory from /proc. */
#include "procstat.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scale.h"
#include "util.h"

static void test_procstat_parse_takes_fields_after_the_last_parenthesis(void **state)
{
	(void)state;
	/* A comm with spaces and a ')' inside must not shift the fields. */
	const char *stat = "4711 (a) b (c)) S 1 4711 4711 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1";
	uint64_t ticks = 0;
	assert_int_equal(procstat_parse_stat(stat, &ticks), 0);
	assert_int_equal(ticks, 325);
}

static void test_procstat_parse_rejects_garbage(void **state)
{
	(void)state;
	uint64_t ticks;
	assert_int_equal(procstat_parse_stat("no parenthesis", &ticks), -EINVAL);
	assert_int_equal(procstat_parse_stat("1 (x) S 1", &ticks), -EINVAL);
}

static void test_procstat_sample_sees_a_spinning_process_near_100_percent(void **state)
{
	(void)state;
	pid_t pid = fork();
	if (pid == 0) {
		/* Never outlive the test, whatever it does. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(60);
		for (;;)
			;
	}
	struct procstat st;
	memset(&st, 0, sizeof(st));
	int r1 = procstat_sample(pid, &st);
	uint64_t rss = st.rss_bytes;
	/* 300 ms, scaled: a loaded machine gives the spinner less of each second. */
	unsigned ms = scaled_ms(300);
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
	int r2 = procstat_sample(pid, &st);
	/* The spinner goes before any assertion can leave this function. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(r1, 0);
	assert_true(rss > 0);
	assert_int_equal(r2, 0);
	/* Spinning: well above a blocked process's 0 %, whatever else the machine does. */
	assert_true(st.cpu_percent > 20 / test_scale());
	assert_int_equal(procstat_sample(pid, &st), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procstat_parse_takes_fields_after_the_last_parenthesis),
		cmocka_unit_test(test_procstat_parse_rejects_garbage),
		cmocka_unit_test(test_procstat_sample_sees_a_spinning_process_near_100_percent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
