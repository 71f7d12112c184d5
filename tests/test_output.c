/* Standard output that never blocks the loop: a pipe nobody reads, a reader that comes late, a
 * reader that leaves, a socket, a regular file, a full device; the shared descriptor's flags are
 * left alone. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "scale.h"
#include "util.h"

/* More than any pipe or socket buffer takes, and more than OUTPUT_HIGH. */
#define BIG (4 * 1024 * 1024)

struct ctx {
	uv_loop_t loop;
	struct output *out;
	int wfd, rfd;	   /* the descriptor written, the reader's end */
	uv_poll_t reader;  /* reads rfd when started */
	uv_timer_t guard;  /* ends a loop run that would go on forever */
	size_t nread;	   /* bytes the reader took */
	size_t want;	   /* bytes all_read waits for, 0 for BIG */
	uint64_t sum;	   /* of what it read: the stream's bytes weighted by position */
	unsigned progress; /* progress() calls */
	unsigned failed;   /* failed() calls */
	int err;	   /* failed()'s error */
	bool closed, timed_out;
};

static void progress_cb(void *data)
{
	struct ctx *c = data;
	c->progress++;
}

static void failed_cb(void *data, int err)
{
	struct ctx *c = data;
	c->failed++;
	c->err = err;
}

static void guard_cb(uv_timer_t *t)
{
	struct ctx *c = t->data;
	c->timed_out = true;
	uv_stop(&c->loop);
}

/* The byte at stream position i. */
static char pattern(size_t i)
{
	return (char)('a' + (i * 7 + i / 4096) % 26);
}

static uint64_t weigh(uint64_t sum, size_t pos, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += (uint64_t)(unsigned char)p[i] * ((pos + i) % 1000 + 1);
	return sum;
}

static void reader_cb(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	struct ctx *c = h->data;
	char buf[65536];
	ssize_t n;
	while ((n = read(c->rfd, buf, sizeof(buf))) > 0) {
		c->sum = weigh(c->sum, c->nread, buf, (size_t)n);
		c->nread += (size_t)n;
	}
	if (n == 0)
		uv_poll_stop(h);
}

static void setup(struct ctx *c, int wfd, int rfd)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(uv_loop_init(&c->loop), 0);
	uv_timer_init(&c->loop, &c->guard);
	c->guard.data = c;
	uv_unref((uv_handle_t *)&c->guard);
	c->wfd = wfd;
	c->rfd = rfd;
	struct output_callbacks cb = {.progress = progress_cb, .failed = failed_cb, .data = c};
	c->out = output_new(&c->loop, wfd, false, &cb);
	assert_non_null(c->out);
}

/* Run the loop for at most ms (scaled), or until it has nothing left to do or cond(c) holds. */
static void run_until(struct ctx *c, bool (*cond)(const struct ctx *c), unsigned ms)
{
	c->timed_out = false;
	uv_timer_start(&c->guard, guard_cb, scaled_ms(ms), 0);
	while (!c->timed_out && !(cond && cond(c)))
		if (uv_run(&c->loop, UV_RUN_ONCE) == 0)
			break;
	uv_timer_stop(&c->guard);
}

static void closed_cb(void *data)
{
	struct ctx *c = data;
	c->closed = true;
}

static void teardown(struct ctx *c)
{
	output_close(c->out, closed_cb, c);
	if (c->reader.data)
		uv_close((uv_handle_t *)&c->reader, NULL);
	uv_close((uv_handle_t *)&c->guard, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_true(c->closed);
	output_free(c->out);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0)
		close(c->wfd);
}

/* Append BIG bytes of the pattern in 1000-byte pieces; returns their weighted sum. */
static uint64_t append_big(struct ctx *c)
{
	char piece[1000];
	uint64_t sum = 0;
	for (size_t pos = 0; pos < BIG; pos += sizeof(piece)) {
		size_t n = MIN(sizeof(piece), (size_t)BIG - pos);
		for (size_t i = 0; i < n; i++)
			piece[i] = pattern(pos + i);
		sum = weigh(sum, pos, piece, n);
		output_append(c->out, piece, n);
	}
	return sum;
}

static bool nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	assert_true(fl >= 0);
	return (fl & O_NONBLOCK) != 0;
}

static bool all_read(const struct ctx *c)
{
	return c->nread == (c->want ? c->want : BIG) && !output_pending(c->out);
}

static void test_output_pipe_nobody_reads_never_blocks_and_says_full(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct ctx c;
	setup(&c, p[1], p[0]);
	alarm(scaled_s(20)); /* a blocking write would hang here: fail loudly instead */
	append_big(&c);
	output_flush(c.out);
	alarm(0);
	assert_true(output_pending(c.out) > 0);
	assert_true(output_full(c.out));
	assert_false(output_failed(c.out));
	/* The pipe's own description, shared with whoever else holds it, stays blocking. */
	assert_false(nonblocking(p[1]));
	run_until(&c, NULL, 50);
	assert_int_equal(c.progress, 0);
	teardown(&c);
}

