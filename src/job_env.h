/* The environment of a job (a command, a persistent program): the worker's own, plus the
 * variables GNU parallel sets for its jobs, so that scripts written for it work, and pooltop's
 * names for the same:
 *   PARALLEL_SEQ, POOLTOP_SEQ    the item's sequence number (1, 2, ... in input order): for a
 *                                command, set per item; a persistent program serves many items
 *                                and gets neither
 *   PARALLEL_JOBSLOT             the worker's slot, from 1 (as parallel's {%})
 *   POOLTOP_SLOT                 the worker's slot, from 0 (the dashboard's #)
 *   POOLTOP_WORKER_PID           the worker process that started the job
 * Inherited variables of those names are replaced. Built once per worker; a job's start only
 * rewrites the sequence number, in place. */
#ifndef POOLTOP_JOB_ENV_H
#define POOLTOP_JOB_ENV_H

#include <stdbool.h>
#include <stdint.h>

struct job_env {
	char **envp; /* NULL-terminated, for execvpe: the worker's environ entries (borrowed:
			the worker never changes its environment) and the ones below */
	char parallel_seq[40], pooltop_seq[40], jobslot[40], slot[40], worker_pid[48];
};

/* For slot; with_seq: the sequence variables too (set by job_env_seq before each start). */
void job_env_init(struct job_env *e, unsigned slot, bool with_seq);
void job_env_seq(struct job_env *e, uint64_t seq);
void job_env_free(struct job_env *e);

#endif
