/* The supervisor: worker slots on a libuv loop.
 *
 * DESIGN
 *
 * The parent is single-threaded and never blocks: it forks workers from the loop's thread
 * (fflush(NULL) first), reaps them with waitpid(-1, WNOHANG) on SIGCHLD and on a 100 ms timer
 * sweep, and never signals a PID after reaping it (slot->pid is cleared at the reap).
 *
 * Every submitted item lives in the in-flight table (its bytes copied) until it finishes: its
 * result consumed from RESULT, or it failed for good. That copy is what a dead worker's items
 * are requeued from. When a worker dies, the parent takes the queue lock (so a step the worker
 * left half done is repaired, see queue.c) with a short timeout — retried by the timer, never
 * waited on — and reclaims the items the worker took without publishing. The one it was running
 * (the slot said BUSY with its sequence number) takes the process's exit code: it is retried
 * under --retries or fails with that code; the others were never started and are requeued
 * without counting an attempt. A result whose item is no longer in flight with that attempt is
 * dropped and counted (deduplication by sequence number; it stays 0 by construction).
 *
 * A dead slot is respawned while work remains, unless it was retired (joined, shrunk, the pool
 * terminated). A worker that dies by itself (an exit status, or a crash signal such as SIGSEGV)
 * within a second of starting, before running any item to its end, counts as a quick death;
 * from the third in a row the slot waits in BACKOFF (250 ms, doubling, at most 8 s) before the
 * next start. SIGKILL, SIGTERM, SIGINT and SIGHUP come from outside the worker: they never
 * count, so a kill storm cannot park the pool.
 *
 * The pool starts with as many workers as there are CPUs (at least 4, at most -j); the rest of
 * -j start as items wait for them: when items have waited 2 ms in INPUT while no worker went
 * idle or was still in its init, a burst starts as many workers again as have been started,
 * 16 per loop turn. Trivial items never wait so, and a batch of them at -j 1024 runs on a
 * handful of workers; slow items do, and reach the 1024 in a few bursts. Slots that never
 * started are counted in the pool's size and shown EMPTY.
 *
 * A worker busy on one item for more than 200 ms gives its unstarted batch-mates back
 * (queue_client_steal), so a hanging item holds up nothing but itself.
 *
 * A job that cannot start for want of a resource (spawn.h) is retried by its worker, which says
 * so in its shared slot: the parent shows it in the snapshot, relays one event per run of failed
 * tries (with the worker's notices, shm.h), and a worker that dies while its item's job waits
 * between two tries is not blamed for that item (it never started: requeued, or not run). When
 * no job could start anywhere for start_give_up_ns, the pool gives up (pool_watch_starts).
 *
 * Join: the slot's join flag is set and sleepers are woken; the worker finishes its item, runs
 * fini and exits 0. Past join_timeout the parent sends SIGTERM (and SIGCONT, in case it is
 * stopped), then SIGKILL as long again later. At the end of the batch every worker is joined
 * that way, so fini always runs on a normal end.
 */
#include "pool_internal.h"

#include "config.h"
#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void pool_consume_results(struct pool *p);

static bool pool_all_gone(const struct pool *p)
{
	for (unsigned i = 0; i < p->nslots_used; i++) {
		enum pool_life l = p->slots[i].life;
		if (l == LIFE_ALIVE || l == LIFE_STOPPING || l == LIFE_REAPED)
			return false;
	}
	return true;
}

