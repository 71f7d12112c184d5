/* The view model served from a batch run in this process: every operation of view.h on the
 * batch and its pool, and the workers' CPU and memory from /proc. */
#include "view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "pool.h"
#include "procstat.h"
#include "util.h"

/* How often a worker's CPU and memory are read from /proc. */
#define PROC_SAMPLE_NS NS_PER_S

struct view_local {
	struct view v; /* first: a struct view * is a struct view_local * */
	struct batch *batch;
	struct procstat *procs; /* per slot, POOLTOP_MAX_WORKERS, made at the first sample */
	uint64_t procs_at_ns;
};

static struct view_local *local(struct view *v)
{
	return (struct view_local *)v;
}

static const struct view_local *clocal(const struct view *v)
{
	return (const struct view_local *)v;
}

static void local_event_cb(void *data, const struct view_event *ev)
{
	struct view_local *l = data;
	if (l->v.hooks.event)
		l->v.hooks.event(l->v.hooks.data, ev);
}

static void local_item_cb(void *data, uint64_t seq, int exitcode)
{
	struct view_local *l = data;
	if (l->v.hooks.item)
		l->v.hooks.item(l->v.hooks.data, seq, exitcode);
}

static void local_finished_cb(void *data)
{
	struct view_local *l = data;
	if (l->v.hooks.finished)
		l->v.hooks.finished(l->v.hooks.data);
}

static int local_start(struct view *v, char *err, size_t errlen)
{
	return batch_start(local(v)->batch, err, errlen);
}

/* The rows' processes from /proc, at most once a second (a read of /proc per worker). */
static void local_sample(struct view_local *l, struct view_row *rows, unsigned n)
{
	uint64_t now = now_ns();
	bool fresh = now - l->procs_at_ns >= PROC_SAMPLE_NS;
	if (!l->procs)
		l->procs = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*l->procs));
	if (fresh)
		l->procs_at_ns = now;
	for (unsigned i = 0; i < n; i++) {
		struct view_row *r = &rows[i];
		struct procstat *ps = &l->procs[r->index];
		if (fresh) {
			if (r->pid > 0)
				procstat_sample(r->pid, ps);
			else
				memset(ps, 0, sizeof(*ps));
		}
		r->proc_known = r->pid > 0 && ps->pid == r->pid;
		r->cpu_percent = r->proc_known ? ps->cpu_percent : 0;
		r->rss_bytes = r->proc_known ? ps->rss_bytes : 0;
	}
}

static unsigned local_snapshot(struct view *v, struct view_totals *t, struct view_row *rows,
			       unsigned max)
{
	struct view_local *l = local(v);
	unsigned n = pool_snapshot(batch_pool(l->batch), t, rows, max);
	t->output_blocked = batch_output_blocked(l->batch);
	t->output_pending = batch_output_pending(l->batch);
	t->over = batch_over(l->batch);
	if (n)
		local_sample(l, rows, n);
	return n;
}

static int local_detail(struct view *v, unsigned slot, struct view_detail *d)
{
	return pool_slot_detail(batch_pool(local(v)->batch), slot, d);
}

static int local_command(struct view *v, enum view_command cmd, unsigned slot, uint64_t generation,
			 int arg)
{
	struct pool *p = batch_pool(local(v)->batch);
	switch (cmd) {
	case VIEW_TERMINATE:
		return pool_slot_terminate(p, slot, generation);
	case VIEW_KILL:
		return pool_slot_kill(p, slot, generation);
	case VIEW_JOIN:
		return pool_slot_join(p, slot, generation);
	case VIEW_RESTART:
		return pool_slot_restart(p, slot, generation);
	case VIEW_SIGNAL:
		return pool_slot_signal(p, slot, generation, arg);
	}
	return -EINVAL;
}

static int local_resize(struct view *v, unsigned n)
{
	return pool_resize(batch_pool(local(v)->batch), n);
}

static void local_pause(struct view *v, bool paused)
{
	pool_pause(batch_pool(local(v)->batch), paused);
}

static void local_stop(struct view *v, enum view_stop how, const char *why)
{
	batch_stop(local(v)->batch, how, why);
}

static enum view_stop local_stopping(const struct view *v)
{
	return batch_stopping(clocal(v)->batch);
}

static void local_summary(const struct view *v, struct view_summary *s)
{
	batch_summary(clocal(v)->batch, s);
}

static unsigned local_errors(const struct view *v, const char *lines[VIEW_MAX_ERRORS])
{
	return batch_errors(clocal(v)->batch, lines);
}

static void local_failed(const struct view *v, struct view_failed *f)
{
	batch_failed(clocal(v)->batch, f);
}

static void local_close(struct view *v, void (*closed)(void *data), void *data)
{
	batch_close(local(v)->batch, closed, data);
}

static void local_free(struct view *v)
{
	struct view_local *l = local(v);
	batch_free(l->batch);
	free(l->procs);
	free(l);
}

static const struct view_ops local_ops = {
	.start = local_start,
	.snapshot = local_snapshot,
	.detail = local_detail,
	.command = local_command,
	.resize = local_resize,
	.pause = local_pause,
	.stop = local_stop,
	.stopping = local_stopping,
	.summary = local_summary,
	.errors = local_errors,
	.failed = local_failed,
	.close = local_close,
	.free = local_free,
};

int view_local_new(uv_loop_t *loop, const struct config *cfg, const struct run_settings *run,
		   const struct job *job, const struct view_hooks *hooks, int out_fd,
		   bool show_output, struct view **out, char *err, size_t errlen)
{
	struct view_local *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "cannot start: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	l->v.ops = &local_ops;
	if (hooks)
		l->v.hooks = *hooks;
	struct batch_hooks bh = {
		.event = local_event_cb,
		.item = local_item_cb,
		.finished = local_finished_cb,
		.data = l,
	};
	int r = batch_new(loop, cfg, run, job, &bh, out_fd, show_output, &l->batch, err, errlen);
	if (r < 0) {
		free(l);
		return r;
	}
	*out = &l->v;
	return 0;
}
