/* Items from a byte stream: a streaming splitter that holds at most one item plus one read chunk.
 *
 * DESIGN
 * The buffer holds bytes [start, end): the unreturned rest of the input. Bytes before start were
 * returned (the last returned item stays there, borrowed by the caller, until the next call on
 * the splitter) and are compacted away only when room is needed for new bytes. scan marks how
 * far [start, end) is known to hold no separator, so each byte is searched once.
 *
 * Invariant after input_next returns 0 (the only time input_fill is meant to be called): the
 * buffer holds no separator and at most max_item bytes, so compacting leaves at least
 * INPUT_CHUNK bytes of room within the cap of max_item + INPUT_CHUNK. When the bytes of an
 * item pass max_item without a separator the splitter switches to skipping: it drops bytes up
 * to the next separator while counting them, and reports the item once as -E2BIG. A line of
 * any length thus never grows the buffer past that cap.
 *
 * input_feed appends whatever it is given (the caller holds those bytes anyway); a caller who
 * feeds in chunks and drains input_next in between keeps the same bound.
 */
#include "input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* The initial buffer and the smallest read input_fill asks for. */
#define INPUT_CHUNK (64 * 1024)

struct input {
	int fd;
	char sep;
	size_t max_item;
	size_t limit; /* the buffer never grows past this in input_fill */

	char *buf;
	size_t cap;
	size_t start; /* first unreturned byte */
	size_t scan;  /* [start, scan) holds no separator */
	size_t end;   /* one past the last byte */

	uint64_t lineno; /* items returned or skipped so far */
	bool eof;

	bool skipping;	      /* dropping the bytes of an over-long item */
	size_t skip_len;      /* bytes of it dropped so far */
	uint64_t skip_lineno; /* its number */
};

struct input *input_new(int fd, char sep, size_t max_item)
{
	struct input *in = xcalloc(1, sizeof(*in));
	in->fd = fd;
	in->sep = sep;
	in->max_item = max_item;
	in->limit = max_item > SIZE_MAX - INPUT_CHUNK ? SIZE_MAX : max_item + INPUT_CHUNK;
	in->cap = INPUT_CHUNK;
	in->buf = xmalloc(in->cap);
	return in;
}

void input_free(struct input *in)
{
	if (!in)
		return;
	free(in->buf);
	free(in);
}

size_t input_buffer_size(const struct input *in)
{
	return in->cap;
}

/* Move the unreturned bytes to the front of the buffer. */
static void input_compact(struct input *in)
{
	if (in->start == 0)
		return;
	size_t n = in->end - in->start;
	if (n)
		memmove(in->buf, in->buf + in->start, n);
	in->scan -= in->start;
	in->end = n;
	in->start = 0;
}

/* Make room for at least want more bytes past end, growing the buffer up to max (or past it
 * when want alone needs it). */
static void input_reserve(struct input *in, size_t want, size_t max)
{
	if (in->cap - in->end >= want)
		return;
	input_compact(in);
	if (in->cap - in->end >= want)
		return;
	size_t need = in->end + want;
	size_t cap = in->cap;
	while (cap < need && cap <= SIZE_MAX / 2)
		cap *= 2;
	if (cap < need)
		cap = need;
	if (cap > max)
		cap = MAX(max, need);
	in->buf = xrealloc(in->buf, cap);
	in->cap = cap;
}

ssize_t input_fill(struct input *in)
{
	if (in->eof)
		return 0;
	if (in->cap - in->end < INPUT_CHUNK) {
		input_compact(in);
		if (in->cap - in->end < INPUT_CHUNK && in->end < in->limit)
			input_reserve(in, MIN(INPUT_CHUNK, in->limit - in->end), in->limit);
	}
	/* Only a caller who fills without draining input_next gets here with a full buffer. */
	if (in->cap == in->end)
		return -ENOBUFS;
	ssize_t n;
	do
		n = read(in->fd, in->buf + in->end, in->cap - in->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		in->eof = true;
	in->end += (size_t)n;
	return n;
}

void input_feed(struct input *in, const void *p, size_t n)
{
	if (!n)
		return;
	/* Capped at the limit like input_fill, so that growth by doubling keeps input.h's bound;
	 * a caller who feeds more than it allows still gets room for all of it. */
	input_reserve(in, n, in->limit);
	memcpy(in->buf + in->end, p, n);
	in->end += n;
}

void input_finish(struct input *in)
{
	in->eof = true;
}

/* Drop everything buffered (the buffer is empty afterwards). */
static void input_drop_all(struct input *in)
{
	in->start = in->scan = in->end = 0;
}

/* Skipping: drop bytes up to the next separator. Returns -E2BIG when the over-long item ended
 * (at a separator or at end of input), 0 when more input is needed. */
static int input_skip(struct input *in, size_t *len, uint64_t *lineno)
{
	char *p = memchr(in->buf + in->start, in->sep, in->end - in->start);
	if (p) {
		size_t n = (size_t)(p - (in->buf + in->start));
		in->skip_len += n;
		in->start += n + 1;
		in->scan = in->start;
	} else {
		in->skip_len += in->end - in->start;
		input_drop_all(in);
		if (!in->eof)
			return 0;
	}
	in->skipping = false;
	*len = in->skip_len;
	*lineno = in->skip_lineno;
	return -E2BIG;
}

int input_next(struct input *in, const char **item, size_t *len, uint64_t *lineno)
{
	if (in->start == in->end)
		input_drop_all(in);
	if (in->skipping)
		return input_skip(in, len, lineno);

	char *p = memchr(in->buf + in->scan, in->sep, in->end - in->scan);
	if (p) {
		size_t n = (size_t)(p - (in->buf + in->start));
		const char *s = in->buf + in->start;
		in->start += n + 1;
		in->scan = in->start;
		*len = n;
		*lineno = ++in->lineno;
		if (n > in->max_item)
			return -E2BIG;
		*item = s;
		return 1;
	}
	in->scan = in->end;

	size_t n = in->end - in->start;
	if (n > in->max_item) {
		in->skipping = true;
		in->skip_len = 0;
		in->skip_lineno = ++in->lineno;
		return input_skip(in, len, lineno);
	}
	if (in->eof && n > 0) {
		*item = in->buf + in->start;
		*len = n;
		*lineno = ++in->lineno;
		in->start = in->scan = in->end;
		return 1;
	}
	return 0;
}

bool input_done(const struct input *in)
{
	return in->eof && !in->skipping && in->start == in->end;
}
