/* This machine as a host of a batch across machines (cluster_host.h; the data and the scripts:
 * cluster_lua.h; what is guaranteed: doc/cluster.md).
 *
 * DESIGN
 * One hiredis async connection on the loop (its libuv adapter: no thread) and one timer that
 * runs what is due every TICK_MS. The host holds items: fetched (a queue the batch takes from)
 * or running in the pool. Each is held under a lease on the server's clock: the stream entry's
 * idle time in the consumer group, which the host resets every lease/3 (renew: only the items
 * it still holds, checked in the script). A result is committed by a script that records it only
 * if the host still holds the item: a host that lost an item's lease (stopped, cut off) is
 * fenced and its result dropped. Fetches and commits go several items to a request, one request
 * of each kind in flight at a time, so a busy host sends bigger ones.
 * A host with room reclaims items idle past the lease (before new ones) from other consumers;
 * an item delivered more than --retries + 1 times is recorded failed (poison) instead.
 * hiredis 0.14 has no timeouts: a request unanswered for WATCHDOG drops the connection; it is
 * made again (backoff to 1 s), then everything held is renewed before anything else, and
 * nothing is reclaimed for host_settle_ms (after an outage every entry looks idle).
 * The batch is over for this host when the input is complete and every item has a recorded
 * result: the feed then ends, the pool finishes what it runs, and the view closes the host. */
#include "cluster_host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/adapters/libuv.h>

#include "cluster_cmd.h"
#include "cluster_host_internal.h"
#include "rconn.h"

void host_say(struct cluster_host *h, bool error, const char *fmt, ...)
{
	char line[240];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (h->feed.batch)
		batch_feed_notice(h->feed.batch, error, "%s", line);
}

/* --- requests --- */

void rq_add(struct rq_args *a, const char *s, size_t len)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
		a->len = xrealloc(a->len, a->cap * sizeof(*a->len));
		a->num_at = xrealloc(a->num_at, a->cap * sizeof(*a->num_at));
	}
	a->v[a->n] = s;
	a->len[a->n] = len;
	a->num_at[a->n] = 0;
	a->n++;
}

void rq_str(struct rq_args *a, const char *s)
{
	rq_add(a, s, strlen(s));
}

void rq_num(struct rq_args *a, uint64_t n)
{
	size_t at = a->nums.len;
	buf_printf(&a->nums, "%llu", (unsigned long long)n);
	size_t len = a->nums.len - at;
	buf_putc(&a->nums, '\0');
	rq_add(a, NULL, len);
	a->num_at[a->n - 1] = at + 1;
}

void rq_free(struct rq_args *a)
{
	free(a->v);
	free(a->len);
	free(a->num_at);
	buf_free(&a->nums);
	memset(a, 0, sizeof(*a));
}

struct request {
	struct cluster_host *h;
	reply_fn *fn;
	void *priv;
};

static void request_cb(redisAsyncContext *c, void *reply, void *privdata)
{
	(void)c;
	struct request *q = privdata;
	struct cluster_host *h = q->h;
	if (h->outstanding && --h->outstanding == 0)
		h->waiting_since_ns = 0;
	else if (h->outstanding)
		h->waiting_since_ns = now_ns();
	if (q->fn)
		q->fn(h, reply, q->priv);
	free(q);
}

int rq_send(struct cluster_host *h, struct rq_args *a, reply_fn *fn, void *priv)
{
	if (!h->ac)
		return -ENOTCONN;
	for (size_t i = 0; i < a->n; i++)
		if (a->num_at[i])
			a->v[i] = a->nums.data + a->num_at[i] - 1;
	struct request *q = xmalloc(sizeof(*q));
	*q = (struct request){.h = h, .fn = fn, .priv = priv};
	if (redisAsyncCommandArgv(h->ac, request_cb, q, (int)a->n, a->v, a->len) != REDIS_OK) {
		free(q);
		return -ENOTCONN;
	}
	if (h->outstanding++ == 0)
		h->waiting_since_ns = now_ns();
	return 0;
}

/* EVAL script over the batch's keys (nkeys of them) and args. */
void rq_eval(struct rq_args *a, const char *script, int nkeys)
{
	rq_str(a, "EVAL");
	rq_str(a, script);
	rq_num(a, (uint64_t)nkeys);
}

