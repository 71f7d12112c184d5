/* A run's standard output, written from the loop without ever blocking it on a slow reader.
 *
 * DESIGN
 * The loop runs the dashboard (redraws, keys) and the supervisor (reaping, timeouts, hang
 * detection): a write that waits on a slow reader (`pooltop ... | (sleep 10; cat)`) would
 * freeze all of them. So how a descriptor is written depends on what it is:
 * - A regular file or a block device never waits on a reader, nor does what epoll refuses
 *   (/dev/null): those are written directly with blocking writes (OUTPUT_DIRECT).
 * - A pipe, a FIFO or a terminal is written through a private open file description of the
 *   same object, opened through /proc/self/fd/N with O_NONBLOCK (OUTPUT_PRIVATE). O_NONBLOCK
 *   lives on the open file description, and fd N's is shared with the shell and with whoever
 *   else was handed the same pipe or terminal: set there, it would make their writes fail
 *   with EAGAIN, during the run and after it. Ours is shared with no one (the workers close
 *   it), and fd N's flags are never touched.
 * - A socket cannot be reopened so: send(MSG_DONTWAIT) does not block for that one call
 *   (OUTPUT_SOCKET); uv_poll_init's O_NONBLOCK on the shared description is cleared at once.
 * - When none of that works (no /proc, no permission to open the pipe), writes block, as a
 *   plain program's do.
 * What the descriptor does not take waits in one buffer, written on when a poll says the
 * descriptor is writable. The producer bounds the buffer: output_full() asks it to stop at
 * OUTPUT_HIGH, progress() lets it go on below OUTPUT_LOW; what arrives in between (the results
 * of items already running or queued) is still taken.
 * On a pipe the poll also watches while nothing waits: the reader leaving (`| head -1`) shows
 * at once as POLLERR on the write end, not at the next write, which may be minutes away.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Bytes gathered before a write is tried from output_append (output_flush writes any). */
#define OUTPUT_FLUSH_AT (64 * 1024)

enum output_mode {
	OUTPUT_DIRECT,	/* blocking writes to the fd given */
	OUTPUT_PRIVATE, /* a non-blocking description of our own */
	OUTPUT_SOCKET,	/* send(MSG_DONTWAIT) on the fd given */
};

struct output {
	enum output_mode mode;
	int fd;		  /* what is written to */
	bool own_fd;	  /* fd is our private description: closed by output_free */
	int given_fd;	  /* the fd output_new was given */
	bool own_given;	  /* ...and it is ours to close */
	bool fifo;	  /* a pipe: watched for its reader leaving */
	bool gave_up;	  /* output_give_up: nothing waits for the reader any more */
	bool stalled;	  /* ...and something was dropped: so is everything after it */
	uint64_t written; /* bytes handed to the fd, ever */
	uint64_t dropped; /* bytes given up, ever */
	uv_poll_t poll;
	bool poll_init;
	int poll_events; /* what the poll watches now, 0 when stopped */
	bool closing;
	struct buf out; /* bytes [head, out.len) wait to be written */
	size_t head;
	int err; /* the first write error, then everything is dropped */
	struct output_callbacks cb;
	void (*closed)(void *data);
	void *closed_data;
};

static void output_poll_cb(uv_poll_t *h, int status, int events);

size_t output_pending(const struct output *o)
{
	return o->out.len - o->head;
}

bool output_full(const struct output *o)
{
	return output_pending(o) >= OUTPUT_HIGH;
}

bool output_failed(const struct output *o)
{
	return o->err != 0;
}

/* Start or stop the poll for what is needed now: writability while bytes wait; on a pipe, its
 * reader leaving. */
static void output_watch(struct output *o)
{
	if (!o->poll_init)
		return;
	int ev = 0;
	if (!o->err && !o->closing) {
		if (output_pending(o))
			ev |= UV_WRITABLE;
		if (o->fifo)
			ev |= UV_DISCONNECT;
	}
	if (ev == o->poll_events)
		return;
	o->poll_events = ev;
	if (ev)
		uv_poll_start(&o->poll, ev, output_poll_cb);
	else
		uv_poll_stop(&o->poll);
}

static void output_discard(struct output *o)
{
	buf_reset(&o->out);
	o->head = 0;
}

static void output_fail(struct output *o, int err)
{
	if (o->err)
		return;
	o->err = err;
	output_discard(o);
	output_watch(o);
	if (o->cb.failed)
		o->cb.failed(o->cb.data, err);
}

