/* The header: what runs; workers alive / busy / hung; items; rates, ETA and a progress bar. */
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "format.h"
#include "util.h"

/* One graph: label, then the last marks of a ring (of DASH_SPARK, its oldest at pos when full). */
static void graph_draw(const struct dash *d, const char *label, const uint32_t *ring, int marks,
		       enum dash_color color)
{
	uint32_t vals[DASH_SPARK] = {0};
	unsigned n = MIN((unsigned)marks, d->spark_n);
	for (unsigned i = 0; i < n; i++)
		vals[i] = ring[(d->spark_pos + DASH_SPARK - n + i) % DASH_SPARK];
	char buf[DASH_SPARK * 3 + 1];
	format_spark(vals, n, d->utf8, buf, sizeof(buf));
	uint32_t peak = 0;
	for (unsigned i = 0; i < n; i++)
		peak = MAX(peak, vals[i]);
	addstr(label);
	addch('|');
	/* The newest at the right, as the graph scrolls left. */
	for (unsigned i = n; i < (unsigned)marks; i++)
		addch(' ');
	attron(dash_attr(d, color));
	addstr(buf);
	attroff(dash_attr(d, color));
	char top[32];
	format_rate(top, sizeof(top), (double)peak / DASH_SPARK_S);
	printw("| max %-8s", top);
}

/* Items finished and failed per DASH_SPARK_S seconds over the last minutes (a mark each), as
 * btop draws its graphs, with the peak rate: "done |▁▃▅▇▆| max 40/s   failed | ▂ | max 0.50/s". */
static void graphs_draw(const struct dash *d, int y, int x, int w)
{
	static const char done_l[] = "done ", failed_l[] = "failed ";
	/* Each graph: its label, two bars, " max " and a rate of up to 8. */
	int room = w - (int)(sizeof(done_l) + sizeof(failed_l) - 2) - 2 * 15;
	if (room < 10 || !d->spark_n)
		return;
	/* Two parts for the finished, one for the failed. */
	int marks_done = MIN(room * 2 / 3, DASH_SPARK), marks_failed = MIN(room / 3, DASH_SPARK);
	move(y, x);
	graph_draw(d, done_l, d->spark_done, marks_done, DASH_COLOR_OK);
	graph_draw(d, failed_l, d->spark_failed, marks_failed, DASH_COLOR_EXIT);
}

void view_header_draw(struct dash *d, int y, int x, int h, int w)
{
	const struct view_totals *t = &d->totals;
	char line[512];
	d->header_says_order = false;
	/* Line 1: what runs. */
	move(y, x);
	attron(dash_attr(d, DASH_COLOR_TITLE));
	addnstr("pooltop", w);
	attroff(dash_attr(d, DASH_COLOR_TITLE));
	addnstr("  ", MAX(0, w - 7));
	/* What runs holds the user's arguments: escaped like any item. */
	int col = getcurx(stdscr) - x;
	col += dash_put_clean(d->what, strlen(d->what), MAX(0, w - col));
	snprintf(line, sizeof(line), "  [%s]", format_run_state(t));
	addnstr(line, MAX(0, w - col));
	col = getcurx(stdscr) - x;
	if (t->output_blocked && w - col > 0) {
		/* A slow reader of stdout holds the batch up: no new item starts until it reads. */
		double kib = (double)t->output_pending / 1024;
		if (kib >= 1024)
			snprintf(line, sizeof(line), "  stdout blocked: %.1fM waiting", kib / 1024);
		else
			snprintf(line, sizeof(line), "  stdout blocked: %.0fK waiting", kib);
		attron(dash_attr(d, DASH_COLOR_EXIT));
		addnstr(line, w - col);
		attroff(dash_attr(d, DASH_COLOR_EXIT));
	}
	col = getcurx(stdscr) - x;
	if (t->mem_waiting && w - col > 0) {
		/* --memfree: the queued items wait for memory, not for workers. */
		char avail[16], want[16];
		format_bytes(avail, sizeof(avail), t->mem_available);
		format_bytes(want, sizeof(want), t->memfree);
		snprintf(line, sizeof(line), "  memfree: waiting, %s available < %s", avail, want);
		attron(dash_attr(d, DASH_COLOR_EXIT));
		addnstr(line, w - col);
		attroff(dash_attr(d, DASH_COLOR_EXIT));
	}
	/* Line 2: workers and items. */
	char cannot[48] = "";
	if (t->start_failing)
		snprintf(cannot, sizeof(cannot), ", %u cannot start jobs", t->start_failing);
	snprintf(line, sizeof(line),
		 "workers %u alive, %u busy, %u hung%s%s (size %u) | items %llu done, %llu failed, "
		 "%llu retried, %llu running, %llu queued, input %s",
		 t->alive, t->busy, t->hung, t->hung ? " (h: find)" : "", cannot, t->size,
		 (unsigned long long)t->done, (unsigned long long)t->failed,
		 (unsigned long long)t->retried, (unsigned long long)t->running,
		 (unsigned long long)t->queued, t->input_ended ? "complete" : "reading");
	if (h >= 3 && w < 120) {
		/* Two lines on a narrow screen. */
		char *bar = strstr(line, " | ");
		if (bar) {
			*bar = '\0';
			mvaddnstr(y + 1, x, line, w);
			mvaddnstr(y + 2, x, bar + 3, w);
			y++;
			h--;
		} else {
			mvaddnstr(y + 1, x, line, w);
		}
	} else {
		mvaddnstr(y + 1, x, line, w);
	}
	if (h < 3)
		return;
	if (h >= 4 && w >= 60) {
		d->header_says_order = true;
		/* Line 4, at the right: how the table is arranged; at the left, the graphs. */
		char how[160];
		dash_arrangement_text(d, how, sizeof(how));
		int n = (int)strlen(how);
		if (n)
			mvaddnstr(y + 3, x + MAX(0, w - n), how, w);
		graphs_draw(d, y + 3, x, w - n - (n ? 2 : 0));
	}
	/* Line 3: rates, ETA, progress. */
	char now[32], avg[32], el[32], eta[32];
	format_rate(now, sizeof(now), t->rate_now);
	format_rate(avg, sizeof(avg), t->rate_avg);
	format_duration(el, sizeof(el), t->elapsed_ns);
	format_eta(eta, sizeof(eta), t);
	uint64_t finished = t->done + t->failed;
	uint64_t total = t->submitted;
	snprintf(line, sizeof(line), "rate %s now, %s avg | elapsed %s | ETA %s | ", now, avg, el,
		 eta);
	mvaddnstr(y + 2, x, line, w);
	int used = (int)strlen(line);
	int barw = w - used - 8;
	if (barw >= 10) {
		double frac = total ? (double)finished / (double)total : 0;
		int fill = (int)(frac * barw);
		addch('[');
		attron(dash_attr(d, DASH_COLOR_OK));
		for (int i = 0; i < fill; i++)
			addch('#');
		attroff(dash_attr(d, DASH_COLOR_OK));
		for (int i = fill; i < barw; i++)
			addch('.');
		snprintf(line, sizeof(line), "] %3.0f%%%s", frac * 100, t->input_ended ? "" : "+");
		addnstr(line, 8);
	}
}
