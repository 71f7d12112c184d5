/* The attach server: see the DESIGN comment in attach_server.h, and doc/protocol.md. */
#include "attach_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach_dir.h"
#include "config.h"
#include "proto.h"
#include "util.h"

#define TICK_MS	      100
#define CHECK_MS      1000
#define HELLO_WAIT_NS (5 * NS_PER_S)

struct conn {
	uv_pipe_t pipe; /* first: the handle's data is not needed to find the conn */
	struct attach_server *s;
	struct conn *next, **pprev;
	struct proto_reader rd;
	uint64_t since_ns;
	bool hello;  /* past the hello: a viewer (or a one-shot query) */
	bool viewer; /* counted as a viewer (ls and status are not) */
	bool owner;  /* the dashboard that started the batch */
	bool read_only;
	bool behind;	    /* over ATTACH_QUEUE_MAX: nothing more until drained */
	bool need_snapshot; /* the next tick sends it a whole snapshot */
	bool resync;	    /* ...after it fell behind: the events it missed are counted */
	bool reading_stopped;
	bool closing;
	bool draining; /* the server is closing: what is queued goes first (uv_shutdown) */
	uv_shutdown_t shutdown;
	uint64_t events_missed;
};

struct attach_server {
	uv_loop_t *loop;
	struct view *view;
	char *path, *name, *what, *out, *done;
	bool jobs;
	int dir_fd;
	pid_t pid;
	double started;
	uv_pipe_t *listener; /* a new one at each bind: the last may still be closing */
	bool listening;
	ino_t ino; /* the socket file's, to see it replaced or removed */
	uv_timer_t tick, check;
	struct conn *conns;
	unsigned nconns;
	/* The rows as last sent: a delta has those that changed since. */
	struct view_row *prev, *cur;
	unsigned nprev;
	bool have_prev;
	bool finished;
	int status;
	char *finished_line; /* sent to a viewer that attaches to a finished batch */
	size_t finished_len;
	void (*on_change)(void *data);
	void *on_change_data;
	bool closing;
	bool tick_closed;
	bool free_when_closed; /* made without its socket: freed once the listener is closed */
	unsigned handles_open;
	void (*closed)(void *data);
	void *closed_data;
};

struct wreq {
	uv_write_t req;
	struct conn *c;
	size_t len;
	char data[];
};

static void conn_close(struct conn *c);
static void server_maybe_closed(struct attach_server *s);
static void server_drained(struct attach_server *s);

/* --- writing --- */

static size_t conn_queued(const struct conn *c)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&c->pipe);
}

static void conn_read_start(struct conn *c);
static void drain_timeout_cb(uv_timer_t *t);

static void write_cb(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *c = w->c;
	free(w);
	if (status < 0) {
		conn_close(c);
		return;
	}
	/* Closing, and this viewer reads what it was sent: it has the drain's time again. */
	if (c->draining && !c->s->tick_closed)
		uv_timer_start(&c->s->tick, drain_timeout_cb, ATTACH_DRAIN_MS, 0);
	if (c->closing || conn_queued(c))
		return;
	/* All read: a viewer that fell behind gets a fresh snapshot at the next tick, and a
	 * connection not read while its queue was full is read again. */
	if (c->behind) {
		c->behind = false;
		c->need_snapshot = true;
		c->resync = true;
	}
	if (c->reading_stopped)
		conn_read_start(c);
}

static void conn_send(struct conn *c, const char *line, size_t len)
{
	if (c->closing)
		return;
	struct wreq *w = xmalloc(sizeof(*w) + len);
	w->c = c;
	w->len = len;
	memcpy(w->data, line, len);
	uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, write_cb) < 0) {
		free(w);
		conn_close(c);
		return;
	}
	if (conn_queued(c) > ATTACH_QUEUE_MAX)
		c->behind = true;
}

/* Send msg (its reference is taken) to c. */
static void conn_send_json(struct conn *c, json_t *msg)
{
	size_t len;
	char *line = proto_line(msg, &len);
	if (!line) {
		conn_close(c);
		return;
	}
	conn_send(c, line, len);
	free(line);
}