bool rq_is(const redisReply *r, int type)
{
	return r && r->type == type;
}

/* --- the end, and what stops the host --- */

/* Something that means this host must not go on (the batch was made again under it): said,
 * kept for the summary (exit 255), and the batch terminated. */
void host_fail(struct cluster_host *h, const char *fmt, ...)
{
	if (h->fatal[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->fatal, sizeof(h->fatal), fmt, ap);
	va_end(ap);
	host_say(h, true, "%s", h->fatal);
	if (h->view)
		view_stop(h->view, VIEW_STOP_TERMINATE, NULL);
}

static void check_ended(struct cluster_host *h)
{
	if (h->ended || !h->complete || h->done + h->failed < h->total)
		return;
	h->ended = true;
	if (h->feed.batch)
		batch_feed_wake(h->feed.batch);
}

/* --- the feed --- */

static int feed_next(void *data, const char **item, size_t *len, uint64_t *seq)
{
	struct cluster_host *h = data;
	free(h->given);
	h->given = NULL;
	if (h->fatal[0] || h->closing)
		return -ENODATA;
	long idx = held_pop(h);
	if (idx < 0) {
		if (h->ended)
			return -ENODATA;
		host_fetch(h);
		return 0;
	}
	struct held *e = &h->held[idx];
	e->queued = false;
	h->given = e->item;
	e->item = NULL;
	*item = h->given ? h->given : "";
	*len = e->len;
	*seq = e->seq;
	host_fetch(h);
	return 1;
}

static void feed_summary(void *data, struct view_summary *s)
{
	struct cluster_host *h = data;
	/* The whole batch's counts: the exit status is the batch's, as GNU parallel's. A host
	 * that leaves before the end counts the items without a result yet as not run. The
	 * failures by exit code are this host's: none shown when the batch has none (the items
	 * a terminate stopped here were given back, not recorded). */
	s->done = h->done;
	s->failed = h->failed;
	if (!h->failed) {
		s->ncodes = 0;
		s->other_codes = 0;
	}
	s->not_run =
		h->ended || h->total < h->done + h->failed ? 0 : h->total - h->done - h->failed;
	if (h->fatal[0])
		snprintf(s->fatal, sizeof(s->fatal), "%s", h->fatal);
}

/* --- the batch's counts --- */

static void meta_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	h->meta_asked = false;
	if (!rq_is(r, REDIS_REPLY_ARRAY) || r->elements != 5)
		return;
	const redisReply *ep = r->element[0];
	if (!rq_is(ep, REDIS_REPLY_STRING) || strcmp(ep->str, h->epoch)) {
		host_fail(h,
			  "--redis: batch %s is gone or was made again under this host: stopping",
			  h->cfg->batch);
		return;
	}
	uint64_t v[4] = {0};
	for (int i = 0; i < 4; i++)
		if (rq_is(r->element[i + 1], REDIS_REPLY_STRING))
			v[i] = strtoull(r->element[i + 1]->str, NULL, 10);
	h->complete = v[0] == 1;
	h->total = v[1];
	h->done = v[2];
	h->failed = v[3];
	check_ended(h);
}

static void ask_meta(struct cluster_host *h)
{
	if (h->meta_asked || !h->connected)
		return;
	struct rq_args a = {0};
	rq_str(&a, "HMGET");
	rq_str(&a, h->k_meta);
	rq_str(&a, "epoch");
	rq_str(&a, "complete");
	rq_str(&a, "total");
	rq_str(&a, "done");
	rq_str(&a, "failed");
	if (rq_send(h, &a, meta_reply, NULL) == 0)
		h->meta_asked = true;
	rq_free(&a);
}

/* --- the connection --- */

uint64_t host_watchdog_ms(const struct cluster_host *h)
{
	return MAX(h->lease_ms, WATCHDOG_MIN_MS);
}

/* After an outage every entry looks idle (its idle time counts from its last delivery), and a
 * host may notice the outage only when its watchdog fires (a dropped connection is not always
 * seen at once), then take up to RECONNECT_MAX_MS to connect again before it renews: nothing is
 * reclaimed until every live host has had the time to renew its items. */
uint64_t host_settle_ms(const struct cluster_host *h)
{
	return h->lease_ms + host_watchdog_ms(h) + RECONNECT_MAX_MS;
}

