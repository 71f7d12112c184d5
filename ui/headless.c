/* The headless front end: the batch's results on stdout, events and (on a terminal) a progress
 * line on stderr, a summary on stderr at the end. Signals to pooltop: SIGINT drains (nothing
 * new starts, the running items finish), again terminates all, a third time kills all; SIGTERM
 * terminates all, again kills all (view_escalate); SIGHUP too when pooltop has a terminal, and is
 * ignored (and said) when it has none. SIGUSR1 prints a status line and the busy workers' items,
 * SIGUSR2 turns the progress line on or off (GNU parallel's --progress toggle). */
#include "headless.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "format.h"
#include "serve.h"
#include "view.h"
#include "summary.h"
#include "util.h"

#define PROGRESS_MS 250

struct headless {
	const struct config *cfg;
	uv_loop_t loop;
	struct view *view;
	struct attach_server *server; /* for pooltop attach, ls, status; NULL when not served */
	uv_timer_t progress;
	uv_signal_t sigint, sigterm, sighup, sigusr1, sigusr2;
	bool tty; /* show a progress line (stderr is a terminal, or SIGUSR2 asked) */
	bool progress_shown;
	bool has_tty; /* pooltop has a controlling terminal, whose hang-up SIGHUP says */
	bool finished;
};

static void progress_clear(struct headless *h)
{
	if (h->progress_shown) {
		fputs("\r\033[K", stderr);
		h->progress_shown = false;
	}
}

static void event_cb(void *data, const struct view_event *ev)
{
	struct headless *h = data;
	/* -q hides the events, not why the batch is stopping. */
	if (h->cfg->quiet && ev->kind != VIEW_EVENT_STOP)
		return;
	/* Workers starting are routine: only the noteworthy reach the user. */
	if (ev->kind == VIEW_EVENT_WORKER_STARTED)
		return;
	if (ev->kind == VIEW_EVENT_WORKER_EXITED && ev->exitcode == 0 &&
	    ev->cause == VIEW_CAUSE_END)
		return;
	progress_clear(h);
	fprintf(stderr, "pooltop: %s\n", ev->text);
}

static void view_event_cb(void *data, const struct view_event *ev)
{
	struct headless *h = data;
	attach_server_event(h->server, ev);
	event_cb(data, ev);
}

/* The batch in one line: counts, workers, rate, and as GNU parallel's --bar and --eta, how
 * far it is (a + while input is still read: the total may grow) and the time left. */
static void status_line(struct headless *h, const char *prefix, const char *suffix)
{
	struct view_totals tot;
	view_snapshot(h->view, &tot, NULL, 0);
	uint64_t finished = tot.done + tot.failed;
	double pct = tot.submitted ? 100.0 * (double)finished / (double)tot.submitted : 0;
	char eta[32], mem[80] = "";
	format_eta(eta, sizeof(eta), &tot);
	if (tot.mem_waiting) {
		char avail[16], want[16];
		format_bytes(avail, sizeof(avail), tot.mem_available);
		format_bytes(want, sizeof(want), tot.memfree);
		snprintf(mem, sizeof(mem), " | memfree: waiting, %s available < %s", avail, want);
	}
	fprintf(stderr,
		"%spooltop: %llu done, %llu failed, %llu running, %llu queued%s | %u/%u "
		"workers | %.0f/s | %.0f%%%s ETA %s%s%s",
		prefix, (unsigned long long)tot.done, (unsigned long long)tot.failed,
		(unsigned long long)tot.running, (unsigned long long)tot.queued,
		tot.input_ended ? "" : "+", tot.alive, tot.size, tot.rate_now, pct,
		tot.input_ended ? "" : "+", eta, mem, suffix);
}

/* SIGUSR1: the status line, then the busy workers with their items and how long they have run
 * (at most HEADLESS_BUSY_SHOWN, then how many more), as GNU parallel's --progress does not
 * tell: which items a long batch is waiting on. */
