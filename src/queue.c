/* The kill-safe INPUT and RESULT rings.
 *
 * DESIGN
 *
 * Who produces, who consumes. The parent is the only producer of INPUT and the only consumer of
 * RESULT; workers are the consumers of INPUT and the producers of RESULT. Each ring is a byte
 * buffer of variable-length, 8-byte-aligned records indexed by ever-growing 64-bit byte
 * positions (head <= tail <= head + cap; a position's offset is pos & (cap - 1)). A record never
 * straddles the end: a PAD record fills the rest of the lap instead. A record is at most cap/2,
 * so with the pad it always fits once the ring drains.
 *
 * Locking. One robust, process-shared mutex serialises the workers' steps: pops from INPUT and
 * pushes to RESULT. The parent's side needs no lock: as the single producer of INPUT it writes
 * record bytes in the free space and then publishes them with one release store of tail; as the
 * single consumer of RESULT it reads up to tail (acquire) with a cursor of its own, and frees
 * what it read with one release store of head per group of records. The lock is taken with
 * pthread_mutex_timedlock in short slices, never a plain blocking lock (one hung after owner deaths
 * in 13 of 20 kill storms on this machine).
 *
 * The invariant: SIGKILL of a worker at any instruction never deadlocks, never corrupts a ring,
 * never loses an item. The argument:
 *  - A worker changes a ring only under the lock, and each change is committed by a single
 *    aligned 64-bit store (ring->head for a pop, ring->tail for a push). Before that store the
 *    worker records, in its queue_client, what the step is (op), where the ring was (op_from),
 *    where the step takes it (op_to) and what it means for the client (the items taken, or the
 *    held index published up to). Compiler barriers keep these stores in program order; a kill
 *    lands between instructions, so no store is half done.
 *  - If the worker dies holding the lock, the next locker gets EOWNERDEAD. Only one client can
 *    have op != NONE (the dead owner: everyone else finished their step before unlocking). The
 *    ring position tells which side of the commit it died on: position == op_to means committed,
 *    so the repair finishes the client's bookkeeping; position == op_from means not, so the step
 *    never happened (bytes written past tail are garbage nobody reads). Then the mutex is marked
 *    consistent: unlocking after EOWNERDEAD without that makes it unusable forever.
 *  - Items taken by a pop stay listed in the client's held[] until a push publishes their
 *    results (moving `published` in the same repaired step). When the parent reaps a dead worker
 *    it takes the lock (so any half step is repaired) and reclaims held[published..nheld): each
 *    item is in exactly one place — the INPUT ring, a client's unpublished held list, or the
 *    RESULT ring — so nothing is lost and nothing is counted twice. The parent also drops a
 *    result whose item is no longer in flight (deduplication by sequence number).
 *  - A killed worker can never leave the parent's side inconsistent: the parent does not share
 *    a lock with workers for its own steps.
 *
 * Wake-ups use futex sequence words, not process-shared condition variables (a killed waiter
 * swallows a signal; destroying one hangs). A sleeper increments *_sleepers, reads *_seq,
 * re-checks the ring (and, on INPUT, its stop flag: a join) and only then sleeps on *_seq, with
 * a timeout; a waker changes the ring, bumps *_seq and wakes only when *_sleepers is non-zero.
 * Both sides use sequentially consistent operations, so a sleeper never sleeps through a change
 * made before its look: it sees the new ring, or its futex_wait sees the new *_seq and returns.
 * The parent, which sleeps in its event loop, is woken through an eventfd by the worker that
 * finds parent_waiting set (see worker.c).
 *
 * How many are woken. A push of n items to INPUT wakes ceil(n / batch_hint) sleepers, where
 * batch_hint is the batch the last popper asked for: a woken worker takes a batch, so waking
 * more only has them find the ring empty and sleep again. Waking every sleeper on every push
 * kept about 850 of 1024 workers runnable, fighting for the lock, on 20,000 trivial items. It
 * is safe to wake fewer than all:
 *  - a sleeper not yet in the kernel is never missed: the *_seq bump is unconditional.
 *  - FUTEX_WAKE wakes live waiters only, so a sleeper killed while counted leaves *_sleepers
 *    too high, which costs a futex call per wake and never the wake-up of a live sleeper. The
 *    parent gives the count back when it reclaims the dead client: the client's asleep flag is
 *    set after the increment and cleared before the decrement, so the give-back can leave the
 *    count too high (a death between the two stores), never too low.
 *  - a woken worker that is killed or stopped before it pops, or that asks for fewer items
 *    than the hint said, leaves items with nobody woken for them. Nothing waits forever for
 *    that: the parent's timer calls queue_input_rewake every tick, which wakes sleepers for the
 *    items that were in INPUT at the previous tick and still are (an item waits at most two
 *    ticks, 200 ms, while a worker sleeps); and every sleeper's wait ends at its own timeout
 *    anyway, after which it looks at the ring again (the backstop when the parent itself is
 *    held up). A rewake with no sleeper costs two loads: busy workers are not disturbed.
 * RESULT's space sleepers are all woken when the parent frees space: each holds finished results
 * (they are at most the busy workers), and the freed space may fit them all.
 *
 * Stealing. A worker that takes a batch and then hangs on one item must not hold the rest of
 * it hostage. Each held item is claimed exactly once: by the worker, with a fetch-add on its
 * client's claim index before it starts the item, or by the parent, which sets QUEUE_STOLEN on
 * that index with a fetch-or (under the lock) and takes held[claim..nheld) back, lowering nheld.
 * Whichever atomic operation comes first decides; the worker's later claims fail and it
 * publishes only what it started, which is below the new nheld.
 *
 * Not supported: a worker stopped (SIGSTOP) while holding the lock stalls the other workers until
 * it is continued or killed; the parent never waits on the lock for long, so the loop goes on.
 */
