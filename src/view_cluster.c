/* The view model of a batch across machines (pooltop attach --redis URL --batch NAME): every
 * host's workers in one table, read from what the hosts publish in Redis, and commands on a
 * worker of any host sent to it as requests (cluster_host.c: publish_view, do_request).
 *
 * Every ROUND_MS a round reads the batch (hiredis' async API on the loop): HKEYS hosts and
 * HMGET meta, then for each host GET view:HOST and EXISTS live:HOST, pipelined. When the last
 * reply is in, the views are merged (cluster_rows.c) and replace the state; a snapshot returns
 * the last state at once and never waits for Redis. A command on a row as drawn is RPUSHed on
 * its host's ctl list with the slot, generation and item the row showed: the host does it only
 * if its worker still runs that item, and says so in its own log. What acts on a whole batch
 * (resize, pause, stop) belongs to each host's own run: refused here (-ENOTSUP). hiredis 0.14
 * has no timeouts: a round unanswered for WATCHDOG_MS drops the connection, and another is made.
 */
#include "view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "cluster_lua.h"
#include "cluster_rows.h"
#include "proto.h"
#include "rconn.h"
#include "redis_url.h"
#include "util.h"

#define ROUND_MS	 400
#define WATCHDOG_MS	 3000
#define RECONNECT_MS	 1000
#define CHECK_TIMEOUT_MS 5000
#define NOTICES_MAX	 32

struct view_cluster {
	struct view v; /* first */
	uv_loop_t *loop;
	struct redis_url url;
	char urltext[300];
	char batch[CLUSTER_NAME_MAX + 1];
	char by[128]; /* who sends the requests, for the hosts' logs */
	char k_meta[CLUSTER_KEY_MAX], k_hosts[CLUSTER_KEY_MAX];
	bool read_only;

	redisAsyncContext *ac;
	uint64_t round_since_ns; /* the round in flight began, 0 when none */
	uint64_t reconnect_at_ns;
	bool down_said;
	uv_timer_t tick;
	bool tick_open;

	/* The round in flight: the hosts named, their views, whether each is live. */
	unsigned round; /* its number: replies of a dropped round are ignored */
	unsigned waiting;
	char **hosts;
	unsigned nhosts;
	struct cluster_view_text *texts;
	bool *live;
	bool meta_ok;
	uint64_t total, done, failed;
	bool complete;

	/* The state, as the last round found it. */
	struct view_totals totals;
	struct view_row *rows;
	struct cluster_slot *map;
	unsigned nrows;
	struct cluster_slot *drawn; /* the map of the last snapshot: commands aim at it */
	unsigned ndrawn;
	unsigned live_hosts;
	uint64_t started_ns;

	struct view_event notices[NOTICES_MAX]; /* told from the tick, never inside a call */
	unsigned nnotices;
	uint64_t next_id;
	bool finished, finished_told;
	struct view_summary summary;

	bool closing;
	void (*closed)(void *data);
	void *closed_data;
};

static struct view_cluster *cluster(struct view *v)
{
	return (struct view_cluster *)v;
}

