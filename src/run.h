/* A run as the command line asks for it: the job each worker runs. This module sits above the
 * command line (cli.h) and the worker kinds (job.h): cli knows job (--builtin is checked
 * against the built-in kinds), job knows nothing of the command line. */
#ifndef POOLTOP_RUN_H
#define POOLTOP_RUN_H

#include <stddef.h>

#include "cli.h"
#include "job.h"
#include "util.h"

/* The job c asks for: a command, a persistent program, a plugin or a builtin, with its
 * termination sequence. 0, or a negative errno with a one-line reason in err
 * ("sha256sumx: command not found"). job_release frees what it owns. */
int run_job_from_config(const struct config *c, struct job *job, char *err, size_t errlen);

/* What runs, in words for the dashboard's header, appended to b: "--builtin square",
 * "sha256sum {}". c is a CLI_RUN configuration: one of its command, plugin and builtin is
 * set. */
void run_describe(const struct config *c, struct buf *b);

#endif
