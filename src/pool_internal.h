/* The pool's private state, shared by the supervisor's files: pool.c (the loop, the pool's life,
 * the commands, the end of a batch; its DESIGN block is the whole supervisor's), pool_slot.c
 * (the slot state machine and the workers' processes), pool_items.c (the in-flight items),
 * pool_spool.c (outputs too large for the RESULT ring), pool_pace.c (--delay and --memfree:
 * items held back and released one at a time), pool_snapshot.c (the rows for the view
 * model), pool_capture.c (the workers' stderr) and pool_event.c (the event list and its words).
 * Not for the front ends: they use view.h. */
#ifndef POOLTOP_POOL_INTERNAL_H
#define POOLTOP_POOL_INTERNAL_H

#include "pool.h"
#include "shm.h"
#include "spawn.h"
#include "stats.h"
#include "template.h"

#define POOL_EVENTS_KEPT   1024
#define POOL_RUNTIMES_KEPT 1024

/* A slot's lifecycle as the parent keeps it. While ALIVE, what the worker does (STARTING, IDLE,
 * BUSY) is read from its shared slot. */
enum pool_life {
	LIFE_EMPTY,    /* never started */
	LIFE_ALIVE,    /* a process runs in it */
	LIFE_STOPPING, /* a process runs in it and was asked to stop */
	LIFE_REAPED,   /* the process is gone; its items are not reclaimed yet (lock busy) */
	LIFE_EXITED,   /* no process and none coming */
	LIFE_BACKOFF,  /* no process; one will be started at backoff_until */
};
#define POOL_LIFE_N (LIFE_BACKOFF + 1)

/* Whether the slot state machine allows from -> to (the edge table in pool.c). */
bool pool_life_edge(enum pool_life from, enum pool_life to);
/* "ALIVE", for messages and tests. */
const char *pool_life_name(enum pool_life l);

struct pool_slot {
	enum pool_life life;
	pid_t pid;
	uint64_t generation;
	uint64_t started_ns;
	bool retire;	/* do not respawn when it exits */
	bool reap_told; /* REAPED: its last words and init failure were looked at */
	enum view_cause stop_cause;
	int stop_signal;
	int join_stage; /* 0 asked to join, 1 SIGTERM sent, 2 SIGKILL sent */
	/* A join that lets the item run to its end (a shrink, a drain): its deadline counts
	 * from when the worker is no longer busy, so no item fails because the pool shrank. */
	bool join_patient;
	uint64_t deadline_ns; /* of the current join stage */
	/* The last process's end. */
	bool has_exit;
	int last_exit;
	bool last_core;
	bool fini_ran;
	enum view_cause last_cause;
	uint32_t reap_phase;	 /* the worker's phase when it died */
	uint64_t reap_seq;	 /* the item it was running, if BUSY */
	pid_t reap_pid;		 /* the process that ended */
	uint64_t reap_items_run; /* items it ran, by its own count */
	uint64_t reap_start_ns;	 /* when its current item started */
	uint64_t reap_ns;	 /* when it was reaped */
	/* A --term-seq running on the process (tstop.seq set): --timeout for kinds that run items
	 * inside the worker, terminate all, a join-all past --join-timeout. */
	struct spawn_stop tstop;
	uint64_t timeout_seq; /* the item it was stopped for by --timeout, 0 when none */
	/* SIGSTOP (or TSTP, TTIN, TTOU) sent by the user through pool_slot_signal: to whom (the
	 * job's pid, or the worker's when it ran none), since when, while on which item; 0 once
	 * continued. Shown STOPPED while that process is still the one doing the slot's work, so
	 * that a new job or worker clears it by itself. stopped_ns: the time the item stopped_seq
	 * spent stopped before (not counted toward HUNG). */
	pid_t stopped_pid;
	uint64_t stopped_since_ns;
	uint64_t stopped_seq;
	uint64_t stopped_ns;
	/* Killed by pool_slot_kill_requeue: the item it runs goes back to INPUT, not counted as
	 * an attempt. */
	bool requeue_item;
	/* Respawns. */
	unsigned restarts;
	unsigned quick_deaths;
	uint64_t backoff_until_ns;
	/* What the process said that was relayed to the event log: notices taken, runs of
	 * failed starts seen (shm.h); zeroed with the shared words at the reap. */
	uint32_t notes_seen;
	uint32_t start_episodes_seen;
	/* Items finished by this slot (results consumed by the parent). */
	uint64_t done;
	uint64_t failed;
	struct stats_rate rate;
	/* For the detail view: recent items (a ring), the latest output, stderr's tail. */
	struct view_history hist[VIEW_HISTORY];
	unsigned hist_pos, hist_n;
	uint64_t out_seq;
	size_t out_len;
	char out[VIEW_TAIL];
	size_t err_len;
	char err[VIEW_TAIL];
	/* Each recent item in full (view_item), beside hist[] at the same index: allocated when
	 * the slot's first items end, each sized to what it holds. */
	struct pool_record *rec[VIEW_HISTORY];
};

