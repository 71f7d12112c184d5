/* The pool seen from outside: its totals and a row per slot for the view model (pool_snapshot),
 * and the median item time behind the automatic HUNG threshold. Part of the supervisor: see
 * pool.c's DESIGN. */
#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t pool_median_runtime(const struct pool *p)
{
	if (!p->nruntimes)
		return 0;
	uint64_t tmp[POOL_RUNTIMES_KEPT];
	memcpy(tmp, p->runtimes, p->nruntimes * sizeof(tmp[0]));
	qsort(tmp, p->nruntimes, sizeof(tmp[0]), cmp_u64);
	return tmp[p->nruntimes / 2];
}

unsigned pool_nslots(const struct pool *p)
{
	return MAX(p->nslots_used, p->target);
}

static void slot_view(struct pool *p, const struct pool_slot *s, uint64_t now, uint64_t hang_ns,
		      struct view_row *v)
{
	memset(v, 0, sizeof(*v));
	struct shm_slot *ss = sh(p, s);
	v->index = slot_no(p, s);
	v->pid = s->pid;
	v->job_pid = s->pid > 0 ? atomic_load(&ss->job_pid) : 0;
	v->generation = s->generation;
	v->last_pid = s->reap_pid;
	v->has_exit = s->has_exit;
	v->last_exit = s->last_exit;
	v->last_core = s->last_core;
	v->last_cause = s->last_cause;
	v->fini_ran = s->fini_ran;
	v->restarts = s->restarts;
	v->done = s->done;
	v->failed = s->failed;
	v->rate = s->rate.rate;
	/* Zeroed at the reap: only a live process's. */
	int err = atomic_load(&ss->start.err);
	v->start_failing = atomic_load(&ss->start.failing);
	v->start_err = -err;
	snprintf(v->start_call, sizeof(v->start_call), "%s",
		 err ? spawn_call_name(atomic_load(&ss->start.call)) : "");
	v->start_retries = atomic_load(&ss->start.retries);
	uint64_t since = atomic_load(&ss->start.since_ns);
	v->start_failing_ns = v->start_failing && now > since ? now - since : 0;
	switch (s->life) {
	case LIFE_EMPTY:
		v->state = VIEW_EMPTY;
		return;
	case LIFE_EXITED:
	case LIFE_REAPED:
		v->state = VIEW_EXITED;
		return;
	case LIFE_BACKOFF:
		v->state = VIEW_BACKOFF;
		v->backoff_ns = s->backoff_until_ns > now ? s->backoff_until_ns - now : 0;
		return;
	case LIFE_STOPPING:
		v->state = VIEW_STOPPING;
		break;
	case LIFE_ALIVE:
		break;
	}
	uint32_t phase = atomic_load(&ss->phase);
	/* Stopped by the user: STOPPED while ALIVE; STOPPING (a join waiting on it) says more
	 * once it was asked to stop; never HUNG either way. */
	bool stopped = slot_stopped(p, s);
	if (s->life == LIFE_ALIVE)
		v->state = stopped			 ? VIEW_STOPPED
			   : phase == SHM_PHASE_STARTING ? VIEW_STARTING
			   : phase == SHM_PHASE_BUSY	 ? VIEW_BUSY
							 : VIEW_IDLE;
	if (phase != SHM_PHASE_BUSY)
		return;
	/* Read the current item under its sequence lock; give up on a torn read. */
	for (int tries = 0; tries < 4; tries++) {
		uint32_t l1 = atomic_load_explicit(&ss->cur_lock, memory_order_acquire);
		if (l1 & 1)
			continue;
		v->cur_seq = atomic_load_explicit(&ss->cur_seq, memory_order_relaxed);
		v->cur_len = atomic_load_explicit(&ss->cur_len, memory_order_relaxed);
		uint64_t start = atomic_load_explicit(&ss->cur_start_ns, memory_order_relaxed);
		/* Bounded by both copies: the view's and the shared slot's. */
		v->cur_item_len =
			MIN(v->cur_len, MIN(sizeof(v->cur_item), sizeof(ss->cur_preview)));
		memcpy(v->cur_item, ss->cur_preview, v->cur_item_len);
		/* The values of several sources show joined with a space, as {} joins them. */
		for (size_t i = 0; i < v->cur_item_len; i++)
			if (v->cur_item[i] == '\0')
				v->cur_item[i] = ' ';
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&ss->cur_lock, memory_order_relaxed) == l1) {
			v->age_ns = now > start ? now - start : 0;
			/* Time stopped by the user is not time running: AGE counts it, HUNG
			 * does not (and a stopped worker is not HUNG at all). */
			uint64_t held = s->stopped_seq == v->cur_seq ? s->stopped_ns : 0;
			uint64_t from = MAX(s->stopped_since_ns, start);
			if (stopped && now > from)
				held += now - from;
			/* Waiting to start its job is not running it: not HUNG. */
			v->hung = !stopped && v->age_ns > held && v->age_ns - held > hang_ns &&
				  !v->start_failing;
			/* A persistent program that has not answered yet is still starting (an
			 * interpreter, a model loading): STARTING, and not HUNG unless the user set
			 * --hang-after. */
			if (p->cfg.job.kind->submit && atomic_load(&ss->items_run) == 0 &&
			    !p->cfg.hang_after_ns && !stopped) {
				v->state = VIEW_STARTING;
				v->hung = false;
			}
			return;
		}
	}
	v->cur_seq = 0;
	v->cur_item_len = 0;
}

