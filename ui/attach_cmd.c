/* pooltop ls, attach and status. */
#include "attach_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attach_dir.h"
#include "attach_report.h"
#include "cluster_cmd.h"
#include "dashboard.h"
#include "format.h"
#include "util.h"
#include "view.h"

#define QUERY_MS 3000

static void when(char *buf, size_t len, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	localtime_r(&s, &tm);
	/* Today: the time; before: the date too. */
	time_t now = time(NULL);
	struct tm today;
	localtime_r(&now, &today);
	if (tm.tm_yday == today.tm_yday && tm.tm_year == today.tm_year)
		strftime(buf, len, "%H:%M:%S", &tm);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

static void ls_row(const struct attach_batch *b)
{
	char started[32] = "-", items[64] = "-", workers[32] = "-", rate[32] = "-", pid[16] = "-";
	char viewers[16] = "-", state[64];
	snprintf(state, sizeof(state), "%s", attach_batch_state_word(b));
	if (b->state == ATTACH_BATCH_LIVE || b->state == ATTACH_BATCH_FINISHED) {
		when(started, sizeof(started), b->info.started);
		snprintf(pid, sizeof(pid), "%d", (int)b->info.pid);
	}
	if (b->state == ATTACH_BATCH_LIVE) {
		const struct view_totals *t = &b->t;
		snprintf(items, sizeof(items), "%llu/%llu/%llu%s", (unsigned long long)t->done,
			 (unsigned long long)t->failed, (unsigned long long)t->submitted,
			 t->input_ended ? "" : "+");
		snprintf(workers, sizeof(workers), "%u/%u", t->alive, t->size);
		snprintf(rate, sizeof(rate), "%.0f/s", t->rate_now);
		snprintf(viewers, sizeof(viewers), "%u", b->info.viewers);
	} else if (b->state == ATTACH_BATCH_FINISHED) {
		const struct view_summary *s = &b->sum;
		snprintf(items, sizeof(items), "%llu/%llu/%llu", (unsigned long long)s->done,
			 (unsigned long long)s->failed,
			 (unsigned long long)(s->done + s->failed + s->not_run));
		snprintf(state, sizeof(state), "finished, exit %d", b->status);
	}
	bool out = b->state == ATTACH_BATCH_LIVE && b->info.out[0];
	printf("%-24s %8s %-9s %-20s %-9s %8s %7s  %s%s%s%s\n", b->name, pid, started, items,
	       workers, rate, viewers, state, out ? " (out: " : "", out ? b->info.out : "",
	       out ? ")" : "");
}

static int cmd_ls(const struct config *cfg, const char *dir)
{
	struct attach_entry *e = NULL;
	char err[512];
	int n = attach_list(dir, &e, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "pooltop: ls: %s\n", err);
		return 255;
	}
	if (cfg->wipe) {
		int k = attach_wipe(dir, e, n);
		fprintf(stderr, "pooltop: removed %d dead or finished batch%s\n", k,
			k == 1 ? "" : "es");
		free(e);
		n = attach_list(dir, &e, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "pooltop: ls: %s\n", err);
			return 255;
		}
	}
	if (!cfg->json)
		printf("%-24s %8s %-9s %-20s %-9s %8s %7s  %s\n", "NAME", "PID", "STARTED",
		       "DONE/FAILED/TOTAL", "WORKERS", "RATE", "VIEWERS", "STATE");
	for (int i = 0; i < n; i++) {
		struct attach_batch b;
		attach_batch_get(&e[i], QUERY_MS, &b);
		if (cfg->json) {
			char *line = attach_batch_json(&b);
			printf("%s\n", line ? line : "{}");
			free(line);
		} else {
			ls_row(&b);
		}
	}
	free(e);
	return 0;
}

static void status_text(const struct attach_batch *b)
{
	char started[32], age[32];
	when(started, sizeof(started), b->info.started);
	printf("name:     %s\n", b->name);
	printf("pid:      %d\n", (int)b->info.pid);
	format_duration(age, sizeof(age), (uint64_t)((wall_s() - b->info.started) * 1e9));
	printf("started:  %s (%s ago)\n", started, age);
	printf("runs:     %s\n", b->info.what);
	if (b->state == ATTACH_BATCH_FINISHED) {
		const struct view_summary *s = &b->sum;
		char ended[32];
		when(ended, sizeof(ended), b->ended);
		printf("state:    finished at %s, exit status %d\n", ended, b->status);
		printf("items:    %llu done, %llu failed, %llu not run\n",
		       (unsigned long long)s->done, (unsigned long long)s->failed,
		       (unsigned long long)s->not_run);
		if (s->fatal[0])
			printf("error:    %s\n", s->fatal);
	} else {
		const struct view_totals *t = &b->t;
		printf("state:    %s\n", attach_batch_state_word(b));
		printf("items:    %llu done, %llu failed, %llu running, %llu queued (%llu "
		       "read%s)\n",
		       (unsigned long long)t->done, (unsigned long long)t->failed,
		       (unsigned long long)t->running, (unsigned long long)t->queued,
		       (unsigned long long)t->submitted,
		       t->input_ended ? ", input complete" : ", reading");
		printf("workers:  %u alive of %u, %u busy, %u hung\n", t->alive, t->size, t->busy,
		       t->hung);
		printf("rate:     %.1f/s now, %.1f/s on average\n", t->rate_now, t->rate_avg);
		printf("viewers:  %u\n", b->info.viewers);
	}
	if (b->info.out[0])
		printf("outputs:  %s\n", b->info.out);
}

