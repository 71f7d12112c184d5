/* What the detail view shows of a slot: its workers' stderr, read through a pipe per process
 * (so it never lands on the dashboard's screen), its recent items (each one in full: its
 * command line, times, the tails of its output and stderr) and its latest output. */
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

/* Keep item r in full in s->rec[i] (beside s->hist[i]); out: its output's last out_n bytes. A
 * record grows to the largest it had to hold and is reused: no allocation per item once a slot
 * has run VIEW_HISTORY items like it. */
static void history_record(struct pool *p, struct pool_slot *s, unsigned i,
			   const struct pool_result *r, const char *out, size_t out_n)
{
	const struct job *job = &p->cfg.job;
	size_t item_n = MIN(r->item_len, (size_t)VIEW_ITEM_PREVIEW);
	size_t out_keep = MIN(out_n, (size_t)VIEW_ITEM_TAIL);
	size_t err_keep = MIN(r->err_len, (size_t)VIEW_ITEM_TAIL);
	size_t cmd_n = 0;
	if (job->cmd && !job->kind->submit && !memchr(r->item, '\0', r->item_len)) {
		/* The command line as it ran, quoted as the joblog's Command. */
		template_expand(job->cmd, r->item, r->item_len, r->seq, (unsigned)r->slot,
				&p->rec_args);
		buf_reset(&p->rec_line);
		template_quote_argv(&p->rec_line, p->rec_args.argv);
		cmd_n = MIN(p->rec_line.len, (size_t)VIEW_ITEM_CMD);
	}
	size_t need = item_n + cmd_n + out_keep + err_keep;
	struct pool_record *rec = s->rec[i];
	if (!rec || rec->cap < need) {
		rec = xrealloc(rec, sizeof(*rec) + need);
		rec->cap = need;
		s->rec[i] = rec;
	}
	rec->start = r->start;
	rec->attempts = r->attempts;
	rec->timed_out = r->timed_out;
	rec->out_total = r->output_len;
	rec->err_total = r->err_len;
	rec->err_cut = r->err_cut;
	rec->cmd_cut = cmd_n < p->rec_line.len && cmd_n;
	rec->item_len = (uint32_t)item_n;
	rec->cmd_len = (uint32_t)cmd_n;
	rec->out_len = (uint32_t)out_keep;
	rec->err_len = (uint32_t)err_keep;
	char *d = rec->data;
	memcpy(d, r->item, item_n);
	d += item_n;
	if (cmd_n)
		memcpy(d, p->rec_line.data, cmd_n);
	d += cmd_n;
	if (out_keep)
		memcpy(d, out + out_n - out_keep, out_keep);
	d += out_keep;
	if (err_keep)
		memcpy(d, r->err + r->err_len - err_keep, err_keep);
}

void pool_history_free(struct pool *p)
{
	for (unsigned i = 0; i < p->nslots_used; i++)
		for (unsigned k = 0; k < VIEW_HISTORY; k++)
			free(p->slots[i].rec[k]);
	template_args_free(&p->rec_args);
	buf_free(&p->rec_line);
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
	unsigned at = s->hist_pos;
	s->hist_pos = (s->hist_pos + 1) % VIEW_HISTORY;
	if (s->hist_n < VIEW_HISTORY)
		s->hist_n++;
	/* Only the output's tail is kept: of a spooled one, read from the end of its file. */
	char tail[VIEW_TAIL];
	const char *out = NULL;
	size_t out_n = MIN(r->output_len, sizeof(tail));
	if (r->output_len && r->spool_fd >= 0) {
		ssize_t got = pread(r->spool_fd, tail, out_n, (off_t)(r->output_len - out_n));
		out = tail;
		out_n = got > 0 ? (size_t)got : 0;
	} else if (r->output_len) {
		out = r->output + r->output_len - out_n;
	}
	if (r->output_len) {
		s->out_seq = r->seq;
		s->out_len = 0;
		tail_append(s->out, &s->out_len, out, out_n);
	}
	history_record(p, s, at, r, out, out_n);
}

int pool_slot_item(const struct pool *p, unsigned slot, uint64_t seq, struct view_item *it)
{
	if (slot >= POOLTOP_MAX_WORKERS)
		return -EINVAL;
	const struct pool_slot *s = &p->slots[slot];
	for (unsigned k = 0; k < s->hist_n; k++) {
		unsigned i = (s->hist_pos + VIEW_HISTORY - 1 - k) % VIEW_HISTORY;
		const struct pool_record *rec = s->rec[i];
		if (s->hist[i].seq != seq || !rec)
			continue;
		memset(it, 0, sizeof(*it));
		it->h = s->hist[i];
		it->start = rec->start;
		it->attempts = rec->attempts;
		it->timed_out = rec->timed_out;
		it->item_len = s->hist[i].item_len;
		it->cmd_len = rec->cmd_len;
		it->cmd_cut = rec->cmd_cut;
		it->out_total = rec->out_total;
		it->out_len = rec->out_len;
		it->err_total = rec->err_total;
		it->err_cut = rec->err_cut;
		it->err_len = rec->err_len;
		const char *d = rec->data;
		memcpy(it->item, d, rec->item_len);
		d += rec->item_len;
		memcpy(it->cmd, d, rec->cmd_len);
		d += rec->cmd_len;
		memcpy(it->out, d, rec->out_len);
		d += rec->out_len;
		memcpy(it->err, d, rec->err_len);
		return 0;
	}
	return -ENOENT;
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