/* A recent item's record (view_item): bytes in data, one after the other: the item's first
 * bytes, the command line, the output's tail, the stderr's tail. */
struct pool_record {
	size_t cap; /* bytes data can hold */
	double start;
	uint64_t out_total, err_total;
	unsigned attempts;
	bool timed_out, err_cut, cmd_cut;
	uint32_t item_len, cmd_len, out_len, err_len; /* kept, in data */
	char data[];
};

/* A worker's stderr pipe, read until its end; lives past the process (the pipe may still hold
 * bytes after the reap), so it is its own object. */
struct pool_capture {
	uv_poll_t poll;
	int fd;
	struct pool *pool;
	unsigned slot;
	struct pool_capture *next;
	bool closing;
};

/* An item waiting to go back into INPUT: the seq guards against a handle reused since. */
struct pool_requeue {
	uint32_t handle;
	uint64_t seq;
};

/* Items shorter than this are kept in their pool_item, saving a malloc and a free each. */
#define POOL_ITEM_INLINE 24

struct pool_item {
	uint64_t seq;
	uint32_t attempt; /* the run being made: 1, then 2 for the first retry... */
	bool live;
	size_t len;
	union {
		char *heap;			/* len >= POOL_ITEM_INLINE */
		char inline_[POOL_ITEM_INLINE]; /* otherwise */
	} u;
};

#define POOL_ITEM_CHUNK 1024 /* items per chunk of the table, a power of two */

/* The item's bytes, NUL-terminated. */
static inline char *pool_item_data(struct pool_item *it)
{
	return it->len < POOL_ITEM_INLINE ? it->u.inline_ : it->u.heap;
}

struct pool {
	uv_loop_t *loop;
	struct pool_config cfg;
	struct pool_callbacks cb;
	struct shm shm;
	struct queue *q;
	int efd;
	uv_poll_t efd_poll;
	uv_signal_t sigchld;
	uv_timer_t timer;
	uv_timer_t timeout_timer; /* --timeout checks, when the parent enforces them */
	uv_timer_t spawn_timer;	  /* pool_spawn_wanted's look, while items wait for workers */
	uv_prepare_t prepare;
	uv_idle_t idle;
	int open_handles;
	void (*closed)(void *data);
	void *closed_data;

	struct pool_slot *slots; /* POOLTOP_MAX_WORKERS */
	unsigned nslots_used;	 /* slots that ever had a process */
	unsigned target;
	/* Slots pool_start left unstarted: [spawn_next, spawn_end), started as items wait for
	 * workers (pool_spawn_wanted). spawn_check: the first of those started that may still be
	 * in its init. */
	unsigned spawn_next, spawn_end, spawn_check;
	unsigned spawn_burst; /* slots still to start in the burst under way */
	uint32_t spawn_naps;  /* INPUT's sleeps at the last look (queue_input_idled) */
	uint64_t spawn_since; /* since when items wait and no worker went idle */

	/* In-flight items by handle. */
	/* In-flight items by handle, in chunks that never move: a result callback may submit
	 * (and so grow the table) while it holds the item it is given. */
	struct pool_item **item_chunks;
	uint32_t items_cap;
	uint32_t *free_handles;
	uint32_t nfree;
	uint64_t inflight;
	/* Items to put back in INPUT before any new one: a FIFO of handles. */
	struct pool_requeue *requeue;
	size_t rq_head, rq_len, rq_cap;
	uint64_t max_queued;
	uint64_t want_bytes;	  /* INPUT room the last refused item needs */
	bool consuming;		  /* in pool_consume_results: no re-entry */
	unsigned unwoken;	  /* items pushed since the last wake */
	bool wake_joined;	  /* a join was asked this loop turn: wake the sleepers */
	struct queue_watch watch; /* INPUT at the last timer tick, for queue_input_rewake */

