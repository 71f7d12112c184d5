/* What pooltop ls and status say of a batch: its socket asked, or the record a batch left at its
 * end (NAME.done); and the same as JSON for scripts. */
#ifndef POOLTOP_ATTACH_REPORT_H
#define POOLTOP_ATTACH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "attach_dir.h"
#include "view.h"

enum attach_batch_state {
	ATTACH_BATCH_LIVE,     /* its socket answered */
	ATTACH_BATCH_DEAD,     /* a socket nobody answers (its process was killed) */
	ATTACH_BATCH_FINISHED, /* ended, with a record (NAME.done) */
	ATTACH_BATCH_STUCK,    /* its socket takes connections, but no answer came in time
				  (the process stopped, or too busy) */
};

struct attach_batch {
	char name[ATTACH_NAME_MAX + 1];
	char path[ATTACH_PATH_MAX]; /* the socket, or the record */
	enum attach_batch_state state;
	struct view_remote_info info; /* LIVE and FINISHED */
	struct view_totals t;	      /* LIVE */
	enum view_stop stopping;      /* LIVE */
	struct view_summary sum;      /* FINISHED */
	int status;		      /* FINISHED: its exit status */
	double ended;		      /* FINISHED: seconds since the epoch */
	char err[256];		      /* DEAD: why */
};

/* One batch, from an entry of attach_list: asked (a live socket, at most timeout_ms) or read
 * (a record). Always fills *b (a socket that does not answer properly is DEAD, err says why). */
void attach_batch_get(const struct attach_entry *e, int timeout_ms, struct attach_batch *b);
/* Its state in a word or two: "running", "paused", "draining", "joining", "terminating",
 * "killing", "finished", "dead". */
const char *attach_batch_state_word(const struct attach_batch *b);
/* As one line of JSON (malloc'd, no newline): name, pid, state, started, what, done, failed,
 * total, running, queued, workers, size, rate, viewers, out; status and ended once finished. */
char *attach_batch_json(const struct attach_batch *b);

#endif
