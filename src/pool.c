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
 * started are counted in the pool's size (for the fair share of a first batch) and shown EMPTY.
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

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "worker.h"

#define INPUT_RING_CAP	 (4u << 20)
#define RESULT_RING_CAP	 (4u << 20)
#define TIMER_MS	 100
#define RECLAIM_LOCK_NS	 (2 * NS_PER_MS)
#define RESULTS_PER_PUMP 65536
#define QUICK_DEATH_NS	 NS_PER_S
#define BACKOFF_AFTER	 3
#define BACKOFF_FIRST_NS (250 * NS_PER_MS)
#define BACKOFF_MAX_NS	 (8 * NS_PER_S)
/* Items pushed between two wake-ups of sleeping workers while the parent feeds (the pump's end
 * wakes them too). Per 32 items, trivial items cost a futex wake and a worker's sleep each
 * time: 43,000 futex calls and 480 ms of CPU for a million squares, against 4,100 and 320 ms
 * per 512. */
#define WAKE_EVERY	512
#define HANG_MIN_NS	(5 * NS_PER_S)
#define HANG_FACTOR	10
#define STEAL_AFTER_NS	(200 * NS_PER_MS)
#define TIMEOUT_TICK_MS 10
/* pool_start forks as many workers as there are CPUs online, at least SPAWN_FIRST; the rest of
 * -j are forked as items wait for them (pool_spawn_wanted), at most SPAWN_STEP per loop turn.
 * A fork costs 0.7 to 5 ms on the 2-core VM this was measured on: 1024 forked at once made
 * every batch pay seconds first, even a batch of one item. */
#define SPAWN_FIRST   4
#define SPAWN_STEP    16
#define SPAWN_WAIT_MS 2

static void pool_pump(struct pool *p);
static void pool_spawn_wanted(struct pool *p);
static void pool_check_end(struct pool *p);
static void pool_signal_all(struct pool *p, int sig);
static void pool_give_up(struct pool *p, const struct pool_slot *s);
static uint64_t pool_median_runtime(const struct pool *p);
static void pool_consume_results(struct pool *p);
static bool slot_reclaim(struct pool *p, struct pool_slot *s);
static void pool_spool_take(struct pool *p, struct queue_result *res, struct pool_out *o);
static void pool_spool_forget(struct pool *p, uint64_t seq, uint32_t attempt);
static void slot_relay(struct pool *p, struct pool_slot *s);

static struct shm_slot *sh(struct pool *p, const struct pool_slot *s)
{
	return shm_slot(&p->shm, slot_no(p, s));
}

static bool slot_has_process(const struct pool_slot *s)
{
	return s->life == LIFE_ALIVE || s->life == LIFE_STOPPING;
}

static bool pool_work_remains(const struct pool *p)
{
	if (p->terminating)
		return false;
	return p->inflight > 0 || (!p->input_ended && !p->closing);
}

/* --- in-flight items --- */

static struct pool_item *item_at(struct pool *p, uint32_t h)
{
	return &p->item_chunks[h / POOL_ITEM_CHUNK][h % POOL_ITEM_CHUNK];
}

static uint32_t item_alloc(struct pool *p)
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

static void item_free(struct pool *p, uint32_t h)
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

static struct pool_item *item_get(struct pool *p, const struct queue_ref *ref)
{
	if (ref->handle >= p->items_cap)
		return NULL;
	struct pool_item *it = item_at(p, ref->handle);
	if (!it->live || it->seq != ref->seq)
		return NULL;
	return it;
}

static void requeue_push(struct pool *p, uint32_t h)
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
	p->requeue[(p->rq_head + p->rq_len) % p->rq_cap] =
		(struct pool_requeue){.handle = h, .seq = item_at(p, h)->seq};
	p->rq_len++;
}

/* Put requeued items back into INPUT, oldest first, as far as room allows. */
static void requeue_flush(struct pool *p)
{
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

static void item_finish(struct pool *p, uint32_t h, const struct queue_result *res, int slot,
			pid_t pid, int code, bool core, enum view_cause cause,
			const struct pool_out *out)
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
static bool item_failed(struct pool *p, uint32_t h, const struct queue_result *res, int slot,
			pid_t pid, int code, bool core, enum view_cause cause,
			const struct pool_out *out, struct buf *fate)
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
			pool_emit(p, VIEW_EVENT_ITEM_RETRIED, slot >= 0 ? &p->slots[slot] : NULL,
				  it->seq, "%s failed with %s on worker %d; retry %u/%u", b.data,
				  codes, slot, it->attempt - 1, p->cfg.retries);
			buf_free(&b);
		}
		return true;
	}
	struct buf b = {0};
	pool_describe_item(&b, it->seq, pool_item_data(it), it->len);
	if (fate)
		buf_printf(fate, "; %s failed", b.data);
	else
		pool_emit(p, VIEW_EVENT_ITEM_FAILED, slot >= 0 ? &p->slots[slot] : NULL, it->seq,
			  "%s failed with %s on worker %d%s", b.data, codes, slot,
			  it->attempt > 1 ? " (no retry left)" : "");
	buf_free(&b);
	item_finish(p, h, res, slot, pid, code, core, cause, out);
	return false;
}