void pool_check_end(struct pool *p)
{
	if (p->finished)
		return;
	bool no_work = p->terminating || p->draining ||
		       (p->inflight == 0 && (p->input_ended || p->closing));
	if (!no_work)
		return;
	if (!p->end_joined) {
		p->end_joined = true;
		for (unsigned i = 0; i < p->nslots_used; i++) {
			struct pool_slot *s = &p->slots[i];
			if (s->life == LIFE_BACKOFF)
				slot_set_life(p, s, LIFE_EXITED);
			if (slot_has_process(s) && !p->terminating)
				slot_request_join(p, s,
						  s->stop_cause == VIEW_CAUSE_NONE ? VIEW_CAUSE_END
										   : s->stop_cause);
		}
	}
	for (unsigned i = 0; i < p->nslots_used; i++)
		if (p->slots[i].life == LIFE_BACKOFF)
			slot_set_life(p, &p->slots[i], LIFE_EXITED);
	if (!pool_all_gone(p))
		return;
	if ((p->terminating || p->draining) && p->inflight) {
		/* Results the workers published before they died are delivered, not lost. */
		if (p->consuming)
			return; /* the pump calls again once it is done */
		pool_consume_results(p);
		if (p->finished)
			return;
		/* Items never started when the pool was terminated or drained: not run. */
		for (uint32_t h = 0; h < p->items_cap; h++) {
			if (item_at(p, h)->live) {
				p->not_run++;
				item_free(p, h);
			}
		}
		p->rq_len = 0;
	}
	p->finished = true;
	if (p->cb.finished)
		p->cb.finished(p->cb.data);
}

static void pool_consume_results(struct pool *p)
{
	struct queue_result res;
	const char *out;
	unsigned n = 0;
	/* A result callback may call back into the pool (stdout closed: terminate all); a nested
	 * consume would see the record being handled as not yet released. */
	if (p->consuming)
		return;
	p->consuming = true;
	while (n < RESULTS_PER_PUMP && queue_result_peek(p->q, &res, &out)) {
		n++;
		struct pool_item *it = item_get(p, &res.ref);
		if (!it || it->attempt != res.ref.attempt || res.slot < 0 ||
		    (unsigned)res.slot >= POOLTOP_MAX_WORKERS) {
			p->duplicates++;
			queue_result_release(p->q);
			continue;
		}
		uint32_t h = res.ref.handle;
		struct pool_out o = {.data = out,
				     .len = res.out_len,
				     .spool_fd = -1,
				     .err = out + res.out_len,
				     .err_len = res.err_len,
				     .err_cut = res.flags & QUEUE_RESULT_STDERR_CUT};
		if (res.flags & QUEUE_RESULT_SPOOLED)
			pool_spool_take(p, &res, &o);
		if (res.exitcode == 0)
			item_finish(p, h, &res, res.slot, res.pid, 0, false, VIEW_CAUSE_NONE, &o);
		else
			item_failed(p, h, &res, res.slot, res.pid, res.exitcode, false,
				    VIEW_CAUSE_NONE, &o, NULL);
		if (o.spool_fd >= 0)
			close(o.spool_fd);
		queue_result_release(p->q);
	}
	if (n)
		queue_result_wake(p->q);
	p->consuming = false;
}

/* Room for the feeder again: few items queued, and bytes for the one refused last. */
static bool pool_has_space(const struct pool *p)
{
	if (p->pacing)
		return p->rq_len <= PACE_HELD_MAX / 2;
	return p->rq_len == 0 && queue_input_count(p->q) <= p->max_queued / 2 &&
	       queue_input_free(p->q) >= p->want_bytes;
}

void pool_pump(struct pool *p)
{
	pool_consume_results(p);
	requeue_flush(p);
	if (p->want_space && (p->closing || p->terminating || pool_has_space(p))) {
		p->want_space = false;
		/* A paced item just released wants its pop seen. */
		if (!p->released)
			atomic_store(&p->q->parent_wants_space, 0);
		if (p->cb.space)
			p->cb.space(p->cb.data);
	}
	if (p->unwoken) {
		queue_input_wake(p->q, p->unwoken);
		p->unwoken = 0;
	}
	pool_check_end(p);
	pool_spawn_wanted(p);
	if (p->wake_joined)
		pool_wake_joined(p);
}

static bool pool_results_pending(const struct pool *p)
{
	return queue_result_ready(p->q);
}

static void idle_cb(uv_idle_t *h)
{
	uv_idle_stop(h); /* prepare_cb starts it again while there is work */
}