/* The batch the user named (or the only one): its entry, or 255 with a line said. */
static int pick(const struct config *cfg, const char *dir, struct attach_entry *out)
{
	char err[512];
	if (cfg->socket) {
		memset(out, 0, sizeof(*out));
		snprintf(out->path, sizeof(out->path), "%s", cfg->socket);
		snprintf(out->name, sizeof(out->name), "%.64s", cfg->socket);
		int r = attach_probe(cfg->socket, QUERY_MS);
		if (r == -ENOTSOCK || r == -ENOENT) {
			fprintf(stderr, "pooltop: %s: %s\n", cfg->socket,
				r == -ENOENT ? "no such socket" : "not a socket");
			return 255;
		}
		out->state = r > 0 ? ATTACH_LIVE : ATTACH_DEAD;
		return 0;
	}
	struct attach_entry *e = NULL;
	int n = attach_list(dir, &e, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "pooltop: %s\n", err);
		return 255;
	}
	int i = attach_resolve(e, n, cfg->target, err, sizeof(err));
	if (i < 0) {
		fprintf(stderr, "pooltop: %s\n", err);
		free(e);
		return 255;
	}
	*out = e[i];
	free(e);
	return 0;
}

static int cmd_status(const struct config *cfg, const char *dir)
{
	struct attach_entry e;
	if (pick(cfg, dir, &e))
		return 255;
	struct attach_batch b;
	attach_batch_get(&e, QUERY_MS, &b);
	if (cfg->json) {
		char *line = attach_batch_json(&b);
		printf("%s\n", line ? line : "{}");
		free(line);
		return b.state == ATTACH_BATCH_DEAD || b.state == ATTACH_BATCH_STUCK ? 1 : 0;
	}
	if (b.state == ATTACH_BATCH_STUCK) {
		fprintf(stderr, "pooltop: %s: not answering: %s\n", b.name, b.err);
		return 1;
	}
	if (b.state == ATTACH_BATCH_DEAD) {
		fprintf(stderr,
			"pooltop: %s: dead: %s (its process is gone; pooltop ls --wipe removes "
			"it)\n",
			b.name, b.err);
		return 1;
	}
	status_text(&b);
	return 0;
}

static int cmd_attach(const struct config *cfg, const char *dir)
{
	struct attach_entry e;
	if (pick(cfg, dir, &e))
		return 255;
	if (e.state == ATTACH_DEAD) {
		fprintf(stderr,
			"pooltop: %s: a dead batch: nobody answers at %s (pooltop ls --wipe "
			"removes it)\n",
			e.name, e.path);
		return 255;
	}
	if (e.state == ATTACH_FINISHED) {
		fprintf(stderr, "pooltop: %s has finished: pooltop status %s says how\n", e.name,
			e.name);
		return 255;
	}
	char why[256];
	if (dashboard_available(why, sizeof(why)) < 0) {
		fprintf(stderr,
			"pooltop: attach needs a terminal: %s (pooltop status %s works "
			"without one)\n",
			why, e.name);
		return 255;
	}
	return dashboard_attach(e.path, cfg->read_only ? VIEW_REMOTE_READ_ONLY : 0, 0, NULL,
				!cfg->exit_when_done, 0);
}

/* pooltop attach --redis URL --batch NAME: every host's workers. */
static int cmd_attach_cluster(const struct config *cfg)
{
	char why[256];
	if (dashboard_available(why, sizeof(why)) < 0) {
		fprintf(stderr,
			"pooltop: attach needs a terminal: %s (pooltop ls --redis %s works "
			"without one)\n",
			why, cfg->redis);
		return 255;
	}
	return dashboard_cluster(cfg->redis, cfg->batch, cfg->read_only, true, 0);
}

int attach_cmd_main(const struct config *cfg)
{
	if (cfg->redis && cfg->mode == CLI_LS)
		return cluster_ls_main(cfg);
	if (cfg->redis && cfg->mode == CLI_ATTACH)
		return cmd_attach_cluster(cfg);
	char dir[ATTACH_PATH_MAX] = "", err[512];
	if (!cfg->socket && attach_dir(dir, sizeof(dir), err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltop: %s\n", err);
		return 255;
	}
	switch (cfg->mode) {
	case CLI_LS:
		return cmd_ls(cfg, dir);
	case CLI_STATUS:
		return cmd_status(cfg, dir);
	default:
		return cmd_attach(cfg, dir);
	}
}