/* --- the slot state machine ---
 *
 * A slot's life (enum pool_life) changes in slot_set_life alone, along the edges of the table
 * below; any other edge is a bug, and asserts. Who moves it:
 *   EMPTY    -> ALIVE      slot_spawn: pool_start, the on-demand starter, a resize, a restart
 *   EMPTY    -> BACKOFF    slot_spawn: fork failed; tried again at backoff_until
 *   ALIVE    -> STOPPING   a signal (slot_signal), a join (slot_request_join)
 *   STOPPING -> STOPPING   a further signal, a join past its deadline (slot_escalate)
 *   ALIVE, STOPPING -> REAPED  pool_reap: the process ended (waitpid); items not reclaimed yet
 *   ALIVE, STOPPING -> EXITED  pool_close: killed and reaped on the spot
 *   REAPED   -> ALIVE      pool_dispatch: its items reclaimed, work remains: respawned
 *   REAPED   -> BACKOFF    ...it kept dying at start, or the fork failed
 *   REAPED   -> EXITED     ...no work remains, the pool terminates, or the slot was retired
 *   EXITED   -> ALIVE, BACKOFF  a restart or a resize starts it again
 *   BACKOFF  -> ALIVE, BACKOFF  its time came: started (or the fork failed again)
 *   BACKOFF  -> EXITED     the batch ended, the pool terminates or shrinks
 * A process runs in ALIVE and STOPPING only (slot_has_process). The events a change implies:
 * ALIVE says "worker N pid P started" here; the end of a process is said once its items are
 * reclaimed (pool_dispatch), with their fates; a BACKOFF says why where it is decided. */
static const bool life_edges[POOL_LIFE_N][POOL_LIFE_N] = {
	[LIFE_EMPTY] = {[LIFE_ALIVE] = true, [LIFE_BACKOFF] = true},
	[LIFE_ALIVE] = {[LIFE_STOPPING] = true, [LIFE_REAPED] = true, [LIFE_EXITED] = true},
	[LIFE_STOPPING] = {[LIFE_STOPPING] = true, [LIFE_REAPED] = true, [LIFE_EXITED] = true},
	[LIFE_REAPED] = {[LIFE_ALIVE] = true, [LIFE_BACKOFF] = true, [LIFE_EXITED] = true},
	[LIFE_EXITED] = {[LIFE_ALIVE] = true, [LIFE_BACKOFF] = true},
	[LIFE_BACKOFF] = {[LIFE_ALIVE] = true, [LIFE_BACKOFF] = true, [LIFE_EXITED] = true},
};

bool pool_life_edge(enum pool_life from, enum pool_life to)
{
	return (unsigned)from < POOL_LIFE_N && (unsigned)to < POOL_LIFE_N && life_edges[from][to];
}

const char *pool_life_name(enum pool_life l)
{
	switch (l) {
	case LIFE_EMPTY:
		return "EMPTY";
	case LIFE_ALIVE:
		return "ALIVE";
	case LIFE_STOPPING:
		return "STOPPING";
	case LIFE_REAPED:
		return "REAPED";
	case LIFE_EXITED:
		return "EXITED";
	case LIFE_BACKOFF:
		return "BACKOFF";
	}
	return "?";
}

static void slot_set_life(struct pool *p, struct pool_slot *s, enum pool_life to)
{
	assert(pool_life_edge(s->life, to));
	s->life = to;
	switch (to) {
	case LIFE_ALIVE:
		pool_emit(p, VIEW_EVENT_WORKER_STARTED, s, 0, "worker %u pid %d started",
			  slot_no(p, s), s->pid);
		break;
	case LIFE_EMPTY:
	case LIFE_STOPPING:
	case LIFE_REAPED:
	case LIFE_EXITED:
	case LIFE_BACKOFF:
		break;
	}
}

/* --- processes --- */

static void slot_spawn(struct pool *p, struct pool_slot *s)
{
	struct shm_slot *ss = sh(p, s);
	s->generation++;
	atomic_store(&ss->pid, 0);
	atomic_store(&ss->phase, SHM_PHASE_STARTING);
	atomic_store(&ss->join, 0);
	atomic_store(&ss->fini_ran, 0);
	atomic_store(&ss->items_run, 0);
	atomic_store(&ss->items_failed, 0);
	atomic_store(&ss->job_pid, 0);
	atomic_store(&ss->init_failed, 0);
	atomic_store(&ss->generation, s->generation);
	s->timeout_seq = 0;
	s->tstop = (struct spawn_stop){0};

	struct worker_args args = {
		.shm = &p->shm,
		.slot = slot_no(p, s),
		.job = p->cfg.job,
		.notify_fd = p->efd,
		.parent = getpid(),
		.max_items = p->cfg.max_items_per_worker,
		.stderr_fd = p->cfg.worker_stderr_fd,
		.spool_dir = p->spool_dir,
	};
	struct pool_capture *cap = NULL;
	if (p->cfg.capture_stderr) {
		args.stderr_fd = pool_capture_open(p, s, &cap);
		args.stderr_private = args.stderr_fd >= 0;
	}
	fflush(NULL);
	/* Every signal blocked across the fork: until the child has put its handlers back to
	 * the defaults, a signal sent to it would run libuv's handler, which writes to the
	 * parent's signal pipe (a SIGTERM for a new worker was seen as one for pooltop). The
	 * child unblocks them once its handlers are reset. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		worker_main(&args);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (cap)
		pool_capture_start(p, cap, args.stderr_fd);
	if (pid > 0)
		setpgid(pid, pid); /* as the child does: whichever runs first, no window */
	if (pid < 0) {
		int err = errno;
		slot_set_life(p, s, LIFE_BACKOFF);
		s->backoff_until_ns = now_ns() + BACKOFF_FIRST_NS;
		pool_emit(p, VIEW_EVENT_NOTICE, s, 0, "worker %u: fork failed: %s; retrying",
			  slot_no(p, s), strerror(err));
		return;
	}
	if (slot_no(p, s) >= p->nslots_used)
		p->nslots_used = slot_no(p, s) + 1;
	if (s->life == LIFE_EXITED || s->life == LIFE_BACKOFF || s->life == LIFE_REAPED)
		s->restarts += s->has_exit ? 1 : 0;
	s->pid = pid;
	atomic_store(&ss->pid, pid);
	s->retire = false;
	s->stop_cause = VIEW_CAUSE_NONE;
	s->stop_signal = 0;
	s->join_stage = 0;
	s->started_ns = now_ns();
	slot_set_life(p, s, LIFE_ALIVE);
}