	uint64_t submitted, done, failed, retried, requeued, not_run, duplicates;
	bool input_ended, closing, terminating, end_joined, finished, want_space;
	bool draining;	      /* pool_drain: nothing new starts; what never started is not run */
	uint64_t join_all_ns; /* when pool_join_all was called, 0 before */
	uint64_t start_ns;
	double wall0;
	uint64_t mono0;
	struct stats_rate rate;
	uint64_t runtimes[POOL_RUNTIMES_KEPT];
	size_t nruntimes, runtimes_pos;

	struct view_event events[POOL_EVENTS_KEPT];
	uint64_t last_event_id;

	struct pool_capture *captures;
	/* Outputs too large for the RESULT ring: files "SEQ.ATTEMPT" the workers write here,
	 * which the parent opens and unlinks at once (made at pool_start; NULL if it could not
	 * be made: such outputs are then cut). */
	char *spool_dir;
	int spool_dirfd;
	char *fatal;		 /* pool_fatal */
	uint64_t timeout_pct_ns; /* --timeout N%: the limit at the last timer tick, 0 before */
	/* No job can start (pool_watch_starts): since when (0: some can), and the items
	 * finished when that was last seen not to be so. */
	uint64_t start_stuck_ns;
	uint64_t start_finished;
	/* Pacing (pool_pace.c): the item released last is still in INPUT (released); no release
	 * before next_ns; memory short at the last look (mem_short, mem_avail bytes). */
	uv_timer_t pace_timer;
	bool pacing;
	bool released;
	bool mem_short;
	uint64_t next_ns;
	uint64_t mem_avail;
	uint64_t mem_checked_ns;
	/* For the item records: a command kind's command line, as it ran. */
	struct template_args rec_args;
	struct buf rec_line;
};

/* A slot's number, from its place in the array: slots hold no index of their own, so that the
 * pages of the 1024 slots are touched only when a slot is used (a worker forked while they
 * were would carry them all in its resident set). */
static inline unsigned slot_no(const struct pool *p, const struct pool_slot *s)
{
	return (unsigned)(s - p->slots);
}

/* pool_capture.c */
/* Make a stderr pipe for a worker about to be forked in s: returns the write end for the
 * child, or -1 (then the worker keeps pooltop's stderr). */
int pool_capture_open(struct pool *p, struct pool_slot *s, struct pool_capture **out);
/* After the fork: the parent closes the write end and starts reading. */
void pool_capture_start(struct pool *p, struct pool_capture *c, int write_fd);
/* Stop reading every pipe (at pool_close); each frees itself once its handle is closed. */
void pool_capture_close_all(struct pool *p);
/* Record a finished item in its slot's history and keep its output's tail. */
void pool_history_add(struct pool *p, const struct pool_result *r);
/* Free the slots' item records (at pool_free). */
void pool_history_free(struct pool *p);

/* An item's output as the parent hands it on: bytes, or a spool file. */
struct pool_out {
	const char *data;
	uint64_t len;
	int spool_fd; /* -1 for bytes */
	/* The item's stderr as the worker kept it (job.h's job_stderr); err_cut: it ends with the
	 * line that says how much was cut. */
	const char *err;
	uint32_t err_len;
	bool err_cut;
};

