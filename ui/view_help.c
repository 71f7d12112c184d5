/* The help screen: every mode's keys (from the key tables) and the exit-code legend, scrolled
 * with Up and Down when it is taller than the terminal. */
#include <stdio.h>

#include "dash.h"
#include "util.h"

/* The help's lines as they are produced: those above the scroll position and those below the
 * last row are counted, not drawn. */
struct help_out {
	int y, x, rows, w; /* the rows for lines (the last one of the screen is kept back) */
	int skip;	   /* lines still to leave out above */
	int row;	   /* the next screen row */
	int total;	   /* lines produced */
};

/* A line: lead drawn with attr (may be ""), then text. */
static void help_line(struct help_out *o, int attr, const char *lead, const char *text)
{
	o->total++;
	if (o->skip > 0) {
		o->skip--;
		return;
	}
	if (o->row >= o->y + o->rows)
		return;
	move(o->row++, o->x);
	attron(attr);
	int n = 0;
	if (lead[0]) {
		addnstr(lead, o->w);
		getyx(stdscr, n, n);
		n -= o->x;
	}
	attroff(attr);
	if (n < o->w)
		addnstr(text, o->w - n);
}

/* A table's keys, under "in NAME:" when name is not NULL. */
static void help_keys(struct help_out *o, const struct dash_binding *b, const char *name)
{
	char line[256];
	if (name) {
		snprintf(line, sizeof(line), "in %s:", name);
		help_line(o, A_NORMAL, "", line);
	}
	for (; b->fn; b++) {
		if (!b->keys)
			continue;
		snprintf(line, sizeof(line), "  %-28s %s", b->keys, b->what);
		help_line(o, A_NORMAL, "", line);
	}
}

void view_help_draw(struct dash *d, int y, int x, int h, int w)
{
	struct help_out o = {
		.y = y, .x = x, .rows = h - 1, .w = w, .skip = (int)d->help_top, .row = y};
	int title = dash_attr(d, DASH_COLOR_TITLE);
	char line[256];
	help_line(&o, title, "pooltop help: keys", "");
	/* The workers' keys and the legend first: the first page says what a user came for;
	 * the dialogs' and other views' keys follow. */
	help_keys(&o, dash_modes[DASH_MODE_MAIN].keys, NULL);
	help_line(&o, A_NORMAL, "", "");
	static const struct {
		const char *code, *what;
		enum dash_color color;
	} legend[] = {
		{"0", "success", DASH_COLOR_OK},
		{"N>0", "the process exited with status N (exit(300) shows 44)", DASH_COLOR_EXIT},
		{"-N",
		 "killed by signal N: -15 SIGTERM, -9 SIGKILL, -11 SIGSEGV; a shell shows 128+N",
		 DASH_COLOR_SIGNAL},
	};
	help_line(&o, title, "exit codes (Python's Process.exitcode)", "");
	for (size_t i = 0; i < ARRAY_SIZE(legend); i++) {
		snprintf(line, sizeof(line), "  %-5s ", legend[i].code);
		help_line(&o, dash_attr(d, legend[i].color), line, legend[i].what);
	}
	snprintf(line, sizeof(line),
		 "HUNG: busy on one item longer than %.1fs (--hang-after, or 10x the median "
		 "item time, at least 5s); time STOPPED is not counted",
		 (double)d->totals.hang_after_ns / 1e9);
	help_line(&o, A_NORMAL, "", line);
	help_line(&o, A_NORMAL, "", "");
	help_keys(&o, dash_global_keys, "every mode");
	for (size_t m = 1; m < dash_nmodes; m++)
		help_keys(&o, dash_modes[m].keys, dash_modes[m].name);
	/* Scrolled past the end (a resize, End): come back so that the last page is full. */
	int top = MAX(0, o.total - o.rows);
	if ((int)d->help_top > top) {
		d->help_top = (unsigned)top;
		erase();
		view_help_draw(d, y, x, h, w);
		return;
	}
	int below = o.total - (int)d->help_top - o.rows;
	if (below > 0)
		snprintf(line, sizeof(line), "Esc or ?: back   Up Down PgUp PgDn: scroll (%d more)",
			 below);
	else
		snprintf(line, sizeof(line), "Esc or ?: back");
	mvaddnstr(y + h - 1, x, line, w);
}
