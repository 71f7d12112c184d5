/* The kill-safe INPUT and RESULT rings in shared memory, and the per-worker records that let
 * whoever takes the lock next repair a step cut short by SIGKILL. See the DESIGN comment at the
 * top of queue.c for the argument. No libuv, no curses: testable with fork() alone. */
#ifndef POOLTOP_QUEUE_H
#define POOLTOP_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* At most this many items move in one pop. */
#define QUEUE_BATCH_MAX 64
/* Records are 8-byte aligned; a record header is 8 bytes. */
#define QUEUE_ALIGN 8

/* What identifies an item on its way through the rings. */
struct queue_ref {
	uint64_t seq;	  /* 1-based input position */
	uint32_t handle;  /* the parent's in-flight table index */
	uint32_t attempt; /* 1 for the first run, 2 for the first retry... */
};

/* One ring: a byte buffer of variable-length records indexed by ever-growing 64-bit byte
 * positions. Consumers advance head, producers advance tail; head <= tail <= head + cap. The
 * consumers' words, the producers' words and the futex words each have their own cache line:
 * the parent writes one side of each ring while the workers write the other. */
struct queue_ring {
	_Alignas(64) _Atomic uint64_t head;
	_Atomic uint64_t popped; /* records popped, ever */
	/* RESULT only, the parent's alone: the next record to read. The parent frees records
	 * by moving head up to it once per group of releases (queue_result_wake). */
	uint64_t cursor;
	uint64_t cursor_popped;
	uint32_t unpublished;
	uint64_t tail_cache; /* RESULT's tail when the parent last read it */

	_Alignas(64) _Atomic uint64_t tail;
	_Atomic uint64_t pushed; /* records pushed (items, not pads), ever */
	/* INPUT only, the parent's alone: head and popped when it last read them. Stale values
	 * only understate the room, so the workers' line is read only when it looks full. */
	uint64_t head_cache;
	uint64_t popped_cache;

	_Alignas(64) uint64_t cap; /* bytes, a power of two */
	uint64_t data_off;	   /* of the data, from the start of struct queue */
	/* Futex words. *_seq changes on every event; *_sleepers is changed by sleepers
	 * (incremented before they sleep, decremented after), so a waker never loses one, and
	 * by the parent, which gives back the count of a sleeper killed asleep (its client's
	 * asleep flag). */
	_Alignas(64) _Atomic uint32_t data_seq;
	_Atomic uint32_t data_sleepers;
	_Atomic uint32_t space_seq;
	_Atomic uint32_t space_sleepers;
	/* INPUT only: the most items a worker asked for in its last pop that took any, so that
	 * a push of n items wakes n / batch_hint sleepers, not every one. 0 until then. */
	_Atomic uint32_t batch_hint;
	/* INPUT only: sleeps begun on it, ever (wrapping): whether any worker went idle lately,
	 * for the parent's choice to start more workers. */
	_Atomic uint32_t data_naps;
};

enum queue_op {
	QUEUE_OP_NONE = 0,
	QUEUE_OP_POP = 1,
	QUEUE_OP_PUSH = 2,
};

/* Per worker slot, in shared memory. Written only by the lock holder. */
struct queue_client {
	_Atomic uint32_t op;	     /* enum queue_op: the step in progress, for repair */
	uint32_t op_count;	     /* POP: items taken; PUSH: held index published up to */
	_Atomic uint64_t op_from;    /* ring position before the step */
	_Atomic uint64_t op_to;	     /* ring position the step commits */
	_Atomic uint64_t op_counter; /* the ring's popped (POP) or pushed (PUSH) count after it */
	_Atomic uint32_t nheld;	     /* items taken by the last pop */
	_Atomic uint32_t published;  /* held[0..published) are in the RESULT ring */
	/* The next held item to start. The worker claims held[claim] with a fetch-add; the
	 * parent steals the unstarted rest by setting QUEUE_STOLEN with a fetch-or: each item is
	 * claimed by exactly one of them. */
	_Atomic uint32_t claim;
	/* Set by the worker while it is counted in INPUT's data_sleepers (set after the
	 * increment, cleared before the decrement): the parent gives the count back for a
	 * worker that died asleep. */
	_Atomic uint32_t asleep;
	struct queue_ref held[QUEUE_BATCH_MAX];
};

#define QUEUE_STOLEN 0x80000000u

