/* An item's output as kinds write it: in memory while small, spilled whole and in order to its
 * spool file past JOB_OUTPUT_MEM with memory bounded, and cut (ending with a newline) when it
 * has nowhere to spill. */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
	char dir[64];
	int dirfd;
	struct job_output out;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_job_output.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->dirfd >= 0);
	f->out.fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	job_output_free(&f->out);
	unlinkat(f->dirfd, "7.2", 0);
	close(f->dirfd);
	rmdir(f->dir);
	free(f);
	return 0;
}

static char byte_at(uint64_t i)
{
	return (char)('a' + (i * 13 + i / 999) % 26);
}

/* Write n pattern bytes in pieces of piece bytes; the most memory held on the way. */
static size_t write_pattern(struct job_output *o, uint64_t n, size_t piece)
{
	char *b = xmalloc(piece);
	size_t most = 0;
	for (uint64_t pos = 0; pos < n; pos += piece) {
		size_t k = (size_t)MIN((uint64_t)piece, n - pos);
		for (size_t i = 0; i < k; i++)
			b[i] = byte_at(pos + i);
		job_output_write(o, b, k);
		most = MAX(most, o->mem.cap);
	}
	free(b);
	return most;
}

static void test_job_output_small_stays_in_memory(void **state)
{
	struct fixture *f = *state;
	job_output_reset(&f->out, f->dirfd, 7, 2);
	write_pattern(&f->out, 1000, 100);
	assert_false(job_output_finish(&f->out));
	assert_int_equal(f->out.len, 1000);
	assert_int_equal(f->out.mem.len, 1000);
	assert_int_equal(f->out.err, 0);
	assert_int_equal(faccessat(f->dirfd, "7.2", F_OK, 0), -1);
}

static void test_job_output_large_spills_whole_in_order_in_bounded_memory(void **state)
{
	struct fixture *f = *state;
	uint64_t n = 20u << 20;
	job_output_reset(&f->out, f->dirfd, 7, 2);
	size_t most = write_pattern(&f->out, n, 4096);
	assert_true(job_output_finish(&f->out));
	assert_int_equal(f->out.err, 0);
	assert_int_equal(f->out.len, n);
	/* Memory held stays near JOB_OUTPUT_MEM, not the output's size. */
	assert_true(most <= 2 * JOB_OUTPUT_MEM);
	int fd = openat(f->dirfd, "7.2", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, n);
	char *b = xmalloc(1 << 20);
	for (uint64_t pos = 0; pos < n; pos += 1 << 20) {
		assert_int_equal(pread(fd, b, 1 << 20, (off_t)pos), 1 << 20);
		for (size_t i = 0; i < 1 << 20; i++)
			if (b[i] != byte_at(pos + i))
				fail_msg("byte %llu differs", (unsigned long long)(pos + i));
	}
	free(b);
	close(fd);
}

static void test_job_output_with_nowhere_to_spill_is_cut_and_ends_with_a_newline(void **state)
{
	struct fixture *f = *state;
	job_output_reset(&f->out, -1, 7, 2);
	write_pattern(&f->out, 3u << 20, 1000);
	assert_false(job_output_finish(&f->out));
	assert_int_equal(f->out.err, -ENOENT);
	assert_true(f->out.mem.len <= JOB_OUTPUT_MEM + 1);
	assert_true(f->out.mem.len > JOB_OUTPUT_MEM / 2);
	assert_int_equal(f->out.mem.data[f->out.mem.len - 1], '\n');
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_job_output_small_stays_in_memory),
		T(test_job_output_large_spills_whole_in_order_in_bounded_memory),
		T(test_job_output_with_nowhere_to_spill_is_cut_and_ends_with_a_newline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