static void prepare_cb(uv_prepare_t *h)
{
	struct pool *p = h->data;
	pool_pump(p);
	/* About to sleep in the loop: ask workers to wake us, then look once more. */
	atomic_store(&p->q->parent_waiting, 1);
	if (pool_results_pending(p) || (p->want_space && pool_has_space(p))) {
		atomic_store(&p->q->parent_waiting, 0);
		/* An active idle handle makes the loop poll without blocking. */
		uv_idle_start(&p->idle, idle_cb);
	}
}

static void efd_cb(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	struct pool *p = h->data;
	uint64_t v;
	ssize_t r = read(p->efd, &v, sizeof(v));
	(void)r;
	atomic_store(&p->q->parent_waiting, 0);
	pool_pump(p);
}

static void sigchld_cb(uv_signal_t *h, int sig)
{
	(void)sig;
	struct pool *p = h->data;
	pool_reap(p);
	pool_pump(p);
}

static void timer_cb(uv_timer_t *h)
{
	struct pool *p = h->data;
	uint64_t now = now_ns();
	pool_reap(p);
	for (unsigned i = 0; i < p->nslots_used; i++) {
		struct pool_slot *s = &p->slots[i];
		if (s->life == LIFE_STOPPING)
			slot_escalate(p, s, now);
		else if (s->life == LIFE_ALIVE)
			slot_steal(p, s, now);
		if (slot_has_process(s))
			slot_relay(p, s);
		else if (s->life == LIFE_BACKOFF && now >= s->backoff_until_ns &&
			 pool_work_remains(p))
			slot_spawn(p, s);
		stats_rate_update(&s->rate, s->done + s->failed, now);
		/* The STATS records feed the run times behind the automatic HUNG threshold (off
		 * the results' path); the counts are exact elsewhere. */
		struct stats_record rec[STATS_RING_CAP];
		size_t n = stats_drain(&shm_slot(&p->shm, i)->stats, rec, STATS_RING_CAP);
		for (size_t k = 0; k < n; k++) {
			p->runtimes[p->runtimes_pos] = rec[k].runtime_ns;
			p->runtimes_pos = (p->runtimes_pos + 1) % POOL_RUNTIMES_KEPT;
			if (p->nruntimes < POOL_RUNTIMES_KEPT)
				p->nruntimes++;
		}
	}
	stats_rate_update(&p->rate, p->done + p->failed, now);
	pool_update_timeout(p);
	pool_join_deadlines(p, now);
	pool_watch_starts(p, now);
	queue_input_rewake(p->q, &p->watch);
	pool_pump(p);
}

#define SLOTS_SIZE (POOLTOP_MAX_WORKERS * sizeof(struct pool_slot))

/* Whether memcheck runs pooltop (RUNNING_ON_VALGRIND is 0, and nearly free, natively). It does
 * not model MADV_DONTFORK: a forked worker's view of its memory still held the slot table, and
 * a worker dying of a signal stalled in its leak check, so that SIGTERM became SIGKILL. */
static bool under_valgrind(void)
{
#ifdef RUNNING_ON_VALGRIND
	return RUNNING_ON_VALGRIND;
#else
	return false;
#endif
}

/* The slot table (6 MB, zeroed), the parent's alone: workers do not inherit it (MADV_DONTFORK).
 * Inherited, every fork copied its page tables, and every page of it the parent wrote after a
 * fork was copied, with a TLB shootdown (the timer's rates touch all the slots each tick):
 * while 1024 workers started, the parent took 15,000 page faults, 8,000 without. */