static void connect_now(struct cluster_host *h);
static void close_tick(struct cluster_host *h);

/* Free the connection now: its pending callbacks run at once, with no reply, and its
 * disconnect callback is not ours any more. */
static void forget_connection(struct cluster_host *h)
{
	redisAsyncContext *ac = h->ac;
	if (!ac)
		return;
	h->ac = NULL;
	ac->data = NULL;
	redisAsyncFree(ac);
	h->outstanding = 0;
	h->waiting_since_ns = 0;
}

static void drop_connection(struct cluster_host *h, const char *why)
{
	if (!h->down_since_ns) {
		h->down_since_ns = now_ns();
		if (why)
			host_say(h, true, "Redis: %s: connecting again", why);
	}
	h->connected = false;
	h->refused = false;
	h->backoff_ms = h->backoff_ms ? MIN(2 * h->backoff_ms, RECONNECT_MAX_MS) : 100;
	h->reconnect_at_ns = now_ns() + h->backoff_ms * NS_PER_MS;
}

static void disconnect_cb(const redisAsyncContext *c, int status)
{
	struct cluster_host *h = c->data;
	if (!h || h->ac != c)
		return;
	h->ac = NULL;
	h->outstanding = 0;
	h->waiting_since_ns = 0;
	if (h->closing)
		close_tick(h);
	else
		drop_connection(h, status == REDIS_OK ? "connection closed" : c->errstr);
}

static void ready_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	if (!r)
		return;
	if (rq_is(r, REDIS_REPLY_ERROR)) {
		/* AUTH or SELECT refused: connect again later (the tick drops this one). */
		if (!h->refused)
			host_say(h, true, "Redis: %s: connecting again", r->str);
		h->refused = true;
		return;
	}
	if (h->connected || h->refused)
		return; /* SELECT after AUTH, or after a refusal */
	h->again = h->down_since_ns != 0;
	h->connected = true;
	h->backoff_ms = 0;
	if (h->again) {
		double s = (double)(now_ns() - h->down_since_ns) / 1e9;
		h->down_since_ns = 0;
		host_say(h, false,
			 "Redis: connected again after %.1f s: leases renewed first, nothing "
			 "reclaimed for %.1f s (every host renews first)",
			 s, (double)host_settle_ms(h) / 1000.0);
	}
	/* Before anything else: what this host holds renewed, then what Redis says it holds
	 * taken back (a fetch whose answer was lost, a host of this name before a crash). */
	h->renew_first = true;
	host_renew(h, true);
}

static void connect_cb(const redisAsyncContext *c, int status)
{
	struct cluster_host *h = c->data;
	if (status != REDIS_OK && h && h->ac == c) {
		/* hiredis frees the context after this. */
		h->ac = NULL;
		h->outstanding = 0;
		h->waiting_since_ns = 0;
		drop_connection(h, c->errstr);
	}
}

static void connect_now(struct cluster_host *h)
{
	redisAsyncContext *ac = h->url.path[0] ? redisAsyncConnectUnix(h->url.path)
					       : redisAsyncConnect(h->url.host, h->url.port);
	if (!ac || ac->err) {
		char why[160];
		snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		drop_connection(h, why);
		return;
	}
	ac->data = h;
	if (redisLibuvAttach(ac, h->loop) != REDIS_OK) {
		redisAsyncFree(ac);
		drop_connection(h, "cannot watch the connection");
		return;
	}
	redisAsyncSetConnectCallback(ac, connect_cb);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
	h->ac = ac;
	struct rq_args a = {0};
	if (h->url.password[0]) {
		rq_str(&a, "AUTH");
		if (h->url.user[0])
			rq_str(&a, h->url.user);
		rq_str(&a, h->url.password);
		rq_send(h, &a, ready_reply, NULL);
		rq_free(&a);
	}
	rq_str(&a, "SELECT");
	rq_num(&a, (uint64_t)h->url.db);
	rq_send(h, &a, ready_reply, NULL);
	rq_free(&a);
}

/* --- the tick --- */

static void finish_close(struct cluster_host *h);

