/* The view model served from a batch run in this process: every operation of view.h on the
 * batch and its pool, and the CPU, memory and state of the workers' jobs from /proc. */
#include "view.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cluster_host.h"
#include "pool.h"
#include "procstat.h"
#include "run.h"
#include "util.h"

/* How often the processes' CPU, memory and state are read from /proc: one pass over /proc
 * (a read of /proc/PID/stat for each process of the machine) a second at most, whatever the
 * refresh rate, which keeps the pass's cost small at -j 1024 and the CPU% a steady average. */
#define PROC_SAMPLE_NS NS_PER_S

/* Processes remembered between two passes: a job group may hold several (a shell, its
 * pipeline). */
#define PROC_MAX_PROCS (4 * POOLTOP_MAX_WORKERS)

struct view_local {
	struct view v; /* first: a struct view * is a struct view_local * */
	struct batch *batch;
	struct cluster_host *host; /* this machine as a host of a batch in Redis, or NULL */
	unsigned remote_base;	   /* rows from this index on are other hosts' (as last drawn;
				      UINT_MAX before: a headless host draws none) */
	void (*closed)(void *data);
	void *closed_data;
	struct procstat_scan *scan; /* made at the first sample */
	pid_t *scanned;		    /* per slot: the worker whose figures the scan holds, 0 */
	bool *scanned_job;	    /* per slot: they are its job group's */
	uint64_t scan_at_ns;
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

static unsigned local_rows(struct view *v, struct view_totals *t, struct view_row *rows,
			   unsigned max);

static int local_start(struct view *v, char *err, size_t errlen)
{
	struct view_local *l = local(v);
	int r = batch_start(l->batch, err, errlen);
	if (r == 0 && l->host)
		cluster_host_start(l->host, v, local_rows);
	return r;
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* A pass over /proc for the rows: a row with a job (a command or persistent worker's process
 * group) measures the job group, any other the worker process. */
static void local_scan(struct view_local *l, const struct view_row *rows, unsigned n)
{
	if (!l->scan) {
		l->scan = procstat_scan_new("/proc", POOLTOP_MAX_WORKERS, PROC_MAX_PROCS);
		l->scanned = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*l->scanned));
		l->scanned_job = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*l->scanned_job));
	}
	procstat_scan_reset(l->scan);
	memset(l->scanned, 0, POOLTOP_MAX_WORKERS * sizeof(*l->scanned));
	for (unsigned i = 0; i < n; i++) {
		const struct view_row *r = &rows[i];
		if (r->pid <= 0 || r->index >= POOLTOP_MAX_WORKERS)
			continue;
		bool job = r->job_pid > 0;
		if (procstat_scan_watch(l->scan, job ? r->job_pid : r->pid, job, r->index) < 0)
			continue;
		/* Its job has a group of its own: the worker process is not in it. */
		if (job)
			procstat_scan_skip(l->scan, r->pid);
		l->scanned[r->index] = r->pid;
		l->scanned_job[r->index] = job;
	}
	if (procstat_scan_pass(l->scan, boottime_ns(), sysconf(_SC_CLK_TCK)) < 0)
		memset(l->scanned, 0, POOLTOP_MAX_WORKERS * sizeof(*l->scanned));
}

/* The rows' figures from /proc: a pass at most once a second; in between, a row shows its
 * slot's last figures while the same worker runs there. */
static void local_sample(struct view_local *l, struct view_row *rows, unsigned n)
{
	uint64_t now = now_ns();
	if (!l->scan || now - l->scan_at_ns >= PROC_SAMPLE_NS) {
		l->scan_at_ns = now;
		local_scan(l, rows, n);
	}
	for (unsigned i = 0; i < n; i++) {
		struct view_row *r = &rows[i];
		if (r->pid <= 0 || r->index >= POOLTOP_MAX_WORKERS ||
		    l->scanned[r->index] != r->pid)
			continue;
		const struct procstat_figures *f = procstat_scan_figures(l->scan, r->index);
		if (!f->known)
			continue;
		r->proc_known = true;
		r->proc_job = l->scanned_job[r->index];
		r->proc_state = f->state;
		r->job_procs = r->proc_job ? f->nprocs : 0;
		r->cpu_percent = f->cpu_percent;
		r->rss_bytes = f->rss_bytes;
	}
}

