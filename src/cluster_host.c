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
 * A host with room and nothing new reclaims items idle past the lease from other consumers;
 * an item delivered more than --retries + 1 times is recorded failed (poison) instead.
 * hiredis 0.14 has no timeouts: a request unanswered for WATCHDOG drops the connection; it is
 * made again (backoff to 1 s), then everything held is renewed before anything else, and
 * nothing is reclaimed for one lease (after an outage every entry looks idle).
 * The batch is over for this host when the input is complete and every item has a recorded
 * result: the feed then ends, the pool finishes what it runs, and the view closes the host. */
#include "cluster_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "batch.h"
#include "cli.h"
#include "cluster_lua.h"
#include "cluster_rows.h"
#include "cluster_cmd.h"
#include "proto.h"
#include "rconn.h"
#include "redis_url.h"
#include "results.h"
#include "util.h"
#include "view.h"

#define TICK_MS		 20
#define HEARTBEAT_MS	 1000
#define LIVE_TTL_MS	 5000
#define VIEW_MS		 500
#define VIEW_TTL_MS	 3000
#define META_MS		 200
#define TRIM_MS		 2000
#define HOLD_MAX	 256
#define HOLD_AHEAD_MS	 200
#define COMMIT_MAX	 512  /* results to a commit request */
#define RENEW_MAX	 1000 /* ids to a renew request */
#define RECLAIM_MAX	 64
#define CLOSE_FLUSH_MS	 3000
#define RECONNECT_MAX_MS 1000
#define CTL_MAX		 16

/* An item this host holds. */
struct held {
	uint64_t seq;
	char id[48];	     /* its stream entry */
	unsigned deliveries; /* with this one */
	bool used;
	bool queued;	 /* fetched, not given to the batch yet */
	bool lost;	 /* its lease was taken: its result is not recorded here */
	bool committing; /* its result is to be committed */
	char *item;	 /* while queued */
	size_t len;
};

/* A result to commit. */
struct commit {
	uint32_t idx; /* its held item */
	bool failed;
	char *record;
	size_t len;
};

struct commits {
	struct commit *v;
	size_t n, cap;
};

struct cluster_host {
	uv_loop_t *loop;
	const struct config *cfg;
	struct redis_url url;
	char urltext[300];
	char name[CLUSTER_NAME_MAX + 1];
	char k_meta[CLUSTER_KEY_MAX], k_items[CLUSTER_KEY_MAX], k_res[CLUSTER_KEY_MAX],
		k_live[CLUSTER_KEY_MAX], k_view[CLUSTER_KEY_MAX], k_ctl[CLUSTER_KEY_MAX];
	char epoch[48];
	char *kind;
	char desc[300]; /* the host's description (JSON) */
	uint64_t lease_ms;
	unsigned retries;
	unsigned jobs;
	char warning[200]; /* said at the start: Redis persists nothing */
	char notice[200];  /* said at the start: the batch's lease is not --lease */

	struct batch_feed feed;
	struct view *view;
	unsigned (*local_rows)(struct view *v, struct view_totals *t, struct view_row *rows,
			       unsigned max);
	struct view_row *rows;
	/* the other hosts' workers, for this host's dashboard */
	char **remote;
	size_t *remote_len;
	unsigned nremote;
	bool remote_asked;
	struct cluster_slot *rmap; /* what each remote row was, as last merged */
	unsigned nrmap;

	/* the connection */
	redisAsyncContext *ac;
	bool connected;	  /* AUTH and SELECT answered */
	bool renew_first; /* connected: renew and adopt before anything else */
	bool again;	  /* ...after the connection was lost */
	bool refused;	  /* AUTH or SELECT was refused: the tick connects again */
	unsigned outstanding;
	uint64_t waiting_since_ns; /* the oldest unanswered request, 0 when none */
	uint64_t reconnect_at_ns;
	unsigned backoff_ms;
	uint64_t down_since_ns;
	uv_timer_t tick;
	bool tick_open;

	/* the items held */
	struct held *held;
	size_t nheld, held_cap;
	uint32_t *freelist;
	size_t nfree;
	uint32_t *table; /* seq -> idx + 1, open addressing; 0 empty */
	size_t table_cap;
	uint32_t *queue; /* held indices, FIFO */
	size_t q_head, q_len, q_cap;
	char *given; /* the item the batch was handed last, freed at the next */
	size_t live_items;
	uint64_t results; /* since rate_at_ns */
	uint64_t rate_at_ns;
	double rate; /* results a second */

	/* requests in flight */
	bool fetching, renewing, reclaiming, meta_asked, ctl_asked;
	struct commits pending, sending;
	uint64_t renew_at_ns, heartbeat_at_ns, view_at_ns, meta_at_ns, reclaim_not_before_ns;
	uint64_t reclaim_at_ns, trim_at_ns;
	bool commit_refused; /* the last commit got an error: said once, sent again later */
	uint64_t commit_retry_at_ns;
	bool starving; /* the last fetch found nothing new */

	/* the batch as Redis counts it */
	uint64_t total, done, failed;
	bool complete;
	bool ended; /* complete and every result recorded */
	uint64_t fenced, dups, poisoned;
	char fatal[200];

	bool closing, disconnecting;
	uint64_t close_deadline_ns;
	void (*closed)(void *data);
	void *closed_data;
};

