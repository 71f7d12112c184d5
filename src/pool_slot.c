/* The pool's worker slots: the slot state machine (its edge table below), a worker's start,
 * its signals, stops and joins, its reaping and the dispatch that follows, the start of workers
 * beyond the first few as items wait, --timeout, and what workers say through their shared
 * slot. Part of the supervisor: see pool.c's DESIGN. */
#include "pool_internal.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "worker.h"

static void pool_give_up(struct pool *p, const struct pool_slot *s);

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

void slot_set_life(struct pool *p, struct pool_slot *s, enum pool_life to)
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

void slot_spawn(struct pool *p, struct pool_slot *s)
{
	struct shm_slot *ss = sh(p, s);
	s->generation++;
	atomic_store(&ss->pid, 0);
	atomic_store(&ss->phase, SHM_PHASE_STARTING);
	atomic_store(&ss->join, 0);
	atomic_store(&ss->fini_ran, 0);
	atomic_store(&ss->items_run, 0);
	atomic_store(&ss->job_pid, 0);
	atomic_store(&ss->init_failed, 0);
	atomic_store(&ss->generation, s->generation);
	s->timeout_seq = 0;
	s->tstop = (struct spawn_stop){0};
	s->stopped_pid = 0;
	s->stopped_seq = s->stopped_ns = 0;
	s->requeue_item = false;

	struct worker_args args = {
		.shm = &p->shm,
		.slot = slot_no(p, s),
		.job = p->cfg.job,
		.notify_fd = p->efd,
		.parent = getpid(),
		.max_items = p->cfg.max_items_per_worker,
		.tag = p->cfg.tag,
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
bool slot_pending(const struct pool *p, unsigned i)
{
	return i >= p->spawn_next && i < p->spawn_end && p->slots[i].life == LIFE_EMPTY;
}

/* Workers in the pool, counting those still to be started on demand. */
unsigned pool_active(const struct pool *p)
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

/* A command kind's job is in its own process group: what is done to the worker is done to
 * it too, so that no job outlives its worker. */
void slot_signal_job(struct pool *p, const struct pool_slot *s, int sig)
{
	pid_t job = atomic_load(&sh(p, s)->job_pid);
	if (job <= 0)
		return;
	kill(-job, sig);
	if (sig != SIGKILL)
		kill(-job, SIGCONT);
}

/* Whom a signal from the user (pool_slot_signal) is for: the job's process group while the
 * worker runs one (command and persistent kinds), else the worker's. A worker's signals are
 * at their defaults: SIGUSR1 or SIGHUP meant for a job would end the worker. */
pid_t slot_signal_target(struct pool *p, const struct pool_slot *s)
{
	pid_t job = atomic_load(&sh(p, s)->job_pid);
	return job > 0 ? job : s->pid;
}

/* Stopped by the user, and the process stopped is still the one doing the slot's work. */
bool slot_stopped(struct pool *p, const struct pool_slot *s)
{
	return s->stopped_pid > 0 && slot_has_process(s) &&
	       s->stopped_pid == slot_signal_target(p, s);
}

static bool sig_stops(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Keep track of a stop sent to target, or of a SIGCONT (which every signal but SIGKILL from
 * slot_signal is followed by): the time stopped on the current item is added up, so that it
 * does not count toward HUNG. */
void slot_note_signal(struct pool *p, struct pool_slot *s, pid_t target, int sig, uint64_t now)
{
	if (sig_stops(sig)) {
		if (!slot_stopped(p, s) || s->stopped_pid != target)
			s->stopped_since_ns = now;
		s->stopped_pid = target;
		return;
	}
	if (sig != SIGCONT && sig != SIGKILL)
		return;
	if (slot_stopped(p, s)) {
		struct shm_slot *ss = sh(p, s);
		uint64_t seq = atomic_load(&ss->cur_seq);
		uint64_t from = MAX(s->stopped_since_ns, atomic_load(&ss->cur_start_ns));
		if (seq != s->stopped_seq) {
			s->stopped_seq = seq;
			s->stopped_ns = 0;
		}
		s->stopped_ns += now > from ? now - from : 0;
	}
	s->stopped_pid = 0;
}

/* Signal the slot's process: its process group (a worker leads one, so what a plugin forked
 * goes with it) and its job's. */
int slot_signal(struct pool *p, struct pool_slot *s, int sig, enum view_cause cause)
{
	if (!slot_has_process(s) || s->pid <= 0)
		return -ESRCH;
	if (kill(-s->pid, sig) < 0 && kill(s->pid, sig) < 0)
		return -errno;
	if (sig != SIGKILL)
		kill(-s->pid, SIGCONT); /* a stopped process acts on SIGTERM only once continued */
	slot_signal_job(p, s, sig);
	slot_note_signal(p, s, 0, SIGCONT, now_ns());
	if (s->life == LIFE_ALIVE || s->stop_cause == VIEW_CAUSE_NONE ||
	    s->stop_cause == VIEW_CAUSE_JOIN || s->stop_cause == VIEW_CAUSE_END)
		s->stop_cause = cause;
	s->stop_signal = sig;
	slot_set_life(p, s, LIFE_STOPPING);
	return 0;
}

/* The next signal of the slot's --term-seq. */
static void slot_stop_step(struct pool *p, struct pool_slot *s, enum view_cause cause, uint64_t now)
{
	slot_signal(p, s, spawn_stop_next(&s->tstop, now), cause);
}

/* Stop the slot's process with --term-seq (TERM, ..., KILL): the first signal now, the next
 * ones from the fine timer until it is reaped, so that it ends whatever it ignores. */
void slot_stop(struct pool *p, struct pool_slot *s, enum view_cause cause, uint64_t now)
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

void slot_request_join(struct pool *p, struct pool_slot *s, enum view_cause cause)
{
	if (!slot_has_process(s))
		return;
	struct shm_slot *ss = sh(p, s);
	if (!atomic_load(&ss->join)) {
		atomic_store(&ss->join, 1);
		s->stop_cause = cause;
		s->join_stage = 0;
		s->join_patient = false;
		s->deadline_ns = now_ns() + p->cfg.join_timeout_ns;
	}
	s->retire = true;
	slot_set_life(p, s, LIFE_STOPPING);
	/* Sleepers are woken once for every join of this loop turn, by pool_pump: one wake-up
	 * per join had 1024 joins at the end of a batch wake ~1000 sleepers each. */
	p->wake_joined = true;
}

/* Wake every sleeping worker, so that the joined ones see their flag: once per loop turn. */
void pool_wake_joined(struct pool *p)
{
	p->wake_joined = false;
	queue_wake_all(p->q);
	atomic_fetch_add(&p->shm.hdr->pause_seq, 1);
	futex_wake_u32(&p->shm.hdr->pause_seq, 1 << 30);
}

void slot_request_join_patient(struct pool *p, struct pool_slot *s, enum view_cause cause)
{
	if (!slot_has_process(s))
		return;
	bool asked = atomic_load(&sh(p, s)->join);
	slot_request_join(p, s, cause);
	/* A join already asked keeps its deadline. */
	if (!asked)
		s->join_patient = true;
}

/* Past a join's deadline: SIGTERM, then SIGKILL (a patient join waits for the item first). */
void slot_escalate(struct pool *p, struct pool_slot *s, uint64_t now)
{
	if (s->life != LIFE_STOPPING || !atomic_load(&sh(p, s)->join) || now < s->deadline_ns)
		return;
	if (s->join_patient && s->join_stage == 0 &&
	    atomic_load(&sh(p, s)->phase) == SHM_PHASE_BUSY) {
		/* Its item runs to its end; the join's time counts from there. */
		s->deadline_ns = now + p->cfg.join_timeout_ns;
		return;
	}
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
		if (blamed && s->requeue_item) {
			/* Killed to be run again: back to INPUT as it was, its attempt not
			 * counted (not run if the pool is being terminated). */
			buf_printf(&fate, "; ");
			pool_describe_item(&fate, it->seq, pool_item_data(it), it->len);
			if (p->terminating) {
				buf_printf(&fate, " not run (terminating)");
				p->not_run++;
				item_free(p, h);
			} else {
				buf_printf(&fate, " requeued (not counted as an attempt)");
				p->requeued++;
				requeue_push(p, h);
			}
			continue;
		}
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
void slot_steal(struct pool *p, struct pool_slot *s, uint64_t now)
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
	requeue_flush(p);
	pool_check_end(p);
}

/* Reap first, then dispatch, as libuv's process handling does: every child that ended is
 * collected (its pid and status recorded, nothing decided), and only then are items requeued,
 * workers respawned, callbacks run and the end checked, once for the whole pass. A respawn or
 * a callback in the middle of the reaping would act on a pool half of whose deaths are not
 * known yet. */
void pool_reap(struct pool *p)
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
uint64_t pool_timeout(const struct pool *p)
{
	return p->cfg.timeout_ns ? p->cfg.timeout_ns : p->timeout_pct_ns;
}

/* N% of the median, worked out again when the timer has drained new run times. */
void pool_update_timeout(struct pool *p)
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
void timeout_cb(uv_timer_t *h)
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
void pool_join_deadlines(struct pool *p, uint64_t now)
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

/* Relay to the event log what the process in s said since the last look: its notices, and a
 * job that cannot start (one line per run of failed tries). */
void slot_relay(struct pool *p, struct pool_slot *s)
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
void pool_watch_starts(struct pool *p, uint64_t now)
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
void pool_spawn_wanted(struct pool *p)
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