/* A slot pool_start left for pool_spawn_wanted to start. */
static bool slot_pending(const struct pool *p, unsigned i)
{
	return i >= p->spawn_next && i < p->spawn_end && p->slots[i].life == LIFE_EMPTY;
}

/* Workers in the pool, counting those still to be started on demand. */
static unsigned pool_active(const struct pool *p)
{
	unsigned n = 0;
	for (unsigned i = 0; i < p->nslots_used; i++) {
		const struct pool_slot *s = &p->slots[i];
		if ((slot_has_process(s) && !s->retire) || s->life == LIFE_BACKOFF ||
		    (s->life == LIFE_REAPED && !s->retire))
			n++;
	}
	for (unsigned i = p->spawn_next; i < p->spawn_end; i++)
		n += slot_pending(p, i);
	return n;
}

static void pool_update_active(struct pool *p)
{
	atomic_store(&p->q->active_workers, MAX(1u, pool_active(p)));
}

/* A command kind's job is in its own process group: what is done to the worker is done to
 * it too, so that no job outlives its worker. */
static void slot_signal_job(struct pool *p, const struct pool_slot *s, int sig)
{
	pid_t job = atomic_load(&sh(p, s)->job_pid);
	if (job <= 0)
		return;
	kill(-job, sig);
	if (sig != SIGKILL)
		kill(-job, SIGCONT);
}

/* Signal the slot's process: its process group (a worker leads one, so what a plugin forked
 * goes with it) and its job's. */
static int slot_signal(struct pool *p, struct pool_slot *s, int sig, enum view_cause cause)
{
	if (!slot_has_process(s) || s->pid <= 0)
		return -ESRCH;
	if (kill(-s->pid, sig) < 0 && kill(s->pid, sig) < 0)
		return -errno;
	if (sig != SIGKILL)
		kill(-s->pid, SIGCONT); /* a stopped process acts on SIGTERM only once continued */
	slot_signal_job(p, s, sig);
	if (s->life == LIFE_ALIVE || s->stop_cause == VIEW_CAUSE_NONE ||
	    s->stop_cause == VIEW_CAUSE_JOIN || s->stop_cause == VIEW_CAUSE_END)
		s->stop_cause = cause;
	s->stop_signal = sig;
	slot_set_life(p, s, LIFE_STOPPING);
	return 0;
}

static void timeout_cb(uv_timer_t *h);

/* The next signal of the slot's --term-seq. */
static void slot_stop_step(struct pool *p, struct pool_slot *s, enum view_cause cause, uint64_t now)
{
	slot_signal(p, s, spawn_stop_next(&s->tstop, now), cause);
}

/* Stop the slot's process with --term-seq (TERM, ..., KILL): the first signal now, the next
 * ones from the fine timer until it is reaped, so that it ends whatever it ignores. */
static void slot_stop(struct pool *p, struct pool_slot *s, enum view_cause cause, uint64_t now)
{
	if (!slot_has_process(s) || s->tstop.seq)
		return; /* gone, or a sequence runs already */
	s->tstop = (struct spawn_stop){.seq = &p->cfg.job.termseq};
	slot_stop_step(p, s, cause, now);
	if (!uv_is_active((uv_handle_t *)&p->timeout_timer))
		uv_timer_start(&p->timeout_timer, timeout_cb, TIMEOUT_TICK_MS, TIMEOUT_TICK_MS);
}

/* Send what is due of every running --term-seq. */
static void pool_step_stops(struct pool *p, uint64_t now)
{
	for (unsigned i = 0; i < p->nslots_used; i++) {
		struct pool_slot *s = &p->slots[i];
		if (slot_has_process(s) && s->tstop.seq && now >= s->tstop.next_ns)
			slot_stop_step(p, s, s->stop_cause, now);
	}
}

static void slot_request_join(struct pool *p, struct pool_slot *s, enum view_cause cause)
{
	if (!slot_has_process(s))
		return;
	struct shm_slot *ss = sh(p, s);
	if (!atomic_load(&ss->join)) {
		atomic_store(&ss->join, 1);
		s->stop_cause = cause;
		s->join_stage = 0;
		s->deadline_ns = now_ns() + p->cfg.join_timeout_ns;
	}
	s->retire = true;
	slot_set_life(p, s, LIFE_STOPPING);
	/* Sleepers are woken once for every join of this loop turn, by pool_pump: one wake-up
	 * per join had 1024 joins at the end of a batch wake ~1000 sleepers each. */
	p->wake_joined = true;
}

/* Wake every sleeping worker, so that the joined ones see their flag: once per loop turn. */
static void pool_wake_joined(struct pool *p)
{
	p->wake_joined = false;
	queue_wake_all(p->q);
	atomic_fetch_add(&p->shm.hdr->pause_seq, 1);
	futex_wake_u32(&p->shm.hdr->pause_seq, 1 << 30);
}

