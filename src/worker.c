/* The child side of the pool.
 *
 * DESIGN
 *
 * A worker is forked without exec from the parent's loop thread and never returns to it: no
 * libuv and no curses here, and it leaves with _exit() (exit() would run the parent's atexit
 * handlers and LeakSanitizer). First thing, it asks for a signal when its parent dies
 * (PR_SET_PDEATHSIG) and checks the parent did not die before that; it puts every signal back
 * to its default disposition with an empty mask (libuv's and cmocka's handlers are inherited),
 * so SIGTERM kills it with -15 and fini does not run, as in Python. The one exception is the
 * parent-death signal, whose handler SIGKILLs the running job's process group before the
 * worker dies of it: so a job's own children die with pooltop too.
 *
 * The job and its context (job.h): the spec in worker_args is the parent's, copied at fork
 * and only ever read here (const); what this process keeps is its struct job_ctx, owned by
 * struct worker: the places in the shared slot a kind reports to (set up once, before init),
 * the kind's state, the item in hand. Both go to every operation of the kind.
 *
 * The loop: pop a batch from INPUT (see queue.c for why that is kill-safe), run each item,
 * publish results in groups. While an item runs, the slot says BUSY with the item's sequence
 * number: if the process dies then, the parent blames that item (its exit code becomes the
 * item's) and requeues the other unpublished items of the batch without counting an attempt.
 * Results are published after a slow item at once, fast items in groups of up to 32, so a death
 * costs at most one group of cheap re-runs and the dashboard sees progress within milliseconds.
 *
 * The runner, chosen once per worker from the kind (struct worker's run_batch): items one at a
 * time (the kind's run), or pipelined, up to in_flight items handed over ahead of their results
 * (submit and collect: --persistent). Either claims each item just before handing it over,
 * stops taking items at a join, and publishes what is finished before it waits out a pause.
 *
 * A batch is as many items as run in half a millisecond at the worker's own pace (one item
 * while it does not know its pace yet), so that items start in input order. An idle worker spins
 * briefly, then sleeps on INPUT until a push wakes it (a push wakes one sleeper per batch, see
 * queue.c) or a join is asked; it looks at the ring every 30 s without the lock, so a pool of
 * idle workers costs next to nothing.
 *
 * Each item of a batch is claimed just before it starts (queue_claim): when the worker has
 * been busy on one item for long, the parent takes the unstarted rest back for other workers,
 * so a hanging item never holds its batch-mates hostage.
 *
 * Join: the parent sets slot->join. The worker finishes the item in hand, publishes what it
 * finished, runs the kind's fini, marks fini_ran and exits 0. Items it took but did not start
 * stay in its held list, which the parent requeues when it reaps the process.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

/* The parent-death signal: the last real-time signal, which glibc keeps none of. */
#define WORKER_DEATH_SIG SIGRTMAX
#define PUBLISH_GROUP	 32
#define SLOW_ITEM_NS	 (200 * 1000ULL)
/* Items faster than this are timed in groups of up to CLOCK_GROUP: one clock read (30 ns on
 * these machines) per group, its span shared evenly among its items, instead of one per item,
 * which was a fifth of a trivial item's cost. A slower item is timed on its own. */
#define FAST_ITEM_NS	(2 * 1000ULL)
#define CLOCK_GROUP	8
#define BATCH_BUDGET_NS (500 * 1000ULL)
#define IDLE_WAIT_NS	(100 * NS_PER_MS)
/* The longest an idle or paused worker sleeps between two looks at INPUT or the pause flag.
 * Wake-ups are not lost (queue.c; resume and join wake every paused worker), and the parent
 * wakes sleepers for items left in INPUT a whole tick: this timeout is only the last backstop,
 * for a parent held up, so it is long enough that idle workers cost next to nothing. A wake-up
 * costs an idle worker 0.1 to 0.2 ms of CPU on this VM: 1024 idle workers took 13% of a core
 * waking every second, 4% every 5 s. */
#define IDLE_SLEEP_NS (30 * NS_PER_S)

