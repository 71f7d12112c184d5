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

struct pool;

/* Bytes of the current item a snapshot carries. */
#define POOL_ITEM_PREVIEW 112

enum pool_slot_state {
	POOL_SLOT_EMPTY,    /* never started */
	POOL_SLOT_STARTING, /* forked, init running */
	POOL_SLOT_IDLE,	    /* alive, waiting for items */
	POOL_SLOT_BUSY,	    /* running an item */
	POOL_SLOT_STOPPING, /* asked to stop (join, signal), not reaped yet */
	POOL_SLOT_EXITED,   /* no process, not respawned */
	POOL_SLOT_BACKOFF,  /* kept dying at start: waiting before the next respawn */
};

/* Who or what ended a worker. */
enum pool_cause {
	POOL_CAUSE_NONE,	 /* it died on its own: a crash, exit() mid-item */
	POOL_CAUSE_USER,	 /* terminate or kill by the user */
	POOL_CAUSE_JOIN,	 /* a graceful join (the user's, or a shrink) */
	POOL_CAUSE_JOIN_TIMEOUT, /* a join that took too long, escalated */
	POOL_CAUSE_RECYCLE,	 /* --max-items-per-worker reached */
	POOL_CAUSE_END,		 /* the batch ended */
	POOL_CAUSE_RESTART,	 /* restart by the user */
	POOL_CAUSE_SHUTDOWN,	 /* terminate all */
	POOL_CAUSE_TIMEOUT,	 /* its item ran past --timeout */
};

enum pool_event_kind {
	POOL_EVENT_WORKER_STARTED,
	POOL_EVENT_WORKER_EXITED,
	POOL_EVENT_ITEM_FAILED,
	POOL_EVENT_ITEM_RETRIED,
	POOL_EVENT_NOTICE,
	POOL_EVENT_STOP, /* the batch is being stopped: joined, terminated, killed (batch_stop) */
};

struct pool_event {
	uint64_t id;	  /* 1, 2, 3... */
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	enum pool_event_kind kind;
	int slot; /* -1 when none */
	pid_t pid;
	int exitcode;
	bool core;
	enum pool_cause cause;
	uint64_t seq;	/* the item concerned, 0 when none */
	char text[240]; /* one line for a human, with everything above in words */
};

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
	enum pool_cause cause; /* for an item that failed because its worker died */
	double start;	       /* seconds since the epoch */
	double runtime;	       /* seconds */
	const char *output;    /* borrowed for the callback; NULL when spool_fd holds it */
	size_t output_len;
	int spool_fd; /* an output too large for memory: in this file (read it with pread from
			 offset 0; borrowed for the callback: dup it to keep it), or -1 */
};

struct pool_config {
	unsigned workers;	       /* initial size, 1..POOLTOP_MAX_WORKERS */
	struct job job;		       /* the kind every worker runs */
	unsigned retries;	       /* a failed item is run again up to this many times */
	uint64_t max_items_per_worker; /* 0 = unlimited */
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
};

#define POOL_START_GIVE_UP_NS (60 * NS_PER_S)