/* Past a join's deadline: SIGTERM, then SIGKILL. */
static void slot_escalate(struct pool *p, struct pool_slot *s, uint64_t now)
{
	if (s->life != LIFE_STOPPING || !atomic_load(&sh(p, s)->join) || now < s->deadline_ns)
		return;
	uint64_t grace = MAX(p->cfg.join_timeout_ns, NS_PER_S);
	if (s->join_stage == 0) {
		pool_emit(p, VIEW_EVENT_NOTICE, s, 0,
			  "worker %u pid %d did not finish joining in time: terminating",
			  slot_no(p, s), s->pid);
		slot_signal(p, s, SIGTERM, VIEW_CAUSE_JOIN_TIMEOUT);
		s->stop_cause = VIEW_CAUSE_JOIN_TIMEOUT;
		s->join_stage = 1;
		s->deadline_ns = now + grace;
	} else if (s->join_stage == 1) {
		pool_emit(p, VIEW_EVENT_NOTICE, s, 0, "worker %u pid %d ignored SIGTERM: killing",
			  slot_no(p, s), s->pid);
		slot_signal(p, s, SIGKILL, VIEW_CAUSE_JOIN_TIMEOUT);
		s->stop_cause = VIEW_CAUSE_JOIN_TIMEOUT;
		s->join_stage = 2;
		s->deadline_ns = UINT64_MAX;
	}
}

static void slot_after_exit(struct pool *p, struct pool_slot *s)
{
	uint64_t now = now_ns();
	if (p->terminating || s->retire || !pool_work_remains(p)) {
		slot_set_life(p, s, LIFE_EXITED);
		return;
	}
	/* Dying at start is the worker's own failure: init failing, the first item crashing.
	 * A signal that only comes from outside (a kill storm, the OOM killer, a user) says
	 * nothing about the next start, and must not park the pool. */
	int sig = s->last_exit < 0 ? -s->last_exit : 0;
	bool outside = sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
	bool quick = now - s->started_ns < QUICK_DEATH_NS && s->reap_items_run == 0 &&
		     s->last_exit != 0 && !outside && s->stop_cause == VIEW_CAUSE_NONE;
	s->quick_deaths = quick ? s->quick_deaths + 1 : 0;
	if (s->quick_deaths >= BACKOFF_AFTER) {
		unsigned k = MIN(s->quick_deaths - BACKOFF_AFTER, 5u);
		uint64_t delay = MIN(BACKOFF_FIRST_NS << k, BACKOFF_MAX_NS);
		slot_set_life(p, s, LIFE_BACKOFF);
		s->backoff_until_ns = now + delay;
		pool_emit(p, VIEW_EVENT_NOTICE, s, 0,
			  "worker %u keeps dying at start (%u in a row): next start in %.2f s",
			  slot_no(p, s), s->quick_deaths, (double)delay / 1e9);
		return;
	}
	slot_spawn(p, s);
}

static void slot_reaped(struct pool *p, struct pool_slot *s, int status)
{
	struct shm_slot *ss = sh(p, s);
	bool core = false;
	int code = exitcode_from_status(status, &core);
	s->has_exit = true;
	s->last_exit = code;
	s->last_core = core;
	s->fini_ran = atomic_load(&ss->fini_ran);
	s->reap_phase = atomic_load(&ss->phase);
	s->reap_seq = atomic_load(&ss->cur_seq);
	/* Its item's job was waiting to be tried again (spawn.h): the item never started. */
	uint64_t waiting = atomic_load(&ss->start.waiting_seq);
	if (waiting && waiting == s->reap_seq)
		s->reap_phase = SHM_PHASE_IDLE;
	s->reap_start_ns = atomic_load(&ss->cur_start_ns);
	s->reap_ns = now_ns();
	s->reap_items_run = atomic_load(&ss->items_run);
	enum view_cause cause = s->stop_cause;
	if (cause == VIEW_CAUSE_NONE && s->fini_ran)
		cause = VIEW_CAUSE_RECYCLE;
	if (s->timeout_seq && (cause == VIEW_CAUSE_NONE || cause == VIEW_CAUSE_TIMEOUT))
		cause = VIEW_CAUSE_TIMEOUT;
	s->last_cause = cause;
	s->reap_pid = s->pid;
	s->pid = 0;
	atomic_store(&ss->pid, 0);
	/* The worker died with a job running: the job got SIGKILL with it (its parent-death
	 * signal), but what the job started lives on in its group. */
	pid_t job = atomic_exchange(&ss->job_pid, 0);
	if (job > 0)
		kill(-job, SIGKILL);
	s->reap_told = false;
	slot_set_life(p, s, LIFE_REAPED);
}

/* The dispatch of a reaped slot: say what its process said last, take back the items it held,
 * tell its end, then decide on a respawn. False while the queue lock is busy (the timer's
 * pool_reap tries again); the shared slot is the dead process's until the respawn. */