/* One error line, then the connection is closed once it is written. */
static void conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_fail(struct conn *c, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	size_t len;
	char *line = proto_line(json_pack("{s:s, s:s}", "type", "error", "message", text), &len);
	/* Written at once if the socket takes it: uv_close would cancel a queued write. */
	if (line && !c->closing && !conn_queued(c)) {
		uv_buf_t b = uv_buf_init(line, (unsigned)len);
		uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
	}
	free(line);
	conn_close(c);
}

/* --- the state: snapshots and deltas --- */

static json_t *rows_json(const struct view_row *rows, const unsigned *which, unsigned n)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, proto_row(&rows[which ? which[i] : i]));
	return a;
}

static json_t *state_msg(struct attach_server *s, const char *type, const struct view_totals *t,
			 unsigned nrows, json_t *rows)
{
	return json_pack("{s:s, s:o, s:s, s:I, s:o}", "type", type, "totals", proto_totals(t),
			 "stopping", proto_stop_word(view_stopping(s->view)), "nrows",
			 (json_int_t)nrows, "rows", rows);
}

/* Has a row changed since it was last sent? Not when only the time on its item grew: a viewer
 * counts that itself (view_remote.c), so a pool of long items sends next to nothing. */
static bool row_changed(const struct view_row *was, const struct view_row *now)
{
	struct view_row a = *was, b = *now;
	if (a.cur_seq && a.cur_seq == b.cur_seq && b.age_ns >= a.age_ns)
		a.age_ns = b.age_ns = 0;
	return memcmp(&a, &b, sizeof(a)) != 0;
}

static bool is_watching(const struct conn *c)
{
	return c->hello && !c->closing;
}

/* Every tick while someone watches: one snapshot of the view; the rows changed since the last
 * tick to those keeping up, the whole of it to those that need it. The last tick (the batch's
 * end) sends the whole of it to those that fell behind too: past the bound, once. */
static void server_tick(struct attach_server *s, bool last)
{
	if (s->finished)
		return;
	bool any = false;
	for (struct conn *c = s->conns; c; c = c->next)
		any |= is_watching(c);
	if (!any) {
		uv_timer_stop(&s->tick);
		s->have_prev = false;
		return;
	}
	struct view_totals t;
	unsigned n = view_snapshot(s->view, &t, s->cur, POOLTOP_MAX_WORKERS);
	char *delta = NULL, *snap = NULL;
	size_t delta_len = 0, snap_len = 0;
	for (struct conn *c = s->conns; c; c = c->next) {
		if (!is_watching(c) || (c->behind && !last))
			continue;
		if (c->need_snapshot || c->behind || !s->have_prev) {
			if (!snap) {
				json_t *m =
					state_msg(s, "snapshot", &t, n, rows_json(s->cur, NULL, n));
				snap = proto_line(m, &snap_len);
			}
			if (snap) {
				conn_send(c, snap, snap_len);
				c->need_snapshot = false;
				c->resync = false;
			}
			if (c->events_missed) {
				conn_send_json(c,
					       json_pack("{s:s, s:I}", "type", "missed", "events",
							 (json_int_t)c->events_missed));
				c->events_missed = 0;
			}
			continue;
		}
		if (!delta) {
			unsigned *which = xmalloc((n ? n : 1) * sizeof(*which)), k = 0;
			for (unsigned i = 0; i < n; i++)
				if (i >= s->nprev || row_changed(&s->prev[i], &s->cur[i]))
					which[k++] = i;
			json_t *m = state_msg(s, "delta", &t, n, rows_json(s->cur, which, k));
			delta = proto_line(m, &delta_len);
			free(which);
		}
		if (delta)
			conn_send(c, delta, delta_len);
	}
	free(delta);
	free(snap);
	struct view_row *swap = s->prev;
	s->prev = s->cur;
	s->cur = swap;
	s->nprev = n;
	s->have_prev = true;
}

static void tick_cb(uv_timer_t *h)
{
	server_tick(h->data, false);
}