static void host_say(struct cluster_host *h, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void host_say(struct cluster_host *h, bool error, const char *fmt, ...)
{
	char line[240];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (h->feed.batch)
		batch_feed_notice(h->feed.batch, error, "%s", line);
}

/* --- the items held: a slab, a table by seq, a queue --- */

static size_t seq_hash(uint64_t seq, size_t cap)
{
	return (size_t)((seq * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

static void table_put(struct cluster_host *h, uint64_t seq, uint32_t idx)
{
	size_t i = seq_hash(seq, h->table_cap);
	while (h->table[i])
		i = (i + 1) & (h->table_cap - 1);
	h->table[i] = idx + 1;
}

static void table_grow(struct cluster_host *h)
{
	uint32_t *old = h->table;
	size_t oldcap = h->table_cap;
	h->table_cap = oldcap ? 2 * oldcap : 256;
	h->table = xcalloc(h->table_cap, sizeof(*h->table));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			table_put(h, h->held[old[i] - 1].seq, old[i] - 1);
	free(old);
}

static long table_find(const struct cluster_host *h, uint64_t seq)
{
	if (!h->table_cap)
		return -1;
	for (size_t i = seq_hash(seq, h->table_cap); h->table[i]; i = (i + 1) & (h->table_cap - 1))
		if (h->held[h->table[i] - 1].seq == seq)
			return (long)h->table[i] - 1;
	return -1;
}

/* Remove seq: the entries after it in its run move back (no tombstones). */
static void table_del(struct cluster_host *h, uint64_t seq)
{
	size_t mask = h->table_cap - 1, i = seq_hash(seq, h->table_cap);
	while (h->table[i] && h->held[h->table[i] - 1].seq != seq)
		i = (i + 1) & mask;
	if (!h->table[i])
		return;
	h->table[i] = 0;
	for (size_t j = (i + 1) & mask; h->table[j]; j = (j + 1) & mask) {
		uint32_t v = h->table[j];
		h->table[j] = 0;
		table_put(h, h->held[v - 1].seq, v - 1);
	}
}

static uint32_t held_add(struct cluster_host *h, uint64_t seq, const char *id, size_t idlen,
			 unsigned deliveries)
{
	uint32_t idx;
	if (h->nfree) {
		idx = h->freelist[--h->nfree];
	} else {
		if (h->nheld == h->held_cap) {
			h->held_cap = h->held_cap ? 2 * h->held_cap : 64;
			h->held = xrealloc(h->held, h->held_cap * sizeof(*h->held));
			h->freelist = xrealloc(h->freelist, h->held_cap * sizeof(*h->freelist));
		}
		idx = (uint32_t)h->nheld++;
	}
	struct held *e = &h->held[idx];
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->seq = seq;
	snprintf(e->id, sizeof(e->id), "%.*s", (int)idlen, id);
	e->deliveries = deliveries;
	if (2 * (h->live_items + 1) > h->table_cap)
		table_grow(h);
	table_put(h, seq, idx);
	h->live_items++;
	return idx;
}

static void held_drop(struct cluster_host *h, uint32_t idx)
{
	struct held *e = &h->held[idx];
	if (!e->used)
		return;
	table_del(h, e->seq);
	free(e->item);
	e->item = NULL;
	e->used = false;
	h->freelist[h->nfree++] = idx;
	h->live_items--;
}

static void queue_push(struct cluster_host *h, uint32_t idx)
{
	if (h->q_len == h->q_cap) {
		size_t cap = h->q_cap ? 2 * h->q_cap : 64;
		uint32_t *q = xmalloc(cap * sizeof(*q));
		for (size_t i = 0; i < h->q_len; i++)
			q[i] = h->queue[(h->q_head + i) % h->q_cap];
		free(h->queue);
		h->queue = q;
		h->q_cap = cap;
		h->q_head = 0;
	}
	h->queue[(h->q_head + h->q_len++) % h->q_cap] = idx;
	h->held[idx].queued = true;
}

static long queue_pop(struct cluster_host *h)
{
	while (h->q_len) {
		uint32_t idx = h->queue[h->q_head];
		h->q_head = (h->q_head + 1) % h->q_cap;
		h->q_len--;
		struct held *e = &h->held[idx];
		if (!e->used || !e->queued)
			continue;
		/* Its lease was taken while it waited: not run here. */
		if (e->lost) {
			held_drop(h, idx);
			continue;
		}
		return idx;
	}
	return -1;
}

/* How many items the host holds at most (queued, running, being committed): what its workers
 * finish in HOLD_AHEAD_MS at the rate they go, two per worker at the least, HOLD_MAX (or four
 * per worker) at most. Trivial items then go hundreds to a fetch, while slow ones are not
 * hoarded from the other hosts (the pool would take every item it is given into its queue). */
static size_t hold_target(const struct cluster_host *h)
{
	size_t lo = 2 * (size_t)h->jobs, hi = MAX((size_t)HOLD_MAX, 4 * (size_t)h->jobs);
	size_t want = (size_t)(h->rate * HOLD_AHEAD_MS / 1000.0);
	return MIN(MAX(want, lo), hi);
}

/* The results per second, smoothed over a few ticks. */
static void update_rate(struct cluster_host *h, uint64_t now)
{
	if (!h->rate_at_ns) {
		h->rate_at_ns = now;
		return;
	}
	uint64_t dt = now - h->rate_at_ns;
	if (dt < 100 * NS_PER_MS)
		return;
	double r = (double)h->results * 1e9 / (double)dt;
	h->rate = h->rate ? 0.5 * h->rate + 0.5 * r : r;
	h->results = 0;
	h->rate_at_ns = now;
}

/* --- requests --- */

struct argv {
	const char **v;
	size_t *len;
	size_t n, cap;
	struct buf nums; /* numbers formatted, NUL-separated; v points into it (fixed below) */
	size_t *num_at;	 /* for each arg: offset into nums + 1, or 0 */
};

static void argv_add(struct argv *a, const char *s, size_t len)
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

static void argv_str(struct argv *a, const char *s)
{
	argv_add(a, s, strlen(s));
}

static void argv_num(struct argv *a, uint64_t n)
{
	size_t at = a->nums.len;
	buf_printf(&a->nums, "%llu", (unsigned long long)n);
	size_t len = a->nums.len - at;
	buf_putc(&a->nums, '\0');
	argv_add(a, NULL, len);
	a->num_at[a->n - 1] = at + 1;
}

static void argv_free(struct argv *a)
{
	free(a->v);
	free(a->len);
	free(a->num_at);
	buf_free(&a->nums);
	memset(a, 0, sizeof(*a));
}

/* Send a; cb(h, reply, priv) gets its reply, or NULL when the connection went. Returns 0, or
 * -ENOTCONN. */
typedef void reply_fn(struct cluster_host *h, redisReply *r, void *priv);

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

static int send_argv(struct cluster_host *h, struct argv *a, reply_fn *fn, void *priv)
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
static void argv_eval(struct argv *a, const char *script, int nkeys)
{
	argv_str(a, "EVAL");
	argv_str(a, script);
	argv_num(a, (uint64_t)nkeys);
}

static bool reply_is(const redisReply *r, int type)
{
	return r && r->type == type;
}

/* --- the end, and what stops the host --- */

static void host_fail(struct cluster_host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Something that means this host must not go on (the batch was made again under it): said,
 * kept for the summary (exit 255), and the batch terminated. */
static void host_fail(struct cluster_host *h, const char *fmt, ...)
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

/* --- fetching --- */

static const redisReply *field(const redisReply *fields, const char *name)
{
	if (!reply_is(fields, REDIS_REPLY_ARRAY))
		return NULL;
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i];
		if (k->type == REDIS_REPLY_STRING && k->len == strlen(name) &&
		    !memcmp(k->str, name, k->len))
			return fields->element[i + 1];
	}
	return NULL;
}

static void commit_poison(struct cluster_host *h, uint32_t idx, const char *item, size_t len);

/* One entry of the stream taken by this host (fetched or reclaimed). */
static void take_entry(struct cluster_host *h, const redisReply *id, const redisReply *fields,
		       unsigned deliveries)
{
	const redisReply *s = field(fields, "s"), *it = field(fields, "i");
	if (!reply_is(id, REDIS_REPLY_STRING) || !reply_is(s, REDIS_REPLY_STRING) ||
	    !reply_is(it, REDIS_REPLY_STRING))
		return;
	uint64_t seq = strtoull(s->str, NULL, 10);
	if (!seq || table_find(h, seq) >= 0)
		return;
	uint32_t idx = held_add(h, seq, id->str, id->len, deliveries);
	if (deliveries > h->retries + 1) {
		commit_poison(h, idx, it->str, it->len);
		return;
	}
	struct held *e = &h->held[idx];
	e->item = xmemdup(it->str, it->len);
	e->len = it->len;
	queue_push(h, idx);
}

static void fetch_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	h->fetching = false;
	if (!r)
		return;
	size_t got = 0;
	/* [[key, [[id, [field, value...]]...]]], or nil when nothing is new. */
	if (reply_is(r, REDIS_REPLY_ARRAY) && r->elements == 1 &&
	    reply_is(r->element[0], REDIS_REPLY_ARRAY) && r->element[0]->elements == 2) {
		const redisReply *entries = r->element[0]->element[1];
		for (size_t i = 0; reply_is(entries, REDIS_REPLY_ARRAY) && i < entries->elements;
		     i++) {
			const redisReply *e = entries->element[i];
			if (reply_is(e, REDIS_REPLY_ARRAY) && e->elements == 2) {
				take_entry(h, e->element[0], e->element[1], 1);
				got++;
			}
		}
	} else if (reply_is(r, REDIS_REPLY_ERROR)) {
		host_say(h, true, "Redis: fetching items: %s", r->str);
	}
	h->starving = got == 0;
	if (got && h->feed.batch)
		batch_feed_wake(h->feed.batch);
}

static void fetch(struct cluster_host *h)
{
	if (h->fetching || !h->connected || h->renew_first || h->closing || h->ended || h->fatal[0])
		return;
	size_t target = hold_target(h);
	if (h->live_items > target / 2)
		return;
	struct argv a = {0};
	argv_str(&a, "XREADGROUP");
	argv_str(&a, "GROUP");
	argv_str(&a, CLUSTER_GROUP);
	argv_str(&a, h->name);
	argv_str(&a, "COUNT");
	argv_num(&a, target - h->live_items);
	argv_str(&a, "STREAMS");
	argv_str(&a, h->k_items);
	argv_str(&a, ">");
	if (send_argv(h, &a, fetch_reply, NULL) == 0)
		h->fetching = true;
	argv_free(&a);
}

/* Items idle past the lease, held by others: taken, or failed as poison. */
static void reclaim_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	h->reclaiming = false;
	if (!reply_is(r, REDIS_REPLY_ARRAY))
		return;
	size_t got = 0;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		if (!reply_is(e, REDIS_REPLY_ARRAY) || e->elements != 3 ||
		    !reply_is(e->element[2], REDIS_REPLY_INTEGER))
			continue;
		take_entry(h, e->element[0], e->element[1], (unsigned)e->element[2]->integer);
		got++;
	}
	if (got) {
		host_say(h, false, "took %zu item%s whose host stopped renewing its lease", got,
			 got == 1 ? "" : "s");
		if (h->feed.batch)
			batch_feed_wake(h->feed.batch);
	}
}

