/* Starting a job from a worker: COMMAND in its own process group, killed with the worker, and
 * stopping it with a termination sequence. Used by the command and persistent kinds. */
#ifndef POOLTOP_SPAWN_H
#define POOLTOP_SPAWN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "termseq.h"

/* Start argv[0] (searched in PATH, as execvp) with fds[0..2] as its stdin, stdout and stderr
 * (-1 keeps the worker's), in a new process group it leads, with SIGKILL as its parent-death
 * signal and SIGPIPE at its default. vfork, not fork: its cost does not grow with the worker.
 * The child stores its pid in *publish (when not NULL: the shared slot's job_pid) before it
 * execs, so its group is known even if the worker dies before vfork returns; a failed start
 * stores 0 back. Returns 0 and *pid, or the negative errno of the failed exec (-ENOENT,
 * -EACCES, -ENOEXEC) or of vfork. */
int spawn_job(char *const *argv, const int fds[3], _Atomic int32_t *publish, pid_t *pid);

/* The exit code of a job that could not be started, as a shell gives it: 127 when the command
 * was not found, 126 when it was found but could not be executed. */
int spawn_failure_code(int err);

/* Check, before a run, that name can be executed: a path to an executable file, or a name found
 * in PATH. 0, -ENOENT ("command not found") or -EACCES (found, not executable). */
int spawn_check_command(const char *name);

/* Stopping a job with a termination sequence. */
struct spawn_stop {
	const struct termseq *seq;
	unsigned stage;	  /* signals sent so far */
	uint64_t next_ns; /* when to send the next one */
	int first_sig;	  /* the first signal sent, 0 before */
};

/* The next signal of the sequence (SIGKILL once it is over), counted as sent at now
 * (CLOCK_MONOTONIC ns): s->next_ns is when the one after is due. */
int spawn_stop_next(struct spawn_stop *s, uint64_t now);
/* Send the next signal of the sequence to the process group pgid (spawn_stop_next). */
void spawn_stop_step(struct spawn_stop *s, pid_t pgid, uint64_t now);

/* A job that started at start against timeout_ns (0: none): sends the sequence's next signal
 * to pgid when one is due (s->stage > 0 once the job was stopped). Returns how long to wait
 * before asking again, in ms, for poll: -1 when there is no deadline, at most 1000. */
int spawn_stop_poll(struct spawn_stop *s, pid_t pgid, uint64_t start, uint64_t timeout_ns);

#endif