static void tick_soon(struct attach_server *s)
{
	if (!s->closing && !s->finished && !uv_is_active((uv_handle_t *)&s->tick))
		uv_timer_start(&s->tick, tick_cb, 0, TICK_MS);
}

/* --- requests --- */

static json_t *reply_new(json_int_t id, int r)
{
	json_t *m = json_pack("{s:s, s:I, s:i}", "type", "reply", "id", id, "result", r);
	if (r < 0)
		json_object_set_new(
			m, "error",
			json_string(r == -EPERM ? "this viewer is read-only" : strerror(-r)));
	return m;
}

static json_t *errors_json(struct attach_server *s)
{
	const char *lines[VIEW_MAX_ERRORS];
	unsigned n = view_errors(s->view, lines);
	json_t *a = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_string(lines[i]));
	return a;
}

static json_t *summary_json(struct attach_server *s)
{
	struct view_summary sum;
	view_summary(s->view, &sum);
	return proto_summary(&sum);
}

static json_t *failed_json(struct attach_server *s)
{
	struct view_failed *f = xcalloc(1, sizeof(*f));
	view_failed(s->view, f);
	json_t *j = proto_failed(f);
	free(f);
	return j;
}

/* A request that changes the batch, from a viewer allowed to: its result. */
static int request_act(struct attach_server *s, const char *type, json_t *m)
{
	json_int_t slot = -1, gen = 0, arg = 0, n = 0;
	const char *word = NULL, *why = NULL;
	int paused = 0;
	if (!strcmp(type, "command")) {
		enum view_command cmd;
		if (json_unpack(m, "{s:s, s:I, s:I, s?I}", "cmd", &word, "slot", &slot,
				"generation", &gen, "arg", &arg) < 0 ||
		    proto_command_parse(word, &cmd) < 0 || slot < 0 || gen < 0)
			return -EINVAL;
		return view_command(s->view, cmd, (unsigned)slot, (uint64_t)gen, (int)arg);
	}
	if (!strcmp(type, "resize")) {
		if (json_unpack(m, "{s:I}", "workers", &n) < 0 || n < 1 || n > POOLTOP_MAX_WORKERS)
			return -EINVAL;
		return view_resize(s->view, (unsigned)n);
	}
	if (!strcmp(type, "pause")) {
		if (json_unpack(m, "{s:b}", "paused", &paused) < 0)
			return -EINVAL;
		view_pause(s->view, paused);
		return 0;
	}
	/* stop */
	enum view_stop how;
	if (json_unpack(m, "{s:s, s?s}", "how", &word, "why", &why) < 0 ||
	    proto_stop_parse(word, &how) < 0)
		return -EINVAL;
	char text[160];
	snprintf(text, sizeof(text), "%s (from a viewer)", why && *why ? why : "stop");
	view_stop(s->view, how, text);
	return 0;
}

static void conn_request(struct conn *c, const char *type, json_t *m)
{
	struct attach_server *s = c->s;
	json_int_t id = 0, slot = -1, seq = 0;
	json_unpack(m, "{s?I}", "id", &id);
	json_t *reply;
	if (!strcmp(type, "command") || !strcmp(type, "resize") || !strcmp(type, "pause") ||
	    !strcmp(type, "stop")) {
		int r = c->read_only ? -EPERM : request_act(s, type, m);
		reply = reply_new(id, r);
		if (r == 0)
			tick_soon(s);
	} else if (!strcmp(type, "detail")) {
		struct view_detail *d = xcalloc(1, sizeof(*d));
		int r = json_unpack(m, "{s:I}", "slot", &slot) < 0 || slot < 0
				? -EINVAL
				: view_detail(s->view, (unsigned)slot, d);
		reply = reply_new(id, r);
		if (r == 0)
			json_object_set_new(reply, "detail", proto_detail(d));
		free(d);
	} else if (!strcmp(type, "item")) {
		struct view_item *it = xcalloc(1, sizeof(*it));
		int r = json_unpack(m, "{s:I, s:I}", "slot", &slot, "seq", &seq) < 0 || slot < 0
				? -EINVAL
				: view_item(s->view, (unsigned)slot, (uint64_t)seq, it);
		reply = reply_new(id, r);
		if (r == 0)
			json_object_set_new(reply, "item", proto_item(it));
		free(it);
	} else if (!strcmp(type, "summary")) {
		reply = reply_new(id, 0);
		json_object_set_new(reply, "summary", summary_json(s));
	} else if (!strcmp(type, "failed")) {
		reply = reply_new(id, 0);
		json_object_set_new(reply, "failed", failed_json(s));
	} else if (!strcmp(type, "errors")) {
		reply = reply_new(id, 0);
		json_object_set_new(reply, "errors", errors_json(s));
	} else {
		conn_fail(c, "unknown message type \"%.40s\"", type);
		return;
	}
	conn_send_json(c, reply);
}

