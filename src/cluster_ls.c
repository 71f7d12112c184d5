/* pooltop ls --redis URL: the batches across machines in a Redis, with their counts and live
 * hosts. A few blocking round trips per batch, as submit and collect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "cluster_cmd.h"
#include "cluster_lua.h"
#include "rconn.h"
#include "redis_url.h"
#include "util.h"

struct batch_line {
	char name[CLUSTER_NAME_MAX + 1];
	uint64_t total, done, failed;
	bool complete;
	char **live; /* the live hosts' names */
	size_t nlive;
};

static int by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static uint64_t u64_of(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_STRING ? strtoull(r->str, NULL, 10) : 0;
}

/* The batch names in c: from the meta keys (SCAN, as KEYS would block a busy Redis). */
static int names(redisContext *c, char ***out, size_t *n, char *err, size_t errlen)
{
	char cursor[32] = "0";
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	do {
		redisReply *r =
			redisCommand(c, "SCAN %s MATCH pooltop:{*}:meta COUNT 1000", cursor);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			snprintf(err, errlen, "SCAN: %s",
				 r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
			if (r)
				freeReplyObject(r);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		const redisReply *keys = r->element[1];
		for (size_t i = 0; i < keys->elements; i++) {
			const char *k = keys->element[i]->str;
			const char *end = strstr(k, "}:meta");
			size_t len = end ? (size_t)(end - (k + 9)) : 0;
			char name[CLUSTER_NAME_MAX + 1];
			if (!end || len == 0 || len > CLUSTER_NAME_MAX)
				continue;
			memcpy(name, k + 9, len);
			name[len] = '\0';
			if (!cluster_name_ok(name))
				continue;
			if (*n == cap) {
				cap = cap ? 2 * cap : 16;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			(*out)[(*n)++] = xstrdup(name);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	qsort(*out, *n, sizeof(**out), by_name);
	return 0;
}

static int batch_get(redisContext *c, const char *name, struct batch_line *b, char *err,
		     size_t errlen)
{
	char meta[CLUSTER_KEY_MAX], hosts[CLUSTER_KEY_MAX];
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", name);
	cluster_key(meta, name, "meta");
	cluster_key(hosts, name, "hosts");
	redisReply *r = redisCommand(c, "HMGET %s total done failed complete", meta);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
		snprintf(err, errlen, "%s: %s", name, r ? "HMGET: not an array" : c->errstr);
		if (r)
			freeReplyObject(r);
		return -1;
	}
	b->total = u64_of(r->element[0]);
	b->done = u64_of(r->element[1]);
	b->failed = u64_of(r->element[2]);
	b->complete = u64_of(r->element[3]) == 1;
	freeReplyObject(r);
	r = redisCommand(c, "HKEYS %s", hosts);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		snprintf(err, errlen, "%s: %s", name, r ? "HKEYS: not an array" : c->errstr);
		if (r)
			freeReplyObject(r);
		return -1;
	}
	b->live = xcalloc(r->elements + 1, sizeof(*b->live));
	for (size_t i = 0; i < r->elements; i++) {
		const char *h = r->element[i]->str;
		if (r->element[i]->type != REDIS_REPLY_STRING || !cluster_name_ok(h))
			continue;
		char part[CLUSTER_NAME_MAX + 8], live[CLUSTER_KEY_MAX];
		snprintf(part, sizeof(part), "live:%s", h);
		cluster_key(live, name, part);
		redisReply *e = redisCommand(c, "EXISTS %s", live);
		if (e && e->type == REDIS_REPLY_INTEGER && e->integer == 1)
			b->live[b->nlive++] = xstrdup(h);
		if (e)
			freeReplyObject(e);
	}
	freeReplyObject(r);
	qsort(b->live, b->nlive, sizeof(*b->live), by_name);
	return 0;
}

static void batch_print(const struct batch_line *b, bool json)
{
	if (json) {
		json_t *hosts = json_array();
		for (size_t i = 0; i < b->nlive; i++)
			json_array_append_new(hosts, json_string(b->live[i]));
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:b, s:I, s:o}", "name", b->name,
				      "done", (json_int_t)b->done, "failed", (json_int_t)b->failed,
				      "total", (json_int_t)b->total, "complete", b->complete,
				      "live", (json_int_t)b->nlive, "hosts", hosts);
		char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
		printf("%s\n", line ? line : "{}");
		free(line);
		json_decref(o);
		return;
	}
	char items[80], live[512];
	snprintf(items, sizeof(items), "%llu/%llu/%llu", (unsigned long long)b->done,
		 (unsigned long long)b->failed, (unsigned long long)b->total);
	size_t n = (size_t)snprintf(live, sizeof(live), "%zu", b->nlive);
	for (size_t i = 0; i < b->nlive && n < sizeof(live); i++)
		n += (size_t)snprintf(live + n, sizeof(live) - n, "%s%s", i ? "," : ": ",
				      b->live[i]);
	printf("%-24s %-20s %-9s %s\n", b->name, items, b->complete ? "complete" : "open", live);
}

int cluster_ls_main(const struct config *cfg)
{
	struct redis_url u;
	char err[600], url[300];
	if (redis_url_parse(cfg->redis, getenv("REDISCLI_AUTH"), "--redis", &u, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "pooltop: %s\n", err);
		return 255;
	}
	redis_url_display(&u, url, sizeof(url));
	redisContext *c = rconn_open(&u, CLUSTER_CMD_TIMEOUT_MS, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "pooltop: ls: %s\n", err);
		return 255;
	}
	char **v;
	size_t n;
	int status = 0;
	if (names(c, &v, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltop: ls: %s: %s\n", url, err);
		redisFree(c);
		return 255;
	}
	if (!cfg->json)
		printf("%-24s %-20s %-9s %s\n", "NAME", "DONE/FAILED/TOTAL", "INPUT", "LIVE HOSTS");
	for (size_t i = 0; i < n; i++) {
		struct batch_line b;
		if (batch_get(c, v[i], &b, err, sizeof(err)) < 0) {
			fprintf(stderr, "pooltop: ls: %s: %s\n", url, err);
			status = 255;
		} else {
			batch_print(&b, cfg->json);
		}
		for (size_t k = 0; k < b.nlive; k++)
			free(b.live[k]);
		free(b.live);
		free(v[i]);
	}
	free(v);
	redisFree(c);
	return status;
}