static void notice(struct view_cluster *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void notice(struct view_cluster *c, const char *fmt, ...)
{
	if (c->nnotices == NOTICES_MAX)
		return;
	struct view_event *ev = &c->notices[c->nnotices++];
	memset(ev, 0, sizeof(*ev));
	ev->id = ++c->next_id;
	ev->time_ns = now_ns();
	ev->kind = VIEW_EVENT_NOTICE;
	ev->slot = -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
}

/* --- a round --- */

static void round_free(struct view_cluster *c)
{
	for (unsigned i = 0; i < c->nhosts; i++) {
		free(c->hosts[i]);
		free((char *)c->texts[i].text);
	}
	free(c->hosts);
	free(c->texts);
	free(c->live);
	c->hosts = NULL;
	c->texts = NULL;
	c->live = NULL;
	c->nhosts = 0;
	c->meta_ok = false;
}

static void round_end(struct view_cluster *c)
{
	c->round_since_ns = 0;
	unsigned hosts, bad;
	struct view_totals t;
	c->nrows = cluster_rows_merge(c->texts, c->nhosts, c->rows, c->map, CLUSTER_ROWS_MAX, &t,
				      &hosts, &bad);
	unsigned live = 0;
	for (unsigned i = 0; i < c->nhosts; i++)
		live += c->live[i];
	if (live != c->live_hosts)
		notice(c, "%u host%s live (of %u)", live, live == 1 ? "" : "s", c->nhosts);
	c->live_hosts = live;
	if (c->meta_ok) {
		/* Redis counts the batch's items; the hosts, their own. */
		t.submitted = c->total;
		t.done = c->done;
		t.failed = c->failed;
		t.input_ended = c->complete;
		uint64_t left = c->total - MIN(c->total, c->done + c->failed);
		t.queued = left > t.running ? left - t.running : 0;
	}
	t.elapsed_ns = now_ns() - c->started_ns;
	if (c->meta_ok && c->complete && c->done + c->failed >= c->total && !live && !c->finished) {
		c->finished = true;
		notice(c, "the batch %s is over: %llu done, %llu failed, no host live", c->batch,
		       (unsigned long long)c->done, (unsigned long long)c->failed);
	}
	t.finished = t.over = c->finished;
	c->totals = t;
	round_free(c);
}

struct reply_ctx {
	struct view_cluster *c;
	unsigned round;
	int what; /* -1 hosts, -2 meta, 2i a view, 2i+1 live */
};

static void round_reply(redisAsyncContext *ac, void *reply, void *priv);

static void send_cmd(struct view_cluster *c, int what, const char *fmt, ...)
{
	struct reply_ctx *x = xmalloc(sizeof(*x));
	*x = (struct reply_ctx){c, c->round, what};
	va_list ap;
	va_start(ap, fmt);
	int rc = redisvAsyncCommand(c->ac, round_reply, x, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK)
		free(x);
	else
		c->waiting++;
}

static void hosts_reply(struct view_cluster *c, const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return;
	c->nhosts = 0;
	c->hosts = xcalloc(r->elements + 1, sizeof(*c->hosts));
	c->texts = xcalloc(r->elements + 1, sizeof(*c->texts));
	c->live = xcalloc(r->elements + 1, sizeof(*c->live));
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_STRING || !cluster_name_ok(e->str))
			continue;
		unsigned k = c->nhosts++;
		c->hosts[k] = xstrdup(e->str);
		char view[CLUSTER_KEY_MAX], live[CLUSTER_KEY_MAX], part[CLUSTER_NAME_MAX + 8];
		snprintf(part, sizeof(part), "view:%s", e->str);
		cluster_key(view, c->batch, part);
		snprintf(part, sizeof(part), "live:%s", e->str);
		cluster_key(live, c->batch, part);
		send_cmd(c, 2 * (int)k, "GET %s", view);
		send_cmd(c, 2 * (int)k + 1, "EXISTS %s", live);
	}
}

static uint64_t reply_u64(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_STRING ? strtoull(r->str, NULL, 10) : 0;
}

static void round_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	(void)ac;
	struct reply_ctx *x = priv;
	struct view_cluster *c = x->c;
	const redisReply *r = reply;
	if (x->round == c->round && r) {
		if (x->what == -1) {
			hosts_reply(c, r);
		} else if (x->what == -2) {
			if (r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
				c->meta_ok = true;
				c->total = reply_u64(r->element[0]);
				c->done = reply_u64(r->element[1]);
				c->failed = reply_u64(r->element[2]);
				c->complete = reply_u64(r->element[3]) == 1;
			}
		} else if ((unsigned)(x->what / 2) < c->nhosts) {
			unsigned k = (unsigned)(x->what / 2);
			if (x->what % 2)
				c->live[k] = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
			else if (r->type == REDIS_REPLY_STRING)
				c->texts[k] = (struct cluster_view_text){xmemdup(r->str, r->len),
									 (size_t)r->len};
		}
		if (--c->waiting == 0)
			round_end(c);
	}
	free(x);
}