struct worker {
	const struct worker_args *a;
	struct queue *q;
	struct shm_slot *slot;
	struct buf items;
	size_t offs[QUEUE_BATCH_MAX + 1];
	struct buf outs;
	size_t out_offs[QUEUE_BATCH_MAX + 1];
	struct queue_result res[QUEUE_BATCH_MAX];
	uint32_t npending;  /* results in res[] not yet published */
	uint32_t published; /* held index published up to */
	uint64_t ewma_ns;   /* smoothed item runtime */
	uint64_t max_output;
	struct job_output out; /* the current item's output */
	struct buf tag;	       /* --tag: the current item and a tab */
	struct job_stderr err; /* and its stderr, as kept for the result */
	int spool_dirfd;       /* where outputs too large for RESULT go, -1 when nowhere */
	const struct job *job; /* the parent's spec: a->job */
	struct job_ctx ctx;    /* this process's: the kind's state, the item in hand */
	/* The runner, chosen once from the kind: runs the batch in hand, claiming its items one by
	 * one, until none is left or a join is asked. */
	void (*run_batch)(struct worker *w);
	int32_t pid; /* getpid() once: it is a system call, and was 10% of a trivial item */
	/* The clock when the items not yet timed began (the last read, if the next item started
	 * right after it: same batch, nothing waited on in between), 0 when unknown. */
	uint64_t group_ns;
	uint32_t untimed; /* the last results in res[] whose times are not known yet */
};

/* What the worker says (complain) is the current item's stderr too: builtins say why an item
 * failed that way. */
static struct job_stderr *worker_item_err;

static void worker_complain_copy(const char *line, size_t n)
{
	job_stderr_write(worker_item_err, line, n);
}

/* stderr as a stdio stream (fprintf(stderr, ...), perror) writes through here: on to the
 * worker's stderr, one write per call as before (the stream is unbuffered), and kept as the
 * current item's. So what a plugin prints there during an item is that item's stderr, at no
 * cost per item; a write(2) straight to the descriptor is not seen. */
static ssize_t worker_stderr_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	(void)write_all(STDERR_FILENO, buf, n);
	job_stderr_write(worker_item_err, buf, n);
	return (ssize_t)n;
}

static void worker_wrap_stderr(void)
{
	cookie_io_functions_t io = {.write = worker_stderr_write};
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		return; /* stderr stays as it was: only not kept per item */
	setvbuf(f, NULL, _IONBF, 0);
	stderr = f;
}

/* The shared slot's job_pid, for worker_parent_died_cb. */
static _Atomic int32_t *worker_job_pid;

/* The parent died (pooltop was killed): take the job's whole process group along, then die as
 * the signal says. Only system calls, on any instruction: async-signal-safe. */
