/* The process that runs a batch for a dashboard that can detach (tmux's model): forked at the
 * start into its own session, it runs the batch and serves it; the dashboard in the first
 * process is its first viewer, the owner. Detaching (d, or the terminal hanging up) ends only
 * the viewer. */
#ifndef POOLTOP_ENGINE_H
#define POOLTOP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli.h"
#include "job.h"
#include "run.h"
#include "serve.h"

/* Fork the engine for the batch cfg, run and job describe. In the first process: 0 with
 * *pid and *paths once the engine serves its socket (the batch starts when the owner says
 * hello, or after ENGINE_OWNER_WAIT_S without one), or -errno with one line in err (the engine
 * could not start: a name in use, a file that cannot be opened). The engine never returns: it
 * exits with the batch's status. Its standard streams that were the terminal are replaced: stdout
 * by paths->out, stdin and stderr by /dev/null. */
#define ENGINE_OWNER_WAIT_S 10
int engine_fork(const struct config *cfg, const struct run_settings *run, const struct job *job,
		const char *what, pid_t *pid, struct serve_paths *paths, char *err, size_t errlen);

#endif