static json_t *hello_msg(struct attach_server *s, const struct conn *c)
{
	unsigned viewers = attach_server_viewers(s) - (c->hello && c->viewer);
	return json_pack("{s:s, s:i, s:s, s:i, s:s, s:b, s:f, s:s?, s:b, s:I, s:b}", "type",
			 "hello", "version", PROTO_VERSION, "name", s->name, "pid", (int)s->pid,
			 "what", s->what, "jobs", s->jobs, "started", s->started, "out", s->out,
			 "read_only", c->read_only, "viewers", (json_int_t)viewers, "finished",
			 s->finished);
}

static void conn_hello(struct conn *c, json_t *m)
{
	struct attach_server *s = c->s;
	json_int_t version = 0;
	int ro = 0, viewer = 1, owner = 0;
	if (json_unpack(m, "{s:I, s?b, s?b, s?b}", "version", &version, "read_only", &ro, "viewer",
			&viewer, "owner", &owner) < 0) {
		conn_fail(c, "hello: expected {\"type\":\"hello\",\"version\":%d}", PROTO_VERSION);
		return;
	}
	if (version != PROTO_VERSION) {
		conn_fail(c,
			  "protocol version %lld is not spoken here: this batch (pooltop %s) "
			  "speaks version %d",
			  (long long)version, PACKAGE_VERSION, PROTO_VERSION);
		return;
	}
	c->hello = true;
	c->read_only = ro;
	c->viewer = viewer;
	c->owner = owner;
	conn_send_json(c, hello_msg(s, c));
	/* The events from here on are news to it: they may come before its first snapshot. */
	c->need_snapshot = false;
	/* It may start the batch (an engine waits for its owner): the first snapshot is the
	 * state after. */
	if ((viewer || owner) && s->on_change)
		s->on_change(s->on_change_data);
	if (c->closing)
		return;
	struct view_totals t;
	unsigned n = view_snapshot(s->view, &t, s->cur, POOLTOP_MAX_WORKERS);
	conn_send_json(c, state_msg(s, "snapshot", &t, n, rows_json(s->cur, NULL, n)));
	if (c->closing)
		return;
	if (s->finished)
		conn_send(c, s->finished_line, s->finished_len);
	else
		tick_soon(s);
}

static void conn_line(struct conn *c, const char *line, size_t len)
{
	if (!len)
		return;
	char err[256];
	json_t *m = proto_parse(line, len, err, sizeof(err));
	if (!m) {
		conn_fail(c, "%s", err);
		return;
	}
	const char *type = json_string_value(json_object_get(m, "type"));
	if (!c->hello) {
		if (!type || strcmp(type, "hello") != 0)
			conn_fail(c,
				  "the first message must be {\"type\":\"hello\",\"version\":%d}",
				  PROTO_VERSION);
		else
			conn_hello(c, m);
	} else if (!type) {
		conn_fail(c, "a message without \"type\"");
	} else {
		conn_request(c, type, m);
	}
	json_decref(m);
}

/* --- reading --- */

