/* Every run serves its batch for pooltop ls, attach and status: where (the socket, its name)
 * and the server on a front end's loop. */
#ifndef POOLTOP_SERVE_H
#define POOLTOP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "attach_server.h"
#include "cli.h"
#include "view.h"

struct serve_paths {
	char name[72];
	char path[128]; /* the socket */
	char out[256];	/* NAME.out: the outputs of a batch whose terminal is gone */
	char done[256]; /* NAME.done: the end of a batch nobody watched end */
};

/* The socket of the run cfg describes, for a process of pid: --socket PATH, or
 * ${POOLTOP_TMPDIR:-/tmp}/pooltop-UID/NAME.sock (the directory made or checked), NAME from
 * --name or the command's name and pid. 0, or -errno with one line in err. */
int serve_paths(const struct config *cfg, pid_t pid, struct serve_paths *p, char *err,
		size_t errlen);
/* Serve v at p->path on loop. what: what runs; jobs: a JOB column; out: the outputs' file when
 * they went to the terminal (NULL when not); done: write p->done at the end. */
int serve_start(uv_loop_t *loop, struct view *v, const struct serve_paths *p, const char *what,
		bool jobs, bool out, bool done, struct attach_server **server, char *err,
		size_t errlen);

#endif