/* pool_event.c */
void pool_emit(struct pool *p, enum view_event_kind kind, const struct pool_slot *s, uint64_t seq,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* As pool_emit, for an item that failed with code (core): the event's exitcode is the item's,
 * not that of the slot's last process. */
void pool_emit_item(struct pool *p, enum view_event_kind kind, const struct pool_slot *s,
		    uint64_t seq, int code, bool core, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* Append "item SEQ 'preview'" for an item to b: printable, escaped, cut to 40 bytes. */
void pool_describe_item(struct buf *b, uint64_t seq, const char *data, size_t len);
/* Why a slot's process ended, in words: "terminated by user", "crashed", ... */
const char *pool_cause_words(const struct pool_slot *s);

/* The supervisor's limits and timings (see pool.c's DESIGN). */
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

static inline struct shm_slot *sh(struct pool *p, const struct pool_slot *s)
{
	return shm_slot(&p->shm, slot_no(p, s));
}

static inline bool slot_has_process(const struct pool_slot *s)
{
	return s->life == LIFE_ALIVE || s->life == LIFE_STOPPING;
}

static inline bool pool_work_remains(const struct pool *p)
{
	if (p->terminating || p->draining)
		return false;
	return p->inflight > 0 || (!p->input_ended && !p->closing);
}

/* pool_pace.c */
/* Held items under --delay / --memfree: at most this many read ahead of INPUT. */
#define PACE_HELD_MAX 64
/* How often MemAvailable is read while items are held for memory. */
#define PACE_MEM_MS 250
void pool_pace_init(struct pool *p);
/* Release the next held item into INPUT if the pace allows it, else arm the pace timer. */
void pool_pace_flush(struct pool *p);

/* pool_items.c */
struct pool_item *item_at(struct pool *p, uint32_t h);
uint32_t item_alloc(struct pool *p);
void item_free(struct pool *p, uint32_t h);
struct pool_item *item_get(struct pool *p, const struct queue_ref *ref);
/* An item taken back (a retry, a dead worker's, a steal): into INPUT before any new one. */
void requeue_push(struct pool *p, uint32_t h);
/* A new item held back by pacing: at the FIFO's end. */
void requeue_push_held(struct pool *p, uint32_t h);
void requeue_flush(struct pool *p);
void item_finish(struct pool *p, uint32_t h, const struct queue_result *res, int slot, pid_t pid,
		 int code, bool core, enum view_cause cause, const struct pool_out *out);
bool item_failed(struct pool *p, uint32_t h, const struct queue_result *res, int slot, pid_t pid,
		 int code, bool core, enum view_cause cause, const struct pool_out *out,
		 struct buf *fate);

/* pool_slot.c */
void slot_set_life(struct pool *p, struct pool_slot *s, enum pool_life to);
void slot_spawn(struct pool *p, struct pool_slot *s);
bool slot_pending(const struct pool *p, unsigned i);
unsigned pool_active(const struct pool *p);
void slot_signal_job(struct pool *p, const struct pool_slot *s, int sig);
pid_t slot_signal_target(struct pool *p, const struct pool_slot *s);
bool slot_stopped(struct pool *p, const struct pool_slot *s);
void slot_note_signal(struct pool *p, struct pool_slot *s, pid_t target, int sig, uint64_t now);
int slot_signal(struct pool *p, struct pool_slot *s, int sig, enum view_cause cause);
void slot_stop(struct pool *p, struct pool_slot *s, enum view_cause cause, uint64_t now);
void slot_request_join(struct pool *p, struct pool_slot *s, enum view_cause cause);
/* A join that lets the item in hand run to its end (join_patient). */
void slot_request_join_patient(struct pool *p, struct pool_slot *s, enum view_cause cause);
void pool_wake_joined(struct pool *p);
void slot_escalate(struct pool *p, struct pool_slot *s, uint64_t now);
void slot_steal(struct pool *p, struct pool_slot *s, uint64_t now);
void pool_reap(struct pool *p);
uint64_t pool_timeout(const struct pool *p);
void pool_update_timeout(struct pool *p);
void timeout_cb(uv_timer_t *h);
void pool_join_deadlines(struct pool *p, uint64_t now);
void slot_relay(struct pool *p, struct pool_slot *s);
void pool_watch_starts(struct pool *p, uint64_t now);
void pool_spawn_wanted(struct pool *p);

/* pool_spool.c */
void pool_spool_init(struct pool *p);
void pool_spool_take(struct pool *p, struct queue_result *res, struct pool_out *o);
void pool_spool_forget(struct pool *p, uint64_t seq, uint32_t attempt);
void pool_spool_remove(struct pool *p);

/* pool_snapshot.c */
uint64_t pool_median_runtime(const struct pool *p);

/* pool.c */
void pool_check_end(struct pool *p);
void pool_pump(struct pool *p);
void pool_signal_all(struct pool *p, int sig);

#endif
