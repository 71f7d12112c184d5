/* The help screen, scrolled: what the screen shows (the columns, the header's marks, the exit
 * codes, HUNG), then every mode's keys (from the key tables themselves). As htop's F1, the legend
 * comes first. */
#include <stdarg.h>
#include <stdio.h>

#include "dash.h"
#include "util.h"

#define HELP_LINES 160

struct help {
	char text[HELP_LINES][160];
	enum dash_color color[HELP_LINES]; /* of the line's first cell: a title, an exit code */
	int indent[HELP_LINES];		   /* columns in color, for a legend's code */
	int n;
};

static void __attribute__((format(printf, 4, 5)))
add(struct help *h, enum dash_color color, int indent, const char *fmt, ...)
{
	if (h->n >= HELP_LINES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->text[h->n], sizeof(h->text[h->n]), fmt, ap);
	va_end(ap);
	h->color[h->n] = color;
	h->indent[h->n] = indent;
	h->n++;
}

static void legend(struct help *h, const struct dash *d)
{
	add(h, DASH_COLOR_TITLE, 0, "the columns");
	static const char *const cols[][2] = {
		{"#", "the worker's slot"},
		{"PID", "the worker process (pooltop's child)"},
		{"STATE", "STARTING IDLE BUSY HUNG STOPPED STOPPING EXITED BACKOFF EMPTY; NOSTART: "
			  "its job cannot start"},
		{"EXIT",
		 "the slot's last exit: 0, N>0, -SIGNAL; \"was ...\" (dimmed) while a newer "
		 "process runs"},
		{"JOB", "the process (group) running the current item, for commands"},
		{"DONE FAIL", "items this slot finished, and failed"},
		{"RATE", "items per second of this slot, smoothed"},
		{"S",
		 "the process state: R running, S sleeping, D waiting on I/O, T stopped, Z zombie"},
		{"CPU% RSS",
		 "% of one core, resident memory, each second: of the job's process group "
		 "(commands, persistent programs; all its processes summed), else of the "
		 "worker"},
		{"AGE", "how long the current item has run"},
		{"RST", "times the slot's process was started again (respawns, restarts)"},
		{"ITEM", "N:item, N its number in the input (the joblog's Seq); ... when cut"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
		add(h, DASH_COLOR_NONE, 0, "  %-10s %s", cols[i][0], cols[i][1]);
	add(h, DASH_COLOR_NONE, 0,
	    "  header: the %% of items finished; a + after it: input still being read");
	add(h, DASH_COLOR_NONE, 0,
	    "  header: done |...| failed |...|: items finished, and failed, in each %d s of the "
	    "last minutes (the newest at the right), with the peak rate",
	    DASH_SPARK_S);
	add(h, DASH_COLOR_NONE, 0, "%s", "");
	add(h, DASH_COLOR_TITLE, 0, "exit codes (Python's Process.exitcode)");
	add(h, DASH_COLOR_OK, 5, "  0    success");
	add(h, DASH_COLOR_EXIT, 5, "  N>0  the process exited with status N (exit(300) shows 44)");
	add(h, DASH_COLOR_SIGNAL, 5,
	    "  -N   killed by signal N: -15 SIGTERM, -9 SIGKILL, -11 SIGSEGV; a shell shows 128+N");
	add(h, DASH_COLOR_NONE, 0,
	    "HUNG: busy on one item longer than %.1fs (--hang-after, or 10x the median item time, "
	    "at least 5s)",
	    (double)d->totals.hang_after_ns / 1e9);
	add(h, DASH_COLOR_NONE, 0, "%s", "");
}

static void keys(struct help *h)
{
	add(h, DASH_COLOR_TITLE, 0, "keys");
	for (size_t m = 0; m <= dash_nmodes; m++) {
		const struct dash_binding *b =
			m < dash_nmodes ? dash_modes[m].keys : dash_global_keys;
		if (m > 0)
			add(h, DASH_COLOR_NONE, 0,
			    "in %s:", m < dash_nmodes ? dash_modes[m].name : "every mode");
		for (; b->fn; b++)
			if (b->keys)
				add(h, DASH_COLOR_NONE, 0, "  %-28s %s", b->keys, b->what);
	}
}

void view_help_draw(struct dash *d, int y, int x, int rows, int w)
{
	static struct help h; /* 26 KB: not on the stack */
	h.n = 0;
	legend(&h, d);
	keys(&h);
	int body = rows - 2; /* the title, and the footer */
	int max_top = MAX(0, h.n - body);
	if (d->help_top > (unsigned)max_top)
		d->help_top = (unsigned)max_top;
	attron(dash_attr(d, DASH_COLOR_TITLE));
	mvaddnstr(y, x, "pooltop help", w);
	attroff(dash_attr(d, DASH_COLOR_TITLE));
	for (int r = 0; r < body && (int)d->help_top + r < h.n; r++) {
		int i = (int)d->help_top + r;
		int split = h.color[i] == DASH_COLOR_TITLE ? w : h.indent[i];
		move(y + 1 + r, x);
		if (h.color[i] != DASH_COLOR_NONE && split > 0) {
			attron(dash_attr(d, h.color[i]));
			addnstr(h.text[i], MIN(split, w));
			attroff(dash_attr(d, h.color[i]));
			if (split < w)
				addnstr(h.text[i] + split, w - split);
		} else {
			addnstr(h.text[i], w);
		}
	}
	char foot[96];
	snprintf(foot, sizeof(foot), "Esc ?: back   Up Down PgUp PgDn: scroll (%d-%d of %d)",
		 (int)d->help_top + 1, MIN(h.n, (int)d->help_top + body), h.n);
	attron(dash_attr(d, DASH_COLOR_DIM));
	mvaddnstr(y + rows - 1, x, foot, w);
	attroff(dash_attr(d, DASH_COLOR_DIM));
}