static void alloc_cb(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
	struct conn *c = (struct conn *)h;
	size_t room;
	char *p = proto_reader_space(&c->rd, MIN(want, 65536), &room);
	*buf = uv_buf_init(p, p ? (unsigned)room : 0);
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	struct conn *c = (struct conn *)st;
	if (n < 0) {
		conn_close(c);
		return;
	}
	proto_reader_commit(&c->rd, (size_t)n);
	const char *line;
	size_t len;
	int r = 0;
	while (!c->closing && (r = proto_reader_next(&c->rd, &line, &len)) > 0) {
		if (len > ATTACH_MAX_REQUEST) {
			conn_fail(c, "a message over %u bytes", ATTACH_MAX_REQUEST);
			return;
		}
		conn_line(c, line, len);
		/* Answers it does not read: read no more from it until it does. */
		if (!c->closing && conn_queued(c) > ATTACH_QUEUE_MAX) {
			uv_read_stop(st);
			c->reading_stopped = true;
			return;
		}
	}
	if (c->closing)
		return;
	if (r < 0 || c->rd.len - c->rd.start > ATTACH_MAX_REQUEST)
		conn_fail(c, "a message over %u bytes", ATTACH_MAX_REQUEST);
}

static void conn_read_start(struct conn *c)
{
	c->reading_stopped = false;
	if (uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) < 0)
		conn_close(c);
	else
		/* Lines already buffered when reading stopped. */
		read_cb((uv_stream_t *)&c->pipe, 0, NULL);
}

/* --- connections --- */

static void conn_closed_cb(uv_handle_t *h)
{
	struct conn *c = (struct conn *)h;
	struct attach_server *s = c->s;
	proto_reader_free(&c->rd);
	free(c);
	s->handles_open--;
	server_drained(s);
	server_maybe_closed(s);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	struct attach_server *s = c->s;
	bool was_viewer = c->hello && c->viewer, was_owner = c->hello && c->owner;
	c->closing = true;
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	s->nconns--;
	/* Writes still queued are cancelled: conn_fail writes its line at once. */
	uv_close((uv_handle_t *)&c->pipe, conn_closed_cb);
	if ((was_viewer || was_owner) && s->on_change && !s->closing)
		s->on_change(s->on_change_data);
}

static void listen_cb(uv_stream_t *ls, int status)
{
	struct attach_server *s = ls->data;
	if (status < 0 || s->closing)
		return;
	struct conn *c = xcalloc(1, sizeof(*c));
	c->s = s;
	proto_reader_init(&c->rd);
	uv_pipe_init(s->loop, &c->pipe, 0);
	s->handles_open++;
	c->next = s->conns;
	c->pprev = &s->conns;
	if (s->conns)
		s->conns->pprev = &c->next;
	s->conns = c;
	s->nconns++;
	c->since_ns = now_ns();
	if (uv_accept(ls, (uv_stream_t *)&c->pipe) < 0) {
		conn_close(c);
		return;
	}
	uv_os_fd_t fd;
	uid_t uid;
	pid_t pid;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 || attach_peer(fd, &uid, &pid) < 0) {
		conn_close(c);
		return;
	}
	if (!attach_peer_allowed(uid)) {
		conn_fail(c, "uid %u may not attach to a batch of uid %u", (unsigned)uid,
			  (unsigned)getuid());
		return;
	}
	if (s->nconns > ATTACH_MAX_CONNS) {
		conn_fail(c, "too many connections (%u): try again later", ATTACH_MAX_CONNS);
		return;
	}
	conn_read_start(c);
}

/* --- the socket --- */

static void listener_closed_cb(uv_handle_t *h)
{
	struct attach_server *s = h->data;
	free(h);
	s->handles_open--;
	if (s->free_when_closed && !s->handles_open) {
		attach_server_free(s);
		return;
	}
	server_maybe_closed(s);
}

static int server_bind(struct attach_server *s, char *err, size_t errlen)
{
	int fd = attach_listen(s->path, err, errlen);
	if (fd < 0)
		return fd;
	struct stat st;
	s->ino = stat(s->path, &st) == 0 ? st.st_ino : 0;
	s->listener = xcalloc(1, sizeof(*s->listener));
	uv_pipe_init(s->loop, s->listener, 0);
	s->listener->data = s;
	s->handles_open++;
	int r = uv_pipe_open(s->listener, fd);
	if (r == 0)
		r = uv_listen((uv_stream_t *)s->listener, 64, listen_cb);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", s->path, uv_strerror(r));
		uv_close((uv_handle_t *)s->listener, listener_closed_cb);
		s->listener = NULL;
		return r;
	}
	s->listening = true;
	return 0;
}

