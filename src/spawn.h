/* Starting a job from a worker: COMMAND in its own process group, killed with the worker,
 * retried while the system lacks a resource, and stopping it with a termination sequence. Used
 * by the command and persistent kinds. */
#ifndef POOLTOP_SPAWN_H
#define POOLTOP_SPAWN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "termseq.h"
#include "util.h"

struct shm_start;

/* In struct spawn_req's how[]: give the job a new pipe there. */
#define SPAWN_PIPE (-2)

/* A job to start with spawn_start. */
struct spawn_req {
	char *const *argv;
	char *const *envp; /* its environment (job_env.h), or NULL for the worker's */
	/* The job's stdin, stdout and stderr: an fd, -1 to keep the worker's, or SPAWN_PIPE. */
	int how[3];
	_Atomic int32_t *publish; /* the shared slot's job_pid, or NULL: see spawn_start */
	struct shm_start *report; /* the worker's shared slot, for the parent; may be NULL */
	uint64_t seq;		  /* the item the job is for, 0 when none */
	/* Called (when not NULL) before the first wait of an episode: the worker publishes the
	 * results it holds, so that a long wait keeps nothing finished from the parent. */
	void (*waiting)(void *data);
	void *waiting_data;
};

/* First wait, and the longest, between two tries of a start that failed for want of a
 * resource. */
#define SPAWN_RETRY_FIRST_NS (10 * NS_PER_MS)
#define SPAWN_RETRY_MAX_NS   NS_PER_S

/* Start argv[0] (searched in PATH, as execvp) with req->how as its stdin, stdout and stderr,
 * in a new process group it leads, with SIGKILL as its parent-death signal and SIGPIPE at its
 * default. vfork, not fork: its cost does not grow with the worker. The child stores its pid
 * in *req->publish (when not NULL) before it execs, so its group is known even if the worker
 * dies before vfork returns; a failed start stores 0 back. The worker's ends of the pipes
 * req->how asks for (the write end of the job's stdin, the read ends of its stdout and
 * stderr; close-on-exec) are returned in ends[], -1 where no pipe was asked for, and the
 * caller closes them.
 *
 * A start that fails for want of a resource (spawn_error_temporary: pipe's EMFILE or ENFILE,
 * vfork's EAGAIN or ENOMEM, the same from exec) is tried again after SPAWN_RETRY_FIRST_NS,
 * then twice as long each time up to SPAWN_RETRY_MAX_NS, for as long as it takes: it is the
 * parent that gives up, when no job can start anywhere in the pool (pool.h), by stopping the
 * worker. Each failed try is recorded in req->report, and req->report->waiting_seq holds
 * req->seq while the worker waits between tries (the item has not started).
 *
 * Returns 0 with *pid and ends[], or the negative errno of a failure for good: the command
 * cannot be found or executed (spawn_failure_code gives its exit code). */
int spawn_start(const struct spawn_req *req, int ends[3], pid_t *pid);

/* True for the errors of a start that may succeed later: -EAGAIN, -ENOMEM, -EMFILE, -ENFILE. */
bool spawn_error_temporary(int err);

/* The name of enum shm_start_call's value: "pipe", "fork", "exec" ("?" for none). */
const char *spawn_call_name(unsigned call);

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
