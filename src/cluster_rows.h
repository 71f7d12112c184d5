/* The cluster view's rows: the views the hosts of a batch publish in Redis
 * (pooltop:{B}:view:HOST, one JSON object each, cluster_host.c) merged into the one table a
 * front end draws, and what each merged row stands for, to aim a command at it. Pure: no
 * hiredis here (tested in tests/test_cluster_rows.c). */
#ifndef POOLTOP_CLUSTER_ROWS_H
#define POOLTOP_CLUSTER_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "view_data.h"

/* At most this many rows in a cluster view (every host's workers). */
#define CLUSTER_ROWS_MAX 4096

/* What a merged row was as drawn: the host and its worker (slot, process, item). */
struct cluster_slot {
	char host[VIEW_HOST_MAX + 1];
	unsigned slot;
	uint64_t generation;
	pid_t pid;
	uint64_t cur_seq;
};

/* One host's published view as Redis gave it (text NULL when its key had expired). */
struct cluster_view_text {
	const char *text;
	size_t len;
};

/* Merge the n hosts' views: rows grouped by host (hosts by name), each host's in slot order;
 * rows[i].index = i, rows[i].host its host, map[i] what it was. Views that are missing or not
 * views are skipped (*bad counts the latter). Totals summed over the hosts (sizes, workers,
 * items, rates; the longest elapsed; the largest thresholds). Returns the rows written (at
 * most max). */
unsigned cluster_rows_merge(const struct cluster_view_text *views, unsigned n,
			    struct view_row *rows, struct cluster_slot *map, unsigned max,
			    struct view_totals *t, unsigned *hosts, unsigned *bad);

/* The request a viewer pushes on ctl:HOST for cmd (a proto_command_word) on s (as drawn), by
 * the viewer named by: one JSON line (free it), as cluster_host.c's do_request reads it. */
char *cluster_request(const struct cluster_slot *s, const char *cmd, int arg, const char *by);

#endif