static bool slot_reclaim(struct pool *p, struct pool_slot *s)
{
	struct shm_slot *ss = sh(p, s);
	if (!s->reap_told) {
		s->reap_told = true;
		/* What it said last, before its end is told; then the words are the next
		 * process's. */
		slot_relay(p, s);
		memset(&ss->start, 0, sizeof(ss->start));
		memset(&ss->notes, 0, sizeof(ss->notes));
		s->notes_seen = s->start_episodes_seen = 0;
		if (atomic_load(&ss->init_failed) && atomic_load(&p->shm.hdr->inits_ok) == 0 &&
		    !p->fatal)
			pool_give_up(p, s);
	}
	if (queue_lock(p->q, RECLAIM_LOCK_NS) != 0)
		return false;
	struct queue_ref refs[QUEUE_BATCH_MAX];
	uint32_t n = queue_client_reclaim(p->q, slot_no(p, s), refs);
	queue_unlock(p->q);

	int code = s->last_exit;
	char desc[96];
	exitcode_describe(code, s->last_core, desc, sizeof(desc));
	struct buf fate = {0};
	/* The blamed item ran from its start to the death. */
	struct queue_result ran = {
		.start_ns = s->reap_start_ns,
		.runtime_ns = s->reap_ns > s->reap_start_ns ? s->reap_ns - s->reap_start_ns : 0,
		.flags = s->timeout_seq && s->timeout_seq == s->reap_seq ? QUEUE_RESULT_TIMEOUT : 0,
	};
	for (uint32_t k = 0; k < n; k++) {
		struct pool_item *it = item_get(p, &refs[k]);
		if (!it)
			continue;
		uint32_t h = refs[k].handle;
		bool blamed = s->reap_phase == SHM_PHASE_BUSY && refs[k].seq == s->reap_seq;
		if (blamed)
			pool_spool_forget(p, it->seq, it->attempt);
		if (!blamed) {
			if (p->terminating) {
				p->not_run++;
				item_free(p, h);
			} else {
				p->requeued++;
				requeue_push(p, h);
			}
			continue;
		}
		if (code == 0 && !ran.flags) {
			/* The item ended the process with exit status 0: a success, as Python. */
			struct buf b = {0};
			pool_describe_item(&b, it->seq, pool_item_data(it), it->len);
			buf_printf(&fate, "; %s done", b.data);
			buf_free(&b);
			item_finish(p, h, &ran, (int)slot_no(p, s), s->reap_pid, 0, false,
				    s->last_cause, NULL);
		} else {
			item_failed(p, h, &ran, (int)slot_no(p, s), s->reap_pid,
				    code ? code : -SIGTERM, s->last_core, s->last_cause, NULL,
				    &fate);
		}
	}
	if (n > 0 && fate.len == 0 && !p->terminating)
		buf_printf(&fate, "; %u unstarted item%s requeued", n, n == 1 ? "" : "s");
	const char *fini = s->fini_ran ? "; fini ran" : (code != 0 ? "; fini did not run" : "");
	/* The item's fate comes before the cause and the fini: a narrow log still shows it. */
	pool_emit(p, VIEW_EVENT_WORKER_EXITED, s, s->reap_phase == SHM_PHASE_BUSY ? s->reap_seq : 0,
		  "worker %u pid %d %s%s; %s%s", slot_no(p, s), s->reap_pid, desc,
		  fate.data ? fate.data : "", pool_cause_words(s), fini);
	buf_free(&fate);
	slot_after_exit(p, s);
	return true;
}

/* A worker busy on one item for a while gives back the items of its batch it has not started,
 * so that a slow or hung item does not hold them up. */
static void slot_steal(struct pool *p, struct pool_slot *s, uint64_t now)
{
	struct shm_slot *ss = sh(p, s);
	if (s->life != LIFE_ALIVE || atomic_load(&ss->phase) != SHM_PHASE_BUSY ||
	    now - atomic_load(&ss->cur_start_ns) < STEAL_AFTER_NS ||
	    !queue_client_has_unstarted(p->q, slot_no(p, s)))
		return;
	if (queue_lock(p->q, RECLAIM_LOCK_NS) != 0)
		return;
	struct queue_ref refs[QUEUE_BATCH_MAX];
	uint32_t n = queue_client_steal(p->q, slot_no(p, s), refs);
	queue_unlock(p->q);
	for (uint32_t k = 0; k < n; k++)
		if (item_get(p, &refs[k]))
			requeue_push(p, refs[k].handle);
	if (n)
		requeue_flush(p);
}

static struct pool_slot *slot_by_pid(struct pool *p, pid_t pid)
{
	for (unsigned i = 0; i < p->nslots_used; i++)
		if (p->slots[i].pid == pid && slot_has_process(&p->slots[i]))
			return &p->slots[i];
	return NULL;
}

/* Every reaped slot dispatched (slot_reclaim), then what depends on them all once: the
 * active count, the requeued items, the end of the batch. */
static void pool_dispatch(struct pool *p)
{
	bool any = false;
	for (unsigned i = 0; i < p->nslots_used; i++)
		if (p->slots[i].life == LIFE_REAPED)
			any |= slot_reclaim(p, &p->slots[i]);
	if (!any)
		return;
	pool_update_active(p);
	requeue_flush(p);
	pool_check_end(p);
}

/* Reap first, then dispatch, as libuv's process handling does: every child that ended is
 * collected (its pid and status recorded, nothing decided), and only then are items requeued,
 * workers respawned, callbacks run and the end checked, once for the whole pass. A respawn or
 * a callback in the middle of the reaping would act on a pool half of whose deaths are not
 * known yet. */
static void pool_reap(struct pool *p)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct pool_slot *s = slot_by_pid(p, pid);
		if (s)
			slot_reaped(p, s, status);
	}
	pool_dispatch(p);
}

/* No worker ever got through its init: nothing will run. Stop, and say why. */
static void pool_give_up(struct pool *p, const struct pool_slot *s)
{
	struct buf b = {0};
	buf_printf(&b, "worker %u could not start: %.*s", slot_no(p, s),
		   (int)sizeof(sh(p, s)->init_error), sh(p, s)->init_error);
	p->fatal = xstrdup(b.data);
	buf_free(&b);
	pool_emit(p, VIEW_EVENT_NOTICE, s, 0, "%s; giving up", p->fatal);
	pool_signal_all(p, SIGKILL);
}