struct queue {
	uint64_t magic;
	pthread_mutex_t lock; /* robust, process-shared */
	struct queue_ring input;
	struct queue_ring result;
	uint32_t nclients;
	uint32_t pad;
	uint64_t clients_off;
	_Atomic uint64_t repairs;	 /* EOWNERDEAD repairs done, ever */
	_Atomic uint32_t parent_waiting; /* the parent sleeps in its loop: wake it by notify_fd */
	_Atomic uint32_t parent_wants_space; /* the parent has items waiting for INPUT space */
};

/* A result as the worker sends it. */
struct queue_result {
	struct queue_ref ref;
	int32_t slot;
	int32_t pid;
	int32_t exitcode;  /* the item's: 0 success, N>0 failed with N */
	uint32_t flags;	   /* QUEUE_RESULT_* */
	uint64_t start_ns; /* CLOCK_MONOTONIC at the item's start */
	uint64_t runtime_ns;
	uint32_t out_len;
	uint32_t err_len; /* the item's stderr: err_len bytes after the output's out_len (both
			     together at most queue_max_output()) */
};

#define QUEUE_RESULT_TRUNCATED 1u /* output longer than QUEUE_MAX_OUTPUT was cut */
#define QUEUE_RESULT_TIMEOUT   2u /* stopped for running past --timeout */
/* The output is in the run's spool directory, in the file "SEQ.ATTEMPT" (out_len is 0): it was
 * larger than the ring takes. */
#define QUEUE_RESULT_SPOOLED 4u
/* The item's stderr was longer than the worker keeps (JOB_STDERR_MAX): its last line says by
 * how much. */
#define QUEUE_RESULT_STDERR_CUT 8u

/* Bytes needed for a queue with nclients clients and rings of the given capacities (powers
 * of two, at least 4 KiB). */
size_t queue_size(uint32_t nclients, uint64_t input_cap, uint64_t result_cap);
/* Initialise a queue in mem (size from queue_size, zeroed, shared). 0 or -errno. */
int queue_init(void *mem, uint32_t nclients, uint64_t input_cap, uint64_t result_cap);
struct queue_client *queue_client(struct queue *q, uint32_t i);

/* The largest item and output a ring accepts. */
uint64_t queue_max_item(const struct queue *q);
uint64_t queue_max_output(const struct queue *q);

/* Take the lock, waiting at most timeout_ns (in bounded slices: a robust mutex's plain lock
 * was measured to hang after owner deaths). When the previous owner died holding it, repair
 * the step it left half done, then mark the mutex consistent. 0, or -ETIMEDOUT. */
int queue_lock(struct queue *q, uint64_t timeout_ns);
void queue_unlock(struct queue *q);

/* --- the parent: the only producer of INPUT, the only consumer of RESULT; no lock needed --- */

/* Append one item. -ENOSPC when the ring has no room now, -E2BIG when it never will. */
int queue_input_push(struct queue *q, const struct queue_ref *ref, const void *data, size_t len);
/* Wake sleeping workers after a series of pushes of nitems items: as many as those items need
 * (nitems over the batch a worker takes, at least one), never more. Returns how many
 * processes were woken. */
int queue_input_wake(struct queue *q, uint64_t nitems);
/* INPUT at the parent's last look, for queue_input_rewake. */
struct queue_watch {
	uint64_t pushed; /* items pushed, ever */
};
/* Once per tick of the parent's timer: items that were already in INPUT at the last call and
 * are still there had a whole tick to be taken; when workers sleep meanwhile, a wake-up was
 * lost to a worker killed or stopped before its pop (or that took fewer than woken for): wake
 * sleepers for those items. Returns how many woke. */
int queue_input_rewake(struct queue *q, struct queue_watch *w);
/* Whether a worker began a sleep on INPUT since *naps was read, or is counted asleep there now
 * (a hint: a worker that died asleep is counted until reclaimed); updates *naps. */
bool queue_input_idled(const struct queue *q, uint32_t *naps);
/* Items pushed and not yet popped. */
uint64_t queue_input_count(const struct queue *q);
/* Whether INPUT holds fewer than n items: the parent's check before a push. */
bool queue_input_below(struct queue *q, uint64_t n);

/* Peek at the next result: 1 and *res, *out (borrowed until queue_result_release), or 0 when
 * the ring is empty. */
int queue_result_peek(struct queue *q, struct queue_result *res, const char **out);
/* Release the result returned by the last peek. Its space is freed for the workers in groups,
 * and at the latest by queue_result_wake. */
