/* pooltop submit and pooltop collect: the command-line steps of a batch across machines
 * (cluster_lua.h is its data in Redis). Plain stdio, no loop: each is a few blocking round
 * trips. Built without hiredis, both say so (cluster_none.c). */
#ifndef POOLTOP_CLUSTER_CMD_H
#define POOLTOP_CLUSTER_CMD_H

#include "cli.h"

/* The timeout of the connection and of every command, in ms. */
#define CLUSTER_CMD_TIMEOUT_MS 10000

/* Add cfg's items (::: words, -a FILE or stdin; -0) to batch cfg->batch at cfg->redis, and
 * unless cfg->more close its input. A submission is numbered by its items' digest, so running
 * it again adds nothing twice. Prints "batch NAME: T items (A added)[, input complete]" on
 * stdout. Returns the exit status: 0, or 255 after one line on stderr. */
int cluster_submit_main(const struct config *cfg);

struct redisContext;
/* The same for a host given items (cfg's ::: words or -a FILE), on its connection c, saying
 * nothing: 0, or -EIO with one line in err. url: for messages. */
int cluster_submit_items(struct redisContext *c, const struct config *cfg, const char *url,
			 char *err, size_t errlen);

/* Write the batch's results in seq order: cfg->results (each record, JSON Lines) and
 * cfg->joblog (GNU parallel's, Host column the host that ran it). Returns the batch's exit
 * status (GNU parallel's failed count), or 255 when it is missing, unreachable or (without
 * cfg->wait, which polls until it is) not finished. */
int cluster_collect_main(const struct config *cfg);

/* pooltop ls --redis URL [--json]: the batches in cfg->redis, one line each (name,
 * done/failed/total, input complete or open, the live hosts). 0, or 255 after a line on stderr. */
int cluster_ls_main(const struct config *cfg);

#endif
