/* The view model of a batch run by another pooltop process, over its attach socket
 * (attach_server.h, doc/protocol.md): the front ends draw it and act through it unchanged.
 *
 * The state (totals, rows, how the batch is being stopped) is kept as the server last sent it;
 * a snapshot returns it at once. What the view interface answers at once — a command's result,
 * a worker's detail — is a request and its reply: written, then the socket is read (poll) until
 * the reply comes, at most REQUEST_TIMEOUT_MS. State that arrives meanwhile is applied; events
 * and the end are held and given to the front end from the loop just after, never from inside
 * the call it made. */
#include "view.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach_dir.h"
#include "proto.h"
#include "util.h"

#define REQUEST_TIMEOUT_MS 10000
/* What a redraw asks (a worker's detail, an item): answered at once by a batch that runs. */
#define SHOW_TIMEOUT_MS 1000
/* A command (a key): a little longer. */
#define ACT_TIMEOUT_MS 3000
/* After a request timed out, what a redraw asks is not asked for this long. */
#define QUIET_AFTER_TIMEOUT_MS 2000
#define HELD_EVENTS_MAX	       4096
/* The user's commands whose replies have not come yet: a refusal, when it comes, is said. */
#define LATE_MAX 32

/* --- a connection read and written with poll(2) --- */

struct rconn {
	int fd;
	struct proto_reader rd;
};