/* The --timeout in force: fixed, or N% of the median item time once three items are done. */
static uint64_t pool_timeout(const struct pool *p)
{
	return p->cfg.timeout_ns ? p->cfg.timeout_ns : p->timeout_pct_ns;
}

/* N% of the median, worked out again when the timer has drained new run times. */
static void pool_update_timeout(struct pool *p)
{
	if (!p->cfg.timeout_pct || p->nruntimes < 3)
		return;
	uint64_t t = pool_median_runtime(p) / 100 * p->cfg.timeout_pct;
	p->timeout_pct_ns = MAX(t, NS_PER_MS);
	if (p->cfg.job.kind->own_timeout)
		atomic_store(&p->shm.hdr->timeout_ns, p->timeout_pct_ns);
}

/* --timeout for kinds that run the item inside the worker: the worker is stopped with the
 * termination sequence, and replaced. (Command kinds stop their own jobs.) */
static void timeout_cb(uv_timer_t *h)
{
	struct pool *p = h->data;
	uint64_t limit = pool_timeout(p);
	uint64_t now = now_ns();
	pool_step_stops(p, now);
	for (unsigned i = 0; limit && i < p->nslots_used; i++) {
		struct pool_slot *s = &p->slots[i];
		struct shm_slot *ss = sh(p, s);
		if (s->life != LIFE_ALIVE || s->pid <= 0 ||
		    atomic_load(&ss->phase) != SHM_PHASE_BUSY)
			continue;
		uint64_t seq = atomic_load(&ss->cur_seq);
		uint64_t start = atomic_load(&ss->cur_start_ns);
		if (atomic_load(&ss->cur_seq) != seq || atomic_load(&ss->phase) != SHM_PHASE_BUSY ||
		    now < start || now - start < limit)
			continue;
		s->timeout_seq = seq;
		pool_emit(p, VIEW_EVENT_NOTICE, s, seq,
			  "worker %u pid %d: item %llu ran past --timeout (%.3f s): stopping the "
			  "worker",
			  slot_no(p, s), s->pid, (unsigned long long)seq, (double)limit / 1e9);
		slot_stop(p, s, VIEW_CAUSE_TIMEOUT, now);
	}
}

/* After join all, an item still running --join-timeout after the join (or after its start,
 * when later) has its worker stopped with --term-seq: a join always ends. */
static void pool_join_deadlines(struct pool *p, uint64_t now)
{
	if (!p->join_all_ns || p->terminating)
		return;
	for (unsigned i = 0; i < p->nslots_used; i++) {
		struct pool_slot *s = &p->slots[i];
		struct shm_slot *ss = sh(p, s);
		if (s->life != LIFE_ALIVE || s->pid <= 0 ||
		    atomic_load(&ss->phase) != SHM_PHASE_BUSY)
			continue;
		uint64_t since = MAX(atomic_load(&ss->cur_start_ns), p->join_all_ns);
		if (now < since || now - since < p->cfg.join_timeout_ns)
			continue;
		pool_emit(p, VIEW_EVENT_NOTICE, s, atomic_load(&ss->cur_seq),
			  "worker %u pid %d: item %llu still running %.1f s after join all "
			  "(--join-timeout): stopping it",
			  slot_no(p, s), s->pid, (unsigned long long)atomic_load(&ss->cur_seq),
			  (double)(now - since) / 1e9);
		slot_stop(p, s, VIEW_CAUSE_JOIN_TIMEOUT, now);
	}
}

/* --- what the workers say --- */

/* Relay to the event log what the process in s said since the last look: its notices, and a
 * job that cannot start (one line per run of failed tries). */
static void slot_relay(struct pool *p, struct pool_slot *s)
{
	struct shm_slot *ss = sh(p, s);
	char text[SHM_NOTE_TEXT];
	uint32_t lost = 0;
	while (shm_note_read(&ss->notes, &s->notes_seen, text, sizeof(text), &lost))
		pool_emit(p, VIEW_EVENT_NOTICE, s, 0, "worker %u: %s", slot_no(p, s), text);
	if (lost)
		pool_emit(p, VIEW_EVENT_NOTICE, s, 0, "worker %u: %u more notice%s lost",
			  slot_no(p, s), lost, lost == 1 ? "" : "s");
	uint32_t episodes = atomic_load(&ss->start.episodes);
	if (episodes == s->start_episodes_seen)
		return;
	s->start_episodes_seen = episodes;
	/* Seen after it ended (it lasted less than a timer tick): said all the same. */
	char now[32] = "retrying";
	unsigned retries = atomic_load(&ss->start.retries);
	if (!atomic_load(&ss->start.failing))
		snprintf(now, sizeof(now), "retried %u time%s", retries, retries == 1 ? "" : "s");
	pool_emit(p, VIEW_EVENT_NOTICE, s, 0, "worker %u: cannot start the %s: %s (%s): %s",
		  slot_no(p, s), p->cfg.job.kind->submit ? "program" : "job",
		  strerror(atomic_load(&ss->start.err)),
		  spawn_call_name(atomic_load(&ss->start.call)), now);
}

