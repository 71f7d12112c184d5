/* Blocking connections to Redis for the command-line steps (submit, collect): connect with a
 * timeout, AUTH, SELECT; every message names the URL without its password. */
#include "rconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "util.h"

static struct timeval ms_tv(unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	return tv;
}

/* One command whose reply must be a status or a string; else the message in err. */
static int rconn_simple(redisContext *c, const char *url, const char *what, int argc,
			const char **argv, char *err, size_t errlen)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	if (!r) {
		snprintf(err, errlen, "%s: %s: %s", url, what, c->errstr);
		return -1;
	}
	int rc = 0;
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "%s: %s: %s", url, what, r->str);
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

redisContext *rconn_open(const struct redis_url *u, unsigned timeout_ms, char *err, size_t errlen)
{
	char url[600];
	redisContext *c;

	redis_url_display(u, url, sizeof(url));
	if (u->path[0])
		c = redisConnectUnixWithTimeout(u->path, ms_tv(timeout_ms));
	else
		c = redisConnectWithTimeout(u->host, u->port, ms_tv(timeout_ms));
	if (!c) {
		snprintf(err, errlen, "%s: cannot connect: out of memory", url);
		return NULL;
	}
	if (c->err) {
		snprintf(err, errlen, "%s: cannot connect: %s", url, c->errstr);
		goto fail;
	}
	if (redisSetTimeout(c, ms_tv(timeout_ms)) != REDIS_OK) {
		snprintf(err, errlen, "%s: cannot set the timeout: %s", url, c->errstr);
		goto fail;
	}
	if (u->password[0]) {
		/* AUTH password alone is the "default" user's, as before Redis 6's ACLs. */
		const char *argv[] = {"AUTH", u->user, u->password};
		const char *argv_pw[] = {"AUTH", u->password};
		int rc = u->user[0] ? rconn_simple(c, url, "AUTH", 3, argv, err, errlen)
				    : rconn_simple(c, url, "AUTH", 2, argv_pw, err, errlen);
		if (rc < 0)
			goto fail;
	}
	if (u->db) {
		char db[16];
		snprintf(db, sizeof(db), "%d", u->db);
		const char *argv[] = {"SELECT", db};
		if (rconn_simple(c, url, "SELECT", 2, argv, err, errlen) < 0)
			goto fail;
	}
	return c;
fail:
	redisFree(c);
	return NULL;
}

redisReply *rconn_eval(redisContext *c, const char *script, int nkeys, int argc, const char **argv,
		       const size_t *argvlen, char *err, size_t errlen)
{
	int n = 3 + argc;
	const char **av = xmalloc((size_t)n * sizeof(*av));
	size_t *al = xmalloc((size_t)n * sizeof(*al));
	char nk[16];
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[0] = "EVAL";
	av[1] = script;
	av[2] = nk;
	for (int i = 0; i < 3; i++)
		al[i] = strlen(av[i]);
	for (int i = 0; i < argc; i++) {
		av[3 + i] = argv[i];
		al[3 + i] = argvlen ? argvlen[i] : strlen(argv[i]);
	}
	redisReply *r = redisCommandArgv(c, n, av, al);
	if (!r)
		snprintf(err, errlen, "%s", c->errstr[0] ? c->errstr : "no reply");
	free(av);
	free(al);
	return r;
}
