/* Items from a byte stream: a streaming splitter on '\n' (or '\0' with -0) that never holds
 * more than one item plus one read buffer, so a batch of any length runs in bounded memory. */
#ifndef POOLTOP_INPUT_H
#define POOLTOP_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct input;

/* A splitter reading fd (borrowed: not closed by input_free) with separator sep. Items longer
 * than max_item bytes are skipped as they stream, never buffered whole. */
struct input *input_new(int fd, char sep, size_t max_item);
void input_free(struct input *in);

/* One read(2) from the fd into the internal buffer (may block if the fd blocks). Returns the
 * number of bytes read, 0 at end of input, or -errno (EINTR is retried). */
ssize_t input_fill(struct input *in);

/* Feed bytes directly instead of reading the fd (for tests and for ::: items). */
void input_feed(struct input *in, const void *p, size_t n);
/* Declare end of input (input_fill does it itself on EOF). */
void input_finish(struct input *in);

/* The next complete item:
 *   1   *item, *len set (borrowed, valid until the next call on in), *lineno its 1-based number;
 *   0   no complete item buffered: call input_fill (or, after EOF, the input is exhausted);
 *   -E2BIG  the item numbered *lineno was longer than max_item; *len is its length; it has
 *           been skipped and the next call goes on with the following item.
 * At end of input a last item without a trailing separator is returned as an item; an empty
 * input has no items. Empty lines are items (empty ones). */
int input_next(struct input *in, const char **item, size_t *len, uint64_t *lineno);

/* True once the end of input was seen and every item was returned. */
bool input_done(const struct input *in);

/* The size of the internal buffer in bytes, for tests of the memory bound: at most
 * max_item + 64 KiB when driven by input_fill (or by input_feed in chunks of at most 64 KiB
 * with input_next drained in between). */
size_t input_buffer_size(const struct input *in);

#endif
