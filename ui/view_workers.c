/* The worker table: one row per slot, its cells from the column table (format.h). Columns drop
 * out by usefulness on a narrow screen; ITEM takes what is left. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "format.h"
#include "util.h"

static void put_cell(const char *text, int width, bool right, int attr)
{
	char cell[64];
	snprintf(cell, sizeof(cell), right ? "%*.*s " : "%-*.*s ", width, width, text);
	attron(attr);
	addstr(cell);
	attroff(attr);
}

static void draw_row(struct dash *d, unsigned i, int y, int x, int w, const bool show[NCOLUMNS])
{
	const struct view_row *v = &d->rows[i];
	bool sel = i == d->selected;
	move(y, x);
	if (sel)
		attron(A_REVERSE);
	addch(sel ? '>' : ' ');
	addch(d->tagged[i] ? '*' : ' ');
	char t[64];
	for (int c = 0; c < NCOLUMNS; c++) {
		if (!show[c])
			continue;
		enum tone tone = columns[c].format(v, t, sizeof(t));
		put_cell(t, columns[c].width, columns[c].right, sel ? 0 : dash_tone_attr(d, tone));
	}
	int cx = getcurx(stdscr);
	int left = w - (cx - x);
	if (left > 0 && v->start_failing) {
		/* Why its job does not start says more than the item it waits with; the
		 * event log has it in words. */
		char b[96];
		const char *name = strerrorname_np(-v->start_err);
		snprintf(b, sizeof(b), "%s(%s) try %u", name ? name : "?", v->start_call,
			 v->start_retries);
		addnstr(b, left);
	} else if (left > 0 && v->cur_seq) {
		char seq[32];
		int n = snprintf(seq, sizeof(seq), "%llu:", (unsigned long long)v->cur_seq);
		addnstr(seq, left);
		left -= n;
		if (left > 0) {
			int used = dash_put_clean(v->cur_item, v->cur_item_len, left);
			if (v->cur_len > v->cur_item_len && used < left)
				addnstr("...", left - used);
		}
	} else if (left > 0 && v->state == VIEW_BACKOFF) {
		char b[64];
		snprintf(b, sizeof(b), "(restart in %.1fs)", (double)v->backoff_ns / 1e9);
		addnstr(b, left);
	}
	/* Fill the rest of a selected row so the bar is whole. */
	if (sel)
		for (int cx2 = getcurx(stdscr); cx2 < x + w; cx2++)
			addch(' ');
	if (sel)
		attroff(A_REVERSE);
}

void view_workers_draw(struct dash *d, int y, int x, int h, int w)
{
	bool show[NCOLUMNS];
	columns_fit(w, d->jobs, show);
	move(y, x);
	attron(A_BOLD | A_UNDERLINE);
	addstr("  ");
	for (int c = 0; c < NCOLUMNS; c++)
		if (show[c])
			put_cell(columns[c].title, columns[c].width, columns[c].right, 0);
	for (int cx = getcurx(stdscr), i = 0; cx < x + w; cx++, i++)
		addch(i < 4 ? "ITEM"[i] : ' ');
	attroff(A_BOLD | A_UNDERLINE);

	unsigned rows = h > 1 ? (unsigned)(h - 1) : 0;
	d->table_rows = rows;
	d->table_y = y + 1;
	/* Keep the selection in view. */
	if (d->selected < d->top)
		d->top = d->selected;
	if (rows && d->selected >= d->top + rows)
		d->top = d->selected - rows + 1;
	if (d->top + rows > d->nrows)
		d->top = d->nrows > rows ? d->nrows - rows : 0;
	for (unsigned r = 0; r < rows && d->top + r < d->nrows; r++)
		draw_row(d, d->top + r, y + 1 + (int)r, x, w, show);
}