/* Every second: the socket file is still ours (a cleaner of /tmp may have removed it: made
 * again), and the connections that never said hello are dropped. */
static void check_cb(uv_timer_t *h)
{
	struct attach_server *s = h->data;
	struct stat st;
	if (s->listening && (stat(s->path, &st) < 0 || st.st_ino != s->ino)) {
		s->listening = false;
		uv_close((uv_handle_t *)s->listener, listener_closed_cb);
		s->listener = NULL;
		/* Not over a socket someone else bound there since. */
		char err[256];
		if (server_bind(s, err, sizeof(err)) < 0)
			s->listening = false;
	}
	uint64_t now = now_ns();
	struct conn *next;
	for (struct conn *c = s->conns; c; c = next) {
		next = c->next;
		if (!c->hello && now - c->since_ns > HELLO_WAIT_NS)
			conn_fail(c, "no hello in %llu s", HELLO_WAIT_NS / NS_PER_S);
	}
}

int attach_server_new(uv_loop_t *loop, struct view *v, const struct attach_server_config *c,
		      struct attach_server **out, char *err, size_t errlen)
{
	struct attach_server *s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->view = v;
	s->path = xstrdup(c->path);
	s->name = xstrdup(c->name);
	s->what = xstrdup(c->what ? c->what : "");
	s->out = c->out ? xstrdup(c->out) : NULL;
	s->done = c->done ? xstrdup(c->done) : NULL;
	s->jobs = c->jobs;
	s->dir_fd = -1; /* the caller's until the server is made */
	s->pid = getpid();
	s->started = wall_s();
	s->prev = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*s->prev));
	s->cur = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*s->cur));
	int r = server_bind(s, err, errlen);
	if (r < 0) {
		/* A listener that could not listen is being closed: the server goes with it. */
		if (s->handles_open)
			s->free_when_closed = true;
		else
			attach_server_free(s);
		return r;
	}
	s->dir_fd = c->dir_fd;
	uv_timer_init(loop, &s->tick);
	uv_timer_init(loop, &s->check);
	s->tick.data = s->check.data = s;
	s->handles_open += 2;
	uv_timer_start(&s->check, check_cb, CHECK_MS, CHECK_MS);
	uv_unref((uv_handle_t *)&s->check);
	uv_unref((uv_handle_t *)&s->tick);
	*out = s;
	return 0;
}

void attach_server_event(struct attach_server *s, const struct view_event *ev)
{
	if (!s || s->closing || s->finished)
		return;
	char *line = NULL;
	size_t len = 0;
	for (struct conn *c = s->conns; c; c = c->next) {
		if (!is_watching(c))
			continue;
		if (c->behind || c->need_snapshot) {
			/* Before its first snapshot a viewer has missed nothing: the log starts
			 * when it attaches. */
			if (c->behind || c->resync)
				c->events_missed++;
			continue;
		}
		if (!line) {
			line = proto_line(
				json_pack("{s:s, s:o}", "type", "event", "event", proto_event(ev)),
				&len);
			if (!line)
				return;
		}
		conn_send(c, line, len);
	}
	free(line);
}

static void write_done_file(struct attach_server *s, json_t *summary)
{
	if (!s->done)
		return;
	json_t *j = json_pack("{s:s, s:i, s:s, s:f, s:f, s:i, s:s?, s:O}", "name", s->name, "pid",
			      (int)s->pid, "what", s->what, "started", s->started, "ended",
			      wall_s(), "status", s->status, "out", s->out, "summary", summary);
	size_t len;
	char *line = proto_line(j, &len);
	if (!line)
		return;
	/* Written whole then renamed: a reader never sees half of it. */
	char tmp[ATTACH_PATH_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->done);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		bool ok = write_all(fd, line, len) == 0;
		if (close(fd) == 0 && ok)
			rename(tmp, s->done);
		else
			unlink(tmp);
	}
	free(line);
}

