/* The attach server: a batch's view model served on a Unix socket to its owner's viewers
 * (pooltop attach, ls, status, socat), as lines of JSON (doc/protocol.md).
 *
 * DESIGN
 * The engine sends state, each viewer renders it (tmux's model): a viewer whose terminal stalls
 * is never the engine's problem. Every 100 ms, while anyone watches, one snapshot of the view is
 * taken and the rows that changed since the last go out as one delta line, the same for every
 * viewer that is keeping up; events go out as they happen. A viewer whose unsent output passes
 * ATTACH_QUEUE_MAX gets nothing more (its deltas and events are dropped, counted) until it has
 * read all of it, then a fresh snapshot: the cost of a viewer is bounded by the slots, not by
 * the events, and its memory by the bound. Requests (a command on a worker as drawn, a detail)
 * are answered in order; a connection whose queue is full is not read until it drains.
 * Every connection is checked with SO_PEERCRED (same uid or root); anyone else gets one error
 * line and is closed, as is a peer that sends anything but the protocol. The socket is made
 * again if it disappears (a cleaner of /tmp). */
#ifndef POOLTOP_ATTACH_SERVER_H
#define POOLTOP_ATTACH_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "view.h"

/* A viewer's unsent bytes past which it is "behind" (a snapshot at 1,024 workers is ~600 KB). */
#define ATTACH_QUEUE_MAX (2u << 20)
/* Connections at once; more are told so and closed. */
#define ATTACH_MAX_CONNS 256
/* At the close, how long a viewer may go without reading what was queued for it (the end)
 * before it is closed. */
#define ATTACH_DRAIN_MS 3000
/* A request line longer than this closes its connection. */
#define ATTACH_MAX_REQUEST (64u << 10)

struct attach_server;

struct attach_server_config {
	const char *path; /* the socket, made by attach_listen */
	const char *name;
	const char *what; /* what runs, for the viewers' header ("--builtin demo -j 4") */
	bool jobs;	  /* the workers run commands: viewers show a JOB column */
	const char *out;  /* the file the items' outputs go to when they went to the terminal */
	const char *done; /* NAME.done, written at the end with the batch's status, or NULL */
	int dir_fd;	  /* the socket directory held (flock) while serving, or -1; the server's
			     once made (closed by attach_server_free) */
};

/* Serve v on loop at c->path (bound here; c's strings are copied). 0, or -errno with one line
 * in err ("the name \"x\" is in use ..."). */
int attach_server_new(uv_loop_t *loop, struct view *v, const struct attach_server_config *c,
		      struct attach_server **out, char *err, size_t errlen);
/* The front end's view hooks pass the batch's events and its end here. */
void attach_server_event(struct attach_server *s, const struct view_event *ev);
/* The batch is over with this exit status: the last state and the summary go to every viewer,
 * and to those that attach later while the server runs. With record, c->done is written (the
 * end of a batch nobody may have watched end: pooltop status reads it). */
void attach_server_finished(struct attach_server *s, int status, bool record);
/* Viewers connected (past the hello), and whether the owner (the dashboard that started the
 * batch) is among them. */
unsigned attach_server_viewers(const struct attach_server *s);
bool attach_server_owner_present(const struct attach_server *s);
/* Called when a viewer says hello or leaves (for an engine that waits for its owner). */
void attach_server_on_change(struct attach_server *s, void (*cb)(void *data), void *data);
/* Close the socket (unlinked) and every connection, once what was queued for it is read (a
 * viewer that reads nothing for ATTACH_DRAIN_MS is closed then); closed(data) once the handles
 * are closed, then attach_server_free. */
void attach_server_close(struct attach_server *s, void (*closed)(void *data), void *data);
void attach_server_free(struct attach_server *s);

#endif