static void reclaim(struct cluster_host *h, uint64_t now)
{
	if (h->reclaiming || !h->connected || h->renew_first || h->closing || h->ended ||
	    h->fatal[0] || now < h->reclaim_not_before_ns || now < h->reclaim_at_ns ||
	    h->live_items > hold_target(h) / 2)
		return;
	h->reclaim_at_ns = now + MIN(h->lease_ms / 4, 500) * NS_PER_MS;
	struct argv a = {0};
	argv_eval(&a, cluster_lua_reclaim, 1);
	argv_str(&a, h->k_items);
	argv_str(&a, h->name);
	argv_num(&a, h->lease_ms);
	/* No more than it has room for: the rest is for the other hosts. */
	size_t target = hold_target(h);
	argv_num(&a, MAX((size_t)1, MIN((size_t)RECLAIM_MAX,
					target > h->live_items ? target - h->live_items : 1)));
	if (send_argv(h, &a, reclaim_reply, NULL) == 0)
		h->reclaiming = true;
	argv_free(&a);
}

/* --- renewing --- */

static void lost_lease(struct cluster_host *h, const char *id, size_t len)
{
	for (size_t i = 0; i < h->nheld; i++) {
		struct held *e = &h->held[i];
		if (!e->used || e->lost || strlen(e->id) != len || memcmp(e->id, id, len))
			continue;
		e->lost = true;
		/* A running item's result is still committed: the server fences it. */
		if (e->queued)
			host_say(h, true,
				 "item %llu: its lease was taken by another host (this one did not "
				 "renew it within --lease): not run here",
				 (unsigned long long)e->seq);
		return;
	}
}

