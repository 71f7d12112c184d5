/* CPU, memory and state from /proc: the parsing of /proc/PID/stat, the matching of processes to
 * watched groups in one pass, the CPU rate between passes (on a /proc made by the test), and a
 * real spinning and sleeping process. */
#include "procstat.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scale.h"
#include "util.h"

#define HZ 100

static void test_procstat_parse_takes_fields_after_the_last_parenthesis(void **state)
{
	(void)state;
	/* A comm with spaces and a ')' inside must not shift the fields. */
	const char *stat = "4711 (a) b (c)) S 1 4700 4700 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 "
			   "0 123456 9000000 321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0\n";
	struct procstat_line l;
	assert_int_equal(procstat_parse(stat, &l), 0);
	assert_int_equal(l.pid, 4711);
	assert_int_equal(l.pgrp, 4700);
	assert_int_equal(l.state, 'S');
	assert_int_equal(l.ticks, 325);
	assert_int_equal(l.start, 123456);
	assert_int_equal(l.rss_pages, 321);
}

static void test_procstat_parse_rejects_garbage(void **state)
{
	(void)state;
	struct procstat_line l;
	assert_int_equal(procstat_parse("no parenthesis", &l), -EINVAL);
	assert_int_equal(procstat_parse("1 (x) S 1", &l), -EINVAL);
	assert_int_equal(procstat_parse("(x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 1 1", &l),
			 -EINVAL);
}

static void test_procstat_meminfo_available_reads_its_line_in_bytes(void **state)
{
	const char *text = "MemTotal:       16316412 kB\n"
			   "MemFree:          815808 kB\n"
			   "MemAvailable:    9876543 kB\n"
			   "Buffers:          123456 kB\n";
	uint64_t b = 0;
	(void)state;
	assert_int_equal(procstat_meminfo_available(text, &b), 0);
	assert_int_equal(b, 9876543ULL * 1024);
	/* Not taken from a line that only contains the word. */
	assert_int_equal(procstat_meminfo_available("MemFree: 1 kB\nXMemAvailable: 5 kB\n"
						    "MemAvailable:\t7 kB\n",
						    &b),
			 0);
	assert_int_equal(b, 7 * 1024);
}

static void test_procstat_meminfo_available_missing_or_bad_is_an_error(void **state)
{
	uint64_t b = 42;
	(void)state;
	/* Kernels before 3.14 have no MemAvailable. */
	assert_int_equal(procstat_meminfo_available("MemTotal: 1 kB\nMemFree: 1 kB\n", &b),
			 -ENOENT);
	assert_int_equal(procstat_meminfo_available("", &b), -ENOENT);
	assert_int_equal(procstat_meminfo_available("MemAvailable: kB\n", &b), -EINVAL);
	assert_int_equal(procstat_meminfo_available("MemAvailable: 12 MB\n", &b), -EINVAL);
	assert_int_equal(procstat_meminfo_available("MemAvailable: 99999999999999999999 kB\n", &b),
			 -EINVAL);
	assert_int_equal(b, 42);
}

static void test_procstat_mem_available_reads_proc(void **state)
{
	uint64_t b = 0;
	(void)state;
	if (access("/proc/meminfo", R_OK) != 0)
		skip();
	assert_int_equal(procstat_mem_available(NULL, &b), 0);
	assert_true(b > 0);
}

static void test_procstat_state_rank_puts_running_first_and_zombies_last(void **state)
{
	(void)state;
	const char order[] = "RDTSZ";
	for (int i = 0; order[i + 1]; i++)
		assert_true(procstat_state_rank(order[i]) > procstat_state_rank(order[i + 1]));
	assert_int_equal(procstat_state_rank('t'), procstat_state_rank('T'));
	assert_true(procstat_state_rank('I') < procstat_state_rank('S'));
	assert_true(procstat_state_rank('I') > procstat_state_rank('Z'));
	assert_true(procstat_state_rank('Z') > procstat_state_rank('\0'));
}

/* --- a /proc of the test's own --- */

struct fake {
	char dir[64];
};

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/pooltop-procstat.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Write the process pid into the fake /proc: comm "x y)", its group, state, CPU ticks, start
 * (ticks after boot) and resident pages. */
static void fake_proc(struct fake *f, int pid, int pgrp, char st, unsigned long long ticks,
		      unsigned long long start, unsigned long long rss)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%d", f->dir, pid);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%d/stat", f->dir, pid);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "%d (x y)) %c 1 %d %d 0 -1 0 0 0 0 0 %llu 0 0 0 20 0 1 0 %llu 1000 %llu\n", pid,
		st, pgrp, pgrp, ticks, start, rss);
	fclose(fp);
}