static void tick_cb(uv_timer_t *t)
{
	struct cluster_host *h = t->data;
	uint64_t now = now_ns();
	if (h->ac && h->waiting_since_ns &&
	    now - h->waiting_since_ns > host_watchdog_ms(h) * NS_PER_MS) {
		forget_connection(h);
		drop_connection(h, "no answer");
	}
	if (h->ac && h->refused) {
		forget_connection(h);
		drop_connection(h, NULL);
	}
	if (!h->ac && !h->closing && now >= h->reconnect_at_ns)
		connect_now(h);
	if (h->closing) {
		bool flushed = !h->pending.n && !h->sending.n;
		if (h->disconnecting) {
			/* The disconnect's callback closes the tick; past the deadline, the
			 * connection is dropped here. */
			if (now >= h->close_deadline_ns)
				close_tick(h);
		} else if ((flushed && !h->outstanding) || !h->ac || now >= h->close_deadline_ns) {
			finish_close(h);
		} else {
			host_commit_send(h);
		}
		return;
	}
	if (!h->connected)
		return;
	if (now >= h->renew_at_ns) {
		h->renew_at_ns = now + h->lease_ms / 3 * NS_PER_MS;
		host_renew(h, false);
	}
	if (now >= h->heartbeat_at_ns) {
		h->heartbeat_at_ns = now + HEARTBEAT_MS * NS_PER_MS;
		host_heartbeat(h);
	}
	if (now >= h->view_at_ns) {
		h->view_at_ns = now + VIEW_MS * NS_PER_MS;
		host_publish_view(h);
		host_take_requests(h);
		host_ask_views(h);
	}
	if (now >= h->trim_at_ns) {
		h->trim_at_ns = now + TRIM_MS * NS_PER_MS;
		struct rq_args a = {0};
		rq_eval(&a, cluster_lua_trim, 1);
		rq_str(&a, h->k_items);
		rq_send(h, &a, NULL, NULL);
		rq_free(&a);
	}
	if (now >= h->meta_at_ns) {
		h->meta_at_ns = now + META_MS * NS_PER_MS;
		ask_meta(h);
	}
	host_update_rate(h, now);
	host_commit_send(h);
	/* Items idle past the lease first (they have waited longest: their host died or
	 * stalls), then new ones. */
	host_reclaim(h, now);
	host_fetch(h);
}

/* --- the start and the end --- */

struct batch_feed *cluster_host_feed(struct cluster_host *h)
{
	return &h->feed;
}

void cluster_host_start(struct cluster_host *h, struct view *v,
			unsigned (*local_rows)(struct view *v, struct view_totals *t,
					       struct view_row *rows, unsigned max))
{
	h->view = v;
	h->local_rows = local_rows;
	if (h->warning[0])
		host_say(h, true, "%s", h->warning);
	if (h->notice[0])
		host_say(h, false, "%s", h->notice);
	host_say(h, false, "host %s of batch %s at %s (lease %llu ms)", h->name, h->cfg->batch,
		 h->urltext, (unsigned long long)h->lease_ms);
	uv_timer_init(h->loop, &h->tick);
	h->tick.data = h;
	h->tick_open = true;
	uv_timer_start(&h->tick, tick_cb, 0, TICK_MS);
	connect_now(h);
}

static void tick_closed_cb(uv_handle_t *handle)
{
	struct cluster_host *h = handle->data;
	h->tick_open = false;
	if (h->closed)
		h->closed(h->closed_data);
}

/* The end of the close: the connection dropped if it is still there (its callbacks run now,
 * with no reply), then the tick closed. */
static void close_tick(struct cluster_host *h)
{
	forget_connection(h);
	if (h->tick_open && !uv_is_closing((uv_handle_t *)&h->tick))
		uv_close((uv_handle_t *)&h->tick, tick_closed_cb);
}

/* Results committed (or the deadline passed): items not started given back, the host leaves
 * the batch, and the connection closes once the server has answered everything sent. */
static void finish_close(struct cluster_host *h)
{
	if (!h->ac) {
		close_tick(h);
		return;
	}
	host_give_back(h);
	struct rq_args a = {0};
	rq_eval(&a, cluster_lua_trim, 1);
	rq_str(&a, h->k_items);
	rq_send(h, &a, NULL, NULL);
	rq_free(&a);
	rq_str(&a, "DEL");
	rq_str(&a, h->k_live);
	rq_str(&a, h->k_view);
	rq_send(h, &a, NULL, NULL);
	rq_free(&a);
	h->disconnecting = true;
	h->close_deadline_ns = now_ns() + NS_PER_S;
	redisAsyncDisconnect(h->ac);
}