#define RENEW_FIRST 1u
#define RENEW_LAST  2u

static void adopt(struct cluster_host *h);

static void renew_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	unsigned flags = (unsigned)(uintptr_t)priv;
	bool first = flags & RENEW_FIRST;
	if (flags & RENEW_LAST)
		h->renewing = false;
	if (!r)
		return;
	if (reply_is(r, REDIS_REPLY_ARRAY)) {
		for (size_t i = 0; i < r->elements; i++)
			if (reply_is(r->element[i], REDIS_REPLY_STRING))
				lost_lease(h, r->element[i]->str, r->element[i]->len);
	} else if (reply_is(r, REDIS_REPLY_ERROR)) {
		host_say(h, true, "Redis: renewing leases: %s", r->str);
	}
	if (first && (flags & RENEW_LAST) && h->renew_first)
		adopt(h);
}

static void adopt_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	if (!r)
		return;
	size_t got = 0;
	for (size_t i = 0; reply_is(r, REDIS_REPLY_ARRAY) && i < r->elements; i++) {
		const redisReply *e = r->element[i];
		if (!reply_is(e, REDIS_REPLY_ARRAY) || e->elements != 3 ||
		    !reply_is(e->element[2], REDIS_REPLY_INTEGER) ||
		    !reply_is(e->element[0], REDIS_REPLY_STRING))
			continue;
		size_t before = h->live_items;
		take_entry(h, e->element[0], e->element[1], (unsigned)e->element[2]->integer);
		got += h->live_items > before;
	}
	if (got)
		host_say(h, false, "took back %zu item%s Redis says this host holds", got,
			 got == 1 ? "" : "s");
	h->renew_first = false;
	/* After an outage every entry looks idle (the idle time counts from the last
	 * delivery): nothing is reclaimed until the live hosts have renewed theirs. */
	if (h->again)
		h->reclaim_not_before_ns = now_ns() + h->lease_ms * NS_PER_MS;
	if (h->feed.batch)
		batch_feed_wake(h->feed.batch);
}

static void adopt(struct cluster_host *h)
{
	struct argv a = {0};
	argv_eval(&a, cluster_lua_adopt, 1);
	argv_str(&a, h->k_items);
	argv_str(&a, h->name);
	argv_num(&a, 4 * HOLD_MAX + 4 * (uint64_t)h->jobs);
	send_argv(h, &a, adopt_reply, NULL);
	argv_free(&a);
}

/* Renew every item held, in requests of RENEW_MAX ids; first: the renew after a reconnect,
 * whose last reply lets the rest go on. */
static void renew(struct cluster_host *h, bool first)
{
	if (!h->connected || (h->renewing && !first))
		return;
	size_t i = 0;
	bool last = false;
	while (!last) {
		struct argv a = {0};
		argv_eval(&a, cluster_lua_renew, 1);
		argv_str(&a, h->k_items);
		argv_str(&a, h->name);
		size_t n = 0;
		for (; i < h->nheld && n < RENEW_MAX; i++)
			if (h->held[i].used && !h->held[i].lost) {
				argv_str(&a, h->held[i].id);
				n++;
			}
		last = i >= h->nheld;
		/* Replies come in order: the last one's ends the renew. */
		unsigned flags = (first ? RENEW_FIRST : 0) | (last ? RENEW_LAST : 0);
		if ((n || first) && send_argv(h, &a, renew_reply, (void *)(uintptr_t)flags) == 0 &&
		    last)
			h->renewing = true;
		argv_free(&a);
	}
}

