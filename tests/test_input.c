/* Tests for the streaming item splitter: chunk boundaries, separators, over-long items, memory. */
#include "input.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

/* A transcript of what input_next returned, one entry per result, so runs can be compared. */
static void record(struct buf *log, int rc, const char *item, size_t len, uint64_t lineno)
{
	buf_printf(log, "%llu:%d:%zu:", (unsigned long long)lineno, rc, len);
	if (rc == 1)
		buf_append(log, item, len);
	buf_putc(log, '\n');
}

/* Take every complete item out of in into log; returns how many. */
static size_t drain(struct input *in, struct buf *log)
{
	size_t count = 0;
	for (;;) {
		const char *item = NULL;
		size_t len = 0;
		uint64_t lineno = 0;
		int rc = input_next(in, &item, &len, &lineno);
		if (rc == 0)
			return count;
		assert_true(rc == 1 || rc == -E2BIG);
		record(log, rc, item, len, lineno);
		count++;
	}
}

/* A small deterministic generator, so a failing chunking can be replayed. */
static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

enum chunking { CHUNK_WHOLE, CHUNK_BYTES, CHUNK_RANDOM };

/* Split data through input_feed in the given chunking; the transcript goes to log. */
static void split(const char *data, size_t n, char sep, size_t max_item, enum chunking how,
		  uint32_t seed, struct buf *log)
{
	struct input *in = input_new(-1, sep, max_item);
	size_t off = 0;
	while (off < n) {
		size_t k = n - off;
		switch (how) {
		case CHUNK_WHOLE:
			break;
		case CHUNK_BYTES:
			k = 1;
			break;
		case CHUNK_RANDOM: {
			size_t r = 1 + next_random(&seed) % 97; /* once: MIN evaluates twice */
			k = MIN(k, r);
			break;
		}
		}
		input_feed(in, data + off, k);
		off += k;
		drain(in, log);
	}
	input_finish(in);
	drain(in, log);
	assert_true(input_done(in));
	input_free(in);
}

/* Check that every chunking of data gives the transcript expected. */
static void check_split(const char *data, size_t n, char sep, size_t max_item, const char *expected)
{
	struct buf log = {0};
	split(data, n, sep, max_item, CHUNK_WHOLE, 0, &log);
	assert_string_equal(log.data ? log.data : "", expected);
	buf_reset(&log);
	split(data, n, sep, max_item, CHUNK_BYTES, 0, &log);
	assert_string_equal(log.data ? log.data : "", expected);
	for (uint32_t seed = 1; seed <= 5; seed++) {
		buf_reset(&log);
		split(data, n, sep, max_item, CHUNK_RANDOM, seed, &log);
		assert_string_equal(log.data ? log.data : "", expected);
	}
	buf_free(&log);
}

static void test_input_next_returns_empty_lines_as_items(void **state)
{
	(void)state;
	check_split("a\n\nb\n", 5, '\n', 10, "1:1:1:a\n2:1:0:\n3:1:1:b\n");
}

static void test_input_next_returns_final_item_without_separator(void **state)
{
	(void)state;
	check_split("a\nbc", 4, '\n', 10, "1:1:1:a\n2:1:2:bc\n");
}

static void test_input_next_empty_input_has_no_items(void **state)
{
	(void)state;
	struct input *in = input_new(-1, '\n', 10);
	const char *item;
	size_t len;
	uint64_t lineno;
	assert_false(input_done(in));
	assert_int_equal(input_next(in, &item, &len, &lineno), 0);
	input_finish(in);
	assert_int_equal(input_next(in, &item, &len, &lineno), 0);
	assert_true(input_done(in));
	input_free(in);
}

static void test_input_nul_separator_keeps_newlines_in_items(void **state)
{
	(void)state;
	check_split("a\nb\0\0c\n", 7, '\0', 10, "1:1:3:a\nb\n2:1:0:\n3:1:2:c\n\n");
}