/* A job that cannot start is retried by its worker for as long as it takes. When none could
 * start anywhere in the pool for start_give_up_ns — some worker failing, none running a job,
 * no item finishing, dispatch not paused — the limit is not lifting by itself: give up as
 * when no worker can start, saying why. What never started is then reported not run (no
 * joblog row: --resume runs it), never failed with 126 or 127. */
static void pool_watch_starts(struct pool *p, uint64_t now)
{
	if (p->terminating || p->fatal)
		return;
	struct pool_slot *stuck = NULL;
	bool running = false;
	for (unsigned i = 0; i < p->nslots_used; i++) {
		struct pool_slot *s = &p->slots[i];
		if (!slot_has_process(s))
			continue;
		struct shm_slot *ss = sh(p, s);
		if (atomic_load(&ss->start.failing))
			stuck = stuck ? stuck : s;
		else if (atomic_load(&ss->job_pid) > 0)
			running = true;
	}
	uint64_t finished = p->done + p->failed;
	if (!stuck || running || finished != p->start_finished ||
	    atomic_load(&p->shm.hdr->paused)) {
		p->start_stuck_ns = 0;
		p->start_finished = finished;
		return;
	}
	if (!p->start_stuck_ns) {
		p->start_stuck_ns = now;
		return;
	}
	uint64_t limit = p->cfg.start_give_up_ns ? p->cfg.start_give_up_ns : POOL_START_GIVE_UP_NS;
	if (now - p->start_stuck_ns < limit)
		return;
	struct shm_slot *ss = sh(p, stuck);
	struct buf b = {0};
	buf_printf(&b,
		   "no job could start for %.1f s (worker %u: %s (%s)): giving up; what did not "
		   "start is not run (--resume runs it)",
		   (double)(now - p->start_stuck_ns) / 1e9, slot_no(p, stuck),
		   strerror(atomic_load(&ss->start.err)),
		   spawn_call_name(atomic_load(&ss->start.call)));
	p->fatal = xstrdup(b.data);
	buf_free(&b);
	pool_emit(p, VIEW_EVENT_NOTICE, stuck, 0, "%s", p->fatal);
	pool_signal_all(p, SIGTERM);
}

/* --- starting workers as items wait for them --- */

/* Whether a worker the spawner started is still in its init. */
static bool pool_starting(struct pool *p)
{
	for (; p->spawn_check < p->spawn_next; p->spawn_check++) {
		struct pool_slot *s = &p->slots[p->spawn_check];
		if (s->life == LIFE_ALIVE && atomic_load(&sh(p, s)->phase) == SHM_PHASE_STARTING)
			return true;
	}
	return false;
}

static void spawn_timer_cb(uv_timer_t *h)
{
	pool_spawn_wanted(h->data);
}

/* Start more of the slots pool_start left unstarted when items wait for a worker: items have
 * waited in INPUT (or to go back into it) for SPAWN_WAIT_MS while no worker went to sleep on
 * INPUT or was still starting. Trivial items never wait so (the workers there keep running out
 * of items), slow ones do. Each burst doubles the workers started so far (at most the items
 * waiting), SPAWN_STEP per loop turn so that the loop keeps answering: the pool reaches -j in a
 * few bursts when the load asks for it, and stays small when it does not. */
static void pool_spawn_wanted(struct pool *p)
{
	if (p->spawn_next >= p->spawn_end || p->closing || p->terminating || p->end_joined) {
		p->spawn_end = p->spawn_next; /* none will be needed */
		p->spawn_burst = 0;
		uv_timer_stop(&p->spawn_timer);
		return;
	}
	uint64_t waiting = p->rq_len + queue_input_count(p->q);
	if (!waiting) {
		p->spawn_burst = 0;
		uv_timer_stop(&p->spawn_timer);
	}
	if (p->spawn_burst == 0) {
		uint64_t now = now_ns();
		bool idle = queue_input_idled(p->q, &p->spawn_naps) || pool_starting(p);
		if (!waiting || idle)
			p->spawn_since = now;
		if (!waiting)
			return;
		/* Look again while items wait, even if nothing else wakes the loop. */
		if (!uv_is_active((uv_handle_t *)&p->spawn_timer))
			uv_timer_start(&p->spawn_timer, spawn_timer_cb, SPAWN_WAIT_MS,
				       SPAWN_WAIT_MS);
		if (idle || now - p->spawn_since < SPAWN_WAIT_MS * NS_PER_MS)
			return;
		p->spawn_burst = (unsigned)MIN(waiting, MAX(p->spawn_next, 1u));
	}
	for (unsigned n = 0; n < SPAWN_STEP && p->spawn_burst && p->spawn_next < p->spawn_end;
	     p->spawn_next++) {
		if (slot_pending(p, p->spawn_next)) {
			slot_spawn(p, &p->slots[p->spawn_next]);
			p->spawn_burst--;
			n++;
		}
	}
	if (p->spawn_next >= p->spawn_end)
		p->spawn_burst = 0;
	p->spawn_since = now_ns();
}

/* --- the end of the batch --- */

static bool pool_all_gone(const struct pool *p)
{
	for (unsigned i = 0; i < p->nslots_used; i++) {
		enum pool_life l = p->slots[i].life;
		if (l == LIFE_ALIVE || l == LIFE_STOPPING || l == LIFE_REAPED)
			return false;
	}
	return true;
}

