/* Where a batch across machines lives: a Redis URL, parsed. No hiredis here (the parser is
 * built and tested without it). */
#ifndef POOLTOP_REDIS_URL_H
#define POOLTOP_REDIS_URL_H

#include <stddef.h>

struct redis_url {
	char host[256];	    /* a name or an address (IPv6 without its brackets); "" for unix */
	int port;	    /* 6379 when not given */
	char path[108];	    /* the Unix socket's path, or "" */
	char user[128];	    /* "" when none (AUTH with the password alone) */
	char password[256]; /* "" when none */
	int db;		    /* 0 when not given */
};

/* Parse redis://[user[:password]@]host[:port][/db] or unix:///path/to/redis.sock[?db=N]
 * (user and password may be %-encoded). When the URL has no password, env_auth (the value of
 * REDISCLI_AUTH, or NULL) is the password. Returns 0, or -EINVAL with a one-line message naming
 * what is wrong in err ("--redis: 'redis://h:x': the port 'x' is not a number from 1 to 65535").
 * what names the option in messages ("--redis"). */
int redis_url_parse(const char *url, const char *env_auth, const char *what, struct redis_url *u,
		    char *err, size_t errlen);

/* The URL for messages and the dashboard, without the password: "redis://h:6379/0",
 * "unix:///tmp/r.sock". */
void redis_url_display(const struct redis_url *u, char *out, size_t n);

#endif