static void test_input_next_skips_long_item_and_goes_on(void **state)
{
	(void)state;
	check_split("ab\nabcdefgh\ncd\n", 15, '\n', 4, "1:1:2:ab\n2:-7:8:\n3:1:2:cd\n");
}

static void test_input_next_accepts_exactly_max_item_and_rejects_one_more(void **state)
{
	(void)state;
	check_split("abcd\nabcde\nx\n", 13, '\n', 4, "1:1:4:abcd\n2:-7:5:\n3:1:1:x\n");
}

static void test_input_next_rejects_long_final_item_without_separator(void **state)
{
	(void)state;
	check_split("a\nabcdefg", 9, '\n', 4, "1:1:1:a\n2:-7:7:\n");
}

/* Random lines (some empty, some over-long) come out the same whatever the chunking. */
static void test_input_next_same_items_across_any_chunk_boundaries(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	struct buf data = {0};
	for (int i = 0; i < 2000; i++) {
		size_t len = next_random(&seed) % 8 == 0 ? 0 : next_random(&seed) % 70;
		for (size_t j = 0; j < len; j++)
			buf_putc(&data, (char)('a' + next_random(&seed) % 26));
		buf_putc(&data, '\n');
	}
	buf_append(&data, "tail", 4);

	struct buf whole = {0}, other = {0};
	split(data.data, data.len, '\n', 50, CHUNK_WHOLE, 0, &whole);
	split(data.data, data.len, '\n', 50, CHUNK_BYTES, 0, &other);
	assert_string_equal(other.data, whole.data);
	for (uint32_t s = 1; s <= 20; s++) {
		buf_reset(&other);
		split(data.data, data.len, '\n', 50, CHUNK_RANDOM, s, &other);
		assert_string_equal(other.data, whole.data);
	}
	/* Sanity of the reference: 2001 items, some of them skipped. */
	size_t lines = 0, skipped = 0;
	for (const char *p = whole.data; (p = strchr(p, '\n')); p++)
		lines++;
	for (const char *p = whole.data; (p = strstr(p, ":-7:")); p++)
		skipped++;
	assert_int_equal(lines, 2001);
	assert_true(skipped > 100);
	buf_free(&data);
	buf_free(&whole);
	buf_free(&other);
}

/* A child writes data to a pipe and exits; returns the read end. */
static int pipe_from_child(void (*writer)(int fd, const void *arg), const void *arg, pid_t *pid)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		close(fds[0]);
		writer(fds[1], arg);
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

static void reap(pid_t pid)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void write_buf(int fd, const void *arg)
{
	const struct buf *b = arg;
	if (write_all(fd, b->data, b->len) < 0)
		_exit(1);
}

/* Drive in from its fd to the end; returns the largest buffer size seen. */
static size_t split_fd(struct input *in, struct buf *log)
{
	size_t biggest = input_buffer_size(in);
	for (;;) {
		drain(in, log);
		biggest = MAX(biggest, input_buffer_size(in));
		if (input_done(in))
			return biggest;
		ssize_t n = input_fill(in);
		assert_true(n >= 0);
		biggest = MAX(biggest, input_buffer_size(in));
	}
}

static void test_input_fill_reads_items_from_pipe(void **state)
{
	(void)state;
	struct buf data = {0};
	for (int i = 0; i < 100000; i++)
		buf_printf(&data, "item %d %s\n", i, i % 3 ? "x" : "a somewhat longer item");
	pid_t pid;
	int fd = pipe_from_child(write_buf, &data, &pid);

	struct input *in = input_new(fd, '\n', 1024);
	struct buf got = {0}, want = {0};
	split_fd(in, &got);
	split(data.data, data.len, '\n', 1024, CHUNK_WHOLE, 0, &want);
	assert_string_equal(got.data, want.data);
	assert_int_equal(input_fill(in), 0);
	assert_true(input_done(in));

	input_free(in);
	close(fd);
	reap(pid);
	buf_free(&data);
	buf_free(&got);
	buf_free(&want);
}