#define HEADLESS_BUSY_SHOWN 16
static void status_report(struct headless *h)
{
	status_line(h, "", "\n");
	struct view_totals tot;
	struct view_row *rows = xcalloc(POOLTOP_MAX_WORKERS, sizeof(*rows));
	unsigned n = view_snapshot(h->view, &tot, rows, POOLTOP_MAX_WORKERS), shown = 0, busy = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct view_row *r = &rows[i];
		if (!r->cur_seq)
			continue;
		if (busy++ >= HEADLESS_BUSY_SHOWN)
			continue;
		char age[32];
		format_duration(age, sizeof(age), r->age_ns);
		fprintf(stderr, "pooltop:   worker %u pid %d: item %llu for %s%s: ", r->index,
			(int)r->pid, (unsigned long long)r->cur_seq, age,
			r->hung			   ? " (HUNG)"
			: r->state == VIEW_STOPPED ? " (STOPPED)"
						   : "");
		summary_put_item(stderr, r->cur_item, r->cur_item_len, r->cur_len);
		fputc('\n', stderr);
		shown++;
	}
	if (busy > shown)
		fprintf(stderr, "pooltop:   ... and %u more busy\n", busy - shown);
	free(rows);
}

static void progress_cb(uv_timer_t *t)
{
	struct headless *h = t->data;
	status_line(h, "\r\033[K", "");
	h->progress_shown = true;
}

static void server_closed_cb(void *data)
{
	struct headless *h = data;
	uv_close((uv_handle_t *)&h->progress, NULL);
	uv_close((uv_handle_t *)&h->sigint, NULL);
	uv_close((uv_handle_t *)&h->sigterm, NULL);
	uv_close((uv_handle_t *)&h->sighup, NULL);
	uv_close((uv_handle_t *)&h->sigusr1, NULL);
	uv_close((uv_handle_t *)&h->sigusr2, NULL);
}

static void view_closed_cb(void *data)
{
	struct headless *h = data;
	if (h->server)
		attach_server_close(h->server, server_closed_cb, h);
	else
		server_closed_cb(h);
}

static void finished_cb(void *data)
{
	struct headless *h = data;
	h->finished = true;
	/* Viewers see the end; the batch's process does not wait for them. */
	attach_server_finished(h->server, view_exit_status(h->view), false);
	uv_timer_stop(&h->progress);
	progress_clear(h);
	view_close(h->view, view_closed_cb, h);
}

static void signal_cb(uv_signal_t *s, int sig)
{
	struct headless *h = s->data;
	if (h->finished)
		return;
	progress_clear(h);
	switch (sig) {
	case SIGUSR1:
		status_report(h);
		return;
	case SIGUSR2:
		h->tty = !h->tty;
		if (h->tty)
			uv_timer_start(&h->progress, progress_cb, PROGRESS_MS, PROGRESS_MS);
		else
			uv_timer_stop(&h->progress);
		return;
	case SIGINT:
		view_escalate(h->view, VIEW_STOP_DRAIN, "interrupted");
		return;
	case SIGHUP:
		/* With no terminal (nohup, setsid, systemd, CI) a hang-up is nothing the batch
		 * lost: said and ignored; SIGTERM still stops it. On a terminal that hung up, the
		 * batch is terminated as for SIGTERM. */
		if (!h->has_tty) {
			if (!h->cfg->quiet)
				fputs("pooltop: SIGHUP ignored: no terminal to hang up (SIGTERM "
				      "stops "
				      "the batch)\n",
				      stderr);
			return;
		}
		view_escalate(h->view, VIEW_STOP_TERMINATE, strsignal(sig));
		return;
	default:
		view_escalate(h->view, VIEW_STOP_TERMINATE, strsignal(sig));
		return;
	}
}

static void print_summary(struct headless *h)
{
	/* -q shows no events: the errors among them are still said. */
	if (h->cfg->quiet) {
		const char *errors[VIEW_MAX_ERRORS];
		unsigned n = view_errors(h->view, errors);
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, "pooltop: %s\n", errors[i]);
	}
	/* ...and the summary only when items failed or did not run. */
	struct view_summary sum;
	view_summary(h->view, &sum);
	if (h->cfg->quiet && sum.failed == 0 && sum.not_run == 0 && !sum.fatal[0])
		return;
	summary_print(stderr, h->view);
}

