/* The main screen: the header, the worker table, the event log and a footer of keys (or the
 * latest message); and the quit dialog over it. */
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "util.h"

void view_main_draw(struct dash *d, int y, int x, int rows, int cols)
{
	/* Below 120 columns the header's second line takes two: a row more keeps its graphs. */
	int header = rows >= 24 && cols < 120 ? 5 : rows >= 20 ? 4 : rows >= 14 ? 3 : 2;
	int footer = 1;
	int avail = rows - header - footer;
	/* The table takes the rows it needs, leaving the log at least a few; the log takes the
	 * rest. */
	int log_min = rows >= 20 ? 6 : rows >= 14 ? 4 : 0;
	int table = MIN((int)d->nrows + 1, avail - log_min);
	table = MAX(table, MIN(avail, 3));
	int log = avail - table;
	view_header_draw(d, y, x, header, cols);
	view_workers_draw(d, y + header, x, table, cols);
	if (log >= 2)
		view_log_draw(d, y + header + table, x, log, cols);
	/* The footer: a message, or the keys. */
	move(y + rows - 1, x);
	clrtoeol();
	if (d->message[0] && now_ns() < d->message_until_ns) {
		attron(A_BOLD);
		dash_put_clean(d->message, strlen(d->message), cols - 1);
		attroff(A_BOLD);
	} else {
		/* The longest that fits; every one keeps ?:help and q:quit. */
		static const char *const running[] = {
			"t:term k:kill j:join J:join-all T:term-all r:restart +/-:size p:pause "
			"Space:tag Enter:detail ?:help q:quit",
			"t:term k:kill j:join T:term-all Enter:detail ?:help q:quit",
			"t k j T Enter ?:help q:quit",
			"?:help q:quit",
		};
		static const char *const finished[] = {
			"batch finished  q:quit  Enter:detail  l:log  ?:help", "?:help q:quit"};
		static const char *const draining[] = {
			"writing the output for a slow reader  q:drop it and quit  ?:help",
			"writing output  ?:help q:quit", "?:help q:quit"};
		const char *const *keys = running;
		size_t n = ARRAY_SIZE(running);
		if (d->finished) {
			keys = finished;
			n = ARRAY_SIZE(finished);
		} else if (d->totals.finished) {
			keys = draining;
			n = ARRAY_SIZE(draining);
		}
		/* Where the outputs go, at the right when there is room. */
		int where = d->out_where ? (int)strlen(d->out_where) + 2 : 0;
		size_t k = 0;
		while (k + 1 < n && (int)strlen(keys[k]) > cols - 1 - where)
			k++;
		if ((int)strlen(keys[k]) > cols - 1 - where)
			where = 0;
		attron(dash_attr(d, DASH_COLOR_DIM));
		addnstr(keys[k], cols - 1);
		if (where)
			mvaddstr(y + rows - 1, x + cols - where + 1, d->out_where);
		attroff(dash_attr(d, DASH_COLOR_DIM));
	}
}

void dash_dialog_draw(struct dash *d, int y0, int x0, int rows, int cols, const char *const *lines,
		      int n, int highlight)
{
	view_main_draw(d, y0, x0, rows, cols);
	int w = 58, h = n + 2;
	if (w > cols)
		w = cols;
	int y = y0 + MAX(0, (rows - h) / 2), x = x0 + MAX(0, (cols - w) / 2);
	attron(A_REVERSE);
	for (int i = 0; i < h && y + i < y0 + rows; i++) {
		move(y + i, x);
		for (int k = 0; k < w; k++)
			addch(' ');
		if (i >= 1 && i - 1 < n) {
			if (i - 1 == highlight)
				attroff(A_REVERSE);
			mvaddnstr(y + i, x + 2, lines[i - 1], w - 4);
			attron(A_REVERSE);
		}
	}
	attroff(A_REVERSE);
}

void view_quit_draw(struct dash *d, int y0, int x0, int rows, int cols)
{
	static const char *const lines[] = {
		"Work remains. Quit how?",
		"",
		"  j  join all: finish the items in hand, then quit",
		"  d  drain: finish the running items only, then quit",
		"  t  terminate all now (SIGTERM), then quit",
		"  Esc  cancel",
	};
	dash_dialog_draw(d, y0, x0, rows, cols, lines, (int)ARRAY_SIZE(lines), -1);
}

void view_terminate_draw(struct dash *d, int y0, int x0, int rows, int cols)
{
	static const char *const lines[] = {
		"Terminate all workers?",
		"",
		"The items they run fail (-15, --term-seq), nothing new",
		"starts, and the batch ends. (T again later: kill all.)",
		"",
		"  y T Enter  terminate all",
		"  Esc n      cancel",
	};
	dash_dialog_draw(d, y0, x0, rows, cols, lines, (int)ARRAY_SIZE(lines), -1);
}
