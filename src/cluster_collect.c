/* pooltop collect: a batch's recorded results, from Redis, in seq order: its JSON Lines as
 * recorded (--results) and GNU parallel's joblog (--joblog) made from them; the exit status is
 * the batch's, by the rule of one machine's (view_exit_status: the failed count). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cluster_cmd.h"
#include "cluster_lua.h"
#include "joblog.h"
#include "rconn.h"
#include "redis_url.h"
#include "util.h"

#define COLLECT_POLL_MS 200

struct record {
	uint64_t seq;
	char *json; /* the record as stored, owned */
	size_t len;
};

struct collect {
	const struct config *cfg;
	redisContext *c;
	char url[600];
	char meta[CLUSTER_KEY_MAX], res[CLUSTER_KEY_MAX];
	long long total, done, failed;
	bool complete;
	struct record *rec;
	size_t n, cap;
};

/* HGETALL meta into the counts. 1: the batch is there; 0: it is not; -1: said why. */
static int collect_meta(struct collect *k)
{
	redisReply *r = redisCommand(k->c, "HGETALL %s", k->meta);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "pooltop: collect: %s: %s\n", k->url,
			!r			       ? k->c->errstr
			: r->type == REDIS_REPLY_ERROR ? r->str
						       : "HGETALL: an "
							 "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	int found = r->elements > 0;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const char *f = r->element[i]->str, *v = r->element[i + 1]->str;
		if (!f || !v)
			continue;
		if (!strcmp(f, "total"))
			k->total = strtoll(v, NULL, 10);
		else if (!strcmp(f, "done"))
			k->done = strtoll(v, NULL, 10);
		else if (!strcmp(f, "failed"))
			k->failed = strtoll(v, NULL, 10);
		else if (!strcmp(f, "complete"))
			k->complete = !strcmp(v, "1");
	}
	freeReplyObject(r);
	return found;
}

static bool collect_finished(const struct collect *k)
{
	return k->complete && k->done + k->failed >= k->total;
}

static void collect_add(struct collect *k, const char *field, const char *json, size_t len)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 1024;
		k->rec = xrealloc(k->rec, k->cap * sizeof(*k->rec));
	}
	k->rec[k->n++] = (struct record){
		.seq = strtoull(field, NULL, 10),
		.json = xmemdup(json, len),
		.len = len,
	};
}

