/* A run: the job the command line asks for, and the settings the front end decides beside the
 * command line (struct config stays as cli_parse left it). This module sits above the command
 * line (cli.h) and the worker kinds (job.h): cli knows job (--builtin is checked against the
 * built-in kinds), job knows nothing of the command line. */
#ifndef POOLTOP_RUN_H
#define POOLTOP_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "job.h"
#include "util.h"

/* What a batch is given besides the command line: what the front end decides for the run.
 * run_settings_init makes them as the command line says; the front end then changes its copy
 * (the demo's workers and items, the dashboard's capture of the workers' stderr). */
struct batch_feed;

struct run_settings {
	unsigned jobs;	    /* the pool's workers: -j, or more for the demo */
	char *const *items; /* the items given as words (::: ITEM..., or the demo's), borrowed;
			       NULL: they are read from -a FILE or standard input */
	size_t nitems;
	bool capture_stderr;	 /* the workers' stderr is kept per slot for the dashboard's detail
				    view, instead of going to pooltop's own */
	struct batch_feed *feed; /* the items come from it, not from the input (batch.h), or NULL */
};

/* *s as c says: its -j and its ::: items; the workers' stderr not captured. */
void run_settings_init(struct run_settings *s, const struct config *c);

/* The job c asks for: a command, a persistent program, a plugin or a builtin (for pooltop
 * demo, the builtin demo), with its termination sequence. 0, or a negative errno with a
 * one-line reason in err ("sha256sumx: command not found"). job_release frees what it owns. */
int run_job_from_config(const struct config *c, struct job *job, char *err, size_t errlen);

/* What runs, in words for the dashboard's header, appended to b: "--builtin square",
 * "sha256sum {}". c is a CLI_RUN configuration: one of its command, plugin and builtin is
 * set. */
void run_describe(const struct config *c, struct buf *b);

#endif
