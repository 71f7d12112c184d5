/* Pacing job starts, as GNU parallel's --delay and --memfree. Part of the supervisor: see
 * pool.c's DESIGN.
 *
 * DESIGN. Workers take items from INPUT themselves, so the only place a start can be held is
 * before INPUT: with pacing on, pool_submit puts each item in the requeue FIFO (the held items,
 * counted as queued: they are in flight), and this file releases them into INPUT one at a time.
 * A release waits until (1) the item released last has been taken (INPUT is empty; the workers
 * wake the parent when they pop, parent_wants_space), (2) --delay has passed since that was
 * seen, so two starts are at least D apart (a little more: the parent sees a pop late by a
 * loop turn), and (3) MemAvailable was at least --memfree at the last look, made at most every
 * PACE_MEM_MS by the pace timer, never per item. Retried and requeued items enter the same
 * FIFO at its head (before the items held back, as they go into INPUT before any new item when
 * not paced), so every start is paced, as GNU parallel delays every job start.
 *
 * Stops need nothing of their own: a drain or a terminate makes held items "not run" as it
 * does INPUT's (pool_check_end frees every live item), and nothing is released while draining
 * or terminating; a join all keeps releasing until every held item has run.
 *
 * Not done: GNU parallel also kills the youngest job when memory falls below half of
 * --memfree, and runs it again later. pooltop does not: the job may have effects outside, and
 * the user has the dashboard's kill-and-requeue for that. */
#include "pool_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "procstat.h"

/* "512M", "1.5G": for the events. */
static void pace_bytes(char *buf, size_t len, uint64_t b)
{
	static const char units[] = "KMGT";
	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64 "B", b);
		return;
	}
	double v = (double)b;
	int u = -1;
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 10 && v != (double)(uint64_t)v ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* Read MemAvailable (at most every PACE_MEM_MS) and say when starts begin or stop waiting. */
static void pace_check_memory(struct pool *p, uint64_t now)
{
	if (!p->cfg.memfree_bytes)
		return;
	if (p->mem_checked_ns && now - p->mem_checked_ns < PACE_MEM_MS * NS_PER_MS)
		return;
	p->mem_checked_ns = now;
	uint64_t avail;
	int r = procstat_mem_available(p->cfg.meminfo_path, &avail);
	if (r < 0) {
		/* No figure (no /proc, an old kernel): say so once and do not hold starts. */
		if (p->mem_avail != UINT64_MAX)
			pool_emit(p, VIEW_EVENT_NOTICE, NULL, 0,
				  "memfree: cannot read MemAvailable from %s: %s; starts are not "
				  "held",
				  p->cfg.meminfo_path ? p->cfg.meminfo_path : "/proc/meminfo",
				  strerror(-r));
		p->mem_avail = UINT64_MAX;
		p->mem_short = false;
		return;
	}
	p->mem_avail = avail;
	bool is_short = avail < p->cfg.memfree_bytes;
	if (is_short == p->mem_short)
		return;
	p->mem_short = is_short;
	char a[16], want[16];
	pace_bytes(a, sizeof(a), avail);
	pace_bytes(want, sizeof(want), p->cfg.memfree_bytes);
	if (is_short)
		pool_emit(p, VIEW_EVENT_NOTICE, NULL, 0,
			  "memfree: waiting, %s available < %s: no new job starts", a, want);
	else
		pool_emit(p, VIEW_EVENT_NOTICE, NULL, 0,
			  "memfree: %s available >= %s: jobs start again", a, want);
}

static void pace_timer_cb(uv_timer_t *h)
{
	struct pool *p = h->data;
	pool_pace_flush(p);
	pool_check_end(p);
}

static void pace_arm(struct pool *p, uint64_t wait_ns)
{
	uint64_t ms = (wait_ns + NS_PER_MS - 1) / NS_PER_MS;
	if (ms == 0)
		ms = 1;
	uv_timer_start(&p->pace_timer, pace_timer_cb, ms, 0);
}

void pool_pace_init(struct pool *p)
{
	p->pacing = p->cfg.delay_ns || p->cfg.memfree_bytes;
	uv_timer_init(p->loop, &p->pace_timer);
	p->pace_timer.data = p;
}

/* Drop finished items from the FIFO's head: returns the handle of the first live one. */
static bool pace_head(struct pool *p, uint32_t *h)
{
	while (p->rq_len) {
		uint32_t hh = p->requeue[p->rq_head].handle;
		struct pool_item *it = item_at(p, hh);
		if (it->live && it->seq == p->requeue[p->rq_head].seq) {
			*h = hh;
			return true;
		}
		p->rq_head = (p->rq_head + 1) % p->rq_cap;
		p->rq_len--;
	}
	return false;
}

void pool_pace_flush(struct pool *p)
{
	uint32_t h;
	if (p->terminating || p->draining || p->finished || !p->open_handles)
		return;
	uint64_t now = now_ns();
	if (p->released) {
		if (queue_input_count(p->q) > 0) {
			/* Not taken yet: a worker's pop wakes the parent. */
			atomic_store(&p->q->parent_wants_space, 1);
			return;
		}
		p->released = false;
		p->next_ns = now + p->cfg.delay_ns;
	}
	if (!pace_head(p, &h))
		return;
	pace_check_memory(p, now);
	if (p->mem_short) {
		pace_arm(p, PACE_MEM_MS * NS_PER_MS);
		return;
	}
	if (now < p->next_ns) {
		pace_arm(p, p->next_ns - now);
		return;
	}
	struct pool_item *it = item_at(p, h);
	struct queue_ref ref = {.seq = it->seq, .handle = h, .attempt = it->attempt};
	if (queue_input_push(p->q, &ref, pool_item_data(it), it->len) != 0) {
		atomic_store(&p->q->parent_wants_space, 1);
		return;
	}
	p->rq_head = (p->rq_head + 1) % p->rq_cap;
	p->rq_len--;
	p->released = true;
	atomic_store(&p->q->parent_wants_space, 1);
	queue_input_wake(p->q, 1);
}