/* --- committing --- */

static void commits_push(struct commits *c, struct commit x)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n++] = x;
}

static void commit_send(struct cluster_host *h);

static void commit_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	struct commits *s = &h->sending;
	if (!r || reply_is(r, REDIS_REPLY_ERROR)) {
		if (r && strstr(r->str, "EPOCH"))
			host_fail(h,
				  "--redis: batch %s was made again under this host (its epoch "
				  "changed): stopping",
				  h->cfg->batch);
		else if (r && !h->commit_refused)
			host_say(h, true, "Redis: committing results: %s (trying again)", r->str);
		if (r) {
			h->commit_refused = true;
			h->commit_retry_at_ns = now_ns() + 500 * NS_PER_MS;
		}
		/* Sent again (they are idempotent) once connected. */
		for (size_t i = 0; i < s->n; i++)
			commits_push(&h->pending, s->v[i]);
		s->n = 0;
		return;
	}
	if (h->commit_refused) {
		h->commit_refused = false;
		host_say(h, false, "Redis: results committed again");
	}
	for (size_t i = 0; i < s->n; i++) {
		struct commit *c = &s->v[i];
		struct held *e = &h->held[c->idx];
		const redisReply *x =
			reply_is(r, REDIS_REPLY_ARRAY) && i < r->elements ? r->element[i] : NULL;
		if (reply_is(x, REDIS_REPLY_STRING)) {
			h->fenced++;
			host_say(h, true,
				 "item %llu: fenced: %s holds it now, this result is not "
				 "recorded",
				 (unsigned long long)e->seq, x->len ? x->str : "no host");
		} else if (reply_is(x, REDIS_REPLY_INTEGER) && x->integer == 0) {
			h->dups++;
		}
		free(c->record);
		held_drop(h, c->idx);
	}
	s->n = 0;
	h->meta_at_ns = 0; /* the counts changed: look again now */
	commit_send(h);
	fetch(h); /* room again */
}

static void commit_send(struct cluster_host *h)
{
	if (h->sending.n || !h->pending.n || !h->connected || h->renew_first ||
	    (h->commit_refused && now_ns() < h->commit_retry_at_ns))
		return;
	struct argv a = {0};
	argv_eval(&a, cluster_lua_commit, 3);
	argv_str(&a, h->k_meta);
	argv_str(&a, h->k_items);
	argv_str(&a, h->k_res);
	argv_str(&a, h->epoch);
	argv_str(&a, h->name);
	size_t n = MIN(h->pending.n, (size_t)COMMIT_MAX);
	for (size_t i = 0; i < n; i++) {
		struct commit *c = &h->pending.v[i];
		struct held *e = &h->held[c->idx];
		argv_str(&a, e->id);
		argv_num(&a, e->seq);
		argv_str(&a, c->failed ? "1" : "0");
		argv_add(&a, c->record, c->len);
	}
	if (send_argv(h, &a, commit_reply, NULL) == 0) {
		for (size_t i = 0; i < n; i++)
			commits_push(&h->sending, h->pending.v[i]);
		memmove(h->pending.v, h->pending.v + n, (h->pending.n - n) * sizeof(*h->pending.v));
		h->pending.n -= n;
	}
	argv_free(&a);
}

/* The record kept in Redis: the --results line with the host, the deliveries and the joblog's
 * Command added. */
static char *make_record(struct cluster_host *h, const struct held *e, const char *line, size_t len,
			 const char *command, size_t command_len, size_t *out_len)
{
	struct buf b = {0};
	while (len && (line[len - 1] == '\n' || line[len - 1] == '}'))
		len--;
	buf_append(&b, line, len);
	buf_append(&b, ",\"host\":", 8);
	json_escape(&b, h->name, strlen(h->name));
	buf_printf(&b, ",\"deliveries\":%u,\"command\":", e->deliveries);
	json_escape(&b, command, command_len);
	buf_putc(&b, '}');
	*out_len = b.len;
	return b.data;
}

static void feed_result(void *data, const struct pool_result *r, const char *record,
			size_t record_len, const char *command, size_t command_len)
{
	struct cluster_host *h = data;
	long idx = table_find(h, r->seq);
	if (idx < 0)
		return;
	struct held *e = &h->held[idx];
	if (!r->done && r->cause == VIEW_CAUSE_SHUTDOWN) {
		/* Stopped by a terminate of this host, not failed: the other hosts run it (the
		 * host gives it back as it leaves), as --resume would on one machine. */
		return;
	}
	h->results++;
	e->committing = true;
	struct commit c = {.idx = (uint32_t)idx, .failed = !r->done};
	c.record = make_record(h, e, record, record_len, command, command_len, &c.len);
	commits_push(&h->pending, c);
	commit_send(h);
}

