/* The view model: all a front end may know of a batch and do to it. The dashboard and the
 * headless runner draw only from it and act only through it.
 *
 * DESIGN
 * What a front end knows is plain data (view_data.h): totals, one row per worker slot, events,
 * a worker's detail, a summary — no pointer into the engine, fixed sizes. What it does is a
 * small set of commands. A command on a worker is aimed at the worker as drawn: the slot and
 * the generation of its process in the row the user saw; when that process has been replaced
 * since, the command does nothing and says -ESTALE, so a key never hits a process the user did
 * not see.
 * Behind the interface is a table of operations (struct view_ops): view_local_new serves a
 * batch run in this process; another implementation can serve one run elsewhere (a socket to
 * the process that runs it, another machine) with the front ends unchanged. A front end hears
 * what happens through hooks (events as they happen, the end of the batch), called from the
 * loop.
 * The stop policy is here too, one for every front end: Ctrl-C drains (nothing new starts, the
 * running items finish), again terminates all, a third time kills all; SIGTERM and SIGHUP terminate
 * all, again kill all (view_escalate).
 */
#ifndef POOLTOP_VIEW_H
#define POOLTOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "view_data.h"

struct view;
struct config;
struct job;
struct run_settings;

/* What a front end hears, called from the loop. Any may be NULL. */
struct view_hooks {
	/* Something happened: a worker started or ended, an item failed, a notice. */
	void (*event)(void *data, const struct view_event *ev);
	/* An item finished (done or failed for good), with its exit code. */
	void (*item)(void *data, uint64_t seq, int exitcode);
	/* The batch is over: every item finished or abandoned, every worker gone, every output
	 * written or given up. The front end then closes the view. */
	void (*finished)(void *data);
	void *data;
};

/* A command aimed at one worker as drawn. */
enum view_command {
	VIEW_TERMINATE, /* SIGTERM: Process.terminate(); -15, no fini; the slot is respawned */
	VIEW_KILL,	/* SIGKILL: -9 */
	VIEW_JOIN,	/* finish the item, run fini, exit 0; not respawned */
	VIEW_RESTART,	/* SIGTERM and a new process; or a process in a slot that has none */
	VIEW_SIGNAL,	/* any signal (arg), to its job's group, or the worker's when no job
			   runs; SIGSTOP shows STOPPED until SIGCONT */
	VIEW_REQUEUE,	/* SIGKILL, and its item runs again: not counted as an attempt */
};

/* One implementation of the interface. Every operation gets the view it was made for. */
struct view_ops {
	int (*start)(struct view *v, char *err, size_t errlen);
	unsigned (*snapshot)(struct view *v, struct view_totals *t, struct view_row *rows,
			     unsigned max);
	int (*detail)(struct view *v, unsigned slot, struct view_detail *d);
	int (*item)(struct view *v, unsigned slot, uint64_t seq, struct view_item *it);
	int (*command)(struct view *v, enum view_command cmd, unsigned slot, uint64_t generation,
		       int arg);
	int (*resize)(struct view *v, unsigned n);
	void (*pause)(struct view *v, bool paused);
	void (*stop)(struct view *v, enum view_stop how, const char *why);
	enum view_stop (*stopping)(const struct view *v);
	void (*summary)(const struct view *v, struct view_summary *s);
	unsigned (*errors)(const struct view *v, const char *lines[VIEW_MAX_ERRORS]);
	void (*failed)(const struct view *v, struct view_failed *f);
	void (*close)(struct view *v, void (*closed)(void *data), void *data);
	void (*free)(struct view *v);
};

/* What every implementation starts with (its own state follows). */
struct view {
	const struct view_ops *ops;
	struct view_hooks hooks;
};

/* A batch run here: the items of cfg and run through job's workers on loop (as batch_new),
 * the outputs to out_fd when show_output. Opens the input and the files (nothing is written until
 * all opened). Returns 0 and *out, or a negative errno with a one-line reason in err ("--joblog x:
 * Permission denied"). hooks are copied. */
int view_local_new(uv_loop_t *loop, const struct config *cfg, const struct run_settings *run,
		   const struct job *job, const struct view_hooks *hooks, int out_fd,
		   bool show_output, struct view **out, char *err, size_t errlen);

/* A batch run by another pooltop process, served on the Unix socket at path (attach_server.h):
 * the same view, fed over the socket. What the batch says of itself at the hello: */
struct view_remote_info {
	char name[72];
	pid_t pid;
	double started;	  /* seconds since the epoch */
	bool jobs;	  /* its workers run commands (a JOB column) */
	bool read_only;	  /* this view may act on nothing */
	bool finished;	  /* the batch had ended when this view attached */
	unsigned viewers; /* others watching when this view attached */
	char what[1024];  /* what runs */
	char out[4096];	  /* the file its outputs go to, when they went to a terminal, or "" */
};

enum {
	VIEW_REMOTE_READ_ONLY = 1, /* see everything, act on nothing */
	VIEW_REMOTE_OWNER = 2,	   /* the dashboard that started the batch: it waits for it */
};