static struct pool_slot *slots_new(void)
{
	void *m =
		mmap(NULL, SLOTS_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL; /* a start under ulimit -v: a one-line error, not an abort */
	if (!under_valgrind())
		madvise(m, SLOTS_SIZE, MADV_DONTFORK);
	return m;
}

struct pool *pool_new(uv_loop_t *loop, const struct pool_config *cfg,
		      const struct pool_callbacks *cb, int *err)
{
	if (cfg->workers == 0 || cfg->workers > POOLTOP_MAX_WORKERS || !cfg->job.kind) {
		*err = -EINVAL;
		return NULL;
	}
	/* Not the x-allocators: a start under a tight memory limit (ulimit -v) is a one-line
	 * error, not an abort. */
	int r = -ENOMEM;
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		goto fail;
	p->loop = loop;
	p->cfg = *cfg;
	if (cb)
		p->cb = *cb;
	p->efd = -1;
	p->spool_dirfd = -1;
	p->slots = slots_new();
	if (!p->slots)
		goto fail_free;
	r = shm_create(POOLTOP_MAX_WORKERS, INPUT_RING_CAP, RESULT_RING_CAP, &p->shm);
	if (r)
		goto fail_free;
	p->q = p->shm.q;
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		r = -errno;
		goto fail_shm;
	}
	/* Enough queued for every worker's next batch; small enough that the in-flight table
	 * stays in cache (4096 cost the parent about a fifth more per trivial item). */
	p->max_queued = MIN(16384u, MAX(1024u, 64u * cfg->workers));
	p->start_ns = p->mono0 = now_ns();
	p->wall0 = wall_s();
	return p;

fail_shm:
	shm_destroy(&p->shm);
fail_free:
	if (p->slots)
		munmap(p->slots, SLOTS_SIZE);
	free(p);
fail:
	*err = r;
	return NULL;
}

/* The loop's handles: made by pool_start, so that a pool that never started holds none and
 * pool_free alone disposes of it. */
static int pool_init_handles(struct pool *p)
{
	int r = uv_poll_init(p->loop, &p->efd_poll, p->efd);
	if (r)
		return r;
	uv_signal_init(p->loop, &p->sigchld);
	uv_timer_init(p->loop, &p->timer);
	uv_timer_init(p->loop, &p->timeout_timer);
	uv_timer_init(p->loop, &p->spawn_timer);
	uv_prepare_init(p->loop, &p->prepare);
	uv_idle_init(p->loop, &p->idle);
	p->efd_poll.data = p->sigchld.data = p->timer.data = p->prepare.data = p->idle.data = p;
	p->timeout_timer.data = p->spawn_timer.data = p;
	pool_pace_init(p);
	p->open_handles = 8;
	return 0;
}

int pool_start(struct pool *p)
{
	int r;
	if ((r = pool_init_handles(p)) != 0)
		return r;
	pool_spool_init(p);
	if ((r = uv_signal_start(&p->sigchld, sigchld_cb, SIGCHLD)) != 0 ||
	    (r = uv_poll_start(&p->efd_poll, UV_READABLE, efd_cb)) != 0 ||
	    (r = uv_timer_start(&p->timer, timer_cb, TIMER_MS, TIMER_MS)) != 0 ||
	    (r = uv_prepare_start(&p->prepare, prepare_cb)) != 0)
		return r;
	if (p->cfg.job.kind->own_timeout)
		atomic_store(&p->shm.hdr->timeout_ns, p->cfg.timeout_ns);
	else if ((p->cfg.timeout_ns || p->cfg.timeout_pct) &&
		 (r = uv_timer_start(&p->timeout_timer, timeout_cb, TIMEOUT_TICK_MS,
				     TIMEOUT_TICK_MS)) != 0)
		return r;
	p->target = p->cfg.workers;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	p->spawn_next = MIN(p->cfg.workers, MAX((unsigned)MAX(cpus, 0), SPAWN_FIRST));
	p->spawn_end = p->cfg.workers;
	for (unsigned i = 0; i < p->spawn_next; i++)
		slot_spawn(p, &p->slots[i]);
	return 0;
}

/* The item into the in-flight table: its bytes copied, counted as submitted. */
static void pool_item_fill(struct pool *p, uint32_t h, uint64_t seq, const void *item, size_t len)
{
	struct pool_item *it = item_at(p, h);
	it->seq = seq;
	it->attempt = 1;
	it->live = true;
	it->len = len;
	if (len >= POOL_ITEM_INLINE)
		it->u.heap = xmalloc(len + 1);
	char *data = pool_item_data(it);
	memcpy(data, item, len);
	data[len] = '\0';
	p->inflight++;
	p->submitted++;
}

/* Under --delay or --memfree: the item is held back (pool_pace.c releases it), at most
 * PACE_HELD_MAX of them. */