#include "queue.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAGIC   0x51554555504f4f4cULL /* "LOOPUEUQ" */
#define REC_PAD	      UINT32_MAX
#define LOCK_SLICE_NS (10 * NS_PER_MS)

struct rec_header {
	uint32_t len;	/* the whole record, header included, aligned */
	uint32_t bytes; /* the item's or output's own length, or REC_PAD */
};

#define barrier() atomic_signal_fence(memory_order_seq_cst)

void (*queue_fault_hook)(enum queue_point point);

static void fault(enum queue_point point)
{
	if (queue_fault_hook)
		queue_fault_hook(point);
}

static uint64_t align8(uint64_t n)
{
	return (n + QUEUE_ALIGN - 1) & ~(uint64_t)(QUEUE_ALIGN - 1);
}

static char *ring_data(struct queue *q, struct queue_ring *r)
{
	return (char *)q + r->data_off;
}

size_t queue_size(uint32_t nclients, uint64_t input_cap, uint64_t result_cap)
{
	size_t n = align8(sizeof(struct queue));
	n += align8((size_t)nclients * sizeof(struct queue_client));
	n = (n + 4095) & ~(size_t)4095;
	return n + input_cap + result_cap;
}

static bool is_pow2(uint64_t n)
{
	return n >= 4096 && (n & (n - 1)) == 0;
}

int queue_init(void *mem, uint32_t nclients, uint64_t input_cap, uint64_t result_cap)
{
	if (!is_pow2(input_cap) || !is_pow2(result_cap) || nclients == 0)
		return -EINVAL;
	/* mem is zeroed (fresh anonymous pages): clients start holding nothing, and untouched
	 * pages of unused clients stay unallocated. */
	struct queue *q = mem;
	pthread_mutexattr_t attr;
	int r = pthread_mutexattr_init(&attr);
	if (r)
		return -r;
	if ((r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) ||
	    (r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) ||
	    (r = pthread_mutex_init(&q->lock, &attr))) {
		pthread_mutexattr_destroy(&attr);
		return -r;
	}
	pthread_mutexattr_destroy(&attr);
	q->nclients = nclients;
	q->clients_off = align8(sizeof(struct queue));
	size_t off = q->clients_off + align8((size_t)nclients * sizeof(struct queue_client));
	off = (off + 4095) & ~(size_t)4095;
	q->input.cap = input_cap;
	q->input.data_off = off;
	q->result.cap = result_cap;
	q->result.data_off = off + input_cap;
	q->magic = QUEUE_MAGIC;
	return 0;
}