static int rconn_write(struct rconn *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(c->fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -errno;
		struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
		if (poll(&pfd, 1, REQUEST_TIMEOUT_MS) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

static int rconn_send(struct rconn *c, json_t *msg)
{
	size_t len;
	char *line = proto_line(msg, &len);
	if (!line)
		return -ENOMEM;
	int r = rconn_write(c, line, len);
	free(line);
	return r;
}

/* Read what is there (once, without blocking). 1 read something, 0 nothing yet, -ECONNRESET
 * at the end, -EMSGSIZE / -ENOMEM. */
static int rconn_fill(struct rconn *c)
{
	size_t room;
	char *p = proto_reader_space(&c->rd, 65536, &room);
	if (!p)
		return -ENOMEM;
	ssize_t n = read(c->fd, p, room);
	if (n > 0) {
		proto_reader_commit(&c->rd, (size_t)n);
		return 1;
	}
	if (n == 0)
		return -ECONNRESET;
	return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

/* The next line, waiting until deadline_ns: 1 and *m (a parsed object: the caller releases
 * it), or -ETIMEDOUT, -ECONNRESET, -EPROTO (with err). */
static int rconn_next(struct rconn *c, uint64_t deadline_ns, json_t **m, char *err, size_t errlen)
{
	for (;;) {
		const char *line;
		size_t len;
		int r = proto_reader_next(&c->rd, &line, &len);
		if (r < 0) {
			snprintf(err, errlen, "a message over %u bytes from the batch",
				 PROTO_MAX_LINE);
			return r;
		}
		if (r > 0) {
			if (!len)
				continue;
			*m = proto_parse(line, len, err, errlen);
			return *m ? 1 : -EPROTO;
		}
		r = rconn_fill(c);
		if (r < 0) {
			snprintf(err, errlen, "the batch closed the connection");
			return r;
		}
		if (r > 0)
			continue;
		uint64_t now = now_ns();
		if (now >= deadline_ns) {
			snprintf(err, errlen, "the batch did not answer in time");
			return -ETIMEDOUT;
		}
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		poll(&pfd, 1, (int)MIN((deadline_ns - now) / NS_PER_MS + 1, 1000));
	}
}

static const char *msg_type(const json_t *m)
{
	const char *t = json_string_value(json_object_get(m, "type"));
	return t ? t : "";
}

static void info_get(const json_t *m, struct view_remote_info *info)
{
	memset(info, 0, sizeof(*info));
	const char *name = "", *what = "", *out = NULL;
	int pid = 0, jobs = 0, ro = 0, fin = 0;
	json_int_t viewers = 0;
	double started = 0;
	json_unpack((json_t *)m, "{s?s, s?i, s?F, s?b, s?b, s?b, s?I, s?s, s?s}", "name", &name,
		    "pid", &pid, "started", &started, "jobs", &jobs, "read_only", &ro, "finished",
		    &fin, "viewers", &viewers, "what", &what, "out", &out);
	snprintf(info->name, sizeof(info->name), "%s", name);
	snprintf(info->what, sizeof(info->what), "%s", what);
	snprintf(info->out, sizeof(info->out), "%s", out ? out : "");
	info->pid = pid;
	info->started = started;
	info->jobs = jobs;
	info->read_only = ro;
	info->finished = fin;
	info->viewers = viewers > 0 ? (unsigned)viewers : 0;
}

/* Connect, say hello, take the hello's answer. fd or -errno with err. */
static int rconn_open(struct rconn *c, const char *path, unsigned flags, bool viewer,
		      int timeout_ms, struct view_remote_info *info, char *err, size_t errlen)
{
	proto_reader_init(&c->rd);
	c->fd = attach_connect(path, err, errlen);
	if (c->fd < 0)
		return c->fd;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	int r = rconn_send(c, json_pack("{s:s, s:i, s:b, s:b, s:b}", "type", "hello", "version",
					PROTO_VERSION, "read_only",
					(flags & VIEW_REMOTE_READ_ONLY) != 0, "viewer", viewer,
					"owner", (flags & VIEW_REMOTE_OWNER) != 0));
	json_t *m = NULL;
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	else
		r = rconn_next(c, now_ns() + (uint64_t)timeout_ms * NS_PER_MS, &m, err, errlen);
	if (r >= 0 && !strcmp(msg_type(m), "error")) {
		snprintf(err, errlen, "%s",
			 json_string_value(json_object_get(m, "message")) ?: "refused");
		r = -ECONNREFUSED;
	} else if (r >= 0 && strcmp(msg_type(m), "hello") != 0) {
		snprintf(err, errlen, "%s: not a pooltop batch (no hello)", path);
		r = -EPROTO;
	} else if (r >= 0) {
		info_get(m, info);
	}
	json_decref(m);
	if (r < 0) {
		close(c->fd);
		proto_reader_free(&c->rd);
		c->fd = -1;
		return r;
	}
	return 0;
}

static int state_get(const json_t *m, struct view_totals *t, enum view_stop *stopping,
		     struct view_row *rows, uint64_t *row_at, unsigned *nrows, char *err,
		     size_t errlen)
{
	json_t *jt = json_object_get(m, "totals"), *jr = json_object_get(m, "rows");
	const char *stop = json_string_value(json_object_get(m, "stopping"));
	json_int_t n = json_integer_value(json_object_get(m, "nrows"));
	if (!jt || !json_is_array(jr) || !stop || n < 0 || n > POOLTOP_MAX_WORKERS ||
	    json_array_size(jr) > (size_t)n) {
		snprintf(err, errlen, "a malformed %s from the batch", msg_type(m));
		return -EPROTO;
	}
	int r = proto_totals_get(jt, t, err, errlen);
	if (r < 0)
		return r;
	if (proto_stop_parse(stop, stopping) < 0)
		*stopping = VIEW_STOP_NONE;
	if (!rows)
		return 0;
	size_t i;
	json_t *row;
	json_array_foreach(jr, i, row)
	{
		struct view_row one;
		r = proto_row_get(row, &one, err, errlen);
		if (r < 0)
			return r;
		if (one.index >= (unsigned)n) {
			snprintf(err, errlen, "row %u of %u from the batch", one.index,
				 (unsigned)n);
			return -EPROTO;
		}
		rows[one.index] = one;
		row_at[one.index] = now_ns();
	}
	*nrows = (unsigned)n;
	return 0;
}

int view_remote_query(const char *path, int timeout_ms, struct view_remote_info *info,
		      struct view_totals *t, enum view_stop *stopping, char *err, size_t errlen)
{
	struct rconn c;
	int r = rconn_open(&c, path, VIEW_REMOTE_READ_ONLY, false, timeout_ms, info, err, errlen);
	if (r < 0)
		return r;
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	for (;;) {
		json_t *m;
		r = rconn_next(&c, deadline, &m, err, errlen);
		if (r < 0)
			break;
		const char *type = msg_type(m);
		if (!strcmp(type, "snapshot")) {
			r = state_get(m, t, stopping, NULL, NULL, NULL, err, errlen);
			json_decref(m);
			break;
		}
		json_decref(m);
	}
	close(c.fd);
	proto_reader_free(&c.rd);
	return r < 0 ? r : 0;
}

/* --- the view --- */

struct view_remote {
	struct view v; /* first */
	uv_loop_t *loop;
	struct rconn c;
	uv_poll_t poll;
	uv_timer_t later;
	struct view_remote_info info;
	bool connected;
	bool closing;
	bool in_request;
	bool got_state; /* a snapshot came */

	struct view_totals totals;
	struct view_row *rows;
	uint64_t *row_at; /* when each row came: the time on its item has grown since */
	unsigned nrows;
	enum view_stop stopping;

	/* The end, as the batch said it (or as this side saw the connection go). */
	bool ended;	       /* the "finished" message came */
	bool finished_told;    /* the front end's finished hook was called */
	bool finished_pending; /* ...is to be called from the loop */
	struct view_summary summary;
	struct view_failed *failed;
	char *errors[VIEW_MAX_ERRORS];
	unsigned nerrors;

	struct view_event *held; /* events that came during a request */
	unsigned nheld;
	uint64_t next_id;
	uint64_t synth_id;	 /* ids for the events this side makes up */
	uint64_t quiet_until_ns; /* a request timed out: redraws ask nothing until then */
	struct {
		uint64_t id; /* 0: free */
		char what[64];
	} late[LATE_MAX]; /* commands sent that the batch has not answered yet */
	unsigned late_next;

	void (*closed)(void *data);
	void *closed_data;
	unsigned handles_open;
};

static struct view_remote *remote(struct view *v)
{
	return (struct view_remote *)v;
}

static const struct view_remote *cremote(const struct view *v)
{
	return (const struct view_remote *)v;
}

static void deliver_later(struct view_remote *r);

static void event_now_or_later(struct view_remote *r, const struct view_event *ev)
{
	if (!r->in_request && !r->nheld) {
		if (r->v.hooks.event)
			r->v.hooks.event(r->v.hooks.data, ev);
		return;
	}
	if (r->nheld < HELD_EVENTS_MAX)
		r->held[r->nheld++] = *ev;
	deliver_later(r);
}

static void notice(struct view_remote *r, const char *text)
{
	struct view_event ev = {0};
	ev.id = ++r->synth_id;
	ev.time_ns = now_ns();
	ev.kind = VIEW_EVENT_NOTICE;
	ev.slot = -1;
	snprintf(ev.text, sizeof(ev.text), "%s", text);
	event_now_or_later(r, &ev);
}

static void finished_now_or_later(struct view_remote *r)
{
	if (r->finished_told || r->finished_pending)
		return;
	r->totals.finished = true;
	r->finished_pending = true;
	deliver_later(r);
}

static void ended_get(struct view_remote *r, const json_t *m)
{
	char err[256];
	proto_summary_get(json_object_get(m, "summary"), &r->summary, err, sizeof(err));
	proto_failed_get(json_object_get(m, "failed"), r->failed, err, sizeof(err));
	for (unsigned i = 0; i < r->nerrors; i++)
		free(r->errors[i]);
	r->nerrors = 0;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(m, "errors"), i, e)
	{
		if (r->nerrors < VIEW_MAX_ERRORS && json_is_string(e))
			r->errors[r->nerrors++] = xstrdup(json_string_value(e));
	}
	r->ended = true;
}

/* The connection is gone: the view keeps its last state and says so. */
static void lost(struct view_remote *r, const char *why)
{
	if (!r->connected)
		return;
	r->connected = false;
	if (!r->closing && uv_is_active((uv_handle_t *)&r->poll))
		uv_poll_stop(&r->poll);
	if (!r->ended) {
		/* What it last said, for the summary. */
		r->summary.done = r->totals.done;
		r->summary.failed = r->totals.failed;
		r->summary.not_run = r->totals.not_run;
		r->summary.input_complete = r->totals.input_ended;
		r->summary.elapsed = (double)r->totals.elapsed_ns / 1e9;
		r->summary.rate = r->totals.rate_avg;
		snprintf(r->summary.fatal, sizeof(r->summary.fatal),
			 "lost the connection to the batch %s (pid %d): %s", r->info.name,
			 (int)r->info.pid, why);
		notice(r, r->summary.fatal);
	}
	finished_now_or_later(r);
}

static void late_reply(struct view_remote *r, const json_t *m);

/* Apply one message from the batch (a reply no call waits for: a late one). */
static void apply(struct view_remote *r, const json_t *m)
{
	const char *type = msg_type(m);
	char err[256];
	if (!strcmp(type, "snapshot") || !strcmp(type, "delta")) {
		if (state_get(m, &r->totals, &r->stopping, r->rows, r->row_at, &r->nrows, err,
			      sizeof(err)) < 0)
			lost(r, err);
		if (r->ended)
			r->totals.finished = true;
		r->got_state = true;
	} else if (!strcmp(type, "event")) {
		struct view_event ev;
		if (proto_event_get(json_object_get(m, "event"), &ev, err, sizeof(err)) == 0)
			event_now_or_later(r, &ev);
	} else if (!strcmp(type, "missed")) {
		char text[128];
		snprintf(text, sizeof(text), "%lld events missed while this viewer was behind",
			 (long long)json_integer_value(json_object_get(m, "events")));
		notice(r, text);
	} else if (!strcmp(type, "finished")) {
		ended_get(r, m);
		finished_now_or_later(r);
	} else if (!strcmp(type, "error")) {
		const char *text = json_string_value(json_object_get(m, "message"));
		lost(r, text ? text : "an error");
	} else if (!strcmp(type, "reply")) {
		late_reply(r, m);
	}
}

static void drain_lines(struct view_remote *r);

static void later_cb(uv_timer_t *t)
{
	struct view_remote *r = t->data;
	/* Lines read along with a reply are in the buffer: the poll will not say so. */
	if (!r->in_request)
		drain_lines(r);
	/* Each hook may close the view: look again after each. What is left moves up once. */
	unsigned i = 0;
	while (i < r->nheld && !r->closing && !r->in_request) {
		struct view_event ev = r->held[i++];
		if (r->v.hooks.event)
			r->v.hooks.event(r->v.hooks.data, &ev);
	}
	memmove(r->held, r->held + i, (r->nheld - i) * sizeof(*r->held));
	r->nheld -= i;
	if (r->finished_pending && !r->closing && !r->in_request && !r->nheld) {
		r->finished_pending = false;
		r->finished_told = true;
		if (r->v.hooks.finished)
			r->v.hooks.finished(r->v.hooks.data);
	}
}

static void deliver_later(struct view_remote *r)
{
	if (r->handles_open && !r->closing && !uv_is_active((uv_handle_t *)&r->later))
		uv_timer_start(&r->later, later_cb, 0, 0);
}

/* Take every complete line read so far. */
static void drain_lines(struct view_remote *r)
{
	while (r->connected && !r->closing) {
		json_t *m;
		char err[256];
		/* Nothing waits: a deadline in the past reads only what is buffered or ready. */
		int k = rconn_next(&r->c, 0, &m, err, sizeof(err));
		if (k == -ETIMEDOUT)
			return;
		if (k < 0) {
			lost(r, err);
			return;
		}
		apply(r, m);
		json_decref(m);
	}
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct view_remote *r = h->data;
	if (status < 0) {
		lost(r, uv_strerror(status));
		return;
	}
	drain_lines(r);
}

/* What a command of the user's asked, for the log: "resize to 4", "kill on worker 3". */
static void describe(const json_t *msg, char *buf, size_t len)
{
	const char *type = msg_type(msg);
	if (!strcmp(type, "command"))
		snprintf(buf, len, "%s on worker %lld",
			 json_string_value(json_object_get(msg, "cmd")) ?: "a command",
			 (long long)json_integer_value(json_object_get(msg, "slot")));
	else if (!strcmp(type, "resize"))
		snprintf(buf, len, "resize to %lld",
			 (long long)json_integer_value(json_object_get(msg, "workers")));
	else if (!strcmp(type, "pause"))
		snprintf(buf, len, "%s",
			 json_is_true(json_object_get(msg, "paused")) ? "pause" : "resume");
	else if (!strcmp(type, "stop"))
		snprintf(buf, len, "stop (%s)",
			 json_string_value(json_object_get(msg, "how")) ?: "?");
	else
		snprintf(buf, len, "%s", type);
}

/* A reply no call waits for: the answer to a command left on its way. A refusal is said. */
static void late_reply(struct view_remote *r, const json_t *m)
{
	uint64_t id = (uint64_t)json_integer_value(json_object_get(m, "id"));
	for (unsigned i = 0; id && i < LATE_MAX; i++) {
		if (r->late[i].id != id)
			continue;
		r->late[i].id = 0;
		int result = (int)json_integer_value(json_object_get(m, "result"));
		if (result < 0) {
			char text[160];
			snprintf(text, sizeof(text), "%s, asked from this viewer: refused: %s",
				 r->late[i].what, view_error(result));
			notice(r, text);
		}
		return;
	}
}

/* Send msg (taken) with a new id. */
static int send_request(struct view_remote *r, json_t *msg, uint64_t *id)
{
	if (!r->connected) {
		json_decref(msg);
		return -ENOTCONN;
	}
	*id = ++r->next_id;
	json_object_set_new(msg, "id", json_integer((json_int_t)*id));
	int k = rconn_send(&r->c, msg);
	if (k < 0) {
		lost(r, strerror(-k));
		return -ENOTCONN;
	}
	return 0;
}

/* Wait for the reply to request id: its "result", and *reply when wanted (the caller
 * releases it). */
static int wait_reply(struct view_remote *r, uint64_t id, int timeout_ms, json_t **reply)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	r->in_request = true;
	int result = -ETIMEDOUT;
	for (;;) {
		json_t *m;
		char err[256];
		int k = rconn_next(&r->c, deadline, &m, err, sizeof(err));
		if (k < 0) {
			if (k != -ETIMEDOUT)
				lost(r, err);
			result = k == -ETIMEDOUT ? -ETIMEDOUT : -ENOTCONN;
			break;
		}
		if (strcmp(msg_type(m), "reply") != 0) {
			apply(r, m);
			json_decref(m);
			if (!r->connected) {
				result = -ENOTCONN;
				break;
			}
			continue;
		}
		if ((uint64_t)json_integer_value(json_object_get(m, "id")) != id) {
			late_reply(r, m);
			json_decref(m);
			continue;
		}
		result = (int)json_integer_value(json_object_get(m, "result"));
		if (reply)
			*reply = m;
		else
			json_decref(m);
		break;
	}
	r->in_request = false;
	if (result == -ETIMEDOUT)
		r->quiet_until_ns = now_ns() + QUIET_AFTER_TIMEOUT_MS * NS_PER_MS;
	if (r->nheld || r->finished_pending)
		deliver_later(r);
	/* Lines read with the reply wait in the buffer: the poll will not say so. */
	if (r->connected && r->c.rd.len > r->c.rd.start)
		deliver_later(r);
	return result;
}

/* Ask what the view must answer (msg taken), and wait at most timeout_ms. */
static int request(struct view_remote *r, json_t *msg, json_t **reply, int timeout_ms)
{
	if (reply)
		*reply = NULL;
	/* A batch that did not answer lately (stopped, or swamped) is not asked what the screen
	 * merely shows at every redraw: the viewer stays responsive. */
	if (timeout_ms < REQUEST_TIMEOUT_MS && now_ns() < r->quiet_until_ns) {
		json_decref(msg);
		return -ETIMEDOUT;
	}
	uint64_t id;
	int k = send_request(r, msg, &id);
	return k < 0 ? k : wait_reply(r, id, timeout_ms, reply);
}

/* A command of the user's (msg taken): always sent, even to a batch that did not answer
 * lately, since the batch does it when it reads it. Its reply is waited for ACT_TIMEOUT_MS at
 * most (not at all while the batch is quiet); then the command is left on its way: -EINPROGRESS,
 * and a refusal that comes later is said in the log. */
static int act(struct view_remote *r, json_t *msg)
{
	char what[64];
	describe(msg, what, sizeof(what));
	uint64_t id;
	int k = send_request(r, msg, &id);
	if (k < 0)
		return k;
	k = now_ns() < r->quiet_until_ns ? -ETIMEDOUT : wait_reply(r, id, ACT_TIMEOUT_MS, NULL);
	if (k != -ETIMEDOUT)
		return k;
	unsigned i = r->late_next++ % LATE_MAX;
	r->late[i].id = id;
	snprintf(r->late[i].what, sizeof(r->late[i].what), "%s", what);
	return -EINPROGRESS;
}

static int remote_start(struct view *v, char *err, size_t errlen)
{
	(void)v;
	(void)err;
	(void)errlen;
	return 0;
}

static unsigned remote_snapshot(struct view *v, struct view_totals *t, struct view_row *rows,
				unsigned max)
{
	struct view_remote *r = remote(v);
	*t = r->totals;
	unsigned n = MIN(max, r->nrows);
	if (n)
		memcpy(rows, r->rows, n * sizeof(*rows));
	/* The batch sends a row again when it changes, not as the time on its item grows. */
	uint64_t now = now_ns();
	for (unsigned i = 0; i < n; i++)
		if (rows[i].cur_seq && r->connected && now > r->row_at[i])
			rows[i].age_ns += now - r->row_at[i];
	return n;
}

static int remote_detail(struct view *v, unsigned slot, struct view_detail *d)
{
	json_t *reply;
	int k = request(remote(v),
			json_pack("{s:s, s:I}", "type", "detail", "slot", (json_int_t)slot), &reply,
			SHOW_TIMEOUT_MS);
	if (k == 0) {
		char err[256];
		k = proto_detail_get(json_object_get(reply, "detail"), d, err, sizeof(err));
	}
	if (k < 0)
		memset(d, 0, sizeof(*d));
	json_decref(reply);
	return k;
}

static int remote_item(struct view *v, unsigned slot, uint64_t seq, struct view_item *it)
{
	json_t *reply;
	int k = request(remote(v),
			json_pack("{s:s, s:I, s:I}", "type", "item", "slot", (json_int_t)slot,
				  "seq", (json_int_t)seq),
			&reply, SHOW_TIMEOUT_MS);
	if (k == 0) {
		char err[256];
		k = proto_item_get(json_object_get(reply, "item"), it, err, sizeof(err));
	}
	json_decref(reply);
	return k;
}

static int remote_command(struct view *v, enum view_command cmd, unsigned slot, uint64_t generation,
			  int arg)
{
	return act(remote(v), json_pack("{s:s, s:s, s:I, s:I, s:i}", "type", "command", "cmd",
					proto_command_word(cmd), "slot", (json_int_t)slot,
					"generation", (json_int_t)generation, "arg", arg));
}

/* What was asked and not refused shows until the batch says otherwise: a second key starts
 * from it. */
static int remote_resize(struct view *v, unsigned n)
{
	struct view_remote *r = remote(v);
	int k = act(r, json_pack("{s:s, s:I}", "type", "resize", "workers", (json_int_t)n));
	if (k == 0 || k == -EINPROGRESS)
		r->totals.size = n;
	return k;
}

static void remote_pause(struct view *v, bool paused)
{
	struct view_remote *r = remote(v);
	int k = act(r, json_pack("{s:s, s:b}", "type", "pause", "paused", paused));
	if (k == 0 || k == -EINPROGRESS)
		r->totals.paused = paused;
}

static void remote_stop(struct view *v, enum view_stop how, const char *why)
{
	struct view_remote *r = remote(v);
	int k = act(r, json_pack("{s:s, s:s, s:s}", "type", "stop", "how", proto_stop_word(how),
				 "why", why ? why : "stop"));
	if ((k == 0 || k == -EINPROGRESS) && how > r->stopping)
		r->stopping = how;
}

static enum view_stop remote_stopping(const struct view *v)
{
	return cremote(v)->stopping;
}

/* The summary, failures and errors: the batch's own at its end; before, asked for. */
static void remote_summary(const struct view *v, struct view_summary *s)
{
	struct view_remote *r = (struct view_remote *)v;
	json_t *reply;
	if (!r->ended && r->connected &&
	    request(r, json_pack("{s:s}", "type", "summary"), &reply, REQUEST_TIMEOUT_MS) == 0) {
		char err[256];
		proto_summary_get(json_object_get(reply, "summary"), &r->summary, err, sizeof(err));
		json_decref(reply);
	}
	*s = r->summary;
}

static unsigned remote_errors(const struct view *v, const char *lines[VIEW_MAX_ERRORS])
{
	const struct view_remote *r = cremote(v);
	for (unsigned i = 0; i < r->nerrors; i++)
		lines[i] = r->errors[i];
	return r->nerrors;
}

static void remote_failed(const struct view *v, struct view_failed *f)
{
	struct view_remote *r = (struct view_remote *)v;
	json_t *reply;
	if (!r->ended && r->connected &&
	    request(r, json_pack("{s:s}", "type", "failed"), &reply, REQUEST_TIMEOUT_MS) == 0) {
		char err[256];
		proto_failed_get(json_object_get(reply, "failed"), r->failed, err, sizeof(err));
		json_decref(reply);
	}
	*f = *r->failed;
}

static void remote_handle_closed(uv_handle_t *h)
{
	struct view_remote *r = h->data;
	if (--r->handles_open == 0 && r->closed)
		r->closed(r->closed_data);
}

static void remote_close(struct view *v, void (*closed)(void *data), void *data)
{
	struct view_remote *r = remote(v);
	if (r->closing)
		return;
	r->closing = true;
	r->connected = false;
	r->closed = closed;
	r->closed_data = data;
	uv_close((uv_handle_t *)&r->poll, remote_handle_closed);
	uv_close((uv_handle_t *)&r->later, remote_handle_closed);
}

static void remote_free(struct view *v)
{
	struct view_remote *r = remote(v);
	if (r->c.fd >= 0)
		close(r->c.fd);
	proto_reader_free(&r->c.rd);
	for (unsigned i = 0; i < r->nerrors; i++)
		free(r->errors[i]);
	free(r->rows);
	free(r->row_at);
	free(r->failed);
	free(r->held);
	free(r);
}

static const struct view_ops remote_ops = {
	.start = remote_start,
	.snapshot = remote_snapshot,
	.detail = remote_detail,
	.item = remote_item,
	.command = remote_command,
	.resize = remote_resize,
	.pause = remote_pause,
	.stop = remote_stop,
	.stopping = remote_stopping,
	.summary = remote_summary,
	.errors = remote_errors,
	.failed = remote_failed,
	.close = remote_close,
	.free = remote_free,
};

int view_remote_new(uv_loop_t *loop, const char *path, unsigned flags,
		    const struct view_hooks *hooks, struct view **out,
		    struct view_remote_info *info, char *err, size_t errlen)
{
	struct view_remote *r = xcalloc(1, sizeof(*r));
	r->v.ops = &remote_ops;
	if (hooks)
		r->v.hooks = *hooks;
	r->loop = loop;
	r->c.fd = -1;
	int k = rconn_open(&r->c, path, flags, true, REQUEST_TIMEOUT_MS, &r->info, err, errlen);
	if (k < 0) {
		free(r);
		return k;
	}
	r->rows = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*r->rows));
	r->row_at = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*r->row_at));
	r->failed = xcalloc(1, sizeof(*r->failed));
	r->held = xcalloc(HELD_EVENTS_MAX, sizeof(*r->held));
	r->connected = true;
	/* The first snapshot, so that the first frame shows the batch. */
	uint64_t deadline = now_ns() + REQUEST_TIMEOUT_MS * NS_PER_MS;
	r->in_request = true;
	while (r->connected && !r->got_state) {
		json_t *m;
		k = rconn_next(&r->c, deadline, &m, err, errlen);
		if (k < 0)
			break;
		const char *type = msg_type(m);
		if (!strcmp(type, "error")) {
			snprintf(err, errlen, "%s",
				 json_string_value(json_object_get(m, "message")) ?: "refused");
			k = -ECONNREFUSED;
			json_decref(m);
			break;
		}
		apply(r, m);
		json_decref(m);
	}
	r->in_request = false;
	if (k < 0 || !r->connected) {
		if (k >= 0)
			snprintf(err, errlen, "%s", r->summary.fatal);
		remote_free(&r->v);
		return k < 0 ? k : -ECONNRESET;
	}
	uv_poll_init(loop, &r->poll, r->c.fd);
	uv_timer_init(loop, &r->later);
	r->poll.data = r->later.data = r;
	r->handles_open = 2;
	uv_poll_start(&r->poll, UV_READABLE | UV_DISCONNECT, poll_cb);
	deliver_later(r);
	*info = r->info;
	*out = &r->v;
	return 0;
}