struct pool_callbacks {
	void (*result)(void *data, const struct pool_result *r);
	void (*event)(void *data, const struct pool_event *ev);
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
int pool_slot_join(struct pool *p, unsigned slot, uint64_t generation);
/* Stop the slot's process (SIGTERM) and start a new one; or start one in an exited slot. */
int pool_slot_restart(struct pool *p, unsigned slot);
/* Close the pool gracefully: read no more input; what was read is finished, then every worker
 * runs its fini and exits 0. */
void pool_join_all(struct pool *p);
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

struct pool_slot_view {
	unsigned index;
	enum pool_slot_state state;
	bool hung;	     /* BUSY for longer than the hang threshold */
	pid_t pid;	     /* 0 when none */
	pid_t job_pid;	     /* the process (group) running its item for a command kind, 0 */
	uint64_t generation; /* for the commands above */
	pid_t last_pid;	     /* the slot's last process that ended, 0 if none */
	bool has_exit;	     /* the slot's last process exited */
	int last_exit;
	bool last_core;
	enum pool_cause last_cause;
	bool fini_ran; /* the last process ran its fini */
	unsigned restarts;
	uint64_t done;
	uint64_t failed;
	double rate;			  /* items per second, smoothed */
	uint64_t cur_seq;		  /* 0 when not busy */
	uint64_t age_ns;		  /* on the current item */
	size_t cur_len;			  /* the item's whole length */
	char cur_item[POOL_ITEM_PREVIEW]; /* its first bytes (not NUL-terminated past cur_len) */
	size_t cur_item_len;		  /* bytes valid in cur_item */
	uint64_t backoff_ns;		  /* time left before a respawn, in BACKOFF */
	/* Its job (a command, a persistent program) cannot start for want of a resource, and
	 * the worker retries it (10 ms, doubling to 1 s): since when, why, how many tries. The
	 * last error stays (start_failing false) once a start succeeded, until the process
	 * ends. The event log has a line per run of failed tries ("worker 3: cannot start the
	 * job: Resource temporarily unavailable (fork): retrying"). */
	bool start_failing;
	int start_err;		   /* -errno of the last failed try, 0 if none */
	char start_call[8];	   /* what it failed in: "fork", "pipe", "exec" ("" if none) */
	unsigned start_retries;	   /* failed tries of the current (or last) run */
	uint64_t start_failing_ns; /* how long the current run has lasted */
};

struct pool_totals {
	unsigned size; /* the pool's target size */
	unsigned alive, busy, hung;
	unsigned start_failing; /* workers whose job cannot start (retrying) */
	uint64_t submitted;	/* items taken in */
	uint64_t done, failed, retried, requeued;
	uint64_t running, queued;
	uint64_t not_run;	/* abandoned by terminate all */
	uint64_t duplicates;	/* results dropped as already finished (should stay 0) */
	uint64_t stats_dropped; /* STATS records lost to full rings */
	uint64_t repairs;	/* lock repairs after owner deaths */
	bool input_ended, closing, paused, finished;
	double rate_now; /* items per second, smoothed */
	double rate_avg; /* since the start */
	uint64_t elapsed_ns;
	uint64_t hang_after_ns; /* the threshold in force */
	uint64_t timeout_ns;	/* the --timeout in force, 0 when none (yet) */
	uint64_t median_runtime_ns;
};

unsigned pool_nslots(const struct pool *p); /* slots that ever had a worker, at least size */
/* Fill totals and up to max slot views (slots[0..max)). Returns the number of views written. */
unsigned pool_snapshot(struct pool *p, struct pool_totals *t, struct pool_slot_view *slots,
		       unsigned max);
/* Events with id > after, oldest first, at most max (the pool keeps the last 1024). */
size_t pool_events(const struct pool *p, uint64_t after, struct pool_event *out, size_t max);

/* A slot's recent past, for a detail view. */
#define POOL_HISTORY 16
#define POOL_TAIL    2048

struct pool_history_entry {
	uint64_t seq;
	int exitcode;
	bool core;
	bool done;
	uint64_t runtime_ns;
	pid_t pid;
	size_t item_len; /* the item's whole length */
	char item[48];	 /* its first bytes */
};

struct pool_slot_detail {
	struct pool_history_entry recent[POOL_HISTORY]; /* newest first */
	unsigned nrecent;
	uint64_t out_seq; /* the item whose output is below, 0 when none */
	size_t out_len;
	char out[POOL_TAIL]; /* the last bytes of the latest output */
	size_t err_len;
	char err[POOL_TAIL]; /* the last bytes the slot's processes wrote on stderr
				(with capture_stderr) */
};

/* Fill *d for slot. 0, or -EINVAL for a slot out of range. */
int pool_slot_detail(const struct pool *p, unsigned slot, struct pool_slot_detail *d);

/* Words for the UI. */
const char *pool_slot_state_name(enum pool_slot_state s);
const char *pool_cause_name(enum pool_cause c);

#endif
