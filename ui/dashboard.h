/* The curses dashboard: every worker live, keys to terminate, kill and join them. */
#ifndef POOLTOP_DASHBOARD_H
#define POOLTOP_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli.h"
#include "job.h"
#include "run.h"

/* Open the terminal for the dashboard. 0, or a negative errno with the reason in why (then run
 * headless). */
int dashboard_available(char *why, size_t len);
/* Close the terminal dashboard_available() opened, when no dashboard is to run after all. */
void dashboard_abandon(void);
/* Run the batch cfg and run describe with job, with the dashboard on the terminal
 * dashboard_available() opened (its detail view shows the workers' stderr when
 * run->capture_stderr). what names what runs, for the header. With stay, the finished screen
 * stays after the batch ends (every view browsable) until q, Ctrl-C, SIGTERM, SIGHUP or the
 * terminal going away. Returns the exit status; the summary goes to stderr at the end. */
int dashboard_run(const struct config *cfg, const struct run_settings *run, const struct job *job,
		  const char *what, bool stay);

/* The dashboard on the batch served at path (view_remote_new's flags): pooltop attach, and
 * the owner of an engine it forked (engine: its pid, waited for at the end; 0 for attach;
 * record: the file its engine keeps the batch's end in, removed when this dashboard showed
 * the end and leaves; NULL for attach). d
 * detaches (so do q when not the owner, a hang-up, and SIGTERM when not the owner): the batch
 * runs on. Returns the batch's exit status when it ended while attached, 0 when detached, 255
 * when it could not attach (with one line on stderr). */
int dashboard_attach(const char *path, unsigned flags, pid_t engine, const char *record, bool stay,
		     unsigned refresh_ms);

/* The dashboard on a batch across machines, batch at the Redis url (view_cluster_new): every
 * host's workers, a HOST column; keys on a worker are sent to its host. q and d leave (the
 * hosts run on). Returns 0 when left, the batch's exit status when it ended while watched, 255
 * when it could not be watched (one line on stderr). */
int dashboard_cluster(const char *url, const char *batch, bool read_only, bool stay,
		      unsigned refresh_ms);

#endif
