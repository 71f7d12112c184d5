/* This machine as a host of a batch across machines: its slots take the batch's items from a
 * Redis stream, run them as on one machine, and commit each result with a script that checks
 * the host still holds the item (doc/cluster.md). The host feeds the batch (batch.h's struct
 * batch_feed) and lives with the view that runs it (view_local.c). */
#ifndef POOLTOP_CLUSTER_HOST_H
#define POOLTOP_CLUSTER_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "view.h"

struct cluster_host;
struct config;
struct batch_feed;
struct view;

/* Join the batch cfg->batch at cfg->redis as cfg->host (or the machine's name and the pid),
 * for workers described by kind (its fingerprint: "--builtin square", "sha256sum {}"), with
 * jobs workers: the items cfg gives (::: words, -a FILE) are submitted first; then the
 * batch's epoch and kind are checked and the host registered. Blocking, before the loop runs.
 * Returns 0 and *out, or a negative errno with one line in err ("--redis: batch b runs
 * '--builtin sleep', not '--builtin square'"). Without hiredis: -ENOTSUP and the line that says
 * so. */
int cluster_host_new(uv_loop_t *loop, const struct config *cfg, const char *kind, unsigned jobs,
		     struct cluster_host **out, char *err, size_t errlen);
/* The feed to give the batch (run_settings.feed). */
struct batch_feed *cluster_host_feed(struct cluster_host *h);
/* The view the batch is served by: the host publishes its rows (local_rows: this machine's
 * workers only) for the cluster view and acts on requests aimed at its workers through it.
 * Starts the host's work on the loop. */
void cluster_host_start(struct cluster_host *h, struct view *v,
			unsigned (*local_rows)(struct view *v, struct view_totals *t,
					       struct view_row *rows, unsigned max));
/* This host's name (rows of its own workers carry it). */
const char *cluster_host_name(const struct cluster_host *h);
/* The other hosts' workers as last published (every 500 ms), up to max rows, their index from
 * base on (after this host's slots), for this host's dashboard. Returns how many. */
unsigned cluster_host_rows(struct cluster_host *h, struct view_row *rows, unsigned max,
			   unsigned base);
/* cmd on the row-th of those rows (as drawn: generation): a request on its host's control
 * list, which acts only if the worker still runs the item drawn. 0, -ESTALE, -ENOTCONN. */
int cluster_host_command(struct cluster_host *h, unsigned row, uint64_t generation,
			 enum view_command cmd, int arg);
/* Commit what is pending (for a moment at most), give back the items not started, leave the
 * batch; closed(data) once the host's handles are closed; then cluster_host_free. */
void cluster_host_close(struct cluster_host *h, void (*closed)(void *data), void *data);
void cluster_host_free(struct cluster_host *h);

#endif