static int pool_submit_held(struct pool *p, uint64_t seq, const void *item, size_t len)
{
	if (p->rq_len >= PACE_HELD_MAX) {
		p->want_space = true;
		p->want_bytes = 0;
		return -EAGAIN;
	}
	uint32_t h = item_alloc(p);
	pool_item_fill(p, h, seq, item, len);
	requeue_push_held(p, h);
	pool_pace_flush(p);
	return 0;
}

int pool_submit(struct pool *p, uint64_t seq, const void *item, size_t len)
{
	if (p->closing || p->terminating || p->input_ended)
		return -EPIPE;
	if (len > queue_max_item(p->q))
		return -E2BIG;
	if (p->pacing)
		return pool_submit_held(p, seq, item, len);
	if (p->rq_len || !queue_input_below(p->q, p->max_queued)) {
		p->want_space = true;
		p->want_bytes = 0;
		atomic_store(&p->q->parent_wants_space, 1);
		return -EAGAIN;
	}
	uint32_t h = item_alloc(p);
	struct queue_ref ref = {.seq = seq, .handle = h, .attempt = 1};
	if (queue_input_push(p->q, &ref, item, len) != 0) {
		p->free_handles[p->nfree++] = h;
		/* Full by bytes: wait for room for this item and a lap-end pad, not for a count
		 * that is already low (that would spin). */
		p->want_bytes = MIN(2 * (len + 64), (size_t)INPUT_RING_CAP);
		p->want_space = true;
		atomic_store(&p->q->parent_wants_space, 1);
		return -EAGAIN;
	}
	pool_item_fill(p, h, seq, item, len);
	if (++p->unwoken >= WAKE_EVERY) {
		queue_input_wake(p->q, p->unwoken);
		p->unwoken = 0;
	}
	return 0;
}

void pool_input_end(struct pool *p)
{
	p->input_ended = true;
	pool_check_end(p);
}

size_t pool_max_item(const struct pool *p)
{
	return (size_t)queue_max_item(p->q);
}

const char *pool_fatal(const struct pool *p)
{
	return p->fatal;
}

bool pool_busy(const struct pool *p)
{
	return p->inflight > 0;
}

bool pool_closing(const struct pool *p)
{
	return p->closing || p->terminating || p->input_ended;
}

static void handle_closed_cb(uv_handle_t *h)
{
	struct pool *p = h->data;
	if (--p->open_handles == 0 && p->closed)
		p->closed(p->closed_data);
}

void pool_close(struct pool *p, void (*closed)(void *data), void *data)
{
	/* Nobody survives the pool: kill and reap whatever still runs. */
	for (unsigned i = 0; i < p->nslots_used; i++) {
		struct pool_slot *s = &p->slots[i];
		if (slot_has_process(s) && s->pid > 0) {
			slot_signal_job(p, s, SIGKILL);
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			s->pid = 0;
			slot_set_life(p, s, LIFE_EXITED);
		}
	}
	p->closed = closed;
	p->closed_data = data;
	pool_capture_close_all(p);
	if (!p->open_handles) {
		/* Never started: no handle to close. */
		if (closed)
			closed(data);
		return;
	}
	uv_close((uv_handle_t *)&p->efd_poll, handle_closed_cb);
	uv_close((uv_handle_t *)&p->sigchld, handle_closed_cb);
	uv_close((uv_handle_t *)&p->timer, handle_closed_cb);
	uv_close((uv_handle_t *)&p->timeout_timer, handle_closed_cb);
	uv_close((uv_handle_t *)&p->spawn_timer, handle_closed_cb);
	uv_close((uv_handle_t *)&p->pace_timer, handle_closed_cb);
	uv_close((uv_handle_t *)&p->prepare, handle_closed_cb);
	uv_close((uv_handle_t *)&p->idle, handle_closed_cb);
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	for (uint32_t h = 0; h < p->items_cap; h++)
		if (item_at(p, h)->len >= POOL_ITEM_INLINE) /* 0 once freed */
			free(item_at(p, h)->u.heap);
	for (uint32_t c = 0; c < p->items_cap / POOL_ITEM_CHUNK; c++)
		free(p->item_chunks[c]);
	free(p->item_chunks);
	free(p->free_handles);
	free(p->requeue);
	pool_history_free(p);
	munmap(p->slots, SLOTS_SIZE);
	free(p->fatal);
	pool_spool_remove(p);
	if (p->efd >= 0)
		close(p->efd);
	shm_destroy(&p->shm);
	free(p);
}