/* One write of up to n bytes: the count written, or -errno (-EAGAIN: it would block). */
static ssize_t output_write_some(struct output *o, const char *p, size_t n)
{
	ssize_t w;
	do {
		if (o->mode == OUTPUT_SOCKET)
			w = send(o->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(o->fd, p, n);
	} while (w < 0 && errno == EINTR);
	return w < 0 ? -errno : w;
}

/* Write from the buffer until it is empty or the descriptor would block. */
static void output_write_out(struct output *o)
{
	if (o->err || !output_pending(o))
		return;
	if (o->mode == OUTPUT_DIRECT) {
		size_t n = output_pending(o);
		int r = write_all(o->fd, o->out.data + o->head, n);
		output_discard(o);
		if (r < 0)
			output_fail(o, r);
		else
			o->written += n;
		return;
	}
	while (output_pending(o)) {
		ssize_t w = output_write_some(o, o->out.data + o->head, output_pending(o));
		if (w == -EAGAIN)
			break;
		if (w < 0) {
			output_fail(o, (int)w);
			return;
		}
		o->head += (size_t)w;
		o->written += (uint64_t)w;
	}
	if (!output_pending(o)) {
		output_discard(o);
	} else if (o->head >= OUTPUT_FLUSH_AT) {
		/* Keep the buffer from creeping: what was written goes. */
		memmove(o->out.data, o->out.data + o->head, output_pending(o));
		o->out.len -= o->head;
		o->head = 0;
	}
	output_watch(o);
}

static void output_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct output *o = h->data;
	if (status < 0) {
		/* POLLERR; libuv has stopped the handle. On a pipe's write end it means that no
		 * reader is left; elsewhere a write says what the error is. */
		o->poll_events = 0;
		if (o->fifo || !output_pending(o)) {
			output_fail(o, o->fifo ? -EPIPE : status);
			return;
		}
	}
	output_write_out(o);
	if (!o->err && output_pending(o) < OUTPUT_LOW && o->cb.progress)
		o->cb.progress(o->cb.data);
}

/* Set up non-blocking writes for what can wait on a reader (see DESIGN); on any failure the
 * output stays OUTPUT_DIRECT. */
static void output_setup_poll(struct output *o, uv_loop_t *loop, const struct stat *st)
{
	if (S_ISSOCK(st->st_mode)) {
		if (uv_poll_init(loop, &o->poll, o->fd) != 0)
			return;
		int fl = fcntl(o->fd, F_GETFL);
		if (fl >= 0)
			fcntl(o->fd, F_SETFL, fl & ~O_NONBLOCK);
		o->mode = OUTPUT_SOCKET;
		o->poll_init = true;
		return;
	}
	/* Reopening for writing what is not open for writing would make a closed stdout work. */
	int fl = fcntl(o->fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", o->fd);
	/* ENXIO on a pipe whose reader has already gone: the first write says EPIPE. */
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	struct stat st2;
	if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino ||
	    uv_poll_init(loop, &o->poll, fd) != 0) {
		close(fd);
		return;
	}
	o->fd = fd;
	o->own_fd = true;
	o->mode = OUTPUT_PRIVATE;
	o->poll_init = true;
	o->fifo = S_ISFIFO(st->st_mode);
	output_watch(o);
}

struct output *output_new(uv_loop_t *loop, int fd, bool own, const struct output_callbacks *cb)
{
	struct output *o = xcalloc(1, sizeof(*o));
	o->fd = o->given_fd = fd;
	o->own_given = own;
	o->mode = OUTPUT_DIRECT;
	if (cb)
		o->cb = *cb;
	o->poll.data = o;
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		output_setup_poll(o, loop, &st);
	return o;
}

/* Drop what waits, and (once given up) everything after it. */
static size_t output_stall(struct output *o)
{
	size_t n = output_pending(o);
	o->dropped += n;
	o->stalled = true;
	output_discard(o);
	output_watch(o);
	return n;
}

void output_append(struct output *o, const void *p, size_t n)
{
	if (o->err || !n)
		return;
	if (o->stalled) {
		o->dropped += n;
		return;
	}
	buf_append(&o->out, p, n);
	if (o->gave_up) {
		/* Nobody waits for the reader now: what it does not take at once is dropped. */
		output_write_out(o);
		if (output_pending(o))
			output_stall(o);
		return;
	}
	/* While the poll waits for writability, the loop writes when the fd is ready. */
	if (output_pending(o) >= OUTPUT_FLUSH_AT && !(o->poll_events & UV_WRITABLE))
		output_write_out(o);
}

void output_flush(struct output *o)
{
	if (!(o->poll_events & UV_WRITABLE))
		output_write_out(o);
}

uint64_t output_written(const struct output *o)
{
	return o->written;
}

uint64_t output_dropped(const struct output *o)
{
	return o->dropped;
}

size_t output_give_up(struct output *o)
{
	o->gave_up = true;
	if (o->stalled)
		return 0;
	output_write_out(o);
	return output_pending(o) ? output_stall(o) : 0;
}

static void output_poll_closed_cb(uv_handle_t *h)
{
	struct output *o = h->data;
	if (o->closed)
		o->closed(o->closed_data);
}

void output_close(struct output *o, void (*closed)(void *data), void *data)
{
	o->closing = true;
	o->closed = closed;
	o->closed_data = data;
	if (o->poll_init) {
		o->poll_events = 0;
		uv_close((uv_handle_t *)&o->poll, output_poll_closed_cb);
	} else if (closed) {
		closed(data);
	}
}

void output_free(struct output *o)
{
	if (!o)
		return;
	if (o->own_fd)
		close(o->fd);
	if (o->own_given)
		close(o->given_fd);
	buf_free(&o->out);
	free(o);
}
