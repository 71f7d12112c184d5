/* Connections to Redis (hiredis): blocking ones for the command-line steps (submit, collect,
 * ls), with a timeout; the batch's hosts use hiredis' async API on the loop (cluster_host.c). */
#ifndef POOLTOP_RCONN_H
#define POOLTOP_RCONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "redis_url.h"

/* Connect, AUTH (when the URL or REDISCLI_AUTH gives a password), SELECT db; every command
 * then times out after timeout_ms. Returns the context, or NULL with a one-line message in err
 * ("redis://h:6379: Connection refused", "unix:///x.sock: AUTH: WRONGPASS ..."). */
redisContext *rconn_open(const struct redis_url *u, unsigned timeout_ms, char *err, size_t errlen);

/* Run a script: EVAL script nkeys keys... args... (argv/argvlen as hiredis' redisCommandArgv:
 * binary-safe). Returns the reply (freeReplyObject it), or NULL with the message in err (the
 * connection's error). A reply of type REDIS_REPLY_ERROR is returned as it is. */
redisReply *rconn_eval(redisContext *c, const char *script, int nkeys, int argc, const char **argv,
		       const size_t *argvlen, char *err, size_t errlen);

#endif
