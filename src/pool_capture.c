/* What the detail view shows of a slot: its workers' stderr, read through a pipe per process
 * (so it never lands on the dashboard's screen), its recent items and its latest output. */
#include "pool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keep the last VIEW_TAIL bytes of everything appended. */
static void tail_append(char *tail, size_t *len, const char *p, size_t n)
{
	if (n >= VIEW_TAIL) {
		memcpy(tail, p + n - VIEW_TAIL, VIEW_TAIL);
		*len = VIEW_TAIL;
		return;
	}
	if (*len + n > VIEW_TAIL) {
		size_t drop = *len + n - VIEW_TAIL;
		memmove(tail, tail + drop, *len - drop);
		*len -= drop;
	}
	memcpy(tail + *len, p, n);
	*len += n;
}

static void capture_closed_cb(uv_handle_t *h)
{
	struct pool_capture *c = h->data;
	close(c->fd);
	free(c);
}

static void capture_unlink(struct pool *p, struct pool_capture *c)
{
	for (struct pool_capture **pp = &p->captures; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static void capture_end(struct pool_capture *c)
{
	if (c->closing)
		return;
	c->closing = true;
	capture_unlink(c->pool, c);
	uv_close((uv_handle_t *)&c->poll, capture_closed_cb);
}

static void capture_read_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct pool_capture *c = h->data;
	struct pool_slot *s = &c->pool->slots[c->slot];
	char buf[4096];
	if (status < 0) {
		capture_end(c);
		return;
	}
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			tail_append(s->err, &s->err_len, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		capture_end(c); /* the end of the pipe, or an error */
		return;
	}
}

int pool_capture_open(struct pool *p, struct pool_slot *s, struct pool_capture **out)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	struct pool_capture *c = xcalloc(1, sizeof(*c));
	c->fd = fds[0];
	c->pool = p;
	c->slot = slot_no(p, s);
	*out = c;
	return fds[1];
}

void pool_capture_start(struct pool *p, struct pool_capture *c, int write_fd)
{
	close(write_fd);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	if (uv_poll_init(p->loop, &c->poll, c->fd) != 0) {
		close(c->fd);
		free(c);
		return;
	}
	c->poll.data = c;
	c->next = p->captures;
	p->captures = c;
	uv_poll_start(&c->poll, UV_READABLE | UV_DISCONNECT, capture_read_cb);
}

void pool_capture_close_all(struct pool *p)
{
	while (p->captures)
		capture_end(p->captures);
}

void pool_history_add(struct pool *p, const struct pool_result *r)
{
	if (r->slot < 0 || (unsigned)r->slot >= POOLTOP_MAX_WORKERS)
		return;
	struct pool_slot *s = &p->slots[r->slot];
	struct view_history *e = &s->hist[s->hist_pos];
	/* Field by field, no memset: this runs for every item. The bytes of item[] past
	 * item_len are left as they were. */
	e->seq = r->seq;
	e->exitcode = r->exitcode;
	e->core = r->core;
	e->done = r->done;
	e->runtime_ns = (uint64_t)(r->runtime * 1e9);
	e->pid = r->pid;
	e->item_len = r->item_len;
	memcpy(e->item, r->item, MIN(r->item_len, sizeof(e->item)));
	s->hist_pos = (s->hist_pos + 1) % VIEW_HISTORY;
	if (s->hist_n < VIEW_HISTORY)
		s->hist_n++;
	if (r->output_len && r->spool_fd >= 0) {
		/* Only the tail is kept: read it from the end of the spool file. */
		char tail[VIEW_TAIL];
		size_t n = MIN(r->output_len, sizeof(tail));
		ssize_t got = pread(r->spool_fd, tail, n, (off_t)(r->output_len - n));
		s->out_seq = r->seq;
		s->out_len = 0;
		if (got > 0)
			tail_append(s->out, &s->out_len, tail, (size_t)got);
	} else if (r->output_len) {
		s->out_seq = r->seq;
		s->out_len = 0;
		tail_append(s->out, &s->out_len, r->output, r->output_len);
	}
}

int pool_slot_detail(const struct pool *p, unsigned slot, struct view_detail *d)
{
	if (slot >= POOLTOP_MAX_WORKERS)
		return -EINVAL;
	const struct pool_slot *s = &p->slots[slot];
	memset(d, 0, sizeof(*d));
	for (unsigned i = 0; i < s->hist_n; i++)
		d->recent[i] = s->hist[(s->hist_pos + VIEW_HISTORY - 1 - i) % VIEW_HISTORY];
	d->nrecent = s->hist_n;
	d->out_seq = s->out_seq;
	d->out_len = s->out_len;
	memcpy(d->out, s->out, s->out_len);
	d->err_len = s->err_len;
	memcpy(d->err, s->err, s->err_len);
	return 0;
}
