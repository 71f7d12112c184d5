/* pooltop submit: items to a batch in Redis, idempotently.
 *
 * Every item is read first: the submission is named by its items' digest, and the reserve
 * script gives the same digest the same numbers (base+1..base+n) however often it runs. The add
 * script then adds only the numbers not yet seen, so a submit cut short by a crash and run
 * again completes the first one and adds nothing twice. Close marks the input complete (unless
 * --more); a new submission (another digest) to a complete batch is refused. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster_cmd.h"
#include "cluster_lua.h"
#include "rconn.h"
#include "redis_url.h"
#include "sha512.h"
#include "util.h"

/* Items per add script: a few hundred KB per round trip at most for ordinary items. */
#define SUBMIT_CHUNK 512

struct submit {
	const struct config *cfg;
	char err[600];	 /* the one line that says why it failed */
	char url[600];	 /* for messages: no password */
	struct buf data; /* the input read, when it comes from a file or stdin */
	const char **item;
	size_t *len;
	size_t n, cap;
};

static void submit_fail(struct submit *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void submit_fail(struct submit *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

static void submit_item(struct submit *s, const char *p, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->item = xrealloc(s->item, s->cap * sizeof(*s->item));
		s->len = xrealloc(s->len, s->cap * sizeof(*s->len));
	}
	s->item[s->n] = p;
	s->len[s->n++] = len;
}

/* The whole of fd into s->data, then split on the separator: a last item without one counts,
 * empty lines are (empty) items, an empty input has none (as input.h). */
static int submit_read(struct submit *s, int fd, const char *name)
{
	for (;;) {
		buf_reserve(&s->data, 65536);
		ssize_t r = read(fd, s->data.data + s->data.len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			submit_fail(s, "submit: %s: %s", name, strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		s->data.len += (size_t)r;
	}
	char sep = s->cfg->null_sep ? '\0' : '\n';
	const char *p = s->data.data, *end = p + s->data.len;
	while (p < end) {
		const char *e = memchr(p, sep, (size_t)(end - p));
		if (!e)
			e = end;
		submit_item(s, p, (size_t)(e - p));
		p = e + 1;
	}
	return 0;
}

static int submit_items(struct submit *s)
{
	const struct config *cfg = s->cfg;
	if (cfg->items) {
		for (size_t i = 0; i < cfg->nitems; i++)
			submit_item(s, cfg->items[i], strlen(cfg->items[i]));
		return 0;
	}
	if (!cfg->arg_file || strcmp(cfg->arg_file, "-") == 0)
		return submit_read(s, 0, "standard input");
	int fd = open(cfg->arg_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		submit_fail(s, "submit: -a: %s: %s", cfg->arg_file, strerror(errno));
		return -1;
	}
	int rc = submit_read(s, fd, cfg->arg_file);
	close(fd);
	return rc;
}

/* The submission's name: SHA-512 over the items, each preceded by its length as 8 bytes
 * (big-endian), so that no two lists of items share their bytes; the first 32 hex digits. */
static void submit_digest(const struct submit *s, char hex[33])
{
	static const char digits[] = "0123456789abcdef";
	struct sha512_ctx ctx;
	unsigned char md[SHA512_DIGEST_LEN];

	sha512_init(&ctx);
	for (size_t i = 0; i < s->n; i++) {
		unsigned char len[8];
		for (int k = 0; k < 8; k++)
			len[k] = (unsigned char)((uint64_t)s->len[i] >> (56 - 8 * k));
		sha512_update(&ctx, len, sizeof(len));
		sha512_update(&ctx, s->item[i], s->len[i]);
	}
	sha512_final(&ctx, md);
	for (int i = 0; i < 16; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[32] = '\0';
}

/* A new batch's epoch: 16 random hex digits. */
static int submit_epoch(struct submit *s, char hex[17])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char r[8];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r)) {
		submit_fail(s, "submit: /dev/urandom: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	for (int i = 0; i < 8; i++) {
		hex[2 * i] = digits[r[i] >> 4];
		hex[2 * i + 1] = digits[r[i] & 0xf];
	}
	hex[16] = '\0';
	return 0;
}

/* A script's reply: NULL after its one line on stderr (the connection's error, or the
 * script's, with EPOCH and COMPLETE said in words). */
static redisReply *submit_eval(struct submit *s, redisContext *c, const char *script, int nkeys,
			       int argc, const char **argv, const size_t *argvlen)
{
	char err[512];
	const char *batch = s->cfg->batch;
	redisReply *r = rconn_eval(c, script, nkeys, argc, argv, argvlen, err, sizeof(err));
	if (!r) {
		submit_fail(s, "submit: %s: %s", s->url, err);
		return NULL;
	}
	if (r->type != REDIS_REPLY_ERROR)
		return r;
	/* Redis 7 puts "ERR " before an error_reply's word. */
	const char *e = strncmp(r->str, "ERR ", 4) == 0 ? r->str + 4 : r->str;
	if (strcmp(e, "COMPLETE") == 0)
		submit_fail(s, "submit: batch %s is complete: its input was closed", batch);
	else if (strncmp(e, "INCOMPLETE ", 11) == 0)
		submit_fail(s,
			    "submit: batch %s: %s items reserved by another submit are not added "
			    "yet (it is running, or was cut short: run it again); the input stays "
			    "open",
			    batch, e + 11);
	else if (strcmp(e, "EPOCH") == 0)
		submit_fail(s,
			    "submit: batch %s was deleted and made again while submitting: "
			    "submit again",
			    batch);
	else
		submit_fail(s, "submit: %s: %s", s->url, r->str);
	freeReplyObject(r);
	return NULL;
}

/* add, in chunks: items i+1.. as seq base+i+1. Adds the new ones' count to *added. */
static int submit_add(struct submit *s, redisContext *c, const char *keys[3], const char *epoch,
		      long long base, long long *added)
{
	size_t max = 3 + 1 + 2 * SUBMIT_CHUNK;
	const char **argv = xmalloc(max * sizeof(*argv));
	size_t *lens = xmalloc(max * sizeof(*lens));
	char(*seqs)[24] = xmalloc(SUBMIT_CHUNK * sizeof(*seqs));
	int rc = 0;

	for (size_t i = 0; i < s->n && rc == 0; i += SUBMIT_CHUNK) {
		size_t k = 0, m = s->n - i < SUBMIT_CHUNK ? s->n - i : SUBMIT_CHUNK;
		for (int j = 0; j < 3; j++) {
			argv[k] = keys[j];
			lens[k++] = strlen(keys[j]);
		}
		argv[k] = epoch;
		lens[k++] = strlen(epoch);
		for (size_t j = 0; j < m; j++) {
			snprintf(seqs[j], sizeof(seqs[j]), "%lld", base + (long long)(i + j) + 1);
			argv[k] = seqs[j];
			lens[k++] = strlen(seqs[j]);
			argv[k] = s->item[i + j];
			lens[k++] = s->len[i + j];
		}
		redisReply *r = submit_eval(s, c, cluster_lua_add, 3, (int)k, argv, lens);
		if (!r)
			rc = -1;
		else if (r->type == REDIS_REPLY_INTEGER)
			*added += r->integer;
		freeReplyObject(r);
	}
	free(argv);
	free(lens);
	free(seqs);
	return rc;
}

/* A reply's integer: an integer, or a string of digits (HGET). */
static long long reply_ll(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return 0;
}

static int submit_run(struct submit *s, redisContext *c, bool say)
{
	const char *batch = s->cfg->batch;
	char meta[CLUSTER_KEY_MAX], items[CLUSTER_KEY_MAX], subs[CLUSTER_KEY_MAX],
		seen[CLUSTER_KEY_MAX];
	char digest[33], epoch_new[17], n[24], now[24], epoch[64];

	cluster_key(meta, batch, "meta");
	cluster_key(items, batch, "items");
	cluster_key(subs, batch, "subs");
	cluster_key(seen, batch, "seen");
	submit_digest(s, digest);
	if (submit_epoch(s, epoch_new) < 0)
		return -1;
	snprintf(n, sizeof(n), "%zu", s->n);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));

	const char *rargv[] = {meta, items, subs, epoch_new, digest, n, now};
	redisReply *r = submit_eval(s, c, cluster_lua_reserve, 3, 7, rargv, NULL);
	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= sizeof(epoch)) {
		submit_fail(s, "submit: %s: reserve: an unexpected reply", s->url);
		freeReplyObject(r);
		return -1;
	}
	snprintf(epoch, sizeof(epoch), "%s", r->element[0]->str);
	long long base = reply_ll(r->element[1]), added = 0;
	freeReplyObject(r);

	const char *akeys[3] = {meta, items, seen};
	if (submit_add(s, c, akeys, epoch, base, &added) < 0)
		return -1;
	if (!s->cfg->more) {
		const char *cargv[] = {meta, epoch};
		r = submit_eval(s, c, cluster_lua_close, 1, 2, cargv, NULL);
		if (!r)
			return -1;
		freeReplyObject(r);
	}
	r = redisCommand(c, "HGET %s total", meta);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		submit_fail(s, "submit: %s: %s", s->url, r ? r->str : c->errstr);
		freeReplyObject(r);
		return -1;
	}
	if (say)
		printf("batch %s: %lld items (%lld added)%s\n", batch, reply_ll(r), added,
		       s->cfg->more ? "" : ", input complete");
	freeReplyObject(r);
	return 0;
}