/* Every result of the res hash, by HSCAN (a few round trips, never one huge reply). */
static int collect_scan(struct collect *k)
{
	char cursor[32] = "0";
	do {
		redisReply *r = redisCommand(k->c, "HSCAN %s %s COUNT 1000", k->res, cursor);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			fprintf(stderr, "pooltop: collect: %s: HSCAN: %s\n", k->url,
				!r			       ? k->c->errstr
				: r->type == REDIS_REPLY_ERROR ? r->str
							       : "an unexpected reply");
			freeReplyObject(r);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		const redisReply *kv = r->element[1];
		for (size_t i = 0; i + 1 < kv->elements; i += 2)
			if (kv->element[i]->str && kv->element[i + 1]->str)
				collect_add(k, kv->element[i]->str, kv->element[i + 1]->str,
					    kv->element[i + 1]->len);
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

static int record_cmp(const void *a, const void *b)
{
	const struct record *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One joblog row from a record; -1 when it is not a result record. */
static int collect_joblog_row(struct buf *b, const struct record *rec)
{
	json_error_t jerr;
	json_t *o = json_loadb(rec->json, rec->len, JSON_ALLOW_NUL, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	json_t *out = json_object_get(o, "output"), *bytes = json_object_get(o, "output_bytes");
	json_t *cmd = json_object_get(o, "command");
	int exitcode = (int)json_integer_value(json_object_get(o, "exitcode"));
	struct joblog_row row = {
		.seq = rec->seq,
		.start = json_number_value(json_object_get(o, "start")),
		.runtime = json_number_value(json_object_get(o, "runtime")),
		.receive = bytes ? (uint64_t)json_integer_value(bytes) : json_string_length(out),
		.exitval = json_is_true(json_object_get(o, "timeout")) ? -1
			   : exitcode > 0			       ? exitcode
								       : 0,
		.signal = exitcode < 0 ? -exitcode : 0,
		.command = json_string_value(cmd),
		.command_len = json_string_length(cmd),
		.host = json_string_value(json_object_get(o, "host")),
	};
	joblog_format_row(b, &row);
	json_decref(o);
	return 0;
}

static FILE *collect_open(const char *opt, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		fprintf(stderr, "pooltop: collect: %s: %s: %s\n", opt, path, strerror(errno));
	return f;
}

static int collect_close(const char *opt, const char *path, FILE *f)
{
	if (!f)
		return 0;
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "pooltop: collect: %s: %s: %s\n", opt, path,
			strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

/* The files, every record in seq order. */
static int collect_write(struct collect *k)
{
	const struct config *cfg = k->cfg;
	FILE *jl = NULL, *rs = NULL;
	struct buf b = {0};
	int rc = 0;

	if (cfg->joblog && !(jl = collect_open("--joblog", cfg->joblog)))
		return -1;
	if (cfg->results && !(rs = collect_open("--results", cfg->results))) {
		fclose(jl);
		return -1;
	}
	if (jl) {
		joblog_format_header(&b);
		fwrite(b.data, 1, b.len, jl);
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct record *rec = &k->rec[i];
		if (rs) {
			fwrite(rec->json, 1, rec->len, rs);
			fputc('\n', rs);
		}
		if (!jl)
			continue;
		buf_reset(&b);
		if (collect_joblog_row(&b, rec) < 0) {
			fprintf(stderr,
				"pooltop: collect: batch %s: the result of item %" PRIu64
				" is not a JSON object: not in the joblog\n",
				cfg->batch, rec->seq);
			rc = -1;
			continue;
		}
		fwrite(b.data, 1, b.len, jl);
	}
	buf_free(&b);
	if (collect_close("--joblog", cfg->joblog, jl) < 0)
		rc = -1;
	if (collect_close("--results", cfg->results, rs) < 0)
		rc = -1;
	return rc;
}

static int collect_run(struct collect *k)
{
	const char *batch = k->cfg->batch;
	int found = collect_meta(k);
	if (found < 0)
		return 255;
	if (!found) {
		fprintf(stderr, "pooltop: collect: no batch %s at %s\n", batch, k->url);
		return 255;
	}
	while (k->cfg->wait && !collect_finished(k)) {
		struct timespec ts = {0, COLLECT_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
		found = collect_meta(k);
		if (found == 0)
			fprintf(stderr, "pooltop: collect: batch %s was deleted at %s\n", batch,
				k->url);
		if (found <= 0)
			return 255;
	}
	/* The counts read before the results: a result recorded in between is written, and
	 * the status stays that of the counts (finished counts never change). */
	bool finished = collect_finished(k);
	if (collect_scan(k) < 0)
		return 255;
	if (k->n)
		qsort(k->rec, k->n, sizeof(*k->rec), record_cmp);
	int rc = collect_write(k);
	if (!finished) {
		fprintf(stderr,
			"pooltop: collect: batch %s is not finished (%lld of %lld items "
			"recorded)\n",
			batch, k->done + k->failed, k->total);
		return 255;
	}
	if (rc < 0)
		return 255;
	return k->failed == 0 ? 0 : k->failed > 100 ? 101 : (int)k->failed;
}

int cluster_collect_main(const struct config *cfg)
{
	struct collect k = {.cfg = cfg};
	struct redis_url u;
	char err[600];

	if (redis_url_parse(cfg->redis, getenv("REDISCLI_AUTH"), "--redis", &u, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "pooltop: %s\n", err);
		return 255;
	}
	redis_url_display(&u, k.url, sizeof(k.url));
	cluster_key(k.meta, cfg->batch, "meta");
	cluster_key(k.res, cfg->batch, "res");
	k.c = rconn_open(&u, CLUSTER_CMD_TIMEOUT_MS, err, sizeof(err));
	if (!k.c) {
		fprintf(stderr, "pooltop: collect: %s\n", err);
		return 255;
	}
	int status = collect_run(&k);
	redisFree(k.c);
	for (size_t i = 0; i < k.n; i++)
		free(k.rec[i].json);
	free(k.rec);
	return status;
}