/* Connect to the batch at path (flags: VIEW_REMOTE_*), say hello, and take its first snapshot
 * (at most a few seconds). 0 with *out and *info, or a negative errno with one line in err
 * ("protocol version 2 is not spoken here...", "uid 1001 may not attach ..."). A command from a
 * read-only view is -EPERM; once the connection is lost, the view keeps its last state and
 * calls the finished hook (its summary's fatal says the connection was lost, unless the batch
 * had ended). */
int view_remote_new(uv_loop_t *loop, const char *path, unsigned flags,
		    const struct view_hooks *hooks, struct view **out,
		    struct view_remote_info *info, char *err, size_t errlen);
/* One look at the batch at path, with no loop (pooltop ls, status): its hello, its totals and
 * how it is being stopped. 0, or a negative errno with one line in err. */
int view_remote_query(const char *path, int timeout_ms, struct view_remote_info *info,
		      struct view_totals *t, enum view_stop *stopping, char *err, size_t errlen);

/* A batch across machines, batch at the Redis url (pooltop attach --redis URL --batch NAME):
 * every host's workers in one table (rows grouped by host, row.host set), read from what the
 * hosts publish about every 500 ms; a command on a row is sent to its host, which does it only if
 * its worker still runs the item the row showed (0 once sent; -EPERM when read_only). Resize,
 * pause and stop belong to each host: -ENOTSUP, or nothing. Its detail and items: -ENOTSUP. The
 * finished hook comes when the input is complete, every item is done or failed and no host is
 * live. 0 with *out, or a negative errno with one line in err (no such batch, Redis
 * unreachable, built without hiredis). */
int view_cluster_new(uv_loop_t *loop, const char *url, const char *batch, bool read_only,
		     const struct view_hooks *hooks, struct view **out, char *err, size_t errlen);

/* Start the workers and the reading. 0 or a negative errno (message in err). */
int view_start(struct view *v, char *err, size_t errlen);
/* The totals and up to max rows (rows may be NULL when max is 0). Returns the rows written. */
unsigned view_snapshot(struct view *v, struct view_totals *t, struct view_row *rows, unsigned max);
/* A worker's recent items, latest output and stderr. 0, or -EINVAL for a slot out of range. */
int view_detail(struct view *v, unsigned slot, struct view_detail *d);
/* One of the slot's recent items (by its seq, as in view_detail's recent) in full: its command
 * line, times, the last bytes of its output and stderr. 0, -EINVAL for a slot out of range,
 * -ENOENT when the item is not among the slot's recent ones (any more). */
int view_item(struct view *v, unsigned slot, uint64_t seq, struct view_item *it);
/* cmd on slot as drawn (generation from its row; arg: the signal for VIEW_SIGNAL). 0, or
 * -ESTALE (the slot's process was replaced since), -ESRCH (no process), -EINVAL (no such
 * slot or signal), -EPIPE (the pool is shutting down), -EBUSY (a join of the last worker while
 * items wait for one); of a batch elsewhere, -EINPROGRESS (sent, not answered yet: a refusal
 * that comes later is an event). */
int view_command(struct view *v, enum view_command cmd, unsigned slot, uint64_t generation,
		 int arg);
/* What a command's error means to the user, in words: view_error(-ESTALE) is "its process was
 * replaced since the screen was drawn: nothing done". */
const char *view_error(int err);
/* Grow (start workers) or shrink (join the highest slots) to n. 0, -EINVAL, -EPIPE or
 * -EINPROGRESS. */
int view_resize(struct view *v, unsigned n);
void view_pause(struct view *v, bool paused);
/* Stop at least as hard as how (a weaker stop than the one in force does nothing). why begins
 * the event that says so ("SIGTERM: terminating all workers"); NULL when the caller said why
 * itself. */
void view_stop(struct view *v, enum view_stop how, const char *why);
/* One step harder than the stop in force, at least first: Ctrl-C is first=VIEW_STOP_DRAIN
 * (drain, terminate, kill), SIGTERM first=VIEW_STOP_TERMINATE (terminate, kill). Returns the stop
 * now in force. */
enum view_stop view_escalate(struct view *v, enum view_stop first, const char *why);
enum view_stop view_stopping(const struct view *v);
void view_summary(const struct view *v, struct view_summary *s);
/* The run's errors, one line each without "pooltop: ", also sent as events when they happened:
 * for a front end that could not show those then. lines[i] borrowed until view_free. */
unsigned view_errors(const struct view *v, const char *lines[VIEW_MAX_ERRORS]);
/* The items that failed for good so far (the first VIEW_FAILED_KEPT) and how many in all. */
void view_failed(const struct view *v, struct view_failed *f);
/* GNU parallel's rule: 0 all done; 1-100 the number of failed (or not run) items; 101 more; 255
 * when all were done but a file could not be written, stdout was closed, output was given up or
 * the input could not be read, or when the batch could not run at all (summary.fatal). */
int view_exit_status(const struct view *v);
/* Close (workers still alive are killed); closed(data) when done, then view_free. */
void view_close(struct view *v, void (*closed)(void *data), void *data);
void view_free(struct view *v);

#endif
