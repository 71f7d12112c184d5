/* The supervisor: worker slots on a libuv loop. Forks workers, reaps them, respawns a dead slot
 * while work remains, requeues or fails the items a dead worker held, and offers the front ends
 * a snapshot to read and commands to call. See the DESIGN comment in pool.c. */
#ifndef POOLTOP_POOL_H
#define POOLTOP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "job.h"
#include "view_data.h"

struct pool;

/* An item that finished: done (exit code 0) or failed (for good: no retry left). */
struct pool_result {
	uint64_t seq;
	const char *item; /* borrowed for the callback */
	size_t item_len;
	unsigned attempts;
	int slot; /* -1 if no worker ran it */
	pid_t pid;
	int exitcode;
	bool core;
	bool done;
	bool truncated;	       /* the output is not whole (its spool could not be written
				  or read back) */
	bool timed_out;	       /* stopped for running past --timeout */
	enum view_cause cause; /* for an item that failed because its worker died */
	double start;	       /* seconds since the epoch */
	double runtime;	       /* seconds */
	const char *output;    /* borrowed for the callback; NULL when spool_fd holds it */
	size_t output_len;
	int spool_fd; /* an output too large for memory: in this file (read it with pread from
			 offset 0; borrowed for the callback: dup it to keep it), or -1 */
	/* What the item wrote on stderr (a command's job, a persistent program between taking the
	 * item and answering it, a builtin's words): its first JOB_STDERR_MAX bytes, then when
	 * err_cut a line "[... N bytes cut]". Borrowed for the callback; none for an item whose
	 * worker died (its stderr went to the worker's, the detail view's tail). */
	const char *err;
	size_t err_len;
	bool err_cut;
};

struct pool_config {
	unsigned workers;	       /* initial size, 1..POOLTOP_MAX_WORKERS */
	struct job job;		       /* the kind every worker runs */
	unsigned retries;	       /* a failed item is run again up to this many times */
	uint64_t max_items_per_worker; /* 0 = unlimited */
	bool tag; /* --tag: each line of an item's output begins with the item and a tab */
	uint64_t join_timeout_ns; /* then SIGTERM; then SIGKILL after as long again (min 1 s) */
	uint64_t hang_after_ns;	  /* BUSY longer than this shows HUNG; 0 = automatic */
	uint64_t timeout_ns;	  /* --timeout: an item running longer is stopped; 0 = none */
	unsigned timeout_pct;	  /* --timeout N%: of the median item time (after 3 items) */
	int worker_stderr_fd;	  /* -1: workers keep pooltop's stderr */
	const char *spool_parent; /* where the run's spool directory goes (TMPDIR); NULL: /tmp */
	bool capture_stderr;	  /* a pipe per worker for its stderr, kept for the detail view
				     (worker_stderr_fd is then ignored) */
	/* A job that cannot start for want of a resource (spawn.h) is retried by its worker;
	 * when no job could start anywhere in the pool for this long (nothing running, nothing
	 * finishing, not paused), the pool gives up (pool_fatal). 0: POOL_START_GIVE_UP_NS. */
	uint64_t start_give_up_ns;
	/* Pacing, as GNU parallel's: --delay, the least time between two job starts (0: none);
	 * --memfree, start no job while the kernel's MemAvailable is below it (0: no check).
	 * With either, the parent holds submitted items back and releases them into INPUT one
	 * at a time (pool_pace.c); a retried or requeued item is paced too. */
	uint64_t delay_ns;
	uint64_t memfree_bytes;
	const char *meminfo_path; /* where MemAvailable is read; NULL: /proc/meminfo (tests) */
};

#define POOL_START_GIVE_UP_NS (60 * NS_PER_S)

struct pool_callbacks {
	void (*result)(void *data, const struct pool_result *r);
	void (*event)(void *data, const struct view_event *ev);
	/* pool_submit returned -EAGAIN earlier and has room again. */
	void (*space)(void *data);
	/* Input ended (or the pool was closed), every item finished and every worker is gone. */
	void (*finished)(void *data);
	void *data;
};

/* A pool on loop, with no worker yet. Returns NULL and a negative errno in *err. */
struct pool *pool_new(uv_loop_t *loop, const struct pool_config *cfg,
		      const struct pool_callbacks *cb, int *err);
/* Fork the workers. 0 or -errno. */
int pool_start(struct pool *p);
/* Queue one item (copied). -EAGAIN when full (cb.space says when to try again), -E2BIG when
 * longer than pool_max_item(), -EPIPE once the pool is closing. */