void queue_result_release(struct queue *q);
/* Free the space of every released result, and wake workers waiting for it: after a series of
 * releases. */
void queue_result_wake(struct queue *q);
/* True when RESULT holds a record the parent has not peeked at. */
bool queue_result_ready(const struct queue *q);

/* --- a worker (client i) --- */

/* Take up to max items into client i's held list. Each item's bytes are appended to data and
 * offs[k] is where item k starts (offs[n] = data->len at the end). Takes the lock itself.
 * Returns the number taken (0 when the ring is empty), or -ETIMEDOUT, or -EBUSY when the
 * client still holds unpublished items. */
int queue_pop(struct queue *q, uint32_t i, uint32_t max, struct buf *data, size_t *offs);

/* Publish results for held[published..upto): res[k] and outputs out[k] (out_len bytes of
 * output then err_len of stderr, lengths in res), as
 * many as fit, in order, in one step. Returns how many were published (then call again for
 * the rest), -ENOSPC when not even the first fits now (wait with queue_wait_space and try
 * again), -ETIMEDOUT, -EINVAL for a range not held. Takes the lock itself. */
int queue_push_results(struct queue *q, uint32_t i, uint32_t upto, const struct queue_result *res,
		       const char *const *out);

/* Claim the next held item to run: its index, or -1 when the batch is over (all started, or
 * the rest stolen by the parent). No lock: one atomic operation. */
int queue_claim(struct queue *q, uint32_t i);

/* Client i sleeps until INPUT may have data, at most timeout_ns; not at all when *stop (when
 * given) is set, so that a flag set before queue_wake_all is never slept through. */
void queue_wait_input(struct queue *q, uint32_t i, const _Atomic uint32_t *stop,
		      uint64_t timeout_ns);
/* Sleep until the parent frees RESULT space: until its head moves past seen_head (read with
 * queue_result_head before the push that failed), at most timeout_ns. */
void queue_wait_space(struct queue *q, uint64_t seen_head, uint64_t timeout_ns);
uint64_t queue_result_head(const struct queue *q);
/* INPUT's free bytes (a hint for the parent, its only producer). */
uint64_t queue_input_free(const struct queue *q);
/* True when INPUT looks non-empty (a hint read without the lock). */
bool queue_input_ready(const struct queue *q);

/* --- the parent, after reaping client i's process --- */

/* With the lock held (so any half-done step was repaired): the items client i took and did not
 * publish, copied to out (at most QUEUE_BATCH_MAX); the client is then reset to hold nothing,
 * and INPUT's sleeper count given back if it died asleep. Returns their number. */
uint32_t queue_client_reclaim(struct queue *q, uint32_t i, struct queue_ref *out);

/* With the lock held: take back the items client i (alive, busy on an item) took and has not
 * started, so that others run them; copied to out. Returns their number. */
uint32_t queue_client_steal(struct queue *q, uint32_t i, struct queue_ref *out);
/* Whether client i holds items it has not started (a hint read without the lock). */
bool queue_client_has_unstarted(struct queue *q, uint32_t i);

/* Wake everyone sleeping on any futex of the queue (join, pause, shutdown). */
void queue_wake_all(struct queue *q);

/* For tests: when set, called at each point of a step, so a test can kill the process exactly
 * there while it holds the lock. NULL in production. */
enum queue_point {
	QUEUE_POINT_LOCKED,	    /* lock held, nothing recorded */
	QUEUE_POINT_POP_RECORDED,   /* the pop is recorded in the client, not committed */
	QUEUE_POINT_POP_COMMITTED,  /* head moved; the client's held count not yet set */
	QUEUE_POINT_POP_DONE,	    /* all done but op still set */
	QUEUE_POINT_PUSH_WRITTEN,   /* records written past tail, nothing recorded */
	QUEUE_POINT_PUSH_RECORDED,  /* the push is recorded, not committed */
	QUEUE_POINT_PUSH_COMMITTED, /* tail moved; published not yet set */
	QUEUE_POINT_PUSH_DONE,	    /* all done but op still set */
};
extern void (*queue_fault_hook)(enum queue_point point);

/* futex helpers shared with the worker's pause wait. futex_wake_u32 returns how many it woke. */
void futex_wait_u32(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns);
int futex_wake_u32(_Atomic uint32_t *word, int n);

#endif