static void test_input_fill_reports_read_error(void **state)
{
	(void)state;
	struct input *in = input_new(-1, '\n', 1024);
	assert_int_equal(input_fill(in), -EBADF);
	assert_false(input_done(in));
	input_free(in);
}

#define LONG_LINE (20 * 1024 * 1024)

static void write_long_line(int fd, const void *arg)
{
	(void)arg;
	static char chunk[64 * 1024];
	memset(chunk, 'y', sizeof(chunk));
	if (write_all(fd, "x\n", 2) < 0)
		_exit(1);
	for (size_t off = 0; off < LONG_LINE; off += sizeof(chunk))
		if (write_all(fd, chunk, MIN(sizeof(chunk), LONG_LINE - off)) < 0)
			_exit(1);
	if (write_all(fd, "\nz\n", 3) < 0)
		_exit(1);
}

static void test_input_fill_long_line_keeps_buffer_bounded(void **state)
{
	(void)state;
	pid_t pid;
	int fd = pipe_from_child(write_long_line, NULL, &pid);

	struct input *in = input_new(fd, '\n', POOLTOP_MAX_ITEM);
	struct buf got = {0};
	size_t biggest = split_fd(in, &got);
	char want[64];
	snprintf(want, sizeof(want), "1:1:1:x\n2:-7:%d:\n3:1:1:z\n", LONG_LINE);
	assert_string_equal(got.data, want);
	assert_true(biggest <= POOLTOP_MAX_ITEM + 64 * 1024);

	input_free(in);
	close(fd);
	reap(pid);
	buf_free(&got);
}

/* input.h's bound holds for input_feed too: chunks of at most 64 KiB, drained in between,
 * never grow the buffer past max_item + 64 KiB (a growth by doubling went to 256 KiB here). */
static void test_input_feed_in_chunks_keeps_buffer_bounded(void **state)
{
	(void)state;
	enum { CHUNK = 64 * 1024, MAX_ITEM = 100 * 1024 };
	static char chunk[CHUNK];
	memset(chunk, 'x', sizeof(chunk));
	struct input *in = input_new(-1, '\n', MAX_ITEM);
	struct buf log = {0};
	size_t biggest = 0;

	/* A line of 100 KiB (just within max_item) in two chunks, then 64 KiB more of it. */
	const size_t chunks[] = {CHUNK, MAX_ITEM - CHUNK, CHUNK};
	for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
		input_feed(in, chunk, chunks[i]);
		drain(in, &log);
		biggest = MAX(biggest, input_buffer_size(in));
	}
	input_feed(in, "\nz\n", 3);
	input_finish(in);
	drain(in, &log);
	char want[64];
	snprintf(want, sizeof(want), "1:-7:%d:\n2:1:1:z\n", MAX_ITEM + CHUNK);
	assert_string_equal(log.data, want);
	assert_true(biggest <= MAX_ITEM + CHUNK);
	input_free(in);
	buf_free(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_input_next_returns_empty_lines_as_items),
		cmocka_unit_test(test_input_next_returns_final_item_without_separator),
		cmocka_unit_test(test_input_next_empty_input_has_no_items),
		cmocka_unit_test(test_input_nul_separator_keeps_newlines_in_items),
		cmocka_unit_test(test_input_next_skips_long_item_and_goes_on),
		cmocka_unit_test(test_input_next_accepts_exactly_max_item_and_rejects_one_more),
		cmocka_unit_test(test_input_next_rejects_long_final_item_without_separator),
		cmocka_unit_test(test_input_next_same_items_across_any_chunk_boundaries),
		cmocka_unit_test(test_input_fill_reads_items_from_pipe),
		cmocka_unit_test(test_input_fill_reports_read_error),
		cmocka_unit_test(test_input_fill_long_line_keeps_buffer_bounded),
		cmocka_unit_test(test_input_feed_in_chunks_keeps_buffer_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