/* An item delivered more than --retries + 1 times: hosts died running it. Recorded failed. */
static void commit_poison(struct cluster_host *h, uint32_t idx, const char *item, size_t len)
{
	struct held *e = &h->held[idx];
	char why[80];
	snprintf(why, sizeof(why), "poison: delivered %u times", e->deliveries);
	struct results_record rr = {
		.seq = e->seq,
		.item = item,
		.item_len = len,
		.worker = -1,
		.exitcode = 1,
		.start = wall_s(),
		.error = why,
	};
	struct buf line = {0}, cmd = {0};
	results_format(&line, &rr);
	buf_printf(&cmd, "%s ", h->kind);
	buf_append(&cmd, item, len);
	struct commit c = {.idx = idx, .failed = true};
	e->committing = true;
	c.record = make_record(h, e, line.data, line.len, cmd.data, cmd.len, &c.len);
	buf_free(&line);
	buf_free(&cmd);
	commits_push(&h->pending, c);
	h->poisoned++;
	host_say(h, true, "item %llu: %s (--retries %u): failed", (unsigned long long)e->seq, why,
		 h->retries);
	commit_send(h);
}

/* --- the feed --- */

static int feed_next(void *data, const char **item, size_t *len, uint64_t *seq)
{
	struct cluster_host *h = data;
	free(h->given);
	h->given = NULL;
	if (h->fatal[0] || h->closing)
		return -ENODATA;
	long idx = queue_pop(h);
	if (idx < 0) {
		if (h->ended)
			return -ENODATA;
		fetch(h);
		return 0;
	}
	struct held *e = &h->held[idx];
	e->queued = false;
	h->given = e->item;
	e->item = NULL;
	*item = h->given ? h->given : "";
	*len = e->len;
	*seq = e->seq;
	fetch(h);
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
	if (!reply_is(r, REDIS_REPLY_ARRAY) || r->elements != 5)
		return;
	const redisReply *ep = r->element[0];
	if (!reply_is(ep, REDIS_REPLY_STRING) || strcmp(ep->str, h->epoch)) {
		host_fail(h,
			  "--redis: batch %s is gone or was made again under this host: stopping",
			  h->cfg->batch);
		return;
	}
	uint64_t v[4] = {0};
	for (int i = 0; i < 4; i++)
		if (reply_is(r->element[i + 1], REDIS_REPLY_STRING))
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
	struct argv a = {0};
	argv_str(&a, "HMGET");
	argv_str(&a, h->k_meta);
	argv_str(&a, "epoch");
	argv_str(&a, "complete");
	argv_str(&a, "total");
	argv_str(&a, "done");
	argv_str(&a, "failed");
	if (send_argv(h, &a, meta_reply, NULL) == 0)
		h->meta_asked = true;
	argv_free(&a);
}

/* --- the cluster view: the rows published, requests taken --- */

static void remote_free(struct cluster_host *h)
{
	for (unsigned i = 0; i < h->nremote; i++)
		free(h->remote[i]);
	free(h->remote);
	free(h->remote_len);
	h->remote = NULL;
	h->remote_len = NULL;
	h->nremote = 0;
}

static void views_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	h->remote_asked = false;
	if (!reply_is(r, REDIS_REPLY_ARRAY))
		return;
	remote_free(h);
	h->remote = xcalloc(r->elements + 1, sizeof(*h->remote));
	h->remote_len = xcalloc(r->elements + 1, sizeof(*h->remote_len));
	for (size_t i = 0; i < r->elements; i++)
		if (reply_is(r->element[i], REDIS_REPLY_STRING)) {
			h->remote[h->nremote] = xmemdup(r->element[i]->str, r->element[i]->len);
			h->remote_len[h->nremote++] = r->element[i]->len;
		}
}

/* The other hosts' views, for this host's dashboard. */
static void ask_views(struct cluster_host *h)
{
	if (h->remote_asked || !h->connected)
		return;
	char k_hosts[CLUSTER_KEY_MAX], prefix[CLUSTER_KEY_MAX];
	cluster_key(k_hosts, h->cfg->batch, "hosts");
	cluster_key(prefix, h->cfg->batch, "view:");
	struct argv a = {0};
	argv_eval(&a, cluster_lua_views, 1);
	argv_str(&a, k_hosts);
	argv_str(&a, h->name);
	argv_str(&a, prefix);
	if (send_argv(h, &a, views_reply, NULL) == 0)
		h->remote_asked = true;
	argv_free(&a);
}

unsigned cluster_host_rows(struct cluster_host *h, struct view_row *rows, unsigned max,
			   unsigned base)
{
	h->nrmap = 0;
	if (!h->nremote || !max)
		return 0;
	struct cluster_view_text *v = xcalloc(h->nremote, sizeof(*v));
	for (unsigned i = 0; i < h->nremote; i++)
		v[i] = (struct cluster_view_text){.text = h->remote[i], .len = h->remote_len[i]};
	if (!h->rmap)
		h->rmap = xcalloc(CLUSTER_ROWS_MAX, sizeof(*h->rmap));
	struct view_totals t;
	unsigned hosts = 0, bad = 0;
	unsigned n = cluster_rows_merge(v, h->nremote, rows, h->rmap, MIN(max, CLUSTER_ROWS_MAX),
					&t, &hosts, &bad);
	free(v);
	for (unsigned i = 0; i < n; i++)
		rows[i].index = base + i;
	h->nrmap = n;
	return n;
}

const char *cluster_host_name(const struct cluster_host *h)
{
	return h->name;
}