static void test_output_pipe_read_late_gets_every_byte_in_order(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct ctx c;
	setup(&c, p[1], p[0]);
	uint64_t sum = append_big(&c);
	output_flush(c.out);
	assert_true(output_full(c.out));
	/* The reader comes late. */
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	uv_poll_init(&c.loop, &c.reader, p[0]);
	c.reader.data = &c;
	uv_poll_start(&c.reader, UV_READABLE, reader_cb);
	run_until(&c, all_read, 10000);
	assert_false(c.timed_out);
	assert_int_equal(c.nread, BIG);
	assert_true(c.sum == sum);
	assert_false(output_full(c.out));
	assert_true(c.progress >= 1); /* the producer is told to go on */
	assert_int_equal(c.failed, 0);
	teardown(&c);
}

static bool has_failed(const struct ctx *c)
{
	return c->failed > 0;
}

static void test_output_reader_leaving_is_seen_while_nothing_is_written(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct ctx c;
	setup(&c, p[1], p[0]);
	output_append(c.out, "x\n", 2);
	output_flush(c.out);
	assert_int_equal(output_pending(c.out), 0);
	close(p[0]); /* head -1 got its line and left */
	c.rfd = -1;
	run_until(&c, has_failed, 5000);
	assert_false(c.timed_out);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.err, -EPIPE);
	assert_true(output_failed(c.out));
	/* From then on everything is dropped, and said no more. */
	output_append(c.out, "y\n", 2);
	output_flush(c.out);
	assert_int_equal(output_pending(c.out), 0);
	assert_int_equal(c.failed, 1);
	teardown(&c);
}

static void test_output_socket_never_blocks_and_keeps_the_socket_blocking(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct ctx c;
	setup(&c, sv[0], sv[1]);
	assert_false(nonblocking(sv[0]));
	alarm(scaled_s(20));
	uint64_t sum = append_big(&c);
	output_flush(c.out);
	alarm(0);
	assert_true(output_full(c.out));
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	uv_poll_init(&c.loop, &c.reader, sv[1]);
	c.reader.data = &c;
	uv_poll_start(&c.reader, UV_READABLE, reader_cb);
	run_until(&c, all_read, 10000);
	assert_int_equal(c.nread, BIG);
	assert_true(c.sum == sum);
	assert_false(nonblocking(sv[0]));
	teardown(&c);
}

static void test_output_regular_file_is_written_directly(void **state)
{
	(void)state;
	char path[] = "/tmp/pooltop-test-output.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	struct ctx c;
	setup(&c, fd, -1);
	uint64_t sum = append_big(&c);
	output_flush(c.out);
	assert_int_equal(output_pending(c.out), 0);
	assert_false(output_full(c.out));
	char *back = xmalloc(BIG);
	assert_int_equal(pread(fd, back, BIG, 0), BIG);
	assert_true(weigh(0, 0, back, BIG) == sum);
	free(back);
	teardown(&c);
}

static void test_output_full_device_fails_once_with_enospc(void **state)
{
	(void)state;
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		skip();
	struct ctx c;
	setup(&c, fd, -1);
	output_append(c.out, "a\n", 2);
	output_flush(c.out);
	output_append(c.out, "b\n", 2);
	output_flush(c.out);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.err, -ENOSPC);
	assert_int_equal(output_pending(c.out), 0);
	teardown(&c);
}

