/* The child side of the pool: set-up after fork, then pop -> run -> push until joined. */
#ifndef POOLTOP_WORKER_H
#define POOLTOP_WORKER_H

#include <stdint.h>
#include <sys/types.h>

#include "job.h"
#include "shm.h"

struct worker_args {
	const struct shm *shm;
	uint32_t slot;
	struct job job; /* the job spec, read-only in the worker (job.h); its init runs there */
	int notify_fd;	/* the parent's eventfd: written when the parent sleeps */
	pid_t parent;
	uint64_t max_items;    /* leave gracefully after this many items; 0 = never */
	bool tag;	       /* --tag: each output line after the item and a tab */
	int stderr_fd;	       /* the worker's stderr, or -1 to keep the parent's */
	bool stderr_private;   /* stderr_fd is this worker's alone */
	const char *spool_dir; /* where outputs too large for RESULT go ("SEQ.ATTEMPT"), or NULL */
};

/* Run a worker in a freshly forked child. Never returns: leaves with _exit() — 0 after a join
 * (fini ran), 1 when init failed or the parent is gone; or dies of whatever an item does. */
_Noreturn void worker_main(const struct worker_args *a);

#endif