static void round_start(struct view_cluster *c)
{
	c->round++;
	c->waiting = 0;
	round_free(c);
	c->round_since_ns = now_ns();
	send_cmd(c, -1, "HKEYS %s", c->k_hosts);
	send_cmd(c, -2, "HMGET %s total done failed complete", c->k_meta);
}

/* --- the connection --- */

static void disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct view_cluster *c = ac->data;
	if (!c || c->ac != ac)
		return;
	c->ac = NULL;
	c->round++;
	c->round_since_ns = 0;
	c->reconnect_at_ns = now_ns() + RECONNECT_MS * NS_PER_MS;
	if (!c->down_said && !c->closing)
		notice(c, "Redis %s: %s: connecting again", c->urltext,
		       status == REDIS_OK ? "connection closed" : ac->errstr);
	c->down_said = true;
}

static void connect_cb(const redisAsyncContext *ac, int status)
{
	struct view_cluster *c = ac->data;
	if (status != REDIS_OK && c && c->ac == ac) {
		/* hiredis frees the context after this. */
		c->ac = NULL;
		c->round++;
		c->round_since_ns = 0;
		c->reconnect_at_ns = now_ns() + RECONNECT_MS * NS_PER_MS;
		if (!c->down_said)
			notice(c, "Redis %s: %s: connecting again", c->urltext, ac->errstr);
		c->down_said = true;
	}
}

static void ready_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	(void)ac;
	struct view_cluster *c = priv;
	const redisReply *r = reply;
	if (r && r->type == REDIS_REPLY_ERROR)
		notice(c, "Redis %s: %s", c->urltext, r->str);
	else if (r && c->down_said) {
		c->down_said = false;
		notice(c, "Redis %s: connected again", c->urltext);
	}
}

static void connect_now(struct view_cluster *c)
{
	c->reconnect_at_ns = now_ns() + RECONNECT_MS * NS_PER_MS;
	redisAsyncContext *ac = c->url.path[0] ? redisAsyncConnectUnix(c->url.path)
					       : redisAsyncConnect(c->url.host, c->url.port);
	if (!ac || ac->err) {
		if (!c->down_said)
			notice(c, "Redis %s: %s", c->urltext, ac ? ac->errstr : "out of memory");
		c->down_said = true;
		if (ac)
			redisAsyncFree(ac);
		return;
	}
	ac->data = c;
	if (redisLibuvAttach(ac, c->loop) != REDIS_OK) {
		redisAsyncFree(ac);
		return;
	}
	redisAsyncSetConnectCallback(ac, connect_cb);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
	c->ac = ac;
	if (c->url.password[0] && c->url.user[0])
		redisAsyncCommand(ac, ready_reply, c, "AUTH %s %s", c->url.user, c->url.password);
	else if (c->url.password[0])
		redisAsyncCommand(ac, ready_reply, c, "AUTH %s", c->url.password);
	redisAsyncCommand(ac, ready_reply, c, "SELECT %d", c->url.db);
}