unsigned pool_snapshot(struct pool *p, struct view_totals *t, struct view_row *slots, unsigned max)
{
	uint64_t now = now_ns();
	memset(t, 0, sizeof(*t));
	t->median_runtime_ns = pool_median_runtime(p);
	t->timeout_ns = pool_timeout(p);
	t->hang_after_ns = p->cfg.hang_after_ns
				   ? p->cfg.hang_after_ns
				   : MAX(HANG_MIN_NS, HANG_FACTOR * t->median_runtime_ns);
	unsigned n = pool_nslots(p);
	unsigned written = 0;
	for (unsigned i = 0; i < n; i++) {
		struct view_row v;
		slot_view(p, &p->slots[i], now, t->hang_after_ns, &v);
		if (v.state == VIEW_IDLE || v.state == VIEW_BUSY || v.state == VIEW_STARTING ||
		    v.state == VIEW_STOPPING || v.state == VIEW_STOPPED)
			t->alive++;
		if (v.cur_seq)
			t->busy++;
		if (v.hung)
			t->hung++;
		if (v.start_failing)
			t->start_failing++;
		if (written < max)
			slots[written++] = v;
	}
	t->size = p->target;
	t->submitted = p->submitted;
	t->done = p->done;
	t->failed = p->failed;
	t->retried = p->retried;
	t->requeued = p->requeued;
	t->running = t->busy;
	t->queued = p->inflight > t->busy ? p->inflight - t->busy : 0;
	t->not_run = p->not_run;
	t->memfree = p->cfg.memfree_bytes;
	t->mem_waiting =
		p->pacing && p->mem_short && p->rq_len > 0 && !p->terminating && !p->draining;
	t->mem_available = p->mem_avail;
	t->duplicates = p->duplicates;
	for (unsigned i = 0; i < p->nslots_used; i++)
		t->stats_dropped += atomic_load(&shm_slot(&p->shm, i)->stats.dropped);
	t->repairs = atomic_load(&p->q->repairs);
	t->input_ended = p->input_ended;
	t->closing = p->closing || p->terminating;
	t->paused = atomic_load(&p->shm.hdr->paused);
	t->finished = p->finished;
	t->rate_now = p->rate.rate;
	t->elapsed_ns = now - p->start_ns;
	t->rate_avg =
		t->elapsed_ns ? (double)(p->done + p->failed) * 1e9 / (double)t->elapsed_ns : 0;
	return written;
}