static void worker_parent_died_cb(int sig)
{
	pid_t job = worker_job_pid ? atomic_load(worker_job_pid) : 0;
	if (job > 0)
		kill(-job, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void worker_reset_process(const struct worker_args *a)
{
	/* Dying with the parent is a signal the worker handles (WORKER_DEATH_SIG, which nobody
	 * else sends): a job's own children would outlive a plain SIGKILL of the worker. */
	prctl(PR_SET_PDEATHSIG, WORKER_DEATH_SIG);
	if (getppid() != a->parent)
		_exit(1);
	/* Its own process group: a Ctrl-C on pooltop's terminal is pooltop's to handle (join
	 * all), not a SIGINT to every worker. */
	setpgid(0, 0);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sigaction(sig, &sa, NULL);
	}
	worker_job_pid = &shm_slot(a->shm, a->slot)->job_pid;
	sa.sa_handler = worker_parent_died_cb;
	sigaction(WORKER_DEATH_SIG, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		if (null != 0)
			close(null);
	}
	if (a->stderr_fd >= 0)
		dup2(a->stderr_fd, 2);
	/* A kind that prints to stdout must not corrupt the parent's results stream. */
	dup2(2, 1);
	/* Close what the parent had open (its loop, the terminal, files), keeping notify_fd. */
	if (a->notify_fd > 3)
		close_range(3, (unsigned)a->notify_fd - 1, 0);
	close_range((unsigned)(a->notify_fd >= 3 ? a->notify_fd + 1 : 3), ~0U, 0);
}

static void worker_notify_parent(struct worker *w)
{
	if (atomic_exchange(&w->q->parent_waiting, 0)) {
		uint64_t one = 1;
		ssize_t r = write(w->a->notify_fd, &one, sizeof(one));
		(void)r; /* a full eventfd already wakes the parent */
	}
}

static void worker_check_parent(struct worker *w)
{
	if (getppid() != w->a->parent)
		_exit(1);
}

static void worker_time_items(struct worker *w, uint64_t start, uint64_t end);

static void worker_publish(struct worker *w)
{
	if (w->untimed)
		worker_time_items(w, w->group_ns, now_ns());
	w->group_ns = 0; /* it may wait for room */
	uint32_t target = w->published + w->npending;
	uint32_t done = 0; /* of the pending results */
	while (w->published < target) {
		const char *out[QUEUE_BATCH_MAX];
		for (uint32_t k = done; k < w->npending; k++)
			out[k - done] = w->outs.data + w->out_offs[k];
		uint64_t head = queue_result_head(w->q);
		int r = queue_push_results(w->q, w->a->slot, target, w->res + done, out);
		if (r > 0) {
			done += (uint32_t)r;
			w->published += (uint32_t)r;
			continue;
		}
		if (r == -ENOSPC) {
			/* The parent drains RESULT; sleep until it frees something. */
			worker_notify_parent(w);
			queue_wait_space(w->q, head, IDLE_WAIT_NS);
		}
		worker_check_parent(w);
	}
	w->npending = 0;
	buf_reset(&w->outs);
	worker_notify_parent(w);
}

static _Noreturn void worker_leave(struct worker *w)
{
	worker_publish(w);
	atomic_store(&w->slot->phase, SHM_PHASE_FINI);
	if (w->job->kind->fini)
		w->job->kind->fini(w->job, &w->ctx);
	atomic_store(&w->slot->fini_ran, 1);
	int status = w->ctx.exit_status;
	if (status < 0) {
		signal(-status, SIG_DFL);
		raise(-status);
		_exit(128 - status);
	}
	_exit(status);
}

static void worker_set_current(struct worker *w, const struct queue_ref *ref, const char *item,
			       size_t len, uint64_t start)
{
	struct shm_slot *s = w->slot;
	uint32_t l = atomic_load_explicit(&s->cur_lock, memory_order_relaxed);
	atomic_store_explicit(&s->cur_lock, l + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->cur_seq, ref->seq, memory_order_relaxed);
	atomic_store_explicit(&s->cur_len, (uint32_t)MIN(len, UINT32_MAX), memory_order_relaxed);
	atomic_store_explicit(&s->cur_start_ns, start, memory_order_relaxed);
	size_t n = MIN(len, sizeof(s->cur_preview));
	memcpy(s->cur_preview, item, n);
	atomic_store_explicit(&s->cur_lock, l + 2, memory_order_release);
	/* BUSY last: when the parent sees BUSY after a death, cur_seq is this item. */
	atomic_store_explicit(&s->phase, SHM_PHASE_BUSY, memory_order_release);
}

/* Items to ask for: as many as run in BATCH_BUDGET_NS at this worker's pace, and one until it
 * knows its pace. Items so start in input order, the oldest waiting first, as GNU parallel's
 * and xargs's do: only items measured fast (a batch of them runs within half a millisecond) are
 * taken several at a time, where nobody can see their order. A first batch of a fair share of
 * what waits started items 1, 11, 21 on -j 3 and ran item 2 only after 1 finished. */
static uint32_t worker_batch_size(struct worker *w)
{
	uint64_t n = w->ewma_ns ? BATCH_BUDGET_NS / w->ewma_ns : 1;
	if (w->a->max_items) {
		uint64_t run = atomic_load(&w->slot->items_run);
		n = MIN(n, w->a->max_items - run);
	}
	return (uint32_t)MAX(1, MIN(n, QUEUE_BATCH_MAX));
}

/* Nothing to take: spin briefly (waking a sleeping process costs tens of microseconds), then
 * sleep until items come or a join is asked. A wait that ends with the ring still empty sleeps
 * again at once: no lock, no spin, no word to the parent. */
static void worker_idle(struct worker *w)
{
	for (int spin = 0; spin < 200 && !queue_input_ready(w->q); spin++)
		cpu_relax();
	if (queue_input_ready(w->q))
		return;
	worker_notify_parent(w);
	do {
		queue_wait_input(w->q, w->a->slot, &w->slot->join, IDLE_SLEEP_NS);
		worker_check_parent(w);
	} while (!queue_input_ready(w->q) && !atomic_load(&w->slot->join));
}

static void worker_wait_unpaused(struct worker *w)
{
	struct shm_header *h = w->a->shm->hdr;
	while (atomic_load(&h->paused) && !atomic_load(&w->slot->join)) {
		uint32_t seq = atomic_load(&h->pause_seq);
		/* Both flags again, after the word: a resume or a join that bumped it before
		 * this read set its flag before the bump, and is seen here. */
		if (!atomic_load(&h->paused) || atomic_load(&w->slot->join))
			break;
		futex_wait_u32(&h->pause_seq, seq, IDLE_SLEEP_NS);
		worker_check_parent(w);
	}
}

/* Mark item k of the batch as the one running: BUSY, and the context has its number. */
static void worker_item_begin(struct worker *w, uint32_t k, uint64_t start)
{
	struct queue_ref ref = queue_client(w->q, w->a->slot)->held[k];
	const char *item = w->items.data + w->offs[k];
	size_t len = w->offs[k + 1] - w->offs[k];
	worker_set_current(w, &ref, item, len, start);
	w->ctx.seq = ref.seq;
}

/* Item k's output starts: empty, spooled (if it must be) under its sequence and attempt. */
static void worker_output_reset(struct worker *w, uint32_t k)
{
	struct queue_ref ref = queue_client(w->q, w->a->slot)->held[k];
	job_output_reset(&w->out, w->spool_dirfd, ref.seq, ref.attempt);
	if (w->a->tag) {
		/* An item of several values (NUL-separated) is tagged with them joined by spaces,
		 * as GNU parallel's {} and --tag. */
		buf_reset(&w->tag);
		for (size_t i = w->offs[k]; i < w->offs[k + 1]; i++)
			buf_putc(&w->tag, w->items.data[i] ? w->items.data[i] : ' ');
		buf_putc(&w->tag, '\t');
		w->out.tag = w->tag.data;
		w->out.tag_len = w->tag.len;
	}
}

/* Item k ended with code and w->out: queue its result and count it. Its times are filled in
 * by worker_time_items. */
static void worker_item_end(struct worker *w, uint32_t k, int code, bool timed_out)
{
	struct queue_ref ref = queue_client(w->q, w->a->slot)->held[k];
	struct queue_result *res = &w->res[w->npending];
	memset(res, 0, sizeof(*res));
	res->ref = ref;
	res->slot = (int32_t)w->a->slot;
	res->pid = w->pid;
	res->exitcode = code;
	if (timed_out)
		res->flags |= QUEUE_RESULT_TIMEOUT;
	if (job_output_finish(&w->out))
		res->flags |= QUEUE_RESULT_SPOOLED; /* in the file "SEQ.ATTEMPT" */
	if (w->out.err) {
		/* The output could not be kept whole: the item fails, and says why. */
		res->flags |= QUEUE_RESULT_TRUNCATED;
		if (res->exitcode == 0)
			res->exitcode = 1;
		complain("worker %u: item %llu: output cut at %llu bytes: %s", w->a->slot,
			 (unsigned long long)ref.seq, (unsigned long long)w->out.len,
			 w->out.err == -ENOENT && w->spool_dirfd < 0
				 ? "no spool directory for outputs over 1 MiB"
				 : strerror(-w->out.err));
	}
	size_t olen = res->flags & QUEUE_RESULT_SPOOLED ? 0 : MIN(w->out.mem.len, w->max_output);
	res->out_len = (uint32_t)olen;
	w->out_offs[w->npending] = w->outs.len;
	buf_append(&w->outs, w->out.mem.data, olen);
	/* Its stderr follows the output in the record: at most JOB_STDERR_MAX and a line, which
	 * fits beside an output held in memory (JOB_OUTPUT_MEM, half the ring's limit). */
	job_stderr_finish(&w->err);
	if (w->err.cut)
		res->flags |= QUEUE_RESULT_STDERR_CUT;
	size_t elen = MIN(w->err.mem.len, w->max_output - olen);
	res->err_len = (uint32_t)elen;
	buf_append(&w->outs, w->err.mem.data, elen);
	job_stderr_reset(&w->err);
	w->npending++;
	w->untimed++;
	atomic_fetch_add_explicit(&w->slot->items_run, 1, memory_order_relaxed);
}

/* The untimed results ran back to back from start to end: share the span among them, record
 * their stats, and publish when due. */
static void worker_time_items(struct worker *w, uint64_t start, uint64_t end)
{
	uint32_t m = w->untimed;
	uint32_t first = w->npending - m;
	uint64_t span = end > start ? end - start : 0;
	w->untimed = 0;
	for (uint32_t i = 0; i < m; i++) {
		struct queue_result *res = &w->res[first + i];
		uint64_t s = start + span * i / m;
		uint64_t rt = start + span * (i + 1) / m - s;
		res->start_ns = s;
		res->runtime_ns = rt;
		w->ewma_ns = w->ewma_ns ? w->ewma_ns - w->ewma_ns / 8 + rt / 8 : MAX(rt, 1);
		struct stats_record st = {
			.seq = res->ref.seq,
			.start_ns = s,
			.runtime_ns = rt,
			.exitcode = res->exitcode,
			.attempt = res->ref.attempt,
		};
		stats_push(&w->slot->stats, &st);
	}
	if (span >= SLOW_ITEM_NS || w->npending >= PUBLISH_GROUP)
		worker_publish(w);
}

/* A timed-out item fails, even when the job caught the signal and exited 0. */
static int worker_timeout_code(int code)
{
	return code == 0 ? -SIGTERM : code;
}

static void worker_run_item(struct worker *w, uint32_t k)
{
	const struct job *job = w->job;
	const char *item = w->items.data + w->offs[k];
	size_t len = w->offs[k + 1] - w->offs[k];

	worker_output_reset(w, k);
	if (!w->group_ns)
		w->group_ns = now_ns();
	/* Shown as the item's start: at most CLOCK_GROUP fast items early. */
	worker_item_begin(w, k, w->group_ns);
	w->ctx.timed_out = false;
	int code = job->kind->run(job, &w->ctx, item, len, &w->out);
	atomic_store_explicit(&w->slot->phase, SHM_PHASE_IDLE, memory_order_release);
	bool timed_out = w->ctx.timed_out;
	worker_item_end(w, k, timed_out ? worker_timeout_code(code) : code, timed_out);
	if (w->untimed >= CLOCK_GROUP || w->ewma_ns == 0 || w->ewma_ns >= FAST_ITEM_NS ||
	    timed_out) {
		uint64_t end = now_ns();
		uint64_t start = w->group_ns;
		w->group_ns = end;
		worker_time_items(w, start, end);
	}
}

/* Up to in_flight items handed over ahead of their results. The oldest is the one shown BUSY
 * (and blamed if the worker dies); its time runs from when it became the oldest. Returns when
 * nothing more can be claimed (or a join or a pause is asked) and every result is in. */
static void worker_pipeline(struct worker *w)
{
	const struct job *job = w->job;
	uint32_t depth = MAX(1u, MIN(job->in_flight, (unsigned)QUEUE_BATCH_MAX));
	uint32_t ks[QUEUE_BATCH_MAX];
	uint32_t head = 0, n = 0;
	uint64_t head_start = 0;
	bool more = true;

	for (;;) {
		while (more && n < depth) {
			if (atomic_load(&w->slot->join) || atomic_load(&w->a->shm->hdr->paused))
				more = false;
			int k = more ? queue_claim(w->q, w->a->slot) : -1;
			if (k < 0) {
				more = false;
				break;
			}
			uint32_t uk = (uint32_t)k;
			ks[(head + n) % QUEUE_BATCH_MAX] = uk;
			if (n++ == 0) {
				head_start = now_ns();
				worker_item_begin(w, uk, head_start);
			}
			w->ctx.seq = queue_client(w->q, w->a->slot)->held[uk].seq;
			job->kind->submit(job, &w->ctx, w->items.data + w->offs[uk],
					  w->offs[uk + 1] - w->offs[uk]);
		}
		if (n == 0)
			return;
		uint32_t k = ks[head % QUEUE_BATCH_MAX];
		w->ctx.seq = queue_client(w->q, w->a->slot)->held[k].seq;
		w->ctx.timed_out = false;
		worker_output_reset(w, k);
		int code = job->kind->collect(job, &w->ctx, &w->out);
		uint64_t end = now_ns();
		bool timed_out = w->ctx.timed_out;
		head++;
		n--;
		if (n == 0)
			atomic_store_explicit(&w->slot->phase, SHM_PHASE_IDLE,
					      memory_order_release);
		worker_item_end(w, k, timed_out ? worker_timeout_code(code) : code, timed_out);
		worker_time_items(w, head_start, end);
		if (n > 0) {
			head_start = end;
			worker_item_begin(w, ks[head % QUEUE_BATCH_MAX], head_start);
		}
	}
}

/* The runner for a kind with run: claim an item, run it, until the batch is done or a join is
 * asked. A pause publishes what is finished and waits before the next claim. */
static void worker_run_batch_one_by_one(struct worker *w)
{
	for (;;) {
		if (atomic_load(&w->slot->join))
			return;
		if (atomic_load(&w->a->shm->hdr->paused)) {
			worker_publish(w);
			worker_wait_unpaused(w);
			if (atomic_load(&w->slot->join))
				return;
		}
		/* Claim before starting: the parent may have taken the rest back. */
		int k = queue_claim(w->q, w->a->slot);
		if (k < 0)
			return;
		worker_run_item(w, (uint32_t)k);
	}
}

/* The runner for a pipelined kind (submit and collect): a pause stops the pipeline from taking
 * more; once what is in flight is collected, what is finished is published, and it waits. */
static void worker_run_batch_pipelined(struct worker *w)
{
	for (;;) {
		worker_pipeline(w);
		if (atomic_load(&w->slot->join) || !atomic_load(&w->a->shm->hdr->paused))
			return;
		worker_publish(w);
		worker_wait_unpaused(w);
	}
}

/* A kind is about to wait long in the middle of an item (its job cannot start yet): publish the
 * results finished before it, so that they reach the parent whatever becomes of this worker.
 * The current item keeps its start. */
static void worker_waiting_cb(void *data)
{
	struct worker *w = data;
	uint64_t group = w->group_ns;
	if (w->npending && !w->untimed) {
		worker_publish(w);
		w->group_ns = group;
	}
}

_Noreturn void worker_main(const struct worker_args *a)
{
	worker_reset_process(a);

	struct worker w;
	memset(&w, 0, sizeof(w));
	w.a = a;
	w.q = a->shm->q;
	w.slot = shm_slot(a->shm, a->slot);
	w.max_output = queue_max_output(w.q);
	w.out.fd = -1;
	w.spool_dirfd = a->spool_dir ? open(a->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	const struct job *job = &a->job;
	w.job = job;
	w.ctx = (struct job_ctx){
		.slot = (int)a->slot,
		.child_pid = &w.slot->job_pid,
		.timeout_ns = &a->shm->hdr->timeout_ns,
		.start_report = &w.slot->start,
		.notes = &w.slot->notes,
		.waiting = worker_waiting_cb,
		.waiting_data = &w,
		.why = w.slot->init_error,
		.why_len = sizeof(w.slot->init_error),
		.stderr_private = a->stderr_private,
		.item_err = &w.err,
	};
	worker_item_err = &w.err;
	complain_copy = worker_complain_copy;
	worker_wrap_stderr();
	w.run_batch = job->kind->submit ? worker_run_batch_pipelined : worker_run_batch_one_by_one;
	w.slot->init_error[0] = '\0';
	w.pid = (int32_t)getpid();

	if (job->kind->init) {
		int err = job->kind->init(job, &w.ctx);
		if (err) {
			/* The reason goes to the parent too, which ends the run with it when no
			 * worker ever started. */
			if (w.slot->init_error[0] == '\0')
				snprintf(w.slot->init_error, sizeof(w.slot->init_error), "%s: %s",
					 job->kind->name, strerror(-err));
			atomic_store(&w.slot->init_failed, 1);
			fprintf(stderr, "pooltop: worker %u: init failed: %s\n", a->slot,
				w.slot->init_error);
			_exit(1);
		}
	}
	atomic_fetch_add(&a->shm->hdr->inits_ok, 1);
	atomic_store(&w.slot->phase, SHM_PHASE_IDLE);

	for (;;) {
		if (atomic_load(&w.slot->join))
			worker_leave(&w);
		if (a->max_items && atomic_load(&w.slot->items_run) >= a->max_items)
			worker_leave(&w);
		worker_wait_unpaused(&w);
		if (atomic_load(&w.slot->join))
			continue;

		/* A batch still in hand (a join was asked and taken back before the worker left)
		 * is finished first: queue_pop refuses while it is unpublished. */
		bool in_hand = queue_client_has_unstarted(w.q, a->slot);
		int n = 0;
		if (!in_hand) {
			buf_reset(&w.items);
			n = queue_pop(w.q, a->slot, worker_batch_size(&w), &w.items, w.offs);
		}
		if (!in_hand && n <= 0) {
			worker_idle(&w);
			continue;
		}
		if (atomic_load(&w.q->parent_wants_space))
			worker_notify_parent(&w);
		if (!in_hand) {
			w.published = 0;
			w.npending = 0;
			buf_reset(&w.outs);
		}
		w.run_batch(&w);
		worker_publish(&w);
	}
}
