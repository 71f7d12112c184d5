/* The items a host holds (cluster_host_internal.h): a slab with a table by seq and a queue of
 * those fetched and not given to the batch yet; fetching, reclaiming, renewing, adopting,
 * committing and giving back (the scripts: cluster_lua.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_host_internal.h"
#include "results.h"

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

long held_find(const struct cluster_host *h, uint64_t seq)
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

void held_drop(struct cluster_host *h, uint32_t idx)
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

long held_pop(struct cluster_host *h)
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
size_t hold_target(const struct cluster_host *h)
{
	size_t lo = 2 * (size_t)h->jobs, hi = MAX((size_t)HOLD_MAX, 4 * (size_t)h->jobs);
	size_t want = (size_t)(h->rate * HOLD_AHEAD_MS / 1000.0);
	return MIN(MAX(want, lo), hi);
}

/* The results per second, smoothed over a few ticks. */
void host_update_rate(struct cluster_host *h, uint64_t now)
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

/* --- fetching --- */

static const redisReply *field(const redisReply *fields, const char *name)
{
	if (!rq_is(fields, REDIS_REPLY_ARRAY))
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
	if (!rq_is(id, REDIS_REPLY_STRING) || !rq_is(s, REDIS_REPLY_STRING) ||
	    !rq_is(it, REDIS_REPLY_STRING))
		return;
	uint64_t seq = strtoull(s->str, NULL, 10);
	if (!seq || held_find(h, seq) >= 0)
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
	if (rq_is(r, REDIS_REPLY_ARRAY) && r->elements == 1 &&
	    rq_is(r->element[0], REDIS_REPLY_ARRAY) && r->element[0]->elements == 2) {
		const redisReply *entries = r->element[0]->element[1];
		for (size_t i = 0; rq_is(entries, REDIS_REPLY_ARRAY) && i < entries->elements;
		     i++) {
			const redisReply *e = entries->element[i];
			if (rq_is(e, REDIS_REPLY_ARRAY) && e->elements == 2) {
				take_entry(h, e->element[0], e->element[1], 1);
				got++;
			}
		}
	} else if (rq_is(r, REDIS_REPLY_ERROR)) {
		host_say(h, true, "Redis: fetching items: %s", r->str);
	}
	if (got && h->feed.batch)
		batch_feed_wake(h->feed.batch);
}

void host_fetch(struct cluster_host *h)
{
	if (h->fetching || !h->connected || h->renew_first || h->closing || h->ended || h->fatal[0])
		return;
	size_t target = hold_target(h);
	if (h->live_items > target / 2)
		return;
	struct rq_args a = {0};
	rq_str(&a, "XREADGROUP");
	rq_str(&a, "GROUP");
	rq_str(&a, CLUSTER_GROUP);
	rq_str(&a, h->name);
	rq_str(&a, "COUNT");
	rq_num(&a, target - h->live_items);
	rq_str(&a, "STREAMS");
	rq_str(&a, h->k_items);
	rq_str(&a, ">");
	if (rq_send(h, &a, fetch_reply, NULL) == 0)
		h->fetching = true;
	rq_free(&a);
}

/* Items idle past the lease, held by others: taken, or failed as poison. */
static void reclaim_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	h->reclaiming = false;
	if (!rq_is(r, REDIS_REPLY_ARRAY))
		return;
	size_t got = 0;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		if (!rq_is(e, REDIS_REPLY_ARRAY) || e->elements != 3 ||
		    !rq_is(e->element[2], REDIS_REPLY_INTEGER))
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