static void fake_gone(struct fake *f, int pid)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%d/stat", f->dir, pid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%d", f->dir, pid);
	rmdir(path);
}

static void test_procstat_scan_sums_each_watched_group_in_one_pass(void **state)
{
	struct fake *f = *state;
	long page = sysconf(_SC_PAGESIZE);
	/* Slot 0's job: group 100 (a shell sleeping, a child running, a zombie). */
	fake_proc(f, 100, 100, 'S', 0, 10, 10);
	fake_proc(f, 101, 100, 'R', 0, 10, 20);
	fake_proc(f, 102, 100, 'Z', 0, 10, 0);
	/* Slot 1: a built-in worker, process 200, in its own group with a child that is not the
	 * worker (not counted: only the worker process is watched). */
	fake_proc(f, 200, 200, 'S', 0, 10, 5);
	fake_proc(f, 201, 200, 'R', 0, 10, 7);
	/* Slot 2's job: group 300, stopped and waiting on I/O. */
	fake_proc(f, 300, 300, 'T', 0, 10, 1);
	fake_proc(f, 301, 300, 'D', 0, 10, 1);
	/* Nobody's. */
	fake_proc(f, 1, 1, 'S', 0, 1, 100);
	/* In group 100, but skipped: not read, not counted. */
	fake_proc(f, 110, 100, 'D', 0, 10, 1000);
	struct procstat_scan *s = procstat_scan_new(f->dir, 8, 16);
	procstat_scan_reset(s);
	assert_int_equal(procstat_scan_watch(s, 100, true, 0), 0);
	assert_int_equal(procstat_scan_watch(s, 200, false, 1), 0);
	assert_int_equal(procstat_scan_watch(s, 300, true, 2), 0);
	assert_int_equal(procstat_scan_watch(s, 300, true, 3), -EEXIST);
	assert_int_equal(procstat_scan_watch(s, 400, true, 8), -EINVAL);
	assert_int_equal(procstat_scan_skip(s, 110), 0);
	assert_int_equal(procstat_scan_skip(s, 100), -EEXIST);
	assert_int_equal(procstat_scan_pass(s, 10 * NS_PER_S, HZ), 0);

	const struct procstat_figures *g = procstat_scan_figures(s, 0);
	assert_true(g->known);
	assert_int_equal(g->nprocs, 3);
	assert_int_equal(g->state, 'R');
	assert_int_equal(g->rss_bytes, 30 * page);
	g = procstat_scan_figures(s, 1);
	assert_true(g->known);
	assert_int_equal(g->nprocs, 1);
	assert_int_equal(g->state, 'S');
	assert_int_equal(g->rss_bytes, 5 * page);
	g = procstat_scan_figures(s, 2);
	assert_int_equal(g->nprocs, 2);
	assert_int_equal(g->state, 'D');
	assert_false(procstat_scan_figures(s, 3)->known);
	assert_false(procstat_scan_figures(s, 99)->known);
	procstat_scan_free(s);
}

static void test_procstat_scan_cpu_is_a_rate_between_passes(void **state)
{
	struct fake *f = *state;
	/* Group 100 at the first pass (t = 10 s, tick 1000): 100 and 101. */
	fake_proc(f, 100, 100, 'S', 40, 900, 1);
	fake_proc(f, 101, 100, 'R', 500, 900, 1);
	fake_proc(f, 102, 100, 'R', 70, 900, 1); /* vanishes before the second pass */
	struct procstat_scan *s = procstat_scan_new(f->dir, 4, 16);
	procstat_scan_reset(s);
	procstat_scan_watch(s, 100, true, 0);
	procstat_scan_pass(s, 10 * NS_PER_S, HZ);
	/* No interval yet. */
	assert_true(procstat_scan_figures(s, 0)->cpu_percent == 0);

	/* One second later: 101 used 60 ticks; 103 began after the first pass and used 20 since
	 * its start; 104 is older than the first pass, only just in the group: from now; 102 is
	 * gone, its last 70 ticks (before the first pass) count nothing; 100 was idle. */
	fake_proc(f, 101, 100, 'R', 560, 900, 1);
	fake_proc(f, 103, 100, 'R', 20, 1050, 1);
	fake_proc(f, 104, 100, 'S', 300, 500, 1);
	fake_gone(f, 102);
	procstat_scan_reset(s);
	procstat_scan_watch(s, 100, true, 0);
	procstat_scan_pass(s, 11 * NS_PER_S, HZ);
	const struct procstat_figures *g = procstat_scan_figures(s, 0);
	assert_int_equal(g->nprocs, 4);
	assert_true(g->cpu_percent > 79.9 && g->cpu_percent < 80.1);

	/* Two seconds later: 101's pid reused by a process started after the second pass, with
	 * 10 ticks; 104 used 40 (it is remembered now): 50 ticks over 2 s. */
	fake_proc(f, 101, 100, 'S', 10, 1150, 1);
	fake_proc(f, 104, 100, 'S', 340, 500, 1);
	fake_gone(f, 103);
	procstat_scan_reset(s);
	procstat_scan_watch(s, 100, true, 0);
	procstat_scan_pass(s, 13 * NS_PER_S, HZ);
	g = procstat_scan_figures(s, 0);
	assert_int_equal(g->state, 'S');
	assert_true(g->cpu_percent > 24.9 && g->cpu_percent < 25.1);
	procstat_scan_free(s);
}

