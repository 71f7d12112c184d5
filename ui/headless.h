/* The headless front end: results on stdout as they complete, events and a progress line on
 * stderr, a summary at the end. Used with --headless and whenever there is no terminal. */
#ifndef POOLTOP_HEADLESS_H
#define POOLTOP_HEADLESS_H

#include "cli.h"
#include "job.h"
#include "run.h"

/* Run the batch cfg and run describe with job. Returns the exit status (GNU parallel's rule, 255
 * when the batch could not start, with a one-line message on stderr). */
int headless_run(const struct config *cfg, const struct run_settings *run, const struct job *job);

#endif