int cluster_host_command(struct cluster_host *h, unsigned row, uint64_t generation,
			 enum view_command cmd, int arg)
{
	if (row >= h->nrmap || h->rmap[row].generation != generation)
		return -ESTALE;
	if (!h->connected)
		return -ENOTCONN;
	const struct cluster_slot *s = &h->rmap[row];
	char by[CLUSTER_NAME_MAX + 16];
	snprintf(by, sizeof(by), "host %s", h->name);
	char *text = cluster_request(s, proto_command_word(cmd), arg, by);
	if (!text)
		return -ENOMEM;
	char key[CLUSTER_KEY_MAX], part[CLUSTER_KEY_MAX];
	snprintf(part, sizeof(part), "ctl:%s", s->host);
	cluster_key(key, h->cfg->batch, part);
	struct argv a = {0};
	argv_str(&a, "RPUSH");
	argv_str(&a, key);
	argv_str(&a, text);
	int rc = send_argv(h, &a, NULL, NULL);
	argv_free(&a);
	free(text);
	if (rc < 0)
		return rc;
	host_say(h, false,
		 "%s asked of %s, worker %u (pid %d, item %llu): the host says in its log",
		 proto_command_word(cmd), s->host, s->slot, (int)s->pid,
		 (unsigned long long)s->cur_seq);
	return 0;
}

static void publish_view(struct cluster_host *h)
{
	if (!h->view || !h->connected)
		return;
	struct view_totals t;
	unsigned n = h->local_rows(h->view, &t, h->rows, POOLTOP_MAX_WORKERS);
	json_t *rows = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(rows, proto_row(&h->rows[i]));
	json_t *o =
		json_pack("{s:s, s:I, s:f, s:o, s:o}", "host", h->name, "pid", (json_int_t)getpid(),
			  "at", wall_s(), "totals", proto_totals(&t), "rows", rows);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return;
	struct argv a = {0};
	argv_str(&a, "SET");
	argv_str(&a, h->k_view);
	argv_str(&a, text);
	argv_str(&a, "PX");
	argv_num(&a, VIEW_TTL_MS);
	send_argv(h, &a, NULL, NULL);
	argv_free(&a);
	free(text);
}

/* A request from a viewer: {"cmd":"kill","slot":N,"gen":G,"seq":S,"arg":A,"by":"..."}. It is
 * done only if the worker still runs the item the viewer saw (seq 0: none). */
static void do_request(struct cluster_host *h, const char *text, size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, 0, &je);
	const char *cmd = NULL, *by = "a viewer";
	json_int_t slot = -1, gen = 0, seq = 0, arg = 0;
	enum view_command vc;
	if (!o ||
	    json_unpack(o, "{s:s, s:I, s:I, s:I, s?I, s?s}", "cmd", &cmd, "slot", &slot, "gen",
			&gen, "seq", &seq, "arg", &arg, "by", &by) < 0 ||
	    proto_command_parse(cmd, &vc) < 0 || slot < 0 || !h->view) {
		host_say(h, true, "a request that is not one: ignored");
		json_decref(o);
		return;
	}
	struct view_totals t;
	unsigned n = h->local_rows(h->view, &t, h->rows, POOLTOP_MAX_WORKERS);
	const struct view_row *row = NULL;
	for (unsigned i = 0; i < n; i++)
		if (h->rows[i].index == (unsigned)slot)
			row = &h->rows[i];
	if (!row || row->generation != (uint64_t)gen || row->cur_seq != (uint64_t)seq) {
		host_say(h, true,
			 "%s from %s on worker %lld: not done, it no longer runs item %lld", cmd,
			 by, (long long)slot, (long long)seq);
		json_decref(o);
		return;
	}
	int rc = view_command(h->view, vc, (unsigned)slot, (uint64_t)gen, (int)arg);
	if (rc < 0)
		host_say(h, true, "%s from %s on worker %lld: %s", cmd, by, (long long)slot,
			 strerror(-rc));
	else
		host_say(h, false, "%s from %s on worker %lld (pid %d, item %lld)", cmd, by,
			 (long long)slot, (int)row->pid, (long long)seq);
	json_decref(o);
}

static void ctl_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	h->ctl_asked = false;
	if (!reply_is(r, REDIS_REPLY_ARRAY))
		return;
	for (size_t i = 0; i < r->elements; i++)
		if (reply_is(r->element[i], REDIS_REPLY_STRING))
			do_request(h, r->element[i]->str, r->element[i]->len);
}

static void take_requests(struct cluster_host *h)
{
	if (h->ctl_asked || !h->connected)
		return;
	struct argv a = {0};
	argv_str(&a, "LPOP");
	argv_str(&a, h->k_ctl);
	argv_num(&a, CTL_MAX);
	if (send_argv(h, &a, ctl_reply, NULL) == 0)
		h->ctl_asked = true;
	argv_free(&a);
}

static void heartbeat_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	if (reply_is(r, REDIS_REPLY_INTEGER) && r->integer == 0)
		host_fail(h,
			  "--host: another process joined batch %s as %s while this one did not "
			  "answer: stopping",
			  h->cfg->batch, h->name);
}

/* The heartbeat, unless another process took the name while this one was stopped (its
 * heartbeat expired): then both would be one consumer, and fencing between them gone. */
static void heartbeat(struct cluster_host *h)
{
	struct argv a = {0};
	argv_eval(&a, cluster_lua_heartbeat, 1);
	argv_str(&a, h->k_live);
	argv_str(&a, h->desc);
	argv_num(&a, LIVE_TTL_MS);
	send_argv(h, &a, heartbeat_reply, NULL);
	argv_free(&a);
}