static struct pool_slot *slot_named(struct pool *p, unsigned slot, uint64_t generation, int *err)
{
	if (slot >= POOLTOP_MAX_WORKERS) {
		*err = -EINVAL;
		return NULL;
	}
	struct pool_slot *s = &p->slots[slot];
	if (!slot_has_process(s)) {
		*err = -ESRCH;
		return NULL;
	}
	if (generation && s->generation != generation) {
		*err = -ESTALE;
		return NULL;
	}
	return s;
}

int pool_slot_terminate(struct pool *p, unsigned slot, uint64_t generation)
{
	int err = 0;
	struct pool_slot *s = slot_named(p, slot, generation, &err);
	return s ? slot_signal(p, s, SIGTERM, VIEW_CAUSE_USER) : err;
}

int pool_slot_kill(struct pool *p, unsigned slot, uint64_t generation)
{
	int err = 0;
	struct pool_slot *s = slot_named(p, slot, generation, &err);
	return s ? slot_signal(p, s, SIGKILL, VIEW_CAUSE_USER) : err;
}

/* Joining s would leave items waiting with no worker to run them: it is the last one, and items
 * are queued or still to be read. */
static bool pool_join_strands(const struct pool *p, const struct pool_slot *s)
{
	if (s->retire || p->closing || p->terminating || pool_active(p) > 1)
		return false;
	return p->rq_len + queue_input_count(p->q) > 0 || !p->input_ended;
}

int pool_slot_join(struct pool *p, unsigned slot, uint64_t generation)
{
	int err = 0;
	struct pool_slot *s = slot_named(p, slot, generation, &err);
	if (!s)
		return err;
	if (pool_join_strands(p, s))
		return -EBUSY;
	/* The pool is one worker smaller: + then adds one back, not two. */
	if (!s->retire && p->target > 1)
		p->target--;
	slot_request_join(p, s, VIEW_CAUSE_JOIN);
	return 0;
}

int pool_slot_signal(struct pool *p, unsigned slot, uint64_t generation, int sig)
{
	if (sig <= 0 || sig >= NSIG)
		return -EINVAL;
	int err = 0;
	struct pool_slot *s = slot_named(p, slot, generation, &err);
	if (!s)
		return err;
	pid_t target = slot_signal_target(p, s);
	if (kill(-target, sig) < 0 && kill(target, sig) < 0)
		return -errno;
	slot_note_signal(p, s, target, sig, now_ns());
	return 0;
}

int pool_slot_kill_requeue(struct pool *p, unsigned slot, uint64_t generation)
{
	int err = 0;
	struct pool_slot *s = slot_named(p, slot, generation, &err);
	if (!s)
		return err;
	s->requeue_item = true;
	err = slot_signal(p, s, SIGKILL, VIEW_CAUSE_USER);
	if (err)
		s->requeue_item = false;
	return err;
}

int pool_slot_restart(struct pool *p, unsigned slot, uint64_t generation)
{
	if (slot >= POOLTOP_MAX_WORKERS)
		return -EINVAL;
	struct pool_slot *s = &p->slots[slot];
	if (p->terminating)
		return -EPIPE;
	if (slot_has_process(s) && generation && s->generation != generation)
		return -ESTALE;
	if (slot_has_process(s)) {
		int r = slot_signal(p, s, SIGTERM, VIEW_CAUSE_RESTART);
		s->retire = false;
		atomic_store(&sh(p, s)->join, 0);
		return r;
	}
	if (s->life == LIFE_REAPED)
		return -EAGAIN;
	slot_spawn(p, s);
	/* A slot joined or shrunk away counts in the pool's size again. */
	p->target = MAX(p->target, pool_active(p));
	return 0;
}