static void test_procstat_scan_of_a_missing_proc_is_an_error(void **state)
{
	struct fake *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/nonexistent", f->dir);
	struct procstat_scan *s = procstat_scan_new(path, 4, 16);
	procstat_scan_watch(s, 100, true, 0);
	assert_int_equal(procstat_scan_pass(s, NS_PER_S, HZ), -ENOENT);
	assert_false(procstat_scan_figures(s, 0)->known);
	procstat_scan_free(s);
	procstat_scan_free(NULL);
}

/* --- the real /proc --- */

static pid_t child_in_own_group(bool spin)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		/* Never outlive the test, whatever it does. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(60);
		for (;;)
			if (!spin)
				pause();
	}
	setpgid(pid, pid);
	return pid;
}

static uint64_t boot_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void test_procstat_scan_sees_a_spinning_group_running_and_a_sleeping_one_idle(void **state)
{
	(void)state;
	pid_t spin = child_in_own_group(true), idle = child_in_own_group(false);
	struct procstat_scan *s = procstat_scan_new("/proc", 4, 64);
	procstat_scan_watch(s, spin, true, 0);
	procstat_scan_watch(s, idle, true, 1);
	int r1 = procstat_scan_pass(s, boot_ns(), sysconf(_SC_CLK_TCK));
	/* 500 ms, scaled: a loaded machine gives the spinner less of each second. */
	unsigned ms = scaled_ms(500);
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
	int r2 = procstat_scan_pass(s, boot_ns(), sysconf(_SC_CLK_TCK));
	struct procstat_figures fs = *procstat_scan_figures(s, 0);
	struct procstat_figures fi = *procstat_scan_figures(s, 1);
	/* The children go before any assertion can leave this function. */
	kill(spin, SIGKILL);
	kill(idle, SIGKILL);
	waitpid(spin, NULL, 0);
	waitpid(idle, NULL, 0);
	int r3 = procstat_scan_pass(s, boot_ns(), sysconf(_SC_CLK_TCK));
	assert_int_equal(r1, 0);
	assert_int_equal(r2, 0);
	assert_true(fs.known && fi.known);
	assert_int_equal(fs.nprocs, 1);
	assert_true(fs.rss_bytes > 0);
	/* Spinning: well above a blocked process's 0 %, whatever else the machine does (two
	 * cores shared by a few test suites give it a quarter of one). */
	assert_true(fs.cpu_percent > 10 / test_scale());
	assert_int_equal(fs.state, 'R');
	assert_true(fi.cpu_percent < 5);
	assert_int_equal(fi.state, 'S');
	assert_int_equal(r3, 0);
	assert_false(procstat_scan_figures(s, 0)->known);
	procstat_scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procstat_parse_takes_fields_after_the_last_parenthesis),
		cmocka_unit_test(test_procstat_parse_rejects_garbage),
		cmocka_unit_test(test_procstat_meminfo_available_reads_its_line_in_bytes),
		cmocka_unit_test(test_procstat_meminfo_available_missing_or_bad_is_an_error),
		cmocka_unit_test(test_procstat_mem_available_reads_proc),
		cmocka_unit_test(test_procstat_state_rank_puts_running_first_and_zombies_last),
		cmocka_unit_test_setup_teardown(
			test_procstat_scan_sums_each_watched_group_in_one_pass, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(test_procstat_scan_cpu_is_a_rate_between_passes,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_procstat_scan_of_a_missing_proc_is_an_error,
						fake_setup, fake_teardown),
		cmocka_unit_test(
			test_procstat_scan_sees_a_spinning_group_running_and_a_sleeping_one_idle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