static void submit_free(struct submit *s)
{
	buf_free(&s->data);
	free(s->item);
	free(s->len);
}

int cluster_submit_items(struct redisContext *c, const struct config *cfg, const char *url,
			 char *err, size_t errlen)
{
	struct submit s = {.cfg = cfg};
	snprintf(s.url, sizeof(s.url), "%s", url);
	int rc = submit_items(&s) < 0 || submit_run(&s, c, false) < 0 ? -EIO : 0;
	if (rc < 0)
		snprintf(err, errlen, "%s", s.err);
	submit_free(&s);
	return rc;
}

int cluster_submit_main(const struct config *cfg)
{
	struct submit s = {.cfg = cfg};
	struct redis_url u;
	char err[600];
	int status = 255;

	if (redis_url_parse(cfg->redis, getenv("REDISCLI_AUTH"), "--redis", &u, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "pooltop: %s\n", err);
		return 255;
	}
	redis_url_display(&u, s.url, sizeof(s.url));
	if (submit_items(&s) < 0)
		goto out;
	redisContext *c = rconn_open(&u, CLUSTER_CMD_TIMEOUT_MS, err, sizeof(err));
	if (!c) {
		submit_fail(&s, "submit: %s", err);
		goto out;
	}
	if (submit_run(&s, c, true) == 0)
		status = fflush(stdout) == 0 ? 0 : 255;
	redisFree(c);
out:
	if (status != 0 && s.err[0])
		fprintf(stderr, "pooltop: %s\n", s.err);
	submit_free(&s);
	return status;
}