void cluster_host_close(struct cluster_host *h, void (*closed)(void *data), void *data)
{
	h->closed = closed;
	h->closed_data = data;
	h->closing = true;
	h->close_deadline_ns = now_ns() + CLOSE_FLUSH_MS * NS_PER_MS;
	if (!h->tick_open) {
		if (closed)
			closed(data);
		return;
	}
	uv_timer_start(&h->tick, tick_cb, 0, TICK_MS);
}

void cluster_host_free(struct cluster_host *h)
{
	if (!h)
		return;
	forget_connection(h);
	for (size_t i = 0; i < h->nheld; i++)
		free(h->held[i].item);
	struct commits *cs[] = {&h->pending, &h->sending};
	for (size_t k = 0; k < ARRAY_SIZE(cs); k++) {
		for (size_t i = 0; i < cs[k]->n; i++)
			free(cs[k]->v[i].record);
		free(cs[k]->v);
	}
	free(h->held);
	free(h->freelist);
	free(h->table);
	free(h->queue);
	free(h->given);
	free(h->rows);
	free(h->rmap);
	host_remote_free(h);
	free(h->kind);
	free(h);
}

/* --- joining (blocking, before the loop) --- */

/* Warn when Redis would lose the batch in a restart: no append-only file and no snapshots. */
static void check_persistence(struct cluster_host *h, redisContext *c)
{
	redisReply *r = redisCommand(c, "CONFIG GET appendonly");
	redisReply *s = redisCommand(c, "CONFIG GET save");
	bool aof = false, save = false, known = false;
	if (rq_is(r, REDIS_REPLY_ARRAY) && r->elements == 2 && rq_is(s, REDIS_REPLY_ARRAY) &&
	    s->elements == 2) {
		known = true;
		aof = !strcmp(r->element[1]->str, "yes");
		save = s->element[1]->len > 0;
	}
	if (!known)
		snprintf(h->warning, sizeof(h->warning),
			 "--redis: cannot tell whether Redis persists the batch (CONFIG GET is "
			 "refused): a restart may lose it");
	else if (!aof && !save)
		snprintf(h->warning, sizeof(h->warning),
			 "--redis: Redis persists nothing (appendonly no, no save): a restart of "
			 "Redis loses the batch");
	freeReplyObject(r);
	freeReplyObject(s);
}

static void default_name(char *out, size_t n)
{
	char host[256] = "host";
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	/* Only the name's allowed bytes, cut so the pid fits. */
	for (char *p = host; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
			    *p))
			*p = '-';
	char pid[24];
	int pl = snprintf(pid, sizeof(pid), "-%d", (int)getpid());
	snprintf(out, n, "%.*s%s", (int)(CLUSTER_NAME_MAX - (size_t)pl), host, pid);
}

