/* pooltop ls and status: see attach_report.h. */
#include "attach_report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"

/* The record a batch leaves at its end when nobody watched it end (attach_server.c). */
static int record_read(const char *path, struct attach_batch *b)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j) {
		snprintf(b->err, sizeof(b->err), "%.100s: %.150s", path, je.text);
		return -EPROTO;
	}
	const char *name = "", *what = "", *out = NULL;
	int pid = 0, status = 0;
	double started = 0, ended = 0;
	json_t *sum = NULL, *jout = NULL;
	int r = json_unpack_ex(j, &je, 0, "{s:s, s:i, s:s, s:F, s:F, s:i, s?o, s:o}", "name", &name,
			       "pid", &pid, "what", &what, "started", &started, "ended", &ended,
			       "status", &status, "out", &jout, "summary", &sum);
	out = json_string_value(jout); /* null: the outputs went where they were sent */
	char err[256];
	if (r == 0 && proto_summary_get(sum, &b->sum, err, sizeof(err)) < 0) {
		snprintf(je.text, sizeof(je.text), "%.150s", err);
		r = -1;
	}
	if (r < 0) {
		snprintf(b->err, sizeof(b->err), "%.100s: %.150s", path, je.text);
		json_decref(j);
		return -EPROTO;
	}
	snprintf(b->info.name, sizeof(b->info.name), "%s", name);
	snprintf(b->info.what, sizeof(b->info.what), "%s", what);
	snprintf(b->info.out, sizeof(b->info.out), "%s", out ? out : "");
	b->info.pid = pid;
	b->info.started = started;
	b->info.finished = true;
	b->ended = ended;
	b->status = status;
	json_decref(j);
	return 0;
}

void attach_batch_get(const struct attach_entry *e, int timeout_ms, struct attach_batch *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", e->name);
	snprintf(b->path, sizeof(b->path), "%s", e->path);
	switch (e->state) {
	case ATTACH_FINISHED:
		b->state = record_read(e->path, b) == 0 ? ATTACH_BATCH_FINISHED : ATTACH_BATCH_DEAD;
		return;
	case ATTACH_DEAD:
		b->state = ATTACH_BATCH_DEAD;
		snprintf(b->err, sizeof(b->err), "nobody answers at %s", e->path);
		return;
	case ATTACH_LIVE:
		break;
	}
	int r = view_remote_query(e->path, timeout_ms, &b->info, &b->t, &b->stopping, b->err,
				  sizeof(b->err));
	if (r == -ETIMEDOUT) {
		b->state = ATTACH_BATCH_STUCK;
		snprintf(b->err, sizeof(b->err), "no answer within %d ms (stopped, or too busy)",
			 timeout_ms);
		return;
	}
	if (r < 0) {
		b->state = ATTACH_BATCH_DEAD;
		return;
	}
	b->state = ATTACH_BATCH_LIVE;
}

const char *attach_batch_state_word(const struct attach_batch *b)
{
	switch (b->state) {
	case ATTACH_BATCH_DEAD:
		return "dead";
	case ATTACH_BATCH_FINISHED:
		return "finished";
	case ATTACH_BATCH_STUCK:
		return "not answering";
	case ATTACH_BATCH_LIVE:
		break;
	}
	if (b->t.finished || b->t.over)
		return "finished";
	switch (b->stopping) {
	case VIEW_STOP_JOIN:
		return "joining";
	case VIEW_STOP_DRAIN:
		return "draining";
	case VIEW_STOP_TERMINATE:
		return "terminating";
	case VIEW_STOP_KILL:
		return "killing";
	case VIEW_STOP_NONE:
		break;
	}
	return b->t.paused ? "paused" : "running";
}

char *attach_batch_json(const struct attach_batch *b)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "name", b->name, "state",
			      attach_batch_state_word(b), "path", b->path);
	if (b->state == ATTACH_BATCH_DEAD || b->state == ATTACH_BATCH_STUCK) {
		json_object_set_new(j, "error", json_string(b->err));
	} else {
		json_object_set_new(j, "pid", json_integer(b->info.pid));
		json_object_set_new(j, "started", json_real(b->info.started));
		json_object_set_new(j, "what", json_string(b->info.what));
		json_object_set_new(j, "out",
				    b->info.out[0] ? json_string(b->info.out) : json_null());
	}
	if (b->state == ATTACH_BATCH_LIVE) {
		const struct view_totals *t = &b->t;
		json_t *o = json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:b, s:i, s:i, s:i, s:i, s:f, s:i}", "done",
			(json_int_t)t->done, "failed", (json_int_t)t->failed, "total",
			(json_int_t)t->submitted, "running", (json_int_t)t->running, "queued",
			(json_int_t)t->queued, "input_complete", t->input_ended, "workers",
			(int)t->alive, "size", (int)t->size, "busy", (int)t->busy, "hung",
			(int)t->hung, "rate", t->rate_now, "viewers", (int)b->info.viewers);
		json_object_update(j, o);
		json_decref(o);
	} else if (b->state == ATTACH_BATCH_FINISHED) {
		const struct view_summary *s = &b->sum;
		json_t *o =
			json_pack("{s:I, s:I, s:I, s:i, s:f}", "done", (json_int_t)s->done,
				  "failed", (json_int_t)s->failed, "not_run",
				  (json_int_t)s->not_run, "status", b->status, "ended", b->ended);
		json_object_update(j, o);
		json_decref(o);
	}
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}
