/* The pool's in-flight items: the table every submitted item lives in until it finishes (its
 * bytes copied, so that a dead worker's items are requeued from it), the requeue of items taken
 * back, and an item's end: done, retried or failed. Part of the supervisor: see pool.c's DESIGN. */
#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "exitcode.h"

struct pool_item *item_at(struct pool *p, uint32_t h)
{
	return &p->item_chunks[h / POOL_ITEM_CHUNK][h % POOL_ITEM_CHUNK];
}

uint32_t item_alloc(struct pool *p)
{
	if (p->nfree == 0) {
		uint32_t old = p->items_cap;
		uint32_t cap = old + POOL_ITEM_CHUNK;
		uint32_t nchunks = cap / POOL_ITEM_CHUNK;
		p->item_chunks = xrealloc(p->item_chunks, nchunks * sizeof(*p->item_chunks));
		p->item_chunks[nchunks - 1] = xcalloc(POOL_ITEM_CHUNK, sizeof(struct pool_item));
		p->free_handles = xrealloc(p->free_handles, cap * sizeof(*p->free_handles));
		for (uint32_t i = cap; i > old; i--)
			p->free_handles[p->nfree++] = i - 1;
		p->items_cap = cap;
	}
	return p->free_handles[--p->nfree];
}

void item_free(struct pool *p, uint32_t h)
{
	struct pool_item *it = item_at(p, h);
	if (it->len >= POOL_ITEM_INLINE)
		free(it->u.heap);
	it->live = false;
	it->seq = 0;
	it->len = 0;
	p->free_handles[p->nfree++] = h;
	p->inflight--;
}

struct pool_item *item_get(struct pool *p, const struct queue_ref *ref)
{
	if (ref->handle >= p->items_cap)
		return NULL;
	struct pool_item *it = item_at(p, ref->handle);
	if (!it->live || it->seq != ref->seq)
		return NULL;
	return it;
}

/* Room for one more in the requeue FIFO. */
static void requeue_grow(struct pool *p)
{
	if (p->rq_len == p->rq_cap) {
		size_t cap = p->rq_cap ? p->rq_cap * 2 : 256;
		struct pool_requeue *n = xmalloc(cap * sizeof(*n));
		for (size_t i = 0; i < p->rq_len; i++)
			n[i] = p->requeue[(p->rq_head + i) % p->rq_cap];
		free(p->requeue);
		p->requeue = n;
		p->rq_cap = cap;
		p->rq_head = 0;
	}
}

void requeue_push_held(struct pool *p, uint32_t h)
{
	requeue_grow(p);
	p->requeue[(p->rq_head + p->rq_len) % p->rq_cap] =
		(struct pool_requeue){.handle = h, .seq = item_at(p, h)->seq};
	p->rq_len++;
}

void requeue_push(struct pool *p, uint32_t h)
{
	if (!p->pacing) {
		requeue_push_held(p, h);
		return;
	}
	/* Paced, the FIFO also holds the items not yet released: an item taken back goes
	 * before them, as it goes into INPUT before any new item when not paced. */
	requeue_grow(p);
	p->rq_head = (p->rq_head + p->rq_cap - 1) % p->rq_cap;
	p->requeue[p->rq_head] = (struct pool_requeue){.handle = h, .seq = item_at(p, h)->seq};
	p->rq_len++;
}

/* Put requeued items back into INPUT, oldest first, as far as room allows. */
void requeue_flush(struct pool *p)
{
	if (p->pacing) {
		pool_pace_flush(p);
		return;
	}
	uint64_t pushed = 0;
	while (p->rq_len) {
		uint32_t h = p->requeue[p->rq_head].handle;
		struct pool_item *it = item_at(p, h);
		if (!it->live || it->seq != p->requeue[p->rq_head].seq) {
			/* Finished meanwhile (and maybe its handle reused): nothing to requeue. */
			p->rq_head = (p->rq_head + 1) % p->rq_cap;
			p->rq_len--;
			continue;
		}
		struct queue_ref ref = {.seq = it->seq, .handle = h, .attempt = it->attempt};
		if (queue_input_push(p->q, &ref, pool_item_data(it), it->len) != 0)
			break;
		p->rq_head = (p->rq_head + 1) % p->rq_cap;
		p->rq_len--;
		pushed++;
	}
	if (pushed)
		queue_input_wake(p->q, pushed);
	/* Items still waiting: have the workers say when they pop. */
	if (p->rq_len)
		atomic_store(&p->q->parent_wants_space, 1);
}