static void drop(struct view_cluster *c)
{
	redisAsyncContext *ac = c->ac;
	c->ac = NULL;
	c->round++;
	c->round_since_ns = 0;
	if (ac) {
		/* Its pending callbacks run now, with no reply. */
		ac->data = NULL;
		redisAsyncFree(ac);
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct view_cluster *c = t->data;
	uint64_t now = now_ns();
	if (c->ac && c->round_since_ns && now - c->round_since_ns > WATCHDOG_MS * NS_PER_MS) {
		drop(c);
		notice(c, "Redis %s: no answer for %d s: connecting again", c->urltext,
		       WATCHDOG_MS / 1000);
		c->down_said = true;
		c->reconnect_at_ns = now;
	}
	if (!c->ac && now >= c->reconnect_at_ns)
		connect_now(c);
	if (c->ac && !c->round_since_ns)
		round_start(c);
	/* Each hook may close the view: look again after each. */
	unsigned i = 0;
	while (i < c->nnotices && !c->closing) {
		struct view_event ev = c->notices[i++];
		if (c->v.hooks.event)
			c->v.hooks.event(c->v.hooks.data, &ev);
	}
	if (c->closing)
		return;
	memmove(c->notices, c->notices + i, (c->nnotices - i) * sizeof(*c->notices));
	c->nnotices -= i;
	if (c->finished && !c->finished_told) {
		c->finished_told = true;
		if (c->v.hooks.finished)
			c->v.hooks.finished(c->v.hooks.data);
	}
}

/* --- the view --- */

static int cl_start(struct view *v, char *err, size_t errlen)
{
	(void)v, (void)err, (void)errlen;
	return 0;
}

static unsigned cl_snapshot(struct view *v, struct view_totals *t, struct view_row *rows,
			    unsigned max)
{
	struct view_cluster *c = cluster(v);
	*t = c->totals;
	unsigned n = MIN(max, c->nrows);
	if (n)
		memcpy(rows, c->rows, n * sizeof(*rows));
	memcpy(c->drawn, c->map, n * sizeof(*c->drawn));
	c->ndrawn = n;
	return n;
}

/* Only what the row shows: the history and the outputs stay on the host. */
static int cl_detail(struct view *v, unsigned slot, struct view_detail *d)
{
	(void)v, (void)slot;
	memset(d, 0, sizeof(*d));
	return -ENOTSUP;
}

static int cl_item(struct view *v, unsigned slot, uint64_t seq, struct view_item *it)
{
	(void)v, (void)slot, (void)seq, (void)it;
	return -ENOTSUP;
}

static int cl_command(struct view *v, enum view_command cmd, unsigned slot, uint64_t generation,
		      int arg)
{
	struct view_cluster *c = cluster(v);
	if (c->read_only)
		return -EPERM;
	if (slot >= c->ndrawn || c->drawn[slot].generation != generation)
		return -ESTALE;
	if (!c->ac)
		return -ENOTCONN;
	const struct cluster_slot *s = &c->drawn[slot];
	char *text = cluster_request(s, proto_command_word(cmd), arg, c->by);
	if (!text)
		return -ENOMEM;
	char key[CLUSTER_KEY_MAX], part[CLUSTER_NAME_MAX + 8];
	snprintf(part, sizeof(part), "ctl:%s", s->host);
	cluster_key(key, c->batch, part);
	int rc = redisAsyncCommand(c->ac, NULL, NULL, "RPUSH %s %s", key, text);
	free(text);
	if (rc != REDIS_OK)
		return -ENOTCONN;
	notice(c, "%s asked of %s, worker %u (pid %d, item %llu): the host says in its log",
	       proto_command_word(cmd), s->host, s->slot, (int)s->pid,
	       (unsigned long long)s->cur_seq);
	return 0;
}

static int cl_resize(struct view *v, unsigned n)
{
	(void)v, (void)n;
	return -ENOTSUP;
}

static void cl_pause(struct view *v, bool paused)
{
	(void)v, (void)paused;
}

static void cl_stop(struct view *v, enum view_stop how, const char *why)
{
	(void)v, (void)how, (void)why;
}

static enum view_stop cl_stopping(const struct view *v)
{
	(void)v;
	return VIEW_STOP_NONE;
}

static void cl_summary(const struct view *v, struct view_summary *s)
{
	const struct view_cluster *c = (const struct view_cluster *)v;
	memset(s, 0, sizeof(*s));
	s->done = c->totals.done;
	s->failed = c->totals.failed;
	s->input_complete = c->totals.input_ended;
	s->elapsed = (double)(now_ns() - c->started_ns) / 1e9;
	s->rate = c->totals.rate_avg;
}

static unsigned cl_errors(const struct view *v, const char *lines[VIEW_MAX_ERRORS])
{
	(void)v, (void)lines;
	return 0;
}

static void cl_failed(const struct view *v, struct view_failed *f)
{
	memset(f, 0, sizeof(*f));
	f->total = ((const struct view_cluster *)v)->totals.failed;
}

static void tick_closed(uv_handle_t *h)
{
	struct view_cluster *c = h->data;
	c->tick_open = false;
	if (c->closed)
		c->closed(c->closed_data);
}

static void cl_close(struct view *v, void (*closed)(void *data), void *data)
{
	struct view_cluster *c = cluster(v);
	if (c->closing)
		return;
	c->closing = true;
	c->closed = closed;
	c->closed_data = data;
	drop(c);
	uv_close((uv_handle_t *)&c->tick, tick_closed);
}

static void cl_free(struct view *v)
{
	struct view_cluster *c = cluster(v);
	drop(c);
	round_free(c);
	free(c->rows);
	free(c->map);
	free(c->drawn);
	free(c);
}

static const struct view_ops cluster_ops = {
	.start = cl_start,
	.snapshot = cl_snapshot,
	.detail = cl_detail,
	.item = cl_item,
	.command = cl_command,
	.resize = cl_resize,
	.pause = cl_pause,
	.stop = cl_stop,
	.stopping = cl_stopping,
	.summary = cl_summary,
	.errors = cl_errors,
	.failed = cl_failed,
	.close = cl_close,
	.free = cl_free,
};

/* The batch is there: a blocking look first, so that a wrong URL or name says so at once. */
static int check_batch(struct view_cluster *c, char *err, size_t errlen)
{
	char why[400];
	redisContext *rc = rconn_open(&c->url, CHECK_TIMEOUT_MS, why, sizeof(why));
	if (!rc) {
		snprintf(err, errlen, "%s", why);
		return -ECONNREFUSED;
	}
	redisReply *r = redisCommand(rc, "EXISTS %s", c->k_meta);
	int k = 0;
	if (!r) {
		snprintf(err, errlen, "%s: %s", c->urltext, rc->errstr);
		k = -EIO;
	} else if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
		snprintf(err, errlen, "no batch '%s' in %s (pooltop ls --redis %s lists them)",
			 c->batch, c->urltext, c->urltext);
		k = -ENOENT;
	}
	if (r)
		freeReplyObject(r);
	redisFree(rc);
	return k;
}