struct queue_client *queue_client(struct queue *q, uint32_t i)
{
	return (struct queue_client *)((char *)q + q->clients_off) + i;
}

uint64_t queue_max_item(const struct queue *q)
{
	return q->input.cap / 2 - sizeof(struct rec_header) - sizeof(struct queue_ref);
}

uint64_t queue_max_output(const struct queue *q)
{
	return q->result.cap / 2 - sizeof(struct rec_header) - sizeof(struct queue_result);
}

/* --- futexes --- */

void futex_wait_u32(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / NS_PER_S),
		.tv_nsec = (long)(timeout_ns % NS_PER_S),
	};
	/* Not FUTEX_PRIVATE: the word is shared between processes. */
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, &ts, NULL, 0);
}

int futex_wake_u32(_Atomic uint32_t *word, int n)
{
	long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
	return r > 0 ? (int)r : 0;
}

/* --- the lock and its repair --- */

/* The previous owner died holding the lock: finish or undo the one step it left. */
static void queue_repair(struct queue *q)
{
	for (uint32_t i = 0; i < q->nclients; i++) {
		struct queue_client *c = queue_client(q, i);
		uint32_t op = atomic_load(&c->op);
		if (op == QUEUE_OP_NONE)
			continue;
		uint64_t from = atomic_load(&c->op_from);
		uint64_t to = atomic_load(&c->op_to);
		if (op == QUEUE_OP_POP) {
			uint64_t head = atomic_load(&q->input.head);
			if (head == to && to != from) {
				atomic_store(&q->input.popped, atomic_load(&c->op_counter));
				atomic_store(&c->nheld, c->op_count);
				atomic_store(&c->published, 0);
			} else {
				/* Not committed: the items are still in the ring. The
				 * client held nothing before a pop. */
				atomic_store(&c->nheld, 0);
				atomic_store(&c->published, 0);
			}
			atomic_store(&c->claim, 0);
		} else if (op == QUEUE_OP_PUSH) {
			uint64_t tail = atomic_load(&q->result.tail);
			if (tail == to && to != from) {
				atomic_store(&q->result.pushed, atomic_load(&c->op_counter));
				atomic_store(&c->published, c->op_count);
			}
			/* else: not committed; the records past tail are never read. */
		}
		atomic_store(&c->op, QUEUE_OP_NONE);
	}
	atomic_fetch_add(&q->repairs, 1);
}

/* A lock attempt's result: 1 when the lock is ours (repaired if its owner died), 0 to try
 * again, or -errno. */
static int lock_taken(struct queue *q, int r)
{
	if (r == 0)
		return 1;
	if (r == EOWNERDEAD) {
		queue_repair(q);
		pthread_mutex_consistent(&q->lock);
		return 1;
	}
	if (r == EBUSY || r == ETIMEDOUT || r == EINTR || r == EAGAIN)
		return 0;
	/* ENOTRECOVERABLE cannot happen: every EOWNERDEAD is made consistent. */
	return -r;
}

int queue_lock(struct queue *q, uint64_t timeout_ns)
{
	/* The common case costs no clock reads. */
	int r = lock_taken(q, pthread_mutex_trylock(&q->lock));
	if (r)
		return r < 0 ? r : 0;
	uint64_t deadline = now_ns() + timeout_ns;
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t left = deadline > now_ns() ? deadline - now_ns() : 0;
		uint64_t slice = MIN(left, LOCK_SLICE_NS);
		ts.tv_nsec += (long)slice;
		ts.tv_sec += ts.tv_nsec / (long)NS_PER_S;
		ts.tv_nsec %= (long)NS_PER_S;
		r = lock_taken(q, pthread_mutex_timedlock(&q->lock, &ts));
		if (r)
			return r < 0 ? r : 0;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
	}
}

void queue_unlock(struct queue *q)
{
	pthread_mutex_unlock(&q->lock);
}

/* --- ring helpers --- */

/* Where a record of size sz (aligned) goes at position tail: the bytes of padding needed
 * before it (0 or up to the lap's end). */