int pool_submit(struct pool *p, uint64_t seq, const void *item, size_t len);
/* No more items will be submitted: when all have finished, the workers are joined. */
void pool_input_end(struct pool *p);
size_t pool_max_item(const struct pool *p);
/* Close the pool's handles (after finished, or to abandon it: live workers are killed).
 * closed(data) is called when the handles are closed; then pool_free. */
void pool_close(struct pool *p, void (*closed)(void *data), void *data);
void pool_free(struct pool *p);

/* --- commands for the front ends. A slot is named with the generation the user saw: when the
 * slot's process was replaced since, the command does nothing and returns -ESTALE. -ESRCH when
 * the slot has no process. -EINVAL for a slot number out of range. --- */
int pool_slot_terminate(struct pool *p, unsigned slot, uint64_t generation);
int pool_slot_kill(struct pool *p, unsigned slot, uint64_t generation);
/* The pool's size goes down by one. -EBUSY for the last worker while items wait for one (they
 * would be stranded: join all, drain or terminate instead). */
int pool_slot_join(struct pool *p, unsigned slot, uint64_t generation);
/* Stop the slot's process (SIGTERM) and start a new one; or start one in a slot with none
 * (generation is then not checked). */
int pool_slot_restart(struct pool *p, unsigned slot, uint64_t generation);
/* Send sig, as is, to the process group of the slot's job while it runs one (command and
 * persistent kinds), else to the worker's (built-in and plugin kinds, a worker between two
 * jobs): a signal for a job must not end its worker, whose dispositions are the defaults. The
 * slot's state does not change (a signal that ends the process is seen when it is reaped),
 * except that SIGSTOP, SIGTSTP, SIGTTIN and SIGTTOU make the row STOPPED until SIGCONT (or any
 * command that signals the worker, all of which continue it) or until another process does
 * the slot's work. -EINVAL for a signal out of range. */
int pool_slot_signal(struct pool *p, unsigned slot, uint64_t generation, int sig);
/* SIGKILL the slot's process (and its job), and put the item it was running back in INPUT to
 * run again, as if never started: its attempt is not counted (--retries untouched), and it is
 * reported once, when it ends. Counted in the totals' requeued. */
int pool_slot_kill_requeue(struct pool *p, unsigned slot, uint64_t generation);
/* Close the pool gracefully: read no more input; what was read is finished, then every worker
 * runs its fini and exits 0. */
void pool_join_all(struct pool *p);
/* Start nothing new; let the running items finish (no deadline); then the pool ends and what
 * never started counts as not run (so --resume runs it). */
void pool_drain(struct pool *p);
/* SIGTERM every worker; nothing is respawned; items never started are reported not run. */
void pool_terminate_all(struct pool *p);
/* SIGKILL every worker (the last resort, and pooltop's own shutdown). */
void pool_kill_all(struct pool *p);
/* Grow (start workers) or shrink (join the highest slots) to n workers. 0 or -EINVAL. */
int pool_resize(struct pool *p, unsigned n);
void pool_pause(struct pool *p, bool paused);
/* True once the pool takes no more items (joined, terminated or input ended). */
bool pool_closing(const struct pool *p);
/* True while items submitted have not finished (queued, running, or waiting to be requeued). */
bool pool_busy(const struct pool *p);
/* Why the pool gave up, or NULL: no worker could ever start ("worker 0: init failed: ..."), or
 * no job could start for start_give_up_ns ("no job could start for 60 s (worker 0: Resource
 * temporarily unavailable (fork)): ..."). The pool then terminates itself and finishes; the
 * items it had not started are reported not run. The caller reports this and exits 255. */
const char *pool_fatal(const struct pool *p);

/* --- the snapshot --- */

unsigned pool_nslots(const struct pool *p); /* slots that ever had a worker, at least size */
/* Fill totals and up to max slot views (slots[0..max)). Returns the number of views written. */
unsigned pool_snapshot(struct pool *p, struct view_totals *t, struct view_row *slots, unsigned max);
/* Events with id > after, oldest first, at most max (the pool keeps the last 1024). */
size_t pool_events(const struct pool *p, uint64_t after, struct view_event *out, size_t max);

/* Fill *d for slot. 0, or -EINVAL for a slot out of range. */
int pool_slot_detail(const struct pool *p, unsigned slot, struct view_detail *d);
/* Fill *it for the item seq among slot's recent ones. 0, -EINVAL for a slot out of range,
 * -ENOENT when it is not (or no longer) among them. */
int pool_slot_item(const struct pool *p, unsigned slot, uint64_t seq, struct view_item *it);

#endif