int view_cluster_new(uv_loop_t *loop, const char *url, const char *batch, bool read_only,
		     const struct view_hooks *hooks, struct view **out, char *err, size_t errlen)
{
	struct view_cluster *c = xcalloc(1, sizeof(*c));
	c->v.ops = &cluster_ops;
	if (hooks)
		c->v.hooks = *hooks;
	c->loop = loop;
	c->read_only = read_only;
	if (redis_url_parse(url, getenv("REDISCLI_AUTH"), "--redis", &c->url, err, errlen) < 0 ||
	    !cluster_name_ok(batch)) {
		if (!cluster_name_ok(batch))
			snprintf(err, errlen, "--batch: '%s' is not a batch name", batch);
		free(c);
		return -EINVAL;
	}
	redis_url_display(&c->url, c->urltext, sizeof(c->urltext));
	snprintf(c->batch, sizeof(c->batch), "%s", batch);
	cluster_key(c->k_meta, batch, "meta");
	cluster_key(c->k_hosts, batch, "hosts");
	char me[64] = "?";
	gethostname(me, sizeof(me) - 1);
	snprintf(c->by, sizeof(c->by), "a viewer on %s (pid %d)", me, (int)getpid());
	int k = check_batch(c, err, errlen);
	if (k < 0) {
		free(c);
		return k;
	}
	c->rows = xcalloc(CLUSTER_ROWS_MAX, sizeof(*c->rows));
	c->map = xcalloc(CLUSTER_ROWS_MAX, sizeof(*c->map));
	c->drawn = xcalloc(CLUSTER_ROWS_MAX, sizeof(*c->drawn));
	c->started_ns = now_ns();
	uv_timer_init(loop, &c->tick);
	c->tick.data = c;
	c->tick_open = true;
	connect_now(c);
	uv_timer_start(&c->tick, tick_cb, 0, ROUND_MS);
	*out = &c->v;
	return 0;
}
