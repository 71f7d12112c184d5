/* A run's standard output: written from the loop without ever blocking it on a slow reader,
 * through a bounded buffer that tells the producer when to stop. See the DESIGN comment in
 * output.c. */
#ifndef POOLTOP_OUTPUT_H
#define POOLTOP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct output;

/* Above OUTPUT_HIGH bytes waiting, output_full() says to stop producing; once the loop has
 * written the buffer down below OUTPUT_LOW, progress() says to go on. */
#define OUTPUT_HIGH (1024 * 1024)
#define OUTPUT_LOW  (256 * 1024)

struct output_callbacks {
	/* The loop wrote bytes from the buffer and it now holds less than OUTPUT_LOW (maybe
	 * none): a producer stopped by output_full() may go on, and one waiting for the buffer to
	 * empty may look again. */
	void (*progress)(void *data);
	/* The first error writing: -EPIPE when the reader went away (also seen while nothing is
	 * being written, on a pipe), else the write's -errno. Called once; from then on all that
	 * is written is dropped. May be called from inside output_append and output_flush. */
	void (*failed)(void *data, int err);
	void *data;
};

/* An output writing to fd: borrowed (never closed) unless own, when output_free closes it. Its
 * open file description is left as it was, blocking. cb is copied. Never fails: an fd that
 * cannot be written without blocking is written directly. */
struct output *output_new(uv_loop_t *loop, int fd, bool own, const struct output_callbacks *cb);
/* Queue n bytes (copied) and write what the fd takes once enough is queued. Never blocks,
 * except for descriptors that never wait on a reader (regular files; see output.c). */
void output_append(struct output *o, const void *p, size_t n);
/* Queue len bytes of the file fd (a spool file, read from offset 0 with pread; taken: closed
 * once written or dropped) after what is queued. Memory stays bounded: the file is copied
 * through a 64 KiB buffer as the fd takes it. */
void output_append_file(struct output *o, int fd, uint64_t len);
/* Write what the fd takes now; the rest is written by the loop as the fd allows. */
void output_flush(struct output *o);
/* Bytes queued and not yet written. */
size_t output_pending(const struct output *o);
/* True when output_pending() >= OUTPUT_HIGH: the producer should stop until progress(). */
bool output_full(const struct output *o);
/* True once a write failed (failed() was called). */
bool output_failed(const struct output *o);
/* Bytes handed to the fd so far, ever: an appended byte at position n (counting from 0) has
 * been written once output_written() > n. */
uint64_t output_written(const struct output *o);
/* Stop waiting for the reader (the user quits, a signal): write what the fd takes now without
 * waiting (a regular file takes all), drop the rest. From then on what is appended is written
 * at once if the fd takes it whole, and dropped otherwise, with everything after it: a reader
 * never sees an output cut short followed by another. Returns the bytes dropped by this call;
 * output_dropped() counts them all. */
size_t output_give_up(struct output *o);
/* Bytes dropped by output_give_up and after it, ever. */
uint64_t output_dropped(const struct output *o);
/* Close the loop's handle; closed(data) when done (maybe before output_close returns), then
 * output_free. What is still queued is not written. */
void output_close(struct output *o, void (*closed)(void *data), void *data);
void output_free(struct output *o);

#endif