/* This machine's workers. */
static unsigned local_rows(struct view *v, struct view_totals *t, struct view_row *rows,
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

/* A host of a batch in Redis shows every host's workers: its own (with its name), then the
 * others' as they last published them. */
static unsigned local_snapshot(struct view *v, struct view_totals *t, struct view_row *rows,
			       unsigned max)
{
	struct view_local *l = local(v);
	unsigned n = local_rows(v, t, rows, max);
	if (!l->host || !rows)
		return n;
	const char *name = cluster_host_name(l->host);
	for (unsigned i = 0; i < n; i++)
		snprintf(rows[i].host, sizeof(rows[i].host), "%s", name);
	l->remote_base = pool_nslots(batch_pool(l->batch));
	return n + cluster_host_rows(l->host, rows + n, max - n, l->remote_base);
}

static int local_detail(struct view *v, unsigned slot, struct view_detail *d)
{
	struct view_local *l = local(v);
	if (l->host && slot >= l->remote_base)
		return -ENOTSUP; /* another host's worker */
	return pool_slot_detail(batch_pool(l->batch), slot, d);
}

static int local_item(struct view *v, unsigned slot, uint64_t seq, struct view_item *it)
{
	struct view_local *l = local(v);
	if (l->host && slot >= l->remote_base)
		return -ENOTSUP;
	return pool_slot_item(batch_pool(l->batch), slot, seq, it);
}

static int local_command(struct view *v, enum view_command cmd, unsigned slot, uint64_t generation,
			 int arg)
{
	struct view_local *l = local(v);
	struct pool *p = batch_pool(l->batch);
	if (l->host && slot >= l->remote_base)
		return cluster_host_command(l->host, slot - l->remote_base, generation, cmd, arg);
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
	case VIEW_REQUEUE:
		return pool_slot_kill_requeue(p, slot, generation);
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

static void local_host_closed_cb(void *data)
{
	struct view_local *l = data;
	if (l->closed)
		l->closed(l->closed_data);
}

/* The batch closed: the host commits what it has and leaves. */
static void local_batch_closed_cb(void *data)
{
	struct view_local *l = data;
	cluster_host_close(l->host, local_host_closed_cb, l);
}

static void local_close(struct view *v, void (*closed)(void *data), void *data)
{
	struct view_local *l = local(v);
	if (!l->host) {
		batch_close(l->batch, closed, data);
		return;
	}
	l->closed = closed;
	l->closed_data = data;
	batch_close(l->batch, local_batch_closed_cb, l);
}

static void local_free(struct view *v)
{
	struct view_local *l = local(v);
	batch_free(l->batch);
	cluster_host_free(l->host);
	procstat_scan_free(l->scan);
	free(l->scanned);
	free(l->scanned_job);
	free(l);
}

static const struct view_ops local_ops = {
	.start = local_start,
	.snapshot = local_snapshot,
	.detail = local_detail,
	.item = local_item,
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
	l->remote_base = UINT_MAX;
	if (hooks)
		l->v.hooks = *hooks;
	struct batch_hooks bh = {
		.event = local_event_cb,
		.item = local_item_cb,
		.finished = local_finished_cb,
		.data = l,
	};
	struct run_settings rs = *run;
	int r;
	if (cfg->redis) {
		/* This machine as a host: the batch's items come from Redis. */
		struct buf kind = {0};
		run_describe(cfg, &kind);
		r = cluster_host_new(loop, cfg, kind.data ? kind.data : "", run->jobs, &l->host,
				     err, errlen);
		buf_free(&kind);
		if (r < 0) {
			free(l);
			return r;
		}
		rs.feed = cluster_host_feed(l->host);
	}
	r = batch_new(loop, cfg, &rs, job, &bh, out_fd, show_output, &l->batch, err, errlen);
	if (r < 0) {
		cluster_host_free(l->host);
		free(l);
		return r;
	}
	*out = &l->v;
	return 0;
}