static void test_output_give_up_on_a_pipe_writes_what_fits_and_drops_the_rest(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct ctx c;
	setup(&c, p[1], p[0]);
	append_big(&c);
	output_flush(c.out);
	/* The pipe took its fill; the rest waits for a reader that never comes. */
	uint64_t written = output_written(c.out);
	size_t pending = output_pending(c.out);
	assert_true(written > 0);
	assert_true(pending > 0);
	assert_int_equal(written + pending, BIG);
	assert_int_equal(output_give_up(c.out), pending);
	assert_int_equal(output_dropped(c.out), pending);
	assert_int_equal(output_pending(c.out), 0);
	assert_false(output_full(c.out));
	/* Once something was dropped, everything after is: no output follows a cut one. */
	/* ...even when the reader has made room since. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	char drain[65536];
	while (read(p[0], drain, sizeof(drain)) > 0)
		continue;
	output_append(c.out, "late\n", 5);
	assert_int_equal(output_written(c.out), written);
	assert_int_equal(output_dropped(c.out), pending + 5);
	assert_int_equal(c.failed, 0);
	teardown(&c);
}

static void test_output_give_up_with_room_writes_everything_then_and_after(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct ctx c;
	setup(&c, p[1], p[0]);
	output_append(c.out, "one\n", 4);
	assert_int_equal(output_give_up(c.out), 0);
	assert_int_equal(output_written(c.out), 4);
	output_append(c.out, "two\n", 4);
	assert_int_equal(output_written(c.out), 8);
	assert_int_equal(output_dropped(c.out), 0);
	char back[16] = "";
	assert_int_equal(read(p[0], back, sizeof(back)), 8);
	assert_memory_equal(back, "one\ntwo\n", 8);
	teardown(&c);
}

static void test_output_give_up_on_a_regular_file_drops_nothing(void **state)
{
	(void)state;
	char path[] = "/tmp/pooltop-test-output.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	struct ctx c;
	setup(&c, fd, -1);
	append_big(&c);
	assert_int_equal(output_give_up(c.out), 0);
	assert_int_equal(output_written(c.out), BIG);
	assert_int_equal(output_dropped(c.out), 0);
	teardown(&c);
}

/* A file of n pattern bytes starting at stream position pos, unlinked; its fd. */
static int spool_file(size_t pos, size_t n, uint64_t *sum)
{
	char path[] = "/tmp/pooltop-test-spool.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	char piece[4096];
	for (size_t done = 0; done < n;) {
		size_t k = MIN(sizeof(piece), n - done);
		for (size_t i = 0; i < k; i++)
			piece[i] = pattern(pos + done + i);
		*sum = weigh(*sum, pos + done, piece, k);
		assert_int_equal(write_all(fd, piece, k), 0);
		done += k;
	}
	return fd;
}

/* Memory, a 3 MB file, memory, a file: a reader that comes late gets every byte, in order. */
static void test_output_files_and_bytes_come_out_in_order(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct ctx c;
	setup(&c, p[1], p[0]);
	uint64_t sum = 0;
	size_t pos = 0;
	const size_t sizes[] = {1000, 3 << 20, 70000, 5};
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		if (k % 2 == 0) {
			char *b = xmalloc(sizes[k]);
			for (size_t i = 0; i < sizes[k]; i++)
				b[i] = pattern(pos + i);
			sum = weigh(sum, pos, b, sizes[k]);
			output_append(c.out, b, sizes[k]);
			free(b);
		} else {
			output_append_file(c.out, spool_file(pos, sizes[k], &sum), sizes[k]);
		}
		pos += sizes[k];
	}
	output_flush(c.out);
	assert_true(output_pending(c.out) > 0);
	assert_true(output_full(c.out));
	c.want = pos;
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	uv_poll_init(&c.loop, &c.reader, p[0]);
	c.reader.data = &c;
	uv_poll_start(&c.reader, UV_READABLE, reader_cb);
	run_until(&c, all_read, 20000);
	assert_false(c.timed_out);
	assert_int_equal(c.nread, pos);
	assert_true(c.sum == sum);
	assert_int_equal(output_written(c.out), pos);
	assert_int_equal(output_pending(c.out), 0);
	teardown(&c);
}

/* Given up: a file not written is dropped (and closed), and counted. */
static void test_output_give_up_drops_a_file_and_closes_it(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct ctx c;
	setup(&c, p[1], p[0]);
	uint64_t sum = 0;
	int fd = spool_file(0, 1 << 20, &sum);
	output_append_file(c.out, fd, 1 << 20);
	output_flush(c.out);
	uint64_t written = output_written(c.out);
	assert_true(written < (1 << 20));
	assert_int_equal(output_give_up(c.out), (1 << 20) - written);
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed */
	teardown(&c);
}

int main(void)
{
	/* A write to a pipe whose reader left is an error to report, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_pipe_nobody_reads_never_blocks_and_says_full),
		cmocka_unit_test(test_output_pipe_read_late_gets_every_byte_in_order),
		cmocka_unit_test(test_output_reader_leaving_is_seen_while_nothing_is_written),
		cmocka_unit_test(test_output_socket_never_blocks_and_keeps_the_socket_blocking),
		cmocka_unit_test(test_output_regular_file_is_written_directly),
		cmocka_unit_test(test_output_full_device_fails_once_with_enospc),
		cmocka_unit_test(test_output_give_up_on_a_pipe_writes_what_fits_and_drops_the_rest),
		cmocka_unit_test(test_output_give_up_with_room_writes_everything_then_and_after),
		cmocka_unit_test(test_output_give_up_on_a_regular_file_drops_nothing),
		cmocka_unit_test(test_output_files_and_bytes_come_out_in_order),
		cmocka_unit_test(test_output_give_up_drops_a_file_and_closes_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