/* --- the connection --- */

static void connect_now(struct cluster_host *h);
static void close_tick(struct cluster_host *h);

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
	if (reply_is(r, REDIS_REPLY_ERROR)) {
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
			 "reclaimed for one lease",
			 s);
	}
	/* Before anything else: what this host holds renewed, then what Redis says it holds
	 * taken back (a fetch whose answer was lost, a host of this name before a crash). */
	h->renew_first = true;
	renew(h, true);
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
	struct argv a = {0};
	if (h->url.password[0]) {
		argv_str(&a, "AUTH");
		if (h->url.user[0])
			argv_str(&a, h->url.user);
		argv_str(&a, h->url.password);
		send_argv(h, &a, ready_reply, NULL);
		argv_free(&a);
	}
	argv_str(&a, "SELECT");
	argv_num(&a, (uint64_t)h->url.db);
	send_argv(h, &a, ready_reply, NULL);
	argv_free(&a);
}

/* --- the tick --- */

static void finish_close(struct cluster_host *h);

static void tick_cb(uv_timer_t *t)
{
	struct cluster_host *h = t->data;
	uint64_t now = now_ns();
	if (h->ac && h->waiting_since_ns &&
	    now - h->waiting_since_ns > MAX(h->lease_ms, 3000) * NS_PER_MS) {
		redisAsyncContext *ac = h->ac;
		/* Its pending callbacks run now, with no reply. */
		h->ac = NULL;
		ac->data = NULL;
		redisAsyncFree(ac);
		h->outstanding = 0;
		h->waiting_since_ns = 0;
		drop_connection(h, "no answer");
	}
	if (h->ac && h->refused) {
		redisAsyncContext *ac = h->ac;
		h->ac = NULL;
		ac->data = NULL;
		redisAsyncFree(ac);
		h->outstanding = 0;
		h->waiting_since_ns = 0;
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
			commit_send(h);
		}
		return;
	}
	if (!h->connected)
		return;
	if (now >= h->renew_at_ns) {
		h->renew_at_ns = now + h->lease_ms / 3 * NS_PER_MS;
		renew(h, false);
	}
	if (now >= h->heartbeat_at_ns) {
		h->heartbeat_at_ns = now + HEARTBEAT_MS * NS_PER_MS;
		heartbeat(h);
	}
	if (now >= h->view_at_ns) {
		h->view_at_ns = now + VIEW_MS * NS_PER_MS;
		publish_view(h);
		take_requests(h);
		ask_views(h);
	}
	if (now >= h->trim_at_ns) {
		h->trim_at_ns = now + TRIM_MS * NS_PER_MS;
		struct argv a = {0};
		argv_eval(&a, cluster_lua_trim, 1);
		argv_str(&a, h->k_items);
		send_argv(h, &a, NULL, NULL);
		argv_free(&a);
	}
	if (now >= h->meta_at_ns) {
		h->meta_at_ns = now + META_MS * NS_PER_MS;
		ask_meta(h);
	}
	update_rate(h, now);
	commit_send(h);
	fetch(h);
	if (h->starving)
		reclaim(h, now);
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

/* The items held and not being committed go back at once (release): a host leaving, or
 * stopped before it ran them, leaves them to the others now rather than after the lease. */
static void give_back(struct cluster_host *h)
{
	struct argv a = {0};
	size_t n = 0;
	for (size_t i = 0; i < h->nheld; i++) {
		struct held *e = &h->held[i];
		if (!e->used || e->committing || e->lost)
			continue;
		if (!n) {
			argv_eval(&a, cluster_lua_release, 1);
			argv_str(&a, h->k_items);
			argv_str(&a, h->name);
			argv_num(&a, h->lease_ms);
		}
		argv_str(&a, e->id);
		n++;
	}
	if (n)
		send_argv(h, &a, NULL, NULL);
	argv_free(&a);
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
	if (h->ac) {
		redisAsyncContext *ac = h->ac;
		h->ac = NULL;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
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
	give_back(h);
	struct argv a = {0};
	argv_eval(&a, cluster_lua_trim, 1);
	argv_str(&a, h->k_items);
	send_argv(h, &a, NULL, NULL);
	argv_free(&a);
	argv_str(&a, "DEL");
	argv_str(&a, h->k_live);
	argv_str(&a, h->k_view);
	send_argv(h, &a, NULL, NULL);
	argv_free(&a);
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
	if (h->ac) {
		redisAsyncContext *ac = h->ac;
		h->ac = NULL;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
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
	remote_free(h);
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
	if (reply_is(r, REDIS_REPLY_ARRAY) && r->elements == 2 && reply_is(s, REDIS_REPLY_ARRAY) &&
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
	if (reply_is(r, REDIS_REPLY_ERROR)) {
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
	} else if (reply_is(r, REDIS_REPLY_ARRAY) && r->elements == 4 &&
		   reply_is(r->element[0], REDIS_REPLY_STRING)) {
		snprintf(h->epoch, sizeof(h->epoch), "%s", r->element[0]->str);
		/* The batch's lease and retries are its first host's. */
		uint64_t l = reply_is(r->element[2], REDIS_REPLY_INTEGER)
				     ? (uint64_t)r->element[2]->integer
				     : h->lease_ms;
		unsigned rt = reply_is(r->element[3], REDIS_REPLY_INTEGER)
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
		.result = feed_result,
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
