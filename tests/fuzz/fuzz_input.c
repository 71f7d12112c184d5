/* Fuzzing the item splitter: whatever the bytes and however they arrive, the items come back
 * as the separator delimits them, byte for byte and numbered in order, the over-long ones
 * reported by their length, and the buffer stays within its documented bound.
 *
 * The input: four bytes of settings, then the body.
 *   byte 0  bit 0: NUL separates items (-0), else '\n'; bit 1: read the bytes from a memfd
 *           with input_fill, else hand them over with input_feed in chunks
 *   byte 1  max_item: 0..127 bytes as is, 128..254 that many KiB past 128, 255 unlimited
 *           (what the batch uses)
 *   byte 2  0..191: the body once; 192..255: repeated 2^((b - 192) / 4) times (at most
 *           FUZZ_INPUT_MAX bytes in all), so that a small input crosses the 64 KiB read
 *           chunk and the buffer's growth, while most inputs stay small and quick
 *   byte 3  seeds the chunk sizes for input_feed */
#include "input.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

#define FUZZ_INPUT_MAX	 (256 * 1024)
#define FUZZ_INPUT_CHUNK (64 * 1024) /* input.c's read chunk, as the bound in input.h says */

/* The reference: the input as it is, and how far the items returned so far have covered it. */
struct expect {
	const char *data;
	size_t size;
	size_t off; /* where the next item starts */
	uint64_t lineno;
	char sep;
	size_t max_item;
};

/* One result of input_next must be the next separator-delimited piece of the input. */
static void expect_result(struct expect *e, int rc, const char *item, size_t len, uint64_t lineno)
{
	FUZZ_CHECK(rc == 1 || rc == -E2BIG, "input_next returned %d", rc);
	FUZZ_CHECK(e->off < e->size, "item %llu past the end of the input (%zu bytes)",
		   (unsigned long long)lineno, e->size);
	const char *start = e->data + e->off;
	const char *sep = memchr(start, e->sep, e->size - e->off);
	size_t n = sep ? (size_t)(sep - start) : e->size - e->off;

	FUZZ_CHECK(lineno == e->lineno + 1, "item numbered %llu after %llu",
		   (unsigned long long)lineno, (unsigned long long)e->lineno);
	FUZZ_CHECK(len == n, "item %llu is %zu bytes, the input has %zu there",
		   (unsigned long long)lineno, len, n);
	if (n > e->max_item) {
		FUZZ_CHECK(rc == -E2BIG, "item %llu of %zu bytes returned past max_item %zu",
			   (unsigned long long)lineno, n, e->max_item);
	} else {
		FUZZ_CHECK(rc == 1, "item %llu of %zu bytes refused with max_item %zu",
			   (unsigned long long)lineno, n, e->max_item);
		FUZZ_CHECK(memcmp(item, start, n) == 0, "item %llu differs from the input",
			   (unsigned long long)lineno);
	}
	e->lineno = lineno;
	e->off += n + (sep != NULL);
}

/* Take every complete item out of in. */
static void drain(struct input *in, struct expect *e)
{
	for (;;) {
		const char *item = NULL;
		size_t len = 0;
		uint64_t lineno = 0;
		int rc = input_next(in, &item, &len, &lineno);
		if (rc == 0)
			return;
		expect_result(e, rc, item, len, lineno);
	}
}

static void check_bound(const struct input *in, size_t max_item)
{
	if (max_item > SIZE_MAX - FUZZ_INPUT_CHUNK)
		return;
	FUZZ_CHECK(input_buffer_size(in) <= max_item + FUZZ_INPUT_CHUNK,
		   "a buffer of %zu bytes with max_item %zu", input_buffer_size(in), max_item);
}

static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* Hand the input over in chunks of at most 64 KiB, draining in between (input.h's bound). */
static void split_fed(struct input *in, struct expect *e, uint32_t seed)
{
	static const size_t spans[] = {1, 7, 300, FUZZ_INPUT_CHUNK};
	size_t off = 0;

	while (off < e->size) {
		uint32_t r = next_random(&seed);
		size_t k = MIN(e->size - off, 1 + (r >> 2) % spans[r & 3]);
		input_feed(in, e->data + off, k);
		off += k;
		drain(in, e);
		check_bound(in, e->max_item);
	}
	input_finish(in);
	drain(in, e);
}

/* Read the input from a memfd through input_fill, as the batch reads stdin. */
static void split_read(struct input *in, struct expect *e)
{
	for (;;) {
		drain(in, e);
		check_bound(in, e->max_item);
		if (input_done(in))
			return;
		ssize_t n = input_fill(in);
		FUZZ_CHECK(n >= 0, "input_fill: %s", strerror((int)-n));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char *bytes;

	if (size < 4 || size - 4 > FUZZ_INPUT_MAX)
		return -1;
	uint8_t mode = data[0], max = data[1], rep = data[2], seed = data[3];
	const uint8_t *body = data + 4;
	size_t blen = size - 4;
	struct expect e = {.sep = mode & 1 ? '\0' : '\n'};

	e.max_item = max < 128 ? max : max < 255 ? (size_t)(max - 128) * 1024 : SIZE_MAX;
	size_t times = rep < 192 ? 1 : (size_t)1 << ((rep - 192) / 4);
	if (blen > 0 && times > FUZZ_INPUT_MAX / blen)
		times = FUZZ_INPUT_MAX / blen;
	if (!bytes)
		bytes = xmalloc(FUZZ_INPUT_MAX);
	for (size_t i = 0; i < times; i++)
		memcpy(bytes + i * blen, body, blen);
	e.data = bytes;
	e.size = blen * times;

	struct input *in;
	if (mode & 2) {
		if (fd < 0)
			fd = memfd_create("fuzz_input", MFD_CLOEXEC);
		FUZZ_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
		FUZZ_CHECK(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
				   write_all(fd, e.data, e.size) == 0 &&
				   lseek(fd, 0, SEEK_SET) == 0,
			   "memfd: %s", strerror(errno));
		in = input_new(fd, e.sep, e.max_item);
		split_read(in, &e);
	} else {
		in = input_new(-1, e.sep, e.max_item);
		split_fed(in, &e, 0x9e3779b9u ^ seed);
	}

	FUZZ_CHECK(input_done(in), "input not done at the end");
	FUZZ_CHECK(e.off == e.size, "items cover %zu of %zu bytes", e.off, e.size);
	const char *item;
	size_t len;
	uint64_t lineno;
	FUZZ_CHECK(input_next(in, &item, &len, &lineno) == 0, "an item after the end");
	input_free(in);
	return 0;
}
