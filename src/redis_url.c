/* A Redis URL, parsed: redis://[user[:password]@]host[:port][/db] or
 * unix://[user[:password]@]/path[?db=N]. Each refusal names the one thing that is wrong, and
 * no message shows a password: the URL is quoted with it masked. */
#include "redis_url.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_URL_PORT 6379
#define DB_MAX	       2147483647L

struct url_parse {
	const char *url;
	const char *what;
	char *err;
	size_t errlen;
};

/* The URL as messages quote it: the password (between the user's ':' and the '@' that ends
 * the user part) as "***", control characters as '?'. */
static void url_masked(const char *url, char *out, size_t n)
{
	const char *auth = strstr(url, "://");
	const char *at = NULL, *colon = NULL;
	if (auth) {
		auth += 3;
		/* The user part ends at the last '@' before the path (a password may hold
		 * '@' unencoded; a unix:// path starts with '/', after it). */
		const char *end = auth + strcspn(auth, "/?#");
		for (const char *p = auth; p < end; p++)
			if (*p == '@')
				at = p;
		if (at)
			colon = memchr(auth, ':', (size_t)(at - auth));
	}
	if (colon)
		snprintf(out, n, "%.*s***%s", (int)(colon + 1 - url), url, at);
	else
		snprintf(out, n, "%s", url);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static int url_fail(const struct url_parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int url_fail(const struct url_parse *ps, const char *fmt, ...)
{
	char shown[600], why[400];
	va_list ap;

	url_masked(ps->url, shown, sizeof(shown));
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	for (char *p = why; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "%s: '%s': %s", ps->what, shown, why);
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %-decode the n bytes at s into out (size outlen, NUL-terminated). */
static int url_decode(const struct url_parse *ps, const char *name, const char *s, size_t n,
		      char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return url_fail(ps,
						"the %s has a '%%' not followed by two hex digits",
						name);
			c = hi << 4 | lo;
			if (c == 0)
				return url_fail(ps, "the %s holds a NUL byte (%%00)", name);
			i += 2;
		}
		if (o + 1 >= outlen)
			return url_fail(ps, "the %s is longer than %zu bytes", name, outlen - 1);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* The user part (before '@'), n bytes at s: "user", "user:password" or ":password". */
static int url_userinfo(const struct url_parse *ps, const char *s, size_t n, struct redis_url *u)
{
	const char *colon = memchr(s, ':', n);
	size_t ulen = colon ? (size_t)(colon - s) : n;
	int rc = url_decode(ps, "user", s, ulen, u->user, sizeof(u->user));
	if (rc == 0 && colon)
		rc = url_decode(ps, "password", colon + 1, n - ulen - 1, u->password,
				sizeof(u->password));
	return rc;
}

/* A decimal number of digits only, min..max; the whole of the n bytes at s. */
static bool url_number(const char *s, size_t n, long min, long max, long *out)
{
	long v = 0;
	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* host[:port] or [v6]:port, the n bytes at s. */
static int url_hostport(const struct url_parse *ps, const char *s, size_t n, struct redis_url *u)
{
	const char *end = s + n, *host = s, *port = NULL;
	size_t hlen;
	if (n > 0 && *s == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return url_fail(ps, "the IPv6 address has no closing ']'");
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < end) {
			if (close[1] != ':')
				return url_fail(ps, "unexpected '%.*s' after ']'",
						(int)(end - close - 1), close + 1);
			port = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			return url_fail(ps, "an IPv6 address goes in brackets: redis://[::1]:6379");
		hlen = colon ? (size_t)(colon - s) : n;
		if (colon)
			port = colon + 1;
	}
	if (hlen == 0)
		return url_fail(ps, "the host is empty");
	if (hlen >= sizeof(u->host))
		return url_fail(ps, "the host is longer than %zu bytes", sizeof(u->host) - 1);
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	if (port) {
		long v;
		if (!url_number(port, (size_t)(end - port), 1, 65535, &v))
			return url_fail(ps, "the port '%.*s' is not a number from 1 to 65535",
					(int)(end - port), port);
		u->port = (int)v;
	}
	return 0;
}

static int url_db(const struct url_parse *ps, const char *s, size_t n, struct redis_url *u)
{
	long v;
	if (!url_number(s, n, 0, DB_MAX, &v))
		return url_fail(ps, "the db '%.*s' is not a number from 0 to %ld", (int)n, s,
				DB_MAX);
	u->db = (int)v;
	return 0;
}

/* After "redis://". */
static int url_tcp(const struct url_parse *ps, const char *rest, struct redis_url *u)
{
	size_t alen = strcspn(rest, "/?#");
	const char *at = NULL;
	for (const char *p = rest; p < rest + alen; p++)
		if (*p == '@')
			at = p;
	const char *hp = rest;
	if (at) {
		int rc = url_userinfo(ps, rest, (size_t)(at - rest), u);
		if (rc < 0)
			return rc;
		hp = at + 1;
	}
	int rc = url_hostport(ps, hp, (size_t)(rest + alen - hp), u);
	if (rc < 0)
		return rc;
	const char *tail = rest + alen;
	if (*tail == '/' && tail[1] != '\0') {
		size_t dlen = strcspn(tail + 1, "/?#");
		if (tail[1 + dlen] != '\0')
			return url_fail(ps, "unexpected '%s' after the db", tail + 1 + dlen);
		return url_db(ps, tail + 1, dlen, u);
	}
	if (*tail == '/')
		tail++;
	if (*tail != '\0')
		return url_fail(ps, "unexpected '%s' after the host", tail);
	return 0;
}

/* After "unix://": [userinfo@]/path[?db=N]. */
static int url_unix(const struct url_parse *ps, const char *rest, struct redis_url *u)
{
	u->port = 0;
	if (*rest != '/') {
		const char *slash = strchr(rest, '/');
		const char *at = NULL;
		for (const char *p = rest; slash && p < slash; p++)
			if (*p == '@')
				at = p;
		if (!at)
			return url_fail(ps, "the socket's path must be absolute: "
					    "unix:///path/to/redis.sock");
		int rc = url_userinfo(ps, rest, (size_t)(at - rest), u);
		if (rc < 0)
			return rc;
		rest = at + 1;
	}
	size_t plen = strcspn(rest, "?#");
	if (plen <= 1)
		return url_fail(ps, "the socket's path is empty");
	if (plen >= sizeof(u->path))
		return url_fail(ps,
				"the socket's path is longer than %zu bytes (a Unix socket's "
				"limit)",
				sizeof(u->path) - 1);
	memcpy(u->path, rest, plen);
	u->path[plen] = '\0';
	const char *q = rest + plen;
	if (*q == '\0')
		return 0;
	if (strncmp(q, "?db=", 4) != 0)
		return url_fail(ps, "unexpected '%s' after the path (only ?db=N)", q);
	return url_db(ps, q + 4, strlen(q + 4), u);
}

int redis_url_parse(const char *url, const char *env_auth, const char *what, struct redis_url *u,
		    char *err, size_t errlen)
{
	struct url_parse ps = {.url = url, .what = what, .err = err, .errlen = errlen};
	struct redis_url r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.port = REDIS_URL_PORT;
	if (strncmp(url, "redis://", 8) == 0) {
		rc = url_tcp(&ps, url + 8, &r);
	} else if (strncmp(url, "unix://", 7) == 0) {
		rc = url_unix(&ps, url + 7, &r);
	} else {
		size_t n = strcspn(url, ":");
		if (url[n] == ':' && n > 0)
			return url_fail(&ps, "the scheme '%.*s' is not redis:// or unix://", (int)n,
					url);
		return url_fail(&ps, "not a Redis URL: redis://HOST[:PORT][/DB] or "
				     "unix:///PATH");
	}
	if (rc < 0)
		return rc;
	if (r.password[0] == '\0' && env_auth && *env_auth) {
		if (strlen(env_auth) >= sizeof(r.password))
			return url_fail(&ps, "REDISCLI_AUTH is longer than %zu bytes",
					sizeof(r.password) - 1);
		strcpy(r.password, env_auth);
	}
	if (r.user[0] && !r.password[0])
		return url_fail(&ps,
				"the user '%s' has no password (give user:password@, or "
				"the password in REDISCLI_AUTH)",
				r.user);
	*u = r;
	return 0;
}

void redis_url_display(const struct redis_url *u, char *out, size_t n)
{
	const char *at = u->user[0] ? "@" : "";
	if (u->path[0]) {
		if (u->db)
			snprintf(out, n, "unix://%s%s%s?db=%d", u->user, at, u->path, u->db);
		else
			snprintf(out, n, "unix://%s%s%s", u->user, at, u->path);
	} else if (strchr(u->host, ':')) {
		snprintf(out, n, "redis://%s%s[%s]:%d/%d", u->user, at, u->host, u->port, u->db);
	} else {
		snprintf(out, n, "redis://%s%s%s:%d/%d", u->user, at, u->host, u->port, u->db);
	}
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}