static void view_closed_nothing_cb(void *data)
{
	(void)data;
}

/* Serve the batch for pooltop attach. A name or socket the user chose must be had; the
 * default one is a convenience: a run goes on without it, said once. */
static int headless_serve(struct headless *h, const struct config *cfg, const struct job *job)
{
	struct serve_paths p;
	char err[512];
	int r = serve_paths(cfg, getpid(), &p, err, sizeof(err));
	if (r == 0) {
		struct buf what = {0};
		run_describe(cfg, &what);
		r = serve_start(&h->loop, h->view, &p, what.data ? what.data : "", job->cmd != NULL,
				false, false, &h->server, err, sizeof(err));
		buf_free(&what);
	}
	if (r == 0)
		return 0;
	if (cfg->name || cfg->socket) {
		fprintf(stderr, "pooltop: %s\n", err);
		return r;
	}
	if (!cfg->quiet)
		fprintf(stderr, "pooltop: not served for pooltop attach: %s\n", err);
	return 0;
}

int headless_run(const struct config *cfg, const struct run_settings *run, const struct job *job)
{
	struct headless h;
	memset(&h, 0, sizeof(h));
	h.cfg = cfg;
	h.tty = isatty(2) && !cfg->quiet;
	char err[512] = "";
	int r = uv_loop_init(&h.loop);
	if (r) {
		fprintf(stderr, "pooltop: cannot start the event loop: %s\n", uv_strerror(r));
		return 255;
	}
	struct view_hooks hooks = {.event = view_event_cb, .finished = finished_cb, .data = &h};
	r = view_local_new(&h.loop, cfg, run, job, &hooks, 1, true, &h.view, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "pooltop: %s\n", err);
		uv_loop_close(&h.loop);
		return 255;
	}
	r = headless_serve(&h, cfg, job);
	if (r < 0) {
		/* The batch's handles are open already: closed before the loop is. */
		view_close(h.view, view_closed_nothing_cb, NULL);
		uv_run(&h.loop, UV_RUN_DEFAULT);
		view_free(h.view);
		uv_loop_close(&h.loop);
		return 255;
	}
	uv_timer_init(&h.loop, &h.progress);
	uv_signal_init(&h.loop, &h.sigint);
	uv_signal_init(&h.loop, &h.sigterm);
	uv_signal_init(&h.loop, &h.sighup);
	uv_signal_init(&h.loop, &h.sigusr1);
	uv_signal_init(&h.loop, &h.sigusr2);
	h.progress.data = h.sigint.data = h.sigterm.data = h.sighup.data = &h;
	h.sigusr1.data = h.sigusr2.data = &h;
	uv_signal_start(&h.sigint, signal_cb, SIGINT);
	uv_signal_start(&h.sigterm, signal_cb, SIGTERM);
	uv_signal_start(&h.sighup, signal_cb, SIGHUP);
	int tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
	h.has_tty = tty >= 0;
	if (tty >= 0)
		close(tty);
	uv_signal_start(&h.sigusr1, signal_cb, SIGUSR1);
	uv_signal_start(&h.sigusr2, signal_cb, SIGUSR2);
	if (h.tty)
		uv_timer_start(&h.progress, progress_cb, PROGRESS_MS, PROGRESS_MS);

	int status;
	if (view_start(h.view, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltop: %s\n", err);
		status = 255;
		view_close(h.view, view_closed_cb, &h);
		uv_run(&h.loop, UV_RUN_DEFAULT);
	} else {
		uv_run(&h.loop, UV_RUN_DEFAULT);
		print_summary(&h);
		status = view_exit_status(h.view);
	}
	view_free(h.view);
	attach_server_free(h.server);
	uv_loop_close(&h.loop);
	return status;
}