static int join(struct cluster_host *h, redisContext *c, char *err, size_t errlen)
{
	char k_hosts[CLUSTER_KEY_MAX];
	cluster_key(k_hosts, h->cfg->batch, "hosts");
	char ttl[24], lease[24], retries[24];
	snprintf(ttl, sizeof(ttl), "%d", LIVE_TTL_MS);
	snprintf(lease, sizeof(lease), "%llu", (unsigned long long)h->lease_ms);
	snprintf(retries, sizeof(retries), "%u", h->retries);
	const char *argv[] = {h->k_meta, k_hosts, h->k_live, h->kind, h->name,
			      h->desc,	 ttl,	  lease,     retries};
	size_t lens[ARRAY_SIZE(argv)];
	for (size_t i = 0; i < ARRAY_SIZE(argv); i++)
		lens[i] = strlen(argv[i]);
	redisReply *r =
		rconn_eval(c, cluster_lua_join, 3, (int)ARRAY_SIZE(argv), argv, lens, err, errlen);
	if (!r)
		return -EIO;
	int rc = 0;
	if (rq_is(r, REDIS_REPLY_ERROR)) {
		rc = -EINVAL;
		/* Redis 7 puts "ERR " before an error_reply's single word. */
		const char *e = strncmp(r->str, "ERR ", 4) ? r->str : r->str + 4;
		if (!strcmp(e, "NOBATCH"))
			snprintf(err, errlen,
				 "--redis: no batch %s at %s (pooltop submit makes it)",
				 h->cfg->batch, h->urltext);
		else if (!strncmp(e, "KIND ", 5))
			snprintf(err, errlen, "--redis: batch %s runs '%s', not '%s'",
				 h->cfg->batch, e + 5, h->kind);
		else if (!strncmp(e, "LIVE", 4))
			snprintf(
				err, errlen,
				"--host: %s is a live host of batch %s already (if it is gone, the "
				"name is free in %.1f s)",
				h->name, h->cfg->batch, strtod(e + 4, NULL) / 1000.0);
		else
			snprintf(err, errlen, "--redis: joining batch %s: %s", h->cfg->batch,
				 r->str);
	} else if (rq_is(r, REDIS_REPLY_ARRAY) && r->elements == 4 &&
		   rq_is(r->element[0], REDIS_REPLY_STRING)) {
		snprintf(h->epoch, sizeof(h->epoch), "%s", r->element[0]->str);
		/* The batch's lease and retries are its first host's. */
		uint64_t l = rq_is(r->element[2], REDIS_REPLY_INTEGER)
				     ? (uint64_t)r->element[2]->integer
				     : h->lease_ms;
		unsigned rt = rq_is(r->element[3], REDIS_REPLY_INTEGER)
				      ? (unsigned)r->element[3]->integer
				      : h->retries;
		if (l != h->lease_ms || rt != h->retries)
			snprintf(h->notice, sizeof(h->notice),
				 "batch %s has a lease of %llu ms and --retries %u (its first "
				 "host's): this host uses them",
				 h->cfg->batch, (unsigned long long)l, rt);
		h->lease_ms = l ? l : h->lease_ms;
		h->retries = rt;
	} else {
		rc = -EPROTO;
		snprintf(err, errlen, "--redis: joining batch %s: an unexpected answer",
			 h->cfg->batch);
	}
	freeReplyObject(r);
	return rc;
}

int cluster_host_new(uv_loop_t *loop, const struct config *cfg, const char *kind, unsigned jobs,
		     struct cluster_host **out, char *err, size_t errlen)
{
	struct cluster_host *h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	h->cfg = cfg;
	h->jobs = jobs;
	h->retries = cfg->retries;
	h->lease_ms = cfg->lease_ns / NS_PER_MS;
	h->kind = xstrdup(kind);
	h->rows = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*h->rows));
	h->feed = (struct batch_feed){
		.next = feed_next,
		.result = host_feed_result,
		.summary = feed_summary,
		.data = h,
	};
	int rc = redis_url_parse(cfg->redis, getenv("REDISCLI_AUTH"), "--redis", &h->url, err,
				 errlen);
	if (rc < 0)
		goto fail;
	redis_url_display(&h->url, h->urltext, sizeof(h->urltext));
	if (cfg->host)
		snprintf(h->name, sizeof(h->name), "%s", cfg->host);
	else
		default_name(h->name, sizeof(h->name));
	cluster_key(h->k_meta, cfg->batch, "meta");
	cluster_key(h->k_items, cfg->batch, "items");
	cluster_key(h->k_res, cfg->batch, "res");
	char part[CLUSTER_KEY_MAX];
	snprintf(part, sizeof(part), "live:%s", h->name);
	cluster_key(h->k_live, cfg->batch, part);
	snprintf(part, sizeof(part), "view:%s", h->name);
	cluster_key(h->k_view, cfg->batch, part);
	snprintf(part, sizeof(part), "ctl:%s", h->name);
	cluster_key(h->k_ctl, cfg->batch, part);
	snprintf(h->desc, sizeof(h->desc), "{\"pid\":%d,\"jobs\":%u,\"started\":%.3f}",
		 (int)getpid(), jobs, wall_s());

	redisContext *c = rconn_open(&h->url, 5000, err, errlen);
	if (!c) {
		rc = -EIO;
		goto fail;
	}
	/* Items given to a host are submitted first (the input closed unless --more). */
	if ((cfg->items || cfg->arg_file) &&
	    (rc = cluster_submit_items(c, cfg, h->urltext, err, errlen)) < 0) {
		redisFree(c);
		goto fail;
	}
	check_persistence(h, c);
	rc = join(h, c, err, errlen);
	redisFree(c);
	if (rc < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	cluster_host_free(h);
	return rc;
}