void attach_server_finished(struct attach_server *s, int status, bool record)
{
	if (!s || s->finished)
		return;
	/* The last state first, so that the viewers' rows are the final ones. Then "finished",
	 * the last thing a viewer is sent: no tick and no event after it. */
	server_tick(s, true);
	uv_timer_stop(&s->tick);
	s->finished = true;
	s->status = status;
	json_t *summary = summary_json(s);
	if (record)
		write_done_file(s, summary);
	json_t *m =
		json_pack("{s:s, s:i, s:o, s:o, s:o}", "type", "finished", "status", status,
			  "summary", summary, "failed", failed_json(s), "errors", errors_json(s));
	s->finished_line = proto_line(m, &s->finished_len);
	if (!s->finished_line)
		return;
	for (struct conn *c = s->conns; c; c = c->next)
		if (is_watching(c))
			conn_send(c, s->finished_line, s->finished_len);
}

unsigned attach_server_viewers(const struct attach_server *s)
{
	unsigned n = 0;
	for (const struct conn *c = s ? s->conns : NULL; c; c = c->next)
		n += c->hello && c->viewer && !c->closing;
	return n;
}

bool attach_server_owner_present(const struct attach_server *s)
{
	for (const struct conn *c = s ? s->conns : NULL; c; c = c->next)
		if (c->hello && c->owner && !c->closing)
			return true;
	return false;
}

void attach_server_on_change(struct attach_server *s, void (*cb)(void *data), void *data)
{
	s->on_change = cb;
	s->on_change_data = data;
}

static void server_maybe_closed(struct attach_server *s)
{
	if (s->closing && !s->handles_open && s->closed) {
		void (*cb)(void *) = s->closed;
		s->closed = NULL;
		cb(s->closed_data);
	}
}

static void timer_closed_cb(uv_handle_t *h)
{
	struct attach_server *s = h->data;
	s->handles_open--;
	server_maybe_closed(s);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
	(void)status;
	conn_close(req->data);
}

/* The drain's deadline: whoever has not read what was queued for it by now is closed. */
static void drain_timeout_cb(uv_timer_t *t)
{
	struct attach_server *s = t->data;
	while (s->conns)
		conn_close(s->conns);
}

/* Closing, and every connection gone: the last timer goes. */
static void server_drained(struct attach_server *s)
{
	if (s->closing && !s->conns && !s->tick_closed) {
		s->tick_closed = true;
		uv_close((uv_handle_t *)&s->tick, timer_closed_cb);
	}
}

void attach_server_close(struct attach_server *s, void (*closed)(void *data), void *data)
{
	s->closed = closed;
	s->closed_data = data;
	if (s->closing) {
		server_maybe_closed(s);
		return;
	}
	s->closing = true;
	/* What is queued (the end of the batch, its last state) reaches the viewers that read
	 * it, as long as they read (ATTACH_DRAIN_MS without reading ends it); uv_close alone
	 * would cancel it. */
	struct conn *next;
	for (struct conn *c = s->conns; c; c = next) {
		next = c->next;
		if (!conn_queued(c)) {
			conn_close(c);
			continue;
		}
		c->draining = true;
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->shutdown.data = c;
		if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, shutdown_cb) < 0)
			conn_close(c);
	}
	if (s->listening) {
		s->listening = false;
		/* Ours still: not a socket another batch of the same name bound since. */
		struct stat st;
		if (stat(s->path, &st) == 0 && st.st_ino == s->ino)
			unlink(s->path);
		uv_close((uv_handle_t *)s->listener, listener_closed_cb);
		s->listener = NULL;
	}
	uv_close((uv_handle_t *)&s->check, timer_closed_cb);
	uv_timer_stop(&s->tick);
	if (s->conns) {
		uv_ref((uv_handle_t *)&s->tick);
		uv_timer_start(&s->tick, drain_timeout_cb, ATTACH_DRAIN_MS, 0);
	}
	server_drained(s);
	server_maybe_closed(s);
}

void attach_server_free(struct attach_server *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->name);
	free(s->what);
	free(s->out);
	free(s->done);
	free(s->prev);
	free(s->cur);
	free(s->finished_line);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	free(s);
}
