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

/* Bytes of a spool file read and written at a time. */
#define OUTPUT_BOUNCE (64 * 1024)

/* A run of bytes waiting: in memory (fd -1: bytes [off, buf.len) of buf), or a file's (bytes
 * [off, end) of fd, which is closed once written or dropped). */
struct output_chunk {
	int fd;
	struct buf buf;
	uint64_t off, end;
};

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
	/* What waits to be written, in order: a ring of chunks. */
	struct output_chunk *chunks;
	size_t chead, clen, ccap;
	uint64_t pending; /* bytes in all of them */
	char *bounce;	  /* OUTPUT_BOUNCE bytes read from a spool file, then written */
	int err;	  /* the first write error, then everything is dropped */
	struct output_callbacks cb;
	void (*closed)(void *data);
	void *closed_data;
};

static void output_poll_cb(uv_poll_t *h, int status, int events);

size_t output_pending(const struct output *o)
{
	return (size_t)o->pending;
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

static struct output_chunk *chunk_at(const struct output *o, size_t i)
{
	return &o->chunks[(o->chead + i) % o->ccap];
}

/* A new chunk at the end, in memory and empty. */
static struct output_chunk *chunk_push(struct output *o)
{
	if (o->clen == o->ccap) {
		size_t cap = o->ccap ? o->ccap * 2 : 4;
		struct output_chunk *c = xcalloc(cap, sizeof(*c));
		for (size_t i = 0; i < o->clen; i++)
			c[i] = *chunk_at(o, i);
		free(o->chunks);
		o->chunks = c;
		o->ccap = cap;
		o->chead = 0;
	}
	struct output_chunk *c = chunk_at(o, o->clen++);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	return c;
}

/* The first chunk is done (or dropped). The last memory chunk stays, emptied, for the next
 * bytes: the common case of one chunk costs no allocation per write. */
static void chunk_pop(struct output *o)
{
	struct output_chunk *c = chunk_at(o, 0);
	if (c->fd < 0 && o->clen == 1) {
		buf_reset(&c->buf);
		c->off = 0;
		return;
	}
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->buf);
	o->chead = (o->chead + 1) % o->ccap;
	o->clen--;
}

static bool chunk_empty(const struct output_chunk *c)
{
	return c->fd < 0 ? c->off == c->buf.len : c->off == c->end;
}

/* Drop everything waiting (the last memory chunk stays, empty). */
static void output_discard(struct output *o)
{
	while (o->clen > 1 || (o->clen == 1 && chunk_at(o, 0)->fd >= 0))
		chunk_pop(o);
	if (o->clen)
		chunk_pop(o);
	o->pending = 0;
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

/* Write n bytes at p: all of them (DIRECT), or what the fd takes now. Returns the count
 * written, -EAGAIN when it took nothing, or -errno. */
static ssize_t output_write_bytes(struct output *o, const char *p, size_t n)
{
	if (o->mode == OUTPUT_DIRECT) {
		int r = write_all(o->fd, p, n);
		return r < 0 ? r : (ssize_t)n;
	}
	return output_write_some(o, p, n);
}

/* Write from chunk c until it is done (true) or the descriptor would block (false); an error
 * fails the output. */
static bool output_write_chunk(struct output *o, struct output_chunk *c)
{
	while (!chunk_empty(c)) {
		const char *p;
		size_t n;
		if (c->fd < 0) {
			p = c->buf.data + c->off;
			n = c->buf.len - c->off;
		} else {
			if (!o->bounce)
				o->bounce = xmalloc(OUTPUT_BOUNCE);
			n = (size_t)MIN(c->end - c->off, (uint64_t)OUTPUT_BOUNCE);
			ssize_t r = pread(c->fd, o->bounce, n, (off_t)c->off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				/* A spool file that cannot be read back: what it held is lost. */
				output_fail(o, r < 0 ? -errno : -EIO);
				return false;
			}
			p = o->bounce;
			n = (size_t)r;
		}
		ssize_t w = output_write_bytes(o, p, n);
		if (w == -EAGAIN)
			return false;
		if (w < 0) {
			output_fail(o, (int)w);
			return false;
		}
		c->off += (uint64_t)w;
		o->pending -= (uint64_t)w;
		o->written += (uint64_t)w;
	}
	return true;
}

/* Write the chunks until none is left or the descriptor would block. */
static void output_write_out(struct output *o)
{
	if (o->err || !o->pending)
		return;
	while (o->clen && o->pending) {
		struct output_chunk *c = chunk_at(o, 0);
		if (!output_write_chunk(o, c)) {
			if (!o->err && c->fd < 0 && c->off >= OUTPUT_FLUSH_AT) {
				/* Keep the buffer from creeping: what was written goes. */
				memmove(c->buf.data, c->buf.data + c->off, c->buf.len - c->off);
				c->buf.len -= c->off;
				c->off = 0;
			}
			break;
		}
		chunk_pop(o);
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

static void output_after_append(struct output *o);

void output_append(struct output *o, const void *p, size_t n)
{
	if (o->err || !n)
		return;
	if (o->stalled) {
		o->dropped += n;
		return;
	}
	struct output_chunk *c = o->clen ? chunk_at(o, o->clen - 1) : NULL;
	if (!c || c->fd >= 0)
		c = chunk_push(o);
	buf_append(&c->buf, p, n);
	o->pending += n;
	output_after_append(o);
}

void output_append_file(struct output *o, int fd, uint64_t len)
{
	if (o->err || o->stalled || !len) {
		if (o->stalled)
			o->dropped += len;
		close(fd);
		return;
	}
	struct output_chunk *c = chunk_push(o);
	c->fd = fd;
	c->end = len;
	o->pending += len;
	output_after_append(o);
}

static void output_after_append(struct output *o)
{
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
	output_discard(o);
	if (o->clen)
		buf_free(&chunk_at(o, 0)->buf);
	free(o->chunks);
	free(o->bounce);
	free(o);
}