static void pool_check_end(struct pool *p)
{
	if (p->finished)
		return;
	bool no_work = p->terminating || (p->inflight == 0 && (p->input_ended || p->closing));
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
	if (p->terminating && p->inflight) {
		/* Results the workers published before they died are delivered, not lost. */
		if (p->consuming)
			return; /* the pump calls again once it is done */
		pool_consume_results(p);
		if (p->finished)
			return;
		/* Items never started when the pool was terminated: report them not run. */
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

/* --- the spool: outputs too large for the RESULT ring --- */

/* The run's spool directory, made in TMPDIR (or /tmp), private to us. Failing is not fatal:
 * outputs larger than the ring are then cut, and said so. */
static void pool_spool_init(struct pool *p)
{
	const char *parent =
		p->cfg.spool_parent && *p->cfg.spool_parent ? p->cfg.spool_parent : "/tmp";
	struct buf b = {0};
	buf_printf(&b, "%s/pooltop-spool.XXXXXX", parent);
	if (!mkdtemp(b.data)) {
		pool_emit(p, VIEW_EVENT_NOTICE, NULL, 0,
			  "cannot make a spool directory in %s: %s (outputs over %u KiB are cut)",
			  parent, strerror(errno), JOB_OUTPUT_MEM >> 10);
		buf_free(&b);
		return;
	}
	p->spool_dirfd = open(b.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->spool_dirfd < 0) {
		rmdir(b.data);
		buf_free(&b);
		return;
	}
	p->spool_dir = b.data;
}

static void spool_name(char *name, size_t len, uint64_t seq, uint32_t attempt)
{
	snprintf(name, len, "%llu.%u", (unsigned long long)seq, attempt);
}

/* The spool file of a result marked SPOOLED: opened, unlinked (the fd keeps it), into *o. A
 * file that cannot be read is an output lost: the result says truncated. */
static void pool_spool_take(struct pool *p, struct queue_result *res, struct pool_out *o)
{
	char name[48];
	spool_name(name, sizeof(name), res->ref.seq, res->ref.attempt);
	int fd = p->spool_dir ? openat(p->spool_dirfd, name, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		res->flags |= QUEUE_RESULT_TRUNCATED;
		return;
	}
	unlinkat(p->spool_dirfd, name, 0);
	o->data = NULL;
	o->len = (uint64_t)st.st_size;
	o->spool_fd = fd;
}

/* What a worker that died left of an item's output. */
static void pool_spool_forget(struct pool *p, uint64_t seq, uint32_t attempt)
{
	char name[48];
	if (!p->spool_dir)
		return;
	spool_name(name, sizeof(name), seq, attempt);
	unlinkat(p->spool_dirfd, name, 0);
}

/* The directory and whatever is left in it. */
static void pool_spool_remove(struct pool *p)
{
	if (!p->spool_dir)
		return;
	DIR *d = fdopendir(p->spool_dirfd);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(p->spool_dirfd, e->d_name, 0);
		closedir(d); /* closes spool_dirfd */
	} else {
		close(p->spool_dirfd);
	}
	rmdir(p->spool_dir);
	free(p->spool_dir);
	p->spool_dir = NULL;
}

/* --- the loop --- */

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
		struct pool_out o = {.data = out, .len = res.out_len, .spool_fd = -1};
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
	return p->rq_len == 0 && queue_input_count(p->q) <= p->max_queued / 2 &&
	       queue_input_free(p->q) >= p->want_bytes;
}

static void pool_pump(struct pool *p)
{
	pool_consume_results(p);
	requeue_flush(p);
	if (p->want_space && (p->closing || p->terminating || pool_has_space(p))) {
		p->want_space = false;
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

/* --- life --- */

#define SLOTS_SIZE (POOLTOP_MAX_WORKERS * sizeof(struct pool_slot))

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
	p->open_handles = 7;
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
	pool_update_active(p);
	return 0;
}

int pool_submit(struct pool *p, uint64_t seq, const void *item, size_t len)
{
	if (p->closing || p->terminating || p->input_ended)
		return -EPIPE;
	if (len > queue_max_item(p->q))
		return -E2BIG;
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
	munmap(p->slots, SLOTS_SIZE);
	free(p->fatal);
	pool_spool_remove(p);
	if (p->efd >= 0)
		close(p->efd);
	shm_destroy(&p->shm);
	free(p);
}

/* --- commands --- */

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

int pool_slot_join(struct pool *p, unsigned slot, uint64_t generation)
{
	int err = 0;
	struct pool_slot *s = slot_named(p, slot, generation, &err);
	if (!s)
		return err;
	slot_request_join(p, s, VIEW_CAUSE_JOIN);
	pool_update_active(p);
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
	if (kill(-s->pid, sig) < 0 && kill(s->pid, sig) < 0)
		return -errno;
	pid_t job = atomic_load(&sh(p, s)->job_pid);
	if (job > 0)
		kill(-job, sig);
	return 0;
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
	pool_update_active(p);
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

/* Stop every worker: with --term-seq (sig SIGTERM) or SIGKILL now; nothing is respawned. */
static void pool_signal_all(struct pool *p, int sig)
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
			slot_request_join(p, s, VIEW_CAUSE_JOIN);
			active--;
		}
	}
	pool_update_active(p);
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

/* --- the snapshot --- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t pool_median_runtime(const struct pool *p)
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
	if (s->life == LIFE_ALIVE)
		v->state = phase == SHM_PHASE_STARTING ? VIEW_STARTING
			   : phase == SHM_PHASE_BUSY   ? VIEW_BUSY
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
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&ss->cur_lock, memory_order_relaxed) == l1) {
			v->age_ns = now > start ? now - start : 0;
			/* Waiting to start its job is not running it: not HUNG. */
			v->hung = v->age_ns > hang_ns && !v->start_failing;
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
		    v.state == VIEW_STOPPING)
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