void item_finish(struct pool *p, uint32_t h, const struct queue_result *res, int slot, pid_t pid,
		 int code, bool core, enum view_cause cause, const struct pool_out *out)
{
	struct pool_item *it = item_at(p, h);
	struct pool_result r = {
		.seq = it->seq,
		.item = pool_item_data(it),
		.item_len = it->len,
		.attempts = it->attempt,
		.slot = slot,
		.pid = pid,
		.exitcode = code,
		.core = core,
		.done = code == 0,
		.cause = cause,
		.output = out ? out->data : NULL,
		.output_len = out ? (size_t)out->len : 0,
		.spool_fd = out ? out->spool_fd : -1,
		.err = out ? out->err : NULL,
		.err_len = out ? out->err_len : 0,
		.err_cut = out && out->err_cut,
	};
	if (res) {
		r.start = p->wall0 + ((double)res->start_ns - (double)p->mono0) / 1e9;
		r.runtime = (double)res->runtime_ns / 1e9;
		r.truncated = res->flags & QUEUE_RESULT_TRUNCATED;
		r.timed_out = res->flags & QUEUE_RESULT_TIMEOUT;
	} else {
		r.start = wall_s();
	}
	if (slot >= 0) {
		if (r.done)
			p->slots[slot].done++;
		else
			p->slots[slot].failed++;
	}
	if (r.done)
		p->done++;
	else
		p->failed++;
	pool_history_add(p, &r);
	if (p->cb.result)
		p->cb.result(p->cb.data, &r);
	item_free(p, h);
}

/* An item ended in failure with code: retry it if it may, else fail it for good. Returns true
 * when it was requeued. */
bool item_failed(struct pool *p, uint32_t h, const struct queue_result *res, int slot, pid_t pid,
		 int code, bool core, enum view_cause cause, const struct pool_out *out,
		 struct buf *fate)
{
	struct pool_item *it = item_at(p, h);
	char codes[96];
	int n = exitcode_format(code, core, codes, sizeof(codes));
	if (res && (res->flags & QUEUE_RESULT_TIMEOUT) && n > 0 && (size_t)n < sizeof(codes))
		snprintf(codes + n, sizeof(codes) - (size_t)n, " (timeout)");
	if (!p->terminating && it->attempt <= p->cfg.retries) {
		it->attempt++;
		p->retried++;
		requeue_push(p, h);
		if (fate) {
			buf_printf(fate, "; ");
			pool_describe_item(fate, it->seq, pool_item_data(it), it->len);
			buf_printf(fate, " requeued %u/%u", it->attempt - 1, p->cfg.retries);
		} else {
			struct buf b = {0};
			pool_describe_item(&b, it->seq, pool_item_data(it), it->len);
			pool_emit_item(p, VIEW_EVENT_ITEM_RETRIED,
				       slot >= 0 ? &p->slots[slot] : NULL, it->seq, code, core,
				       "%s failed with %s on worker %d; retry %u/%u", b.data, codes,
				       slot, it->attempt - 1, p->cfg.retries);
			buf_free(&b);
		}
		return true;
	}
	struct buf b = {0};
	pool_describe_item(&b, it->seq, pool_item_data(it), it->len);
	if (fate)
		buf_printf(fate, "; %s failed", b.data);
	else
		pool_emit_item(p, VIEW_EVENT_ITEM_FAILED, slot >= 0 ? &p->slots[slot] : NULL,
			       it->seq, code, core, "%s failed with %s on worker %d%s", b.data,
			       codes, slot, it->attempt > 1 ? " (no retry left)" : "");
	buf_free(&b);
	item_finish(p, h, res, slot, pid, code, core, cause, out);
	return false;
}