static uint64_t ring_pad_before(const struct queue_ring *r, uint64_t tail, uint64_t sz)
{
	uint64_t off = tail & (r->cap - 1);
	return off + sz > r->cap ? r->cap - off : 0;
}

static void ring_write_pad(struct queue *q, struct queue_ring *r, uint64_t pos, uint64_t pad)
{
	struct rec_header *h = (struct rec_header *)(ring_data(q, r) + (pos & (r->cap - 1)));
	h->len = (uint32_t)pad;
	h->bytes = REC_PAD;
}

static struct rec_header *ring_at(struct queue *q, struct queue_ring *r, uint64_t pos)
{
	return (struct rec_header *)(ring_data(q, r) + (pos & (r->cap - 1)));
}

/* --- the parent's side --- */

int queue_input_push(struct queue *q, const struct queue_ref *ref, const void *data, size_t len)
{
	struct queue_ring *r = &q->input;
	if (len > queue_max_item(q))
		return -E2BIG;
	uint64_t sz = align8(sizeof(struct rec_header) + sizeof(*ref) + len);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t pad = ring_pad_before(r, tail, sz);
	if (tail + pad + sz - r->head_cache > r->cap) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail + pad + sz - r->head_cache > r->cap)
			return -ENOSPC;
	}
	if (pad) {
		ring_write_pad(q, r, tail, pad);
		tail += pad;
	}
	struct rec_header *h = ring_at(q, r, tail);
	h->len = (uint32_t)sz;
	h->bytes = (uint32_t)len;
	memcpy(h + 1, ref, sizeof(*ref));
	if (len)
		memcpy((char *)(h + 1) + sizeof(*ref), data, len);
	/* The parent is INPUT's only producer: plain stores, no read-modify-write. */
	atomic_store_explicit(&r->pushed,
			      atomic_load_explicit(&r->pushed, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_store_explicit(&r->tail, tail + sz, memory_order_release);
	return 0;
}

int queue_input_wake(struct queue *q, uint64_t nitems)
{
	struct queue_ring *r = &q->input;
	/* Always: a worker between its count and its sleep sees the change and does not sleep. */
	atomic_fetch_add(&r->data_seq, 1);
	if (nitems == 0 || atomic_load(&r->data_sleepers) == 0)
		return 0;
	/* One sleeper per batch the items make: a woken worker takes a batch, and wakes no one;
	 * a count a killed sleeper left too high only makes the futex call, the kernel wakes
	 * live sleepers alone. */
	uint64_t per = MAX(1u, atomic_load_explicit(&r->batch_hint, memory_order_relaxed));
	uint64_t n = (nitems + per - 1) / per;
	return futex_wake_u32(&r->data_seq, (int)MIN(n, (uint64_t)INT_MAX));
}

int queue_input_rewake(struct queue *q, struct queue_watch *w)
{
	struct queue_ring *r = &q->input;
	uint64_t popped = atomic_load(&r->popped);
	/* Items are popped in the order they were pushed: those below w->pushed and not popped
	 * were there at the last call. */
	uint64_t stale = w->pushed > popped ? w->pushed - popped : 0;
	w->pushed = atomic_load_explicit(&r->pushed, memory_order_relaxed);
	return stale ? queue_input_wake(q, stale) : 0;
}

bool queue_input_idled(const struct queue *q, uint32_t *naps)
{
	uint32_t now = atomic_load_explicit(&q->input.data_naps, memory_order_relaxed);
	bool idled = now != *naps ||
		     atomic_load_explicit(&q->input.data_sleepers, memory_order_relaxed) != 0;
	*naps = now;
	return idled;
}

bool queue_input_below(struct queue *q, uint64_t n)
{
	struct queue_ring *r = &q->input;
	uint64_t pushed = atomic_load_explicit(&r->pushed, memory_order_relaxed);
	if (pushed - r->popped_cache < n)
		return true;
	r->popped_cache = atomic_load_explicit(&r->popped, memory_order_relaxed);
	return pushed - r->popped_cache < n;
}

uint64_t queue_input_count(const struct queue *q)
{
	uint64_t pushed = atomic_load_explicit(&q->input.pushed, memory_order_relaxed);
	uint64_t popped = atomic_load_explicit(&q->input.popped, memory_order_relaxed);
	return pushed > popped ? pushed - popped : 0;
}

/* Skip pads at head; returns the position of the next real record, or tail. */
static uint64_t result_skip_pads(struct queue *q, uint64_t head, uint64_t tail)
{
	struct queue_ring *r = &q->result;
	while (head < tail) {
		struct rec_header *h = ring_at(q, r, head);
		if (h->bytes != REC_PAD)
			break;
		head += h->len;
	}
	return head;
}

int queue_result_peek(struct queue *q, struct queue_result *res, const char **out)
{
	struct queue_ring *r = &q->result;
	if (r->cursor >= r->tail_cache)
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t pos = result_skip_pads(q, r->cursor, r->tail_cache);
	r->cursor = pos;
	if (pos >= r->tail_cache)
		return 0;
	struct rec_header *h = ring_at(q, r, pos);
	memcpy(res, h + 1, sizeof(*res));
	*out = (const char *)(h + 1) + sizeof(*res);
	return 1;
}

/* Hand the space up to the cursor back to the workers. */
static void result_publish(struct queue_ring *r)
{
	r->unpublished = 0;
	atomic_store_explicit(&r->popped, r->cursor_popped, memory_order_relaxed);
	atomic_store_explicit(&r->head, r->cursor, memory_order_release);
}

/* Releases between two moves of RESULT's head: one store per group keeps the cache line the
 * workers read from bouncing per record, and holds back at most a few KiB of space. */
#define RELEASE_GROUP 32

void queue_result_release(struct queue *q)
{
	struct queue_ring *r = &q->result;
	struct rec_header *h = ring_at(q, r, r->cursor);
	r->cursor += h->len;
	r->cursor_popped++;
	if (++r->unpublished >= RELEASE_GROUP)
		result_publish(r);
}

void queue_result_wake(struct queue *q)
{
	struct queue_ring *r = &q->result;
	result_publish(r);
	atomic_fetch_add(&r->space_seq, 1);
	if (atomic_load(&r->space_sleepers))
		futex_wake_u32(&r->space_seq, INT_MAX);
}

bool queue_result_ready(const struct queue *q)
{
	return atomic_load_explicit(&q->result.tail, memory_order_acquire) != q->result.cursor;
}

/* --- a worker's side --- */

bool queue_input_ready(const struct queue *q)
{
	return atomic_load(&q->input.tail) != atomic_load(&q->input.head);
}

int queue_pop(struct queue *q, uint32_t i, uint32_t max, struct buf *data, size_t *offs)
{
	struct queue_ring *r = &q->input;
	struct queue_client *c = queue_client(q, i);
	if (max > QUEUE_BATCH_MAX)
		max = QUEUE_BATCH_MAX;
	/* Nothing to take: no lock (a push after this look is seen by queue_wait_input's). */
	if (!queue_input_ready(q))
		return 0;
	int err = queue_lock(q, 100 * NS_PER_MS);
	if (err)
		return err;
	if (atomic_load(&c->published) != atomic_load(&c->nheld)) {
		queue_unlock(q);
		return -EBUSY;
	}
	fault(QUEUE_POINT_LOCKED);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t pos = head;
	uint32_t n = 0;
	while (n < max && pos < tail) {
		struct rec_header *h = ring_at(q, r, pos);
		if (h->bytes == REC_PAD) {
			pos += h->len;
			continue;
		}
		struct queue_ref ref;
		memcpy(&ref, h + 1, sizeof(ref));
		offs[n] = data->len;
		buf_append(data, (const char *)(h + 1) + sizeof(ref), h->bytes);
		c->held[n] = ref;
		n++;
		pos += h->len;
	}
	if (n == 0 && pos == head) {
		queue_unlock(q);
		return 0;
	}
	if (n && atomic_load_explicit(&r->batch_hint, memory_order_relaxed) != max)
		atomic_store_explicit(&r->batch_hint, max, memory_order_relaxed);
	c->op_count = n;
	atomic_store_explicit(&c->op_from, head, memory_order_relaxed);
	atomic_store_explicit(&c->op_to, pos, memory_order_relaxed);
	atomic_store_explicit(&c->op_counter, atomic_load(&r->popped) + n, memory_order_relaxed);
	barrier();
	atomic_store_explicit(&c->op, QUEUE_OP_POP, memory_order_relaxed);
	barrier();
	/* Only now: before the pop is recorded, a steal must still see the old batch as done. */
	atomic_store_explicit(&c->claim, 0, memory_order_relaxed);
	barrier();
	fault(QUEUE_POINT_POP_RECORDED);
	atomic_store_explicit(&r->head, pos, memory_order_release); /* the commit */
	barrier();
	fault(QUEUE_POINT_POP_COMMITTED);
	atomic_store_explicit(&r->popped,
			      atomic_load_explicit(&c->op_counter, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&c->nheld, n, memory_order_relaxed);
	atomic_store_explicit(&c->published, 0, memory_order_relaxed);
	barrier();
	fault(QUEUE_POINT_POP_DONE);
	atomic_store_explicit(&c->op, QUEUE_OP_NONE, memory_order_relaxed);
	queue_unlock(q);
	offs[n] = data->len;
	return (int)n;
}

int queue_push_results(struct queue *q, uint32_t i, uint32_t upto, const struct queue_result *res,
		       const char *const *out)
{
	struct queue_ring *r = &q->result;
	struct queue_client *c = queue_client(q, i);
	int err = queue_lock(q, 100 * NS_PER_MS);
	if (err)
		return err;
	uint32_t from = atomic_load(&c->published);
	if (upto <= from || upto > atomic_load(&c->nheld)) {
		queue_unlock(q);
		return -EINVAL;
	}
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t pos = tail;
	/* Publish the longest prefix that fits: a group's records may together exceed the ring,
	 * each one alone never does (an output is at most queue_max_output()). */
	uint32_t k = 0;
	for (; k < upto - from; k++) {
		uint32_t bytes = res[k].out_len + res[k].err_len; /* output, then stderr */
		uint64_t sz = align8(sizeof(struct rec_header) + sizeof(res[k]) + bytes);
		uint64_t pad = ring_pad_before(r, pos, sz);
		if (pos + pad + sz - head > r->cap)
			break;
		if (pad) {
			ring_write_pad(q, r, pos, pad);
			pos += pad;
		}
		struct rec_header *h = ring_at(q, r, pos);
		h->len = (uint32_t)sz;
		h->bytes = bytes;
		memcpy(h + 1, &res[k], sizeof(res[k]));
		if (bytes)
			memcpy((char *)(h + 1) + sizeof(res[k]), out[k], bytes);
		pos += sz;
	}
	if (k == 0) {
		queue_unlock(q);
		return -ENOSPC;
	}
	upto = from + k;
	barrier();
	fault(QUEUE_POINT_PUSH_WRITTEN);
	c->op_count = upto;
	atomic_store_explicit(&c->op_from, tail, memory_order_relaxed);
	atomic_store_explicit(&c->op_to, pos, memory_order_relaxed);
	atomic_store_explicit(&c->op_counter, atomic_load(&r->pushed) + (upto - from),
			      memory_order_relaxed);
	barrier();
	atomic_store_explicit(&c->op, QUEUE_OP_PUSH, memory_order_relaxed);
	barrier();
	fault(QUEUE_POINT_PUSH_RECORDED);
	atomic_store_explicit(&r->tail, pos, memory_order_release); /* the commit */
	barrier();
	fault(QUEUE_POINT_PUSH_COMMITTED);
	atomic_store_explicit(&r->pushed,
			      atomic_load_explicit(&c->op_counter, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&c->published, upto, memory_order_relaxed);
	barrier();
	fault(QUEUE_POINT_PUSH_DONE);
	atomic_store_explicit(&c->op, QUEUE_OP_NONE, memory_order_relaxed);
	queue_unlock(q);
	return (int)k;
}

void queue_wait_input(struct queue *q, uint32_t i, const _Atomic uint32_t *stop,
		      uint64_t timeout_ns)
{
	struct queue_ring *r = &q->input;
	struct queue_client *c = queue_client(q, i);
	/* The flag after the count and before the sleep, cleared before the count goes down: a
	 * death with the flag set was counted, so the parent's give-back never undercounts. */
	atomic_fetch_add(&r->data_sleepers, 1);
	atomic_store(&c->asleep, 1);
	atomic_fetch_add_explicit(&r->data_naps, 1, memory_order_relaxed);
	uint32_t seq = atomic_load(&r->data_seq);
	if (!queue_input_ready(q) && !(stop && atomic_load(stop)))
		futex_wait_u32(&r->data_seq, seq, timeout_ns);
	atomic_store(&c->asleep, 0);
	atomic_fetch_sub(&r->data_sleepers, 1);
}

void queue_wait_space(struct queue *q, uint64_t seen_head, uint64_t timeout_ns)
{
	struct queue_ring *r = &q->result;
	atomic_fetch_add(&r->space_sleepers, 1);
	uint32_t seq = atomic_load(&r->space_seq);
	/* Sleep until the parent frees something: head moves past what the failed push saw. */
	if (atomic_load(&r->head) == seen_head)
		futex_wait_u32(&r->space_seq, seq, timeout_ns);
	atomic_fetch_sub(&r->space_sleepers, 1);
}

uint64_t queue_result_head(const struct queue *q)
{
	return atomic_load(&q->result.head);
}

uint64_t queue_input_free(const struct queue *q)
{
	return q->input.cap - (atomic_load(&q->input.tail) - atomic_load(&q->input.head));
}

uint32_t queue_client_reclaim(struct queue *q, uint32_t i, struct queue_ref *out)
{
	struct queue_client *c = queue_client(q, i);
	uint32_t from = atomic_load(&c->published);
	uint32_t to = atomic_load(&c->nheld);
	uint32_t n = 0;
	for (uint32_t k = from; k < to && k < QUEUE_BATCH_MAX; k++)
		out[n++] = c->held[k];
	atomic_store(&c->nheld, 0);
	atomic_store(&c->published, 0);
	atomic_store(&c->op, QUEUE_OP_NONE);
	if (atomic_exchange(&c->asleep, 0))
		atomic_fetch_sub(&q->input.data_sleepers, 1);
	return n;
}

int queue_claim(struct queue *q, uint32_t i)
{
	struct queue_client *c = queue_client(q, i);
	uint32_t k = atomic_fetch_add(&c->claim, 1);
	if (k & QUEUE_STOLEN || k >= atomic_load(&c->nheld))
		return -1;
	return (int)k;
}

bool queue_client_has_unstarted(struct queue *q, uint32_t i)
{
	struct queue_client *c = queue_client(q, i);
	uint32_t k = atomic_load(&c->claim);
	return !(k & QUEUE_STOLEN) && MAX(k, atomic_load(&c->published)) < atomic_load(&c->nheld);
}

uint32_t queue_client_steal(struct queue *q, uint32_t i, struct queue_ref *out)
{
	struct queue_client *c = queue_client(q, i);
	/* After this the worker's next claim fails: items from `from` on are ours. Never below
	 * what is published: a batch already done (or a pop cut short before it was recorded,
	 * whose claim was reset) has nothing to steal. */
	uint32_t from = atomic_fetch_or(&c->claim, QUEUE_STOLEN) & ~QUEUE_STOLEN;
	from = MAX(from, atomic_load(&c->published));
	uint32_t to = atomic_load(&c->nheld);
	if (from >= to)
		return 0;
	uint32_t n = 0;
	for (uint32_t k = from; k < to; k++)
		out[n++] = c->held[k];
	/* The worker will publish at most up to `from`; a reclaim after its death must not see
	 * the stolen items again. */
	atomic_store(&c->nheld, from);
	return n;
}

void queue_wake_all(struct queue *q)
{
	atomic_fetch_add(&q->input.data_seq, 1);
	futex_wake_u32(&q->input.data_seq, INT_MAX);
	atomic_fetch_add(&q->result.space_seq, 1);
	futex_wake_u32(&q->result.space_seq, INT_MAX);
}
