/* The shared segment: anonymous, mapped before the forks, so it never outlives pooltop (a
 * named segment leaks in /dev/shm when the parent is killed). Layout: a header with magic and
 * layout version, one slot per worker, then the queue (INPUT and RESULT rings). No pointers
 * inside, only offsets, so another process could read it. */
#ifndef POOLTOP_SHM_H
#define POOLTOP_SHM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"
#include "stats.h"

#define SHM_MAGIC	 0x31504f544c4f4f50ULL /* "POOLTOP1" little-endian */
#define SHM_VERSION	 5
#define SHM_ITEM_PREVIEW 112

/* What a job's start failed in (struct shm_start's call). */
enum shm_start_call {
	SHM_START_NONE = 0,
	SHM_START_PIPE = 1, /* making its pipes (EMFILE, ENFILE) */
	SHM_START_FORK = 2, /* vfork (EAGAIN: ulimit -u, threads-max; ENOMEM) */
	SHM_START_EXEC = 3, /* execvp (ENOMEM, E2BIG...) */
};

/* A job (a command, a persistent program) that cannot start for want of a resource, as the
 * worker retries it (spawn.h); one writer, the worker; the parent shows it and gives up when
 * nothing can start at all. A run of failed tries that ends with a start (or a failure for
 * good) is an episode. */
struct shm_start {
	_Atomic uint32_t failing;  /* 1 from an episode's first failed try to its end */
	_Atomic uint32_t retries;  /* failed tries of the current (or last) episode */
	_Atomic uint32_t episodes; /* episodes begun by this process */
	_Atomic int32_t err;	   /* the last failed try's errno (positive), kept after */
	_Atomic uint32_t call;	   /* enum shm_start_call: what it failed in */
	uint32_t pad;
	_Atomic uint64_t since_ns; /* CLOCK_MONOTONIC: when the current (or last) episode began */
	/* The item whose job is between two tries, so not started: when the worker dies then,
	 * the item is not blamed for it. 0 while a try is under way (the job may start) and
	 * when no item is concerned (a persistent program started at init). */
	_Atomic uint64_t waiting_seq;
};

#define SHM_NOTES     4
#define SHM_NOTE_TEXT 200

/* One-line notices from the worker for the event log, relayed by the parent: a ring of the
 * last SHM_NOTES. Note k (0, 1, 2...) is written in text[k % SHM_NOTES] under seq[k %
 * SHM_NOTES], which is 2k+1 while the worker writes it and 2k+2 once done; posted counts the
 * notes completed. One writer, the worker (shm_note_post); the reader (shm_note_read) never
 * blocks it, and a note overwritten before it was read is counted as lost. */
struct shm_notes {
	_Atomic uint32_t posted;
	_Atomic uint32_t seq[SHM_NOTES];
	char text[SHM_NOTES][SHM_NOTE_TEXT];
};

/* What a worker process is doing, written by the worker. */
enum shm_phase {
	SHM_PHASE_STARTING = 0, /* forked, init not finished */
	SHM_PHASE_IDLE = 1,	/* waiting for items */
	SHM_PHASE_BUSY = 2,	/* running cur_seq */
	SHM_PHASE_FINI = 3,	/* leaving: running its fini */
};

struct shm_slot {
	_Atomic int32_t pid;	     /* parent: the process in the slot, 0 when none */
	_Atomic uint32_t phase;	     /* worker: enum shm_phase */
	_Atomic uint32_t join;	     /* parent: finish the current item, run fini, exit 0 */
	_Atomic uint32_t fini_ran;   /* worker: its fini completed (reset by the parent at fork) */
	_Atomic uint64_t generation; /* parent: one per process started in the slot */
	/* The current item, valid while phase is BUSY, under a sequence lock: cur_lock is odd
	 * while the worker writes. */
	_Atomic uint32_t cur_lock;
	_Atomic uint32_t cur_len; /* the item's whole length */
	_Atomic uint64_t cur_seq;
	_Atomic uint64_t cur_start_ns;
	char cur_preview[SHM_ITEM_PREVIEW];
	/* The process group running the current item (command kinds), 0 when none: the parent
	 * signals it with the worker and kills what is left of it when the worker dies. */
	_Atomic int32_t job_pid;
	/* worker: its init failed, and why (one line, NUL-terminated). */
	_Atomic uint32_t init_failed;
	char init_error[160];
	/* worker: a job that cannot start, being retried; notices for the event log. The parent
	 * zeroes both when it reaps the process. */
	struct shm_start start;
	struct shm_notes notes;
	/* The items this process ran, exact; one writer (the worker). */
	_Atomic uint64_t items_run;
	struct stats_ring stats;
};

struct shm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size;
	uint32_t nslots;
	uint32_t slot_size;
	uint64_t slots_off;
	uint64_t queue_off;
	_Atomic uint32_t paused;     /* parent: workers start no new item while set */
	_Atomic uint32_t pause_seq;  /* futex word bumped on resume */
	_Atomic uint32_t inits_ok;   /* workers whose init succeeded, ever */
	_Atomic uint64_t timeout_ns; /* parent: --timeout in force for kinds that stop their own
					items; 0 when none */
};

struct shm {
	void *base;
	size_t size;
	struct shm_header *hdr;
	struct queue *q;
};

/* Map and initialise a segment with nslots worker slots and the given ring capacities (powers
 * of two). Pages are touched only when used (MAP_NORESERVE). 0 or -errno. */
int shm_create(uint32_t nslots, uint64_t input_cap, uint64_t result_cap, struct shm *out);
/* Unmap; a zeroed struct is a no-op. */
void shm_destroy(struct shm *s);
struct shm_slot *shm_slot(const struct shm *s, uint32_t i);

/* Worker: post a one-line notice (printf format; cut to SHM_NOTE_TEXT - 1 bytes). */
void shm_note_post(struct shm_notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reader: the next note after *seen (the count of notes already taken, 0 at first) into buf
 * (NUL-terminated, len > 0). Returns 1 and advances *seen past it; 0 when there is none yet
 * (or the next one is being written: try again later). *lost is increased by the notes
 * overwritten before they could be read. */
int shm_note_read(const struct shm_notes *n, uint32_t *seen, char *buf, size_t len, uint32_t *lost);

/* Check a mapped segment's header: 0, or -EINVAL for a wrong magic, version or size. */
int shm_check(const void *base, size_t size);

#endif