void host_reclaim(struct cluster_host *h, uint64_t now)
{
	if (h->reclaiming || !h->connected || h->renew_first || h->closing || h->ended ||
	    h->fatal[0] || now < h->reclaim_not_before_ns || now < h->reclaim_at_ns ||
	    h->live_items >= hold_target(h))
		return;
	h->reclaim_at_ns = now + MIN(h->lease_ms / 4, 500) * NS_PER_MS;
	struct rq_args a = {0};
	rq_eval(&a, cluster_lua_reclaim, 1);
	rq_str(&a, h->k_items);
	rq_str(&a, h->name);
	rq_num(&a, h->lease_ms);
	/* No more than it has room for: the rest is for the other hosts. */
	size_t target = hold_target(h);
	rq_num(&a, MAX((size_t)1, MIN((size_t)RECLAIM_MAX,
				      target > h->live_items ? target - h->live_items : 1)));
	if (rq_send(h, &a, reclaim_reply, NULL) == 0)
		h->reclaiming = true;
	rq_free(&a);
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
	if (rq_is(r, REDIS_REPLY_ARRAY)) {
		for (size_t i = 0; i < r->elements; i++)
			if (rq_is(r->element[i], REDIS_REPLY_STRING))
				lost_lease(h, r->element[i]->str, r->element[i]->len);
	} else if (rq_is(r, REDIS_REPLY_ERROR)) {
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
	for (size_t i = 0; rq_is(r, REDIS_REPLY_ARRAY) && i < r->elements; i++) {
		const redisReply *e = r->element[i];
		if (!rq_is(e, REDIS_REPLY_ARRAY) || e->elements != 3 ||
		    !rq_is(e->element[2], REDIS_REPLY_INTEGER) ||
		    !rq_is(e->element[0], REDIS_REPLY_STRING))
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
		h->reclaim_not_before_ns = now_ns() + host_settle_ms(h) * NS_PER_MS;
	if (h->feed.batch)
		batch_feed_wake(h->feed.batch);
}

static void adopt(struct cluster_host *h)
{
	struct rq_args a = {0};
	rq_eval(&a, cluster_lua_adopt, 1);
	rq_str(&a, h->k_items);
	rq_str(&a, h->name);
	rq_num(&a, 4 * HOLD_MAX + 4 * (uint64_t)h->jobs);
	rq_send(h, &a, adopt_reply, NULL);
	rq_free(&a);
}

/* Renew every item held, in requests of RENEW_MAX ids; first: the renew after a reconnect,
 * whose last reply lets the rest go on. */
void host_renew(struct cluster_host *h, bool first)
{
	if (!h->connected || (h->renewing && !first))
		return;
	size_t i = 0;
	bool last = false;
	while (!last) {
		struct rq_args a = {0};
		rq_eval(&a, cluster_lua_renew, 1);
		rq_str(&a, h->k_items);
		rq_str(&a, h->name);
		size_t n = 0;
		for (; i < h->nheld && n < RENEW_MAX; i++)
			if (h->held[i].used && !h->held[i].lost) {
				rq_str(&a, h->held[i].id);
				n++;
			}
		last = i >= h->nheld;
		/* Replies come in order: the last one's ends the renew. */
		unsigned flags = (first ? RENEW_FIRST : 0) | (last ? RENEW_LAST : 0);
		if ((n || first) && rq_send(h, &a, renew_reply, (void *)(uintptr_t)flags) == 0 &&
		    last)
			h->renewing = true;
		rq_free(&a);
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

void host_commit_send(struct cluster_host *h);

static void commit_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	struct commits *s = &h->sending;
	if (!r || rq_is(r, REDIS_REPLY_ERROR)) {
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
			rq_is(r, REDIS_REPLY_ARRAY) && i < r->elements ? r->element[i] : NULL;
		if (rq_is(x, REDIS_REPLY_STRING)) {
			h->fenced++;
			if (x->len)
				host_say(h, true,
					 "item %llu: fenced: %s holds it now, this result is not "
					 "recorded",
					 (unsigned long long)e->seq, x->str);
			else
				host_say(h, true,
					 "item %llu: fenced: another host recorded it, this result "
					 "is not recorded",
					 (unsigned long long)e->seq);
		} else if (rq_is(x, REDIS_REPLY_INTEGER) && x->integer == 0) {
			h->dups++;
		}
		free(c->record);
		held_drop(h, c->idx);
	}
	s->n = 0;
	h->meta_at_ns = 0; /* the counts changed: look again now */
	host_commit_send(h);
	host_fetch(h); /* room again */
}

void host_commit_send(struct cluster_host *h)
{
	if (h->sending.n || !h->pending.n || !h->connected || h->renew_first ||
	    (h->commit_refused && now_ns() < h->commit_retry_at_ns))
		return;
	struct rq_args a = {0};
	rq_eval(&a, cluster_lua_commit, 3);
	rq_str(&a, h->k_meta);
	rq_str(&a, h->k_items);
	rq_str(&a, h->k_res);
	rq_str(&a, h->epoch);
	rq_str(&a, h->name);
	size_t n = MIN(h->pending.n, (size_t)COMMIT_MAX);
	for (size_t i = 0; i < n; i++) {
		struct commit *c = &h->pending.v[i];
		struct held *e = &h->held[c->idx];
		rq_str(&a, e->id);
		rq_num(&a, e->seq);
		rq_str(&a, c->failed ? "1" : "0");
		rq_add(&a, c->record, c->len);
	}
	if (rq_send(h, &a, commit_reply, NULL) == 0) {
		for (size_t i = 0; i < n; i++)
			commits_push(&h->sending, h->pending.v[i]);
		memmove(h->pending.v, h->pending.v + n, (h->pending.n - n) * sizeof(*h->pending.v));
		h->pending.n -= n;
	}
	rq_free(&a);
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

void host_feed_result(void *data, const struct pool_result *r, const char *record,
		      size_t record_len, const char *command, size_t command_len)
{
	struct cluster_host *h = data;
	long idx = held_find(h, r->seq);
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
	host_commit_send(h);
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
	host_commit_send(h);
}

/* The items held and not being committed go back at once (release): a host leaving, or
 * stopped before it ran them, leaves them to the others now rather than after the lease. */
void host_give_back(struct cluster_host *h)
{
	struct rq_args a = {0};
	size_t n = 0;
	for (size_t i = 0; i < h->nheld; i++) {
		struct held *e = &h->held[i];
		if (!e->used || e->committing || e->lost)
			continue;
		if (!n) {
			rq_eval(&a, cluster_lua_release, 1);
			rq_str(&a, h->k_items);
			rq_str(&a, h->name);
			rq_num(&a, h->lease_ms);
		}
		rq_str(&a, e->id);
		n++;
	}
	if (n)
		rq_send(h, &a, NULL, NULL);
	rq_free(&a);
}