void pool_join_all(struct pool *p)
{
	if (p->closing)
		return;
	p->closing = true;
	p->join_all_ns = now_ns();
	if (p->want_space && p->cb.space) {
		p->want_space = false;
		p->cb.space(p->cb.data);
	}
	pool_check_end(p);
}

/* Start nothing new: every worker finishes the item it runs (however long it takes) and leaves;
 * the items never started are not run. */
void pool_drain(struct pool *p)
{
	if (p->draining || p->terminating)
		return;
	p->closing = true;
	p->draining = true;
	for (unsigned i = 0; i < p->nslots_used; i++) {
		struct pool_slot *s = &p->slots[i];
		s->retire = true;
		if (s->life == LIFE_BACKOFF)
			slot_set_life(p, s, LIFE_EXITED);
		else
			slot_request_join_patient(p, s, VIEW_CAUSE_JOIN);
	}
	if (p->want_space && p->cb.space) {
		p->want_space = false;
		p->cb.space(p->cb.data);
	}
	pool_check_end(p);
}

/* Stop every worker: with --term-seq (sig SIGTERM) or SIGKILL now; nothing is respawned. */
void pool_signal_all(struct pool *p, int sig)
{
	p->closing = true;
	p->terminating = true;
	uint64_t now = now_ns();
	for (unsigned i = 0; i < p->nslots_used; i++) {
		struct pool_slot *s = &p->slots[i];
		s->retire = true;
		if (!slot_has_process(s)) {
			if (s->life == LIFE_BACKOFF)
				slot_set_life(p, s, LIFE_EXITED);
		} else if (sig == SIGKILL) {
			slot_signal(p, s, SIGKILL, VIEW_CAUSE_SHUTDOWN);
		} else {
			slot_stop(p, s, VIEW_CAUSE_SHUTDOWN, now);
		}
	}
	if (p->want_space && p->cb.space) {
		p->want_space = false;
		p->cb.space(p->cb.data);
	}
	pool_check_end(p);
}

void pool_terminate_all(struct pool *p)
{
	pool_signal_all(p, SIGTERM);
}

void pool_kill_all(struct pool *p)
{
	pool_signal_all(p, SIGKILL);
}

int pool_resize(struct pool *p, unsigned n)
{
	if (n == 0 || n > POOLTOP_MAX_WORKERS)
		return -EINVAL;
	if (p->terminating)
		return -EPIPE;
	p->target = n;
	/* Slots still to be started on demand go first, and count as workers to come. */
	p->spawn_end = MAX(p->spawn_next, MIN(p->spawn_end, n));
	unsigned active = pool_active(p);
	for (unsigned i = 0; active < n && i < POOLTOP_MAX_WORKERS; i++) {
		struct pool_slot *s = &p->slots[i];
		if ((s->life == LIFE_EMPTY && !slot_pending(p, i)) || s->life == LIFE_EXITED) {
			slot_spawn(p, s);
			active++;
		}
	}
	for (unsigned i = p->nslots_used; active > n && i-- > 0;) {
		struct pool_slot *s = &p->slots[i];
		if (s->life == LIFE_BACKOFF) {
			slot_set_life(p, s, LIFE_EXITED);
			active--;
		} else if (slot_has_process(s) && !s->retire) {
			/* After its item: a shrink fails nothing. */
			slot_request_join_patient(p, s, VIEW_CAUSE_JOIN);
			active--;
		}
	}
	pool_emit(p, VIEW_EVENT_NOTICE, NULL, 0, "pool resized to %u worker%s", n,
		  n == 1 ? "" : "s");
	return 0;
}

void pool_pause(struct pool *p, bool paused)
{
	struct shm_header *h = p->shm.hdr;
	if (!!atomic_load(&h->paused) == paused)
		return;
	atomic_store(&h->paused, paused ? 1 : 0);
	if (!paused) {
		atomic_fetch_add(&h->pause_seq, 1);
		futex_wake_u32(&h->pause_seq, 1 << 30);
	}
	pool_emit(p, VIEW_EVENT_NOTICE, NULL, 0, "dispatch %s",
		  paused ? "paused: workers start no new item" : "resumed");
}
